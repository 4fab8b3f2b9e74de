"""Schedule-free AdamW: no learning-rate schedule, the weights interpolate between a fast
sequence z and its running average x (Keras 3 ``ScheduleFreeAdamW``)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import (
    OPEN_UNIT_INTERVAL,
    HParam,
    OptimizerInfo,
    Range,
    StateField,
    decay_rate,
    epsilon,
    unrecorded,
)


class ScheduleFreeState(NamedTuple):
    count: jax.Array
    z: Any  # z_t, the fast (SGD-like) sequence; Keras's "momentum" slot, starting at w_0
    velocity: Any  # v_t, Adam's second moment
    step_scale: jax.Array  # eta_t, the learning rate of the last step after the warm-up


def schedule_free_core(beta_1, beta_2, epsilon, warmup_steps) -> core.Core:
    def init(params):
        dtype = jax.tree.leaves(params)[0].dtype if jax.tree.leaves(params) else jnp.float32
        zeros = core.zeros_like(params)
        return ScheduleFreeState(
            family.count(), jax.tree.map(jnp.copy, params), zeros, jnp.zeros([], dtype)
        )

    def warm(lr, t):
        """Keras's linear warm-up of the learning rate, ``min(t / warmup_steps, 1)``."""
        w = core.cast(warmup_steps, lr)
        factor = jnp.minimum(t.astype(lr.dtype) / jnp.maximum(w, 1), 1.0)
        return lr * jnp.where(w > 0, factor, 1.0)

    def denominator(v, t):
        return family.debiased_root(v, beta_2, t, epsilon)

    def step_leaf(g, y, z, v, t, lr):
        b1 = core.cast(beta_1, y)
        v = core.moment(v, g * g, beta_2)
        z_new = z - core.cast(lr, g) * g / denominator(v, t)
        weight = 1 / t.astype(y.dtype)
        x_old = (y - (1 - b1) * z) / b1
        x_new = (1 - weight) * x_old + weight * z_new
        y_new = (1 - b1) * z_new + b1 * x_new
        return y_new - y, z_new, v

    def step(grads, state, params, lr):
        t = state.count + 1
        lr = warm(jnp.asarray(lr), t)
        updates, z, v = core.map_leaves(
            lambda *a: step_leaf(*a, t, lr), grads, params, state.z, state.velocity
        )
        return updates, ScheduleFreeState(t, z, v, lr.astype(state.step_scale.dtype))

    def learning_rates(state, lr):
        del lr  # step_scale holds the warmed-up one
        return jax.tree.map(
            lambda v: core.cast(state.step_scale, v) / denominator(v, state.count), state.velocity
        )

    return core.Core(init, step, learning_rates)


def averaged_weights(params, state, beta_1=0.9):
    r"""The averaged sequence $x_t = (y_t - (1-\beta_1) z_t)/\beta_1$ of a schedule-free run.

    ``params`` are the weights the optimizer holds ($y_t$, what training evaluates), ``state``
    its ``OptionsState`` or its inner ``ScheduleFreeState``; ``beta_1`` must be the run's.
    Schedule-free methods evaluate at $x_t$ (Defazio et al.).
    """
    inner = getattr(state, "inner", state)
    return jax.tree.map(
        lambda y, z: (y - (1 - core.cast(beta_1, y)) * z) / core.cast(beta_1, y), params, inner.z
    )


# ---- declaration ------------------------------------------------------------------------------
SCHEDULE_FREE_ADAMW_INFO = OptimizerInfo(
    name="ScheduleFreeAdamW",
    rule=schedule_free_core,
    summary="No schedule: the weights interpolate between a fast sequence and its average.",
    group="schedule-free",
    reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024 (arXiv:2405.15682)",
    matches="Keras 3 ScheduleFreeAdamW",
    defaults_from="the Keras 3 documentation",
    notes="y_t are the weights the optimizer holds, z_0 = y_0, x_t = (y_t - (1 - beta_1) z_t) "
    "/ beta_1. The gradient is taken at y; the path drawn is y (what the Keras variable holds "
    "while training) and :func:`optimizers.schedule_free.averaged_weights` gives x, the "
    "average to evaluate. The shared ``weight_decay`` is Keras's decoupled decay of y. The "
    "per-weight learning rate applies to g_t in the z step.",
    example="    >>> opt = optimizers.ScheduleFreeAdamW(learning_rate=1e-2, warmup_steps=10)",
    update_latex=r"\eta_t=\eta\min(1,t/T_w),\ v_t=\beta_2v_{t-1}+(1-\beta_2)g_t^2,\ z_t=z_{t-1}-"
    r"\frac{\eta_tg_t}{\sqrt{\hat v_t}+\varepsilon},\ x_t=(1-\tfrac1t)x_{t-1}+\tfrac1tz_t,\ "
    r"y_{t+1}=(1-\beta_1)z_t+\beta_1x_t",
    learning_rate_latex=r"\eta_t\,/\,(\sqrt{\hat v_t}+\varepsilon)",
    learning_rate=0.0025,
    hyperparams=(
        dataclasses.replace(
            decay_rate("beta_1", 0.9, "Interpolation between z and its average x."),
            low=0.01,
            valid=OPEN_UNIT_INTERVAL,
        ),
        decay_rate("beta_2", 0.999, "Decay rate of the second moment.", live=False),
        epsilon(1e-8),
        HParam(
            name="warmup_steps",
            default=0,
            low=0,
            high=1000,
            kind="int",
            valid=Range(low=0),
            help="T_w: steps of linear learning-rate warm-up (0: none).",
        ),
    ),
    state=(
        StateField(name="z", symbol="z_t", role="fast_sequence"),
        StateField(name="velocity", symbol="v_t", role="second_moment"),
        unrecorded("step_scale", r"\eta_t", "step_size"),
    ),
)

ScheduleFreeAdamW = SCHEDULE_FREE_ADAMW_INFO.build
