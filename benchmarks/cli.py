"""The whole command-line process against an optax script doing the same work, run after run.

    PYTHONPATH=. .venv/bin/python benchmarks/cli.py [--rounds 5]

Each round runs, one after another, each in a fresh process:

* ``cli first``: ``python -m app.cli run`` of S2 (Rosenbrock, eight optimizers x 1,000 steps)
  to a JSON snapshot, with an empty compilation-cache folder (app/jax_cache.py);
* ``cli repeated``: the same command again, the cache folder now filled by the first;
* ``cli --no-compile-cache``: the same command compiling afresh;
* ``optax script``: a plain optax script, eight jitted ``lax.scan``s recording position and loss
  per step, writing them to a JSON file.

Reported: medians over the rounds of wall time and of the process's CPU time (user + system of
the child, from ``resource.getrusage``), with the load average, and the ratios to the script.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine import LR  # noqa: E402
from benchmarks.machine import loadavg, table  # noqa: E402

STEPS = 1000
START = "-1.5,2"
SCRIPT = f"""
import json, sys
import jax, jax.numpy as jnp, optax
LR = {LR!r}
EPS = 1e-7
txs = {{"SGD": optax.sgd(LR["SGD"]), "Momentum": optax.sgd(LR["Momentum"], 0.9),
       "Nesterov": optax.sgd(LR["Nesterov"], 0.9, nesterov=True),
       "Adagrad": optax.adagrad(LR["Adagrad"], initial_accumulator_value=0.0, eps=EPS),
       "RMSprop": optax.rmsprop(LR["RMSprop"], decay=0.9, eps=EPS),
       "Adam": optax.adam(LR["Adam"], eps=EPS), "Adamax": optax.adamax(LR["Adamax"], eps=EPS),
       "Nadam": optax.nadam(LR["Nadam"], eps=EPS)}}
def loss(w):
    return (1.0 - w[0]) ** 2 + 100.0 * (w[1] - w[0] ** 2) ** 2
def path(tx, w0):
    def step(carry, _):
        w, s = carry
        value, g = jax.value_and_grad(loss)(w)
        u, s = tx.update(g, s, w)
        return (optax.apply_updates(w, u), s), (w, value)
    return jax.lax.scan(step, (w0, tx.init(w0)), None, length={STEPS})[1]
w0 = jnp.asarray([-1.5, 2.0], jnp.float32)
out = {{}}
for name, tx in txs.items():
    pos, val = jax.device_get(jax.jit(lambda w, tx=tx: path(tx, w))(w0))
    out[name] = {{"position": pos.tolist(), "loss": val.tolist()}}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
"""


def cli_argv(out: Path, *extra: str) -> list[str]:
    opts = [a for k, lr in LR.items() for a in ("--optimizer", f"{k}:lr={lr}")]
    return [sys.executable, "-m", "app.cli", "run", "--surface", "rosenbrock", *opts,
            "--start", START, "--steps", str(STEPS), "--out", str(out), *extra]  # fmt: skip


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall s, CPU s) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(
        [str(a) for a in argv], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times: dict[str, list[tuple[float, float]]] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "script.py").write_text(SCRIPT)
        for r in range(args.rounds):
            cache = {**env, "OPTVIZ_CACHE_DIR": str(tmp / f"cache{r}")}
            runs = {
                "cli first": (cli_argv(tmp / "a.json"), cache),
                "cli repeated": (cli_argv(tmp / "b.json"), cache),
                "cli --no-compile-cache": (cli_argv(tmp / "c.json", "--no-compile-cache"), env),
                "optax script": ([sys.executable, str(tmp / "script.py"), tmp / "d.json"], env),
            }
            for name, (cmd, e) in runs.items():
                times.setdefault(name, []).append(timed(cmd, e))
            loads.append(loadavg())
    script_wall = statistics.median(w for w, _ in times["optax script"])
    script_cpu = statistics.median(c for _, c in times["optax script"])
    rows = []
    for name, ts in times.items():
        wall, cpu = statistics.median(w for w, _ in ts), statistics.median(c for _, c in ts)
        rows.append((name, f"{wall:.2f}", f"{cpu:.2f}", f"{wall / script_wall:.2f}",
                     f"{cpu / script_cpu:.2f}"))  # fmt: skip
    head = ("process", "wall s", "CPU s", "wall / script", "CPU / script")
    print("\n".join(table(head, rows)))
    print(f"\n{args.rounds} rounds; load average after each: {'; '.join(loads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
