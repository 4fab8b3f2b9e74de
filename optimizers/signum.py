"""Signum: signSGD with momentum, the sign of a moving average of the gradient
(``optax.signum``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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


def Signum(learning_rate=0.0001, beta=0.9, **options) -> core.Optimizer:
    r"""Signum (Bernstein et al., 2018): the sign of momentum.

    Symbols: $\eta$ ``learning_rate``, $\beta$ ``beta``.

    $$m_t = \beta m_{t-1} + (1-\beta) g_t,\qquad w_{t+1} = w_t - \eta\,\mathrm{sign}(m_t)$$

    Every weight moves by $\eta$ (or 0): the per-weight learning rate is $\eta$, applied to
    $\mathrm{sign}(m_t)$. Unlike :func:`optimizers.lion.Lion` the sign is taken of the momentum
    itself. optax has no default learning rate and this package fixes 0.0001, a
    conservative step since every weight moves by it (MXNet's ``Signum`` defaults to 0.01).
    Matches ``optax.signum`` exactly (optax 0.2.8 has it in ``optax``, not ``optax.contrib``).

    Reference: Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex Problems",
    ICML 2018 (arXiv:1802.04434).
    """
    name = "Signum"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta", beta)
    return family.finish(name, signum_core, learning_rate, options, beta=beta)
