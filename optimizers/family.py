"""Small pieces shared by the families matched to optax and to Keras 3's newer optimizers.

The hyperparameter makers (``epsilon_root``, ``amount``, ``optax_weight_decay``, ``open_rate``)
are the ones several declarations repeat; ``debias`` is optax's ``tree.bias_correction`` for
one array.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from optimizers import core
from optimizers.declare import NON_NEGATIVE, HParam, Range, StateField, decay_rate, epsilon

# Adam's moments as most of the families name them: m_t moves the weights by -eta_t m_t.
FIRST_MOMENT = StateField(name="mu", symbol="m_t", role="momentum", moves=-1, units="gradient")
SECOND_MOMENT = StateField(name="nu", symbol="v_t", role="second_moment")
BETA_1 = decay_rate("beta_1", 0.9, "The exponential decay rate for the 1st moment estimates.")


def beta_2(default: float, help: str = "The exponential decay rate for the 2nd moment.") -> HParam:
    return decay_rate("beta_2", default, help, live=False)


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
