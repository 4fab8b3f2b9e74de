"""RMSprop: a leaky Adagrad, optionally centered and with momentum (docs/optimizer-equations.md,
RMSprop)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, StateField, decay_rate, epsilon, flag, momentum_buffer


class RMSpropState(NamedTuple):
    count: jax.Array
    velocity: Any  # v_t, the moving average of g^2
    average_gradient: Any  # \bar g_t (centered only; zeros otherwise)
    momentum: Any  # b_t, the momentum buffer (zeros while momentum is 0)


def _rmsprop_core(rho, momentum, epsilon, centered: bool) -> core.Core:
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

    return core.Core(init, step, learning_rates)


RMSPROP_INFO = OptimizerInfo(
    name="RMSprop",
    rule=_rmsprop_core,
    summary="Adagrad that forgets: a moving average of squared gradients.",
    group="adaptive",
    reference="Tieleman & Hinton, COURSERA lecture 6.5 (2012); Graves, Generating Sequences "
    "With Recurrent Neural Networks (2013) for the centered form",
    matches="Keras 3 RMSprop",
    defaults_from="the kerasy optimizers documentation (0.001, 0.9, epsilon inside the root as "
    "its formula shows)",
    notes="Centered: bar g_t = rho bar g_{t-1} + (1 - rho) g_t and the root holds "
    "v_t - bar g_t^2 + eps (so does the per-weight learning rate). The momentum buffer b_t is "
    "in weight units; with momentum 0 it is the step itself.",
    example="    >>> opt = optimizers.RMSprop(learning_rate=0.01, centered=True)",
    update_latex=r"v_t=\rho v_{t-1}+(1-\rho)g_t^2,\quad b_t=\mu b_{t-1}+\frac{\eta g_t}"
    r"{\sqrt{v_t+\varepsilon}},\quad w_{t+1}=w_t-b_t",
    learning_rate_latex=r"\eta\,/\sqrt{v_t+\varepsilon}",
    learning_rate=0.001,
    hyperparams=(
        decay_rate("rho", 0.9, "Discounting factor for the history of squared gradients."),
        family.momentum(0.0, "Momentum on the scaled step."),
        epsilon(1e-7),
        flag("centered", False, "Normalise by the estimated variance of the gradient."),
    ),
    state=(
        StateField(name="velocity", symbol="v_t", role="second_moment"),
        StateField(name="average_gradient", symbol=r"\bar g_t", role="first_moment"),
        momentum_buffer("momentum", "b_t", units="weights", off_when_zero="momentum"),
    ),
)

RMSprop = RMSPROP_INFO.build
