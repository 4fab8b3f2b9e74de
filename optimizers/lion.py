"""Lion: the sign of an interpolated momentum (Keras 3 ``Lion``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from optimizers import core, family
from optimizers.declare import OptimizerInfo, decay_rate, momentum_buffer


class LionState(NamedTuple):
    count: jax.Array
    momentum: Any  # m_t, the moving average of g that the sign is taken of (beta_2)


def lion_core(beta_1, beta_2) -> core.Core:
    """The sign of beta_1 m_{t-1} + (1 - beta_1) g_t; the momentum decays with beta_2."""
    return family.sign_descent(LionState, beta_1, beta_2)


# ---- declaration ------------------------------------------------------------------------------
LION_INFO = OptimizerInfo(
    name="Lion",
    rule=lion_core,
    summary="Steps by the sign of an interpolated momentum: every weight moves by lr.",
    group="sign-based",
    reference="Chen et al., Symbolic Discovery of Optimization Algorithms, NeurIPS 2023 "
    "(arXiv:2302.06675)",
    matches="Keras 3 Lion",
    defaults_from="the Keras 3 documentation (the paper advises a learning rate 3-10x smaller "
    "than AdamW's)",
    notes="Every weight moves by exactly eta (or 0), so the per-weight learning rate is eta, "
    "applied to sign(c_t). The shared ``weight_decay`` option is Keras's decoupled decay. "
    "beta_1 = 0 is refused as Keras does (that would be SignSGD).",
    example="    >>> opt = optimizers.Lion(learning_rate=1e-4)",
    update_latex=r"c_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad w_{t+1}=w_t-\eta\,\mathrm{sign}(c_t),"
    r"\quad m_t=\beta_2 m_{t-1}+(1-\beta_2)g_t",
    learning_rate_latex=r"\eta",
    learning_rate=0.001,
    hyperparams=(
        family.open_rate("beta_1", 0.9, "Interpolation of momentum and gradient for the sign."),
        decay_rate("beta_2", 0.99, "The exponential decay rate of the momentum."),
    ),
    state=(momentum_buffer("momentum", "m_t"),),
)

Lion = LION_INFO.build
