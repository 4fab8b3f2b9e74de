r"""High-dimensional surfaces for per-weight learning-rate heatmaps with many weights.

* ``rosenbrock_nd``: :math:`f(w) = \sum_{i=1}^{d-1} b\,(w_{i+1} - w_i^2)^2 + (1 - w_i)^2`, the
  extended Rosenbrock function with ``a = 1`` (so that the minimum is known in closed form:
  :math:`w^* = (1, \dots, 1)`, :math:`f^* = 0`). For :math:`4 \le d \le 7` it also has a local
  minimum near :math:`(-1, 1, \dots, 1)` (Shang & Qiu 2006, Evol. Comput. 14(1)).
* ``quadratic_nd``: :math:`f(w) = \tfrac{1}{2} w^\top A w`,
  :math:`A = Q\,\mathrm{diag}(\lambda)Q^\top` with :math:`\lambda_i = \kappa^{-(i-1)/(d-1)}`
  (from 1 down to :math:`1/\kappa`) and ``Q`` a seeded Haar-random rotation (or the identity
  with ``rotated=False``). The rotation ``seed`` is a traced value: ``A`` lives in ``theta``, so
  changing the seed never recompiles.

The paths are drawn in a fixed plane through the minimum, chosen by the ``projection`` param:
the two top-curvature eigenvectors of the Hessian at the minimum (default), the largest- and
smallest-curvature ones, or two seeded random orthonormal directions (``projection_seed``).
The window is a square centred on the minimum that holds the projected start points.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from surfaces import geometry
from surfaces.base import Family, Param, Surface
from surfaces.losses import loss_function
from surfaces.params import static_key

_DIM = Param("dim", 10, 3, 1000, kind="int", static=True, help="number of weights")
_PROJECTION = (
    Param(
        "projection",
        "top_curvature",
        scale="choice",
        kind="choice",
        choices=geometry.PROJECTIONS,
        help=geometry.PROJECTION_HELP,
    ),
    Param("projection_seed", 0, 0, 2**31 - 1, kind="int", help="seed of the random directions"),
)


def _surface(name: str, declared: tuple[Param, ...], values: dict, **fields: Any) -> Surface:
    """A high-dimensional surface: the shared key, projection and window are filled in here.

    ``fields["eigen"]()`` gives the eigen-decomposition of the Hessian at the minimum.
    """
    minimum = fields["minima"][0]
    projection = geometry.high_dim_projection(
        values["projection"], fields.pop("eigen"), minimum, values["projection_seed"]
    )
    radius = max(1.0, 1.1 * float(np.abs(projection.project(fields["starts"])).max()))
    return Surface(
        name=name,
        dim=values["dim"],
        static_key=static_key(name, declared, values),
        window=np.array([[-radius, radius], [-radius, radius]]),  # centred on the minimum
        projection=projection,
        log_scale=True,
        params=values,
        **fields,
    )


# -- N-D Rosenbrock -------------------------------------------------------------------------------
ROSENBROCK_PARAMS = (
    _DIM,
    Param("b", 100.0, 0.0, 1e4, help="steepness of the valley's walls"),
    *_PROJECTION,
)


@loss_function
def rosenbrock_nd(w, theta):
    head, tail = w[..., :-1], w[..., 1:]
    return jnp.sum(theta["b"] * (tail - head**2) ** 2 + (1 - head) ** 2, axis=-1)


def rosenbrock_hessian_at_minimum(dim: int, b: float) -> np.ndarray:
    """Exact Hessian at ``w = 1``: ``2b Σ g_i g_iᵀ + 2 Σ_{i<d} e_i e_iᵀ``, ``g_i = e_{i+1} - 2e_i``.

    (At the minimum every residual ``w_{i+1} - w_i²`` is 0, so only Gauss–Newton terms remain.)
    """
    g = np.zeros((dim - 1, dim))
    rows = np.arange(dim - 1)
    g[rows, rows], g[rows, rows + 1] = -2.0, 1.0
    hessian = 2.0 * b * g.T @ g
    hessian[rows, rows] += 2.0
    return hessian


def build_rosenbrock(**values: Any) -> Surface:
    dim = values["dim"]
    alternating = np.where(np.arange(dim) % 2 == 0, -1.2, 1.0)
    return _surface(
        "rosenbrock_nd",
        ROSENBROCK_PARAMS,
        values,
        title="Rosenbrock (N-D)",
        latex=r"f(w) = \sum_{i=1}^{d-1} b\,(w_{i+1} - w_i^2)^2 + (1 - w_i)^2",
        reference="Extended Rosenbrock function; Rosenbrock (1960), Comput. J. 3(3):175–184; "
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (SFU), "
        "https://www.sfu.ca/~ssurjano/rosen.html; Jamil & Yang (2013)",
        fn=rosenbrock_nd,
        theta={"b": jnp.asarray(float(values["b"]))},
        bounds=geometry.box(-5.0, 10.0, dim),
        minima=np.ones((1, dim)),
        optimal_value=0.0,
        starts=np.stack([alternating, np.zeros(dim)]),  # Moré et al.'s (-1.2, 1, ...), and 0
        eigen=lambda: np.linalg.eigh(rosenbrock_hessian_at_minimum(dim, values["b"])),
        notes="a = 1 so that the minimum is (1, ..., 1). For 4 <= d <= 7 there is also a local "
        "minimum near (-1, 1, ..., 1).",
    )


# -- N-D quadratic --------------------------------------------------------------------------------
QUADRATIC_PARAMS = (
    _DIM,
    Param("condition", 100.0, 1.0, 1e6, "log", help="κ: largest over smallest curvature"),
    Param("rotated", True, kind="bool", help="rotate the eigenbasis (False: diagonal A)"),
    Param("seed", 0, 0, 2**31 - 1, kind="int", help="seed of the random rotation"),
    *_PROJECTION,
)


def random_rotation(dim: int, seed: int) -> np.ndarray:
    """A Haar-distributed orthogonal matrix: QR of a Gaussian matrix with the signs fixed."""
    q, r = np.linalg.qr(np.random.default_rng([seed, dim]).standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


@loss_function
def quadratic_nd(w, theta):
    return 0.5 * jnp.einsum("...i,ij,...j->...", w, theta["A"], w)


def build_quadratic(**values: Any) -> Surface:
    dim = values["dim"]
    curvatures = float(values["condition"]) ** (-np.arange(dim) / (dim - 1))
    q = random_rotation(dim, values["seed"]) if values["rotated"] else np.eye(dim)
    hessian = (q * curvatures) @ q.T
    hessian = 0.5 * (hessian + hessian.T)  # exactly symmetric
    signs = np.where(np.arange(dim) % 2 == 0, 1.0, -1.0)
    return _surface(
        "quadratic_nd",
        QUADRATIC_PARAMS,
        values,
        title="Quadratic (N-D)",
        latex=r"f(w) = \tfrac{1}{2} w^\top A w,\quad A = Q\,\mathrm{diag}(\lambda)\,Q^\top,\ "
        r"\lambda_i = \kappa^{-(i-1)/(d-1)}",
        reference="An ill-conditioned quadratic with a random rotation; see Goh (2017), Why "
        "Momentum Really Works, Distill",
        fn=quadratic_nd,
        theta={"A": jnp.asarray(hessian)},
        bounds=geometry.box(-10.0, 10.0, dim),
        minima=np.zeros((1, dim)),
        optimal_value=0.0,
        starts=np.stack([np.ones(dim), signs]),
        eigen=lambda: (curvatures, q),
        notes="Eigenvalues from 1 down to 1/condition; eigenvectors the columns of a seeded "
        "random rotation (the coordinate axes when rotated=False).",
    )


FAMILIES = (
    Family(
        name="rosenbrock_nd",
        title="Rosenbrock (N-D)",
        category="high-dimensional",
        params=ROSENBROCK_PARAMS,
        build=build_rosenbrock,
        summary="The extended Rosenbrock function in 3 to 1000 dimensions.",
    ),
    Family(
        name="quadratic_nd",
        title="Quadratic (N-D)",
        category="high-dimensional",
        params=QUADRATIC_PARAMS,
        build=build_quadratic,
        summary="An ill-conditioned, randomly rotated quadratic in 3 to 1000 dimensions.",
    ),
)
