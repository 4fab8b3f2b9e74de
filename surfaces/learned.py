r"""Losses of small learned models on data generated in code, full-batch or minibatch.

* ``linear_regression``: the example of the kerasy optimizers documentation, replicated exactly:
  :math:`y = 2x + 1 + N(0, 0.1^2)`, 100 samples, :math:`L(w) = \frac{1}{N}\sum_n (w_1 x_n + w_2
  - y_n)^2` with ``w = (slope, intercept)``, so :math:`\nabla L = \frac{2}{N} X^\top (Xw - y)`.
* ``logistic_regression``: two overlapping Gaussian blobs, no bias (the blobs are symmetric
  about the origin), binary cross-entropy plus :math:`\frac{\lambda}{2}\lVert w\rVert^2` so the
  minimum is finite and unique; found by damped Newton in float64 when the surface is built.
* ``mlp``: a tanh multilayer perceptron (default 2-16-16-1) with binary cross-entropy on two
  moons or two spirals. ``w`` is the flat vector of ``W1, b1, W2, b2, ...`` (``Surface.layers``);
  ``Surface.unravel`` gives the matrices. The minimum is unknown.

Every loss is a mean over the rows of ``theta["x"]``, ``theta["y"]``. With ``batch_size > 0`` the
surface is stochastic: ``grad_estimate_fn`` is the gradient on ``batch_size`` samples drawn
without replacement from the key, an unbiased estimate of the full gradient. The reported loss
stays the full-batch one. ``predict_fn(w, theta, x)`` gives what the model predicts for ``x``.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from surfaces import datasets, geometry
from surfaces.base import Family, Param, Surface, unravel_layers
from surfaces.losses import binary_cross_entropy_with_logits, loss_function, minibatch_gradient
from surfaces.params import static_key

SEED_RANGE = (0, 2**31 - 1)


def _batch_size(high: int) -> Param:
    return Param(
        "batch_size", 0, 0, high, kind="int", static=True, help="0: full batch; else minibatch size"
    )


def _learned_surface(
    name: str,
    declared: tuple[Param, ...],
    values: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    extra_theta: dict[str, jax.Array] | None = None,
    **fields: Any,
) -> Surface:
    """A learned-model surface: data in theta, minibatch gradient when ``batch_size > 0``."""
    batch_size = values["batch_size"]
    if batch_size > len(x):
        raise ValueError(
            f"surface {name!r}: parameter batch_size={batch_size} is larger than the "
            f"{len(x)} samples"
        )
    fields.setdefault("bounds", geometry.box(-20.0, 20.0, fields["starts"].shape[1]))
    return Surface(
        name=name,
        dim=fields["starts"].shape[1],
        theta={"x": jnp.asarray(x), "y": jnp.asarray(y), **(extra_theta or {})},
        data={"x": x, "y": y},
        static_key=static_key(name, declared, values),
        params=values,
        stochastic=batch_size > 0,
        grad_estimate_fn=minibatch_gradient(fields["fn"], batch_size) if batch_size else None,
        **fields,
    )


# -- linear regression (kerasy) -----------------------------------------------------------------
LINEAR_PARAMS = (_batch_size(100),)


@loss_function
def predict_line(w, theta, x):
    return w[0] * x + w[1]


@loss_function
def linear_regression(w, theta):
    return jnp.mean((predict_line(w, theta, theta["x"]) - theta["y"]) ** 2)


def build_linear(**values: Any) -> Surface:
    X, y, w0 = datasets.kerasy_linear_regression()
    best = np.linalg.lstsq(X, y, rcond=None)[0][:, 0]
    starts = w0.T
    return _learned_surface(
        "linear_regression",
        LINEAR_PARAMS,
        values,
        weight_names=("slope", "intercept"),
        x=X[:, 0],
        y=y[:, 0],
        title="Linear regression (kerasy)",
        latex=r"L(w) = \frac{1}{N}\sum_{n=1}^{N} (w_1 x_n + w_2 - y_n)^2,\quad"
        r" y_n = 2x_n + 1 + \varepsilon_n,\ \varepsilon_n \sim N(0, 0.1^2)",
        reference="The linear-regression example of the kerasy optimizers document "
        "(np.random.RandomState(0), 100 samples)",
        fn=linear_regression,
        predict_fn=predict_line,
        bounds=geometry.box(-10.0, 10.0, 2),
        window=geometry.fit_window(((-1.0, 4.0), (-1.0, 3.0)), np.stack([best, w0[:, 0]])),
        minima=best[None, :],
        optimal_value=float(np.mean((X @ best - y[:, 0]) ** 2)),
        starts=starts,
        notes="w = (slope, intercept); the minimum is the least-squares fit; the start is the "
        "kerasy documentation's w0 = rnd.randn(2, 1).",
    )


# -- logistic regression ------------------------------------------------------------------------
LOGISTIC_PARAMS = (
    Param("n_samples", 200, 10, 2000, kind="int", static=True, help="number of samples"),
    Param("separation", 2.0, 0.0, 6.0, help="distance between the two blob centres"),
    Param("l2", 0.01, 1e-4, 10.0, "log", help="λ: L2 penalty, keeps the minimum finite"),
    Param("seed", 0, *SEED_RANGE, kind="int", help="seed of the data"),
    _batch_size(2000),
)


@loss_function
def predict_probability(w, theta, x):
    return jax.nn.sigmoid(x @ w)


@loss_function
def logistic_regression(w, theta):
    data_term = binary_cross_entropy_with_logits(theta["x"] @ w, theta["y"])
    return jnp.mean(data_term) + 0.5 * theta["l2"] * jnp.sum(w**2)


def logistic_minimum(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """The unique minimum of the (strictly convex) penalised loss, by damped Newton in float64."""
    # Imported here, not at the top: scipy.special takes about 0.2 s to import, and every
    # command line and server start imports this module while few build this surface.
    from scipy.special import expit

    def loss(w: np.ndarray) -> float:
        z = x @ w
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)

    w = np.zeros(x.shape[1])
    for _ in range(100):
        p = expit(x @ w)
        grad = x.T @ (p - y) / len(y) + l2 * w
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + l2 * np.eye(len(w))
        step, t = np.linalg.solve(hessian, grad), 1.0
        while loss(w - t * step) > loss(w) and t > 1e-8:  # backtracking keeps Newton stable
            t /= 2
        w = w - t * step
        if np.max(np.abs(t * step)) <= 1e-15 * (1 + np.max(np.abs(w))):
            break
    return w, loss(w)


def build_logistic(**values: Any) -> Surface:
    x, y = datasets.two_blobs(values["n_samples"], values["separation"], values["seed"])
    best, best_value = logistic_minimum(x, y, values["l2"])
    return _learned_surface(
        "logistic_regression",
        LOGISTIC_PARAMS,
        values,
        x=x,
        y=y,
        extra_theta={"l2": jnp.asarray(float(values["l2"]))},
        title="Logistic regression",
        latex=r"L(w) = \frac{1}{N}\sum_{n=1}^{N} \left[\log\left(1 + e^{w^\top x_n}\right)"
        r" - y_n\, w^\top x_n\right] + \frac{\lambda}{2}\lVert w\rVert^2",
        reference="Binary logistic regression on two seeded Gaussian blobs (generated in code)",
        fn=logistic_regression,
        predict_fn=predict_probability,
        bounds=geometry.box(-10.0, 10.0, 2),
        window=geometry.fit_window(((-3.0, 3.0), (-3.0, 3.0)), np.stack([best])),
        minima=best[None, :],
        optimal_value=best_value,
        starts=np.array([[-2.0, 2.5], [2.5, -2.0]]),
        notes="No bias term: the boundary w·x = 0 passes through the origin, where the two "
        "blobs are symmetric. predict gives p(class 1 | x) = σ(w·x).",
    )


# -- multilayer perceptron ----------------------------------------------------------------------
MLP_PARAMS = (
    Param(
        "hidden",
        "16,16",
        kind="str",
        static=True,
        help="hidden layer sizes, comma separated: 1 to 4 layers of 1 to 64 units",
    ),
    Param(
        "dataset",
        "moons",
        scale="choice",
        kind="choice",
        choices=tuple(datasets.CLASSIFICATION),
        help="two moons or two spirals",
    ),
    Param("n_samples", 200, 20, 2000, kind="int", static=True, help="number of samples"),
    Param("noise", 0.1, 0.0, 1.0, help="standard deviation of the noise added to the points"),
    Param("seed", 0, *SEED_RANGE, kind="int", help="seed of the data, the starts and the view"),
    _batch_size(2000),
)


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``"16, 16"`` -> ``(16, 16)``; a ValueError unless 1 to 4 sizes from 1 to 64."""
    parts = [p.strip() for p in text.split(",")]
    if 1 <= len(parts) <= 4 and all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
        sizes = tuple(int(p) for p in parts)
        if all(1 <= s <= 64 for s in sizes):
            return sizes
    raise ValueError(
        f"surface 'mlp': parameter hidden={text[:40]!r} must be 1 to 4 comma-separated layer "
        "sizes from 1 to 64, e.g. '16,16'"
    )


def mlp_layers(hidden: tuple[int, ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """``(("W1", (2, h1)), ("b1", (h1,)), ..., ("Wk", (h, 1)), ("bk", (1,)))``."""
    sizes = (2, *hidden, 1)
    layers: list[tuple[str, tuple[int, ...]]] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        layers += [(f"W{i}", (fan_in, fan_out)), (f"b{i}", (fan_out,))]
    return tuple(layers)


@functools.cache
def mlp_functions(layers: tuple[tuple[str, tuple[int, ...]], ...], head: str = "logistic"):
    """``(loss, predict)`` for one architecture and head: cached, so one architecture, one
    function. ``"logistic"``: binary cross-entropy on the output as a logit, predict gives
    p(class 1); ``"squared"``: half the mean squared error, predict gives the output."""
    depth = len(layers) // 2

    def output(w, x):
        p = unravel_layers(w, layers)
        h = x
        for i in range(1, depth):
            h = jnp.tanh(h @ p[f"W{i}"] + p[f"b{i}"])
        return (h @ p[f"W{depth}"] + p[f"b{depth}"])[..., 0]

    if head == "squared":

        @loss_function
        def loss(w, theta):
            return 0.5 * jnp.mean((output(w, theta["x"]) - theta["y"]) ** 2)

        @loss_function
        def predict(w, theta, x):
            return output(w, x)

        return loss, predict

    @loss_function
    def loss(w, theta):
        return jnp.mean(binary_cross_entropy_with_logits(output(w, theta["x"]), theta["y"]))

    @loss_function
    def predict(w, theta, x):
        return jax.nn.sigmoid(output(w, x))

    return loss, predict


def glorot_uniform(layers, rng: np.random.Generator) -> np.ndarray:
    """Flat weights: each ``W`` uniform in ``±sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio
    2010), biases 0."""
    parts = []
    for name, shape in layers:
        if name.startswith("W"):
            limit = np.sqrt(6.0 / sum(shape))
            parts.append(rng.uniform(-limit, limit, size=shape).ravel())
        else:
            parts.append(np.zeros(shape).ravel())
    return np.concatenate(parts)


def filter_normalised_directions(w0: np.ndarray, layers, rng: np.random.Generator) -> np.ndarray:
    """Two directions as in Li et al. (2018), then orthonormalised to make a true projection.

    Each filter (a unit's incoming weights: a column of ``W``) of a Gaussian direction is
    rescaled to the norm of the same filter of ``w0``; bias entries are set to 0.
    """
    weights = unravel_layers(w0, layers)
    directions = []
    for _ in range(2):
        d = unravel_layers(rng.standard_normal(len(w0)), layers)
        for name, _shape in layers:
            if name.startswith("W"):
                scale = np.linalg.norm(weights[name], axis=0) / np.linalg.norm(d[name], axis=0)
                d[name] = d[name] * scale
            else:
                d[name] = np.zeros_like(d[name])
        directions.append(np.concatenate([d[name].ravel() for name, _ in layers]))
    return geometry.orthonormal_rows(np.stack(directions))


def _mlp_view(layers, seed: int) -> dict[str, Any]:
    """Two seeded Glorot starts and the filter-normalised view through the first: the fields
    every MLP surface shares (its starts, projection and window)."""
    rng = np.random.default_rng([seed, 1])
    starts = np.stack([glorot_uniform(layers, rng) for _ in range(2)])
    basis = filter_normalised_directions(starts[0], layers, rng)
    projection = geometry.Projection(
        origin=starts[0],
        basis=basis,
        how="filter-normalised random directions (Li et al. 2018), orthonormalised, "
        "through the first start",
    )
    # Training moves a few tenths of the weights' norm within these two random directions:
    # a window a third of the norm wide on each side frames the paths (and holds both starts).
    radius = 0.3 * float(np.linalg.norm(starts[0]))
    return {
        "layers": layers,
        "window": geometry.fit_window([[-radius, radius]] * 2, projection.project(starts)),
        "minima": np.zeros((0, len(starts[0]))),
        "optimal_value": None,
        "starts": starts,
        "projection": projection,
    }


def _architecture(values: dict[str, Any]) -> tuple[dict[str, Any], tuple, str]:
    hidden = hidden_sizes(values["hidden"])
    values = {**values, "hidden": ",".join(map(str, hidden))}  # canonical text for the key
    return values, mlp_layers(hidden), "-".join(map(str, (2, *hidden, 1)))


def build_mlp(**values: Any) -> Surface:
    values, layers, sizes = _architecture(values)
    loss, predict = mlp_functions(layers)
    make_data = datasets.CLASSIFICATION[values["dataset"]]
    x, y = make_data(values["n_samples"], values["noise"], values["seed"])
    return _learned_surface(
        "mlp",
        MLP_PARAMS,
        values,
        x=x,
        y=y,
        title=f"MLP {sizes} on {values['dataset']}",
        latex=r"L(w) = \frac{1}{N}\sum_{n=1}^{N} \left[\log\left(1 + e^{z_n}\right)"
        r" - y_n z_n\right],\quad z_n = \mathrm{MLP}_w(x_n)\ \text{(tanh hidden layers)}",
        reference="Two moons as in scikit-learn's make_moons, or two spirals, generated in code; "
        "view as in Li et al. (2018), Visualizing the Loss Landscape of Neural Nets, NeurIPS",
        fn=loss,
        predict_fn=predict,
        notes="Weights start from seeded Glorot-uniform draws; the view is centred on the first "
        "start with a half-width of 0.3 times its norm. predict gives p(class 1 | x).",
        **_mlp_view(layers, values["seed"]),
    )


# -- regression multilayer perceptron ------------------------------------------------------------
MLP_REGRESSION_PARAMS = (
    MLP_PARAMS[0],
    Param(
        "dataset",
        "ripple",
        scale="choice",
        kind="choice",
        choices=tuple(datasets.REGRESSION),
        help="a radial ripple sin(3|x|) or a tilted wave sin(2πx₁) + x₂/2",
    ),
    Param("n_samples", 64, 8, 2000, kind="int", static=True, help="number of samples"),
    Param("noise", 0.0, 0.0, 1.0, help="standard deviation of the noise added to the targets"),
    MLP_PARAMS[4],
    _batch_size(2000),
)


REGRESSION_TARGETS = {  # the formula of each dataset's target (datasets.REGRESSION)
    "ripple": r"\sin(3\lVert x_n\rVert)",
    "wave": r"\sin(2\pi x_{n,1}) + x_{n,2}/2",
}


def build_mlp_regression(**values: Any) -> Surface:
    values, layers, sizes = _architecture(values)
    loss, predict = mlp_functions(layers, "squared")
    make_data = datasets.REGRESSION[values["dataset"]]
    x, y = make_data(values["n_samples"], values["noise"], values["seed"])
    return _learned_surface(
        "mlp_regression",
        MLP_REGRESSION_PARAMS,
        values,
        x=x,
        y=y,
        title=f"Regression MLP {sizes} on {values['dataset']}",
        latex=r"L(w) = \frac{1}{2N}\sum_{n=1}^{N} \left(\mathrm{MLP}_w(x_n) - y_n\right)^2,"
        r"\quad y_n = " + REGRESSION_TARGETS[values["dataset"]] + r"\ \text{(tanh hidden layers)}",
        reference="The setting of Cohen et al. (2021), Gradient descent on neural networks "
        "typically occurs at the edge of stability, ICLR: a tanh network, squared loss, full "
        "batch; data generated in code",
        fn=loss,
        predict_fn=predict,
        notes="The squared loss makes the Hessian's top eigenvalue grow during training "
        "(progressive sharpening) until gradient descent meets 2/eta. Starts and view as the "
        "classification MLP's. predict gives the network's output.",
        **_mlp_view(layers, values["seed"]),
    )


FAMILIES = (
    Family(
        name="linear_regression",
        title="Linear regression (kerasy)",
        category="learned",
        params=LINEAR_PARAMS,
        build=build_linear,
        summary="Slope and intercept of a line fitted to y = 2x + 1 + noise.",
    ),
    Family(
        name="logistic_regression",
        title="Logistic regression",
        category="learned",
        params=LOGISTIC_PARAMS,
        build=build_logistic,
        summary="Two weights separating two overlapping Gaussian blobs.",
    ),
    Family(
        name="mlp",
        title="Small MLP",
        category="learned",
        params=MLP_PARAMS,
        build=build_mlp,
        summary="A tanh MLP classifying two moons or two spirals, with per-layer weights.",
    ),
    Family(
        name="mlp_regression",
        title="Regression MLP",
        category="learned",
        params=MLP_REGRESSION_PARAMS,
        build=build_mlp_regression,
        summary="A tanh MLP fitting a ripple or a wave by squared loss: the edge of stability.",
    ),
)
