"""Runners that drive our optimizers and the real peer libraries on the same problems.

Two problems: Rosenbrock from (-1.5, 2), and an ill-conditioned quadratic
(curvatures 1 to 1e4) held in two tensors and started 1e-6..1e-3 from its minimum, where
gradients are small enough for epsilon placement to show.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import optax

STEPS = 60


def rosenbrock(w):
    w = w["w"]
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


_H = {"a": np.array([1.0, 30.0]), "b": np.array([300.0, 3000.0, 1e4])}
_C = {"a": np.array([0.5, -1.0]), "b": np.array([2.0, 0.0, -0.3])}


def quadratic(w):
    return 0.5 * sum(jnp.sum(_H[k] * (w[k] - _C[k]) ** 2) for k in ("a", "b"))


PROBLEMS = {
    "rosenbrock": (rosenbrock, {"w": np.array([-1.5, 2.0])}),
    "quadratic": (
        quadratic,
        {"a": _C["a"] + np.array([1e-3, -2e-4]), "b": _C["b"] + np.array([5e-5, -1e-6, 2e-6])},
    ),
}


def run_ours(opt: optax.GradientTransformation, problem: str, steps: int = STEPS):
    """Trajectory ``(steps, n_weights)`` of our optimizer, float64, jit-compiled scan."""
    loss, w0 = PROBLEMS[problem]
    w0 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w0)

    def body(carry, _):
        w, s = carry
        u, s = opt.update(jax.grad(loss)(w), s, w)
        w = optax.apply_updates(w, u)
        return (w, s), jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(w)])

    _, traj = jax.jit(lambda w: jax.lax.scan(body, (w, opt.init(w)), None, length=steps))(w0)
    return np.asarray(traj)


def run_keras(kopt, problem: str, steps: int = STEPS):
    """The same trajectory with a Keras 3 optimizer (JAX backend, float64 variables)."""
    import keras

    loss, w0 = PROBLEMS[problem]
    names = sorted(w0)  # jax.tree.leaves order for a dict
    variables = [keras.Variable(np.asarray(w0[k], np.float64), dtype="float64") for k in names]
    kopt.build(variables)

    @jax.jit
    def step(opt_values, values):
        grads = jax.grad(loss)(dict(zip(names, values, strict=True)))
        values, opt_values = kopt.stateless_apply(opt_values, [grads[k] for k in names], values)
        return opt_values, values

    opt_values = [v.value for v in kopt.variables]
    values = [v.value for v in variables]
    out = []
    for _ in range(steps):
        opt_values, values = step(opt_values, values)
        out.append(np.concatenate([np.ravel(v) for v in values]))
    for variable, value in zip(kopt.variables, opt_values, strict=True):
        variable.assign(value)  # so tests can read Keras's own slots (its EMA) afterwards
    return np.array(out)


def run_numpy(step_fn, state, problem: str, steps: int = STEPS):
    """A plain NumPy loop: ``step_fn(grads, state, weights) -> (weights, state)`` on flat dicts."""
    loss, w0 = PROBLEMS[problem]
    w = {k: np.array(v, np.float64) for k, v in w0.items()}
    grad = jax.jit(jax.grad(loss))
    out = []
    for _ in range(steps):
        g = {k: np.asarray(v) for k, v in grad(w).items()}
        w, state = step_fn(g, state, w)
        out.append(np.concatenate([np.ravel(w[k]) for k in sorted(w)]))
    return np.array(out)


def assert_same_path(ours, theirs, tol: float = 1e-10):
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(theirs)), "the peer run diverged: pick a stable setting"
    err = np.max(np.abs(ours - theirs) / (1.0 + np.abs(theirs)))
    assert err <= tol, f"max relative difference {err:.3e} > {tol:g}"
