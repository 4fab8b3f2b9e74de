"""optimizers.keras: a Keras 3 optimizer class per declaration, exact against Keras's own.

Where Keras has the optimizer, our class and Keras's run the same 60 steps on keras.Variables
(float64, Keras's stateless JAX path, tests/peers.py) with the same arguments, options included,
and agree to 1e-10. Where it has not, the peer is optax (Momentum, Nesterov, LARS) or the
suite's independent NumPy transcriptions of WAME (tests/test_optimizers_transcriptions.py).
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import optax
import pytest

import optimizers
import optimizers.keras as ok
from tests.peers import assert_same_path, run_keras, run_numpy, run_ours
from tests.peers_modern import PROBLEMS as MODERN_PROBLEMS
from tests.test_optimizers_exact import KERAS_CASES, LR
from tests.test_optimizers_modern import FAMILIES, KERAS_OPTION_CASES
from tests.test_optimizers_transcriptions import (
    HP,
    WAME_LR,
    _state,
    _wame_paper,
    _wame_tensorflow,
)

keras.config.set_floatx("float64")
K = keras.optimizers
ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ["rosenbrock", "quadratic"]


# ---- one class per declaration ------------------------------------------------------------------
def test_every_registry_optimizer_has_a_keras_class_with_its_arguments():
    assert set(ok.__all__) == set(optimizers.OPTIMIZERS) - set(ok.NOT_OFFERED)
    for name in ok.__all__:
        info = optimizers.OPTIMIZERS[name]
        cls = getattr(ok, name)
        assert issubclass(cls, keras.optimizers.Optimizer) and cls.__name__ == name
        params = inspect.signature(cls).parameters
        for h in info.hyperparams:
            assert params[h.name].default == h.default, (name, h.name)
        declared = {h.name for h in (info.parent or info).hyperparams}
        for option in optimizers.OPTIONS:
            if option.name not in declared:  # LARS's weight_decay is its own
                assert params[option.name].default == option.default, (name, option.name)
    assert not hasattr(ok, "LBFGS") and "LBFGS" in ok.__doc__


def test_importing_optimizers_does_not_import_keras():
    code = "import sys, optimizers; assert 'keras' not in sys.modules, 'keras was imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_another_backend_is_refused_with_a_message():
    code = "import optimizers.keras as ok; ok.WAME()"
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "runs on Keras's JAX backend only" in out.stderr and "'numpy'" in out.stderr


def test_bad_arguments_get_the_declarations_messages():
    with pytest.raises(ValueError, match=r"WAME: zeta_min=5.0 must not exceed zeta_max=1.0"):
        ok.WAME(zeta_min=5.0, zeta_max=1.0)
    with pytest.raises(ValueError, match=r"Adam: beta_1=1.5 is out of range \[0, 1\)"):
        ok.Adam(beta_1=1.5)
    with pytest.raises(ValueError, match=r"Adam: unknown argument 'betas'; valid arguments"):
        ok.Adam(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        ok.SGD(clipnorm=1.0, clipvalue=1.0)


@pytest.mark.parametrize("name", ok.__all__)  # every class offered (not LBFGS: ok.NOT_OFFERED)
def test_config_round_trips(name):
    info = optimizers.OPTIMIZERS[name]
    changed = {}
    for h in info.hyperparams:  # a non-default value of every numeric hyperparameter
        if h.name != "learning_rate" and h.kind == "float" and not h.schedule and h.default:
            changed[h.name] = h.default * 0.5 if h.valid.high else h.default * 2
    opt = getattr(ok, name)(learning_rate=0.05, clipnorm=0.5, name="mine", **changed)
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(0.05) and config["clipnorm"] == 0.5
    for key, value in changed.items():
        assert config[key] == pytest.approx(value)
    again = type(opt).from_config(config)
    assert again.get_config() == config and again.name == "mine"
    via_keras = K.deserialize(K.serialize(opt))
    assert type(via_keras) is type(opt) and via_keras.get_config() == config


def test_lars_weight_decay_is_its_own_not_the_decoupled_option():
    opt = ok.LARS(weight_decay=0.01)
    assert opt.weight_decay is None and opt.get_config()["weight_decay"] == 0.01
    assert ok.LARS.from_config(opt.get_config()).get_config() == opt.get_config()


# ---- exact against Keras's own ------------------------------------------------------------------
@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize(("case", "name", "kwargs"), KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_matches_keras(case, name, kwargs, problem):
    lr = LR[problem][name]
    ours = run_keras(getattr(ok, name)(learning_rate=lr, **kwargs), problem)
    theirs = run_keras(getattr(K, name)(learning_rate=lr, **kwargs), problem)
    assert_same_path(ours, theirs)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_amsgrad_preset_matches_keras_adam_amsgrad(problem):
    lr = LR[problem]["Adam"]
    ours = run_keras(ok.AMSGrad(learning_rate=lr), problem)
    theirs = run_keras(K.Adam(learning_rate=lr, amsgrad=True), problem)
    assert_same_path(ours, theirs)


KERAS_SCHEDULES = {
    "exponential": lambda lr: K.schedules.ExponentialDecay(lr, 7, 0.3, staircase=True),
    "polynomial": lambda lr: K.schedules.PolynomialDecay(lr, 20, lr / 10, cycle=True),
}


@pytest.mark.parametrize("schedule", list(KERAS_SCHEDULES))
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("SGD", {"momentum": 0.9}), ("Adam", {"gradient_accumulation_steps": 2}), ("RMSprop", {})],
)
def test_schedules_match_keras(name, kwargs, schedule):
    lr = KERAS_SCHEDULES[schedule](LR["rosenbrock"][name])
    ours = run_keras(getattr(ok, name)(learning_rate=lr, **kwargs), "rosenbrock")
    theirs = run_keras(getattr(K, name)(learning_rate=lr, **kwargs), "rosenbrock")
    assert_same_path(ours, theirs)


def test_ema_slots_match_keras():
    kwargs = {"use_ema": True, "ema_momentum": 0.9, "weight_decay": 0.01}
    ours, theirs = ok.Adam(0.01, **kwargs), K.Adam(0.01, **kwargs)
    assert_same_path(run_keras(ours, "rosenbrock"), run_keras(theirs, "rosenbrock"))
    averages = [v.numpy() for v in ours._model_variables_moving_average]
    expected = [v.numpy() for v in theirs._model_variables_moving_average]
    np.testing.assert_allclose(averages, expected, rtol=1e-10)


# ---- the modern families Keras has (Lion, Lamb, Adafactor, Ftrl, Muon, ScheduleFreeAdamW) --------
# tests/test_optimizers_modern.py's table: its cases, learning rates and the matrix-shaped problem
# (Adafactor's factored moments and Muon's orthogonalised step need a matrix). Both classes run
# through the same runner, so Muon meets 1e-10 here: that file's looser Muon tolerance is for our
# optax form's scan against Keras's step loop, two compilations of Keras's float32 norm.
KERAS_FAMILIES = [n for n, f in FAMILIES.items() if f.keras]
MODERN_CASES = [(n, c) for n in KERAS_FAMILIES for c in FAMILIES[n].cases]
OPTAX_CASES = [(n, c) for n, f in FAMILIES.items() if not f.keras for c in f.cases]


def _moved(path):
    return np.max(np.abs(path[-1] - path[0]))


@pytest.mark.parametrize("problem", MODERN_PROBLEMS)
@pytest.mark.parametrize(("name", "case"), MODERN_CASES, ids=[f"{n}-{c}" for n, c in MODERN_CASES])
def test_modern_families_match_keras(name, case, problem):
    family = FAMILIES[name]
    lr, kwargs = family.lr[problem], family.cases[case]
    ours = run_keras(getattr(ok, name)(learning_rate=lr, **kwargs), problem)
    assert_same_path(ours, run_keras(family.peer(lr, **kwargs), problem))
    assert _moved(ours) > 1e-6, "the path must move for the test to mean much"


@pytest.mark.parametrize("options", KERAS_OPTION_CASES, ids=["decay-clip", "accumulate-ema"])
@pytest.mark.parametrize("name", KERAS_FAMILIES)
def test_modern_families_with_keras_options_match_keras(name, options):
    lr = FAMILIES[name].lr["matrix"]
    ours = run_keras(getattr(ok, name)(learning_rate=lr, **options), "matrix")
    assert_same_path(ours, run_keras(FAMILIES[name].peer(lr, **options), "matrix"))


@pytest.mark.parametrize(("name", "case"), OPTAX_CASES, ids=[f"{n}-{c}" for n, c in OPTAX_CASES])
def test_families_without_a_keras_peer_match_optax_through_the_class(name, case):
    """The Keras class steps all variables at once: Prodigy's distance estimate sums over every
    weight (one d for the model, as in optax), and its w_0 is the weights' start."""
    family = FAMILIES[name]
    lr, kwargs = family.lr["matrix"], family.cases[case]
    ours = run_keras(getattr(ok, name)(learning_rate=lr, **kwargs), "matrix")
    assert_same_path(ours, run_ours(family.peer(lr, **kwargs), "matrix"))
    assert _moved(ours) > 1e-6


# ---- optax peers (no Keras optimizer of that form) -----------------------------------------------
@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("name", ["Momentum", "Nesterov"])
def test_momentum_classes_match_optax_sgd(problem, name):
    lr = 1e-4 if problem == "rosenbrock" else 5e-5
    ours = run_keras(getattr(ok, name)(learning_rate=lr, momentum=0.9), problem)
    theirs = run_ours(optax.sgd(lr, momentum=0.9, nesterov=name == "Nesterov"), problem)
    assert_same_path(ours, theirs)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_lars_class_matches_optax_lars(problem):
    kw = dict(momentum=0.9, trust_coefficient=1e-2)
    ours = run_keras(ok.LARS(0.5, weight_decay=0.0, epsilon=0.0, **kw), problem)
    theirs = run_ours(optax.lars(0.5, weight_decay=0.0, eps=0.0, **kw), problem)
    assert_same_path(ours, theirs)


# ---- WAME: the independent transcriptions, through the Keras class -------------------------------
@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("variant", ["paper", "paper_sqrt"])
def test_wame_paper_variants_match_algorithm_1(variant, problem):
    lr = WAME_LR[problem] if variant == "paper" else 1e-3
    ours = run_keras(ok.WAME(lr, epsilon=1e-7, variant=variant, **HP), problem)
    step = _wame_paper(lr, *HP.values(), 1e-7, use_sqrt=variant == "paper_sqrt")
    assert_same_path(ours, run_numpy(step, _state(problem, 1.0), problem))


@pytest.mark.parametrize("problem", PROBLEMS)
def test_wame_tensorflow_variant_matches_the_published_package(problem):
    lr = WAME_LR[problem]
    ours = run_keras(ok.WAME(lr, variant="tensorflow", **HP), problem)
    theirs = run_numpy(_wame_tensorflow(lr, *HP.values()), _state(problem, 0.0), problem)
    assert_same_path(ours, theirs)


def test_state_variables_are_shaped_by_their_fields():
    w = [keras.Variable(np.ones((3, 2)), name="w"), keras.Variable(np.ones(4), name="b")]
    wame = ok.WAME()
    wame.build(w)
    # previous gradient, zeta, Z, theta per variable, beside iteration and learning rate
    assert [tuple(v.shape) for v in wame.variables[2:]] == [(3, 2)] * 4 + [(4,)] * 4
    assert np.all(wame.variables[3].numpy() == 1.0)  # zeta_0 = 1 (Algorithm 1)
    lars = ok.LARS()
    lars.build(w)
    assert [tuple(v.shape) for v in lars.variables[2:]] == [(3, 2), (), (4,), ()]


# ---- a Keras model: compile, fit, save, load, continue -----------------------------------------
def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4))
    y = np.tanh(x @ np.array([[0.5], [-1.0], [0.3], [2.0]])) + 0.1 * np.sin(3 * x[:, :1])
    return x, y


def _model():
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )


def test_a_model_trains_saves_loads_and_continues_identically(tmp_path):
    x, y = _data()
    model = _model()
    model.compile(optimizer=ok.WAME(), loss="mse", metrics=["mae"])
    losses = model.fit(x, y, epochs=6, batch_size=32, shuffle=False, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer) is ok.WAME
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 6 * 8
    saved = [v.numpy() for v in model.optimizer.variables]
    restored = [v.numpy() for v in loaded.optimizer.variables]
    assert len(saved) == len(restored) == 2 + 4 * 4  # 4 slots for each of the 4 weight arrays
    for a, b in zip(saved, restored, strict=True):
        np.testing.assert_array_equal(a, b)
    fresh = ok.WAME()
    fresh.build(model.trainable_variables)
    for a, b in zip(saved[2:], fresh.variables[2:], strict=True):
        assert np.any(a != b.numpy())  # every slot moved from its initial value

    more = [m.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0) for m in (model, loaded)]
    assert more[0].history["loss"] == pytest.approx(more[1].history["loss"], rel=1e-12)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["Adafactor", "Muon", "Prodigy", "ScheduleFreeAdamW"])
def test_a_modern_family_saves_and_loads_with_its_state(name, tmp_path):
    """Factored moments (Adafactor's row and column), a model-wide scalar (Prodigy's d), and
    state that starts at the weights (ScheduleFreeAdamW's z, Prodigy's w_0) survive a .keras
    file, and both models then train on identically."""
    x, y = _data()
    model = _model()
    model.compile(optimizer=getattr(ok, name)(learning_rate=0.01), loss="mse")
    model.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is getattr(ok, name)
    saved = [v.numpy() for v in model.optimizer.variables]
    restored = [v.numpy() for v in loaded.optimizer.variables]
    assert len(saved) == len(restored) > 2 + 4  # iterations, learning rate and the rule's state
    for a, b in zip(saved, restored, strict=True):
        np.testing.assert_array_equal(a, b)
    more = [m.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0) for m in (model, loaded)]
    assert more[0].history["loss"] == pytest.approx(more[1].history["loss"], rel=1e-12)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["Adam", "Lion"])
def test_a_missing_gradient_steps_the_other_variables_as_keras_does(name):
    """Keras drops a variable whose gradient is None from the step; the rule then runs on the
    others, with their own state."""
    runs = []
    for opt in (getattr(ok, name)(0.1), getattr(K, name)(0.1)):
        w = [keras.Variable(np.ones(3)), keras.Variable(np.ones((2, 2)))]
        opt.build(w)
        opt.apply([np.full(3, 0.5), None], w)
        opt.apply([np.full(3, 0.4), np.full((2, 2), 0.2)], w)
        runs.append([v.numpy() for v in w])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert np.all(runs[0][1] != 1.0) and np.all(runs[0][0] != 1.0)


def test_schedule_free_state_starts_at_the_weights():
    w = [keras.Variable(np.array([[1.0, -2.0], [0.5, 3.0]]), name="w")]
    ours, theirs = ok.ScheduleFreeAdamW(), K.ScheduleFreeAdamW()
    ours.build(w)
    theirs.build(w)
    np.testing.assert_array_equal(ours.variables[2].numpy(), w[0].numpy())  # z_0 = w_0
    np.testing.assert_array_equal(ours.variables[2].numpy(), theirs.variables[2].numpy())


def test_the_keras_example_prints_both_loss_curves():
    out = subprocess.run(
        [sys.executable, "examples/keras_wame.py", "--epochs", "4"],
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    curves = {line.split()[0]: [float(v) for v in line.split(":")[1].split()] for line in
              out.strip().splitlines()}  # fmt: skip
    assert set(curves) == {"WAME", "Adam"} and all(len(c) == 4 for c in curves.values())
    assert curves["WAME"][-1] < curves["WAME"][0]


def test_the_readme_keras_example_trains():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### WAME (and every optimizer here) as a Keras 3 optimizer", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own README, not user input
    assert type(namespace["model"].optimizer) is ok.WAME
    history = namespace["history"].history
    assert history["loss"][-1] < 0.8 * history["loss"][0], history["loss"]
    assert history["accuracy"][-1] > 0.8, history["accuracy"]
