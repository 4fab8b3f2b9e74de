"""The engine: experiments in, recorded trajectories out; sweeps and snapshots.

Knows no Streamlit and no Plotly: the front ends call it.
"""

from trajectories import xla_flags

xla_flags.apply()  # before JAX initialises its backend: see xla_flags.py

# ruff: noqa: E402

from trajectories.errors import FieldError
from trajectories.experiment import Computation, Experiment, OptimizerSpec
from trajectories.fit import predictions
from trajectories.limits import LimitError
from trajectories.run import Result, run

__all__ = [
    "Computation",
    "Experiment",
    "FieldError",
    "LimitError",
    "OptimizerSpec",
    "Result",
    "predictions",
    "run",
]
