"""The command line's output: values as text (``fmt``), aligned tables (``table``) and a text
progress bar on stderr (``ProgressBar``). The commands are in :mod:`app.cli`."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


def fmt(v: Any) -> str:
    if hasattr(v, "item") and not isinstance(v, str):  # a numpy scalar
        v = v.item()
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned; numbers to the right."""
    rows = [[v.item() if hasattr(v, "item") else v for v in row] for row in rows]
    cells = [[fmt(v) for v in row] for row in rows]
    right = [
        all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in column)
        for column in zip(*rows, strict=True)
    ] or [False] * len(headers)
    widths = [max([len(h)] + [len(r[k]) for r in cells]) for k, h in enumerate(headers)]

    def line(items):
        out = [
            s.rjust(w) if rj else s.ljust(w) for s, w, rj in zip(items, widths, right, strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


class ProgressBar:
    """A text bar on ``stream``, redrawn in place with ``\\r`` at most every ``interval`` s."""

    def __init__(
        self, label: str, stream: TextIO | None = None, width: int = 30, interval: float = 0.1
    ):
        self.label, self.stream, self.width, self.interval = label, stream, width, interval
        self._last = -math.inf
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = round(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        stream = self.stream or sys.stderr
        stream.write(f"\r{self.label} [{bar}] {done}/{total} {frac:4.0%}")
        stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            (self.stream or sys.stderr).write("\n")
            self._drawn = False
