"""Compile, in a background thread of the server, the kernels most visitors need next.

The engine compiles one kernel per (surface structure, optimizer group) and joins them
(``trajectories/kernel.py``), so the kernels a visitor's scene needs are mostly ones another
scene compiled. Before it answers, ``python -m app.serve`` computes the default scene and runs
:func:`switched_classic` (the default scene on a classic behind the classics' switch, with its
picture and live family: ``surfaces/classic_switch.py``; then picking any of those classics
compiles nothing). Then this thread compiles, while the server already answers, every optimizer
kind with its declared defaults on the default surface (what "add an optimizer" asks for) and
every lesson stage's scene. Each run holds the engine's lock (``app.compute``), one or two new
kernels at a time, and takes it only while no visitor has used it for a second
(``app.engine_lock``), so a visitor's scene waits at most for one such run (about half a second
at load 1) rather than for the whole warm-up.

Budget (README, benchmarks/RESULTS.md): at most ``BUDGET_SECONDS`` of wall time (what is not
done by then compiles when a visitor asks), and every kernel kept is one of
``limits.MAX_COMPILED_PIECES`` (about 6 MiB each): the warm-up compiles 46 for 39 scenes,
so 50 of the 96 are kept, live memory +197 MiB, in 23 s on the 2-core VM at load 7-8
(benchmarks/RESULTS.md). ``OPTVIZ_BACKGROUND_WARMUP=0`` turns it off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import optimizers
from app.engine_lock import VisitorsFirst
from trajectories import Experiment, OptimizerSpec, pieces, run
from trajectories.family import family

BUDGET_SECONDS = 180.0
KINDS_PER_RUN = 2  # two new kernels compile side by side (pieces.simulate's pool)
# A classic that is a branch of the classics' switch (surfaces/classic_switch.py): the kernels
# of the default scene on it, of its picture and of its live family serve every such classic.
SWITCHED_CLASSIC = "beale"


def switched_classic() -> None:
    """For ``app.serve.warm``: the default scene on :data:`SWITCHED_CLASSIC`, its picture and
    the live family a page asks for first (instance 0's first live hyperparameter, at the
    scene's stride: ``app.compute.live_document``)."""
    from app import live, state, surface_image

    e = state.DEFAULT.replace(surface=SWITCHED_CLASSIC)
    r = run(e)
    surface_image.render(r.surface)
    spec = e.optimizers[0]
    params = live.live_params(spec.info, spec.values())
    if params:
        family(e.replace(optimizers=(spec,)), 0, params[0]["name"], stride=int(r.stride))


def scenes() -> Iterator[Experiment]:
    """The scenes to run, most asked for first; each a few new kernels at most."""
    from app import lessons, state

    kinds = [
        k for k in optimizers.OPTIMIZERS if k not in {o.kind for o in state.DEFAULT.optimizers}
    ]
    for i in range(0, len(kinds), KINDS_PER_RUN):
        chosen = tuple(OptimizerSpec(k) for k in kinds[i : i + KINDS_PER_RUN])
        yield state.DEFAULT.replace(optimizers=chosen)
    for lesson in lessons.LESSONS.values():
        for stage in lesson.stages:
            yield stage.experiment


def warm(lock: VisitorsFirst, budget: float = BUDGET_SECONDS, log=print) -> dict:
    """Run :func:`scenes` under ``lock`` until done or past ``budget`` seconds."""
    start, before, done, failed = time.perf_counter(), pieces.compile_count(), 0, []
    for e in scenes():
        if time.perf_counter() - start > budget:
            break
        try:
            with lock.background():  # gives way to visitors (app/engine_lock.py)
                run(e)
            done += 1
        except Exception as err:  # a scene that cannot run must not stop the server's warm-up
            failed.append(f"{[o.kind for o in e.optimizers]}: {err}")
    report = {
        "scenes": done,
        "kernels": pieces.compile_count() - before,
        "seconds": round(time.perf_counter() - start, 1),
        "failed": failed,
    }
    log(
        f"Background warm-up: {report['kernels']} kernels for {done} scenes in "
        f"{report['seconds']} s" + (f"; {len(failed)} failed: {failed}" if failed else ""),
        flush=True,
    )
    return report


def start(lock: VisitorsFirst, budget: float = BUDGET_SECONDS) -> threading.Thread | None:
    if os.environ.get("OPTVIZ_BACKGROUND_WARMUP", "1") == "0":
        return None
    thread = threading.Thread(target=warm, args=(lock, budget), name="warm-up", daemon=True)
    thread.start()
    return thread
