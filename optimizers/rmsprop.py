"""RMSprop: a leaky Adagrad, optionally centered and with momentum."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core


class RMSpropState(NamedTuple):
    count: jax.Array
    velocity: Any  # v_t, the moving average of g^2
    average_gradient: Any  # \bar g_t (centered only; zeros otherwise)
    momentum: Any  # b_t, the momentum buffer (zeros while momentum is 0)


def RMSprop(
    learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **options
) -> core.Optimizer:
    r"""RMSprop (Tieleman & Hinton, 2012), with Keras's centered and momentum options.

    Symbols: $\eta$ ``learning_rate``, $\rho$ ``rho``, $\mu$ ``momentum``,
    $\varepsilon$ ``epsilon``.

    $$v_t = \rho v_{t-1} + (1-\rho) g_t^2,\qquad
      \Delta_t = \frac{\eta\, g_t}{\sqrt{v_t + \varepsilon}},\qquad
      b_t = \mu b_{t-1} + \Delta_t,\qquad w_{t+1} = w_t - b_t$$

    Centered: $\bar g_t = \rho \bar g_{t-1} + (1-\rho) g_t$ and the root holds
    $v_t - \bar g_t^2 + \varepsilon$. Per-weight learning rate:
    $\eta/\sqrt{v_t + \varepsilon}$ (centered: $\eta/\sqrt{v_t - \bar g_t^2 + \varepsilon}$).
    Defaults from the kerasy document (0.001, 0.9, $\varepsilon$ inside the root as its
    formula shows). Matches Keras 3 ``RMSprop`` exactly.

    Example:
        >>> import optimizers
        >>> opt = optimizers.RMSprop(learning_rate=0.01, centered=True)

    Reference: Tieleman & Hinton, Lecture 6.5, COURSERA: Neural Networks for Machine
    Learning (2012); Graves, "Generating Sequences With Recurrent Neural Networks" (2013)
    for the centered form.
    """
    name = "RMSprop"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "rho", rho)
    core.check_probability(name, "momentum", momentum)
    core.check_epsilon(name, epsilon)
    core.check_flag(name, "centered", centered)
    opts = core.check_options(
        name, options, ("learning_rate", "rho", "momentum", "epsilon", "centered")
    )

    def init(params):
        z = core.zeros_like(params)
        return RMSpropState(jnp.zeros([], jnp.int32), z, z, z)

    def rate(v, gbar, lr):
        denominator = v - gbar * gbar if centered else v
        return core.cast(lr, v) / jnp.sqrt(denominator + core.cast(epsilon, v))

    def step_leaf(g, v, gbar, b, lr):
        v = core.moment(v, g * g, rho)
        if centered:
            gbar = core.moment(gbar, g, rho)
        b = core.cast(momentum, b) * b + rate(v, gbar, lr) * g
        return -b, v, gbar, b

    def step(grads, state, params, lr):
        del params
        updates, v, gbar, b = core.map_leaves(
            lambda *a: step_leaf(*a, lr),
            grads,
            state.velocity,
            state.average_gradient,
            state.momentum,
        )
        return updates, RMSpropState(state.count + 1, v, gbar, b)

    def learning_rates(state, lr):
        return jax.tree.map(lambda v, gb: rate(v, gb, lr), state.velocity, state.average_gradient)

    return core.with_options(
        core.Core(init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate,
            rho=rho,
            momentum=momentum,
            epsilon=epsilon,
            centered=centered,
        ),
    )
