"""Signum: signSGD with momentum, the sign of a moving average of the gradient
(``optax.signum``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import (
    OptimizerInfo,
    StateField,
    decay_rate,
    learning_rate,
)


class SignumState(NamedTuple):
    count: jax.Array
    ema: Any  # m_t, the moving average of g (not debiased: only its sign is used)


def signum_core(beta) -> core.Core:
    def init(params):
        return SignumState(family.count(), core.zeros_like(params))

    def step_leaf(g, m, t, lr):
        m = core.moment(m, g, beta)
        return -core.cast(lr, m) * jnp.sign(m), m

    step = family.leafwise(step_leaf, ("ema",))

    def learning_rates(state, lr):
        return core.full_like_tree(state.ema, lr)

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
SIGNUM_INFO = OptimizerInfo(
    name="Signum",
    rule=signum_core,
    summary="signSGD with momentum: the sign of a moving average of the gradient.",
    group="sign-based",
    reference="Bernstein et al., signSGD: Compressed Optimisation for Non-Convex Problems, "
    "ICML 2018 (arXiv:1802.04434)",
    matches="optax.signum",
    update_latex=r"m_t=\beta m_{t-1}+(1-\beta)g_t,\qquad w_{t+1}=w_t-\eta\,\mathrm{sign}(m_t)",
    learning_rate_latex=r"\eta",
    hyperparams=(
        learning_rate(0.0001),
        decay_rate("beta", 0.9, "The exponential decay rate of the momentum.", live=True),
    ),
    state=(StateField(name="ema", symbol="m_t", role="momentum", moves=-1, units="gradient"),),
    defaults_from="optax (optax has no default learning rate: 0.0001 here, a conservative step "
    "since every weight moves by it; MXNet's Signum defaults to 0.01)",
    notes="Every weight moves by eta (or 0): the per-weight learning rate is eta, applied to "
    "sign(m_t). Unlike Lion the sign is taken of the momentum itself. optax 0.2.8 has it in "
    "``optax``, not ``optax.contrib``.",
    example="    >>> opt = optimizers.Signum(learning_rate=1e-3)",
)

Signum = SIGNUM_INFO.build
