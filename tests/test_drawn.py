"""The engine's drawn values: schedules over the recorded steps (against optax's schedule
functions evaluated directly) and the minibatch-gradient fan (against the kernel's own
gradient estimates)."""

import jax
import numpy as np
import optax
import pytest

import surfaces
from trajectories import Experiment, OptimizerSpec, run
from trajectories.drawn import gradient_fan, gradient_fans, schedule_values, step_key

STEPS = np.array([0, 1, 2, 5, 10, 37, 99, 100, 150, 250])


def _sgd(lr):
    return OptimizerSpec("sgd", {"learning_rate": lr})


def _optax(fn, steps=STEPS):
    return np.array([float(fn(int(t))) for t in steps])


def test_constant_is_one_number():
    assert schedule_values(_sgd(0.05), STEPS) == pytest.approx(0.05)
    assert schedule_values(_sgd({"schedule": "constant", "learning_rate": 0.2}), STEPS) == 0.2


@pytest.mark.parametrize(
    ("config", "peer"),
    [
        (
            {"schedule": "exponential_decay", "initial_learning_rate": 0.1,
             "decay_steps": 30, "decay_rate": 0.5},
            optax.exponential_decay(0.1, transition_steps=30, decay_rate=0.5),
        ),
        (
            {"schedule": "exponential_decay", "initial_learning_rate": 0.1,
             "decay_steps": 30, "decay_rate": 0.5, "staircase": True},
            optax.exponential_decay(0.1, transition_steps=30, decay_rate=0.5, staircase=True),
        ),
        (
            {"schedule": "cosine_decay", "initial_learning_rate": 0.3, "decay_steps": 100,
             "alpha": 0.1},
            optax.cosine_decay_schedule(0.3, decay_steps=100, alpha=0.1),
        ),
        (  # Keras's warm-up: decay_steps counts after the warm-up; optax's counts both
            {"schedule": "cosine_decay", "initial_learning_rate": 0.05, "decay_steps": 90,
             "warmup_target": 0.5, "warmup_steps": 10, "alpha": 0.0},
            optax.warmup_cosine_decay_schedule(0.05, 0.5, warmup_steps=10, decay_steps=100),
        ),
        (
            {"schedule": "polynomial_decay", "initial_learning_rate": 0.2, "decay_steps": 100,
             "end_learning_rate": 0.01, "power": 3.0},
            optax.polynomial_schedule(0.2, 0.01, power=3, transition_steps=100),
        ),
        (  # LARS's (1 - t/T)^2
            {"schedule": "polynomial_decay", "initial_learning_rate": 0.4, "decay_steps": 100,
             "end_learning_rate": 0.0, "power": 2.0},
            optax.polynomial_schedule(0.4, 0.0, power=2, transition_steps=100),
        ),
    ],
)  # fmt: skip
def test_schedules_match_optax(config, peer):
    got = schedule_values(_sgd(config), STEPS)
    np.testing.assert_allclose(got, _optax(peer), rtol=2e-6, atol=1e-8)


def test_schedule_at_the_recorded_steps_of_a_run():
    config = {"schedule": "cosine_decay", "initial_learning_rate": 0.01, "decay_steps": 40}
    e = Experiment("rosenbrock", optimizers=(_sgd(config),), steps=40, stride=4)
    result = run(e)
    got = schedule_values(e.optimizers[0], result.steps)
    np.testing.assert_allclose(got, _optax(optax.cosine_decay_schedule(0.01, 40), result.steps),
                               rtol=2e-6, atol=1e-9)  # fmt: skip


def test_fan_members_are_the_kernels_estimates_for_their_keys():
    e = Experiment("noisy_quadratic", optimizers=(_sgd(0.05),), steps=12, stride=1, seed=3)
    result = run(e)
    surface = e.build_surface()
    r = 7
    w = result.position[0, 0, r]
    # the step key is the kernel's: the estimate with it is the gradient the kernel recorded
    np.testing.assert_allclose(
        surface.grad_estimate_fn(w, surface.theta, step_key(3, int(result.steps[r]))),
        result.grad[0, 0, r], rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    key = step_key(3, int(result.steps[r]))
    full, fan = gradient_fan(surface, w, key, 5)
    assert fan.shape == (5, surface.dim)
    np.testing.assert_allclose(full, np.asarray(jax.grad(surface.fn)(w, surface.theta)))
    for i in range(5):
        own = surface.grad_estimate_fn(w, surface.theta, jax.random.fold_in(key, i))
        np.testing.assert_allclose(fan[i], own, rtol=1e-6)
    assert len({tuple(np.round(g, 6)) for g in fan}) == 5  # different keys, different draws


def test_fan_mean_approaches_the_full_gradient_for_additive_noise():
    sigma = 0.8
    surface = surfaces.with_gradient_noise(surfaces.get("rosenbrock"), sigma)
    w = np.array([-1.0, 1.5], np.float32)
    errors = []
    for k in (16, 256, 4096):
        full, fan = gradient_fan(surface, w, step_key(0, 5), k)
        errors.append(float(np.linalg.norm(fan.mean(0) - full)))
    assert errors[-1] < 5 * sigma / np.sqrt(4096)  # the mean's spread is sigma / sqrt(K)
    assert errors[-1] < errors[0]


def test_fan_refuses_deterministic_surfaces_and_bad_sizes():
    with pytest.raises(ValueError, match="not stochastic"):
        gradient_fan(surfaces.get("rosenbrock"), np.zeros(2), step_key(0, 0))
    noisy = surfaces.with_gradient_noise(surfaces.get("rosenbrock"), 0.1)
    with pytest.raises(ValueError, match="fan size"):
        gradient_fan(noisy, np.zeros(2), step_key(0, 0), 0)


def test_fans_along_a_path_are_the_fans_at_each_point():
    e = Experiment("noisy_quadratic", optimizers=(_sgd(0.05),), steps=6, stride=1, seed=2)
    result = run(e)
    ws, steps = result.position[0, 0], result.steps
    fans = gradient_fans(result.surface, ws, steps, 2, 4)
    assert fans.shape == (len(steps), 4, result.surface.dim)
    for r in (0, 3, len(steps) - 1):
        _, one = gradient_fan(result.surface, ws[r], step_key(2, int(steps[r])), 4)
        np.testing.assert_allclose(fans[r], one, rtol=1e-5, atol=1e-7)
