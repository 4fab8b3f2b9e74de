"""The command line: ``python -m app.cli`` (mostly in-process through ``main``, a few real runs)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optimizers
import surfaces
from app import cli, cli_scene, exports
from trajectories import snapshot

ROOT = Path(__file__).resolve().parents[1]
STEPS = 40
SCENE = ["--optimizer", "Adam:lr=0.01", "--steps", str(STEPS)]


def call(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def snap_path(tmp_path_factory) -> Path:
    """One run written as a snapshot, shared by the replay tests."""
    path = tmp_path_factory.mktemp("snap") / "run.json"
    rc = cli.main(["run", *SCENE, "--start", "-1.5,2", "--seed", "3", "--out", str(path)])
    assert rc == 0
    return path


# ---- parsing --------------------------------------------------------------------------------
def test_optimizer_spec_special_keys_and_alias():
    entry = cli_scene.optimizer_spec("WAME:lr=1e-3,variant=paper_sqrt,name=mine,color=#123abc")
    assert entry == {
        "kind": "WAME",
        "hyperparams": {"learning_rate": 1e-3, "variant": "paper_sqrt"},
        "name": "mine",
        "color": "#123abc",
    }


def test_optimizer_spec_takes_schedules_and_the_link_form():
    schedule = {"schedule": "cosine_decay", "initial_learning_rate": 0.05, "decay_steps": 40}
    for text in (
        "Adam:lr=cosine_decay(initial_learning_rate=0.05,decay_steps=40)",
        'Adam:lr={"schedule":"cosine_decay","initial_learning_rate":0.05,"decay_steps":40}',
        "Adam(learning_rate=cosine_decay(initial_learning_rate=0.05,decay_steps=40))",
    ):
        assert cli_scene.optimizer_spec(text) == {
            "kind": "Adam",
            "hyperparams": {"learning_rate": schedule},
        }


# ---- list -----------------------------------------------------------------------------------
def test_list_text(capsys):
    rc, out, err = call(capsys, "list")
    assert rc == 0 and err == ""
    for name in optimizers.OPTIMIZERS:
        assert f"  {name}: " in out
    for family in surfaces.families():
        assert f"  {family.name}: " in out
    assert "eta_plus = 1.2" in out
    assert "clipnorm" in out  # the shared options


def test_list_json(capsys):
    rc, out, _ = call(capsys, "list", "--json")
    assert rc == 0
    doc = json.loads(out)
    assert [o["name"] for o in doc["optimizers"]] == list(optimizers.OPTIMIZERS)
    assert {s["name"] for s in doc["surfaces"]} == set(surfaces.FAMILIES)
    wame = next(o for o in doc["optimizers"] if o["name"] == "WAME")
    eta_plus = next(h for h in wame["hyperparams"] if h["name"] == "eta_plus")
    assert eta_plus["default"] == 1.2 and eta_plus["low"] == 1.01 and eta_plus["help"]
    assert {h["name"] for h in doc["options"]} == {h.name for h in optimizers.OPTIONS}
    rc, out, _ = call(capsys, "list", "optimizers", "--json")
    assert list(json.loads(out)) == ["optimizers"]


# ---- run ------------------------------------------------------------------------------------
def test_run_to_json_then_replay(capsys, snap_path):
    snap = snapshot.load(snap_path)
    e = snap.experiment
    assert (e.surface, e.steps, e.seed, e.starts) == ("rosenbrock", STEPS, 3, ((-1.5, 2.0),))
    assert [(o.kind, dict(o.hyperparams)) for o in e.optimizers] == [
        ("Adam", {"learning_rate": 0.01})
    ]
    rc, out, err = call(capsys, "replay", str(snap_path))
    assert rc == 0, err
    assert f"replay matches the snapshot ({len(snap.arrays)} arrays identical)" in out


def test_run_to_csv_with_several_optimizers_and_starts(capsys, tmp_path):
    path = tmp_path / "run.csv"
    rc, out, err = call(
        capsys,
        "run",
        *SCENE,
        "--optimizer",
        "SGD:lr=1e-3,name=slow",
        "--start",
        "-1.5,2",
        "--start",
        "0,0",
        "--out",
        str(path),
    )
    assert rc == 0, err
    assert "slow" in out and "wrote" in out
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    n_records = STEPS + 1  # stride 1 for a short run
    assert len(rows) == 2 * 2 * n_records
    assert list(rows[0]) == [
        "optimizer",
        "kind",
        "start",
        "step",
        "loss",
        "w0",
        "w1",
        "grad0",
        "grad1",
        "update0",
        "update1",
        "lr0",
        "lr1",
    ]
    assert [rows[0][k] for k in ("optimizer", "kind", "start", "step", "w0", "w1")] == [
        "Adam",
        "Adam",
        "0",
        "0",
        "-1.5",
        "2.0",
    ]
    last = rows[-1]
    assert (last["optimizer"], last["kind"], last["start"], last["step"]) == (
        "slow",
        "SGD",
        "1",
        str(STEPS),
    )
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])


def test_run_custom_formula_prints_a_summary(capsys):
    rc, out, err = call(
        capsys,
        "run",
        "--surface",
        "custom",
        "--formula",
        "(1-x)^2 + 100*(y-x^2)^2",
        *SCENE,
        "--start",
        "-1,1",
    )
    assert rc == 0, err
    assert out.startswith("custom:")
    header = out.splitlines()[1]
    for column in ("optimizer", "final loss", "distance to minimum", "steps to target"):
        assert column in header
    assert len(out.splitlines()) == 4  # title, header, rule, one row


# ---- sweeps ---------------------------------------------------------------------------------
def test_sweep_one_axis_to_csv(capsys, tmp_path):
    path = tmp_path / "grid.csv"
    rc, _, err = call(capsys, "sweep", *SCENE, "--grid", "lr=1e-3:1:4:log", "--out", str(path))
    assert rc == 0, err
    assert "\r" in err and "sweep [" in err and "4/4" in err
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert list(rows[0]) == [
        "learning_rate",
        "final_loss",
        "loss_auc",
        "steps_to_target",
        "diverged",
        "diverged_step",
        "evaluations",
    ]
    # one loss-and-gradient evaluation a step for a plain optimizer (until it stops)
    for row in rows:
        stopped = int(row["diverged_step"])
        assert int(row["evaluations"]) == (STEPS if stopped < 0 else stopped)
    assert float(rows[0]["learning_rate"]) == pytest.approx(1e-3)
    assert float(rows[-1]["learning_rate"]) == pytest.approx(1.0)


def test_sweep_two_axes_to_json(capsys, tmp_path):
    path = tmp_path / "grid.json"
    rc, _, err = call(
        capsys,
        "sweep",
        *SCENE,
        "--grid",
        "learning_rate=1e-3:1:4:log",
        "--grid",
        "beta_1=0.5:0.9:3",
        "--out",
        str(path),
    )
    assert rc == 0, err
    assert "12/12" in err
    doc = json.loads(path.read_text())
    assert doc["kind"] == "grid" and doc["optimizer"] == "Adam"
    assert [a["name"] for a in doc["axes"]] == ["learning_rate", "beta_1"]
    assert np.asarray(doc["final_loss"], float).shape == (4, 3)
    assert np.asarray(doc["diverged"]).shape == (4, 3)
    assert set(doc["best"]) == {"learning_rate", "beta_1"}
    assert doc["experiment"]["steps"] == STEPS


def test_sweep_without_out_prints_the_cells(capsys):
    rc, out, err = call(capsys, "sweep", *SCENE, "--grid", "lr=1e-3:1:4:log", "--no-progress")
    assert rc == 0 and err == ""
    assert "4 cells" in out and "best (lowest final loss): learning_rate=" in out
    assert len(out.splitlines()) == 2 + 2 + 4


def test_ctrl_c_during_a_sweep(capsys, monkeypatch):
    def interrupt(self, done, total):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.ProgressBar, "__call__", interrupt)
    rc, _, err = call(capsys, "sweep", *SCENE, "--grid", "lr=1e-3:1:4:log")
    assert rc == 130
    assert err.splitlines() == ["cancelled"]


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["basins", "--surface", "himmelblau", "--n", "4"], "basins"),
        (["ensemble", "--noise", "0.5", "--seeds", "4"], "ensemble"),
        (["compare", "--trials", "4", "--criterion", "loss_auc"], "compare"),
    ],
)
def test_other_sweeps(capsys, tmp_path, argv, kind):
    path = tmp_path / "out.json"
    rc, out, err = call(capsys, *argv, *SCENE, "--out", str(path))
    assert rc == 0, err
    assert f"{kind} [" in err and "wrote" in out
    doc = json.loads(path.read_text())
    assert doc["kind"] == kind
    if kind == "basins":
        assert np.asarray(doc["labels"]).shape == (4, 4)
    elif kind == "ensemble":
        assert doc["n_seeds"] == 4 and len(doc["optimizers"][0]["loss"]) == 5
    else:
        assert doc["criterion"] == "loss_auc" and doc["rows"][0]["kind"] == "Adam"


# ---- replay ---------------------------------------------------------------------------------
def test_replay_of_a_tampered_snapshot(capsys, snap_path, tmp_path):
    text = snap_path.read_text()
    assert '"seed":3' in text
    bad = tmp_path / "tampered.json"
    bad.write_text(text.replace('"seed":3', '"seed":4'))
    rc, out, err = call(capsys, "replay", str(bad))
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "checksum" in err


def test_replay_that_differs(capsys, snap_path, tmp_path):
    snap = snapshot.load(snap_path)
    snap.arrays["loss"] = snap.arrays["loss"] + 1
    snap.arrays["position"] = snap.arrays["position"] * 2
    path = tmp_path / "changed.json"
    path.write_text(snapshot.dumps(snap))
    rc, out, err = call(capsys, "replay", str(path))
    assert rc == 1 and out == ""
    assert err == "error: replay differs from the snapshot in: loss, position\n"


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n"), (".gif", b"GIF89a")])
def test_run_to_a_picture(capsys, tmp_path, suffix, magic):
    from PIL import Image

    path = tmp_path / f"run{suffix}"
    rc, _, err = call(capsys, "run", *SCENE, "--optimizer", "SGD:lr=0.001", "--out", str(path))
    assert rc == 0, err
    assert path.read_bytes().startswith(magic)
    with Image.open(path) as im:
        assert im.size == (1760, 1240)  # 2x by default: sharp on a slide
        assert getattr(im, "n_frames", 1) == (1 if suffix == ".png" else STEPS + 1)


@pytest.mark.parametrize(("scale", "size"), [("1", (880, 620)), ("1.5", (1320, 930))])
def test_scale_sizes_the_picture(capsys, tmp_path, scale, size):
    from PIL import Image

    path = tmp_path / "run.png"
    rc, _, err = call(capsys, "run", *SCENE, "--out", str(path), "--scale", scale)
    assert rc == 0, err
    with Image.open(path) as im:
        assert im.size == size


def test_replay_writes_out(capsys, snap_path, tmp_path):
    path = tmp_path / "again.csv"
    rc, _, err = call(capsys, "replay", str(snap_path), "--out", str(path))
    assert rc == 0, err
    assert len(path.read_text().splitlines()) == 1 + STEPS + 1


# ---- bad input ------------------------------------------------------------------------------
BAD = [
    (["run", "--surface", "nope", *SCENE], "unknown surface 'nope'"),
    (["run", "--optimizer", "Nope"], "unknown optimizer 'Nope'"),
    (["run", "--optimizer", "Adam:lr"], "'lr' is not k=v"),
    (["run", "--optimizer", "Adam:lr=-1"], "learning_rate=-1"),
    (["run", "--optimizer", "Adam:beta_3=1"], "unknown argument 'beta_3'"),
    (["run", *SCENE, "--start", "1,2,3"], "starts[0]: 3 coordinates"),
    (["run", *SCENE, "--start", "a,b"], "--start 'a,b'"),
    (["run", "--optimizer", "Adam", "--steps", str(10**9)], "steps"),
    (["run", "--optimizer", "Adam", "--steps", "ten"], "--steps"),
    (["run", "--surface", "rosenbrock:b=-5", *SCENE], "parameter b"),
    (["run", "--surface", "custom", "--formula", "__import__('os')", *SCENE], "__import__"),
    (["run", "--formula", "x", "--surface", "booth", *SCENE], "--formula needs"),
    (["run", *SCENE, "--out", "result.txt"], "unknown file type .txt"),
    (["run", *SCENE, "--out", "r.png", "--scale", "8"], "scale must be from 1 to 4"),
    (["run", *SCENE, "--out", "r.csv", "--scale", "2"], "scale applies to pictures"),
    (["run", *SCENE, "--scale", "2"], "--scale sizes a picture written with --out"),
    (["run", *SCENE, "--out", "r.png", "--scale", "big"], "--scale: invalid float value"),
    (["run", *SCENE, "--out", "/no/such/folder/r.csv"], "does not exist"),
    (["run", "--steps", "10"], "no --optimizer"),
    (["sweep", *SCENE, "--grid", "lr=1:0:5"], "LOW <= HIGH"),
    (["sweep", *SCENE, "--grid", "lr=1:2"], "NAME=LOW:HIGH:N"),
    (["sweep", *SCENE, "--grid", "amsgrad=0:1:2"], "not a numeric hyperparameter"),
    (["sweep", *SCENE, "--grid", "lr=1e-3:1:1000:log"], "over the limit"),
    (["sweep", *SCENE, "--optimizer", "SGD", "--grid", "lr=0.1:1:2"], "exactly one --optimizer"),
    (["sweep", *SCENE], "--grid"),
    (["sweep", *SCENE, "--grid", "lr=0.1:1:2", "--out", "g.png"], "a sweep is written as .json"),
    (["sweep", *SCENE, "--start", "0,0", "--start", "1,1", "--grid", "lr=0.1:1:2"], "one --start"),
    (["ensemble", *SCENE], "deterministic"),
    (["basins", *SCENE, "--n", "0"], "--n: must be at least 1"),
    (["compare", *SCENE, "--trials", "many"], "--trials: 'many' is not an integer"),
    (["replay", "/no/such/snapshot.json"], "cannot read"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "required"),
]


@pytest.mark.parametrize(("argv", "needle"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_is_one_line(capsys, argv, needle):
    rc, out, err = call(capsys, *argv)
    assert rc == 2, (out, err)
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert needle in err
    assert "Traceback" not in err


def test_negative_numbers_are_values(capsys):
    argv = cli_scene.join_negative(
        ["run", "--start", "-1.5,2", "--formula", "-x^2", "--seed", "-1"]
    )
    assert argv == ["run", "--start=-1.5,2", "--formula=-x^2", "--seed=-1"]
    rc, _, err = call(capsys, "run", *SCENE, "--seed", "-1")
    assert rc == 2 and "seed: -1 is out of range" in err


def test_exporters_table_is_extensible(tmp_path):
    assert set(exports.EXPORTERS) == {".json", ".csv", ".html", ".png", ".gif"}
    with pytest.raises(ValueError, match=r"supported: \.json, \.csv"):
        exports.exporter_for(tmp_path / "x.xyz")


# ---- the real entry point -------------------------------------------------------------------
def run_cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_subprocess_run_and_replay(tmp_path):
    path = tmp_path / "snap.json"
    p = run_cli("run", *SCENE, "--start", "-1.5,2", "--out", str(path))
    assert p.returncode == 0, p.stderr
    assert "Adam" in p.stdout and path.exists()
    p = run_cli("replay", str(path))
    assert p.returncode == 0, p.stderr
    assert "replay matches the snapshot" in p.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--surface", "nope", "--optimizer", "Adam"],
        ["run", "--optimizer", "Adam", "--steps", "x"],
    ],
)
def test_subprocess_bad_input(argv):
    p = run_cli(*argv)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("error: ")
    assert "Traceback" not in p.stderr


def test_compiled_kernels_are_kept_on_disk_unless_told_not_to(tmp_path):
    """A repeated run of one structure loads its kernel from the cache folder (and computes
    the same); ``--no-compile-cache`` writes nothing there."""
    env = {**os.environ, "OPTVIZ_CACHE_DIR": str(tmp_path / "on")}
    argv = [sys.executable, "-m", "app.cli", "run", *SCENE, "--start", "-1.5,2"]

    def cli(*extra: str, env=env) -> str:
        p = subprocess.run(
            [*argv, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert p.returncode == 0, p.stderr
        return p.stdout

    first = cli()
    cached = list((tmp_path / "on" / "jax").iterdir())
    assert cached, "the first run wrote no compiled kernel"
    assert cli() == first  # loaded, not compiled: the same numbers
    off = {**os.environ, "OPTVIZ_CACHE_DIR": str(tmp_path / "off")}
    assert cli("--no-compile-cache", env=off) == first
    assert not (tmp_path / "off" / "jax").exists() or not any((tmp_path / "off" / "jax").iterdir())
