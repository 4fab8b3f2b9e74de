"""The live memory each compiled kernel keeps, and the bound on how many a server keeps.

    PYTHONPATH=. .venv/bin/python benchmarks/kernels.py [--n 10] [--bound 4]

In this process: ``--n`` custom formulas (each a new kernel structure, as a user typing formulas
makes them), then ``--n`` runs of one of them with other seeds, noise and learning rates (no new
kernel), then ``pieces.clear_compiled()``, then ``--n`` more formulas with room for only
``--bound`` compiled pieces (each formula here is two: Adam, Momentum). Live memory: RSS after
``gc.collect()`` and ``malloc_trim(0)``. Prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.load import live_rss
from benchmarks.machine import loadavg, now, table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10, help="formulas compiled (10)")
    ap.add_argument("--bound", type=int, default=4, help="pieces kept in the bounded trial (4)")
    a = ap.parse_args(argv)
    from trajectories import Experiment, OptimizerSpec, pieces, run

    adam, momentum = OptimizerSpec("Adam", {"learning_rate": 0.05}), OptimizerSpec("Momentum", {})
    base = Experiment(surface="custom", optimizers=(adam, momentum), steps=300, noise=0.1)

    def formula(k: int) -> Experiment:
        return base.replace(surface_params={"formula": f"(x - {k / 10:g})^2 + {k}*y^2"})

    def step(label: str, runs=(), action=None) -> None:
        before, count, t = live_rss(), pieces.compile_count(), time.perf_counter()
        for e in runs:
            run(e)
        if action is not None:
            action()
        per_run = f"{(time.perf_counter() - t) / len(runs):.2f}" if runs else "–"
        grown = live_rss() - before
        rows.append((label, pieces.compile_count() - count, f"{grown:+.1f}", per_run))

    rows: list[tuple] = []
    run(formula(0))  # the imports and a first kernel
    step(f"{a.n} new structures", [formula(k) for k in range(1, a.n + 1)])
    rates = [OptimizerSpec("Adam", {"learning_rate": 0.01 * s}) for s in range(1, a.n + 1)]
    step(f"{a.n} runs of one structure (other seeds, noise, learning rates)", [
        formula(1).replace(seed=s, noise=0.1 * s, optimizers=(lr, momentum))
        for s, lr in enumerate(rates, 1)])  # fmt: skip
    step("pieces.clear_compiled()", action=pieces.clear_compiled)
    bound, pieces.MAX_COMPILED_PIECES = pieces.MAX_COMPILED_PIECES, a.bound
    try:
        step(f"{a.n} more new structures, MAX_COMPILED_PIECES = {a.bound}",
             [formula(k) for k in range(a.n + 1, 2 * a.n + 1)])  # fmt: skip
    finally:
        pieces.MAX_COMPILED_PIECES = bound
    print(f"{now()}, load average {loadavg()}\n")
    print("\n".join(table(("runs", "kernels compiled", "live memory MiB", "s per run"), rows)))


if __name__ == "__main__":
    main()
