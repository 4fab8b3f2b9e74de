"""Stochastic gradients: the stated noise moments, common random numbers, unbiased minibatches."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import surfaces

N_SAMPLES = 10_000
Z = 5.0  # tolerance in standard errors; the seeds are fixed, so the tests are deterministic


def estimates(s: surfaces.Surface, w, n: int = N_SAMPLES, seed: int = 0) -> np.ndarray:
    keys = jax.random.split(jax.random.key(seed), n)
    sample = jax.jit(jax.vmap(s.grad_estimate_fn, in_axes=(None, None, 0)))
    return np.asarray(sample(jnp.asarray(w), s.theta, keys))


def exact_gradient(s: surfaces.Surface, w) -> np.ndarray:
    return np.asarray(jax.jit(jax.grad(s.fn))(jnp.asarray(w), s.theta))


def estimate(s: surfaces.Surface, w, key) -> np.ndarray:
    return np.asarray(jax.jit(s.grad_estimate_fn)(jnp.asarray(w), s.theta, key))


def assert_moments(samples: np.ndarray, mean: np.ndarray, covariance: np.ndarray) -> None:
    """Sample mean and covariance within ``Z`` standard errors of the stated Gaussian moments.

    For Gaussian data the sample covariance entry (i, j) has variance
    ``(Σ_ii Σ_jj + Σ_ij²) / n``.
    """
    n = len(samples)
    mean_error = np.abs(samples.mean(axis=0) - mean)
    np.testing.assert_array_less(mean_error, Z * np.sqrt(np.diag(covariance) / n) + 1e-15)
    variances = np.diag(covariance)
    standard_error = np.sqrt((np.outer(variances, variances) + covariance**2) / n)
    covariance_error = np.abs(np.cov(samples, rowvar=False) - covariance)
    np.testing.assert_array_less(covariance_error, Z * standard_error + 1e-15)


# -- the noisy quadratic model ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"dim": 4, "condition": 50.0, "batch_size": 4.0, "noise_scale": 2.0},
        {"dim": 3, "spectrum": "inverse", "batch_size": 1.0, "noise_scale": 0.5},
    ],
)
def test_noisy_quadratic_noise_has_zero_mean_and_the_stated_covariance(params):
    s = surfaces.get("noisy_quadratic", **params)
    w = s.starts[0]
    noise = estimates(s, w) - np.asarray(s.theta["h"]) * w
    h = np.asarray(s.theta["h"])
    covariance = params["noise_scale"] ** 2 * np.diag(h) / params["batch_size"]
    assert_moments(noise, np.zeros(s.dim), covariance)


def test_noisy_quadratic_uses_common_random_numbers():
    s = surfaces.get("noisy_quadratic", dim=6, batch_size=2.0)
    h = np.asarray(s.theta["h"])
    key = jax.random.fold_in(jax.random.key(7), 3)  # the engine's key for (seed 7, step 3)
    w1, w2 = np.ones(6), np.linspace(-2, 2, 6)
    g1, g2 = estimate(s, w1, key), estimate(s, w2, key)
    np.testing.assert_allclose(g1 - h * w1, g2 - h * w2, atol=1e-14)  # same noise at any w
    np.testing.assert_array_equal(g1, estimate(s, w1, key))  # same key, same draw
    other = estimate(s, w1, jax.random.fold_in(jax.random.key(7), 4))
    assert not np.allclose(g1, other)
    # another batch size only rescales the same draw
    bigger = s.with_theta(batch_size=jnp.asarray(8.0))
    np.testing.assert_allclose(estimate(bigger, w1, key) - h * w1, (g1 - h * w1) / 2)


def test_noisy_quadratic_batch_size_is_traced_not_static():
    a = surfaces.get("noisy_quadratic", batch_size=1.0)
    b = surfaces.get("noisy_quadratic", batch_size=64.0)
    assert a.static_key == b.static_key and a.grad_estimate_fn is b.grad_estimate_fn


# -- additive Gaussian noise on any surface --------------------------------------------------------
def test_gradient_noise_has_zero_mean_and_covariance_scale_squared():
    base = surfaces.get("rosenbrock")
    s = surfaces.with_gradient_noise(base, 0.5)
    w = np.array([-1.5, 2.0])
    noise = estimates(s, w, seed=1) - exact_gradient(base, w)
    assert_moments(noise, np.zeros(2), 0.25 * np.eye(2))


def test_gradient_noise_keeps_the_surface_and_marks_the_key():
    base = surfaces.get("rosenbrock", b=10.0)
    a = surfaces.with_gradient_noise(base, 0.1)
    b = surfaces.with_gradient_noise(surfaces.get("rosenbrock", b=50.0), 3.0)
    assert a.fn is base.fn and a.stochastic and not base.stochastic
    assert a.static_key == (*base.static_key, "+gaussian_noise")
    assert a.static_key == b.static_key and a.grad_estimate_fn is b.grad_estimate_fn
    np.testing.assert_array_equal(a.minima, base.minima)
    assert a.optimal_value == base.optimal_value and a.params == base.params
    again = surfaces.with_gradient_noise(a, 0.2)  # re-noising replaces the scale
    assert again.static_key == a.static_key and float(again.theta["gradient_noise_scale"]) == 0.2
    zero = surfaces.with_gradient_noise(base, 0.0)
    w, key = np.array([0.3, -0.4]), jax.random.key(3)
    np.testing.assert_allclose(estimate(zero, w, key), exact_gradient(base, w), rtol=1e-14)


def test_gradient_noise_is_reproducible_and_traced():
    s = surfaces.with_gradient_noise(surfaces.get("himmelblau"), 1.0)
    w, key = jnp.array([0.5, 0.5]), jax.random.key(11)
    np.testing.assert_array_equal(estimate(s, w, key), estimate(s, w, key))
    assert not np.allclose(estimate(s, w, key), estimate(s, w, jax.random.key(12)))
    traces = []

    def step(w, theta, key):
        traces.append(1)
        return s.grad_estimate_fn(w, theta, key)

    step = jax.jit(step)
    small = step(w, s.with_theta(gradient_noise_scale=jnp.asarray(0.01)).theta, key)
    large = step(w, s.theta, key)
    assert len(traces) == 1  # the scale is traced: no recompilation
    exact = exact_gradient(s, w)
    np.testing.assert_allclose((large - exact) / 100, small - exact, rtol=1e-9)


def test_gradient_noise_on_a_minibatch_surface_adds_to_the_same_minibatch():
    base = surfaces.get("linear_regression", batch_size=10)
    s = surfaces.with_gradient_noise(base, 0.3)
    w = base.starts[0]
    noise = estimates(s, w, seed=2) - estimates(base, w, seed=2)
    assert_moments(noise, np.zeros(2), 0.09 * np.eye(2))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_gradient_noise_keeps_the_dtype(dtype):
    s = surfaces.with_gradient_noise(surfaces.get("noisy_quadratic", dim=3), 0.5)
    assert (
        jax.jit(s.grad_estimate_fn)(jnp.ones(3, dtype), s.theta, jax.random.key(0)).dtype == dtype
    )


@pytest.mark.parametrize("scale", [-0.1, float("nan"), float("inf"), "0.1", True, None])
def test_bad_noise_scales_are_rejected(scale):
    with pytest.raises(ValueError, match="gradient_noise"):
        surfaces.with_gradient_noise(surfaces.get("booth"), scale)


# -- minibatch gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("linear_regression", {"batch_size": 10}),
        ("logistic_regression", {"batch_size": 20}),
        ("mlp", {"batch_size": 16, "hidden": "8"}),
    ],
)
def test_minibatch_gradients_are_unbiased(name, params):
    s = surfaces.get(name, **params)
    w = s.starts[0]
    samples = estimates(s, w, n=3000, seed=5)
    full = exact_gradient(s, w)
    standard_error = samples.std(axis=0) / np.sqrt(len(samples))
    np.testing.assert_array_less(np.abs(samples.mean(axis=0) - full), Z * standard_error + 1e-12)
    assert np.all(samples.std(axis=0)[np.abs(full) > 1e-3] > 0)  # really stochastic


def test_a_batch_of_every_sample_is_the_full_gradient():
    s = surfaces.get("logistic_regression", n_samples=50, batch_size=50)
    w = jnp.array([0.4, -1.1])
    estimate = jax.jit(s.grad_estimate_fn)(w, s.theta, jax.random.key(0))
    np.testing.assert_allclose(estimate, jax.jit(jax.grad(s.fn))(w, s.theta), rtol=1e-12)
