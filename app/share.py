"""Share links: the whole scene in the URL's query, readable, only what differs from defaults.

Example::

    ?s=rosenbrock&p=b=10&o=Adam(learning_rate=0.05)&o=SGD(learning_rate=0.001,momentum=0.9)
     &x=-1.5,2&n=500&noise=0.1&seed=3&v=paths&f=120

Keys (each optional; a missing key means its default):

========  ========================================================================
``s``     surface name                         ``p``  surface parameters ``k=v,...``
``o``     one optimizer instance, repeatable: ``Kind(k=v,...)``; ``k`` is a
          hyperparameter or option (``lr`` is ``learning_rate``), or ``name``,
          ``color`` (hex, ``#`` optional); the bare word ``off`` disables it; a schedule
          is ``learning_rate=cosine_decay(initial_learning_rate=0.05,decay_steps=500)``.
          No ``o`` at all: the default six optimizers.
``x``     a start point ``x,y`` (or every weight), repeatable; ``x=none``: no start
          point given (the surface's own); no ``x``: the surface's default start
``n``     steps      ``noise``  gradient noise    ``seed``  seed    ``tol``  target tolerance
          ``stride``  record every k-th step (absent: automatic)
``v``     the open view     ``f``  the current frame     ``present``  presentation mode (1)
``hide``  what to hide, comma-separated (presentation)   ``lesson``, ``stage``  a lesson
========  ========================================================================

A lesson link names the lesson's id and its stage counting from 1, as the page numbers them
(``?lesson=momentum&stage=2`` is "stage 2 of 3"; no ``stage``: the first). Without any key of
the scene itself (:data:`SCENE_KEYS`) it opens the stage as the lesson wrote it, view and
paused frame included; with some, the link's scene runs under the stage's narration.

``o`` and ``p`` are read by the scene grammar of :mod:`trajectories.grammar`, the one the
command line reads ``--optimizer`` and ``--surface`` with: values are numbers, ``true``/``false``,
``none``, schedules as above, or text; text that would not read back as written (a comma outside
brackets, an unbalanced bracket, a leading quote or space) is written as a quoted string
(``name="fast, small"``). An instance's hyperparameters equal to the registry's defaults are
left out, and ``o`` is left out when the instances run as the default six do (compared in the
normal form, :func:`app.labels.effective`). Numbers are written with Python's
shortest round-trip ``repr``, so a link reproduces the same trajectories bit for bit on the
same platform (elsewhere, to floating-point rounding: README, "Sharing and the classroom").

The bounds are those of :mod:`trajectories.limits`, the engine's and the command line's: a value
at most ``MAX_SPEC_CHARS`` characters, the query ``MAX_LINK_CHARS``, at most ``MAX_INSTANCES``
instances and ``MAX_STARTS`` start points, numbers within the experiment's ranges. Decoding never
raises: anything malformed, unknown, out of range or too long is ignored with a warning naming
it, and the rest of the link still applies.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from app import labels, starts, state
from app.palette import PALETTE
from trajectories import Experiment, OptimizerSpec, grammar, limits
from trajectories.errors import FieldError
from trajectories.experiment import check_scalar

VIEWS = ("paths", "inside", "3d", "sweeps", "summary", "lessons", "share")
# What `hide=` may name: the page's parts, then the animator's panels (app/animator.py PANELS)
PAGE_PARTS = ("sidebar", "surface", "optimizers", "starts", "run", "tabs")
ANIMATOR_PANELS = ("heatmap", "loss", "schedule", "inside", "fit", "controls", "legend",
                   "surface3d")  # fmt: skip
HIDEABLE = PAGE_PARTS + ANIMATOR_PANELS
# The link's keys of the experiment's numeric fields.
SCALAR_KEYS = {"n": "steps", "noise": "noise", "seed": "seed", "tol": "tolerance",
               "stride": "stride"}  # fmt: skip


@dataclasses.dataclass
class Scene:
    """What a link describes: the experiment and how it is shown."""

    experiment: Experiment
    view: str = "paths"
    frame: int | None = None
    present: bool = False
    hide: tuple[str, ...] = ()
    lesson: str | None = None
    stage: int = 0


# ---- encoding ---------------------------------------------------------------------------------
def _value(v: Any) -> str:
    """A value as the grammar reads it back (text is free text: its parameter is a text one)."""
    return grammar.format_text(v) if isinstance(v, str) else grammar.format_value(v)


def python_only_refusal(info) -> str:
    return (
        f"a link cannot name {info.name}: it was made in Python (optimizers.from_optax) and "
        "exists only in that process; a link carries no code"
    )


def _optimizer(o: OptimizerSpec, color: str) -> str:
    info = o.info
    if info.python_only:
        raise ValueError(python_only_refusal(info))
    defaults = info.defaults()
    parts = [f"{k}={_value(v)}" for k, v in o.hyperparams.items() if defaults.get(k, None) != v]
    if o.name:
        parts.append(f"name={grammar.format_text(o.name)}")
    if o.color and o.color.lower() != color.lower():
        parts.append(f"color={o.color.lstrip('#')}")
    if not o.enabled:
        parts.append("off")
    return f"{info.name}({','.join(parts)})"


def encode(scene: Scene) -> dict[str, str | list[str]]:
    """Query parameters for a scene (a value per key, or a list for repeated keys)."""
    e, d = scene.experiment, state.DEFAULT
    q: dict[str, str | list[str]] = {}
    if e.surface != d.surface:
        q["s"] = e.surface
    if e.surface_params:
        q["p"] = ",".join(f"{k}={_value(v)}" for k, v in e.surface_params.items())
    default_colors = [PALETTE[i % len(PALETTE)] for i in range(len(e.optimizers))]
    if labels.effective(e)["optimizers"] != labels.effective(d)["optimizers"]:
        q["o"] = [_optimizer(o, default_colors[i]) for i, o in enumerate(e.optimizers)]
    if e.starts != _starts_without_x(e):
        points = [",".join(grammar.format_number(float(c)) for c in p) for p in e.starts]
        q["x"] = points or ["none"]
    for key, field in SCALAR_KEYS.items():
        value = getattr(e, field)
        if value != getattr(d, field):
            q[key] = grammar.format_number(value)
    if scene.view != "paths":
        q["v"] = scene.view
    if scene.frame is not None:
        q["f"] = str(int(scene.frame))
    if scene.present:
        q["present"] = "1"
    if scene.hide:
        q["hide"] = ",".join(scene.hide)
    q.update(_lesson_keys(scene))
    return q


def _starts_without_x(e: Experiment) -> tuple:
    """The starts a link without ``x`` runs: the surface's default (``app/starts.py``), so a
    link leaves ``x`` out exactly when the starts drawn are that default."""
    try:
        return starts.default_starts(e)
    except ValueError:  # a surface that cannot be built: validation says why
        return ()


# ---- lesson links ------------------------------------------------------------------------------
# The keys that describe the scene itself: a lesson link without any opens the stage as written.
SCENE_KEYS = ("s", "p", "o", "x", *SCALAR_KEYS)


def _lesson_keys(scene: Scene) -> dict[str, str]:
    """``lesson`` and ``stage``: stages count from 1 in links, as the page numbers them
    ("stage 2 of 3" is ``stage=2``); ``Scene.stage`` counts from 0, as ``lessons.stages``."""
    if not scene.lesson:
        return {}
    return {"lesson": scene.lesson, **({"stage": str(scene.stage + 1)} if scene.stage else {})}


def _decode_lesson(lesson: str | None, stage: str | None, scene: Scene, warnings: list) -> None:
    if not lesson:
        return
    scene.lesson = lesson[:60]
    if stage is None:
        return
    if re.fullmatch(r"\d{1,2}", stage) and int(stage) >= 1:
        scene.stage = int(stage) - 1
    else:
        warnings.append(f"stage={stage[:20]!r}: stages count from 1; showing stage 1")


def has_scene_keys(query: Mapping[str, Any]) -> bool:
    """Whether a link describes a scene of its own (else a lesson link shows its stage's)."""
    return any(k in query for k in SCENE_KEYS)


def query_string(scene: Scene) -> str:
    from urllib.parse import urlencode

    pairs = []
    for k, v in encode(scene).items():
        for item in v if isinstance(v, list) else [v]:
            pairs.append((k, item))
    return urlencode(pairs, safe=",()=:;~")


# ---- decoding ---------------------------------------------------------------------------------
def _parse_optimizer(text: str, i: int) -> OptimizerSpec:
    entry = grammar.optimizer_entry(text, field=f"optimizers[{i}]")
    enabled = entry.pop("enabled", True)
    # validates the kind, every value (by building it), the name and the colour
    checked = Experiment.from_dict({"optimizers": [entry]}).optimizers[0]
    if checked.info.python_only:  # only in a process that made it; a link never names one
        raise ValueError(python_only_refusal(checked.info))
    return dataclasses.replace(checked, enabled=enabled)


def _first(query: Mapping[str, Any], key: str) -> str | None:
    v = query.get(key)
    if isinstance(v, list | tuple):
        return str(v[-1]) if v else None
    return None if v is None else str(v)


def _all(query: Mapping[str, Any], key: str) -> list[str]:
    v = query.get(key)
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]


KNOWN = {"s", "p", "o", "x", "n", "noise", "seed", "tol", "stride", "v", "f", "present",
         "hide", "lesson", "stage", "embed", "embed_options"}  # fmt: skip


def decode(query: Mapping[str, Any]) -> tuple[Scene, list[str]]:
    """A scene from query parameters, and warnings for everything ignored. Never raises."""
    warnings: list[str] = []
    try:
        return _decode(query, warnings), warnings
    except Exception as err:
        warnings.append(f"the link could not be read ({type(err).__name__}); showing the defaults")
        return Scene(state.DEFAULT), warnings


def _decode(query: Mapping[str, Any], warnings: list[str]) -> Scene:
    d = state.DEFAULT
    total = sum(len(k) + sum(len(v) for v in _all(query, k)) for k in query)
    if total > limits.MAX_LINK_CHARS:
        warnings.append(
            f"the link is {total:,} characters long (at most {limits.MAX_LINK_CHARS:,}): ignored"
        )
        return Scene(d)
    for k in query:
        if k not in KNOWN:
            warnings.append(f"unknown key {str(k)[:30]!r} ignored")

    def value(key):
        v = _first(query, key)
        if v is not None and len(v) > limits.MAX_SPEC_CHARS:
            warnings.append(f"{key}: value too long, ignored")
            return None
        return v

    e = d
    s = value("s")
    if s is not None:
        try:
            e = e.replace(surface=s, surface_params={}, starts=())
            e.build_surface()
        except ValueError as err:
            warnings.append(f"s: {err}; kept {d.surface}")
            e = e.replace(surface=d.surface, starts=d.starts)
    p = value("p")
    if p is not None:
        try:
            raw, _ = grammar.parse_args(p, "p", "surface_params")
        except FieldError as err:
            warnings.append(str(err))
            raw = {}
        for k, text in raw.items():
            try:
                v = grammar.surface_param(e.surface, k, text)
                trial = e.replace(surface_params={**e.surface_params, k: v})
                trial.build_surface()
                e = trial
            except ValueError as err:
                warnings.append(f"p: {err}")
    opts = _all(query, "o")
    if opts:
        specs = []
        for i, text in enumerate(opts[: limits.MAX_INSTANCES]):
            if len(text) > limits.MAX_SPEC_CHARS:
                warnings.append(f"o[{i + 1}]: too long, ignored")
                continue
            try:
                specs.append(_parse_optimizer(text, len(specs)))
            except (ValueError, TypeError) as err:
                warnings.append(f"o[{i + 1}] {grammar.show(text)}: {err}")
        if len(opts) > limits.MAX_INSTANCES:
            warnings.append(f"o: only the first {limits.MAX_INSTANCES} optimizers were kept")
        if specs:
            e = e.replace(optimizers=tuple(specs))
    xs = _all(query, "x")
    if xs:
        dim = e.build_surface().dim
        starts = []
        bound = limits.MAX_COORDINATE
        for text in xs[: limits.MAX_STARTS]:
            if text == "none":
                continue
            try:
                pt = grammar.parse_point(text, "x", f"starts[{len(starts)}]")
                if len(pt) not in (2, dim) or not all(abs(c) <= bound for c in pt):
                    count = "2" if dim == 2 else f"2 or {dim}"
                    raise ValueError(
                        f"x {grammar.show(text, 30)}: needs {count} coordinates, "
                        f"each within +-{bound:g}"
                    )
                starts.append(pt)
            except ValueError as err:
                warnings.append(str(err))
        if len(xs) > limits.MAX_STARTS:
            warnings.append(f"x: only the first {limits.MAX_STARTS} start points were kept")
        e = e.replace(starts=tuple(starts))
    else:
        e = e.replace(starts=_starts_without_x(e))
    for key, field in SCALAR_KEYS.items():
        text = value(key)
        if text is None:
            continue
        try:
            e = e.replace(**{field: check_scalar(field, grammar.parse_value(text, key, field))})
        except ValueError as err:
            warnings.append(f"{key}={text[:30]!r} ignored: {err}")
    try:
        e.validate()
    except ValueError as err:
        warnings.append(f"the scene could not run ({err}); showing the defaults")
        e = d
    scene = Scene(e)
    v = value("v")
    if v is not None:
        if v in VIEWS:
            scene.view = v
        else:
            warnings.append(f"v={v[:20]!r}: unknown view ignored")
    f = value("f")
    if f is not None:
        if re.fullmatch(r"\d{1,6}", f):
            scene.frame = int(f)
        else:
            warnings.append(f"f={f[:20]!r}: not a frame number, ignored")
    scene.present = value("present") in ("1", "true")
    hide = value("hide")
    if hide:
        parts = [h.strip() for h in hide.split(",") if h.strip()]
        scene.hide = tuple(h for h in parts if h in HIDEABLE)
        unknown = [h for h in parts if h not in HIDEABLE]
        if unknown:
            warnings.append(f"hide: unknown {', '.join(repr(u[:20]) for u in unknown[:3])} ignored")
    _decode_lesson(value("lesson"), value("stage"), scene, warnings)
    return scene
