"""L-BFGS through the engine: ``trajectories.run`` passes optax's extra arguments (the loss,
its gradient and the loss as a function) and the path is optax.lbfgs's own.

The three problems of tests/peers_modern.py become surfaces here (Rosenbrock, the
ill-conditioned quadratic in two tensors, the 3 x 4 matrix quadratic with its bias), laid out
as the peers' pytrees so the engine's ravelled weights are the peers' leaves in order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import surfaces
from surfaces.base import Family, Surface
from tests import peers, peers_modern
from tests.peers import assert_same_path
from trajectories import Experiment, OptimizerSpec, run

jax.config.update("jax_enable_x64", True)


def _surface(problem: str) -> Surface:
    loss, w0 = peers.PROBLEMS[problem]
    names = sorted(w0)
    layers = tuple((k, np.shape(w0[k])) for k in names)
    single = problem == "rosenbrock"  # its pytree is {"w": (2,)}
    dim = sum(int(np.prod(s)) for _, s in layers)

    def fn(w, theta):
        return loss({"w": w} if single else surfaces.base.unravel_layers(w, layers))

    return Surface(
        name=f"peer_{problem}",
        title=problem,
        latex="",
        reference="tests/peers.py",
        dim=dim,
        fn=fn,
        theta={},
        static_key=(f"peer_{problem}",),
        bounds=np.tile([-10.0, 10.0], (dim, 1)),
        window=np.array([[-2.0, 2.0], [-2.0, 3.0]]),
        minima=np.zeros((0, dim)),
        optimal_value=None,
        starts=np.concatenate([np.ravel(w0[k]) for k in names])[None],
        layers=() if single else layers,
    )


@pytest.fixture(autouse=True, scope="module")
def peer_surfaces():
    families = surfaces.registry.FAMILIES
    for p in peers_modern.PROBLEMS:
        families[f"peer_{p}"] = Family(f"peer_{p}", p, "custom", (), lambda p=p, **_: _surface(p))
    yield
    for p in peers_modern.PROBLEMS:
        families.pop(f"peer_{p}")


def engine_path(hyperparams: dict, problem: str, steps: int = peers.STEPS) -> np.ndarray:
    """Positions after each of ``steps`` steps, through ``trajectories.run`` (float64)."""
    e = Experiment(
        surface=f"peer_{problem}",
        optimizers=(OptimizerSpec("LBFGS", hyperparams),),
        steps=steps,
        dtype="float64",
        stride=1,
    )
    r = run(e)
    return r.position[0, 0, 1:]


def optax_path(hyperparams: dict, problem: str, start_ulps: int = 0) -> np.ndarray:
    """optax.lbfgs's own loop (tests/peers_modern.py), its start moved by ``start_ulps`` ulps."""
    kwargs = dict(hyperparams)
    if kwargs.get("linesearch", "zoom") == "zoom":
        kwargs.pop("linesearch", None)
    else:
        kwargs["linesearch"] = None
    return peers_modern.run_with_loss(optax.lbfgs(**kwargs), problem, start_ulps=start_ulps)


def attainable(hyperparams: dict, problem: str) -> float:
    """How closely float64 arithmetic determines this path: 1e-10, or, where a one-ulp move of
    the start moves optax's own path further (the line search's branches and an unscaled or
    unsearched quasi-Newton step amplify rounding), 10x that move. Two programs that round one
    operation differently (another compilation, the engine's XLA loop setting,
    trajectories/xla_flags.py) can then only agree to about that."""
    reference = optax_path(hyperparams, problem)
    moved = np.max(np.abs(optax_path(hyperparams, problem, 1) - reference) / (1 + abs(reference)))
    return max(1e-10, 10 * float(moved))


LBFGS_CASES = {
    "zoom": {},
    "short-memory": {"memory_size": 3, "scale_init_precond": False},
    "no-linesearch": {"linesearch": "none", "learning_rate": 0.2},
}
# Measured (optax 0.2.8): a one-ulp move of the start moves optax's own path by 1.6e-6
# (short-memory, Rosenbrock), 0.33 (short-memory, matrix) and 4.3e-4 (no line search, matrix);
# every other case by 3e-8 or less, and those agree to 1e-14 or better.
CHAOTIC = {("short-memory", "rosenbrock"), ("short-memory", "matrix"), ("no-linesearch", "matrix")}


@pytest.mark.parametrize("problem", peers_modern.PROBLEMS)
@pytest.mark.parametrize("case", list(LBFGS_CASES))
def test_engine_matches_optax_lbfgs(case, problem):
    hyperparams = LBFGS_CASES[case]
    theirs = optax_path(hyperparams, problem)
    tolerance = attainable(hyperparams, problem)
    assert (tolerance > 1e-6) == ((case, problem) in CHAOTIC), tolerance
    assert_same_path(engine_path(hyperparams, problem), theirs, tolerance)
    assert np.max(np.abs(theirs[-1] - theirs[0])) > 1e-6


def _optax_line_searches(problem: str, steps: int = 20):
    """optax.lbfgs's own step sizes and line-search evaluation counts, step by step."""
    loss, w0 = peers.PROBLEMS[problem]
    w = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w0)
    opt = optax.lbfgs()
    state, alphas, counts = opt.init(w), [], []
    for _ in range(steps):
        value, grad = jax.value_and_grad(loss)(w)
        u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=loss)
        w = optax.apply_updates(w, u)
        search = state[-1]  # the zoom line search's state, last in optax's chain
        alphas.append(float(search.learning_rate))
        counts.append(int(search.info.num_linesearch_steps))
    return np.array(alphas), np.array(counts)


def test_inside_view_and_evaluations_are_optax_line_search():
    """Record r holds the step taken from point r: its alpha_k and search evaluations are
    optax's; the run's evaluations are one per step plus every search's."""
    alphas, counts = _optax_line_searches("matrix")
    e = Experiment(
        surface="peer_matrix",
        optimizers=(OptimizerSpec("LBFGS"), OptimizerSpec("Adam")),
        steps=20,
        dtype="float64",
        stride=1,
    )
    r = run(e)
    state = r.state[0]
    assert set(state) == {"step_size", "evaluations"}
    # Once the loss is at its rounding floor the search decides on rounding noise (the steps
    # are then too small to move the path): compared while the loss is above it.
    above = r.loss[0, 0, :20] > 1e-12 * r.loss[0, 0, 0]
    assert above.sum() >= 8
    np.testing.assert_allclose(state["step_size"][0, :20, 0][above], alphas[above], rtol=1e-9)
    searched = np.repeat(counts[:, None], 16, 1)[above]
    np.testing.assert_array_equal(state["evaluations"][0, :20][above], searched)
    steps = state["step_size"][0, :20]  # one scalar, drawn over every weight
    np.testing.assert_array_equal(steps, np.broadcast_to(steps[:, :1], steps.shape))
    assert counts.sum() > 20  # the searches did evaluate the loss
    assert r.evaluations[0, 0] == 20 + state["evaluations"][0, :20, 0].sum()
    assert r.evaluations[1, 0] == 20  # Adam: one evaluation a step
    # the per-weight learning rate is the realised -update / gradient, signed
    taken = r.grad[0, 0, :20] != 0
    np.testing.assert_allclose(r.lr[0, 0, :20][taken], r.ratio[0, 0, :20][taken], rtol=1e-12)


def test_sweeps_and_fair_comparison_report_evaluations():
    from trajectories import sweeps

    e = Experiment(
        surface="rosenbrock",
        optimizers=(OptimizerSpec("LBFGS"), OptimizerSpec("Adam", {"learning_rate": 0.05})),
        steps=40,
        starts=((-1.5, 2.0),),
        dtype="float64",
    )
    axis = sweeps.Axis("learning_rate", 0.5, 1.0, 3)
    grid = sweeps.hyperparameter_grid(e, 0, [axis])
    assert grid.evaluations.shape == (3,)
    assert np.all(grid.evaluations > 40)  # every step searched at least once more
    single = run(e.replace(optimizers=(OptimizerSpec("LBFGS", {"learning_rate": 0.75}),)))
    assert grid.evaluations[1] == single.evaluations[0, 0]  # the summary loop counts as run()
    rows = sweeps.fair_comparison(e, trials=4)
    lbfgs, adam = rows
    assert lbfgs.tuned_evaluations > 40 and lbfgs.default_evaluations > 40
    assert adam.tuned_evaluations == adam.default_evaluations == 40


def test_stochastic_surface_gives_the_line_search_the_step_loss():
    """With gradient noise the search runs on f + <noise, v - w>: it is fed the noisy gradient
    it steps along, and the path stays finite and differs from the noise-free one."""
    e = Experiment(
        surface="rosenbrock",
        optimizers=(OptimizerSpec("LBFGS"),),
        steps=30,
        starts=((-1.5, 2.0),),
        dtype="float64",
        noise=0.5,
        seed=3,
    )
    noisy, clean = run(e), run(e.replace(noise=0.0))
    assert np.all(np.isfinite(noisy.position)) and noisy.diverged_step[0, 0] == -1
    assert np.max(np.abs(noisy.position - clean.position)) > 1e-3
    assert noisy.final_loss[0, 0] < noisy.loss[0, 0, 0]
