"""Documented caps: no single request may starve the others on a shared server.

Every cap is checked when an experiment or a sweep is described, before any work starts; a
violation is a ``LimitError`` (a :class:`~trajectories.errors.FieldError`, so a ``ValueError``)
saying which limit, the value asked for and how to stay under it. Links, the command line and
the page read their bounds from here, so every entrance refuses the same values.
"""

from __future__ import annotations

from trajectories.errors import FieldError

MAX_STEPS = 20_000  # steps of one run
MAX_INSTANCES = 16  # optimizer instances in one experiment (enabled ones)
MAX_LISTED_INSTANCES = 4 * MAX_INSTANCES  # instances a description may list, disabled included
MAX_STARTS = 16  # start points in one experiment
MAX_SEEDS = 256  # seeds of an ensemble
MAX_WORK = 2e9  # steps x starts x instances x seeds x weights: about a few seconds of CPU
MAX_GRID_SIDE = 128  # a hyperparameter or start-point grid is at most 128 x 128
MAX_TRIALS = 512  # fair comparison: trials per optimizer
MAX_SWEEP_WORK = 5e9  # trajectories x steps x weights for one sweep
MAX_COMPILED_PIECES = (
    96  # compiled kernels kept, one per surface x optimizer group; older compile again
)

# The values of one experiment.
# Gradient noise: the standard deviation is in the gradient's own units, and the bundled
# surfaces' gradients over their plotting windows reach about 2e6 (Goldstein-Price; Beale 2e5,
# Rosenbrock 4e3), so a cap at 1e6 still lets noise matter on every surface while keeping
# float32 noise far from overflow. Links, the page's control and the engine all use it.
MAX_NOISE = 1e6
MAX_SEED = 2**31 - 1  # seeds are 32-bit signed integers (the page's control, JAX's keys)
MAX_TOLERANCE = 1e12  # "steps to reach f* + tolerance"
MAX_COORDINATE = 1e6  # |a start point's coordinate|
MAX_WEIGHTS = 100_000  # coordinates of one start point
MAX_NAME_CHARS = 60  # an instance's display name

# Scene text (share links, the command line's NAME:k=v,... specs).
MAX_SPEC_CHARS = 2000  # one spec (an optimizer, a surface) or one value of a link's query
MAX_LINK_CHARS = 8000  # the whole query of a share link
MAX_NESTING = 4  # schedules inside schedules (or brackets inside a value) beyond the first

# Output stays bounded whatever is asked: every k-th step is recorded so that the recorded
# arrays of one result (positions, gradients, updates, learning rates, optimizer state) fit in
# RESULT_BUDGET_BYTES, and at most MAX_RECORDS records are kept per trajectory.
RESULT_BUDGET_BYTES = 64 * 2**20
MAX_RECORDS = 1001


class LimitError(FieldError):
    """A request beyond a documented limit; ``field`` names what to reduce."""


def check(what: str, value: float, limit: float, hint: str, field: str | None = None) -> None:
    """Raise a ``LimitError`` if ``value > limit``; its field is ``field`` (default ``what``)."""
    if value > limit:
        raise LimitError(
            what if field is None else field,
            f"{what} = {value:,.0f} is over the limit of {limit:,.0f}: {hint}",
        )
