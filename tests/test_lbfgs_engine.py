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
    loss, w0 = peers.PROBLEMS[problem]
    w = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w0)
    for _ in range(start_ulps):
        w = jax.tree.map(lambda x: jnp.nextafter(x, jnp.inf), w)
    opt = optax.lbfgs(**kwargs)

    def body(carry, _):
        w, s = carry
        value, grad = jax.value_and_grad(loss)(w)
        u, s = opt.update(grad, s, w, value=value, grad=grad, value_fn=loss)
        w = optax.apply_updates(w, u)
        return (w, s), jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(w)])

    return np.asarray(jax.jit(lambda w: jax.lax.scan(body, (w, opt.init(w)), None, 60)[1])(w))


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
