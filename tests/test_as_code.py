""" "Copy as Python" (``trajectories/as_code.py``): the generated script, run in a subprocess in
float64, gives the engine's float64 iterates to 1e-10 for every registered optimizer, on a
deterministic surface and on stochastic ones (the step's key handling); the CLI writes it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optimizers
from app import cli
from trajectories import Experiment, FieldError, OptimizerSpec, as_code, limits, run

ROOT = Path(__file__).resolve().parents[1]
STEPS = 50
STARTS = ((-1.5, 2.0), (0.5, -0.5))


def _batches(kinds: list[str]) -> list[list[str]]:
    n = limits.MAX_INSTANCES
    return [kinds[i : i + n] for i in range(0, len(kinds), n)]


# Every registered (declared) optimizer at its defaults, and a few with options and a schedule
# (the constructor arguments a script must write out). Python-only optimizers
# (optimizers.from_optax) are never in OPTIMIZERS: a script cannot name them (tested below).
VARIANTS = [
    ("Adam", {"learning_rate": 0.05, "use_ema": True}),
    (
        "SGD",
        {
            "learning_rate": {
                "schedule": "exponential_decay",
                "initial_learning_rate": 0.002,
                "decay_steps": 10,
                "decay_rate": 0.9,
            }
        },
    ),
    ("Momentum", {"learning_rate": 0.001, "clipnorm": 1.0}),
]


def _scenes() -> list[Experiment]:
    deterministic = [
        Experiment(
            surface="rosenbrock",
            optimizers=tuple(OptimizerSpec(k) for k in batch),
            starts=STARTS,
            steps=STEPS,
            stride=1,
            dtype="float64",
        )
        for batch in _batches(list(optimizers.OPTIMIZERS))
    ]
    stochastic_opts = (OptimizerSpec("SGD", {"learning_rate": 0.01}), OptimizerSpec("LBFGS"))
    return [
        *deterministic,
        Experiment(
            surface="rosenbrock",
            optimizers=tuple(OptimizerSpec(k, h) for k, h in VARIANTS),
            starts=STARTS,
            steps=STEPS,
            stride=1,
            dtype="float64",
        ),
        # gradient noise and a minibatch surface: the script must draw the engine's samples
        Experiment(
            surface="rosenbrock",
            optimizers=stochastic_opts,
            starts=STARTS,
            steps=STEPS,
            noise=0.5,
            seed=7,
            stride=1,
            dtype="float64",
        ),
        Experiment(
            surface="noisy_quadratic",
            surface_params={"batch_size": 2.0},
            optimizers=(*stochastic_opts, OptimizerSpec("Adam", {"learning_rate": 0.05})),
            steps=STEPS,
            seed=3,
            stride=1,
            dtype="float64",
        ),
        # a layered surface (the weights a pytree of matrices) with minibatches
        Experiment(
            surface="mlp",
            surface_params={"batch_size": 32},
            optimizers=(
                OptimizerSpec("Adam", {"learning_rate": 0.01}),
                OptimizerSpec("Muon"),
                OptimizerSpec("LARS"),
            ),
            starts=((0.5, -0.5),),
            steps=20,
            seed=2,
            stride=1,
            dtype="float64",
        ),
    ]


# Muon's orthogonalisation multiplies 16 x 16 matrices: vmapped in the engine, one at a time in
# the script, so their sums round in another order (measured 1.6e-10 after 20 steps).
TOLERANCE = {"mlp": 1e-9}


def _attainable(e: Experiment, position: np.ndarray, tol: float) -> np.ndarray:
    """Per instance and start, how closely float64 arithmetic determines the path: ``tol``, or,
    where moving the start by one ulp moves the engine's own path further, 10x that move.
    L-BFGS's line search on Rosenbrock branches on a one-ulp difference (tests/
    test_lbfgs_engine.py measures the same of optax's own loop), and two programs that round one
    operation differently (the engine's kernel and the script's plain scan) can then agree only
    to about that."""
    if not e.starts:
        return np.full(position.shape[:2], tol)
    up = tuple(tuple(float(np.nextafter(np.float64(v), np.inf)) for v in p) for p in e.starts)
    nudged = run(e.replace(starts=up)).position
    moved = np.abs(nudged - position) / (1 + np.abs(position))
    return np.maximum(tol, 10 * moved.reshape(*moved.shape[:2], -1).max(axis=-1))


_DRIVER = """
import runpy, sys
sys.argv = ["script", "--json"]
for path in sys.argv_paths:
    runpy.run_path(path, run_name="__main__")
"""


@pytest.fixture(scope="module")
def scripts_and_outputs(tmp_path_factory):
    """Every scene's script, all run in one subprocess (one JAX start), with its JSON rows."""
    folder = tmp_path_factory.mktemp("as_code")
    scenes = _scenes()
    paths = []
    for i, e in enumerate(scenes):
        path = folder / f"scene_{i}.py"
        path.write_text(as_code.script(e))
        paths.append(str(path))
    driver = "import sys\nsys.argv_paths = " + repr(paths) + "\n" + _DRIVER
    env = {**os.environ, "JAX_ENABLE_X64": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", driver], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == len(scenes)
    return scenes, [json.loads(line) for line in lines]


def test_every_optimizer_family_is_covered(scripts_and_outputs):
    scenes, _ = scripts_and_outputs
    kinds = {o.kind for e in scenes for o in e.optimizers}
    assert kinds >= set(optimizers.OPTIMIZERS)


@pytest.mark.parametrize("index", range(len(_scenes())))
def test_script_reproduces_the_engine_in_float64(scripts_and_outputs, index):
    scenes, outputs = scripts_and_outputs
    e, rows = scenes[index], outputs[index]
    r = run(e)
    n_i, n_s, n_r, _ = r.position.shape
    assert n_r == e.steps + 1 and len(rows) == n_i * n_s
    attainable = _attainable(e, r.position, TOLERANCE.get(e.surface, 1e-10))
    moved = 0
    for row in rows:
        a = [o.kind for _, o in e.active()].index(row["optimizer"])
        s = row["start"]
        where = f"{row['optimizer']} start {s}"
        tol = attainable[a, s]
        assert tol <= 1e-6 or row["optimizer"] == "LBFGS", (where, tol)  # only its line search
        np.testing.assert_allclose(
            np.asarray(row["positions"]), r.position[a, s], rtol=tol, atol=tol, err_msg=where
        )
        np.testing.assert_allclose(
            np.asarray(row["losses"]), r.loss[a, s], rtol=tol, atol=tol, err_msg=where
        )
        moved += not np.allclose(r.position[a, s, -1], r.position[a, s, 0])
    assert moved >= len(rows) // 2  # the comparison is of paths that go somewhere


def test_script_prints_final_positions_and_plots_only_with_matplotlib(tmp_path):
    e = Experiment(
        optimizers=(OptimizerSpec("Adam", {"learning_rate": 0.05}, name="my adam"),),
        steps=20,
    )
    path = tmp_path / "scene.py"
    path.write_text(as_code.script(e))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    env.pop("JAX_ENABLE_X64", None)
    done = subprocess.run(
        [sys.executable, str(path), "--plot"], capture_output=True, text=True, env=env, timeout=300
    )
    if importlib.util.find_spec("matplotlib") is None:  # --plot is refused in one line
        assert (
            done.returncode == 1
            and done.stderr == "--plot needs matplotlib (pip install matplotlib)\n"
        )
    else:
        assert done.returncode == 0, done.stderr[-2000:]
    (line,) = done.stdout.splitlines()
    assert line.startswith("my adam start 0: final position [")
    final = run(e).position[0, 0, -1]  # float32 both: the same program
    printed = json.loads(line.split("final position ")[1].split("]")[0] + "]")
    np.testing.assert_allclose(printed, final, rtol=1e-6)
    assert "import matplotlib" not in as_code.script(e).split("def plot")[0]


def test_python_only_optimizer_is_refused():
    import optax

    info = optimizers.from_optax(optax.sgd, name="my_sgd_for_code", learning_rate=0.1)
    e = Experiment(optimizers=(OptimizerSpec(info.name),), steps=5)
    with pytest.raises(FieldError, match="made in Python"):
        as_code.script(e)


# ---- the command line ----------------------------------------------------------------------
def test_cli_code_writes_a_script(tmp_path, capsys):
    out = tmp_path / "run.py"
    argv = ["code", "--optimizer", "Adam:lr=0.02", "--steps", "30", "--start", "-1,1.5"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    assert "learning_rate=0.02" in text and "N_STEPS = 30" in text and "[-1.0, 1.5]" in text
    compile(text, str(out), "exec")  # valid Python
    assert f"wrote {out}" in capsys.readouterr().out
    assert cli.main(argv) == 0  # no --out: the script on stdout
    assert capsys.readouterr().out.strip() == text.strip()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["code", "--optimizer", "Nope"], "unknown optimizer"),
        (["code", "--optimizer", "Adam", "--out", "run.txt"], "--out: a script ends in .py"),
        (["code"], "no --optimizer"),
    ],
)
def test_cli_code_refuses_bad_input_in_one_line(capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
