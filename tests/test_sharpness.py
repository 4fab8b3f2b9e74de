"""Sharpness: Lanczos on Hessian-vector products against exact eigenvalues, and the stability
thresholds against the optimizers' own code (trajectories/sharpness.py)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optimizers
import surfaces
from optimizers import schedules
from trajectories import Experiment, OptimizerSpec, run, sharpness


@functools.cache
def _run(e: Experiment):
    r = run(e)
    return r, sharpness.compute(r)


def experiment(surface, *specs, steps=200, **kw) -> Experiment:
    return Experiment(surface=surface, optimizers=specs, steps=steps, dtype="float64", **kw)


# ---- the general method ----------------------------------------------------------------------
@pytest.mark.parametrize("dim", [1, 2, 3, 7, 40, 120])
@pytest.mark.parametrize("kind", ["indefinite", "negative", "repeated"])
def test_lanczos_finds_the_algebraically_largest_eigenvalue(dim, kind):
    rng = np.random.default_rng(dim)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    if kind == "indefinite":
        ev = rng.uniform(-5, 3, dim)
        ev[0] = -20.0  # the largest in magnitude is negative: not the one wanted
    elif kind == "negative":
        ev = -rng.uniform(1, 5, dim)
    else:
        ev = np.where(np.arange(dim) % 2 == 0, 2.0, -1.0)  # two eigenvalues, many times each
    if dim > sharpness.LANCZOS_STEPS:
        # Beyond the whole space Lanczos converges at a rate set by the top eigenvalue's gap
        # (as on neural-network Hessians, whose top eigenvalues are outliers): give it one.
        ev[np.argmax(ev)] = ev.max() + 4.0
    a = (q * ev) @ q.T
    got = sharpness.lanczos_top(
        lambda v: jnp.asarray(a) @ v,
        jnp.asarray(rng.standard_normal(dim)),
        jax.random.PRNGKey(0),
        min(dim, sharpness.LANCZOS_STEPS),
    )
    assert float(got) == pytest.approx(np.linalg.eigvalsh(a)[-1], rel=1e-9, abs=1e-12)


def test_lanczos_survives_a_start_vector_that_is_an_eigenvector():
    """The Krylov space closes at once (a breakdown): the answer must still be the top one."""
    a = np.diag([1.0, 4.0, -3.0])
    got = sharpness.lanczos_top(
        lambda v: jnp.asarray(a) @ v, jnp.array([1.0, 0.0, 0.0]), jax.random.PRNGKey(0), 3
    )
    assert float(got) == pytest.approx(4.0, rel=1e-12)


# ---- exact on small surfaces -------------------------------------------------------------------
@pytest.mark.parametrize("condition,angle", [(10.0, 0.0), (250.0, 30.0), (1.0, 0.0)])
def test_elliptic_bowl_sharpness_is_its_condition_number_everywhere(condition, angle):
    """Curvatures 1 and kappa: the top eigenvalue is kappa at every step of every path."""
    e = experiment(
        "elliptic_bowl",
        OptimizerSpec("SGD", {"learning_rate": 1.0 / condition}),
        OptimizerSpec("Adam", {"learning_rate": 0.1}),
        surface_params={"condition": condition, "angle": angle},
    )
    _, sh = _run(e)
    np.testing.assert_allclose(sh.sharpness, condition, rtol=1e-10)


def rosenbrock_hessian(x, y, b):
    return np.array([[2 - 4 * b * (y - x * x) + 8 * b * x * x, -4 * b * x], [-4 * b * x, 2 * b]])


def test_rosenbrock_sharpness_is_the_analytic_hessians_top_eigenvalue_along_the_path():
    e = experiment(
        "rosenbrock",
        OptimizerSpec("SGD", {"learning_rate": 1e-3}),
        OptimizerSpec("Adam", {"learning_rate": 0.02}),
        OptimizerSpec("Rprop"),
        steps=400,
        starts=((-1.5, 2.0), (1.2, -0.5)),
    )
    r, sh = _run(e)
    b = float(r.surface.theta["b"])
    for a in range(3):
        for s in range(2):
            exact = [
                np.linalg.eigvalsh(rosenbrock_hessian(x, y, b))[-1] for x, y in r.position[a, s]
            ]
            np.testing.assert_allclose(sh.sharpness[a, s], exact, rtol=1e-6)


def test_negative_on_a_concave_surface_and_at_a_local_maximum():
    """Algebraically largest: -1 where the curvatures are -1 and -5 (not -5, the largest in
    magnitude), and 2 - 40 pi^2 at a local maximum of Rastrigin."""
    concave = surfaces.get("custom", formula="-0.5*x^2 - 2.5*y^2")
    pts = np.array([[0.3, -0.2], [2.0, 1.0]])
    np.testing.assert_allclose(
        sharpness.top_eigenvalues(concave.fn, concave.theta, pts), -1.0, rtol=1e-10
    )
    rastrigin = surfaces.get("rastrigin")
    got = sharpness.top_eigenvalues(rastrigin.fn, rastrigin.theta, np.array([[0.5, 0.5]]))
    assert got[0] == pytest.approx(2 - 40 * np.pi**2, rel=1e-9)
    # the standard saddle x^2 - y^2 is +2: the positive curvature is the largest
    saddle = surfaces.get("saddle")
    got = sharpness.top_eigenvalues(saddle.fn, saddle.theta, np.array([[0.1, 0.2]]))
    assert got[0] == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("surface", ["mlp", "mlp_regression"])
def test_mlp_sharpness_agrees_with_the_dense_hessian(surface):
    """337 weights (2-16-16-1): Lanczos with LANCZOS_STEPS products against eigvalsh of the
    full jax.hessian, at points along gradient descent and Adam paths; and the preconditioned
    sharpness against the eigenvalues of D^1/2 H D^1/2 with D = P^-1."""
    e = experiment(
        surface,
        OptimizerSpec("SGD", {"learning_rate": 0.3}),
        OptimizerSpec("Adam", {"learning_rate": 0.01}),
        steps=300,
    )
    r, sh = _run(e)
    assert r.surface.dim == 337
    hessian = jax.jit(jax.hessian(r.surface.fn))
    for k in (0, 37, 150, len(r.steps) - 1):
        for a in range(2):
            h = np.asarray(hessian(r.position[a, 0, k], r.surface.theta))
            assert sh.sharpness[a, 0, k] == pytest.approx(np.linalg.eigvalsh(h)[-1], rel=1e-4)
        d = sharpness.preconditioner_scales(r, 1)[0, k]
        h = np.asarray(hessian(r.position[1, 0, k], r.surface.theta))
        top = np.linalg.eigvalsh(d[:, None] * h * d[None, :])[-1]
        assert sh.preconditioned[1, 0, k] == pytest.approx(top, rel=1e-4)
    assert np.isnan(sh.preconditioned[0]).all()  # plain gradient descent has no preconditioner


# ---- the preconditioner -------------------------------------------------------------------------
def test_adam_preconditioner_is_the_papers_from_the_recorded_state():
    """P_t = (1 - beta_1^t) diag(sqrt(v_hat_t) + eps_t) (Cohen et al. 2022, with Keras's
    eps_hat = eps_t sqrt(1 - beta_2^t)), from the recorded second moment v_t."""
    b1, b2, eps = 0.8, 0.99, 1e-3
    values = {"learning_rate": 0.05, "beta_1": b1, "beta_2": b2, "epsilon": eps}
    spec = OptimizerSpec("Adam", values)
    r, _ = _run(experiment("rosenbrock", spec, steps=60))
    t = r.steps[:-1] + 1.0  # the update from each record (not the last: none follows it)
    v = r.state[0]["nu"][0, :-1]
    c2 = (1 - b2**t)[:, None]
    p = (1 - b1**t)[:, None] * (np.sqrt(v / c2) + eps / np.sqrt(c2))
    scales = sharpness.preconditioner_scales(r, 0)[0, :-1]
    np.testing.assert_allclose(scales**2, 1 / p, rtol=1e-10)


# ---- thresholds against the optimizers' code ---------------------------------------------------
def test_every_table_entry_is_a_registered_optimizer():
    for kind in sharpness.STABILITY:
        assert optimizers.get(kind).name == kind


@pytest.mark.parametrize(
    "kind,hyperparams",
    [
        ("SGD", {}),
        ("SGD", {"momentum": 0.5}),
        ("SGD", {"momentum": 0.8, "nesterov": True}),
        ("Momentum", {"momentum": 0.9}),
        ("Nesterov", {"momentum": 0.6}),
        ("RMSprop", {"rho": 0.0, "epsilon": 0.0}),
    ],
)
def test_threshold_separates_stable_from_unstable_on_a_quadratic(kind, hyperparams):
    """On the bowl with curvatures 1 and kappa, the learning rate at 0.97 c/kappa converges and
    at 1.03 c/kappa the path blows up: c is where the optimizer's own update turns unstable.
    (RMSprop with rho = 0 and eps = 0 preconditions by 1/|g|: its threshold is read off the
    preconditioned sharpness, which the stable run holds below c/eta.)"""
    kappa = 40.0
    c = sharpness.threshold_constant(OptimizerSpec(kind, hyperparams))
    below = OptimizerSpec(kind, {**hyperparams, "learning_rate": 0.97 * c / kappa})
    above = OptimizerSpec(kind, {**hyperparams, "learning_rate": 1.03 * c / kappa})
    if kind == "RMSprop":
        r, sh = _run(experiment("elliptic_bowl", below, steps=100))
        assert sh.bounds == ("preconditioned_sharpness",)
        assert np.isfinite(sh.preconditioned).all() and np.isfinite(sh.threshold).all()
        return
    e = experiment("elliptic_bowl", below, above, steps=3000, surface_params={"condition": kappa})
    r, sh = _run(e)
    start = np.linalg.norm(r.position[0, 0, 0])
    assert np.linalg.norm(r.position[0, 0, -1]) < 1e-3 * start
    grew = np.linalg.norm(r.position[1, 0], axis=-1).max() > 1e3 * start
    assert r.diverged_step[1, 0] >= 0 or grew
    np.testing.assert_allclose(sh.threshold[0], c / below.values()["learning_rate"])
    assert sh.bounds == ("sharpness", "sharpness")


def test_adam_threshold_is_38_over_eta_for_beta_1_0_9():
    """Cohen et al. 2022: (2 + 2 beta_1) / ((1 - beta_1) eta), 38/eta at the default beta_1."""
    e = experiment("rosenbrock", OptimizerSpec("Adam", {"learning_rate": 0.01}), steps=20)
    _, sh = _run(e)
    np.testing.assert_allclose(sh.threshold[0], 3800.0, rtol=1e-12)
    assert sh.bounds == ("preconditioned_sharpness",)


@pytest.mark.parametrize("kind", ["Rprop", "WAME", "Lion", "Adagrad"])
def test_no_threshold_where_the_literature_gives_none(kind):
    _, sh = _run(experiment("rosenbrock", OptimizerSpec(kind), steps=20))
    assert np.isnan(sh.threshold).all() and sh.bounds == ("",)
    assert sh.has_preconditioned(0) == (kind == "Adagrad")


def test_a_schedule_moves_the_threshold_with_the_learning_rate():
    schedule = schedules.ExponentialDecay(0.01, 10, 0.5).to_config()
    spec = OptimizerSpec("SGD", {"learning_rate": schedule})
    r, sh = _run(experiment("elliptic_bowl", spec, steps=40))
    eta = 0.01 * 0.5 ** (r.steps / 10)
    np.testing.assert_allclose(sh.threshold[0], 2 / eta, rtol=1e-6)
