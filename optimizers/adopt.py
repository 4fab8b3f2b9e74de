"""ADOPT: Adam that normalises each gradient by the *previous* second moment, then clips and
averages it (``optax.contrib.adopt``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class AdoptState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the moving average of clipped normalised gradients
    nu: Any  # v_t, the moving average of g^2 (v_1 = g_1^2)


def adopt_core(beta_1, beta_2, epsilon, nesterov, use_clipping) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        return AdoptState(family.count(), z, z)

    def root(v):
        return jnp.maximum(jnp.sqrt(v), core.cast(epsilon, v))

    def step_leaf(g, m, v, t, lr):
        count = t - 1  # optax counts from 0 here
        started = count > 0
        b1 = jnp.where(started, core.cast(beta_1, m), 1)
        b2 = jnp.where(started, core.cast(beta_2, v), 0)
        normalised = g / root(v)
        if use_clipping:
            limit = (count.astype(g.dtype)) ** 0.25
            normalised = jnp.clip(normalised, -limit, limit)
        v_new = core.moment(v, g * g, b2)
        m = core.moment(m, normalised, b1)
        direction = core.moment(m, normalised, b1) if nesterov else m
        return -core.cast(lr, g) * direction, m, v_new

    step = family.leafwise(step_leaf, ("mu", "nu"))

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: core.cast(lr, v) / root(v), state.nu)

    return core.Core(init, step, learning_rates)


def ADOPT(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.9999,
    epsilon=1e-6,
    nesterov=False,
    use_clipping=True,
    **options,
) -> core.Optimizer:
    r"""ADOPT (Taniguchi et al., 2024), as ``optax.contrib.adopt`` computes it.

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\varepsilon$ ``epsilon``; $t$ counts updates from 0.

    $$\tilde g_t = \mathrm{clip}_{\pm t^{1/4}}\!\left(\frac{g_t}{\max(\sqrt{v_{t-1}},
      \varepsilon)}\right),\qquad m_t = \beta_1 m_{t-1} + (1-\beta_1)\tilde g_t,\qquad
      v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\qquad w_{t+1} = w_t - \eta m_t$$

    At $t=0$, $v_0 = g_0^2$ and $m_0 = 0$ (the clip bound is 0: the first update does not
    move). ``use_clipping=False`` drops the clip; ``nesterov=True`` steps along
    $\beta_1 m_t + (1-\beta_1)\tilde g_t$. Per-weight learning rate:
    $\eta/\max(\sqrt{v_t},\varepsilon)$, the scale the next gradient gets before it enters the
    momentum. Defaults are optax's; optax has no default learning rate, 0.001 is the paper's.
    Matches ``optax.contrib.adopt`` (clip function $t^{1/4}$, its default) exactly.

    Reference: Taniguchi et al., "ADOPT: Modified Adam Can Converge with Any beta_2 with the
    Optimal Rate", NeurIPS 2024 (arXiv:2411.02853).
    """
    name = "ADOPT"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    core.check_flag(name, "nesterov", nesterov)
    core.check_flag(name, "use_clipping", use_clipping)
    return family.finish(
        name,
        adopt_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        nesterov=nesterov,
        use_clipping=use_clipping,
    )
