"""The page's state: widget values <-> one :class:`~trajectories.Experiment`.

Every widget has a stable key derived from what it edits (``o3.hp.beta_1`` is instance 3's
beta_1), so reruns, share links and snapshots can set any of them. ``read`` turns the widget
values into an Experiment and collects inline errors by key; ``write`` puts an Experiment into
the widgets (before they are drawn: call it at the top of a run, or from a callback).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import MutableMapping
from typing import Any

import optimizers
import surfaces
from app import labels
from app import starts as _starts
from app.palette import PALETTE
from app.starts import fold_start_edits, set_start_points, start_points
from optimizers import schedules
from trajectories import Experiment, OptimizerSpec
from trajectories.errors import field_of

# The default scene: six optimizers walking Rosenbrock's valley from the classic start.
DEFAULT = Experiment(
    surface="rosenbrock",
    optimizers=(
        OptimizerSpec("SGD", {"learning_rate": 1e-3}),
        OptimizerSpec("Momentum", {"learning_rate": 1e-3}),
        OptimizerSpec("Nesterov", {"learning_rate": 1e-3}),
        OptimizerSpec("RMSprop", {"learning_rate": 1e-2}),
        OptimizerSpec("Adam", {"learning_rate": 0.05}),
        OptimizerSpec("WAME", {"learning_rate": 1e-3, "variant": "paper_sqrt"}),
    ),
    starts=((-1.5, 2.0),),
    steps=500,
)

STEPS_CHOICES = (10, 20, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000, 20000)
# Options offered per instance, in the "advanced" part of its card.
OPTION_KEYS = (
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "gradient_accumulation_steps",
)
SCHEDULES = ("constant", "exponential_decay", "cosine_decay", "polynomial_decay", "warmup")

State = MutableMapping[str, Any]


# ---- keys ------------------------------------------------------------------------------------
def surface_key(surface: str, param: str) -> str:
    return f"sp.{surface}.{param}"


def opt_key(uid: int, field: str) -> str:
    return f"o{uid}.{field}"


def hp_key(uid: int, name: str) -> str:
    return f"o{uid}.hp.{name}"


# Widgets in sections built only while open (the optimizer cards and their "Schedule & options"
# popovers, Run): not the expanders and popovers themselves, not buttons (whose values cannot
# be set).
_KEPT_WIDGET = re.compile(r"o\d+\.(?!open$|more$|dup$|rm$)|(steps|noise|seed)$")


def keep_widget_values(state: State) -> None:
    """Run first: make the values of widgets in closable sections the page's own, so that
    Streamlit keeps them while their section is closed (it drops the value of a widget not
    drawn in a run)."""
    for key in [k for k in state if isinstance(k, str) and _KEPT_WIDGET.match(k)]:
        state[key] = state[key]


def instances(state: State) -> list[int]:
    return list(state.get("instances", []))


def new_uid(state: State) -> int:
    uid = int(state.get("next_uid", 0))
    state["next_uid"] = uid + 1
    return uid


# ---- writing an experiment into the widgets -----------------------------------------------
def write(state: State, e: Experiment) -> None:
    """Set every widget from ``e`` (and forget the instances it does not have)."""
    for key in [k for k in state if isinstance(k, str) and k.startswith("o") and "." in k]:
        del state[key]
    state["surface"] = e.surface
    family = surfaces.FAMILIES[e.surface]
    for p in family.params:
        state[surface_key(e.surface, p.name)] = e.surface_params.get(p.name, p.default)
    state["steps"] = e.steps
    state["noise"] = float(e.noise)
    state["seed"] = int(e.seed)
    state["tolerance"] = float(e.tolerance)
    try:
        follows = e.starts == _starts.default_starts(e)
    except ValueError:
        follows = False
    set_start_points(state, [list(map(float, p[:2])) for p in e.starts], own=not follows)
    uids = []
    for i, spec in enumerate(e.optimizers):
        uid = new_uid(state)
        uids.append(uid)
        write_instance(state, uid, spec, color=labels.color_of(e, i))
    state["instances"] = uids


def write_instance(state: State, uid: int, spec: OptimizerSpec, color: str) -> None:
    info = spec.info
    values = spec.values()
    state[opt_key(uid, "kind")] = info.name
    state[opt_key(uid, "name")] = spec.name
    state[opt_key(uid, "color")] = color
    state[opt_key(uid, "on")] = spec.enabled
    lr = values.get("learning_rate")
    schedule = lr if isinstance(lr, dict) else None
    for h in info.hyperparams:
        value = values.get(h.name, h.default)
        if h.name == "learning_rate" and schedule is not None:
            value = _schedule_base(schedule, h.default)
        state[hp_key(uid, h.name)] = value
    for name in OPTION_KEYS:
        if name in info.defaults():
            continue  # AdamW's weight_decay is a hyperparameter of its own
        default = next(o.default for o in optimizers.OPTIONS if o.name == name)
        state[opt_key(uid, f"opt.{name}")] = values.get(name, default)
    state[opt_key(uid, "sched")] = (schedule or {}).get("schedule", "constant")
    # The schedule as it arrived (from a link, a snapshot, a lesson): fields no widget edits
    # (decay_steps of a cosine, staircase, a warm-up's inner schedule) are kept from it.
    state[opt_key(uid, "sched.raw")] = dict(schedule) if schedule else None
    kind = (schedule or {}).get("schedule")
    for name in SCHEDULE_FIELDS.get(kind, {}):
        # what the schedule says, else the schedule's own default (not the page's)
        value = schedule.get(name, _schedule_default(kind, name))
        if value is not None:
            state[opt_key(uid, f"sched.{name}")] = value


def _schedule_base(schedule: dict, default: float) -> float:
    """The rate the page's learning-rate slider shows for a schedule: its starting rate, or for
    a warm-up the rate it warms up to (its own initial_learning_rate is where it starts from)."""
    if schedule.get("schedule") == "warmup":
        inner = schedule.get("after")
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return float(inner)
        return _schedule_base(inner, default) if isinstance(inner, dict) else default
    for field in ("initial_learning_rate", "learning_rate"):
        if isinstance(schedule.get(field), int | float):
            return float(schedule[field])
    return default


# ---- reading the widgets into an experiment -----------------------------------------------
# The schedule fields the page edits, with their defaults (callables take the run's steps).
SCHEDULE_FIELDS: dict[str, dict[str, Any]] = {
    "exponential_decay": {"decay_steps": lambda steps: max(1, steps // 5), "decay_rate": 0.5},
    "cosine_decay": {"alpha": 0.0},
    "polynomial_decay": {"end_learning_rate": 0.0, "power": 2.0},
    "warmup": {"warmup_steps": lambda steps: max(1, steps // 10)},
}


def _with_rate(after: Any, lr: float) -> Any:
    """A warm-up's inner schedule (or rate) with its base learning rate set to ``lr``."""
    if not isinstance(after, dict):
        return lr
    inner = dict(after)
    field = "learning_rate" if inner.get("schedule") == "constant" else "initial_learning_rate"
    if inner.get("schedule") == "warmup":
        inner["after"] = _with_rate(inner.get("after"), lr)
    else:
        inner[field] = lr
    return inner


def schedule_config(state: State, uid: int, lr: float, steps: int) -> float | dict:
    """The learning rate of an instance: a float, or its schedule: the one it arrived with,
    with the base rate and the page-edited fields taken from the widgets."""
    kind = state.get(opt_key(uid, "sched"), "constant")
    if kind not in SCHEDULE_FIELDS:
        return lr
    raw = state.get(opt_key(uid, "sched.raw"))
    config = dict(raw) if isinstance(raw, dict) and raw.get("schedule") == kind else {}
    config["schedule"] = kind
    if kind == "warmup":
        config["after"] = _with_rate(config.get("after"), lr)
    else:
        config["initial_learning_rate"] = lr
        config.setdefault("decay_steps", max(1, steps))
    for name, default in SCHEDULE_FIELDS[kind].items():
        key = opt_key(uid, f"sched.{name}")
        if key in state:
            value = state[key]
            if name in config and config[name] == value:
                continue  # unchanged: keep the form it arrived in (5, not 5.0)
            if name not in config and value == _schedule_default(kind, name):
                continue  # the schedule's default: leave it implicit
            config[name] = value
        elif name not in config and _schedule_default(kind, name) is None:
            config[name] = default(steps) if callable(default) else default  # required
    return config


def _schedule_default(kind: str, name: str) -> Any:
    """A schedule field's own default (None for a required field)."""
    for f in dataclasses.fields(schedules.KINDS[kind]):
        if f.name == name:
            return None if f.default is dataclasses.MISSING else f.default
    return None


def read_instance(state: State, uid: int, steps: int) -> OptimizerSpec:
    kind = state[opt_key(uid, "kind")]
    info = optimizers.get(kind)
    values: dict[str, Any] = {}
    for h in info.hyperparams:
        key = hp_key(uid, h.name)
        if key in state and state[key] != h.default:
            values[h.name] = state[key]
    lr = state.get(hp_key(uid, "learning_rate"), info.hparam("learning_rate").default)
    sched = schedule_config(state, uid, lr, steps)
    if isinstance(sched, dict):
        values["learning_rate"] = sched
    for name in OPTION_KEYS:
        if name in info.defaults():
            continue
        value = state.get(opt_key(uid, f"opt.{name}"))
        default = next(o.default for o in optimizers.OPTIONS if o.name == name)
        if value is not None and value != default and value is not False:
            values[name] = value
    if values.get("ema_momentum") is not None and not values.get("use_ema"):
        values.pop("ema_momentum")
    return OptimizerSpec(
        kind=info.name,
        hyperparams=values,
        name=str(state.get(opt_key(uid, "name"), "") or ""),
        color=str(state.get(opt_key(uid, "color"), "") or ""),
        enabled=bool(state.get(opt_key(uid, "on"), True)),
    )


@dataclasses.dataclass
class Reading:
    """What the widgets describe: an experiment, or the errors that keep it from running."""

    experiment: Experiment | None
    errors: dict[str, str]  # widget key (or area) -> message


def read(state: State) -> Reading:
    errors: dict[str, str] = {}
    surface = state.get("surface", DEFAULT.surface)
    family = surfaces.FAMILIES.get(surface)
    if family is None:
        return Reading(None, {"surface": f"unknown surface {surface!r}"})
    params = _surface_params(state, surface)
    steps = int(state.get("steps", DEFAULT.steps))
    specs = []
    for uid in instances(state):
        try:
            spec = read_instance(state, uid, steps)
            spec.build()
        except ValueError as err:
            errors[opt_key(uid, "card")] = str(err)
            continue
        specs.append(spec)
    points = start_points(state)
    starts = tuple(tuple(map(float, p)) for p in points if len(p) == 2)
    e = Experiment(
        surface=surface,
        surface_params=params,
        optimizers=tuple(specs),
        starts=starts if not _starts.follows_surface(state) else _following(surface, params),
        steps=steps,
        noise=float(state.get("noise", 0.0)),
        seed=int(state.get("seed", 0)),
        tolerance=float(state.get("tolerance", DEFAULT.tolerance)),
    )
    try:
        e.validate()
    except ValueError as err:
        errors[error_area(field_of(err), surface)] = str(err)
        return Reading(None, errors)
    # An instance with a bad setting shows its error on its card; the others still run.
    return Reading(e, errors)


# Where the page shows an experiment's error, by the field it concerns (the root of its path):
# next to the section that edits that field; the rest (steps, noise, the work) under Run.
_AREAS = {"surface": "surface", "surface_params": "surface", "optimizers": "optimizers",
          "starts": "starts"}  # fmt: skip


def error_area(field: str, surface: str) -> str:
    """The key of the place that shows an error about ``field`` (a FieldError's path). The
    formula draws its own error under its text box: its area is its widget's key."""
    if field == "surface_params.formula":
        return surface_key(surface, "formula")
    return _AREAS.get(re.split(r"[.\[]", field, maxsplit=1)[0], "run")


# ---- start points that follow the surface ------------------------------------------------------
def _following(surface: str, params: dict) -> tuple:
    """The starts of points nobody set: the surface's default (none if it cannot be built:
    validate then says why)."""
    try:
        return _starts.default_starts(Experiment(surface=surface, surface_params=params))
    except ValueError:
        return ()


def _surface_params(state: State, surface: str) -> dict:
    family = surfaces.FAMILIES[surface]
    return {
        p.name: state[surface_key(surface, p.name)]
        for p in family.params
        if surface_key(surface, p.name) in state
        and state[surface_key(surface, p.name)] != p.default
    }


def follow_surface(state: State) -> None:
    """Before the start-point table is drawn: points nobody set show the surface's default
    (a parameter may have moved it)."""
    surface = state.get("surface", DEFAULT.surface)
    if not _starts.follows_surface(state) or surface not in surfaces.FAMILIES:
        return
    points = [list(p) for p in _following(surface, _surface_params(state, surface))]
    if state.get("start_points") != points:
        set_start_points(state, points, own=False)


def switch_surface(state: State, previous: str) -> None:
    """The surface selectbox changed (a callback: before the widgets are drawn). Points nobody
    set follow the new surface; the user's stay where the new window holds them, else move to
    its first default start, with a note."""
    surface = state.get("surface")
    if surface == previous or surface not in surfaces.FAMILIES:
        return
    fold_start_edits(state)
    state.pop(_starts.NOTE, None)
    if _starts.follows_surface(state):
        follow_surface(state)
        return
    try:
        built = _starts.surface_of(
            Experiment(surface=surface, surface_params=_surface_params(state, surface))
        )
    except ValueError:
        return  # the surface's error shows under its controls; the points stay as they are
    points, note = _starts.kept_on(built, [list(p) for p in start_points(state)])
    if note is None:
        return
    set_start_points(state, points, own=True)
    state[_starts.NOTE] = {"surface": surface, "points": points, "text": note}


def color_for(state: State) -> str:
    used = {state.get(opt_key(u, "color")) for u in instances(state)}
    return next((c for c in PALETTE if c not in used), PALETTE[len(used) % len(PALETTE)])
