"""``run --sharpness``: the CSV columns, the snapshot arrays (old snapshots still load), and bad
input refused in one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from app import cli
from trajectories import snapshot

OLD = sorted((Path(__file__).parent / "data").glob("snapshot_main_c714740*.json"))
SCENE = [
    "--surface", "rosenbrock", "--optimizer", "SGD:lr=1e-3", "--optimizer", "Adam:lr=0.02",
    "--optimizer", "Rprop", "--steps", "60", "--start", "-1.5,2", "--start", "1,-0.5",
]  # fmt: skip


def call(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def rosenbrock_top(x: float, y: float, b: float = 100.0) -> float:
    h = np.array([[2 - 4 * b * (y - x * x) + 8 * b * x * x, -4 * b * x], [-4 * b * x, 2 * b]])
    return float(np.linalg.eigvalsh(h)[-1])


def test_csv_has_the_sharpness_of_every_row_and_the_preconditioned_where_defined(capsys, tmp_path):
    path = tmp_path / "run.csv"
    rc, out, err = call(capsys, "run", *SCENE, "--sharpness", "--out", str(path))
    assert rc == 0 and err == ""
    assert "sharpness at start" in out and "2000 (sharpness)" in out
    assert "1900 (preconditioned_sharpness)" in out  # Adam: 38 / 0.02
    rows = list(csv.DictReader(path.open()))
    assert rows[0].keys() >= {"sharpness", "preconditioned_sharpness"}
    assert len(rows) == 3 * 2 * 61
    for row in rows:
        # float32 run: the eigenvalue of the analytic Hessian at the row's own point
        exact = rosenbrock_top(float(row["w0"]), float(row["w1"]))
        assert float(row["sharpness"]) == pytest.approx(exact, rel=2e-5)
        has_pre = row["kind"] == "Adam"
        assert (row["preconditioned_sharpness"] != "") == has_pre
        if has_pre:
            # 2-D, Adam's P^-1 = diag(lr) / (eta (1 - beta_1^t)) with t the next update
            t = int(row["step"]) + 1
            d = np.array([float(row["lr0"]), float(row["lr1"])]) / (0.02 * (1 - 0.9**t))
            x, y = float(row["w0"]), float(row["w1"])
            h = np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])
            top = np.linalg.eigvalsh(np.sqrt(d)[:, None] * h * np.sqrt(d)[None, :])[-1]
            assert float(row["preconditioned_sharpness"]) == pytest.approx(top, rel=1e-4)


def test_csv_without_the_flag_is_as_before(capsys, tmp_path):
    path = tmp_path / "run.csv"
    assert call(capsys, "run", *SCENE, "--out", str(path))[0] == 0
    header = next(csv.reader(path.open()))
    assert "sharpness" not in header and header[-1] == "lr1"


def test_snapshot_carries_the_arrays_and_replays(capsys, tmp_path):
    path = tmp_path / "run.json"
    assert call(capsys, "run", *SCENE, "--sharpness", "--out", str(path))[0] == 0
    snap = snapshot.load(path)
    sharp = snap.sharpness()
    assert sharp is not None and sharp.sharpness.shape == (3, 2, 61)
    assert sharp.bounds == ("sharpness", "preconditioned_sharpness", "")
    np.testing.assert_allclose(sharp.threshold[0], 2000.0)
    assert np.isnan(sharp.threshold[2]).all() and np.isnan(sharp.preconditioned[0]).all()
    x, y = snap.arrays["position"][1, 0, 10]
    assert sharp.sharpness[1, 0, 10] == pytest.approx(rosenbrock_top(x, y), rel=2e-5)
    rc, out, err = call(capsys, "replay", str(path))
    assert rc == 0 and err == "" and f"({len(snap.arrays)} arrays identical)" in out
    # a saved sharpness that differs from the recomputed one is a difference
    snap.arrays["sharpness"] = snap.arrays["sharpness"] * 1.5
    changed = tmp_path / "changed.json"
    changed.write_text(snapshot.dumps(snap))
    rc, _, err = call(capsys, "replay", str(changed))
    assert rc == 1 and err == "error: replay differs from the snapshot in: sharpness\n"


def test_a_snapshot_with_part_of_the_sharpness_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "run.json"
    assert call(capsys, "run", *SCENE, "--sharpness", "--out", str(path))[0] == 0
    snap = snapshot.load(path)
    del snap.arrays["sharpness_threshold"]
    with pytest.raises(snapshot.SnapshotError, match="'sharpness_threshold' is missing"):
        snapshot.loads(snapshot.dumps(snap))
    snap = snapshot.load(path)
    snap.arrays["sharpness"] = snap.arrays["sharpness"][:, :, :5]
    with pytest.raises(snapshot.SnapshotError, match="array 'sharpness' has shape"):
        snapshot.loads(snapshot.dumps(snap))


@pytest.mark.parametrize("path", OLD, ids=lambda p: p.name)
def test_old_snapshots_load_without_sharpness(path):
    snap = snapshot.load(path)
    assert snap.sharpness() is None
    assert not any(k.startswith("sharpness") for k in snap.arrays)
    assert json.loads(path.read_text())["version"] == snapshot.VERSION


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--out", "x.png"], "--sharpness goes into .json or .csv files, not x.png"),
        (["--out", "x.html"], "not x.html"),
        (["--out", "x.gif"], "not x.gif"),
        (["--sharpness=yes"], "ignored explicit argument 'yes'"),
    ],
)
def test_bad_input_is_refused_in_one_line(capsys, tmp_path, extra, fragment, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flag = [] if extra[0].startswith("--sharpness") else ["--sharpness"]
    rc, out, err = call(capsys, "run", *SCENE, *flag, *extra)
    assert rc == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert not list(tmp_path.iterdir())  # refused before any work or file
