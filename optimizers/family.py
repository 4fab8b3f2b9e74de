"""Small pieces shared by the optimizers: as in optax, a named optimizer is a short chain of them.

Declarations: the hyperparameters and state fields several of them repeat (``adam_moments``,
``momentum``, ``NESTEROV``, ``epsilon_root``, ``amount``, ``optax_weight_decay``, ``open_rate``,
``ADAM_MOMENTS``), standard unless a default or help text is passed.

Rules: ``debias`` is optax's ``tree.bias_correction`` for one array and ``debiased_root`` the
denominator of its Adam-like steps; ``leafwise`` makes a core's step from the rule for one
array, ``rates_over`` its per-weight learning rates; ``moments_core`` is a whole core over
Adam's two moments (AdaBelief, Yogi, ADOPT) and ``sign_descent`` the whole rule of the sign
methods (Lion, Signum).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from optimizers import core
from optimizers.declare import (
    NON_NEGATIVE,
    HParam,
    Range,
    StateField,
    decay_rate,
    epsilon,
    flag,
    momentum_buffer,
)

# Adam's moments as most of the families name them: m_t moves the weights by -eta_t m_t.
FIRST_MOMENT = momentum_buffer("mu", "m_t")
SECOND_MOMENT = StateField(name="nu", symbol="v_t", role="second_moment")
ADAM_MOMENTS = (FIRST_MOMENT, SECOND_MOMENT)
BETA_1 = decay_rate("beta_1", 0.9, "The exponential decay rate for the 1st moment estimates.")


def beta_2(default: float, help: str = "The exponential decay rate for the 2nd moment.") -> HParam:
    return decay_rate("beta_2", default, help, live=False)


def adam_moments(
    epsilon_default: float | HParam, beta_2_default: float = 0.999, beta_2_help: str | None = None
) -> tuple[HParam, HParam, HParam]:
    """``beta_1, beta_2, epsilon`` as the Adam-like families declare them: the standard beta_1,
    a beta_2 (help standard unless given) and epsilon (its HParam when its help is its own)."""
    b2 = beta_2(beta_2_default) if beta_2_help is None else beta_2(beta_2_default, beta_2_help)
    eps = epsilon_default if isinstance(epsilon_default, HParam) else epsilon(epsilon_default)
    return BETA_1, b2, eps


def momentum(
    default: float,
    help: str = "Accelerates descent in the relevant direction and dampens oscillations.",
) -> HParam:
    """The momentum coefficient mu of SGD, LARS and RMSprop (offered up to 0.99)."""
    return decay_rate("momentum", default, help, high=0.99)


NESTEROV = flag("nesterov", False, "Whether to apply Nesterov momentum.")  # Keras SGD, LARS

# optax's look-ahead first moment (``nesterov_moment``), offered by RAdam and AdaBelief.
OPTAX_NESTEROV = flag("nesterov", False, "Use optax's Nesterov first moment.")


def epsilon_root(default: float) -> HParam:
    """optax's ``eps_root``: added to the second moment inside the square root."""
    return dataclasses.replace(
        epsilon(default, "Added to the second moment inside the square root (optax's eps_root)."),
        name="epsilon_root",
    )


def amount(
    name: str, default: float, low: float, high: float, help: str, *, scale: str = "linear",
    valid: Range = NON_NEGATIVE, live: bool = False,
) -> HParam:  # fmt: skip
    """A numeric hyperparameter, non-negative unless ``valid`` says otherwise."""
    return HParam(
        name=name, default=default, low=low, high=high, scale=scale, help=help, valid=valid,
        live=live,
    )  # fmt: skip


def optax_weight_decay(where: str) -> HParam:
    """The weight decay an optax algorithm has of its own (``where`` it enters the update);
    the shared decoupled ``weight_decay`` option is then not added on top."""
    return amount("weight_decay", 0.0, 0.0, 0.5, f"optax's own weight decay lambda, {where}.")


def open_rate(name: str, default: float, help: str) -> HParam:
    """A decay rate in (0, 1]: Lion's interpolation beta_1 (Keras: 0 would be SignSGD)."""
    return dataclasses.replace(
        decay_rate(name, default, help), low=0.01, high=1.0,
        valid=Range(low=0.0, high=1.0, low_open=True),
    )  # fmt: skip


def count() -> jax.Array:
    """A fresh step counter (optax and Keras both count in int32)."""
    return jnp.zeros([], jnp.int32)


def debias(x: jax.Array, decay: Any, t: jax.Array) -> jax.Array:
    """``x / (1 - decay**t)``: optax's bias correction of a moment after ``t`` updates."""
    return x / (1 - core.step_power(decay, t, x))


def debiased_root(v: jax.Array, decay: Any, t: jax.Array, epsilon: Any, epsilon_root=None):
    """``sqrt(v / (1 - decay^t) [+ epsilon_root]) + epsilon``: the denominator of optax's
    Adam-like steps (``epsilon_root`` inside the root where the algorithm has one)."""
    v_hat = debias(v, decay, t)
    if epsilon_root is not None:
        v_hat = v_hat + core.cast(epsilon_root, v)
    return jnp.sqrt(v_hat) + core.cast(epsilon, v)


def rates_over(field: str, denominator):
    """A core's ``learning_rates``: ``lr / denominator(v, t)`` for every leaf of the state's
    ``field`` (the per-weight rate of an Adam-like step, applied to its first moment)."""

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda v: core.cast(lr, v) / denominator(v, state.count), getattr(state, field)
        )

    return learning_rates


def moments_core(state: type, step_leaf, denominator, start=jnp.zeros_like) -> core.Core:
    """The core of an Adam-like rule over two moments, the state's fields ``mu`` and ``nu``
    (both starting at ``start(p)``): ``step_leaf(g, m, v, t, lr) -> (update, m, v)`` on every
    array, the per-weight learning rate ``lr / denominator(v, t)`` (AdaBelief, Yogi, ADOPT)."""

    def init(params):
        z = jax.tree.map(start, params)
        return state(count(), z, z)

    return core.Core(init, leafwise(step_leaf, ("mu", "nu")), rates_over("nu", denominator))


def realised_ratio(updates: Any, grads: Any) -> Any:
    """``-update / gradient`` per weight, signed, 0 where the gradient is 0: the learning rate
    shown where none is diagonal (L-BFGS, an optax transform from ``from_optax``)."""
    return jax.tree.map(
        lambda u, g: jnp.where(g == 0, 0, -u / jnp.where(g == 0, 1, g)).astype(g.dtype),
        updates,
        grads,
    )


def per_weight(value: jax.Array, like: jax.Array) -> jax.Array:
    """A per-tensor quantity (a trust ratio, a layer norm) spread over the tensor's weights."""
    return jnp.broadcast_to(value.astype(like.dtype), like.shape)


def leafwise(step_leaf, fields: tuple[str, ...], *, params: bool = False, outputs=None):
    """A core's ``step`` from its rule for one array.

    Counts one update (``t = count + 1``) and runs ``step_leaf(g, [w,] *fields, t, lr) ->
    (update, *outputs)`` on every leaf, ``w`` the weights when ``params`` is set; the state's
    ``outputs`` fields (by default ``fields``) are replaced by what it returns.
    """
    outputs = fields if outputs is None else outputs

    def step(grads, state, weights, lr):
        inputs = [getattr(state, f) for f in fields]
        if params:
            inputs = [weights, *inputs]
        t = state.count + 1
        updates, *new = core.map_leaves(lambda *a: step_leaf(*a, t, lr), grads, *inputs)
        return updates, state._replace(count=t, **dict(zip(outputs, new, strict=True)))

    return step


def nesterov_moment(m, g, beta_1, t, nesterov: bool):
    """optax's bias-corrected first moment, or with ``nesterov`` its look-ahead
    ``beta_1 m / (1 - beta_1^(t+1)) + (1 - beta_1) g / (1 - beta_1^t)`` (RAdam, AdaBelief)."""
    if not nesterov:
        return debias(m, beta_1, t)
    b1 = core.cast(beta_1, m)
    return b1 * debias(m, beta_1, t + 1) + (1 - b1) * debias(g, beta_1, t)


def sign_descent(state: type, interpolation: Any, decay: Any) -> core.Core:
    """Every weight moves by exactly lr against ``sign(c_t)``, ``c_t = interpolation m_{t-1} +
    (1 - interpolation) g_t``; the buffer is then ``m_t = decay m_{t-1} + (1 - decay) g_t``.

    Lion interpolates with beta_1 and decays with beta_2; Signum takes the sign of the new
    buffer itself (``interpolation = decay = beta``). ``state(count, buffer)`` is the
    algorithm's state NamedTuple.
    """
    buffer = state._fields[1]

    def init(params):
        return state(count(), core.zeros_like(params))

    def step_leaf(g, m, t, lr):
        direction = jnp.sign(core.moment(m, g, interpolation))
        return -core.cast(lr, g) * direction, core.moment(m, g, decay)

    def learning_rates(s, lr):
        return core.full_like_tree(getattr(s, buffer), lr)

    return core.Core(init, leafwise(step_leaf, (buffer,)), learning_rates)
