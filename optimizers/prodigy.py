"""Prodigy: Adam whose learning rate scale d is estimated from the distance travelled
(``optax.contrib.prodigy``)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers import core, family
from optimizers.declare import (
    POSITIVE,
    OptimizerInfo,
    StateField,
    decay_rate,
    epsilon,
    flag,
    learning_rate,
    momentum_buffer,
    unrecorded,
)


class ProdigyState(NamedTuple):
    count: jax.Array
    exp_avg: Any  # m_t, the moving average of d g (first moment)
    exp_avg_sq: Any  # v_t, the moving average of (d g)^2 (second moment)
    grad_sum: Any  # s_t, the weighted sum of d g that measures the distance scale
    params0: Any  # w_0, the starting weights
    estim_lr: jax.Array  # d_t, the estimated scale (scalar)
    numerator_weighted: jax.Array  # r_t, the weighted inner products <g, w_0 - w> (scalar)
    step_size: jax.Array  # \hat\eta_t = d_{t-1} eta sqrt(1-beta_2^t)/(1-beta_1^t), the last step


def prodigy_core(
    beta_1, beta_2, beta_3, epsilon, estim_lr0, estim_lr_coef, weight_decay, safeguard_warmup
) -> core.Core:
    def init(params):
        dtype = optax.tree.dtype(params, "lowest")
        z = core.zeros_like(params)
        return ProdigyState(
            family.count(),
            z,
            z,
            z,
            params,
            jnp.asarray(estim_lr0, dtype),
            jnp.zeros([], dtype),
            jnp.zeros([], dtype),
        )

    def step(grads, state, params, lr):
        t = state.count + 1
        d = state.estim_lr
        b1, b2 = core.cast(beta_1, d), core.cast(beta_2, d)
        b3 = jnp.sqrt(b2) if beta_3 is None else core.cast(beta_3, d)
        d0 = core.cast(estim_lr0, d)
        bc = jnp.sqrt(1 - core.step_power(beta_2, t, d)) / (1 - core.step_power(beta_1, t, d))
        dlr = (d * core.cast(lr, d) * bc).astype(d.dtype)
        dg = jax.tree.map(lambda g: d * g, grads)
        inner = optax.tree.vdot(grads, jax.tree.map(jnp.subtract, state.params0, params))
        m = jax.tree.map(lambda m, x: b1 * m + (1 - b1) * x, state.exp_avg, dg)
        v = jax.tree.map(lambda v, x: b2 * v + (1 - b2) * x * x, state.exp_avg_sq, dg)
        weight = d if safeguard_warmup else dlr
        s = jax.tree.map(lambda s, x: b3 * s + weight * x / d0, state.grad_sum, dg)
        r = b3 * state.numerator_weighted + (d / d0) * dlr * inner
        denominator = optax.tree.sum(jax.tree.map(jnp.abs, s))
        d_new = jnp.maximum(d, core.cast(estim_lr_coef, d) * r / denominator)
        updates = jax.tree.map(
            lambda m, v, w: (
                -core.cast(weight_decay, w) * dlr * w
                - dlr * m / (jnp.sqrt(v) + d_new * core.cast(epsilon, v))
            ),
            m,
            v,
            params,
        )
        return updates, ProdigyState(t, m, v, s, state.params0, d_new, r, dlr)

    def learning_rates(state, lr):
        del lr  # step_size holds it
        return jax.tree.map(
            lambda v: state.step_size / (jnp.sqrt(v) + state.estim_lr * core.cast(epsilon, v)),
            state.exp_avg_sq,
        )

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
PRODIGY_INFO = OptimizerInfo(
    name="Prodigy",
    rule=prodigy_core,
    summary="Adam whose learning-rate scale d is estimated from the distance travelled.",
    group="schedule-free",
    reference="Mishchenko & Defazio, Prodigy: An Expeditiously Adaptive Parameter-Free Learner, "
    "ICML 2024 (arXiv:2306.06101)",
    matches="optax.contrib.prodigy",
    defaults_from="optax.contrib.prodigy",
    notes="``beta_1``, ``beta_2`` are optax's ``betas``, ``beta_3`` its ``beta3``. "
    "``weight_decay`` is optax's; the shared decoupled option is not added on top. The "
    "per-weight learning rate is the factor applied to m_t (the average of d g); d_t is a "
    "scalar of the state, which also keeps w_0. The momentum arrow is eta m_t, small while d "
    "is still near d_0.",
    example="    >>> opt = optimizers.Prodigy()",
    update_latex=r"\hat\eta_t=d_{t-1}\eta\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t},\ m_t=\beta_1"
    r"m_{t-1}+(1-\beta_1)d_{t-1}g_t,\ v_t=\beta_2v_{t-1}+(1-\beta_2)d_{t-1}^2g_t^2,\ s_t=\beta_3"
    r"s_{t-1}+\frac{\hat\eta_td_{t-1}}{d_0}g_t,\ r_t=\beta_3r_{t-1}+\frac{d_{t-1}}{d_0}\hat\eta_t"
    r"\langle g_t,w_0-w_t\rangle,\ d_t=\max\Big(d_{t-1},\frac{c\,r_t}{\lVert s_t\rVert_1}\Big),\ "
    r"w_{t+1}=w_t-\hat\eta_t\Big(\frac{m_t}{\sqrt{v_t}+d_t\varepsilon}+\lambda w_t\Big)",
    learning_rate_latex=r"\hat\eta_t\,/\,(\sqrt{v_t}+d_t\varepsilon)",
    learning_rate=learning_rate(
        1.0, 1e-2, 10.0, help="A multiplier of the estimated step size (1: parameter-free)."
    ),
    hyperparams=(
        decay_rate("beta_1", 0.9, "Decay rate of the first moment (optax's betas[0])."),
        decay_rate("beta_2", 0.999, "Decay rate of the second moment (betas[1]).", live=False),
        # Off (None, optax's default) is sqrt(beta_2); a set value is structural, since "off"
        # is not a number the engine could trace.
        dataclasses.replace(
            decay_rate(
                "beta_3",
                None,
                "Decay of the distance sums (optax's beta3); off: sqrt(beta_2).",
                live=False,
            ),
            traced=False,
        ),
        epsilon(1e-8),
        family.amount(
            "estim_lr0",
            1e-6,
            1e-8,
            1.0,
            "d_0, the initial estimate of the scale.",
            scale="log",
            valid=POSITIVE,
        ),
        family.amount(
            "estim_lr_coef",
            1.0,
            0.1,
            10.0,
            "c, a multiplier of the estimate.",
            scale="log",
            valid=POSITIVE,
        ),
        family.optax_weight_decay("scaled by the step size"),
        flag("safeguard_warmup", False, "Weight s_t by d_{t-1} instead of the step size."),
    ),
    state=(
        momentum_buffer("exp_avg", "m_t"),
        StateField(name="exp_avg_sq", symbol="v_t", role="second_moment"),
        StateField(name="grad_sum", symbol="s_t", role="distance_sum"),
        unrecorded("params0", "w_0", "start"),
        unrecorded("estim_lr", "d_t", "scale_estimate"),
        unrecorded("numerator_weighted", "r_t", "numerator"),
        unrecorded("step_size", r"\hat\eta_t", "step_size"),
    ),
)

Prodigy = PRODIGY_INFO.build
