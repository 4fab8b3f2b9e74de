"""Documented caps: no single request may starve the others on a shared server.

Every cap is checked when an experiment or a sweep is described, before any work starts; a
violation is a ``LimitError`` (a ``ValueError``) saying which limit, the value asked for and how to
stay under it.
"""

from __future__ import annotations

MAX_STEPS = 20_000  # steps of one run
MAX_INSTANCES = 16  # optimizer instances in one experiment
MAX_STARTS = 16  # start points in one experiment
MAX_SEEDS = 256  # seeds of an ensemble
MAX_WORK = 2e9  # steps x starts x instances x seeds x weights: about a few seconds of CPU
MAX_GRID_SIDE = 128  # a hyperparameter or start-point grid is at most 128 x 128
MAX_TRIALS = 512  # fair comparison: trials per optimizer
MAX_SWEEP_WORK = 5e9  # trajectories x steps x weights for one sweep
MAX_COMPILED_PLANS = 48  # compiled kernels kept (about 14 MiB each); older ones compile again

# Output stays bounded whatever is asked: every k-th step is recorded so that the recorded
# arrays of one result (positions, gradients, updates, learning rates, optimizer state) fit in
# RESULT_BUDGET_BYTES, and at most MAX_RECORDS records are kept per trajectory.
RESULT_BUDGET_BYTES = 64 * 2**20
MAX_RECORDS = 1001


class LimitError(ValueError):
    """A request beyond a documented limit."""


def check(what: str, value: float, limit: float, hint: str) -> None:
    if value > limit:
        raise LimitError(f"{what} = {value:,.0f} is over the limit of {limit:,.0f}: {hint}")
