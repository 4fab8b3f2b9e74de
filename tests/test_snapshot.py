"""Snapshots: round trip, replay, and a clear one-line refusal for every kind of bad file."""

from __future__ import annotations

import base64
import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app import labels
from app.palette import PALETTE
from trajectories import Experiment, OptimizerSpec, run, snapshot

# Saved by main at c714740 (before runs were keyed by their computation), with that day's CLI
# (six instances, one named and coloured, an AMSGrad and an AdamW, two starts) and a script (a
# disabled instance first, a named and coloured one, AMSGrad with EMA weights, gradient noise).
OLD = sorted((Path(__file__).parent / "data").glob("snapshot_main_c714740*.json"))

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
    return snapshot.from_result(run(E), E)


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
    assert r.kinds == ["Adam", "WAME"] and not hasattr(r, "names")  # the engine's: no labels
    shown = labels.attach(r, saved.experiment)
    assert shown.names == ["Adam", "WAME"] and shown.colors == ["#aa0000", PALETTE[1]]
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


def test_snapshots_saved_by_earlier_versions_replay_exactly_or_to_rounding():
    """Bit for bit on a CPU like the one that saved them; on another (XLA's CPU kernels differ
    with the vector instructions: AVX-512 or not) the arrays that differ differ by float32
    rounding alone, and the CLI says which (on an AMD EPYC without AVX-512: four arrays, at
    most 2.3e-7 relative)."""
    assert len(OLD) == 2
    for path in OLD:
        snap = snapshot.load(path)
        result, differ = snapshot.replay(snap)
        fresh = snapshot.from_result(result, snap.experiment).arrays
        for k in differ:
            np.testing.assert_allclose(
                fresh[k], snap.arrays[k], rtol=1e-5, atol=1e-8, err_msg=f"{path.name}: {k}"
            )
        if not differ:
            np.testing.assert_array_equal(result.position, snap.arrays["position"])
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "replay", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if differ:
            assert done.returncode == 1 and ", ".join(differ) in done.stderr, done.stderr
        else:
            assert done.returncode == 0, done.stderr
            assert "replay matches the snapshot" in done.stdout


def test_old_snapshots_keep_their_labels_and_the_instances_switched_off():
    snap = snapshot.load(OLD[1] if "disabled" in OLD[1].name else OLD[0])
    e = snap.experiment
    assert [o.enabled for o in e.optimizers] == [False, True, True]
    shown = labels.attach(snap.to_result(), e)
    # the disabled first instance is not computed; the others keep their colour slots
    assert shown.names == ["heavy ball", "Adam"]
    assert shown.colors == ["#aa00ff", PALETTE[2]]
    assert shown.kinds == ["Momentum", "Adam"] and set(snap.arrays) >= {"ema/1"}


def test_replay_compares_the_state_fields_both_record(saved):
    # a field this version no longer records (or records newly) is not a difference; a state
    # field both have that differs still is, and so does every other array
    older = dict(saved.arrays)
    older["state/0/nu_max"] = older["state/0/nu"].copy()
    _, differ = snapshot.replay(dataclasses.replace(saved, arrays=older))
    assert differ == []
    fewer = {k: v for k, v in saved.arrays.items() if k != "state/1/theta"}
    assert snapshot.replay(dataclasses.replace(saved, arrays=fewer))[1] == []
    changed = dict(saved.arrays)
    changed["state/0/mu"] = changed["state/0/mu"] + 1.0
    assert snapshot.replay(dataclasses.replace(saved, arrays=changed))[1] == ["state/0/mu"]
    no_ema = {k: v for k, v in saved.arrays.items() if k != "ema/0"}
    assert snapshot.replay(dataclasses.replace(saved, arrays=no_ema))[1] == ["ema/0"]


def test_a_result_is_recorded_with_the_description_it_is_a_run_of(saved, tmp_path):
    with pytest.raises(TypeError, match="needs the experiment"):
        snapshot.save(saved.to_result(), tmp_path / "x.json")
    other = E.replace(seed=5)
    with pytest.raises(ValueError, match="not a run of this experiment"):
        snapshot.from_result(saved.to_result(), other)
    renamed = E.replace(
        optimizers=(E.optimizers[0], OptimizerSpec("WAME", {"learning_rate": 1e-3}, name="w"))
    )
    snap = snapshot.from_result(saved.to_result(), renamed)  # same computation: fine
    assert snap.experiment.optimizers[1].name == "w"
