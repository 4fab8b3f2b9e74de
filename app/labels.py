"""Names and colours: what the app shows of each optimizer instance, apart from what it computes.

The engine runs an experiment's :class:`~trajectories.experiment.Computation` (the enabled
instances, no names or colours), so a rename or a new colour reuses the cached run. Here the
description's labels are attached again: :func:`attach` makes a :class:`Shown` result (the
engine's arrays, shared, not copied, plus ``names``, ``colors`` and the ``description`` they came
from), which the views and the exports read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.palette import PALETTE
from trajectories import Experiment, Result
from trajectories import experiment as _experiment


def name_of(e: Experiment, index: int) -> str:
    """Instance ``index`` of ``e.optimizers``: its own name, else its kind."""
    o = e.optimizers[index]
    return o.name or o.kind


def color_of(e: Experiment, index: int) -> str:
    """Its own colour, else the palette's colour for its position in the description."""
    return e.optimizers[index].color or PALETTE[index % len(PALETTE)]


def names(e: Experiment) -> list[str]:
    """The enabled instances' names, in the order of a result's instances."""
    return [name_of(e, i) for i, _ in e.active()]


def colors(e: Experiment) -> list[str]:
    return [color_of(e, i) for i, _ in e.active()]


def effective(e: Experiment) -> dict[str, Any]:
    """The engine's normal form of ``e`` (``trajectories.experiment.effective``: defaults
    filled in) with every colour resolved: two descriptions of the same picture, say a link and
    the page's widgets, have equal forms."""
    d = _experiment.effective(e)
    for i, o in enumerate(d["optimizers"]):
        o["color"] = color_of(e, i).lower()
    return d


@dataclasses.dataclass
class Shown(Result):
    """A run as the page shows it: the engine's result with its description's labels."""

    description: Experiment
    names: list[str]
    colors: list[str]

    def summary(self, names: list[str] | None = None) -> list[dict]:
        return super().summary(names or self.names)


def attach(result: Result, e: Experiment) -> Shown:
    """``result`` (a run of ``e``'s computation) with ``e``'s names and colours."""
    if result.computation != e.computation():
        raise ValueError("attach: the result is not a run of this experiment")
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(Result)}
    return Shown(**fields, description=e, names=names(e), colors=colors(e))


def of(result: Result) -> tuple[list[str], list[str]]:
    """The names and colours to show for ``result``: a :class:`Shown` result's, else (an
    engine result, unnamed) its kinds and the palette's colours in order."""
    if isinstance(result, Shown):
        return result.names, result.colors
    n = len(result.kinds)
    return list(result.kinds), [PALETTE[a % len(PALETTE)] for a in range(n)]
