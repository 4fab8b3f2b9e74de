"""The only way the pages reach the engine: cached functions whose inputs are all arguments.

Experiments travel as their canonical JSON, so identical descriptions share one cached result
across reruns and sessions, and a changed value recomputes only what depends on it (the surface
picture depends on the surface alone; the run on the whole description).
"""

from __future__ import annotations

import json

import streamlit as st

import surfaces
from app import payload, surface_image
from trajectories import Experiment, Result, run, sweeps


@st.cache_resource(max_entries=128, show_spinner=False)
def result(experiment_json: str) -> Result:
    """Results are read-only and shared (not copied) between sessions."""
    return run(Experiment.from_json(experiment_json))


@st.cache_data(max_entries=64, show_spinner=False)
def surface_picture(name: str, params_json: str) -> surface_image.SurfaceImage:
    return surface_image.render(surfaces.get(name, **json.loads(params_json)))


def picture_for(e: Experiment) -> surface_image.SurfaceImage:
    return surface_picture(e.surface, json.dumps(dict(e.surface_params), sort_keys=True))


@st.cache_resource(max_entries=64, show_spinner=False)
def document(experiment_json: str) -> dict:
    """The animator's payload for a run (built once per description)."""
    e = Experiment.from_json(experiment_json)
    return payload.build(result(experiment_json), picture_for(e))


# Sweeps: ``_progress`` (not hashed by Streamlit) reports progress; a rerun started while a
# sweep runs (any click) interrupts it at the next report: that is how a sweep is cancelled.
@st.cache_data(max_entries=16, show_spinner=False)
def grid(experiment_json: str, instance: int, axes: tuple, _progress=None) -> sweeps.GridResult:
    e = Experiment.from_json(experiment_json)
    return sweeps.hyperparameter_grid(e, instance, [sweeps.Axis(*a) for a in axes], _progress)


@st.cache_data(max_entries=16, show_spinner=False)
def basins(experiment_json: str, instance: int, n: int, _progress=None) -> sweeps.BasinsResult:
    return sweeps.basins(Experiment.from_json(experiment_json), instance, n, _progress)


@st.cache_data(max_entries=16, show_spinner=False)
def ensemble(experiment_json: str, n_seeds: int, _progress=None) -> sweeps.EnsembleResult:
    return sweeps.seed_ensemble(Experiment.from_json(experiment_json), n_seeds, _progress)


@st.cache_data(max_entries=16, show_spinner=False)
def fair(experiment_json: str, trials: int, criterion: str, _progress=None) -> list:
    e = Experiment.from_json(experiment_json)
    return sweeps.fair_comparison(e, trials, criterion, _progress)
