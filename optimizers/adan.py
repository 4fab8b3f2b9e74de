"""Adan: adaptive Nesterov momentum from gradient differences (``optax.adan``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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
        n_hat = family.debias(n, beta_3, t)
        return jnp.sqrt(n_hat + core.cast(epsilon_root, n)) + core.cast(epsilon, n)

    def step_leaf(g, w, m, v, n, g_prev, t, lr):
        diff = jnp.where(t == 1, jnp.zeros_like(g), g - g_prev)
        m = core.moment(m, g, beta_1)
        v = core.moment(v, diff, beta_2)
        n = core.moment(n, (g + (1 - core.cast(beta_2, g)) * diff) ** 2, beta_3)
        m_hat, v_hat = family.debias(m, beta_1, t), family.debias(v, beta_2, t)
        direction = (m_hat + (1 - core.cast(beta_2, g)) * v_hat) / denominator(n, t)
        update = direction + core.cast(weight_decay, w) * w
        return -core.cast(lr, g) * update, m, v, n, g

    step = family.leafwise(step_leaf, ("m", "v", "n", "g"), params=True)

    def learning_rates(state, lr):
        return jax.tree.map(lambda n: core.cast(lr, n) / denominator(n, state.count), state.n)

    return core.Core(init, step, learning_rates)


def Adan(
    learning_rate=0.001,
    beta_1=0.98,
    beta_2=0.92,
    beta_3=0.99,
    epsilon=1e-8,
    epsilon_root=1e-8,
    weight_decay=0.0,
    **options,
) -> core.Optimizer:
    r"""Adan, adaptive Nesterov momentum (Xie et al., 2022), as optax computes it.

    Symbols: $\eta$ ``learning_rate``, $\beta_1,\beta_2,\beta_3$ ``beta_1``, ``beta_2``,
    ``beta_3`` (optax's decay rates: the paper's $1-\beta_i$), $\varepsilon$ ``epsilon``,
    $\bar\varepsilon$ ``epsilon_root``, $\lambda$ ``weight_decay``; $\Delta_t = g_t - g_{t-1}$
    ($\Delta_1 = 0$).

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2)\Delta_t,
      \quad n_t = \beta_3 n_{t-1} + (1-\beta_3)\big(g_t + (1-\beta_2)\Delta_t\big)^2$$
    $$w_{t+1} = w_t - \eta\left(\frac{\hat m_t + (1-\beta_2)\hat v_t}
      {\sqrt{\hat n_t + \bar\varepsilon} + \varepsilon} + \lambda w_t\right)$$

    with each moment bias-corrected by its own $\beta$. ``weight_decay`` is optax's (added to the
    update before the learning rate, not the paper's proximal division); the shared decoupled
    option is not added on top. Per-weight learning rate (applied to
    $\hat m_t + (1-\beta_2)\hat v_t$): $\eta/(\sqrt{\hat n_t+\bar\varepsilon}+\varepsilon)$.
    Defaults are optax's; optax has no default learning rate, this package uses 0.001.
    Matches ``optax.adan`` exactly.

    Reference: Xie et al., "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing
    Deep Models", arXiv:2208.06677 (2022).
    """
    name = "Adan"
    core.check_learning_rate(name, learning_rate)
    for arg, value in (("beta_1", beta_1), ("beta_2", beta_2), ("beta_3", beta_3)):
        core.check_range(name, arg, value, 0.0, 1.0)
    core.check_epsilon(name, epsilon)
    core.check_epsilon(name, epsilon_root, "epsilon_root")
    core.check_range(name, "weight_decay", weight_decay, 0.0, None)
    return family.finish(
        name,
        adan_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        beta_3=beta_3,
        epsilon=epsilon,
        epsilon_root=epsilon_root,
        weight_decay=weight_decay,
    )
