"""Adadelta: Adagrad's successor that carries its own units (docs/optimizer-equations.md,
Adadelta)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core
from optimizers.declare import OptimizerInfo, StateField, decay_rate, epsilon, learning_rate


class AdadeltaState(NamedTuple):
    count: jax.Array
    accumulated_grad: Any  # E[g^2]_t
    accumulated_delta: Any  # E[delta^2]_t
    previous_accumulated_delta: Any  # E[delta^2]_{t-1}: the numerator of the last step


def _adadelta_core(rho, epsilon) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        return AdadeltaState(jnp.zeros([], jnp.int32), z, z, z)

    def unit_ratio(e_delta, e_grad):
        eps = core.cast(epsilon, e_grad)
        return jnp.sqrt(e_delta + eps) / jnp.sqrt(e_grad + eps)

    def step_leaf(g, e_grad, e_delta, lr):
        e_grad = core.moment(e_grad, g * g, rho)
        delta = unit_ratio(e_delta, e_grad) * g
        new_e_delta = core.moment(e_delta, delta * delta, rho)
        return -core.cast(lr, g) * delta, e_grad, new_e_delta, e_delta

    def step(grads, state, params, lr):
        del params
        updates, e_grad, e_delta, previous = core.map_leaves(
            lambda g, eg, ed: step_leaf(g, eg, ed, lr),
            grads,
            state.accumulated_grad,
            state.accumulated_delta,
        )
        return updates, AdadeltaState(state.count + 1, e_grad, e_delta, previous)

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda ed, eg: core.cast(lr, eg) * unit_ratio(ed, eg),
            state.previous_accumulated_delta,
            state.accumulated_grad,
        )

    return core.Core(init, step, learning_rates)


ADADELTA_INFO = OptimizerInfo(
    name="Adadelta",
    rule=_adadelta_core,
    summary="Rates with units: the ratio of past update size to past gradient size.",
    group="adaptive",
    reference="Zeiler, ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701 (2012)",
    matches="Keras 3 Adadelta",
    defaults_from="the kerasy optimizers documentation (eta = 1 as in the paper, rho = 0.95, "
    "epsilon = 1e-7; Keras's own learning-rate default is 0.001)",
    notes="The accumulated delta is the unscaled one, as in every library. Unlike Adagrad's, "
    "the per-weight learning rate can grow; the state keeps E^delta_{t-1} so that it can be "
    "read after the step.",
    example="    >>> opt = optimizers.Adadelta()",
    update_latex=r"E^g_t=\rho E^g_{t-1}+(1-\rho)g_t^2,\quad \delta_t=\frac{\sqrt{E^\delta_{t-1}+"
    r"\varepsilon}}{\sqrt{E^g_t+\varepsilon}}g_t,\quad E^\delta_t=\rho E^\delta_{t-1}+"
    r"(1-\rho)\delta_t^2,\quad w_{t+1}=w_t-\eta\delta_t",
    learning_rate_latex=r"\eta\sqrt{E^\delta_{t-1}+\varepsilon}\,/\sqrt{E^g_t+\varepsilon}",
    learning_rate=learning_rate(1.0, 1e-3, 10.0),
    hyperparams=(
        decay_rate("rho", 0.95, "The decay rate of both running averages."),
        epsilon(1e-7),
    ),
    state=(
        StateField(name="accumulated_grad", symbol="E^g_t", role="second_moment"),
        StateField(name="accumulated_delta", symbol=r"E^\delta_t", role="update_moment"),
    ),
)

Adadelta = ADADELTA_INFO.build
