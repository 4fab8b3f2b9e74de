"""Gradient descent: SGD (Keras/kerasy form) and Momentum (objax/optax form, with Nesterov)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core


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


def SGD(learning_rate=0.01, momentum=0.0, nesterov=False, **options) -> core.Optimizer:
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as Keras and kerasy.

    Symbols: $\eta$ ``learning_rate``, $\mu$ ``momentum``.

    $$v_t = \mu v_{t-1} - \eta g_t,\qquad w_{t+1} = w_t + v_t
      \quad(\text{Nesterov: } w_{t+1} = w_t + \mu v_t - \eta g_t)$$

    The learning rate lives inside $v$ (so under a schedule this differs from
    :func:`Momentum`). Per-weight learning rate: the constant $\eta$ for every weight.
    Defaults from the kerasy document (``SGD(learning_rate=0.01, momentum=0.,
    nesterov=False)``). Matches Keras 3 ``SGD`` exactly.

    Example:
        >>> import jax.numpy as jnp, optimizers
        >>> opt = optimizers.SGD(learning_rate=0.1)
        >>> w = jnp.array([1.0, -2.0]); state = opt.init(w)
        >>> updates, state = opt.update(2 * w, state, w)   # gradient of |w|^2
        >>> w + updates
        Array([ 0.8, -1.6], dtype=float32)

    Reference: Robbins & Monro (1951); Sutskever et al. (2013) for Nesterov momentum.
    """
    name = "SGD"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "momentum", momentum)
    core.check_flag(name, "nesterov", nesterov)
    opts = core.check_options(name, options, ("learning_rate", "momentum", "nesterov"))
    return core.with_options(
        _velocity_core(True, momentum, nesterov),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov),
    )


def Momentum(learning_rate=0.01, momentum=0.9, nesterov=False, **options) -> core.Optimizer:
    r"""Heavy-ball momentum and Nesterov's accelerated gradient, as objax ``Momentum``.

    Symbols: $\eta$ ``learning_rate``, $\mu$ ``momentum``.

    $$m_t = g_t + \mu m_{t-1},\qquad w_{t+1} = w_t - \eta m_t
      \quad(\text{Nesterov: } w_{t+1} = w_t - \eta (g_t + \mu m_t))$$

    Nesterov uses the Bengio et al. (2012) reformulation with the gradient taken at $w_t$.
    Along a direction of constant gradient the step approaches $\eta/(1-\mu)$. Per-weight
    learning rate: the constant $\eta$. Default ``momentum=0.9`` from the objax document (it
    passes the learning rate per call; 0.01 here). Matches ``optax.sgd(lr, momentum,
    nesterov)`` exactly (the same algebraic form as objax).

    Example:
        >>> import jax.numpy as jnp, optimizers
        >>> opt = optimizers.Momentum(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> w = jnp.array([1.0]); state = opt.init(w)
        >>> updates, state = opt.update(2 * w, state, w)

    Reference: Polyak (1964); Nesterov (1983); Sutskever et al. (2013).
    """
    name = "Momentum"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "momentum", momentum)
    core.check_flag(name, "nesterov", nesterov)
    opts = core.check_options(name, options, ("learning_rate", "momentum", "nesterov"))
    return core.with_options(
        _velocity_core(False, momentum, nesterov),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov),
    )
