"""Share links: the whole scene in the URL's query, readable, only what differs from defaults.

Example::

    ?s=rosenbrock&p=b=10&o=Adam(learning_rate=0.05)&o=SGD(learning_rate=0.001,momentum=0.9)
     &x=-1.5,2&n=500&noise=0.1&seed=3&v=paths&f=120

Keys (each optional; a missing key means its default):

========  ========================================================================
``s``     surface name                         ``p``  surface parameters ``k=v,...``
``o``     one optimizer instance, repeatable: ``Kind(k=v,...)``; ``k`` is a
          hyperparameter or option, or ``name``, ``color`` (hex without ``#``),
          ``off``; a schedule is ``learning_rate=cosine_decay(initial_learning_rate=0.05,
          decay_steps=500)``. No ``o`` at all: the default six optimizers.
``x``     a start point ``x,y`` (or every weight), repeatable
``n``     steps      ``noise``  gradient noise    ``seed``  seed    ``tol``  target tolerance
``v``     the open view     ``f``  the current frame     ``present``  presentation mode (1)
``hide``  what to hide, comma-separated (presentation)   ``lesson``, ``stage``  a lesson
========  ========================================================================

Numbers are written with Python's shortest round-trip ``repr``, so a link reproduces the same
trajectories bit for bit. Decoding never raises: anything malformed, unknown, out of range or
too long is ignored with a warning naming it, and the rest of the link still applies.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from app import labels, state
from app.palette import PALETTE
from trajectories import Experiment, OptimizerSpec

VIEWS = ("paths", "inside", "3d", "sweeps", "summary", "lessons", "share")
HIDEABLE = ("sidebar", "surface", "optimizers", "starts", "run", "tabs", "heatmap", "loss",
            "inside", "fit", "controls", "legend")  # fmt: skip
MAX_VALUE = 2000  # characters of one query value
MAX_TOTAL = 8000  # characters of the whole query
MAX_OPTIMIZERS = 16
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _value(v: Any) -> str:
    if isinstance(v, Mapping):  # a schedule
        kind = v.get("schedule")
        args = ",".join(f"{k}={_value(x)}" for k, x in v.items() if k != "schedule")
        return f"{kind}({args})"
    return _num(v)


def _optimizer(o: OptimizerSpec, color: str) -> str:
    info = o.info
    defaults = info.defaults()
    parts = [f"{k}={_value(v)}" for k, v in o.hyperparams.items() if defaults.get(k, None) != v]
    if o.name:
        parts.append(f"name={o.name}")
    if o.color and o.color.lower() != color.lower():
        parts.append(f"color={o.color.lstrip('#')}")
    if not o.enabled:
        parts.append("off")
    return f"{info.name}({','.join(parts)})"


def _effective(e: Experiment) -> list[tuple]:
    """What the optimizers run as: every value resolved, colours resolved (the form differs
    between the widgets, links and code; the runs do not)."""
    return [
        (
            o.kind,
            sorted(o.values().items(), key=str),
            o.name,
            labels.color_of(e, i).lower(),
            o.enabled,
        )
        for i, o in enumerate(e.optimizers)
    ]


def encode(scene: Scene) -> dict[str, str | list[str]]:
    """Query parameters for a scene (a value per key, or a list for repeated keys)."""
    e, d = scene.experiment, state.DEFAULT
    q: dict[str, str | list[str]] = {}
    if e.surface != d.surface:
        q["s"] = e.surface
    if e.surface_params:
        q["p"] = ",".join(f"{k}={_value(v)}" for k, v in e.surface_params.items())
    default_colors = [PALETTE[i % len(PALETTE)] for i in range(len(e.optimizers))]
    if _effective(e) != _effective(d):
        q["o"] = [_optimizer(o, default_colors[i]) for i, o in enumerate(e.optimizers)]
    if e.starts != d.starts:
        q["x"] = [",".join(_num(float(c)) for c in p) for p in e.starts] or ["none"]
    for key, value, default in (
        ("n", e.steps, d.steps),
        ("noise", e.noise, d.noise),
        ("seed", e.seed, d.seed),
        ("tol", e.tolerance, d.tolerance),
    ):
        if value != default:
            q[key] = _num(value)
    if e.stride:
        q["stride"] = _num(e.stride)
    if scene.view != "paths":
        q["v"] = scene.view
    if scene.frame is not None:
        q["f"] = str(int(scene.frame))
    if scene.present:
        q["present"] = "1"
    if scene.hide:
        q["hide"] = ",".join(scene.hide)
    if scene.lesson:
        q["lesson"] = scene.lesson
        if scene.stage:
            q["stage"] = str(scene.stage)
    return q


def query_string(scene: Scene) -> str:
    from urllib.parse import urlencode

    pairs = []
    for k, v in encode(scene).items():
        for item in v if isinstance(v, list) else [v]:
            pairs.append((k, item))
    return urlencode(pairs, safe=",()=:;~")


# ---- decoding ---------------------------------------------------------------------------------
def _split(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')'")
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise ValueError("unbalanced '('")
    out.append("".join(cur))
    return [p for p in out if p != ""]


def _scalar(text: str) -> Any:
    t = text.strip()
    if t in ("true", "false"):
        return t == "true"
    if t in ("none", "null"):
        return None
    if re.fullmatch(r"[-+]?\d{1,18}", t):
        return int(t)
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?", t):
        v = float(t)
        if not math.isfinite(v):
            raise ValueError(f"{t[:30]!r} is not a finite number")
        return v
    if t.lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        raise ValueError(f"{t[:30]!r} is not a finite number")
    return t


def _call(text: str) -> tuple[str, list[str]]:
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*", text, re.S)
    if not m:
        raise ValueError(f"expected NAME(...), got {text[:40]!r}")
    return m.group(1), _split(m.group(2))


def _parse_value(text: str, depth: int = 0) -> Any:
    if depth > 4:
        raise ValueError("nested too deeply")
    if "(" in text:
        kind, args = _call(text)
        out: dict[str, Any] = {"schedule": kind}
        for arg in args:
            k, _, v = arg.partition("=")
            if not _NAME.match(k.strip()) or not _:
                raise ValueError(f"bad schedule argument {arg[:40]!r}")
            out[k.strip()] = _parse_value(v, depth + 1)
        return out
    return _scalar(text)


def _parse_optimizer(text: str) -> OptimizerSpec:
    kind, args = _call(text)
    hyper: dict[str, Any] = {}
    name, color, enabled = "", "", True
    for arg in args:
        if arg.strip() == "off":
            enabled = False
            continue
        k, eq, v = arg.partition("=")
        k = k.strip()
        if not eq or not _NAME.match(k):
            raise ValueError(f"bad argument {arg[:40]!r}")
        if k == "name":
            name = v[:60]
        elif k == "color":
            color = "#" + v.strip().lstrip("#")
        else:
            hyper[k] = _parse_value(v)
    spec = OptimizerSpec(kind, hyper, name=name, color=color)
    # validates the kind, every value (by building it), the name and the colour
    checked = Experiment.from_dict({"optimizers": [_spec_dict(spec)]}).optimizers[0]
    return dataclasses.replace(checked, enabled=enabled)


def _spec_dict(o: OptimizerSpec) -> dict:
    return {"kind": o.kind, "hyperparams": dict(o.hyperparams), "name": o.name,
            "color": o.color, "enabled": o.enabled}  # fmt: skip


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
    if total > MAX_TOTAL:
        warnings.append(f"the link is {total:,} characters long (at most {MAX_TOTAL:,}): ignored")
        return Scene(d)
    for k in query:
        if k not in KNOWN:
            warnings.append(f"unknown key {str(k)[:30]!r} ignored")

    def value(key):
        v = _first(query, key)
        if v is not None and len(v) > MAX_VALUE:
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
        params = {}
        try:
            for item in _split(p):
                k, eq, v = item.partition("=")
                if not eq:
                    raise ValueError(f"expected k=v, got {item[:30]!r}")
                params[k.strip()] = _parse_value(v) if k.strip() != "formula" else v
        except ValueError as err:
            warnings.append(f"p: {err}")
        for k, v in params.items():
            try:
                trial = e.replace(surface_params={**e.surface_params, k: v})
                trial.build_surface()
                e = trial
            except ValueError as err:
                warnings.append(f"p: {err}")
    opts = _all(query, "o")
    if opts:
        specs = []
        for i, text in enumerate(opts[:MAX_OPTIMIZERS]):
            if len(text) > MAX_VALUE:
                warnings.append(f"o[{i + 1}]: too long, ignored")
                continue
            try:
                specs.append(_parse_optimizer(text))
            except (ValueError, TypeError) as err:
                warnings.append(f"o[{i + 1}] {text[:40]!r}: {err}")
        if len(opts) > MAX_OPTIMIZERS:
            warnings.append(f"o: only the first {MAX_OPTIMIZERS} optimizers were kept")
        if specs:
            e = e.replace(optimizers=tuple(specs))
    xs = _all(query, "x")
    if xs:
        dim = e.build_surface().dim
        starts = []
        for text in xs[:16]:
            if text == "none":
                continue
            try:
                pt = tuple(float(_scalar(c)) for c in text.split(","))
                if len(pt) not in (2, dim) or not all(
                    math.isfinite(c) and abs(c) <= 1e6 for c in pt
                ):
                    raise ValueError("needs 2 finite coordinates")
                starts.append(pt)
            except (ValueError, TypeError) as err:
                warnings.append(f"x {text[:30]!r}: {err}")
        e = e.replace(starts=tuple(starts))
    for key, field, kind, low, high in (("n", "steps", int, 1, 20_000),
                                        ("noise", "noise", float, 0.0, 1e3),
                                        ("seed", "seed", int, 0, 2**31 - 1),
                                        ("tol", "tolerance", float, 0.0, 1e12),
                                        ("stride", "stride", int, 0, 20_000)):  # fmt: skip
        text = value(key)
        if text is None:
            continue
        try:
            v = _scalar(text)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError("not a number")
            if kind is int and not float(v).is_integer():
                raise ValueError("not a whole number")
            if not low <= v <= high:
                raise ValueError(f"out of range [{low}, {high}]")
            e = e.replace(**{field: kind(v)})
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
    lesson = value("lesson")
    if lesson:
        scene.lesson = lesson[:60]
        stage = value("stage")
        if stage and re.fullmatch(r"\d{1,2}", stage):
            scene.stage = int(stage)
    return scene
