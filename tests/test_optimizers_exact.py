"""Exactness: each optimizer reproduces, in float64, the library its docstring names.

Keras 3 (JAX backend) and optax are run for 60 steps on Rosenbrock and on an ill-conditioned
quadratic started near its minimum; trajectories agree to 1e-10. Where no peer library runs
here (objax's LARS and EMA, WAME), an independent NumPy transcription of the reference code is
the peer.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import optax
import pytest

import optimizers
from optimizers import schedules
from tests.peers import PROBLEMS, assert_same_path, run_keras, run_numpy, run_ours

keras.config.set_floatx("float64")
K = keras.optimizers
KS = keras.optimizers.schedules

# Learning rates that keep each optimizer on a smooth, stable path on each problem (a chaotic
# path would amplify rounding and prove nothing).
LR = {
    "rosenbrock": {
        "SGD": 2e-4,
        "Adagrad": 0.05,
        "RMSprop": 1e-3,
        "Adadelta": 1.0,
        "Adam": 0.01,
        "AdamW": 0.01,
        "Adamax": 0.01,
        "Nadam": 0.01,
    },
    "quadratic": {
        "SGD": 1e-4,
        "Adagrad": 1e-4,
        "RMSprop": 1e-4,
        "Adadelta": 1.0,
        "Adam": 1e-4,
        "AdamW": 1e-4,
        "Adamax": 1e-4,
        "Nadam": 1e-4,
    },
}

# (case id, optimizer name, keyword arguments shared verbatim by ours and Keras's)
KERAS_CASES = [
    ("sgd", "SGD", {}),
    ("sgd-momentum", "SGD", {"momentum": 0.9}),
    ("sgd-nesterov", "SGD", {"momentum": 0.8, "nesterov": True}),
    ("adagrad", "Adagrad", {"initial_accumulator_value": 0.0, "epsilon": 1e-7}),
    ("adagrad-keras-defaults", "Adagrad", {"initial_accumulator_value": 0.1}),
    ("rmsprop", "RMSprop", {}),
    ("rmsprop-centered", "RMSprop", {"centered": True}),
    ("rmsprop-momentum", "RMSprop", {"momentum": 0.5}),
    ("rmsprop-centered-momentum", "RMSprop", {"momentum": 0.5, "centered": True, "rho": 0.8}),
    ("adadelta", "Adadelta", {"rho": 0.95, "epsilon": 1e-7}),
    ("adam", "Adam", {}),
    ("adam-eps", "Adam", {"epsilon": 1e-3, "beta_1": 0.8, "beta_2": 0.99}),
    ("amsgrad", "Adam", {"amsgrad": True}),
    ("adamw", "AdamW", {"weight_decay": 0.004}),
    ("adamw-amsgrad", "AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("adamax", "Adamax", {}),
    ("nadam", "Nadam", {}),
    # The options every optimizer accepts (Keras BaseOptimizer semantics).
    ("opt-clipnorm", "Adam", {"clipnorm": 0.5}),
    ("opt-clipvalue", "SGD", {"clipvalue": 0.3, "momentum": 0.5}),
    ("opt-global-clipnorm", "RMSprop", {"global_clipnorm": 0.7}),
    ("opt-weight-decay-sgd", "SGD", {"weight_decay": 0.05, "momentum": 0.9}),
    ("opt-ema", "Adam", {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 7}),
    ("opt-loss-scale", "Adagrad", {"loss_scale_factor": 128.0, "initial_accumulator_value": 0.1}),
    ("opt-accumulation", "Adam", {"gradient_accumulation_steps": 3}),
    ("opt-accumulation-nadam", "Nadam", {"gradient_accumulation_steps": 2}),
    (
        "opt-accumulation-ema",
        "SGD",
        {
            "momentum": 0.9,
            "gradient_accumulation_steps": 3,
            "use_ema": True,
            "ema_overwrite_frequency": 4,
        },
    ),
]


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
@pytest.mark.parametrize(("case", "name", "kwargs"), KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_matches_keras(case, name, kwargs, problem):
    lr = LR[problem][name]
    ours = run_ours(getattr(optimizers, name)(learning_rate=lr, **kwargs), problem)
    theirs = run_keras(getattr(K, name)(learning_rate=lr, **kwargs), problem)
    assert_same_path(ours, theirs)


# Learning-rate schedules: ours (traceable) against Keras's schedule objects, inside optimizers.
SCHEDULE_CASES = [
    (
        "exponential",
        lambda lr: schedules.ExponentialDecay(lr, 10, 0.5),
        lambda lr: KS.ExponentialDecay(lr, 10, 0.5),
    ),
    (
        "exponential-staircase",
        lambda lr: schedules.ExponentialDecay(lr, 7, 0.3, staircase=True),
        lambda lr: KS.ExponentialDecay(lr, 7, 0.3, staircase=True),
    ),
    (
        "cosine",
        lambda lr: schedules.CosineDecay(lr, 40, alpha=0.1),
        lambda lr: KS.CosineDecay(lr, 40, alpha=0.1),
    ),
    (
        "cosine-warmup",
        lambda lr: schedules.CosineDecay(lr / 10, 30, warmup_target=lr, warmup_steps=10),
        lambda lr: KS.CosineDecay(lr / 10, 30, warmup_target=lr, warmup_steps=10),
    ),
    (
        "polynomial",
        lambda lr: schedules.PolynomialDecay(lr, 50, lr / 100, power=2.0),
        lambda lr: KS.PolynomialDecay(lr, 50, lr / 100, power=2.0),
    ),
    (
        "polynomial-cycle",
        lambda lr: schedules.PolynomialDecay(lr, 20, lr / 10, cycle=True),
        lambda lr: KS.PolynomialDecay(lr, 20, lr / 10, cycle=True),
    ),
]


# Keras 3's ops.cos returns float32 even for float64 input, so its CosineDecay is only
# float32-accurate: cosine schedules are checked against Keras to float32 precision and against
# the exact formula to 1e-12, and optimizer paths only with the schedules Keras computes in
# float64.
FLOAT32_IN_KERAS = {"cosine", "cosine-warmup"}
PATH_CASES = [c for c in SCHEDULE_CASES if c[0] not in FLOAT32_IN_KERAS]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
@pytest.mark.parametrize(("case", "ours", "theirs"), PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_schedules_match_keras(case, ours, theirs, name):
    lr = LR["rosenbrock"][name]
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    a = run_ours(getattr(optimizers, name)(learning_rate=ours(lr), **kwargs), "rosenbrock")
    b = run_keras(getattr(K, name)(learning_rate=theirs(lr), **kwargs), "rosenbrock")
    assert_same_path(a, b)


@pytest.mark.parametrize("step", [0, 1, 5, 9, 10, 11, 29, 30, 31, 40, 45, 1000])
@pytest.mark.parametrize(
    ("case", "ours", "theirs"), SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES]
)
def test_schedule_values_match_keras(case, ours, theirs, step):
    rel = 1e-6 if case in FLOAT32_IN_KERAS else 1e-12
    assert float(ours(0.3)(step)) == pytest.approx(float(theirs(0.3)(step)), rel=rel, abs=1e-15)


@pytest.mark.parametrize("step", [0, 3, 10, 20, 39, 40, 41, 100])
def test_cosine_schedules_match_the_exact_formula(step):
    def cosine(t, start, steps, alpha):
        t = min(t, steps)
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / steps)) + alpha)

    plain = schedules.CosineDecay(0.3, 40, alpha=0.1)
    assert float(plain(step)) == pytest.approx(cosine(step, 0.3, 40, 0.1), rel=1e-12)
    warm = schedules.CosineDecay(0.03, 30, warmup_target=0.3, warmup_steps=10)
    expected = 0.03 + (0.3 - 0.03) * step / 10 if step < 10 else cosine(step - 10, 0.3, 30, 0.0)
    assert float(warm(step)) == pytest.approx(expected, rel=1e-12)


def test_warmup_in_front_of_any_schedule():
    s = schedules.Warmup(schedules.ExponentialDecay(0.1, 10, 0.5), warmup_steps=4)
    values = [float(s(t)) for t in range(8)]
    assert values[:5] == pytest.approx([0.0, 0.025, 0.05, 0.075, 0.1])
    assert values[6] == pytest.approx(0.1 * 0.5 ** (2 / 10))


# ---- optax peers -----------------------------------------------------------------------------
@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_matches_optax_sgd(problem, nesterov):
    lr = 1e-4 if problem == "rosenbrock" else 5e-5
    ours = run_ours(optimizers.Momentum(lr, momentum=0.9, nesterov=nesterov), problem)
    theirs = run_ours(optax.sgd(lr, momentum=0.9, nesterov=nesterov), problem)
    assert_same_path(ours, theirs)


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
@pytest.mark.parametrize("nesterov", [False, True])
def test_lars_matches_optax_when_their_forms_agree(problem, nesterov):
    """With weight_decay = epsilon = 0 the objax and optax trust ratios coincide."""
    kw = dict(momentum=0.9, trust_coefficient=1e-2, nesterov=nesterov)
    ours = run_ours(optimizers.LARS(0.5, weight_decay=0.0, epsilon=0.0, **kw), problem)
    theirs = run_ours(optax.lars(0.5, weight_decay=0.0, eps=0.0, **kw), problem)
    assert_same_path(ours, theirs)


def _objax_lars_step(lr, momentum, wd, tc, eps):
    """objax/optimizer/lars.py, transcribed to NumPy."""

    def step(g, m, w):
        out_w, out_m = {}, {}
        for k in w:
            p_norm, g_norm = np.linalg.norm(w[k]), np.linalg.norm(g[k])
            trust = tc * p_norm / (g_norm + wd * p_norm + eps)
            local_lr = lr * max(float(p_norm == 0 or g_norm == 0), trust)
            out_m[k] = momentum * m[k] + local_lr * (g[k] + wd * w[k])
            out_w[k] = w[k] - out_m[k]
        return out_w, out_m

    return step


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
def test_lars_matches_objax(problem):
    hp = dict(momentum=0.9, weight_decay=1e-3, trust_coefficient=1e-2, epsilon=1e-5)
    ours = run_ours(optimizers.LARS(0.5, **hp), problem)
    m0 = {k: np.zeros_like(v) for k, v in PROBLEMS[problem][1].items()}
    theirs = run_numpy(
        _objax_lars_step(
            0.5, hp["momentum"], hp["weight_decay"], hp["trust_coefficient"], hp["epsilon"]
        ),
        m0,
        problem,
    )
    assert_same_path(ours, theirs)


def test_lars_polynomial_schedule_is_the_documents():
    s = schedules.lars_polynomial(2.0, 100)
    for t in (0, 10, 50, 99, 100, 150):
        assert float(s(t)) == pytest.approx(2.0 * (1 - min(t, 100) / 100) ** 2)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.Constant(0.1),
        schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
        schedules.CosineDecay(0.01, 30, alpha=0.1, warmup_target=0.1, warmup_steps=5),
        schedules.PolynomialDecay(0.1, 20, 0.001, power=2.0, cycle=True),
        schedules.Warmup(schedules.CosineDecay(0.1, 50), warmup_steps=5),
        schedules.Warmup(0.05, warmup_steps=3, initial_learning_rate=0.01),
    ],
    ids=repr,
)
def test_schedules_round_trip_through_their_config(schedule):
    import json

    back = schedules.from_config(json.loads(json.dumps(schedule.to_config())))
    assert back == schedule
    for t in (0, 3, 7, 40):
        assert float(back(t)) == float(schedule(t))
