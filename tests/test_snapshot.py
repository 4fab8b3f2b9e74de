"""Snapshots: round trip, replay, and a clear one-line refusal for every kind of bad file."""

from __future__ import annotations

import base64
import dataclasses
import json
import pickle

import numpy as np
import pytest

from trajectories import Experiment, OptimizerSpec, run, snapshot

E = Experiment(
    surface="rosenbrock",
    optimizers=(
        OptimizerSpec("Adam", {"learning_rate": 0.01, "use_ema": True}, color="#aa0000"),
        OptimizerSpec("WAME", {"learning_rate": 1e-3}),
    ),
    starts=((-1.5, 2.0), (0.5, -1.0)),
    steps=120,
)


@pytest.fixture(scope="module")
def saved():
    return snapshot.from_result(run(E))


def test_save_then_load_gives_an_equal_snapshot(saved, tmp_path):
    path = snapshot.save(saved, tmp_path / "run.json")
    back = snapshot.load(path)
    assert back == saved
    assert back.experiment == E
    assert {"position", "loss", "lr", "state/0/mu", "state/1/zeta", "ema/0"} <= set(back.arrays)
    assert back.versions["jax"] == saved.versions["jax"]


def test_replay_reproduces_the_results_bit_for_bit(saved):
    result, differ = snapshot.replay(snapshot.loads(snapshot.dumps(saved)))
    assert differ == []
    np.testing.assert_array_equal(result.position, saved.arrays["position"])


def test_replay_reports_what_differs(saved):
    changed = dict(saved.arrays)
    changed["loss"] = changed["loss"] + 1.0
    _, differ = snapshot.replay(dataclasses.replace(saved, arrays=changed))
    assert differ == ["loss"]


def test_to_result_restores_the_arrays(saved):
    r = saved.to_result()
    np.testing.assert_array_equal(r.position, saved.arrays["position"])
    assert r.names == ["Adam", "WAME"] and r.colors[0] == "#aa0000"
    assert set(r.state[1]) == {"zeta", "z", "theta"}


def _doc(saved) -> dict:
    return json.loads(snapshot.dumps(saved))


def _resign(doc: dict) -> str:
    """Recompute the checksum, as a careful forger would."""
    doc = {k: v for k, v in doc.items() if k != "sha256"}
    doc["sha256"] = snapshot.hashlib.sha256(snapshot._canonical(doc)).hexdigest()
    return json.dumps(doc)


def _array(values: np.ndarray) -> dict:
    return {
        "dtype": values.dtype.name,
        "shape": list(values.shape),
        "data": base64.b64encode(values.tobytes()).decode(),
    }


def _edit(saved, fn, resign=True) -> str:
    doc = _doc(saved)
    fn(doc)
    return _resign(doc) if resign else json.dumps(doc)


BAD = [
    ("not json", lambda s: "{not json", "not valid JSON"),
    ("empty", lambda s: "", "not valid JSON"),
    ("a list", lambda s: "[1, 2]", "top level"),
    ("deep nesting", lambda s: "[" * 100_000 + "]" * 100_000, "not valid JSON|top level"),
    ("NaN constant", lambda s: snapshot.dumps(s).replace('"stride":1', '"stride":NaN'), "NaN"),
    ("pickle", lambda s: pickle.dumps({"a": 1}), "pickle"),
    ("binary", lambda s: b"\xff\xfe\x00garbage", "UTF-8"),
    ("wrong schema", lambda s: _edit(s, lambda d: d.update(schema="other")), "schema"),
    ("unknown version", lambda s: _edit(s, lambda d: d.update(version=2)), "unknown version 2"),
    ("tampered", lambda s: _edit(s, lambda d: d["experiment"].update(steps=121), False),
     "checksum mismatch"),
    ("extra field", lambda s: _edit(s, lambda d: d.update(extra=1)), "unexpected or missing"),
    ("bad experiment", lambda s: _edit(s, lambda d: d["experiment"].update(steps=-5)),
     "experiment: steps"),
    ("unknown optimizer", lambda s: _edit(
        s, lambda d: d["experiment"]["optimizers"][0].update(kind="Evil")), "kind"),
    ("wrong shape", lambda s: _edit(
        s, lambda d: d["result"]["arrays"].update(loss=_array(np.zeros((2, 2, 3), "float32")))),
     "'loss' has shape"),
    ("truncated data", lambda s: _edit(s, lambda d: d["result"]["arrays"]["position"].update(
        data=d["result"]["arrays"]["position"]["data"][:40])), "bytes for shape|base64"),
    ("bad dtype", lambda s: _edit(
        s, lambda d: d["result"]["arrays"]["loss"].update(dtype="object")), "dtype"),
    ("huge shape", lambda s: _edit(
        s, lambda d: d["result"]["arrays"]["loss"].update(shape=[10**8, 10**8])), "large|shape"),
    ("missing array", lambda s: _edit(s, lambda d: d["result"]["arrays"].pop("lr")), "'lr'"),
    ("unknown array", lambda s: _edit(
        s, lambda d: d["result"]["arrays"].update({"../../etc": _array(np.zeros(1, "float32"))})),
     "unknown array"),
    ("bad stride", lambda s: _edit(s, lambda d: d["result"].update(stride=0)), "stride"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_snapshots_are_refused_with_a_one_line_reason(saved, name, make, reason):
    with pytest.raises(snapshot.SnapshotError, match=reason) as e:
        snapshot.loads(make(saved))
    assert "\n" not in str(e.value) and str(e.value).startswith("snapshot rejected: ")


def test_oversized_files_are_refused_before_parsing(saved, tmp_path):
    text = snapshot.dumps(saved)
    with pytest.raises(snapshot.SnapshotError, match="over the"):
        snapshot.loads(text, max_bytes=len(text) - 1)
    path = tmp_path / "big.json"
    path.write_text(" " * 200 + text)
    with pytest.raises(snapshot.SnapshotError, match="over the"):
        snapshot.load(path, max_bytes=100)


def test_unreadable_paths_are_a_clear_error(tmp_path):
    with pytest.raises(snapshot.SnapshotError, match="cannot read"):
        snapshot.load(tmp_path / "missing.json")
    with pytest.raises(snapshot.SnapshotError, match="cannot read"):
        snapshot.load(tmp_path)
