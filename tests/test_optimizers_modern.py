"""Exactness of the modern families: each reproduces, in float64, the library it names.

One table drives the tests: each family is run next to its peer (Keras 3 on the JAX backend,
or optax) for 60 steps on Rosenbrock, the ill-conditioned quadratic and a 3 x 4 matrix-shaped
quadratic, and the paths agree to 1e-10. Arguments are written once, in this package's
Keras-style names; ``optax_kwargs`` renames them for optax.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

from optimizers.adabelief import AdaBelief
from optimizers.adafactor import Adafactor
from optimizers.adan import Adan
from optimizers.ademamix import AdEMAMix
from optimizers.adopt import ADOPT
from optimizers.ftrl import Ftrl
from optimizers.lamb import Lamb
from optimizers.lbfgs import LBFGS
from optimizers.lion import Lion
from optimizers.muon import Muon
from optimizers.novograd import NovoGrad
from optimizers.prodigy import Prodigy
from optimizers.radam import RAdam
from optimizers.rprop import Rprop
from optimizers.schedule_free import ScheduleFreeAdamW
from optimizers.signum import Signum
from optimizers.yogi import Yogi
from tests import peers
from tests.peers import assert_same_path, run_keras, run_ours
from tests.peers_modern import PROBLEMS, optax_kwargs, run_with_loss
from tests.test_lbfgs_engine import attainable

keras.config.set_floatx("float64")
K = keras.optimizers


@dataclass(frozen=True)
class Family:
    ours: Callable  # our constructor
    peer: Callable  # peer(learning_rate, **kwargs) -> a Keras optimizer or an optax transform
    keras: bool  # which runner the peer needs
    lr: dict  # learning rate per problem: a smooth, stable path (chaos would prove nothing)
    cases: dict = field(default_factory=lambda: {"defaults": {}})  # id -> shared kwargs
    # Two compilations may sum in a different order: float64 rounding, or float32 where the
    # library itself accumulates in float32 (Keras's means, see optimizers/adafactor.py).
    traced_rtol: float = 1e-12
    # Against the library: 1e-10, except where the library rounds to float32 inside a float64
    # run (Keras's Muon takes the Frobenius norm in float32, optimizers/muon.py): a one-ulp
    # float64 difference between two compilations (the engine's XLA loop setting,
    # trajectories/xla_flags.py, changes how loops are compiled) can move that float32 rounding,
    # about 6e-8 of the norm, which shows as a few 1e-10 in the path.
    peer_rtol: float = 1e-10


def _optax(factory):
    return lambda lr, **kw: factory(lr, **optax_kwargs(kw))


def _prodigy(lr, beta_1=0.9, beta_2=0.999, beta_3=None, **kw):
    """optax's Prodigy takes ``betas=(b1, b2)`` and ``beta3``."""
    return optax.contrib.prodigy(lr, betas=(beta_1, beta_2), beta3=beta_3, **optax_kwargs(kw))


FAMILIES = {
    "Lion": Family(
        Lion,
        K.Lion,
        True,
        {"rosenbrock": 1e-3, "quadratic": 1e-5, "matrix": 3e-3},
        {"defaults": {}, "betas": {"beta_1": 0.5, "beta_2": 0.9}},
    ),
    "RAdam": Family(
        RAdam,
        _optax(optax.radam),
        False,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {
            "defaults": {},
            "nesterov": {"nesterov": True, "threshold": 6.0, "epsilon_root": 1e-10},
        },
    ),
    "AdaBelief": Family(
        AdaBelief,
        _optax(optax.adabelief),
        False,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {
            "defaults": {},
            "nesterov": {"nesterov": True, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-8},
        },
    ),
    "Yogi": Family(
        Yogi,
        _optax(optax.yogi),
        False,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {"defaults": {}, "betas": {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}},
    ),
    "Signum": Family(
        Signum,
        optax.signum,
        False,
        {"rosenbrock": 1e-3, "quadratic": 1e-5, "matrix": 3e-3},
        {"defaults": {}, "beta": {"beta": 0.5}},
    ),
    "Rprop": Family(
        Rprop,
        optax.rprop,
        False,
        {"rosenbrock": 1e-3, "quadratic": 1e-5, "matrix": 1e-2},
        {
            "defaults": {},
            "bounds": {
                "eta_minus": 0.3,
                "eta_plus": 1.5,
                "min_step_size": 1e-5,
                "max_step_size": 0.05,
            },
        },
    ),
    "Lamb": Family(
        Lamb,
        K.Lamb,
        True,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {"defaults": {}, "betas": {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}},
    ),
    "Adan": Family(
        Adan,
        _optax(optax.adan),
        False,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {
            "defaults": {},
            "decay": {
                "weight_decay": 0.02,
                "beta_1": 0.9,
                "beta_2": 0.9,
                "beta_3": 0.999,
                "epsilon_root": 0.0,
            },
        },
    ),
    "NovoGrad": Family(
        NovoGrad,
        _optax(optax.novograd),
        False,
        {"rosenbrock": 1e-3, "quadratic": 1e-5, "matrix": 1e-2},
        {
            "defaults": {},
            "decay": {"weight_decay": 0.01, "beta_1": 0.8, "beta_2": 0.5, "epsilon_root": 1e-8},
        },
    ),
    "ADOPT": Family(
        ADOPT,
        _optax(optax.contrib.adopt),
        False,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {
            "defaults": {},
            "nesterov": {"nesterov": True, "use_clipping": False, "beta_2": 0.999},
        },
    ),
    "AdEMAMix": Family(
        AdEMAMix,
        _optax(optax.contrib.ademamix),
        False,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {
            "defaults": {},
            "mix": {"alpha": 2.0, "beta_3": 0.99, "weight_decay": 0.01, "epsilon_root": 1e-10},
        },
    ),
    "Ftrl": Family(
        Ftrl,
        K.Ftrl,
        True,
        {"rosenbrock": 0.05, "quadratic": 1e-4, "matrix": 0.05},
        {
            "defaults": {},
            "regularised": {
                "learning_rate_power": -0.7,
                "initial_accumulator_value": 0.5,
                "l1_regularization_strength": 0.001,
                "l2_regularization_strength": 0.01,
                "l2_shrinkage_regularization_strength": 0.01,
                "beta": 0.1,
            },
        },
    ),
    "Adafactor": Family(
        Adafactor,
        K.Adafactor,
        True,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {
            "defaults": {},
            "tuned": {"beta_2_decay": -0.5, "epsilon_2": 1e-2, "clip_threshold": 0.5},
        },
        traced_rtol=1e-6,
    ),
    "Prodigy": Family(
        Prodigy,
        _prodigy,
        False,
        {"rosenbrock": 1.0, "quadratic": 1.0, "matrix": 1.0},
        {
            "defaults": {},
            "tuned": {
                "beta_3": 0.99,
                "weight_decay": 0.01,
                "safeguard_warmup": True,
                "estim_lr0": 1e-4,
                "epsilon": 1e-6,
            },
        },
    ),
    "ScheduleFreeAdamW": Family(
        ScheduleFreeAdamW,
        K.ScheduleFreeAdamW,
        True,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        {"defaults": {}, "warmup": {"warmup_steps": 10, "beta_1": 0.8, "beta_2": 0.99}},
    ),
    "Muon": Family(
        Muon,
        K.Muon,
        True,
        {"rosenbrock": 0.01, "quadratic": 1e-4, "matrix": 0.01},
        peer_rtol=5e-9,
        cases={
            "defaults": {},
            "plain": {
                "nesterov": False,
                "rms_rate": None,
                "ns_steps": 3,
                "momentum": 0.9,
                "adam_lr_ratio": 0.5,
                "weight_decay": 0.01,
                "adam_weight_decay": 0.0,
            },
        },
    ),
}

CASES = [(n, c) for n, f in FAMILIES.items() for c in f.cases]


def _run_peer(family: Family, lr, kwargs, problem):
    if family.keras:
        return run_keras(family.peer(lr, **kwargs), problem)
    return run_ours(family.peer(lr, **kwargs), problem)


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_matches_its_library(name, case, problem):
    family = FAMILIES[name]
    lr, kwargs = family.lr[problem], family.cases[case]
    ours = run_ours(family.ours(learning_rate=lr, **kwargs), problem)
    assert_same_path(ours, _run_peer(family, lr, kwargs, problem), family.peer_rtol)
    assert np.max(np.abs(ours[-1] - ours[0])) > 1e-6, "the path must move for the test to mean much"


@pytest.mark.parametrize("name", list(FAMILIES))
def test_hyperparameters_are_traceable(name):
    """Built inside jit from traced values, the path is the one built from Python floats."""
    family = FAMILIES[name]
    case = family.cases[list(family.cases)[-1]]
    numeric = {k: v for k, v in case.items() if isinstance(v, float)}
    lr = family.lr["matrix"]
    expected = run_ours(family.ours(learning_rate=lr, **case), "matrix", steps=10)
    loss, w0 = peers.PROBLEMS["matrix"]
    w0 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w0)

    @jax.jit
    def path(lr, values):
        opt = family.ours(learning_rate=lr, **{**case, **values})
        state, w, out = opt.init(w0), w0, []
        for _ in range(10):
            u, state = opt.update(jax.grad(loss)(w), state, w)
            w = optax.apply_updates(w, u)
            out.append(jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(w)]))
        rates = opt.learning_rates(state)
        return jnp.stack(out), rates

    traced, rates = path(jnp.float64(lr), {k: jnp.float64(v) for k, v in numeric.items()})
    np.testing.assert_allclose(np.asarray(traced), expected, rtol=family.traced_rtol, atol=1e-14)
    assert jax.tree.structure(rates) == jax.tree.structure(w0)
    assert all(np.all(np.isfinite(r)) for r in jax.tree.leaves(rates))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_float32_stays_float32(name):
    family = FAMILIES[name]
    opt = family.ours(learning_rate=family.lr["matrix"])
    w = {"a": jnp.ones((3, 4), jnp.float32), "b": jnp.ones(4, jnp.float32)}
    state = opt.init(w)
    u, state = opt.update(jax.tree.map(lambda x: 0.1 * x, w), state, w)
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(u))
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(opt.learning_rates(state)))


# The shared Keras options (clipping, decoupled weight decay, EMA, accumulation) compose with the
# Keras-matched families exactly as with Keras's own classes.
KERAS_OPTION_CASES = [
    {"weight_decay": 0.05, "clipnorm": 0.5},
    {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 5},
]


@pytest.mark.parametrize("options", KERAS_OPTION_CASES, ids=["decay-clip", "accumulate-ema"])
@pytest.mark.parametrize("name", [n for n, f in FAMILIES.items() if f.keras])
def test_keras_options_compose(name, options):
    family = FAMILIES[name]
    lr = family.lr["matrix"]
    ours = run_ours(family.ours(learning_rate=lr, **options), "matrix")
    assert_same_path(ours, run_keras(family.peer(lr, **options), "matrix"), family.peer_rtol)


def test_lion_moves_every_weight_by_the_learning_rate():
    opt = Lion(learning_rate=0.01)
    w = {"w": jnp.array([1.0, -2.0, 3.0])}
    state = opt.init(w)
    u, state = opt.update({"w": jnp.array([0.3, -1e-6, 2.0])}, state, w)
    np.testing.assert_allclose(u["w"], [-0.01, 0.01, -0.01])
    np.testing.assert_allclose(opt.learning_rates(state)["w"], 0.01)


def test_adafactor_keeps_factors_for_matrices_only():
    opt = Adafactor()
    w = {"kernel": jnp.ones((3, 4)), "bias": jnp.ones(4)}
    inner = opt.init(w).inner
    assert inner.row["kernel"].shape == (3,) and inner.col["kernel"].shape == (4,)
    assert inner.velocity["kernel"].shape == () and inner.velocity["bias"].shape == (4,)
    _, state = opt.update(jax.tree.map(lambda x: 0.1 * x, w), opt.init(w), w)
    assert opt.learning_rates(state)["kernel"].shape == (3, 4)


def test_muon_is_keras_adamw_on_a_surface():
    """On a 2-D surface every weight is a vector: Muon is its AdamW fallback there."""
    import optimizers

    ours = run_ours(Muon(learning_rate=0.01), "rosenbrock")
    adamw = run_ours(optimizers.AdamW(learning_rate=0.01, weight_decay=0.004), "rosenbrock")
    assert_same_path(ours, adamw)


def test_muon_step_on_a_matrix_is_nearly_orthogonal():
    opt = Muon(learning_rate=1.0, weight_decay=0.0, momentum=0.0, nesterov=False, rms_rate=None)
    w = {"kernel": jnp.zeros((3, 4))}
    g = {"kernel": jnp.asarray(np.random.RandomState(0).randn(3, 4))}
    u, state = opt.update(g, opt.init(w), w)
    singular = np.linalg.svd(np.asarray(u["kernel"]), compute_uv=False)
    assert np.all((singular > 0.6) & (singular < 1.25)), singular  # NS5's band around 1
    rate = opt.learning_rates(state)["kernel"]
    np.testing.assert_allclose(rate * g["kernel"], -u["kernel"], rtol=1e-12, atol=1e-15)


def test_schedule_free_average_is_keras_x():
    """x = (y - (1 - beta_1) z) / beta_1 is the average sequence: x_1 = z_1 after one step."""
    from optimizers.schedule_free import averaged_weights

    opt = ScheduleFreeAdamW(learning_rate=0.1, beta_1=0.8)
    w = {"w": jnp.array([1.0, -2.0])}
    state = opt.init(w)
    u, state = opt.update({"w": jnp.array([0.5, 0.25])}, state, w)
    y = optax.apply_updates(w, u)
    x = averaged_weights(y, state, beta_1=0.8)
    np.testing.assert_allclose(x["w"], state.inner.z["w"], rtol=1e-12)


# ---- L-BFGS: optax's extra-arguments protocol ---------------------------------------------
LBFGS_CASES = {
    "zoom": {},
    "short-memory": {"memory_size": 3, "scale_init_precond": False},
    "no-linesearch": {"linesearch": None, "learning_rate": 0.2},
}


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("case", list(LBFGS_CASES))
def test_lbfgs_matches_optax(case, problem):
    # Three of these paths are determined by float64 arithmetic only to 1e-6 .. 0.3 (a one-ulp
    # move of the start moves optax's own path that far): compiled in another program they
    # agree to that bound, measured (tests/test_lbfgs_engine.py); every other to 1e-10.
    kwargs = LBFGS_CASES[case]
    theirs_kwargs = dict(kwargs)
    if theirs_kwargs.get("linesearch", "zoom") == "zoom":
        theirs_kwargs.pop("linesearch", None)
    ours = run_with_loss(LBFGS(**kwargs), problem)
    theirs = run_with_loss(optax.lbfgs(**theirs_kwargs), problem)
    assert_same_path(ours, theirs, attainable(kwargs, problem))
    assert np.max(np.abs(ours[-1] - ours[0])) > 1e-6


def test_lbfgs_reports_its_line_search():
    from optimizers.lbfgs import function_evaluations, line_search_step

    loss, w0 = peers.PROBLEMS["rosenbrock"]
    w = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w0)
    opt = LBFGS()
    state = opt.init(w)
    for _ in range(3):
        value, grad = jax.value_and_grad(loss)(w)
        u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=loss)
        w = optax.apply_updates(w, u)
    assert float(line_search_step(state)) > 0
    assert int(function_evaluations(state)) >= 1
    rates = opt.learning_rates(state)["w"]
    np.testing.assert_allclose(rates * grad["w"], -u["w"], rtol=1e-12)
    with pytest.raises(ValueError, match="value_fn"):
        opt.update(grad, state, w)


# ---- Schedules and bad input ----------------------------------------------------------------
def test_schedules_match_both_libraries():
    """A decaying learning rate reaches the core exactly as Keras's and optax's schedules do."""
    from optimizers import schedules

    ours = run_ours(Lion(learning_rate=schedules.ExponentialDecay(3e-3, 10, 0.5)), "matrix")
    theirs = run_keras(
        K.Lion(learning_rate=keras.optimizers.schedules.ExponentialDecay(3e-3, 10, 0.5)), "matrix"
    )
    assert_same_path(ours, theirs)

    # optax.exponential_decay computes in float32 under jit: the same float64 callable for both.
    def decay(t):
        return 0.01 * 0.5 ** (t / 10)

    assert_same_path(
        run_ours(RAdam(learning_rate=decay), "matrix"), run_ours(optax.radam(decay), "matrix")
    )


BAD_SETTINGS = [
    (Lion, {"beta_1": 0.0}, "beta_1"),
    (RAdam, {"threshold": -1.0}, "threshold"),
    (AdaBelief, {"epsilon_root": -1e-3}, "epsilon_root"),
    (Yogi, {"beta_2": 1.0}, "beta_2"),
    (Signum, {"beta": 1.5}, "beta"),
    (Rprop, {"eta_plus": 0.9}, "eta_plus"),
    (Rprop, {"min_step_size": 1.0, "max_step_size": 0.5}, "min_step_size"),
    (Lamb, {"epsilon": -1.0}, "epsilon"),
    (Adan, {"beta_3": 1.2}, "beta_3"),
    (NovoGrad, {"weight_decay": -0.1}, "weight_decay"),
    (ADOPT, {"nesterov": 1}, "nesterov"),
    (AdEMAMix, {"alpha": float("nan")}, "alpha"),
    (Ftrl, {"learning_rate_power": 0.5}, "learning_rate_power"),
    (Adafactor, {"beta_2_decay": 0.5}, "beta_2_decay"),
    (Prodigy, {"estim_lr0": 0.0}, "estim_lr0"),
    (ScheduleFreeAdamW, {"warmup_steps": 2.5}, "warmup_steps"),
    (Muon, {"ns_steps": -1}, "ns_steps"),
    (LBFGS, {"memory_size": 0}, "memory_size"),
    (LBFGS, {"linesearch": "backtracking"}, "linesearch"),
    (Lion, {"bogus": 1.0}, "bogus"),
]


@pytest.mark.parametrize(("ctor", "kwargs", "argument"), BAD_SETTINGS)
def test_bad_hyperparameters_raise_naming_the_argument(ctor, kwargs, argument):
    with pytest.raises(ValueError, match=argument) as error:
        ctor(**kwargs)
    assert "\n" not in str(error.value)


# ---- The per-weight learning rate is the factor each docstring names --------------------------
def _debiased(x, beta, t):
    return jax.tree.map(lambda x: x / (1 - beta**t), x)


# name -> (constructor, what the rate multiplies: fn(previous inner state, inner state, grads))
RATE_APPLIES_TO = {
    "RAdam": (RAdam, lambda s0, s, g: _debiased(s.mu, 0.9, s.count)),
    "AdaBelief": (AdaBelief, lambda s0, s, g: _debiased(s.mu, 0.9, s.count)),
    "Yogi": (Yogi, lambda s0, s, g: _debiased(s.mu, 0.9, s.count)),
    "Lamb": (Lamb, lambda s0, s, g: _debiased(s.mu, 0.9, s.count)),
    "Adan": (
        Adan,
        lambda s0, s, g: jax.tree.map(
            lambda m, v: m / (1 - 0.98**s.count) + 0.08 * v / (1 - 0.92**s.count), s.m, s.v
        ),
    ),
    "AdEMAMix": (
        AdEMAMix,
        lambda s0, s, g: jax.tree.map(
            lambda m1, m2: m1 / (1 - 0.9**s.count) + 5.0 * m2, s.m1, s.m2
        ),
    ),
    "Adafactor": (Adafactor, lambda s0, s, g: g),
    "Prodigy": (Prodigy, lambda s0, s, g: s.exp_avg),
    "Signum": (Signum, lambda s0, s, g: jax.tree.map(jnp.sign, s.ema)),
    "Rprop": (Rprop, lambda s0, s, g: jax.tree.map(jnp.sign, s.prev_updates)),
}


@pytest.mark.parametrize("name", list(RATE_APPLIES_TO))
def test_learning_rate_times_its_quantity_is_the_step(name):
    ctor, applies_to = RATE_APPLIES_TO[name]
    opt = ctor(learning_rate=1e-3)
    loss, w = peers.PROBLEMS["matrix"]
    w = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w)
    state = opt.init(w)
    for _ in range(12):  # past RAdam's rectification threshold
        g = jax.grad(loss)(w)
        previous = state
        u, state = opt.update(g, state, w)
        if name != "Rprop":  # Rprop moves by the step it chose one call earlier
            w = optax.apply_updates(w, u)
    if name == "Rprop":  # its rate is the step it will take next, along sign(p_t)
        u, _ = opt.update(g, state, w)
    rates = opt.learning_rates(state)
    quantity = applies_to(previous.inner, state.inner, g)
    for r, q, step in zip(*(jax.tree.leaves(x) for x in (rates, quantity, u)), strict=True):
        np.testing.assert_allclose(-r * q, step, rtol=1e-9, atol=1e-15)
