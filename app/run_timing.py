"""Where a script run's time goes: ``OPTVIZ_TIMING=1`` logs, per run, each phase's wall time and
the script thread's CPU time (``time.thread_time``), to stderr.

On a loaded machine a phase's wall time is its CPU time stretched by the other processes; the
two side by side tell work of ours from waiting (benchmarks/app.py ``--notch`` reads the
page's side of the same runs)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

ENABLED = os.environ.get("OPTVIZ_TIMING", "0") == "1"
_CURRENT = threading.local()  # each session's script runs on a thread of its own


class Run:
    """One script run's phases: ``(name, wall ms, cpu ms)``."""

    def __init__(self) -> None:
        self.t0, self.c0 = time.perf_counter(), time.thread_time()
        self.epoch = time.time()  # to line runs up with the page's timeline
        self.phases: list[tuple[str, float, float]] = []

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t, c = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.phases.append(
                (name, (time.perf_counter() - t) * 1e3, (time.thread_time() - c) * 1e3)
            )

    def report(self) -> str:
        wall = (time.perf_counter() - self.t0) * 1e3
        cpu = (time.thread_time() - self.c0) * 1e3
        parts = [f"{n} {w:.1f}/{c:.1f}" for n, w, c in self.phases]
        head = f"optviz-run at {self.epoch:.3f} wall/cpu ms: total {wall:.1f}/{cpu:.1f}"
        return " · ".join([head, *parts])


@contextlib.contextmanager
def run() -> Iterator[None]:
    """Time one script run (nothing logged unless ``OPTVIZ_TIMING=1``)."""
    if not ENABLED:
        yield
        return
    _CURRENT.run = Run()
    try:
        yield
    finally:
        print(_CURRENT.run.report(), file=sys.stderr, flush=True)
        _CURRENT.run = None


def phase(name: str) -> contextlib.AbstractContextManager:
    """A phase of the current run (a no-op outside :func:`run` or when timing is off)."""
    r = getattr(_CURRENT, "run", None)
    return r.phase(name) if r is not None else contextlib.nullcontext()
