"""Small pieces shared by the families matched to optax and to Keras 3's newer optimizers.

``finish`` is the constructor tail every family has: validate the shared Keras options, then
wrap the family's core in ``core.with_options`` with its hyperparameters recorded.
``debias`` is optax's ``tree.bias_correction`` for one array.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from optimizers import core


def finish(
    name: str, rule: core.Core, learning_rate: Any, options: dict, **hyperparams: Any
) -> core.Optimizer:
    """Check the shared options and wrap ``rule``; ``hyperparams`` are the family's own."""
    opts = core.check_options(name, options, ("learning_rate", *hyperparams))
    return core.with_options(
        rule,
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
