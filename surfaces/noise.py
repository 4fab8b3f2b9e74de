"""Additive Gaussian gradient noise for any surface, drawn from the key."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp

from surfaces.base import GradEstimateFn, LossFn, Param, Surface
from surfaces.params import check

NOISE_KEY = "gradient_noise_scale"  # in theta: traced, so changing the scale never recompiles
NOISE_MARKER = "+gaussian_noise"  # appended to static_key: the gradient code differs
NOISE_STREAM = 0x6E6F6973  # fold_in constant: the noise is independent of the surface's own draws
SCALE = Param("gradient_noise", 0.0, 0.0, None, help="standard deviation of the added noise")


@functools.cache
def noisy_gradient(fn: LossFn, estimate: GradEstimateFn | None) -> GradEstimateFn:
    """``g(w, key) + scale * N(0, I)``, ``g`` the surface's estimate (from the same key) or ∇f.

    Cached on ``(fn, estimate)``: surfaces sharing code share the noisy gradient function.
    """

    def grad_estimate(w: jax.Array, theta: Any, key: jax.Array) -> jax.Array:
        w = jnp.asarray(w)
        base = jax.grad(fn)(w, theta) if estimate is None else estimate(w, theta, key)
        xi = jax.random.normal(jax.random.fold_in(key, NOISE_STREAM), base.shape, base.dtype)
        return base + theta[NOISE_KEY].astype(base.dtype) * xi

    return grad_estimate


def with_gradient_noise(surface: Surface, scale: float) -> Surface:
    """A copy of ``surface`` whose stochastic gradient adds ``scale * ξ``, ``ξ ~ N(0, I)``.

    The loss, minima and everything else are unchanged; the gradient noise has covariance
    ``scale² I`` on top of the surface's own (a minibatch surface keeps its minibatches: its
    estimate gets the same key, the noise an independent stream folded from it). Applied to a
    surface that already has gradient noise, only the scale is replaced.
    """
    scale = check(surface.name, SCALE, scale)
    theta = {**surface.theta, NOISE_KEY: jax.device_put(float(scale))}  # no program compiled
    if NOISE_MARKER in surface.static_key:
        return dataclasses.replace(surface, theta=theta)
    return dataclasses.replace(
        surface,
        theta=theta,
        static_key=(*surface.static_key, NOISE_MARKER),
        stochastic=True,
        grad_estimate_fn=noisy_gradient(surface.fn, surface.grad_estimate_fn),
        notes=(surface.notes + " " if surface.notes else "")
        + "Gradient noise: N(0, s² I) added to the gradient, s = theta['gradient_noise_scale'].",
    )
