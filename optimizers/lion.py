"""Lion: the sign of an interpolated momentum (Keras 3 ``Lion``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class LionState(NamedTuple):
    count: jax.Array
    momentum: Any  # m_t, the moving average of g that the sign is taken of (beta_2)


def lion_core(beta_1, beta_2) -> core.Core:
    def init(params):
        return LionState(family.count(), core.zeros_like(params))

    def step_leaf(g, m, t, lr):
        direction = jnp.sign(core.cast(beta_1, m) * m + (1 - core.cast(beta_1, m)) * g)
        return -core.cast(lr, g) * direction, core.moment(m, g, beta_2)

    step = family.leafwise(step_leaf, ("momentum",))

    def learning_rates(state, lr):
        return core.full_like_tree(state.momentum, lr)

    return core.Core(init, step, learning_rates)


def Lion(learning_rate=0.001, beta_1=0.9, beta_2=0.99, **options) -> core.Optimizer:
    r"""Lion, EvoLved Sign Momentum (Chen et al., 2023).

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1`` (interpolation for the sign),
    $\beta_2$ ``beta_2`` (decay of the momentum).

    $$c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad w_{t+1} = w_t - \eta\,\mathrm{sign}(c_t),
      \qquad m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t$$

    Every weight moves by exactly $\eta$ (or 0), so the per-weight learning rate is $\eta$
    (applied to $\mathrm{sign}(c_t)$). The shared ``weight_decay`` option is Keras's decoupled
    decay, as for every optimizer here. Defaults are Keras's (0.001, 0.9, 0.99); the paper
    advises a learning rate 3-10x smaller than AdamW's. Matches Keras 3 ``keras.optimizers.Lion``
    exactly.

    Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023
    (arXiv:2302.06675).
    """
    name = "Lion"
    core.check_learning_rate(name, learning_rate)
    core.check_range(name, "beta_1", beta_1, 0.0, 1.0, low_open=True)  # Keras: else SignSGD
    core.check_range(name, "beta_2", beta_2, 0.0, 1.0)
    return family.finish(name, lion_core, learning_rate, options, beta_1=beta_1, beta_2=beta_2)
