"""Peers for the modern families: a matrix-shaped problem and optax's argument names.

The problems of tests/peers.py hold only vectors; Muon and Adafactor treat matrices apart, so a
3 x 4 matrix-shaped quadratic (coupled rows, curvatures 1 to about 50) is added to the same
table, next to a bias vector, and every runner of tests/peers.py accepts it by name.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from tests import peers

_A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 7.0]])  # rows couple: not diagonal
_C = np.arange(12.0).reshape(3, 4) / 10 - 0.5
_D = np.array([0.3, -0.2, 0.1, 0.4])


def matrix_quadratic(w):
    """``0.5 |A (W - C)|_F^2 + 0.5 |b - d|^2`` with W of shape 3 x 4 and a bias b of 4."""
    residual = jnp.asarray(_A) @ (w["kernel"] - _C)
    return 0.5 * jnp.sum(residual**2) + 0.5 * jnp.sum((w["bias"] - _D) ** 2)


peers.PROBLEMS.setdefault(
    "matrix",
    (
        matrix_quadratic,
        {
            "bias": _D + np.array([0.5, -0.4, 0.3, 0.2]),
            "kernel": _C + np.linspace(-0.6, 0.5, 12).reshape(3, 4),
        },
    ),
)
PROBLEMS = ("rosenbrock", "quadratic", "matrix")

# Keras-style names of this package -> optax's argument names.
OPTAX_NAMES = {
    "beta_1": "b1",
    "beta_2": "b2",
    "beta_3": "b3",
    "epsilon": "eps",
    "epsilon_root": "eps_root",
}


def optax_kwargs(kwargs: dict) -> dict:
    return {OPTAX_NAMES.get(k, k): v for k, v in kwargs.items()}


def run_with_loss(opt, problem: str, steps: int = peers.STEPS, start_ulps: int = 0):
    """Like ``peers.run_ours`` for optimizers that need the loss: optax's extra-arguments
    protocol, ``update(grads, state, params, value=, grad=, value_fn=)``; the start moved up
    by ``start_ulps`` ulps (how sensitive the path is to one rounding)."""
    import jax
    import optax

    loss, w0 = peers.PROBLEMS[problem]
    w0 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), w0)
    for _ in range(start_ulps):
        w0 = jax.tree.map(lambda x: jnp.nextafter(x, jnp.inf), w0)

    def body(carry, _):
        w, s = carry
        value, grad = jax.value_and_grad(loss)(w)
        u, s = opt.update(grad, s, w, value=value, grad=grad, value_fn=loss)
        w = optax.apply_updates(w, u)
        return (w, s), jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(w)])

    _, traj = jax.jit(lambda w: jax.lax.scan(body, (w, opt.init(w)), None, length=steps))(w0)
    return np.asarray(traj)
