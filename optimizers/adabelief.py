"""AdaBelief: Adam whose second moment tracks the gradient's deviation from its prediction
(``optax.adabelief``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class AdaBeliefState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment (the prediction of g)
    nu: Any  # s_t, the moving average of (g - m)^2, plus epsilon_root


def adabelief_core(beta_1, beta_2, epsilon, epsilon_root, nesterov) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        return AdaBeliefState(family.count(), z, z)

    def rate(s, t, lr):
        s_hat = family.debias(s, beta_2, t)
        return core.cast(lr, s) / (jnp.sqrt(s_hat) + core.cast(epsilon, s))

    def step_leaf(g, m, s, t, lr):
        m = core.moment(m, g, beta_1)
        s = core.moment(s, (g - m) ** 2, beta_2) + core.cast(epsilon_root, s)
        m_hat = family.nesterov_moment(m, g, beta_1, t, nesterov)
        return -rate(s, t, lr) * m_hat, m, s

    step = family.leafwise(step_leaf, ("mu", "nu"))

    def learning_rates(state, lr):
        return jax.tree.map(lambda s: rate(s, state.count, lr), state.nu)

    return core.Core(init, step, learning_rates)


def AdaBelief(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-16,
    epsilon_root=1e-16,
    nesterov=False,
    **options,
) -> core.Optimizer:
    r"""AdaBelief (Zhuang et al., 2020).

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\varepsilon$ ``epsilon``, $\bar\varepsilon$ ``epsilon_root``.

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
      s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \bar\varepsilon$$
    $$w_{t+1} = w_t - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \varepsilon}$$

    ``nesterov=True`` uses optax's Nesterov first moment (as :func:`optimizers.radam.RAdam`).
    Per-weight learning rate (applied to $\hat m_t$): $\eta/(\sqrt{\hat s_t}+\varepsilon)$.
    Defaults are optax's (the paper's are ``epsilon=1e-8``, ``epsilon_root=0``); optax has no
    default learning rate, 0.001 is the paper's. Matches ``optax.adabelief`` exactly.

    Reference: Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", NeurIPS 2020 (arXiv:2010.07468).
    """
    name = "AdaBelief"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    core.check_epsilon(name, epsilon_root, "epsilon_root")
    core.check_flag(name, "nesterov", nesterov)
    return family.finish(
        name,
        adabelief_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        epsilon_root=epsilon_root,
        nesterov=nesterov,
    )
