"""Signum: signSGD with momentum, the sign of a moving average of the gradient
(``optax.signum``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from optimizers import core, family
from optimizers.declare import OptimizerInfo, decay_rate, momentum_buffer


class SignumState(NamedTuple):
    count: jax.Array
    ema: Any  # m_t, the moving average of g (not debiased: only its sign is used)


def signum_core(beta) -> core.Core:
    """The sign of the new moving average itself: Lion's rule with one beta for both."""
    return family.sign_descent(SignumState, beta, beta)


# ---- declaration ------------------------------------------------------------------------------
SIGNUM_INFO = OptimizerInfo(
    name="Signum",
    rule=signum_core,
    summary="signSGD with momentum: the sign of a moving average of the gradient.",
    group="sign-based",
    reference="Bernstein et al., signSGD: Compressed Optimisation for Non-Convex Problems, "
    "ICML 2018 (arXiv:1802.04434)",
    matches="optax.signum",
    defaults_from="optax (optax has no default learning rate: 0.0001 here, a conservative step "
    "since every weight moves by it; MXNet's Signum defaults to 0.01)",
    notes="Every weight moves by eta (or 0): the per-weight learning rate is eta, applied to "
    "sign(m_t). Unlike Lion the sign is taken of the momentum itself. optax 0.2.8 has it in "
    "``optax``, not ``optax.contrib``.",
    example="    >>> opt = optimizers.Signum(learning_rate=1e-3)",
    update_latex=r"m_t=\beta m_{t-1}+(1-\beta)g_t,\qquad w_{t+1}=w_t-\eta\,\mathrm{sign}(m_t)",
    learning_rate_latex=r"\eta",
    learning_rate=0.0001,
    hyperparams=(
        decay_rate("beta", 0.9, "The exponential decay rate of the momentum.", live=True),
    ),
    state=(momentum_buffer("ema", "m_t"),),
)

Signum = SIGNUM_INFO.build
