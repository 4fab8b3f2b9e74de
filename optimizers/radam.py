"""RAdam: Adam with its variance rectified, momentum SGD while the variance is intractable
(``optax.radam``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class RAdamState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment
    nu: Any  # v_t, the second moment (moving average of g^2)


def _rho(beta_2, t, like):
    """(rho_inf, rho_t): the length of the approximated simple moving average."""
    b2 = core.cast(beta_2, like)
    rho_inf = 2 / (1 - b2) - 1
    b2t = core.step_power(beta_2, t, like)
    return rho_inf, rho_inf - 2 * t.astype(like.dtype) * b2t / (1 - b2t)


def radam_core(beta_1, beta_2, epsilon, epsilon_root, threshold, nesterov) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        return RAdamState(family.count(), z, z)

    def rate(v, t, lr):
        """The factor applied to the bias-corrected first moment."""
        rho_inf, rho = _rho(beta_2, t, v)
        r = jnp.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        v_hat = family.debias(v, beta_2, t)
        rectified = r / (jnp.sqrt(v_hat + core.cast(epsilon_root, v)) + core.cast(epsilon, v))
        return core.cast(lr, v) * jnp.where(rho >= core.cast(threshold, v), rectified, 1.0)

    def step_leaf(g, m, v, t, lr):
        m = core.moment(m, g, beta_1)
        v = core.moment(v, g * g, beta_2)
        m_hat = family.nesterov_moment(m, g, beta_1, t, nesterov)
        return -rate(v, t, lr) * m_hat, m, v

    step = family.leafwise(step_leaf, ("mu", "nu"))

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: rate(v, state.count, lr), state.nu)

    return core.Core(init, step, learning_rates)


def RAdam(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    epsilon_root=0.0,
    threshold=5.0,
    nesterov=False,
    **options,
) -> core.Optimizer:
    r"""Rectified Adam (Liu et al., 2020).

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\varepsilon$ ``epsilon``, $\bar\varepsilon$ ``epsilon_root``, $\rho_{\min}$ ``threshold``.

    $$\hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
      \rho_\infty = \frac{2}{1-\beta_2} - 1,\quad
      \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}$$
    $$r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},
      \qquad w_{t+1} = w_t - \eta\begin{cases}
      r_t\,\hat m_t / (\sqrt{\hat v_t + \bar\varepsilon} + \varepsilon) & \rho_t \ge \rho_{\min}\\
      \hat m_t & \text{otherwise}\end{cases}$$

    ``nesterov=True`` replaces $\hat m_t$ by
    $\beta_1 m_t/(1-\beta_1^{t+1}) + (1-\beta_1) g_t/(1-\beta_1^t)$ (optax's form).
    Per-weight learning rate (the factor applied to $\hat m_t$):
    $\eta r_t/(\sqrt{\hat v_t+\bar\varepsilon}+\varepsilon)$ once rectified, $\eta$ before.
    Defaults are optax's; optax has no default learning rate, 0.001 is the paper's (its
    experiments use Adam's). Matches ``optax.radam`` exactly.

    Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
    ICLR 2020 (arXiv:1908.03265).
    """
    name = "RAdam"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    core.check_epsilon(name, epsilon_root, "epsilon_root")
    core.check_range(name, "threshold", threshold, 0.0, None)
    core.check_flag(name, "nesterov", nesterov)
    return family.finish(
        name,
        radam_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        epsilon_root=epsilon_root,
        threshold=threshold,
        nesterov=nesterov,
    )
