"""Schedule-free AdamW: no learning-rate schedule, the weights interpolate between a fast
sequence z and its running average x (Keras 3 ``ScheduleFreeAdamW``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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
        return jnp.sqrt(family.debias(v, beta_2, t)) + core.cast(epsilon, v)

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


def ScheduleFreeAdamW(
    learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0, **options
) -> core.Optimizer:
    r"""Schedule-free AdamW (Defazio et al., 2024), as Keras 3 writes it.

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1`` (interpolation), $\beta_2$
    ``beta_2``, $\varepsilon$ ``epsilon``, $T_w$ ``warmup_steps``; $y_t$ are the weights the
    optimizer holds, $z_0 = y_0$, $x_t = (y_t - (1-\beta_1) z_t)/\beta_1$.

    $$\eta_t = \eta\min(1, t/T_w),\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
      z_t = z_{t-1} - \frac{\eta_t\, g_t}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}$$
    $$x_t = (1 - \tfrac1t)\,x_{t-1} + \tfrac1t\, z_t,\qquad
      y_{t+1} = (1-\beta_1) z_t + \beta_1 x_t$$

    The gradient is taken at $y$; the path drawn is $y$ (what the Keras variable holds while
    training) and :func:`averaged_weights` gives $x$, the average to evaluate. The shared
    ``weight_decay`` is Keras's decoupled decay of $y$. Per-weight learning rate (applied to
    $g_t$ in the $z$ step): $\eta_t/(\sqrt{\hat v_t}+\varepsilon)$. Defaults are Keras's.
    Matches Keras 3 ``keras.optimizers.ScheduleFreeAdamW`` exactly.

    Reference: Defazio et al., "The Road Less Scheduled", NeurIPS 2024 (arXiv:2405.15682).
    """
    name = "ScheduleFreeAdamW"
    core.check_learning_rate(name, learning_rate)
    core.check_range(name, "beta_1", beta_1, 0.0, 1.0, low_open=True, high_open=True)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    core.check_range(name, "warmup_steps", warmup_steps, 0, None, integer=True)
    return family.finish(
        name,
        schedule_free_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        warmup_steps=warmup_steps,
    )
