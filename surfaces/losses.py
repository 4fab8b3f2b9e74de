"""Pieces shared by the loss functions of every family: dtypes, minibatches, stable formulas.

Losses are written once as ``body(w, theta, ...)`` and wrapped by :func:`loss_function`, which
casts ``theta`` (and any float input such as a model's ``x``) to the dtype of ``w``: a surface
evaluated in float32 stays in float32 even when its data was stored in float64.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array


def cast_float(a: Any, dtype: Any) -> Any:
    """``a`` as an array, cast to ``dtype`` when it is floating (keys and integers untouched)."""
    a = jnp.asarray(a)
    return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a


def loss_function(body: Callable[..., Array]) -> Callable[..., Array]:
    """Wrap ``body(w, theta, *inputs)`` so everything floating takes the dtype of ``w``."""

    @functools.wraps(body)
    def fn(w: Array, theta: Any, *inputs: Any) -> Array:
        w = jnp.asarray(w)
        if not jnp.issubdtype(w.dtype, jnp.floating):
            w = w.astype(jnp.result_type(float))
        theta = jax.tree.map(lambda a: cast_float(a, w.dtype), theta)
        return body(w, theta, *(cast_float(a, w.dtype) for a in inputs))

    return fn


def safe_sqrt(s: Array) -> Array:
    """``sqrt(s)`` for ``s >= 0`` whose gradient at ``s = 0`` is 0 instead of NaN.

    The double ``where`` keeps the infinite derivative of ``sqrt`` at 0 out of the backward pass.
    """
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def binary_cross_entropy_with_logits(z: Array, y: Array) -> Array:
    """``-[y log σ(z) + (1-y) log(1-σ(z))] = softplus(z) - y z``: stable for any logit ``z``."""
    return jax.nn.softplus(z) - y * z


@functools.cache
def minibatch_gradient(
    loss: Callable[[Array, Any], Array], batch_size: int, data_keys: tuple[str, ...] = ("x", "y")
) -> Callable[[Array, Any, Array], Array]:
    """The gradient of ``loss`` on ``batch_size`` samples drawn without replacement from ``key``.

    ``loss(w, theta)`` must be a mean over the rows of ``theta[k]`` for ``k`` in ``data_keys``
    (plus terms that do not depend on the data). The estimate is then unbiased: the mean over
    a uniformly random subset is an unbiased estimate of the mean over all samples. Cached so
    that one ``(loss, batch_size)`` always gives the same function object.
    """

    def grad_estimate(w: Array, theta: Any, key: Array) -> Array:
        n = theta[data_keys[0]].shape[0]
        # The rows of the batch_size largest of n i.i.d. uniforms: a uniformly random subset,
        # cheaper to compile and run than a full permutation.
        rows = jax.lax.top_k(jax.random.uniform(key, (n,)), batch_size)[1]
        batch = {**theta, **{k: theta[k][rows] for k in data_keys}}
        return jax.grad(loss)(w, batch)

    return grad_estimate
