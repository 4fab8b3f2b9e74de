"""LARS: layer-wise adaptive rate scaling with the objax trust ratio."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core


class LARSState(NamedTuple):
    count: jax.Array
    momentum: Any  # m_t
    local_learning_rate: Any  # eta * r_t per tensor (a scalar per parameter array)


def LARS(
    learning_rate=1.0,
    momentum=0.9,
    weight_decay=1e-4,
    trust_coefficient=1e-3,
    epsilon=1e-5,
    nesterov=False,
    **options,
) -> core.Optimizer:
    r"""LARS (You, Gitman & Ginsburg, 2017) with the objax trust ratio.

    Symbols: $\eta$ ``learning_rate``, $\mu$ ``momentum``, $\lambda$ ``weight_decay``
    (LARS's own, coupled through the trust ratio), $tc$ ``trust_coefficient``,
    $\varepsilon$ ``epsilon``. Norms are per parameter array (a "layer").

    $$r_t = \frac{tc\,\lVert w_t\rVert}{\lVert g_t\rVert + \lambda\lVert w_t\rVert + \varepsilon},
      \qquad \ell_t = \eta\,\max\big(\mathbb 1[\lVert w_t\rVert = 0 \lor \lVert g_t\rVert = 0],
      r_t\big)$$
    $$m_t = \mu m_{t-1} + \ell_t (g_t + \lambda w_t),\qquad w_{t+1} = w_t - m_t
      \quad(\text{Nesterov: } w_{t+1} = w_t - \ell_t(g_t+\lambda w_t) - \mu m_t)$$

    Per-weight learning rate: $\ell_t = \eta r_t$, shared by every weight of a tensor (per
    layer, not per weight). The document's decay $\eta_t = \eta_0 (1 - t/T)^2$ is
    ``learning_rate=optimizers.schedules.lars_polynomial(eta_0, T)``.

    Matches objax ``LARS`` (its code: ``jn.maximum(logical_or(...), trust_ratio)``), with
    Nesterov from optax ``lars``; with ``weight_decay=0`` and ``epsilon=0`` this equals
    ``optax.lars`` exactly. One guard: where objax divides by zero (``g = 0`` with
    $\lambda = \varepsilon = 0$) the ratio is taken as 1, as optax does. objax passes the
    learning rate per call; 1.0 is the default here, so that a step moves about
    $tc\lVert w\rVert$ (times $1/(1-\mu)$ with momentum).

    Example:
        >>> import optimizers
        >>> opt = optimizers.LARS(learning_rate=optimizers.schedules.lars_polynomial(1.0, 500))

    Reference: You, Gitman & Ginsburg, "Large Batch Training of Convolutional Networks",
    arXiv:1708.03888.
    """
    name = "LARS"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "momentum", momentum)
    core.check_range(name, "weight_decay", weight_decay, 0.0, None)
    core.check_range(name, "trust_coefficient", trust_coefficient, 0.0, None, low_open=True)
    core.check_epsilon(name, epsilon)
    core.check_flag(name, "nesterov", nesterov)
    opts = core.check_options(
        name,
        options,
        ("learning_rate", "momentum", "weight_decay", "trust_coefficient", "epsilon", "nesterov"),
    )

    def init(params):
        scalars = jax.tree.map(lambda p: jnp.zeros([], p.dtype), params)
        return LARSState(jnp.zeros([], jnp.int32), core.zeros_like(params), scalars)

    def step_leaf(g, p, m, lr):
        mu, wd = core.cast(momentum, g), core.cast(weight_decay, g)
        p_norm, g_norm = jnp.linalg.norm(p), jnp.linalg.norm(g)
        denominator = g_norm + wd * p_norm + core.cast(epsilon, g)
        safe = jnp.where(denominator > 0, denominator, 1)
        ratio = jnp.where(denominator > 0, core.cast(trust_coefficient, g) * p_norm / safe, 1)
        either_zero = jnp.logical_or(p_norm == 0, g_norm == 0).astype(g.dtype)
        local_lr = core.cast(lr, g) * jnp.maximum(either_zero, ratio)
        u = local_lr * (g + wd * p)
        m = mu * m + u
        return -(u + mu * m if nesterov else m), m, local_lr

    def step(grads, state, params, lr):
        if params is None:
            raise ValueError("LARS: update() needs params (the trust ratio uses |w|)")
        updates, m, local = core.map_leaves(
            lambda g, p, m: step_leaf(g, p, m, lr), grads, params, state.momentum
        )
        return updates, LARSState(state.count + 1, m, local)

    def learning_rates(state, lr):
        del lr
        return jax.tree.map(
            lambda m, ell: jnp.full_like(m, ell), state.momentum, state.local_learning_rate
        )

    return core.with_options(
        core.Core(init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate,
            momentum=momentum,
            weight_decay=weight_decay,
            trust_coefficient=trust_coefficient,
            epsilon=epsilon,
            nesterov=nesterov,
        ),
    )
