"""What a loss surface is: a pure JAX function of the weights plus the data that describes it.

A :class:`Surface` separates *code* from *values* so that the engine can jit once per kind of
surface and trace everything else:

* ``fn(w, theta)`` is the loss, pure JAX, ``w`` of shape ``(dim,)``. Its identity is fixed by
  ``static_key`` (the family name plus anything that changes shapes or code, such as ``dim``;
  the classics that share one switched function share its key: ``surfaces/classic_switch.py``).
* ``theta`` is a pytree of arrays: the surface's numeric parameters (Rosenbrock's ``a`` and
  ``b``) and its data (a regression's samples). Changing a value never recompiles.
* ``grad_estimate_fn(w, theta, key)``, for stochastic surfaces, returns a stochastic gradient
  (a minibatch gradient, or the exact gradient plus noise). The reported loss is always the
  deterministic ``fn``: the landscape the user sees.

Everything else is description: formula, domain, plotting window, minima, start points.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
LossFn = Callable[[Array, Any], Array]
GradEstimateFn = Callable[[Array, Any, Array], Array]


def unravel_layers(w: Array, layers: tuple[tuple[str, tuple[int, ...]], ...]) -> dict[str, Array]:
    """Split the flat weights ``w`` (``(..., dim)``) into named arrays of the given shapes.

    Shared by :meth:`Surface.unravel` and by model losses that need their layers inside ``fn``.
    """
    out, i = {}, 0
    for name, shape in layers:
        size = int(np.prod(shape))
        out[name] = w[..., i : i + size].reshape(*w.shape[:-1], *shape)
        i += size
    return out


@dataclasses.dataclass(frozen=True)
class Param:
    """One user-facing parameter of a surface family (the same fields as an optimizer's)."""

    name: str
    default: float | int | str | bool
    low: float | None = None
    high: float | None = None
    scale: str = "linear"  # "linear", "log", or "choice"
    help: str = ""
    kind: str = "float"  # "float", "int", "bool", "choice" or "str" (free text, e.g. a formula)
    choices: tuple[str, ...] = ()
    static: bool = False  # True when the value changes shapes or code (dim, batch size)


@dataclasses.dataclass(frozen=True)
class Projection:
    """A fixed 2-D view of a ``dim``-dimensional space: ``xy = basis @ (w - origin)``.

    ``basis`` has orthonormal rows of shape ``(2, dim)``. ``how`` says how it was chosen
    ("identity", "top curvature at the minimum", "seeded random directions", ...).
    """

    origin: np.ndarray
    basis: np.ndarray
    how: str

    def project(self, w: np.ndarray) -> np.ndarray:
        """Project points ``(..., dim)`` to ``(..., 2)``."""
        return (np.asarray(w) - self.origin) @ self.basis.T

    def lift(self, xy: np.ndarray) -> np.ndarray:
        """Points ``(..., 2)`` of the view back to weights ``(..., dim)`` on the plane."""
        return self.origin + np.asarray(xy) @ self.basis


@dataclasses.dataclass(frozen=True, eq=False)
class Surface:
    """A loss surface: a pure JAX function of the weights, and the data describing it."""

    name: str
    title: str
    latex: str
    reference: str
    dim: int
    fn: LossFn
    theta: Any
    static_key: tuple
    bounds: np.ndarray  # (dim, 2): the domain; a path leaving it counts as diverged
    window: np.ndarray  # (2, 2): plotting window ((xmin, xmax), (ymin, ymax)) in view coords
    minima: np.ndarray  # (k, dim) global minima; (0, dim) when unknown
    optimal_value: float | None
    starts: np.ndarray  # (n, dim) good default start points
    log_scale: bool = False
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    local_minima: np.ndarray | None = None  # (j, dim) other notable minima (basins maps)
    smooth_at_minima: bool = True  # False where the gradient is undefined at x* (documented)
    stochastic: bool = False
    grad_estimate_fn: GradEstimateFn | None = None
    projection: Projection | None = None  # None for dim == 2 (the identity view)
    layers: tuple[tuple[str, tuple[int, ...]], ...] = ()  # pytree layout of w; () = one vector
    predict_fn: Callable[[Array, Any, Array], Array] | None = None  # learned models: w, theta, x
    data: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)  # for plots
    weight_names: tuple[str, ...] = ()  # what the weights mean ("slope", "intercept"); optional
    notes: str = ""

    # -- evaluation --------------------------------------------------------------------------
    def loss(self, w: Array, key: Array | None = None) -> Array:
        """The deterministic loss at ``w`` (shape ``(dim,)``); ``key`` is accepted and ignored."""
        del key
        return self.fn(w, self.theta)

    def grad(self, w: Array, key: Array | None = None) -> Array:
        """The exact gradient, or a stochastic estimate drawn from ``key`` when stochastic."""
        if key is None or self.grad_estimate_fn is None:
            return jax.grad(self.fn)(w, self.theta)
        return self.grad_estimate_fn(w, self.theta, key)

    def predict(self, w: Array, x: Array) -> Array:
        """What the learned model with weights ``w`` predicts for inputs ``x``."""
        if self.predict_fn is None:
            raise ValueError(f"surface {self.name!r} is not a learned model: nothing to predict")
        return self.predict_fn(w, self.theta, x)

    # -- structure ---------------------------------------------------------------------------
    def unravel(self, w: Array) -> Array | dict[str, Array]:
        """``w`` as the model's pytree of weight arrays (a dict by layer name), or ``w`` itself.

        Optimizers that work per tensor (LARS) see these arrays as their layers.
        """
        if not self.layers:
            return w
        return unravel_layers(w, self.layers)

    def ravel(self, tree: Array | Mapping[str, Array]) -> Array:
        """Inverse of :meth:`unravel`."""
        if not self.layers:
            return tree
        return jnp.concatenate([jnp.ravel(tree[name]) for name, _ in self.layers])

    def project(self, w: np.ndarray) -> np.ndarray:
        """Weights ``(..., dim)`` to the 2-D view ``(..., 2)`` every path is drawn in."""
        w = np.asarray(w)
        return w if self.projection is None else self.projection.project(w)

    def lift(self, xy: np.ndarray) -> np.ndarray:
        """Points of the 2-D view ``(..., 2)`` back to weights ``(..., dim)``."""
        xy = np.asarray(xy)
        return xy if self.projection is None else self.projection.lift(xy)

    def with_theta(self, **values: Any) -> Surface:
        """A copy with some traced values replaced (same code, so no recompilation)."""
        return dataclasses.replace(self, theta={**self.theta, **values})


@dataclasses.dataclass(frozen=True)
class Family:
    """A named family of surfaces: its parameters and the builder that makes a Surface."""

    name: str
    title: str
    category: str  # "classic", "noisy", "high-dimensional", "learned", "custom"
    params: tuple[Param, ...]
    build: Callable[..., Surface]
    summary: str = ""
