"""Learning-rate schedules: functions of the 0-based update count, with Keras 3 semantics.

Each schedule is a small frozen dataclass whose fields may be traced JAX values (so changing a
value never recompiles), called with the step count. ``to_config``/``from_config`` give a plain
JSON-able dict, so a schedule travels inside an experiment description, a URL or a snapshot.

The step is the optimizer's update count before the update (Keras ``iterations``): the first
update uses ``schedule(0)``. This is why these are written here rather than taken from optax:
optax's schedule factories check their arguments with Python comparisons, which fails on traced
values; the formulas are the same and ``tests/test_optimizers_exact.py`` checks them, inside
optimizers, against Keras 3's schedule objects.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp


def _f(x: Any) -> jax.Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Base class: ``schedule(step) -> learning rate``."""

    def __call__(self, step: jax.Array) -> jax.Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        out = {"schedule": KIND_OF[type(self)]}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_config() if isinstance(v, Schedule) else v
        return out


@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    r"""$\eta_t = \eta_0$."""

    learning_rate: Any

    def __call__(self, step):
        return _f(self.learning_rate) + 0 * _f(step)


@dataclasses.dataclass(frozen=True)
class ExponentialDecay(Schedule):
    r"""Keras ``ExponentialDecay``: $\eta_t = \eta_0 r^{t/T}$ (floored with staircase)."""

    initial_learning_rate: Any
    decay_steps: Any
    decay_rate: Any
    staircase: bool = False

    def __call__(self, step):
        p = _f(step) / _f(self.decay_steps)
        if self.staircase:
            p = jnp.floor(p)
        return _f(self.initial_learning_rate) * jnp.power(_f(self.decay_rate), p)


@dataclasses.dataclass(frozen=True)
class CosineDecay(Schedule):
    r"""Keras ``CosineDecay``, with its optional linear warm-up.

    $\eta_t = \eta_0\big((1-\alpha)\tfrac12(1+\cos(\pi \min(t,T)/T)) + \alpha\big)$; with
    ``warmup_target`` the rate first rises linearly from $\eta_0$ to the target over
    ``warmup_steps`` and the cosine then decays from the target.
    """

    initial_learning_rate: Any
    decay_steps: Any
    alpha: Any = 0.0
    warmup_target: Any = None
    warmup_steps: Any = 0

    def _cosine(self, step, start):
        done = step / _f(self.decay_steps)
        alpha = _f(self.alpha)
        return start * ((1 - alpha) * 0.5 * (1.0 + jnp.cos(math.pi * done)) + alpha)

    def __call__(self, step):
        step, decay_steps = _f(step), _f(self.decay_steps)
        if self.warmup_target is None:
            return self._cosine(jnp.minimum(step, decay_steps), _f(self.initial_learning_rate))
        warm, target = _f(self.warmup_steps), _f(self.warmup_target)
        step = jnp.minimum(step, decay_steps + warm)
        initial = _f(self.initial_learning_rate)
        rising = (target - initial) * (step / jnp.maximum(warm, 1.0)) + initial
        return jnp.where(step < warm, rising, self._cosine(step - warm, target))


@dataclasses.dataclass(frozen=True)
class PolynomialDecay(Schedule):
    r"""Keras ``PolynomialDecay``: $\eta_t = (\eta_0-\eta_T)(1-\min(t,T)/T)^p + \eta_T$.

    With ``power=2`` and ``end_learning_rate=0`` this is the LARS schedule
    $\gamma_t = \gamma_0 (1 - t/T)^2$ of objax's ``LARS`` documentation.
    """

    initial_learning_rate: Any
    decay_steps: Any
    end_learning_rate: Any = 0.0001
    power: Any = 1.0
    cycle: bool = False

    def __call__(self, step):
        step, decay_steps = _f(step), _f(self.decay_steps)
        if self.cycle:
            multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = jnp.minimum(step, decay_steps)
        end = _f(self.end_learning_rate)
        frac = step / decay_steps
        return (_f(self.initial_learning_rate) - end) * jnp.power(1 - frac, _f(self.power)) + end


@dataclasses.dataclass(frozen=True)
class Warmup(Schedule):
    r"""Linear warm-up from ``initial_learning_rate`` to ``after(0)`` over ``warmup_steps``
    updates, then ``after(t - warmup_steps)``: puts a warm-up in front of any schedule."""

    after: Any  # a Schedule or a plain learning rate
    warmup_steps: Any
    initial_learning_rate: Any = 0.0

    def __call__(self, step):
        after = as_schedule(self.after)
        step, warm = _f(step), _f(self.warmup_steps)
        start, target = _f(self.initial_learning_rate), after(jnp.zeros_like(step))
        rising = start + (target - start) * step / jnp.maximum(warm, 1.0)
        return jnp.where(step < warm, rising, after(jnp.maximum(step - warm, 0.0)))


def lars_polynomial(initial_learning_rate: Any, total_steps: Any) -> PolynomialDecay:
    """LARS's decay ``lr_0 * (1 - t/T)**2`` (the objax ``LARS`` docstring)."""
    return PolynomialDecay(initial_learning_rate, total_steps, end_learning_rate=0.0, power=2.0)


KINDS: dict[str, type[Schedule]] = {
    "constant": Constant,
    "exponential_decay": ExponentialDecay,
    "cosine_decay": CosineDecay,
    "polynomial_decay": PolynomialDecay,
    "warmup": Warmup,
}
KIND_OF = {cls: kind for kind, cls in KINDS.items()}


def from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from ``to_config()``; bad input raises ``ValueError`` naming it."""
    if not isinstance(config, Mapping):
        raise ValueError(f"a schedule must be a mapping, got {type(config).__name__}")
    kind = config.get("schedule")
    if kind not in KINDS:
        raise ValueError(f"unknown schedule {kind!r}; known: {', '.join(KINDS)}")
    cls = KINDS[kind]
    fields = {f.name for f in dataclasses.fields(cls)}
    args = {k: v for k, v in config.items() if k != "schedule"}
    unknown = sorted(set(args) - fields)
    if unknown:
        raise ValueError(f"schedule {kind!r}: unknown field {unknown[0]!r}")
    missing = sorted(f.name for f in dataclasses.fields(cls)
                     if f.default is dataclasses.MISSING and f.name not in args)  # fmt: skip
    if missing:
        raise ValueError(f"schedule {kind!r}: missing field {missing[0]!r}")
    for name, value in args.items():
        _check_field(kind, name, value)
    if "after" in args:
        inner = args["after"]
        args["after"] = from_config(inner) if isinstance(inner, Mapping) else inner
    return cls(**args)


_FLAGS = {"staircase", "cycle"}
_POSITIVE = {"decay_steps", "initial_learning_rate", "learning_rate"}


def _check_field(kind: str, name: str, value: Any) -> None:
    """Fields from a description (URL, snapshot, command line) are checked before any work."""
    if isinstance(value, jax.core.Tracer):  # inside the engine's jit: checked before tracing
        return
    where = f"schedule {kind!r}: {name}={value!r}"
    if name == "after":
        if not isinstance(value, Mapping) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise ValueError(f"{where} must be a schedule or a learning rate")
        return
    if name in _FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")
        return
    if name == "warmup_target" and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number")
    warmup_start = kind == "warmup" and name == "initial_learning_rate"  # may rise from 0
    if name in _POSITIVE and value <= 0 and not warmup_start:
        raise ValueError(f"{where} must be positive")
    if value < 0:
        raise ValueError(f"{where} must not be negative")


def as_schedule(learning_rate: Any) -> Callable[[jax.Array], jax.Array]:
    """A float (or traced scalar) becomes a constant schedule; callables pass through."""
    return learning_rate if callable(learning_rate) else Constant(learning_rate)
