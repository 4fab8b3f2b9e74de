"""The engine's lock in a server, visitors first.

A server runs one engine computation at a time (``app.compute``). Its background warm-up
(``app.warmup``) compiles for minutes after a start on a small machine; with a plain lock a
visitor's run (a drag answer, a notch) queued behind each of its runs, and behind the next one
too whenever the warm-up took the lock again first. Here a visitor takes the lock as a plain
lock; the warm-up takes it only once no visitor has held it or waited for it for ``quiet``
seconds (a page's runs come in bursts: the scene, its live family, its picture), so a visitor
waits at most for the one warm-up run already going.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator


class VisitorsFirst:
    """``with lock:`` for a visitor's computation; ``with lock.background():`` for work that
    gives way to visitors."""

    def __init__(self, quiet: float = 1.0):
        self.quiet = quiet
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._visitors = 0  # holding the lock or waiting for it
        self._last_visit = -math.inf  # time.monotonic() of the last visitor's release

    def __enter__(self) -> VisitorsFirst:
        with self._changed:
            self._visitors += 1
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
        with self._changed:
            self._visitors -= 1
            self._last_visit = time.monotonic()
            self._changed.notify_all()

    def locked(self) -> bool:
        return self._lock.locked()

    def visitors(self) -> int:
        """Visitors holding the lock or waiting for it."""
        with self._changed:
            return self._visitors

    @contextlib.contextmanager
    def background(self, most: float = math.inf, quiet: float | None = None) -> Iterator[None]:
        """The lock once no visitor has used it for ``quiet`` seconds (default: the lock's),
        or after ``most`` seconds of waiting for that (then it queues as a visitor's
        computation does). ``quiet=0``: as soon as no visitor holds it or waits for it."""
        quiet = self.quiet if quiet is None else quiet
        deadline = time.monotonic() + most
        with self._changed:
            while True:
                now = time.monotonic()
                idle = now - self._last_visit
                if (self._visitors == 0 and idle >= quiet) or now >= deadline:
                    break
                timeout = min(math.inf if self._visitors else quiet - idle, deadline - now)
                self._changed.wait(None if math.isinf(timeout) else timeout)
        with self._lock:
            yield
