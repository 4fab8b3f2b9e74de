"""The one serializable description of an experiment, from widgets to engine to URL and snapshot.

An :class:`Experiment` names a surface and its parameters, optimizer instances (each with
hyperparameters that override the registry defaults, and the labels a person gave it: a name,
a colour, on or off), start points, the number of steps, gradient noise, the seed and the
recording stride. It is plain data: ``to_dict``/``from_dict`` round-trip through JSON (links and
snapshots carry the labels too), and ``from_dict`` validates everything, raising ``ValueError``
with the path of the offending field (``optimizers[1].beta_1: ...``).

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
from trajectories import limits

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
            raise ValueError(f"experiment: not valid JSON ({err})") from None
        return cls.from_dict(data)

    # -- validation --------------------------------------------------------------------------
    def validate(self) -> surfaces.Surface:
        """Check everything (surface, optimizers, starts, limits); return the built surface."""
        try:
            surface = self.build_surface()
        except ValueError as err:
            message = str(err)
            raise ValueError(
                message if message.startswith("surface") else f"surface: {message}"
            ) from None
        for i, o in enumerate(self.optimizers):
            try:
                o.build()
            except ValueError as err:
                raise ValueError(f"optimizers[{i}] ({o.name or o.kind}): {err}") from None
        if not self.active():
            raise ValueError("optimizers: choose at least one enabled optimizer")
        for j, p in enumerate(self.starts):
            if len(p) not in (2, surface.dim):
                raise ValueError(
                    f"starts[{j}]: {len(p)} coordinates; {self.surface} needs {surface.dim}"
                    + (" (or 2 for a point of its 2-D view)" if surface.dim != 2 else "")
                )
        n_starts = max(1, len(self.starts))
        limits.check("steps", self.steps, limits.MAX_STEPS, "ask for fewer steps")
        limits.check(
            "optimizers",
            len(self.active()),
            limits.MAX_INSTANCES,
            "disable or remove some instances",
        )
        limits.check("start points", n_starts, limits.MAX_STARTS, "remove some start points")
        work = self.steps * n_starts * len(self.active()) * surface.dim
        limits.check(
            "work (steps x starts x optimizers x weights)",
            work,
            limits.MAX_WORK,
            "fewer steps, start points or optimizers",
        )
        if self.dtype == "float64":
            import jax

            if not jax.config.jax_enable_x64:
                raise ValueError("dtype: float64 needs JAX's x64 mode (JAX_ENABLE_X64=1)")
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


def _show(value: Any) -> str:
    """A value as messages quote it: never more than a line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(path: str, value: Any, *, integer: bool = False, low=None, high=None) -> Any:
    kind = "an integer" if integer else "a finite number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: {_show(value)} is not {kind}")
    # floats only: a huge int compares exactly but would overflow float()
    if isinstance(value, float) and (
        not math.isfinite(value) or (integer and not value.is_integer())
    ):
        raise ValueError(f"{path}: {_show(value)} is not {kind}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{path}: {_show(value)} is out of range [{low}, {high}]")
    return int(value) if integer else float(value)


def _mapping(path: str, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected an object, got {type(value).__name__}")
    return dict(value)


def _unknown(path: str, got: Mapping, allowed: set[str]) -> None:
    extra = sorted(set(got) - allowed, key=str)
    if extra:
        known = ", ".join(sorted(allowed))
        raise ValueError(f"{path}: unknown field {extra[0]!r} (known: {known})")


def _parse_optimizer(i: int, data: Any) -> OptimizerSpec:
    path = f"optimizers[{i}]"
    d = _mapping(path, data)
    _unknown(path, d, _OPT_FIELDS)
    kind = d.get("kind")
    try:
        optimizers.get(kind)
    except ValueError as err:
        raise ValueError(f"{path}.kind: {err}") from None
    hyperparams = _mapping(f"{path}.hyperparams", d.get("hyperparams", {}))
    for k, v in hyperparams.items():
        if not isinstance(k, str) or not (v is None or isinstance(v, int | float | str | Mapping)):
            raise ValueError(f"{path}.hyperparams.{k}: unsupported value {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{path}.hyperparams.{k}: {v!r} is not finite")
    name, color, enabled = d.get("name", ""), d.get("color", ""), d.get("enabled", True)
    if not isinstance(name, str) or len(name) > 60:
        raise ValueError(f"{path}.name: must be text of at most 60 characters")
    if not isinstance(color, str) or (color and not _COLOR.match(color)):
        raise ValueError(f"{path}.color: {color!r} is not a colour like #1f77b4")
    if not isinstance(enabled, bool):
        raise ValueError(f"{path}.enabled: must be true or false")
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
            raise ValueError(f"surface: {d['surface']!r} is not a surface name")
        out["surface"] = d["surface"]
    if "surface_params" in d:
        out["surface_params"] = _mapping("surface_params", d["surface_params"])
    if "optimizers" in d:
        opts = d["optimizers"]
        if not isinstance(opts, list | tuple):
            raise ValueError("optimizers: expected a list")
        limits.check("optimizers", len(opts), 4 * limits.MAX_INSTANCES, "remove some instances")
        out["optimizers"] = tuple(_parse_optimizer(i, o) for i, o in enumerate(opts))
    if "starts" in d:
        starts = d["starts"]
        if not isinstance(starts, list | tuple):
            raise ValueError("starts: expected a list of points")
        limits.check("start points", len(starts), limits.MAX_STARTS, "remove some start points")
        pts = []
        for j, p in enumerate(starts):
            if not isinstance(p, list | tuple) or not 1 <= len(p) <= 100_000:
                raise ValueError(f"starts[{j}]: expected a list of coordinates")
            pts.append(tuple(_number(f"starts[{j}]", v, low=-1e6, high=1e6) for v in p))
        out["starts"] = tuple(pts)
    if "steps" in d:
        out["steps"] = _number("steps", d["steps"], integer=True, low=1, high=limits.MAX_STEPS)
    if "noise" in d:
        out["noise"] = _number("noise", d["noise"], low=0.0, high=1e6)
    if "seed" in d:
        out["seed"] = _number("seed", d["seed"], integer=True, low=0, high=2**31 - 1)
    if "stride" in d:
        out["stride"] = _number("stride", d["stride"], integer=True, low=0, high=limits.MAX_STEPS)
    if "tolerance" in d:
        out["tolerance"] = _number("tolerance", d["tolerance"], low=0.0, high=1e12)
    if "dtype" in d:
        if d["dtype"] not in DTYPES:
            raise ValueError(f"dtype: {d['dtype']!r} must be one of {', '.join(DTYPES)}")
        out["dtype"] = d["dtype"]
    return Experiment(**out)
