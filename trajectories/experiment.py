"""The one serializable description of an experiment, from widgets to engine to URL and snapshot.

An :class:`Experiment` names a surface and its parameters, optimizer instances (each with
hyperparameters that override the registry defaults, and the labels a person gave it: a name,
a colour, on or off), start points, the number of steps, gradient noise, the seed and the
recording stride. It is plain data: ``to_dict``/``from_dict`` round-trip through JSON (links and
snapshots carry the labels too), and ``from_dict`` validates everything, raising a
:class:`~trajectories.errors.FieldError` (a ``ValueError``) whose message names the offending
field and whose ``field`` is its path (``optimizers[1].beta_1``). :func:`effective` is the
normal form two descriptions of the same run share.

The engine never reads the labels: it computes a :class:`Computation`
(:meth:`Experiment.computation`), the enabled instances with every hyperparameter filled in and
no name or colour, hashable by its canonical JSON. Two experiments that differ only in names or
colours (or in instances switched off) have equal computations and share one cached run; the
app attaches names and colours (``app/labels.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

import optimizers
import surfaces
from optimizers import schedules
from surfaces.params import resolve
from trajectories import limits
from trajectories.errors import FieldError

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DTYPES = ("float32", "float64")


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer instance: a registry kind with some hyperparameters changed.

    ``kind`` and ``hyperparams`` are what the engine computes from; ``name``, ``color`` (""
    for the app's defaults) and ``enabled`` are the instance's labels, which only say what is
    shown (a disabled instance is not computed).
    """

    kind: str
    hyperparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    name: str = ""
    color: str = ""
    enabled: bool = True

    @property
    def info(self) -> optimizers.OptimizerInfo:
        return optimizers.get(self.kind)

    def values(self) -> dict[str, Any]:
        """Every hyperparameter: registry defaults overridden by this instance's values."""
        return {**self.info.defaults(), **self.hyperparams}

    def build(self, **traced: Any) -> optimizers.Optimizer:
        """The optimizer, with some values replaced (traced ones, inside the engine)."""
        values = self.values()
        lr = values.get("learning_rate")
        if isinstance(lr, Mapping):
            values["learning_rate"] = schedules.from_config(lr)
        return self.info.make(**{**values, **traced})


@dataclasses.dataclass(frozen=True)
class Experiment:
    surface: str = "rosenbrock"
    surface_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    optimizers: tuple[OptimizerSpec, ...] = ()
    starts: tuple[tuple[float, ...], ...] = ()  # weights, or 2-D view points; () = default
    steps: int = 500
    noise: float = 0.0  # standard deviation of additive Gaussian gradient noise
    seed: int = 0
    stride: int = 0  # record every k-th step; 0 = automatic (within the memory budget)
    tolerance: float = 1e-3  # "steps to reach f* + tolerance"
    dtype: str = "float32"

    # -- derived -----------------------------------------------------------------------------
    def build_surface(self) -> surfaces.Surface:
        s = surfaces.get(self.surface, **self.surface_params)
        return surfaces.with_gradient_noise(s, self.noise) if self.noise > 0 else s

    def active(self) -> list[tuple[int, OptimizerSpec]]:
        """The enabled instances with their index in ``optimizers``."""
        return [(i, o) for i, o in enumerate(self.optimizers) if o.enabled]

    def start_points(self, surface: surfaces.Surface) -> np.ndarray:
        """Start points as weights ``(n, dim)``; 2-D points on a high-dim surface are lifted."""
        if not self.starts:
            return np.asarray(surface.starts[:1], np.float64)
        pts = []
        for p in self.starts:
            p = np.asarray(p, np.float64)
            pts.append(surface.lift(p) if p.shape == (2,) and surface.dim != 2 else p)
        return np.stack(pts)

    def replace(self, **changes: Any) -> Experiment:
        return dataclasses.replace(self, **changes)

    def computation(self) -> Computation:
        """What the numbers depend on (see :class:`Computation`); made once per experiment."""
        return self._computation

    @functools.cached_property
    def _computation(self) -> Computation:
        # a frozen dataclass without slots: cached_property stores in __dict__, no setattr
        engine = dataclasses.replace(
            self,
            optimizers=tuple(
                OptimizerSpec(o.kind, dict(sorted(o.values().items()))) for _, o in self.active()
            ),
        )
        return Computation(engine, engine.to_json())

    # Hashable, so that it can key a cache (the generated hash would fail on the dict fields):
    # from fields whose equality the generated __eq__ implies (it holds 0 == 0.0, which the
    # canonical JSON does not).
    def __hash__(self) -> int:
        kinds = tuple(o.kind for o in self.optimizers)
        return hash((self.surface, kinds, self.steps, self.seed, self.noise, self.dtype))

    # -- serialization -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "surface": self.surface,
            "surface_params": dict(self.surface_params),
            "optimizers": [
                {
                    "kind": o.kind,
                    "hyperparams": dict(o.hyperparams),
                    "name": o.name,
                    "color": o.color,
                    "enabled": o.enabled,
                }
                for o in self.optimizers
            ],
            "starts": [list(p) for p in self.starts],
            "steps": self.steps,
            "noise": self.noise,
            "seed": self.seed,
            "stride": self.stride,
            "tolerance": self.tolerance,
            "dtype": self.dtype,
        }

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): equal experiments give equal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any) -> Experiment:
        """Parse and validate; every problem is a ``ValueError`` naming the field."""
        e = _parse(data)
        e.validate()
        return e

    @classmethod
    def from_json(cls, text: str) -> Experiment:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as err:
            raise FieldError("experiment", f"experiment: not valid JSON ({err})") from None
        return cls.from_dict(data)

    # -- validation --------------------------------------------------------------------------
    def validate(self) -> surfaces.Surface:
        """Check everything (surface, optimizers, starts, limits); return the built surface."""
        try:
            surface = self.build_surface()
        except ValueError as err:
            message = str(err)
            raise FieldError(
                _surface_field(self),
                message if message.startswith("surface") else f"surface: {message}",
            ) from None
        for i, o in enumerate(self.optimizers):
            try:
                o.build()
            except ValueError as err:
                raise FieldError(
                    _optimizer_field(i, o), f"optimizers[{i}] ({o.name or o.kind}): {err}"
                ) from None
        if not self.active():
            raise FieldError("optimizers", "optimizers: choose at least one enabled optimizer")
        for j, p in enumerate(self.starts):
            if len(p) not in (2, surface.dim):
                raise FieldError(
                    f"starts[{j}]",
                    f"starts[{j}]: {len(p)} coordinates; {self.surface} needs {surface.dim}"
                    + (" (or 2 for a point of its 2-D view)" if surface.dim != 2 else ""),
                )
        n_starts = max(1, len(self.starts))
        limits.check("steps", self.steps, limits.MAX_STEPS, "ask for fewer steps")
        limits.check(
            "optimizers",
            len(self.active()),
            limits.MAX_INSTANCES,
            "disable or remove some instances",
        )
        limits.check(
            "start points", n_starts, limits.MAX_STARTS, "remove some start points", "starts"
        )
        work = self.steps * n_starts * len(self.active()) * surface.dim
        limits.check(
            "work (steps x starts x optimizers x weights)",
            work,
            limits.MAX_WORK,
            "fewer steps, start points or optimizers",
            "experiment",
        )
        if self.dtype == "float64":
            import jax

            if not jax.config.jax_enable_x64:
                raise FieldError("dtype", "dtype: float64 needs JAX's x64 mode (JAX_ENABLE_X64=1)")
        return surface


@dataclasses.dataclass(frozen=True, eq=False)
class Computation:
    """The canonical form of what a run computes: the key of every engine cache.

    ``experiment`` holds the enabled instances only, each with all its hyperparameters (the
    registry's defaults filled in) and no labels; ``key`` is its canonical JSON, so equal
    computations are equal and hash alike whatever the description they came from. Made by
    :meth:`Experiment.computation` from an experiment; :meth:`from_key` rebuilds one (and
    validates it) from a key.
    """

    experiment: Experiment
    key: str

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Computation) and self.key == other.key

    @classmethod
    def from_key(cls, key: str) -> Computation:
        return Experiment.from_json(key).computation()


# ---- parsing ---------------------------------------------------------------------------------
_FIELDS = {f.name for f in dataclasses.fields(Experiment)}
_OPT_FIELDS = {f.name for f in dataclasses.fields(OptimizerSpec)}

# The numeric fields of an experiment: (whole number?, lowest, highest), from trajectories.limits.
SCALARS: dict[str, tuple[bool, float, float]] = {
    "steps": (True, 1, limits.MAX_STEPS),
    "noise": (False, 0.0, limits.MAX_NOISE),
    "seed": (True, 0, limits.MAX_SEED),
    "stride": (True, 0, limits.MAX_STEPS),
    "tolerance": (False, 0.0, limits.MAX_TOLERANCE),
}


def _show(value: Any) -> str:
    """A value as messages quote it: never more than a line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(path: str, value: Any, *, integer: bool = False, low=None, high=None) -> Any:
    kind = "an integer" if integer else "a finite number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(path, f"{path}: {_show(value)} is not {kind}")
    # floats only: a huge int compares exactly but would overflow float()
    if isinstance(value, float) and (
        not math.isfinite(value) or (integer and not value.is_integer())
    ):
        raise FieldError(path, f"{path}: {_show(value)} is not {kind}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise FieldError(path, f"{path}: {_show(value)} is out of range [{low}, {high}]")
    return int(value) if integer else float(value)


def check_scalar(field: str, value: Any) -> int | float:
    """One numeric field (``steps``, ``noise``, ``seed``, ``stride``, ``tolerance``) checked
    against its range; a ``FieldError`` otherwise. Links check their values with it."""
    integer, low, high = SCALARS[field]
    return _number(field, value, integer=integer, low=low, high=high)


def _mapping(path: str, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise FieldError(path, f"{path}: expected an object, got {type(value).__name__}")
    return dict(value)


def _unknown(path: str, got: Mapping, allowed: set[str]) -> None:
    extra = sorted(set(got) - allowed, key=str)
    if extra:
        known = ", ".join(sorted(allowed))
        field = str(extra[0]) if path == "experiment" else f"{path}.{extra[0]}"
        raise FieldError(field, f"{path}: unknown field {extra[0]!r} (known: {known})")


def _surface_field(e: Experiment) -> str:
    """The field a surface that cannot be built concerns: the one parameter that fails on its
    own (a formula), else the surface."""
    if e.surface not in surfaces.FAMILIES:
        return "surface"
    for key, value in e.surface_params.items():
        try:
            surfaces.get(e.surface, **{key: value})
        except ValueError:
            return f"surface_params.{key}"
    return "surface"


def _optimizer_field(i: int, spec: OptimizerSpec) -> str:
    """The field an instance that cannot be built concerns: the one value that fails on its
    own, else the instance (a rule between two values, such as WAME's zeta_min <= zeta_max)."""
    try:
        optimizers.get(spec.kind)
    except ValueError:
        return f"optimizers[{i}].kind"
    for key, value in spec.hyperparams.items():
        try:
            OptimizerSpec(spec.kind, {key: value}).build()
        except (ValueError, TypeError):
            return f"optimizers[{i}].{key}"
    return f"optimizers[{i}]"


def _parse_optimizer(i: int, data: Any) -> OptimizerSpec:
    path = f"optimizers[{i}]"
    d = _mapping(path, data)
    _unknown(path, d, _OPT_FIELDS)
    kind = d.get("kind")
    try:
        optimizers.get(kind)
    except ValueError as err:
        raise FieldError(f"{path}.kind", f"{path}.kind: {err}") from None
    hyperparams = _mapping(f"{path}.hyperparams", d.get("hyperparams", {}))
    for k, v in hyperparams.items():
        if not isinstance(k, str) or not (v is None or isinstance(v, int | float | str | Mapping)):
            raise FieldError(f"{path}.{k}", f"{path}.hyperparams.{k}: unsupported value {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise FieldError(f"{path}.{k}", f"{path}.hyperparams.{k}: {v!r} is not finite")
    name, color, enabled = d.get("name", ""), d.get("color", ""), d.get("enabled", True)
    if not isinstance(name, str) or len(name) > limits.MAX_NAME_CHARS:
        most = limits.MAX_NAME_CHARS
        raise FieldError(f"{path}.name", f"{path}.name: must be text of at most {most} characters")
    if not isinstance(color, str) or (color and not _COLOR.match(color)):
        raise FieldError(f"{path}.color", f"{path}.color: {color!r} is not a colour like #1f77b4")
    if not isinstance(enabled, bool):
        raise FieldError(f"{path}.enabled", f"{path}.enabled: must be true or false")
    return OptimizerSpec(
        kind=optimizers.get(kind).name,
        hyperparams=hyperparams,
        name=name,
        color=color,
        enabled=enabled,
    )


def _parse(data: Any) -> Experiment:
    d = _mapping("experiment", data)
    _unknown("experiment", d, _FIELDS)
    out: dict[str, Any] = {}
    if "surface" in d:
        if not isinstance(d["surface"], str):
            raise FieldError("surface", f"surface: {d['surface']!r} is not a surface name")
        out["surface"] = d["surface"]
    if "surface_params" in d:
        out["surface_params"] = _mapping("surface_params", d["surface_params"])
    if "optimizers" in d:
        opts = d["optimizers"]
        if not isinstance(opts, list | tuple):
            raise FieldError("optimizers", "optimizers: expected a list")
        limits.check("optimizers", len(opts), limits.MAX_LISTED_INSTANCES, "remove some instances")
        out["optimizers"] = tuple(_parse_optimizer(i, o) for i, o in enumerate(opts))
    if "starts" in d:
        starts = d["starts"]
        if not isinstance(starts, list | tuple):
            raise FieldError("starts", "starts: expected a list of points")
        limits.check(
            "start points", len(starts), limits.MAX_STARTS, "remove some start points", "starts"
        )
        pts = []
        bound = limits.MAX_COORDINATE
        for j, p in enumerate(starts):
            if not isinstance(p, list | tuple) or not 1 <= len(p) <= limits.MAX_WEIGHTS:
                raise FieldError(f"starts[{j}]", f"starts[{j}]: expected a list of coordinates")
            pts.append(tuple(_number(f"starts[{j}]", v, low=-bound, high=bound) for v in p))
        out["starts"] = tuple(pts)
    for field in SCALARS:
        if field in d:
            out[field] = check_scalar(field, d[field])
    if "dtype" in d:
        if d["dtype"] not in DTYPES:
            raise FieldError("dtype", f"dtype: {d['dtype']!r} must be one of {', '.join(DTYPES)}")
        out["dtype"] = d["dtype"]
    return Experiment(**out)


# ---- the normal form ---------------------------------------------------------------------------
def effective(e: Experiment) -> dict[str, Any]:
    """What a run of ``e`` depends on, as plain data: ``e.to_dict()`` with every surface
    parameter and hyperparameter filled in from its default and every name resolved.

    The widgets, links and code describe one run in several ways (a value equal to its default
    written or left out); those descriptions have equal ``effective`` forms. Colours stay as
    given ("" for the default): the engine has no palette, and ``app/labels.py``'s
    ``effective`` resolves them for links and lessons."""
    d = e.to_dict()
    family = surfaces.FAMILIES[e.surface]
    d["surface_params"] = resolve(e.surface, family.params, e.surface_params)
    for i, o in enumerate(d["optimizers"]):
        spec = e.optimizers[i]
        o.update(hyperparams=spec.values(), name=spec.name or spec.kind, color=spec.color.lower())
    return d
