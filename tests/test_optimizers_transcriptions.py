"""Optimizers with no peer library in JAX, against independent NumPy transcriptions.

WAME: Algorithm 1 of Mosca & Magoulas (and its sqrt form), and the TF2 package
justinbt1/WAME-Optimiser ``wame.py`` as published, written element by element with Python
branches (not ``where``), with the package's float32 hyperparameters. objax EMA: its documented
update. Keras ``use_ema`` read-out: Keras itself.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import optimizers
from tests.peers import PROBLEMS, assert_same_path, run_keras, run_numpy, run_ours

keras.config.set_floatx("float64")


def _wame_paper(lr, alpha, eta_plus, eta_minus, zeta_min, zeta_max, eps, use_sqrt):
    def step(g, s, w):
        new_w = {}
        for k in w:
            prev, zeta, z, theta = s[k]
            out = w[k].copy()
            for i in range(out.size):
                p = g[k][i] * prev[i]
                if p > 0:
                    zeta[i] = min(zeta[i] * eta_plus, zeta_max)
                elif p < 0:
                    zeta[i] = max(zeta[i] * eta_minus, zeta_min)
                z[i] = alpha * z[i] + (1 - alpha) * zeta[i]
                theta[i] = alpha * theta[i] + (1 - alpha) * g[k][i] ** 2
                den = np.sqrt(theta[i]) + eps if use_sqrt else theta[i] + eps
                out[i] -= lr * z[i] * g[k][i] / den
                prev[i] = g[k][i]
            new_w[k] = out
        return new_w, s

    return step


def _wame_tensorflow(lr, alpha, eta_plus, eta_minus, zeta_min, zeta_max):
    # TF OptimizerV2 hyperparameters are float32 variables cast to the weights' dtype;
    # epsilon = K.epsilon() is converted from the Python float directly.
    lr, alpha, eta_plus, eta_minus, zeta_min, zeta_max = (
        float(np.float32(x)) for x in (lr, alpha, eta_plus, eta_minus, zeta_min, zeta_max)
    )
    eps = 1e-7

    def step(g, s, w):
        new_w = {}
        for k in w:
            prev, zeta, z, theta = s[k]
            out = w[k].copy()
            for i in range(out.size):
                p = g[k][i] * prev[i]
                if p < 0:
                    zeta_t = theta[i] * eta_plus
                elif p > 0:
                    zeta_t = theta[i] * eta_minus
                else:
                    zeta_t = zeta[i]
                zeta_t = min(max(zeta_t, zeta_min), zeta_max)
                z_t = (alpha * z[i]) + ((1 - alpha) * zeta_t)
                theta_t = (alpha * theta[i]) + ((1 - alpha) * g[k][i] ** 2)
                out[i] = out[i] + -(lr * (z_t * g[k][i] * (1 / (theta_t + eps))))
                prev[i], zeta[i], z[i], theta[i] = g[k][i], zeta_t, z_t, theta_t
            new_w[k] = out
        return new_w, s

    return step


def _state(problem, zeta0):
    w0 = PROBLEMS[problem][1]
    return {
        k: [np.zeros(v.size), np.full(v.size, zeta0), np.zeros(v.size), np.zeros(v.size)]
        for k, v in w0.items()
    }


# The paper's 1/theta step moves a weight by about lr/|g|: the near-minimum quadratic, with
# gradients down to 1e-6, needs a tiny lr to stay on a smooth path.
WAME_LR = {"rosenbrock": 1e-3, "quadratic": 1e-9}
HP = dict(alpha=0.9, eta_plus=1.2, eta_minus=0.1, zeta_min=0.01, zeta_max=100.0)


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
@pytest.mark.parametrize("variant", ["paper", "paper_sqrt"])
def test_wame_paper_variants_match_algorithm_1(variant, problem):
    lr = WAME_LR[problem] if variant == "paper" else 1e-3
    eps = 1e-7
    ours = run_ours(optimizers.WAME(lr, epsilon=eps, variant=variant, **HP), problem)
    step = _wame_paper(lr, *HP.values(), eps, use_sqrt=variant == "paper_sqrt")
    theirs = run_numpy(step, _state(problem, 1.0), problem)
    assert_same_path(ours, theirs)


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
def test_wame_tensorflow_variant_matches_the_published_package(problem):
    lr = WAME_LR[problem]
    ours = run_ours(optimizers.WAME(lr, variant="tensorflow", **HP), problem)
    theirs = run_numpy(_wame_tensorflow(lr, *HP.values()), _state(problem, 0.0), problem)
    assert_same_path(ours, theirs)


def test_wame_tensorflow_deviations_are_visible():
    """The documented TF behaviour: Z_1 = (1 - alpha) zeta_min, and zeta jumps to the clip."""
    opt = optimizers.WAME(variant="tensorflow")
    w = jnp.array([-1.5, 2.0], jnp.float64)
    f = lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2  # noqa: E731
    state = opt.init(w)
    u, state = opt.update(jax.grad(f)(w), state, w)
    z1 = state.inner.z
    # float32 variables cast to float64, then combined in float64 (as TF does)
    expected = (1 - float(np.float32(0.9))) * float(np.float32(0.01))
    np.testing.assert_allclose(z1, expected, rtol=1e-12)
    w = w + u
    _, state = opt.update(jax.grad(f)(w), state, w)
    assert float(state.inner.zeta[0]) == pytest.approx(float(np.float32(100.0)))


def test_wame_paper_first_step_moves_by_lr_over_gradient():
    opt = optimizers.WAME(learning_rate=0.01)
    w = jnp.array([1.0, -2.0], jnp.float64)
    g = jnp.array([4.0, -0.5], jnp.float64)
    u, _ = opt.update(g, opt.init(w), w)
    np.testing.assert_allclose(u, -0.01 / g, rtol=1e-5)  # eps = 1e-7 against theta = 0.1 g^2


# ---- weight averages ---------------------------------------------------------------------------
@pytest.mark.parametrize("debias", [False, True])
def test_objax_ema_matches_its_document(debias):
    m, eps = 0.9, 1e-6
    opt = optax.chain(optimizers.SGD(2e-4), optimizers.ExponentialMovingAverage(m, debias, eps))
    f, w0 = PROBLEMS["rosenbrock"]
    w = jax.tree.map(jnp.asarray, w0)
    state = opt.init(w)
    e = np.zeros(2)
    for t in range(1, 31):
        u, state = opt.update(jax.grad(f)(w), state, w)
        w = optax.apply_updates(w, u)
        e = m * e + (1 - m) * np.asarray(w["w"])
        expected = e / (1 - (1 - eps) * m**t) if debias else e
        np.testing.assert_allclose(
            optimizers.averaged_weights(state)["w"], expected, rtol=1e-12, atol=1e-15
        )


def test_keras_ema_readout_matches_keras():
    """use_ema without overwrite: the trajectory is Adam's; the average is Keras's."""
    kw = dict(learning_rate=0.01, use_ema=True, ema_momentum=0.8)
    ours_opt = optimizers.Adam(**kw)
    f, w0 = PROBLEMS["rosenbrock"]
    w = jax.tree.map(jnp.asarray, w0)
    state = ours_opt.init(w)
    for _ in range(25):
        u, state = ours_opt.update(jax.grad(f)(w), state, w)
        w = optax.apply_updates(w, u)
    kopt = keras.optimizers.Adam(**kw)
    run_keras(kopt, "rosenbrock", steps=25)
    keras_average = np.asarray(kopt._model_variables_moving_average[0].value)
    np.testing.assert_allclose(optimizers.averaged_weights(state)["w"], keras_average, rtol=1e-12)
    assert_same_path(
        run_ours(optimizers.Adam(**kw), "rosenbrock"), run_ours(optimizers.Adam(0.01), "rosenbrock")
    )


def test_averaged_weights_without_an_average_is_a_clear_error():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="no weight average"):
        optimizers.averaged_weights(opt.init(jnp.zeros(2)))
