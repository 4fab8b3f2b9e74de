"""Domains, plotting windows and the fixed 2-D views of high-dimensional surfaces (numpy only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from surfaces.base import Projection

PROJECTIONS = ("top_curvature", "extreme_curvature", "random")
PROJECTION_HELP = (
    "2-D view the paths are drawn in: the two largest-curvature eigenvectors of the Hessian at "
    "the minimum, the largest and the smallest, or two seeded random orthonormal directions"
)


def box(low: float, high: float, dim: int) -> np.ndarray:
    """The box ``[low, high]^dim`` as a ``(dim, 2)`` array."""
    return np.tile(np.array([[low, high]], dtype=float), (dim, 1))


def as_points(points: Sequence | np.ndarray, dim: int) -> np.ndarray:
    """Points as a float ``(k, dim)`` array (``(0, dim)`` when there are none)."""
    return np.asarray(points, dtype=float).reshape(-1, dim)


def fit_window(window: Sequence | np.ndarray, xy: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """``window`` grown to hold the 2-D points ``xy`` with a margin of ``margin`` times its size.

    Used so that the default start points and the minima are always visible.
    """
    window = np.array(window, dtype=float).reshape(2, 2)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy):
        pad = margin * (window[:, 1] - window[:, 0])
        window[:, 0] = np.minimum(window[:, 0], xy.min(axis=0) - pad)
        window[:, 1] = np.maximum(window[:, 1], xy.max(axis=0) + pad)
    return window


def fixed_signs(rows: np.ndarray) -> np.ndarray:
    """Each row flipped so that its largest-magnitude entry is positive (a deterministic sign)."""
    rows = np.array(rows, dtype=float)
    biggest = rows[np.arange(len(rows)), np.abs(rows).argmax(axis=1)]
    return rows * np.where(biggest < 0, -1.0, 1.0)[:, None]


def orthonormal_rows(rows: np.ndarray) -> np.ndarray:
    """Gram–Schmidt (QR) of the rows, keeping each one's direction: an orthonormal basis."""
    q, r = np.linalg.qr(np.asarray(rows, dtype=float).T)
    return (q * np.sign(np.where(np.diag(r) == 0, 1.0, np.diag(r)))).T


def random_directions(dim: int, seed: int) -> np.ndarray:
    """Two orthonormal directions ``(2, dim)`` drawn from ``seed`` (Gaussian, then Gram–Schmidt)."""
    rng = np.random.default_rng([seed, dim])
    return orthonormal_rows(rng.standard_normal((2, dim)))


def curvature_directions(values: np.ndarray, vectors: np.ndarray, which: str) -> np.ndarray:
    """Two eigenvectors ``(2, dim)`` of a Hessian, from its eigenvalues and eigenvector columns.

    ``which="top"``: the two largest eigenvalues; ``"extreme"``: the largest and the smallest.
    """
    order = np.argsort(values)[::-1]
    picked = order[:2] if which == "top" else order[[0, -1]]
    return fixed_signs(vectors[:, picked].T)


def high_dim_projection(
    choice: str, eigen: Callable[[], tuple[np.ndarray, np.ndarray]], origin: np.ndarray, seed: int
) -> Projection:
    """The view of a high-dimensional surface through ``origin`` chosen by the ``projection`` param.

    ``eigen()`` gives the eigenvalues and eigenvector columns of the Hessian at the minimum (only
    called for the curvature views); ``seed`` only matters for ``"random"``.
    """
    dim = len(origin)
    if choice == "top_curvature":
        basis = curvature_directions(*eigen(), "top")
        how = "the two top-curvature eigenvectors of the Hessian at the minimum"
    elif choice == "extreme_curvature":
        basis = curvature_directions(*eigen(), "extreme")
        how = "the largest- and smallest-curvature eigenvectors of the Hessian at the minimum"
    else:
        basis = random_directions(dim, seed)
        how = f"two random orthonormal directions (seed {seed}) through the minimum"
    return Projection(origin=np.asarray(origin, dtype=float), basis=basis, how=how)
