"""Small pieces shared by the families matched to optax and to Keras 3's newer optimizers.

``finish`` is the constructor tail every family has: validate the shared Keras options, build
the family's core from its hyperparameters and wrap it in ``core.with_options``.
``debias`` is optax's ``tree.bias_correction`` for one array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from optimizers import core


def finish(
    name: str,
    make_core: Callable[..., core.Core],
    learning_rate: Any,
    options: dict,
    **hyperparams: Any,
) -> core.Optimizer:
    """Check the shared options, build the core from the family's own ``hyperparams`` (named as
    the core's arguments) and wrap it in the options."""
    opts = core.check_options(name, options, ("learning_rate", *hyperparams))
    return core.with_options(
        make_core(**hyperparams),
        learning_rate,
        opts,
        name=name,
        hyperparams={"learning_rate": learning_rate, **hyperparams},
    )


def count() -> jax.Array:
    """A fresh step counter (optax and Keras both count in int32)."""
    return jnp.zeros([], jnp.int32)


def debias(x: jax.Array, decay: Any, t: jax.Array) -> jax.Array:
    """``x / (1 - decay**t)``: optax's bias correction of a moment after ``t`` updates."""
    return x / (1 - core.step_power(decay, t, x))


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
