"""Adan: adaptive Nesterov momentum from gradient differences (``optax.adan``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, StateField, decay_rate, epsilon, momentum_buffer


class AdanState(NamedTuple):
    count: jax.Array
    m: Any  # m_t, the moving average of g
    v: Any  # v_t, the moving average of g_t - g_{t-1}
    n: Any  # n_t, the moving average of (g_t + (1 - beta_2)(g_t - g_{t-1}))^2
    g: Any  # g_{t-1}, the previous gradient


def adan_core(beta_1, beta_2, beta_3, epsilon, epsilon_root, weight_decay) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        return AdanState(family.count(), z, z, z, z)

    def denominator(n, t):
        return family.debiased_root(n, beta_3, t, epsilon, epsilon_root)

    def step_leaf(g, w, m, v, n, g_prev, t, lr):
        diff = jnp.where(t == 1, jnp.zeros_like(g), g - g_prev)
        m = core.moment(m, g, beta_1)
        v = core.moment(v, diff, beta_2)
        n = core.moment(n, (g + (1 - core.cast(beta_2, g)) * diff) ** 2, beta_3)
        m_hat, v_hat = family.debias(m, beta_1, t), family.debias(v, beta_2, t)
        direction = (m_hat + (1 - core.cast(beta_2, g)) * v_hat) / denominator(n, t)
        update = direction + core.cast(weight_decay, w) * w
        return -core.cast(lr, g) * update, m, v, n, g

    learning_rates = family.rates_over("n", denominator)
    step = family.leafwise(step_leaf, ("m", "v", "n", "g"), params=True)
    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
ADAN_INFO = OptimizerInfo(
    name="Adan",
    rule=adan_core,
    summary="Adaptive Nesterov momentum: moments of g and of its change g_t - g_{t-1}.",
    group="adaptive",
    reference="Xie et al., Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing "
    "Deep Models, arXiv:2208.06677 (2022)",
    matches="optax.adan",
    defaults_from="optax (optax has no default learning rate: 0.001 here)",
    notes="beta_1, beta_2, beta_3 are optax's decay rates (the paper's 1 - beta_i); Delta_1 = 0; "
    "each moment is bias-corrected by its own beta. ``weight_decay`` is optax's (added to the "
    "update before the learning rate, not the paper's proximal division); the shared decoupled "
    "option is not added on top. The per-weight learning rate applies to "
    "m_hat + (1 - beta_2) v_hat.",
    example="    >>> opt = optimizers.Adan(learning_rate=1e-3)",
    update_latex=r"\Delta_t=g_t-g_{t-1},\ m_t=\beta_1m_{t-1}+(1-\beta_1)g_t,\ v_t=\beta_2v_{t-1}"
    r"+(1-\beta_2)\Delta_t,\ n_t=\beta_3n_{t-1}+(1-\beta_3)\big(g_t+(1-\beta_2)\Delta_t\big)^2,"
    r"\ w_{t+1}=w_t-\eta\Big(\frac{\hat m_t+(1-\beta_2)\hat v_t}{\sqrt{\hat n_t+\bar\varepsilon}"
    r"+\varepsilon}+\lambda w_t\Big)",
    learning_rate_latex=r"\eta\,/\,(\sqrt{\hat n_t+\bar\varepsilon}+\varepsilon)",
    learning_rate=0.001,
    hyperparams=(
        decay_rate("beta_1", 0.98, "Decay rate of the gradient average m (optax's b1)."),
        decay_rate("beta_2", 0.92, "Decay rate of the gradient-difference average v."),
        decay_rate("beta_3", 0.99, "Decay rate of the second moment n.", live=False),
        epsilon(1e-8),
        family.epsilon_root(1e-8),
        family.optax_weight_decay("added to the update before the learning rate"),
    ),
    state=(
        momentum_buffer("m", "m_t"),
        StateField(name="v", symbol="v_t", role="gradient_difference"),
        StateField(name="n", symbol="n_t", role="second_moment"),
        StateField(name="g", symbol="g_{t-1}", role="previous_gradient"),
    ),
)

Adan = ADAN_INFO.build
