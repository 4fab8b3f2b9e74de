"""Gradient descent: SGD (Keras/kerasy form) and Momentum (objax/optax form, with Nesterov).

Each optimizer here is its update rule and one declaration (``optimizers/declare.py``): the
constructors ``SGD`` and ``Momentum`` are derived from ``SGD_INFO`` and ``MOMENTUM_INFO``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, StateField, retune


class VelocityState(NamedTuple):
    count: jax.Array
    velocity: Any


def _velocity_core(keras_form: bool, momentum: Any, nesterov: bool) -> core.Core:
    def init(params):
        return VelocityState(jnp.zeros([], jnp.int32), core.zeros_like(params))

    def step_leaf(g, v, lr):
        mu, lr = core.cast(momentum, g), core.cast(lr, g)
        if keras_form:  # v = mu v - lr g ; w += v  (or mu v - lr g with Nesterov)
            v = v * mu - g * lr
            return (v * mu - g * lr if nesterov else v), v
        v = g + mu * v  # m = g + mu m ; w -= lr m  (or lr (g + mu m) with Nesterov)
        return -lr * (g + mu * v if nesterov else v), v

    def step(grads, state, params, lr):
        del params
        updates, velocity = core.map_leaves(lambda g, v: step_leaf(g, v, lr), grads, state.velocity)
        return updates, VelocityState(state.count + 1, velocity)

    def learning_rates(state, lr):
        return core.full_like_tree(state.velocity, lr)

    return core.Core(init, step, learning_rates)


def _keras_velocity(momentum, nesterov) -> core.Core:
    return _velocity_core(True, momentum, nesterov)


def _heavy_ball(momentum, nesterov) -> core.Core:
    return _velocity_core(False, momentum, nesterov)


SGD_INFO = OptimizerInfo(
    name="SGD",
    rule=_keras_velocity,
    title="Stochastic gradient descent",
    summary="One learning rate for every weight; optional (Nesterov) momentum.",
    group="classic",
    reference="Robbins & Monro (1951); Sutskever et al., ICML 2013 for Nesterov momentum",
    matches="Keras 3 SGD",
    defaults_from="the kerasy optimizers documentation (SGD(0.01, momentum=0., nesterov=False))",
    notes="The learning rate lives inside v (so under a schedule this differs from Momentum). "
    "Nesterov: w_{t+1} = w_t + mu v_t - eta g_t.",
    example="    >>> opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)",
    update_latex=r"v_t=\mu v_{t-1}-\eta g_t,\quad w_{t+1}=w_t+v_t",
    learning_rate_latex=r"\eta",
    learning_rate=0.01,
    hyperparams=(
        family.momentum(0.0),
        family.NESTEROV,
    ),
    state=(
        StateField(
            name="velocity", symbol="v_t", role="momentum", moves=+1, off_when_zero="momentum"
        ),
    ),
)

MOMENTUM_INFO = SGD_INFO.derive(
    name="Momentum",
    rule=_heavy_ball,
    title="Momentum (heavy ball)",
    summary="Accumulates a velocity: steps approach lr/(1-momentum) on a constant slope.",
    reference="Polyak (1964); Sutskever et al., ICML 2013",
    matches="optax sgd(momentum) / objax Momentum",
    defaults_from="the objax Momentum documentation (momentum 0.9; objax passes the learning "
    "rate per call, 0.01 here)",
    notes="Nesterov uses the Bengio et al. (2012) reformulation with the gradient taken at w_t: "
    "w_{t+1} = w_t - eta (g_t + mu m_t). Matches optax.sgd(lr, momentum, nesterov) exactly (the "
    "same algebraic form as objax).",
    example="    >>> opt = optimizers.Momentum(learning_rate=0.1, momentum=0.9, nesterov=True)",
    update_latex=r"m_t=g_t+\mu m_{t-1},\quad w_{t+1}=w_t-\eta m_t",
    hyperparams=retune(
        SGD_INFO.hyperparams,
        momentum={"default": 0.9, "help": "Velocity decay: mu in m = g + mu m."},
    ),
    state=retune(SGD_INFO.state, velocity={"symbol": "m_t", "moves": -1, "units": "gradient"}),
)

NESTEROV_INFO = MOMENTUM_INFO.preset(
    name="Nesterov",
    title="Nesterov accelerated gradient",
    summary="Momentum that looks ahead: corrects the velocity before it overshoots.",
    reference="Nesterov (1983); Sutskever et al., ICML 2013",
    matches="optax sgd(momentum, nesterov=True) / objax Momentum(nesterov=True)",
    update_latex=r"m_t=g_t+\mu m_{t-1},\quad w_{t+1}=w_t-\eta\,(g_t+\mu m_t)",
    fixed={"nesterov": True},
)

SGD = SGD_INFO.build
Momentum = MOMENTUM_INFO.build
