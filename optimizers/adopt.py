"""ADOPT: Adam that normalises each gradient by the *previous* second moment, then clips and
averages it (``optax.contrib.adopt``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, decay_rate, epsilon, flag


class AdoptState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the moving average of clipped normalised gradients
    nu: Any  # v_t, the moving average of g^2 (v_1 = g_1^2)


def adopt_core(beta_1, beta_2, epsilon, nesterov, use_clipping) -> core.Core:
    def root(v, t=None):  # the same at every step t
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

    return family.moments_core(AdoptState, step_leaf, root)


# ---- declaration ------------------------------------------------------------------------------
ADOPT_INFO = OptimizerInfo(
    name="ADOPT",
    rule=adopt_core,
    summary="Adam reordered: the gradient is normalised by the previous v before the momentum.",
    group="adaptive",
    reference="Taniguchi et al., ADOPT: Modified Adam Can Converge with Any beta_2 with the "
    "Optimal Rate, NeurIPS 2024 (arXiv:2411.02853)",
    matches="optax.contrib.adopt",
    defaults_from="optax (optax has no default learning rate: 0.001 is the paper's)",
    notes="t counts updates from 0: at t = 0, v_0 = g_0^2 and m_0 = 0 (the clip bound is 0: the "
    "first update does not move). The clip function is t^(1/4), optax's default. The per-weight "
    "learning rate is the scale the next gradient gets before it enters the momentum.",
    example="    >>> opt = optimizers.ADOPT(learning_rate=1e-3)",
    update_latex=r"\tilde g_t=\mathrm{clip}_{\pm t^{1/4}}\Big(\frac{g_t}{\max(\sqrt{v_{t-1}},"
    r"\varepsilon)}\Big),\ m_t=\beta_1m_{t-1}+(1-\beta_1)\tilde g_t,\ v_t=\beta_2v_{t-1}+"
    r"(1-\beta_2)g_t^2,\ w_{t+1}=w_t-\eta m_t",
    learning_rate_latex=r"\eta\,/\,\max(\sqrt{v_t},\varepsilon)",
    learning_rate=0.001,
    hyperparams=(
        decay_rate("beta_1", 0.9, "Decay rate of the momentum."),
        family.beta_2(0.9999, "Decay rate of the second moment."),
        epsilon(1e-6),
        flag("nesterov", False, "Step along beta_1 m_t + (1 - beta_1) g~_t."),
        flag("use_clipping", True, "Clip the normalised gradient to +-t^(1/4)."),
    ),
    state=family.ADAM_MOMENTS,
)

ADOPT = ADOPT_INFO.build
