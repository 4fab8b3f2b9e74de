"""The only way the pages reach the engine: cached functions whose inputs are all arguments.

Runs are keyed by the experiment's computation (``Computation.key``, its canonical JSON: the
enabled instances, every hyperparameter filled in, no names or colours), so descriptions that
compute the same share one cached result across reruns and sessions, a rename or a new colour
computes nothing (the labels are attached after: :func:`shown`, :func:`document`), and a changed
value recomputes only what depends on it (the surface picture depends on the surface alone).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

import surfaces
from app import animator, engine_lock, labels, live, payload, surface_image
from trajectories import Computation, Experiment, OptimizerSpec, Result, run, sweeps
from trajectories.family import family

# One engine computation at a time in a server: a new scene traces and compiles (a second or
# more, with a burst of Python objects); many side by side on a small machine take the same
# total time but starve the event loop (every session's requests) and peak in memory.
# Queued, each session still gets its own result as soon as its turn comes.
# Visitors first: the server's background warm-up runs only while no visitor waits.
_ENGINE = engine_lock.VisitorsFirst()


@functools.lru_cache(maxsize=256)
def experiment(experiment_json: str) -> Experiment:
    """A page's experiment from its canonical JSON, parsed and validated once (an experiment is
    immutable: sessions and reruns share it, and with it its computation's key)."""
    return Experiment.from_json(experiment_json)


@st.cache_resource(max_entries=128, show_spinner=False)
def _result(key: str) -> Result:
    """Results are read-only and shared (not copied) between sessions."""
    with _ENGINE:
        return run(Computation.from_key(key))


def result(e: Experiment) -> Result:
    """The engine's run of ``e`` (its instances unnamed: see :func:`shown`)."""
    return _result(e.computation().key)


def shown(e: Experiment) -> labels.Shown:
    """The run of ``e`` with ``e``'s names and colours."""
    return labels.attach(result(e), e)


@st.cache_data(max_entries=64, show_spinner=False)
def surface_picture(name: str, params_json: str) -> surface_image.SurfaceImage:
    with _ENGINE:
        return surface_image.render(surfaces.get(name, **json.loads(params_json)))


def picture_for(e: Experiment) -> surface_image.SurfaceImage:
    return surface_picture(e.surface, json.dumps(dict(e.surface_params), sort_keys=True))


@st.cache_resource(max_entries=64, show_spinner=False)
def _document(key: str) -> animator.Ready:
    """The animator's payload for a computation (built, cleaned and hashed once)."""
    c = Computation.from_key(key)
    return animator.ready(payload.build(_result(key), picture_for(c.experiment)))


def document(e: Experiment) -> animator.Ready:
    """The animator's payload for ``e``: the computation's, with ``e``'s names and colours (its
    id: the computation's document's and the labels')."""
    base = _document(e.computation().key)
    names, colors = labels.names(e), labels.colors(e)
    tag = json.dumps([base["id"], names, colors], separators=(",", ":"))
    doc_id = hashlib.sha1(tag.encode("utf-8")).hexdigest()[:20]
    # the cached document is JSON-safe, and names and colours are strings: not walked again
    return animator.ready(payload.with_labels(base, names, colors), doc_id, clean=False)


@st.cache_resource(max_entries=32, show_spinner=False)
def _family(one_key: str, name: str, stride: int, _run: Result) -> tuple[dict | None, str | None]:
    """The encoded family of the runs over ``name`` (one vmapped call) of the one instance of
    ``one_key``'s computation (the scene with that instance alone: another instance's change
    computes nothing again), recorded at ``stride``, the scene's run's, so that its frames are
    the document's. ``_run``: that run (unhashed; its surface is ``one_key``'s)."""
    try:
        with _ENGINE:
            fam = family(Computation.from_key(one_key).experiment, 0, name, stride=stride)
    except ValueError as err:  # a limit: the sliders stay, without the family
        return None, str(err)
    return live.encode_family(_run, fam)


def live_document(e: Experiment, a: int, name: str | None) -> animator.Ready:
    """:func:`document` with the ``live`` section for instance ``a`` (an index among the
    enabled instances) and the family of its ``name`` (default: its learning rate)."""
    doc = document(e)
    specs = e.computation().experiment.optimizers
    if not specs:
        return doc
    a = a if 0 <= a < len(specs) else 0
    params = live.live_params(specs[a].info, specs[a].values())
    names = [p["name"] for p in params]
    name = name if name in names else names[0] if names else None
    fam, note = None, None
    if name:
        c = e.computation()
        one = c.experiment.replace(optimizers=(specs[a],))
        r = _result(c.key)
        fam, note = _family(one.computation().key, name, int(r.stride), r)
    tag = json.dumps([doc["id"], a, name], separators=(",", ":"))
    doc_id = hashlib.sha1(tag.encode("utf-8")).hexdigest()[:20]
    out = {**doc, "live": live.section(a, params, fam, note)}
    return animator.ready(out, doc_id, clean=False)


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


def _one(experiment_json: str, instance: int) -> tuple[Experiment, int, str]:
    """A sweep of one instance depends on it and the scene, not on the other instances nor on
    labels: the scene with that instance alone (enabled), its index there, and its key."""
    e = Experiment.from_json(experiment_json)
    if not 0 <= instance < len(e.optimizers):
        return e, instance, experiment_json  # the sweep says what is wrong
    spec = e.optimizers[instance]
    one = e.replace(optimizers=(OptimizerSpec(spec.kind, spec.hyperparams),))
    return one, 0, one.computation().key


def grid(
    experiment_json: str, instance: int, axes: tuple, progress=None, metric: str | None = None
) -> sweeps.GridResult:
    """The grid's cells; ``metric``: the one the page draws. ``final_loss`` alone runs the lean
    kernel (``sweeps.hyperparameter_grid(metrics=...)``); the other two come from the full
    kernel, which computes all three at once, so the grid keeps all three (``None``: all)."""
    one, index, key = _one(experiment_json, instance)
    lean = metric == "final_loss"
    if metric is not None and metric not in sweeps.CRITERIA:
        raise ValueError(f"grid: unknown metric {metric!r}; choose from {sweeps.CRITERIA}")
    full_key = ("grid", key, axes, sweeps.CRITERIA)
    with _SWEEPS_LOCK:
        if lean and full_key in _SWEEPS:  # a full grid of the same cells has it already
            _SWEEPS.move_to_end(full_key)
            return _SWEEPS[full_key]
    metrics = ("final_loss",) if lean else sweeps.CRITERIA
    return _sweep(
        ("grid", key, axes, metrics),
        lambda: sweeps.hyperparameter_grid(
            one, index, [sweeps.Axis(*a) for a in axes], progress, metrics=metrics
        ),
    )


def basins(experiment_json: str, instance: int, n: int, progress=None) -> sweeps.BasinsResult:
    one, index, key = _one(experiment_json, instance)
    return _sweep(("basins", key, n), lambda: sweeps.basins(one, index, n, progress))


def ensemble(experiment_json: str, n_seeds: int, progress=None) -> sweeps.EnsembleResult:
    e = Experiment.from_json(experiment_json)
    key = e.computation().key  # one row per enabled instance, unlabelled
    return _sweep(("ensemble", key, n_seeds), lambda: sweeps.seed_ensemble(e, n_seeds, progress))


def fair(experiment_json: str, trials: int, criterion: str, progress=None) -> list:
    e = Experiment.from_json(experiment_json)
    rows = _sweep(
        ("fair", e.computation().key, trials, criterion),
        lambda: sweeps.fair_comparison(e, trials, criterion, progress),
    )
    # a row per enabled instance, in order: this description's names
    return [dataclasses.replace(r, name=n) for r, n in zip(rows, labels.names(e), strict=True)]
