"""Adadelta: Adagrad's successor that carries its own units."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core


class AdadeltaState(NamedTuple):
    count: jax.Array
    accumulated_grad: Any  # E[g^2]_t
    accumulated_delta: Any  # E[delta^2]_t
    previous_accumulated_delta: Any  # E[delta^2]_{t-1}: the numerator of the last step


def Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-7, **options) -> core.Optimizer:
    r"""Adadelta (Zeiler, 2012).

    Symbols: $\eta$ ``learning_rate``, $\rho$ ``rho``, $\varepsilon$ ``epsilon``.

    $$E^g_t = \rho E^g_{t-1} + (1-\rho) g_t^2,\quad
      \delta_t = \frac{\sqrt{E^\delta_{t-1}+\varepsilon}}{\sqrt{E^g_t+\varepsilon}}\, g_t,\quad
      E^\delta_t = \rho E^\delta_{t-1} + (1-\rho)\delta_t^2,\quad w_{t+1} = w_t - \eta\,\delta_t$$

    The accumulated delta is the unscaled one, as in every library. Per-weight learning
    rate: $\eta\sqrt{E^\delta_{t-1}+\varepsilon}/\sqrt{E^g_t+\varepsilon}$; unlike Adagrad's it
    can grow. The state keeps $E^\delta_{t-1}$ so that this can be read after the step.
    Defaults from the kerasy document ($\eta = 1$ as in the paper, $\rho = 0.95$,
    $\varepsilon = 10^{-7}$; Keras's own lr default is 0.001). Matches Keras 3 ``Adadelta``.

    Example:
        >>> import optimizers
        >>> opt = optimizers.Adadelta()

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701.
    """
    name = "Adadelta"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "rho", rho)
    core.check_epsilon(name, epsilon)
    opts = core.check_options(name, options, ("learning_rate", "rho", "epsilon"))

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

    return core.with_options(
        core.Core(init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(learning_rate=learning_rate, rho=rho, epsilon=epsilon),
    )
