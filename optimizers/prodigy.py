"""Prodigy: Adam whose learning rate scale d is estimated from the distance travelled
(``optax.contrib.prodigy``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers import core, family


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


def Prodigy(
    learning_rate=1.0,
    beta_1=0.9,
    beta_2=0.999,
    beta_3=None,
    epsilon=1e-8,
    estim_lr0=1e-6,
    estim_lr_coef=1.0,
    weight_decay=0.0,
    safeguard_warmup=False,
    **options,
) -> core.Optimizer:
    r"""Prodigy (Mishchenko & Defazio, 2024), as ``optax.contrib.prodigy`` computes it.

    Symbols: $\eta$ ``learning_rate`` (a multiplier of the estimate, 1 by default),
    $\beta_1, \beta_2$ ``beta_1``, ``beta_2`` (optax's ``betas``), $\beta_3$ ``beta_3``
    (optax's ``beta3``; ``None`` means $\sqrt{\beta_2}$), $\varepsilon$ ``epsilon``, $d_0$
    ``estim_lr0``, $c$ ``estim_lr_coef``, $\lambda$ ``weight_decay``.

    $$\hat\eta_t = d_{t-1}\,\eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t},\qquad
      m_t = \beta_1 m_{t-1} + (1-\beta_1) d_{t-1} g_t,\qquad
      v_t = \beta_2 v_{t-1} + (1-\beta_2) d_{t-1}^2 g_t^2$$
    $$s_t = \beta_3 s_{t-1} + \frac{\hat\eta_t d_{t-1}}{d_0} g_t,\qquad
      r_t = \beta_3 r_{t-1} + \frac{d_{t-1}}{d_0}\hat\eta_t\langle g_t, w_0 - w_t\rangle,\qquad
      d_t = \max\!\Big(d_{t-1}, \frac{c\, r_t}{\lVert s_t\rVert_1}\Big)$$
    $$w_{t+1} = w_t - \hat\eta_t\Big(\frac{m_t}{\sqrt{v_t} + d_t\varepsilon} + \lambda w_t\Big)$$

    ``safeguard_warmup=True`` weights $s_t$ by $d_{t-1}$ instead of $\hat\eta_t$. ``weight_decay``
    is optax's; the shared decoupled option is not added on top. Per-weight learning rate (the
    factor applied to $m_t$, the average of $d\,g$): $\hat\eta_t/(\sqrt{v_t} + d_t\varepsilon)$.
    $d_t$ is a scalar of the state; the state also keeps $w_0$. Defaults are optax's. Matches
    ``optax.contrib.prodigy`` exactly.

    Reference: Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", ICML 2024 (arXiv:2306.06101).
    """
    name = "Prodigy"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    if beta_3 is not None:
        core.check_probability(name, "beta_3", beta_3)
    core.check_epsilon(name, epsilon)
    core.check_range(name, "estim_lr0", estim_lr0, 0.0, None, low_open=True)
    core.check_range(name, "estim_lr_coef", estim_lr_coef, 0.0, None, low_open=True)
    core.check_range(name, "weight_decay", weight_decay, 0.0, None)
    core.check_flag(name, "safeguard_warmup", safeguard_warmup)
    return family.finish(
        name,
        prodigy_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        beta_3=beta_3,
        epsilon=epsilon,
        estim_lr0=estim_lr0,
        estim_lr_coef=estim_lr_coef,
        weight_decay=weight_decay,
        safeguard_warmup=safeguard_warmup,
    )
