r"""The noisy quadratic model (NQM) of Zhang et al. (2019).

.. math::
    f(w) = \tfrac{1}{2}\sum_i h_i w_i^2, \qquad
    \tilde g(w) = h \odot w + \sqrt{\sigma^2 h / B}\,\odot\,\xi, \quad \xi \sim N(0, I)

The gradient noise has covariance :math:`\sigma^2\,\mathrm{diag}(h) / B`: it follows the curvature
and shrinks with the batch size :math:`B`, as for a model near a minimum where the Hessian and
the gradient covariance agree. ``ξ`` is drawn from the key only (not from ``w``), so one key gives
every optimizer the same noise (common random numbers).

Reference: Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue & Grosse (2019), "Which algorithmic
choices matter at which batch sizes? Insights from a noisy quadratic model", NeurIPS.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from surfaces import geometry
from surfaces.base import Family, Param, Projection, Surface
from surfaces.losses import loss_function
from surfaces.params import static_key

NAME = "noisy_quadratic"
PARAMS = (
    Param("dim", 2, 2, 10_000, kind="int", static=True, help="number of weights"),
    Param(
        "spectrum",
        "geometric",
        scale="choice",
        kind="choice",
        choices=("geometric", "inverse"),
        help="curvatures h_i: geometric from 1 down to 1/condition, or 1/i (Zhang et al.)",
    ),
    Param("condition", 100.0, 1.0, 1e6, "log", help="h_1/h_dim for the geometric spectrum"),
    Param("batch_size", 1.0, 1.0, 1e6, "log", help="B: divides the noise covariance"),
    Param("noise_scale", 1.0, 0.0, 100.0, help="σ: base noise standard deviation"),
)


def curvatures(kind: str, dim: int, condition: float) -> np.ndarray:
    """Curvatures ``h`` in decreasing order, ``h_1 = 1``.

    ``"geometric"``: ``h_i = condition^{-(i-1)/(dim-1)}``; ``"inverse"``: ``h_i = 1/i`` (its
    condition number is ``dim``; the ``condition`` parameter is then ignored).
    """
    i = np.arange(dim, dtype=float)
    if kind == "inverse":
        return 1.0 / (i + 1.0)
    return float(condition) ** (-i / (dim - 1))


@loss_function
def loss(w, theta):
    return 0.5 * jnp.sum(theta["h"] * w**2, axis=-1)


@loss_function
def grad_estimate(w, theta, key):
    xi = jax.random.normal(key, w.shape, w.dtype)
    scale = theta["noise_scale"] * jnp.sqrt(theta["h"] / theta["batch_size"])
    return theta["h"] * w + scale * xi


def build(**values: Any) -> Surface:
    dim = values["dim"]
    h = curvatures(values["spectrum"], dim, values["condition"])
    signs = np.where(np.arange(dim) % 2 == 0, 1.0, -1.0)
    starts = np.stack([np.ones(dim), signs])  # all ones, and alternating ±1
    projection = None
    if dim > 2:  # h is sorted: the first and last axes have the extreme curvatures
        basis = np.zeros((2, dim))
        basis[0, 0] = basis[1, -1] = 1.0
        how = f"axes w_1 (curvature {h[0]:.3g}) and w_{dim} (curvature {h[-1]:.3g})"
        projection = Projection(origin=np.zeros(dim), basis=basis, how=how)
    view = starts if projection is None else projection.project(starts)
    return Surface(
        name=NAME,
        title="Noisy quadratic model",
        latex=r"f(w) = \tfrac{1}{2}\sum_{i=1}^{d} h_i w_i^2,\quad "
        r"\tilde g = h \odot w + \sqrt{\sigma^2 h / B} \odot \xi",
        reference="Zhang et al. (2019), Which algorithmic choices matter at which batch sizes? "
        "Insights from a noisy quadratic model, NeurIPS",
        dim=dim,
        fn=loss,
        theta={
            "h": jnp.asarray(h),
            "batch_size": jnp.asarray(float(values["batch_size"])),
            "noise_scale": jnp.asarray(float(values["noise_scale"])),
        },
        static_key=static_key(NAME, PARAMS, values),
        bounds=geometry.box(-10.0, 10.0, dim),
        window=geometry.fit_window(((-1.2, 1.2), (-1.2, 1.2)), view),
        minima=np.zeros((1, dim)),
        optimal_value=0.0,
        starts=starts,
        log_scale=True,
        params=values,
        stochastic=True,
        grad_estimate_fn=grad_estimate,
        projection=projection,
        notes="Gradient noise covariance σ² diag(h) / B. The view shows the highest- and "
        "lowest-curvature axes.",
    )


FAMILY = Family(
    name=NAME,
    title="Noisy quadratic model",
    category="noisy",
    params=PARAMS,
    build=build,
    summary="Zhang et al.'s quadratic whose gradient noise follows the curvature and shrinks "
    "with the batch size.",
)
FAMILIES = (FAMILY,)
