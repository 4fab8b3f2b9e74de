"""The animator's mounts after the first carry only what changed (app/doc_patch.py).

Unit tests of the patch (diff and apply), then the page in AppTest: the first mount and a
resync carry the whole document; a notch of one optimizer's learning rate carries a patch
against the previous document with that optimizer's entry only; a surface change carries the
surface block. Each patch is checked to rebuild exactly the document built directly.
"""

from __future__ import annotations

import copy
import json

import pytest

from app import animator, compute, doc_patch
from tests import app_scenarios as sc
from trajectories import OptimizerSpec


def _paths(message: dict) -> list[list]:
    return [path for path, _ in message["patch"]["set"]] + message["patch"]["drop"]


# ---- the patch itself ---------------------------------------------------------------------------
OLD = {
    "version": 1,
    "surface": {"name": "a", "image": "data:1", "extent": [0, 1, 0, 1]},
    "optimizers": [
        {"name": "SGD", "path": {"b64": "AAAA", "shape": [1], "dtype": "f4"}, "diverged": [-1]},
        {"name": "Adam", "path": {"b64": "BBBB", "shape": [1], "dtype": "f4"}, "diverged": [-1]},
    ],
    "live": {"optimizer": 0, "note": "too large"},
    "fit": None,
}


def test_a_patch_rebuilds_the_new_document_and_leaves_the_old_alone():
    new = copy.deepcopy(OLD)
    new["optimizers"][1]["path"] = {"b64": "CCCC", "shape": [1], "dtype": "f4"}
    new["optimizers"][1]["diverged"] = [3]
    new["live"].pop("note")
    new["fit"] = {"kind": "line", "x": [0.0], "y": [1.0]}
    sets, drops = doc_patch.diff(OLD, new)
    # an encoded array is replaced whole, never entered; the untouched optimizer is absent
    assert [p for p, _ in sets] == [
        ["optimizers", 1, "path"],
        ["optimizers", 1, "diverged"],
        ["fit"],
    ]
    assert drops == [["live", "note"]]
    before = copy.deepcopy(OLD)
    assert doc_patch.apply(OLD, {"set": sets, "drop": drops}) == new
    assert before == OLD  # not modified


def test_lists_of_another_length_and_new_keys_are_replaced_whole():
    new = copy.deepcopy(OLD)
    new["optimizers"].append({"name": "Lion"})
    new["surface"]["extent"] = [0, 2, 0, 1]
    new["weights"] = ["x", "y"]
    sets, drops = doc_patch.diff(OLD, new)
    assert sorted(map(str, (p for p, _ in sets))) == sorted(
        map(str, (["surface", "extent"], ["optimizers"], ["weights"]))
    )
    assert drops == []
    assert doc_patch.apply(OLD, {"set": sets, "drop": drops}) == new


def test_equal_documents_give_an_empty_patch():
    assert doc_patch.diff(OLD, copy.deepcopy(OLD)) == ([], [])


def test_outgoing_sends_whole_first_then_patches_and_whole_again_after_forget():
    state: dict = {}
    first = {**OLD, "id": "one", "options": {"autoplay": True}}
    assert doc_patch.outgoing(state, "animator", first) is first
    second = copy.deepcopy(first)
    second["id"] = "two"
    second["optimizers"][0]["diverged"] = [7]
    out = doc_patch.outgoing(state, "animator", second)
    assert out["id"] == "two" and out["base"] == "one" and out["options"] == {"autoplay": True}
    assert out["patch"] == {"set": [[["optimizers", 0, "diverged"], [7]]], "drop": []}
    doc_patch.forget(state, "another key")
    assert doc_patch.sent(state, "animator")[0] == "two"
    # a lesson stage's animator (another key): the first one's memory goes
    assert doc_patch.outgoing(state, "stage 1", first) is first
    assert doc_patch.sent(state, "animator") is None
    assert doc_patch.outgoing(state, "animator", second) is second
    doc_patch.forget(state, "animator")
    assert doc_patch.outgoing(state, "animator", second) is second


# ---- the page -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def at():
    """The light scene (Adam inspected, SGD second), its cards open."""
    return sc.light()


def _expected(at) -> dict:
    """The document built directly for the page's scene and inspection (the first optimizer,
    its learning rate), as the browser receives it (JSON), without options."""
    doc = compute.live_document(sc.experiment(at), 0, None)
    whole = json.loads(json.dumps(animator.prepare(doc)))
    whole.pop("options")
    return whole


def _drawn(at) -> dict:
    d = sc.doc(at)
    return {k: v for k, v in d.items() if k != "options"}


def _notch(at, instance: int, value: float) -> tuple[dict, dict]:
    """Set the learning rate of the instance at ``instance``; (previous document, message)."""
    before = sc.doc(at)
    uid = at.session_state["instances"][instance]
    at.session_state[f"o{uid}.hp.learning_rate"] = value
    at.run()
    return before, sc.message(at)


def test_the_first_mount_is_whole(at):
    fresh = sc.page(sc.LIGHT, cards=False)  # one run: a new session
    message = sc.message(fresh)
    assert "patch" not in message and "base" not in message
    assert message["optimizers"] and message["surface"]["image"].startswith("data:image/png")


def test_a_notch_sends_only_that_optimizer(at):
    before, message = _notch(at, 1, 0.0015)  # SGD 0.001 -> 0.0015; Adam is inspected
    assert message["base"] == before["id"] and message["id"] != before["id"]
    touched = _paths(message)
    assert touched and all(p[:2] == ["optimizers", 1] for p in touched), touched
    assert {"path", "loss"} <= {p[2] for p in touched}
    whole = _expected(at)
    assert _drawn(at) == whole  # the patch rebuilds the document built directly
    # the message is a small part of the whole document
    assert len(json.dumps(message)) < len(json.dumps(whole)) / 4


def test_a_notch_of_the_inspected_optimizer_also_sends_its_live_family(at):
    before, message = _notch(at, 0, 0.07)  # Adam 0.05 -> 0.07: its sliders' value and runs
    assert message["base"] == before["id"]
    tops = {tuple(p[:2]) for p in _paths(message)}
    assert ("optimizers", 0) in tops
    assert {t for t in tops if t[0] != "optimizers"} <= {("live", "params"), ("live", "family")}
    assert ("live", "params") in tops  # the slider's value moved
    assert not any(t == ("optimizers", 1) for t in tops)
    assert _drawn(at) == _expected(at)


def test_a_surface_change_sends_the_surface_block(at):
    before = sc.doc(at)
    at.session_state["surface"] = "himmelblau"
    at.run()
    message = sc.message(at)
    assert message["base"] == before["id"]
    tops = {p[0] for p in _paths(message)}
    assert "surface" in tops and "optimizers" in tops
    assert _drawn(at) == _expected(at)
    at.session_state["surface"] = before["surface"]["name"]
    at.run()
    assert _drawn(at) == _expected(at)


def test_a_resync_sends_the_whole_document(at):
    _notch(at, 1, 0.002)
    element = sc.animator_element(at)
    sc.run_with_widget_states(
        at, sc.trigger_state(element.proto.id, "resync", {"base": "x", "have": None})
    )
    message = sc.message(at)
    assert "patch" not in message
    assert {k: v for k, v in message.items() if k != "options"} == _expected(at)


def test_back_on_the_paths_tab_the_animator_gets_the_whole_document(at):
    sc.open_view(at, "summary")
    sc.open_view(at, "paths")
    message = sc.message(at)
    assert "patch" not in message
    assert {k: v for k, v in message.items() if k != "options"} == _expected(at)


def test_another_optimizers_notch_computes_no_new_family(at):
    """The live family is keyed by its one instance: changing another instance's rate finds
    the same family (the same object, not a second vmapped call)."""
    e = sc.experiment(at)
    first = compute.live_document(e, 0, None)["live"]["family"]
    specs = list(e.optimizers)
    specs[1] = OptimizerSpec(specs[1].kind, {**dict(specs[1].hyperparams), "learning_rate": 0.003})
    other = e.replace(optimizers=tuple(specs))
    assert other.computation().key != e.computation().key
    assert compute.live_document(other, 0, None)["live"]["family"] is first
    specs[0] = OptimizerSpec(specs[0].kind, {**dict(specs[0].hyperparams), "learning_rate": 0.02})
    mine = e.replace(optimizers=tuple(specs))
    assert compute.live_document(mine, 0, None)["live"]["family"] is not first


def test_the_3d_tab_mounts_whole_then_patches_and_paths_again_whole(at):
    """Paths and 3-D mount their own animator instance: the first run of each gets the whole
    document; later notches on the same tab send patches."""
    sc.open_view(at, "3d")
    assert "patch" not in sc.message(at)
    before, message = _notch(at, 1, 0.0025)
    assert message["base"] == before["id"] and _drawn(at) == _expected(at)
    sc.open_view(at, "paths")
    message = sc.message(at)
    assert "patch" not in message
    assert {k: v for k, v in message.items() if k != "options"} == _expected(at)
