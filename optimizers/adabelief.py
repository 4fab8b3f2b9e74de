"""AdaBelief: Adam whose second moment tracks the gradient's deviation from its prediction
(``optax.adabelief``)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax

from optimizers import core, family
from optimizers.declare import OptimizerInfo


class AdaBeliefState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment (the prediction of g)
    nu: Any  # s_t, the moving average of (g - m)^2, plus epsilon_root


def adabelief_core(beta_1, beta_2, epsilon, epsilon_root, nesterov) -> core.Core:
    def denominator(s, t):
        return family.debiased_root(s, beta_2, t, epsilon)

    def step_leaf(g, m, s, t, lr):
        m = core.moment(m, g, beta_1)
        s = core.moment(s, (g - m) ** 2, beta_2) + core.cast(epsilon_root, s)
        m_hat = family.nesterov_moment(m, g, beta_1, t, nesterov)
        return -core.cast(lr, s) / denominator(s, t) * m_hat, m, s

    return family.moments_core(AdaBeliefState, step_leaf, denominator)


# ---- declaration ------------------------------------------------------------------------------
ADABELIEF_INFO = OptimizerInfo(
    name="AdaBelief",
    rule=adabelief_core,
    summary="Adam scaled by the belief in the gradient: the variance of g around m.",
    group="adaptive",
    reference="Zhuang et al., AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed "
    "Gradients, NeurIPS 2020 (arXiv:2010.07468)",
    matches="optax.adabelief",
    defaults_from="optax (the paper's are epsilon=1e-8, epsilon_root=0; optax has no default "
    "learning rate: 0.001 is the paper's)",
    notes="m_hat and s_hat are bias-corrected by beta_1 and beta_2. ``nesterov=True`` uses "
    "optax's Nesterov first moment (as RAdam). The per-weight learning rate applies to m_hat.",
    example="    >>> opt = optimizers.AdaBelief(learning_rate=1e-3)",
    update_latex=r"m_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad s_t=\beta_2 s_{t-1}+(1-\beta_2)"
    r"(g_t-m_t)^2+\bar\varepsilon,\quad "
    r"w_{t+1}=w_t-\eta\frac{\hat m_t}{\sqrt{\hat s_t}+\varepsilon}",
    learning_rate_latex=r"\eta\,/\,(\sqrt{\hat s_t}+\varepsilon)",
    learning_rate=0.001,
    hyperparams=(
        *family.adam_moments(1e-16, beta_2_help="The exponential decay rate of s."),
        family.epsilon_root(1e-16),
        family.OPTAX_NESTEROV,
    ),
    state=(
        family.FIRST_MOMENT,
        dataclasses.replace(family.SECOND_MOMENT, symbol="s_t"),
    ),
)

AdaBelief = ADABELIEF_INFO.build
