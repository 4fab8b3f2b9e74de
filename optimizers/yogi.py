"""Yogi: Adam whose second moment moves additively, so it cannot grow too fast
(``optax.yogi``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo

# optax.yogi starts both moments at scale_by_yogi's initial_accumulator_value, 1e-6.
_INITIAL = 1e-6


class YogiState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment
    nu: Any  # v_t, the additive second moment


def _start(p):
    return jnp.full_like(p, _INITIAL)


def yogi_core(beta_1, beta_2, epsilon) -> core.Core:
    def denominator(v, t):
        return family.debiased_root(v, beta_2, t, epsilon)

    def step_leaf(g, m, v, t, lr):
        m = core.moment(m, g, beta_1)
        g2 = g * g
        v = v - (1 - core.cast(beta_2, v)) * jnp.sign(v - g2) * g2
        return -core.cast(lr, v) / denominator(v, t) * family.debias(m, beta_1, t), m, v

    return family.moments_core(YogiState, step_leaf, denominator, _start)


# ---- declaration ------------------------------------------------------------------------------
YOGI_INFO = OptimizerInfo(
    name="Yogi",
    rule=yogi_core,
    summary="Adam whose second moment moves additively, so it cannot grow too fast.",
    group="adaptive",
    reference="Zaheer et al., Adaptive Methods for Nonconvex Optimization, NeurIPS 2018",
    matches="optax.yogi",
    defaults_from="optax (both moments start at 1e-6 as optax's; optax has no default learning "
    "rate: 0.01 is the paper's recommendation)",
    notes="m_hat and v_hat are bias-corrected; the per-weight learning rate applies to m_hat.",
    example="    >>> opt = optimizers.Yogi(learning_rate=1e-2)",
    update_latex=r"m_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad v_t=v_{t-1}-(1-\beta_2)\,"
    r"\mathrm{sign}(v_{t-1}-g_t^2)\,g_t^2,\quad w_{t+1}=w_t-\eta\frac{\hat m_t}"
    r"{\sqrt{\hat v_t}+\varepsilon}",
    learning_rate_latex=r"\eta\,/\,(\sqrt{\hat v_t}+\varepsilon)",
    learning_rate=0.01,
    hyperparams=family.adam_moments(1e-3, 0.999, "The rate of the additive 2nd-moment change."),
    state=family.ADAM_MOMENTS,
)

Yogi = YOGI_INFO.build
