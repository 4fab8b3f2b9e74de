"""Values the front ends draw beside the paths: each optimizer's learning-rate schedule over the
recorded steps, and a fan of minibatch gradients at a point of a stochastic surface.

Both follow the kernel's conventions (trajectories/kernel.py): the update taken from the record
at step ``t`` uses ``schedule(t)`` (Keras ``iterations`` semantics, optimizers/schedules.py),
and the step's key is ``fold_in(PRNGKey(seed), t)``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from optimizers import schedules
from surfaces import Surface
from trajectories.experiment import OptimizerSpec

FAN_SIZE = 16  # minibatch gradients drawn around the full gradient


def _schedule_of(spec: OptimizerSpec):
    lr = spec.values().get("learning_rate")
    if lr is None:
        return None
    return schedules.from_config(lr) if isinstance(lr, Mapping) else schedules.as_schedule(lr)


def learning_rates(spec: OptimizerSpec, steps: np.ndarray) -> np.ndarray:
    """eta_t of the update taken from each record (its schedule's value at that step)."""
    schedule = _schedule_of(spec)
    if schedule is None:
        raise ValueError(f"optimizer {spec.kind!r} has no learning_rate")
    values = jax.vmap(lambda t: jnp.asarray(schedule(t)))(jnp.asarray(steps))
    return np.asarray(values, np.float64)


def schedule_values(spec: OptimizerSpec, steps: np.ndarray) -> np.ndarray | float | None:
    """What a schedule panel draws for one optimizer: its eta_t at every recorded step, a
    float when the rate is constant (a flat line needs no array), None when it has none."""
    schedule = _schedule_of(spec)
    if schedule is None:
        return None
    if isinstance(schedule, schedules.Constant):
        return float(schedule.learning_rate)
    return learning_rates(spec, steps)


def step_key(seed: int, step: int) -> jax.Array:
    """The key of the step taken from ``step`` (the kernel's ``fold_in(PRNGKey(seed), t)``)."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), step)


def gradient_fan(
    surface: Surface, w: np.ndarray, key: jax.Array, k: int = FAN_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """``(full, fan)`` at weights ``w``: the full gradient ``(dim,)`` and ``k`` minibatch
    gradients ``(k, dim)``, the i-th with key ``fold_in(key, i)``. On a deterministic surface
    there is no fan: ``ValueError``."""
    if surface.grad_estimate_fn is None:
        raise ValueError(f"surface {surface.name!r} is not stochastic: no minibatch gradients")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"fan size must be a positive whole number, got {k!r}")
    w = jnp.asarray(w)
    full = jax.grad(surface.fn)(w, surface.theta)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(k))
    fan = jax.vmap(lambda kk: surface.grad_estimate_fn(w, surface.theta, kk))(keys)
    return np.asarray(full), np.asarray(fan)


@functools.lru_cache(maxsize=64)
def _fans_fn(grad_estimate_fn, k: int):
    """One compiled fan computation per (gradient estimator, K): documents are built often."""

    def one(theta, base, w, t):
        keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.fold_in(base, t), i))(jnp.arange(k))
        return jax.vmap(lambda kk: grad_estimate_fn(w, theta, kk))(keys)

    return jax.jit(jax.vmap(one, in_axes=(None, None, 0, 0)))


def gradient_fans(
    surface: Surface, ws: np.ndarray, steps: np.ndarray, seed: int, k: int = FAN_SIZE
) -> np.ndarray:
    """The fan's minibatch gradients ``(R, k, dim)`` at each of the points ``ws`` ``(R, dim)``,
    recorded at ``steps``: the i-th at record r is :func:`gradient_fan`'s with the key of the
    step taken from it, ``fold_in(step_key(seed, steps[r]), i)``."""
    if surface.grad_estimate_fn is None:
        raise ValueError(f"surface {surface.name!r} is not stochastic: no minibatch gradients")
    fn = _fans_fn(surface.grad_estimate_fn, k)
    out = fn(surface.theta, jax.random.PRNGKey(seed), jnp.asarray(ws), jnp.asarray(steps))
    return np.asarray(out)
