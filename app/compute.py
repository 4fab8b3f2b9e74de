"""The only way the pages reach the engine: cached functions whose inputs are all arguments.

Runs are keyed by the experiment's computation (``Computation.key``, its canonical JSON: the
enabled instances, every hyperparameter filled in, no names or colours), so descriptions that
compute the same share one cached result across reruns and sessions, a rename or a new colour
computes nothing (the labels are attached after: :func:`shown`, :func:`document`), and a changed
value recomputes only what depends on it (the surface picture depends on the surface alone).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

import surfaces
from app import animator, engine_lock, labels, live, payload, run_timing, surface_image
from trajectories import Computation, Experiment, OptimizerSpec, Result, run, sweeps
from trajectories.family import family

# One engine computation at a time in a server: a new scene traces and compiles (a second or
# more, with a burst of Python objects); many side by side on a small machine take the same
# total time but starve the event loop (every session's requests) and peak in memory.
# Queued, each session still gets its own result as soon as its turn comes.
# Visitors first: the server's background warm-up runs only while no visitor waits.
_ENGINE = engine_lock.VisitorsFirst()


@contextlib.contextmanager
def _turn(name: str, later: bool = False) -> Iterator[None]:
    """The engine's lock for one computation, the wait and the work timed apart (OPTVIZ_TIMING:
    ``NAME wait`` and ``NAME``); ``later``: giving way to visitors (``FOLLOW_UP_PATIENCE_S``)."""
    with contextlib.ExitStack() as held:
        with run_timing.phase(f"{name} wait"):
            lock = _ENGINE.background(FOLLOW_UP_PATIENCE_S, quiet=0.0) if later else _ENGINE
            held.enter_context(lock)
        with run_timing.phase(name):
            yield


@functools.lru_cache(maxsize=256)
def experiment(experiment_json: str) -> Experiment:
    """A page's experiment from its canonical JSON, parsed and validated once (an experiment is
    immutable: sessions and reruns share it, and with it its computation's key)."""
    return Experiment.from_json(experiment_json)


@st.cache_resource(max_entries=128, show_spinner=False)
def _result(key: str) -> Result:
    """Results are read-only and shared (not copied) between sessions."""
    with _turn("result"):
        return run(Computation.from_key(key))


def result(e: Experiment) -> Result:
    """The engine's run of ``e`` (its instances unnamed: see :func:`shown`)."""
    return _result(e.computation().key)


def shown(e: Experiment) -> labels.Shown:
    """The run of ``e`` with ``e``'s names and colours."""
    return labels.attach(result(e), e)


@st.cache_data(max_entries=64, show_spinner=False)
def surface_picture(name: str, params_json: str) -> surface_image.SurfaceImage:
    """The surface's heatmap: one small evaluation on a grid (a tenth of a second on a quiet
    machine, its compile included), so it does not queue for the engine's lock, where a class's
    pages waited seconds for it behind other scenes' kernels (benchmarks/RESULTS.md, The class)."""
    with run_timing.phase("picture"):
        return surface_image.render(surfaces.get(name, **json.loads(params_json)))


def picture_for(e: Experiment) -> surface_image.SurfaceImage:
    return surface_picture(e.surface, json.dumps(dict(e.surface_params), sort_keys=True))


@st.cache_resource(max_entries=64, show_spinner=False)
def _chart(key: str) -> animator.Ready:
    """The animator's payload for a computation without the minibatch fans (a stochastic
    surface's: a kernel of its own to compile), built, cleaned and hashed once."""
    c = Computation.from_key(key)
    r, picture = _result(key), picture_for(c.experiment)
    with run_timing.phase("document"):
        return animator.ready(payload.build(r, picture, fans=False))


@st.cache_resource(max_entries=64, show_spinner=False)
def _document(key: str, _later: bool = False) -> animator.Ready:
    """The whole payload: :func:`_chart`'s with the fans (sharing its arrays). ``_later``: the
    fans follow a chart sent without them, and give way to visitors' documents for a while."""
    chart, r = _chart(key), _result(key)
    try:
        if not payload.has_fans(r):
            return chart
        with _turn("fans", later=True) if _later else run_timing.phase("fans"):
            return animator.ready(payload.with_fans(chart, r))
    finally:
        _made(("document", key), mark=True)


def document(e: Experiment, whole: bool = True, later: bool = False) -> animator.Ready:
    """The animator's payload for ``e``: the computation's, with ``e``'s names and colours (its
    id: the computation's document's and the labels'). ``whole=False``: without the fans
    (:func:`_chart`); ``later``: see :func:`_document`."""
    key = e.computation().key
    base = _document(key, _later=later) if whole else _chart(key)
    names, colors = labels.names(e), labels.colors(e)
    tag = json.dumps([base["id"], names, colors], separators=(",", ":"))
    doc_id = hashlib.sha1(tag.encode("utf-8")).hexdigest()[:20]
    # the cached document is JSON-safe, and names and colours are strings: not walked again
    return animator.ready(payload.with_labels(base, names, colors), doc_id, clean=False)


# What a page leaves for its next run when other visitors wait for the engine (a class opening
# new scenes at once: see live_document) takes the engine only while no visitor waits for it,
# for this long at most (then it queues as they do). 20 s was too short for a class of 20 on
# 2 cores: the first pages' follow-ups queued among the last pages' charts again.
FOLLOW_UP_PATIENCE_S = 120.0
FAMILY_PENDING_NOTE = "computing the runs to scrub…"
_MADE: collections.OrderedDict[tuple, None] = collections.OrderedDict()  # families, documents
_MADE_LOCK = threading.Lock()


def _made(key: tuple, mark: bool = False) -> bool:
    """Whether ``key`` (``("family", ...)``, ``("document", key)``) was made in this process;
    ``mark``: it is now. Bounded: a key forgotten only makes a page wait for it as before."""
    with _MADE_LOCK:
        if mark:
            _MADE[key] = None
            _MADE.move_to_end(key)
            while len(_MADE) > 512:
                _MADE.popitem(last=False)
        return key in _MADE


@st.cache_resource(max_entries=32, show_spinner=False)
def _family(
    one_key: str, name: str, stride: int, _run: Result, _later: bool = False
) -> tuple[dict | None, str | None]:
    """The encoded family of the runs over ``name`` (one vmapped call) of the one instance of
    ``one_key``'s computation (the scene with that instance alone: another instance's change
    computes nothing again), recorded at ``stride``, the scene's run's, so that its frames are
    the document's. ``_run``: that run (unhashed; its surface is ``one_key``'s). ``_later``:
    a family that follows its document gives way to visitors' documents for a while."""
    try:
        with _turn("family", later=_later):
            fam = family(Computation.from_key(one_key).experiment, 0, name, stride=stride)
    except ValueError as err:  # a limit: the sliders stay, without the family
        return None, str(err)
    finally:
        _made(("family", one_key, name, stride), mark=True)
    return live.encode_family(_run, fam)


def live_document(e: Experiment, a: int, name: str | None, when: str = "now") -> animator.Ready:
    """:func:`document` with the ``live`` section for instance ``a`` (an index among the
    enabled instances) and the family of its ``name`` (default: its learning rate).

    ``when``: ``"now"``; ``"if idle"``: while other visitors wait for the engine (a class
    opening new scenes at once), what this scene's chart does not need and was not made yet
    (the live family and the minibatch fans, each a kernel of its own to compile) is left out
    and listed in the document's ``pending``, so that the chart goes first; ``"later"``: the
    next run's, computing them while no visitor waits for the engine (at most
    ``FOLLOW_UP_PATIENCE_S`` later)."""
    busy = when == "if idle" and _ENGINE.visitors() > 0
    c = e.computation()
    pending = []
    if busy and not _made(("document", c.key)):
        pending.append("fans")
    doc = document(e, whole=not pending, later=when == "later")
    specs = c.experiment.optimizers
    if not specs:
        return doc
    a = a if 0 <= a < len(specs) else 0
    params = live.live_params(specs[a].info, specs[a].values())
    names = [p["name"] for p in params]
    name = name if name in names else names[0] if names else None
    fam, note = None, None
    if name:
        one = c.experiment.replace(optimizers=(specs[a],))
        r = _result(c.key)
        key = (one.computation().key, name, int(r.stride))
        if busy and not _made(("family", *key)):
            note = FAMILY_PENDING_NOTE
            pending.append("family")
        else:
            fam, note = _family(*key, r, _later=when == "later")
    tag = json.dumps([doc["id"], a, name, pending], separators=(",", ":"))
    doc_id = hashlib.sha1(tag.encode("utf-8")).hexdigest()[:20]
    out = {**doc, "live": live.section(a, params, fam, note)}
    if pending:
        out["pending"] = pending
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
