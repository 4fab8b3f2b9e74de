"""LARS: layer-wise adaptive rate scaling with the objax trust ratio (docs/optimizer-equations.md,
LARS)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import (
    POSITIVE,
    OptimizerInfo,
    StateField,
    epsilon,
    learning_rate,
    momentum_buffer,
)


class LARSState(NamedTuple):
    count: jax.Array
    momentum: Any  # m_t
    local_learning_rate: Any  # eta * r_t per tensor (a scalar per parameter array)


def _lars_core(momentum, weight_decay, trust_coefficient, epsilon, nesterov: bool) -> core.Core:
    def init(params):
        scalars = jax.tree.map(lambda p: jnp.zeros([], p.dtype), params)
        return LARSState(jnp.zeros([], jnp.int32), core.zeros_like(params), scalars)

    def step_leaf(g, p, m, lr):
        mu, wd = core.cast(momentum, g), core.cast(weight_decay, g)
        p_norm, g_norm = jnp.linalg.norm(p), jnp.linalg.norm(g)
        denominator = g_norm + wd * p_norm + core.cast(epsilon, g)
        safe = jnp.where(denominator > 0, denominator, 1)
        ratio = jnp.where(denominator > 0, core.cast(trust_coefficient, g) * p_norm / safe, 1)
        either_zero = jnp.logical_or(p_norm == 0, g_norm == 0).astype(g.dtype)
        local_lr = core.cast(lr, g) * jnp.maximum(either_zero, ratio)
        u = local_lr * (g + wd * p)
        m = mu * m + u
        return -(u + mu * m if nesterov else m), m, local_lr

    def step(grads, state, params, lr):
        if params is None:
            raise ValueError("LARS: update() needs params (the trust ratio uses |w|)")
        updates, m, local = core.map_leaves(
            lambda g, p, m: step_leaf(g, p, m, lr), grads, params, state.momentum
        )
        return updates, LARSState(state.count + 1, m, local)

    def learning_rates(state, lr):
        del lr
        return jax.tree.map(
            lambda m, ell: jnp.full_like(m, ell), state.momentum, state.local_learning_rate
        )

    return core.Core(init, step, learning_rates)


LARS_INFO = OptimizerInfo(
    name="LARS",
    rule=_lars_core,
    summary="Layer-wise rates: each tensor's step scaled by |w| / |g| (trust ratio).",
    group="adaptive",
    reference="You, Gitman & Ginsburg, Large Batch Training of Convolutional Networks, "
    "arXiv:1708.03888",
    matches="objax LARS (optax lars when weight_decay = epsilon = 0)",
    defaults_from="the objax LARS documentation (objax passes the learning rate per call; 1.0 "
    "here, so that a step moves about tc |w|, times 1/(1 - mu) with momentum)",
    notes="Norms are per parameter array (a layer); lambda is LARS's own weight decay, coupled "
    "through the trust ratio. The rate is eta max(1[|w| = 0 or |g| = 0], r_t), as objax's code "
    "(jn.maximum(logical_or(...), trust_ratio)); Nesterov (w_{t+1} = w_t - eta r_t (g_t + "
    "lambda w_t) - mu m_t) from optax lars. Where objax divides by zero (g = 0 with lambda = "
    "epsilon = 0) the ratio is taken as 1, as optax does. The paper's polynomial decay "
    "eta_t = eta_0 (1 - t/T)^2 is ``learning_rate=optimizers.schedules.lars_polynomial(eta_0, "
    "T)``. The momentum buffer m_t is in weight units.",
    example="    >>> opt = optimizers.LARS(learning_rate=optimizers.schedules.lars_polynomial(1.0, "
    "500))",
    update_latex=r"r_t=\frac{tc\lVert w\rVert}{\lVert g\rVert+\lambda\lVert w\rVert+\varepsilon},\ "
    r"m_t=\mu m_{t-1}+\eta r_t(g_t+\lambda w_t),\ w_{t+1}=w_t-m_t",
    learning_rate_latex=r"\eta\, r_t\ \text{(per tensor)}",
    learning_rate=learning_rate(1.0, 1e-3, 100.0),
    hyperparams=(
        family.momentum(0.9),
        family.amount(
            "weight_decay", 1e-4, 0.0, 0.1, "LARS's weight decay (inside the trust ratio)."
        ),
        family.amount(
            "trust_coefficient",
            1e-3,
            1e-5,
            1.0,
            "Trust coefficient eta (< 1) for the trust ratio.",
            scale="log",
            valid=POSITIVE,
        ),
        epsilon(1e-5, "Epsilon of the trust-ratio denominator."),
        family.NESTEROV,
    ),
    state=(
        momentum_buffer("momentum", "m_t", units="weights"),
        StateField(
            name="local_learning_rate",
            symbol=r"\eta r_t",
            role="learning_rate",
            shape="per_tensor",
        ),
    ),
)

LARS = LARS_INFO.build
