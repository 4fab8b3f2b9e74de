"""The engine: experiments in, recorded trajectories out; sweeps and snapshots.

Knows no Streamlit and no Plotly: the front ends call it.
"""

from trajectories import xla_flags

xla_flags.apply()  # before JAX initialises its backend: see xla_flags.py

# ruff: noqa: E402

from trajectories.errors import FieldError
from trajectories.experiment import Experiment, OptimizerSpec
from trajectories.limits import LimitError
from trajectories.run import Result, run

__all__ = ["Experiment", "FieldError", "LimitError", "OptimizerSpec", "Result", "run"]
