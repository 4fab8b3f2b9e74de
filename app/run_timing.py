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
        self.sent: float | None = None  # ms from the start to the first document handed over
        self.session = _session_id()

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
        tail = [f"sent {self.sent:.1f}"] if self.sent is not None else []
        return " · ".join([head, *parts, *tail, f"session {self.session}"])


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


def sent() -> None:
    """The run's document has been handed to Streamlit's queue to the browser (the animator's
    mount returned): the first such moment of the run is logged as ``sent MS``, from the run's
    start (benchmarks/load.py reads it: the time from a script run to its document sent)."""
    r = getattr(_CURRENT, "run", None)
    if r is not None and r.sent is None:
        r.sent = (time.perf_counter() - r.t0) * 1e3


def _session_id() -> str:
    """The Streamlit session running this thread's script ("-" outside one)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
    except ImportError:  # pragma: no cover - Streamlit is a runtime dependency
        ctx = None
    return ctx.session_id if ctx is not None else "-"


def phase(name: str) -> contextlib.AbstractContextManager:
    """A phase of the current run (a no-op outside :func:`run` or when timing is off)."""
    r = getattr(_CURRENT, "run", None)
    return r.phase(name) if r is not None else contextlib.nullcontext()
