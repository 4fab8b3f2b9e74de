"""Yogi: Adam whose second moment moves additively, so it cannot grow too fast
(``optax.yogi``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family

# optax.yogi starts both moments at scale_by_yogi's initial_accumulator_value, 1e-6.
_INITIAL = 1e-6


class YogiState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment
    nu: Any  # v_t, the additive second moment


def yogi_core(beta_1, beta_2, epsilon) -> core.Core:
    def init(params):
        start = jax.tree.map(lambda p: jnp.full_like(p, _INITIAL), params)
        return YogiState(family.count(), start, start)

    def rate(v, t, lr):
        return core.cast(lr, v) / (jnp.sqrt(family.debias(v, beta_2, t)) + core.cast(epsilon, v))

    def step_leaf(g, m, v, t, lr):
        m = core.moment(m, g, beta_1)
        g2 = g * g
        v = v - (1 - core.cast(beta_2, v)) * jnp.sign(v - g2) * g2
        return -rate(v, t, lr) * family.debias(m, beta_1, t), m, v

    step = family.leafwise(step_leaf, ("mu", "nu"))

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: rate(v, state.count, lr), state.nu)

    return core.Core(init, step, learning_rates)


def Yogi(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-3, **options):
    r"""Yogi (Zaheer et al., 2018).

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\varepsilon$ ``epsilon``; both moments start at $10^{-6}$ (optax).

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
      v_t = v_{t-1} - (1-\beta_2)\,\mathrm{sign}(v_{t-1} - g_t^2)\,g_t^2$$
    $$w_{t+1} = w_t - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}$$

    Per-weight learning rate (applied to $\hat m_t$): $\eta/(\sqrt{\hat v_t}+\varepsilon)$.
    Defaults are optax's; optax has no default learning rate, 0.01 is the paper's
    recommendation. Matches ``optax.yogi`` exactly.

    Reference: Zaheer et al., "Adaptive Methods for Nonconvex Optimization", NeurIPS 2018.
    """
    name = "Yogi"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    return family.finish(
        name,
        yogi_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
    )
