"""What a learned model predicts along its trajectories (the decision boundary a page draws)."""

from __future__ import annotations

import functools

import jax
import numpy as np

from trajectories.run import Result


@functools.partial(jax.jit, static_argnums=0)
def _predict_all(predict_fn, weights, theta, x):
    """``predict_fn(w, theta, x)`` for every instance and frame: (I, F, dim) -> (I, F, N)."""
    return jax.vmap(jax.vmap(lambda w: predict_fn(w, theta, x)))(weights)


def predictions(result: Result, grid: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The model's output at the points ``grid`` (N, in_dim) for each instance's weights at the
    records ``frames`` of the first start: ``(instances, len(frames), N)`` float32 (NaN where
    the weights diverged). Compiled once per model function, reused by every run."""
    s = result.surface
    if s.predict_fn is None:
        raise ValueError(f"{s.name}: not a learned model (it predicts nothing)")
    weights = np.asarray(result.position[:, 0, frames], np.float32)
    x = np.asarray(grid, np.float32)
    return np.asarray(_predict_all(s.predict_fn, weights, s.theta, x), np.float32)
