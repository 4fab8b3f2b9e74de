"""What a lesson is made of: :class:`Stage` and :class:`Lesson`, the instances' fixed colours and
the helper that names and colours an optimizer instance. Pure data (``app/lessons.py`` holds
the lessons and their helpers, ``app/lessons_modern.py`` those on the newer optimizers)."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.palette import PALETTE
from trajectories import Experiment, OptimizerSpec

SWEEPS = ("basins", "ensemble")

# Colours, fixed per role so an instance keeps its colour from stage to stage.
BLUE, ORANGE, GREEN, RED, PURPLE, BROWN, PINK, GREY = PALETTE[:8]


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a lesson: a scene to run and what to say about it."""

    title: str
    narration: str  # 2-5 sentences of Markdown; may use $...$ LaTeX inline
    experiment: Experiment  # the full scene of this stage
    view: str = "paths"  # the view to open: "paths", "inside", "sweeps", ...
    # The record to pause at (= the step: every stage records each). Frame r shows the point
    # after r steps with what the optimizer sees and does there: the gradient at that point,
    # the step it takes next, and that step's learning rates and state.
    frame: int | None = None
    sweep: str | None = None  # "basins" (of the first optimizer) or "ensemble"
    sweep_size: int = 64  # basins: grid side; ensemble: number of seeds (seed, seed + 1, ...)


@dataclasses.dataclass(frozen=True)
class Lesson:
    id: str  # url-safe, e.g. "learning-rate"
    title: str
    summary: str  # one sentence for the gallery card
    stages: tuple[Stage, ...]


def opt(kind: str, name: str, color: str, **hyperparams: Any) -> OptimizerSpec:
    return OptimizerSpec(kind, hyperparams, name=name, color=color)


# ---- scenes several lessons share ----------------------------------------------------------------
def bowl(
    condition: float, start: tuple[float, float], *specs: OptimizerSpec, steps: int, noise=0.0
) -> Experiment:
    """An elliptic bowl of a given condition number from one start."""
    return Experiment(
        surface="elliptic_bowl",
        surface_params={"condition": condition},
        optimizers=specs,
        starts=(start,),
        steps=steps,
        noise=noise,
    )


def valley(*specs: OptimizerSpec) -> Experiment:
    """Rosenbrock's valley from (-1.5, 1.5), 1000 steps."""
    return Experiment(surface="rosenbrock", optimizers=specs, starts=((-1.5, 1.5),), steps=1000)
