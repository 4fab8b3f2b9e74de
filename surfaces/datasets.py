"""Toy data sets generated in code with numpy (nothing is downloaded), reproducible from a seed."""

from __future__ import annotations

import numpy as np


def kerasy_linear_regression() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data and start of the kerasy optimizers documentation, replicated exactly.

    ``y = 2x + 1 + N(0, 0.1²)`` for 100 samples ``x ~ U(0, 1)``. Returns ``X`` ``(100, 2)`` (the
    samples and a column of ones), ``y`` ``(100, 1)`` and the documented start ``w0`` ``(2, 1)``.
    """
    rnd = np.random.RandomState(0)
    X = np.c_[rnd.uniform(0, 1, size=(100, 1)), np.ones((100, 1))]
    y = X @ np.array([[2.0], [1.0]]) + rnd.normal(0, 1 / 10, size=(100, 1))
    w0 = rnd.randn(2, 1)
    return X, y, w0


def two_blobs(n: int, separation: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two isotropic unit Gaussian blobs at ``±(separation/2)(cos 30°, sin 30°)``.

    Returns ``x`` ``(n, 2)`` and labels ``y`` ``(n,)`` in {0, 1} (the first ``n // 2`` are 0).
    The blobs are symmetric about the origin, so a boundary through the origin (no bias) fits.
    """
    rng = np.random.default_rng([seed, n])
    n0 = n // 2
    y = np.r_[np.zeros(n0), np.ones(n - n0)]
    direction = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    centres = np.where(y[:, None] == 1, 1.0, -1.0) * (separation / 2) * direction
    return centres + rng.standard_normal((n, 2)), y


def moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``), centred on the origin."""
    rng = np.random.default_rng([seed, n])
    n_outer = n // 2
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n - n_outer)
    outer = np.c_[np.cos(t_outer), np.sin(t_outer)]
    inner = np.c_[1 - np.cos(t_inner), 0.5 - np.sin(t_inner)]
    x = np.r_[outer, inner] - np.array([0.5, 0.25]) + noise * rng.standard_normal((n, 2))
    return x, np.r_[np.zeros(n_outer), np.ones(n - n_outer)]


def spirals(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.5 turns each, radius up to 1, one per class."""
    rng = np.random.default_rng([seed, n])
    n0 = n // 2
    labels = np.r_[np.zeros(n0), np.ones(n - n0)]
    t = np.r_[np.linspace(0.1, 1.0, n0), np.linspace(0.1, 1.0, n - n0)]
    angle = 3 * np.pi * t + np.pi * labels
    x = t[:, None] * np.c_[np.cos(angle), np.sin(angle)] + noise * rng.standard_normal((n, 2))
    return x, labels


CLASSIFICATION = {"moons": moons, "spirals": spirals}


def ripple(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A radial ripple ``y = sin(3 |x|) + noise`` on ``n`` points uniform in the square [-1, 1]²."""
    rng = np.random.default_rng([seed, n])
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    return x, np.sin(3.0 * np.hypot(x[:, 0], x[:, 1])) + noise * rng.standard_normal(n)


def wave(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A plane wave with a tilt, ``y = sin(2 pi x_1) + x_2 / 2 + noise``, on [-1, 1]²."""
    rng = np.random.default_rng([seed, n])
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    return x, np.sin(2 * np.pi * x[:, 0]) + 0.5 * x[:, 1] + noise * rng.standard_normal(n)


REGRESSION = {"ripple": ripple, "wave": wave}
