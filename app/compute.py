"""The only way the pages reach the engine: cached functions whose inputs are all arguments.

Experiments travel as their canonical JSON, so identical descriptions share one cached result
across reruns and sessions, and a changed value recomputes only what depends on it (the surface
picture depends on the surface alone; the run on the whole description).
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

import surfaces
from app import payload, surface_image
from trajectories import Experiment, Result, run, sweeps

# One engine computation at a time in a server: a new scene traces and compiles (a second or
# more, with a burst of Python objects); many side by side on a small machine take the same
# total time but starve the event loop (every session's requests) and peak in memory.
# Queued, each session still gets its own result as soon as its turn comes.
_ENGINE = threading.Lock()


@st.cache_resource(max_entries=128, show_spinner=False)
def result(experiment_json: str) -> Result:
    """Results are read-only and shared (not copied) between sessions."""
    with _ENGINE:
        return run(Experiment.from_json(experiment_json))


@st.cache_data(max_entries=64, show_spinner=False)
def surface_picture(name: str, params_json: str) -> surface_image.SurfaceImage:
    with _ENGINE:
        return surface_image.render(surfaces.get(name, **json.loads(params_json)))


def picture_for(e: Experiment) -> surface_image.SurfaceImage:
    return surface_picture(e.surface, json.dumps(dict(e.surface_params), sort_keys=True))


@st.cache_resource(max_entries=64, show_spinner=False)
def document(experiment_json: str) -> dict:
    """The animator's payload for a run (built once per description)."""
    e = Experiment.from_json(experiment_json)
    return payload.build(result(experiment_json), picture_for(e))


# Sweeps report progress through a callback that draws on the page, which Streamlit's caches
# cannot replay: they are kept in a small cache of their own (shared by sessions, like results).
# A rerun started while a sweep runs (any click, the Cancel button) interrupts it at its next
# progress report: that is how a sweep is cancelled.
_SWEEPS: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_SWEEPS_LOCK = threading.Lock()
MAX_SWEEPS = 16


def _sweep(key: tuple, compute: Callable[[], Any]) -> Any:
    with _SWEEPS_LOCK:
        if key in _SWEEPS:
            _SWEEPS.move_to_end(key)
            return _SWEEPS[key]
    value = compute()
    with _SWEEPS_LOCK:
        _SWEEPS[key] = value
        while len(_SWEEPS) > MAX_SWEEPS:
            _SWEEPS.popitem(last=False)
    return value


def grid(experiment_json: str, instance: int, axes: tuple, progress=None) -> sweeps.GridResult:
    e = Experiment.from_json(experiment_json)
    return _sweep(
        ("grid", experiment_json, instance, axes),
        lambda: sweeps.hyperparameter_grid(e, instance, [sweeps.Axis(*a) for a in axes], progress),
    )


def basins(experiment_json: str, instance: int, n: int, progress=None) -> sweeps.BasinsResult:
    e = Experiment.from_json(experiment_json)
    return _sweep(
        ("basins", experiment_json, instance, n), lambda: sweeps.basins(e, instance, n, progress)
    )


def ensemble(experiment_json: str, n_seeds: int, progress=None) -> sweeps.EnsembleResult:
    e = Experiment.from_json(experiment_json)
    return _sweep(
        ("ensemble", experiment_json, n_seeds), lambda: sweeps.seed_ensemble(e, n_seeds, progress)
    )


def fair(experiment_json: str, trials: int, criterion: str, progress=None) -> list:
    e = Experiment.from_json(experiment_json)
    return _sweep(
        ("fair", experiment_json, trials, criterion),
        lambda: sweeps.fair_comparison(e, trials, criterion, progress),
    )
