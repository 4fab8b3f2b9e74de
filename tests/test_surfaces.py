"""Every surface keeps its own promises: minima, gradients, jit/vmap, dtypes, metadata, errors."""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surfaces
from surfaces import FAMILIES, classic, classic_switch, datasets, high_dim
from surfaces.registry import catalogue_markdown

NAMES = list(FAMILIES)
REQUIRED = {
    "rosenbrock", "beale", "himmelblau", "booth", "matyas", "three_hump_camel",
    "six_hump_camel", "goldstein_price", "rastrigin", "ackley", "styblinski_tang", "saddle",
    "monkey_saddle", "elliptic_bowl", "plateau_cliff", "two_wells", "noisy_quadratic",
    "rosenbrock_nd", "quadratic_nd", "linear_regression", "logistic_regression", "mlp",
    "mlp_regression", "custom",
}  # fmt: skip
# Critical points that are not minima, where the gradient must still vanish.
SADDLE_POINTS = {"saddle": [(0.0, 0.0)], "monkey_saddle": [(0.0, 0.0)]}


@functools.cache
def default(name: str) -> surfaces.Surface:
    return surfaces.get(name)


CHUNK = 128  # every batched evaluation uses this shape: one compilation per surface and dtype


@functools.cache
def compiled(name: str) -> SimpleNamespace:
    """Jitted functions of the default surface, shared by the tests (compiling is the cost)."""
    s = default(name)
    return SimpleNamespace(
        single=jax.jit(jax.value_and_grad(s.fn)),
        batch=jax.jit(jax.vmap(jax.value_and_grad(s.fn), in_axes=(0, None))),
        hessian=jax.jit(jax.hessian(s.fn)),
    )


def values_and_grads(name: str, points, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Loss and gradient at each row of ``points``, through jit(vmap(...)) in fixed-size chunks."""
    s, batch = default(name), compiled(name).batch
    points = np.asarray(points, dtype).reshape(-1, s.dim)
    n = len(points)
    padded = np.concatenate([points, np.repeat(points[:1], -n % CHUNK, axis=0)])
    parts = [batch(padded[i : i + CHUNK], s.theta) for i in range(0, len(padded), CHUNK)]
    values = np.concatenate([np.asarray(v) for v, _ in parts])[:n]
    grads = np.concatenate([np.asarray(g) for _, g in parts])[:n]
    return values, grads


def sample_points(s: surfaces.Surface, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points of the plotting window, lifted to weights (and moved off the plane if N-D)."""
    rng = np.random.default_rng(seed)
    w = s.lift(rng.uniform(s.window[:, 0], s.window[:, 1], size=(n, 2)))
    if s.dim > 2:
        w = w + 0.1 * rng.standard_normal(w.shape)
    return w


def stated_points(s: surfaces.Surface) -> list[np.ndarray]:
    local = [] if s.local_minima is None else list(s.local_minima)
    return [*s.minima, *local]


def test_every_surface_of_the_issue_is_registered():
    assert set(FAMILIES) == REQUIRED
    assert [f.name for f in surfaces.families()] == NAMES
    for name, family in FAMILIES.items():
        assert family.name == name and family.title and family.summary
        assert family.category in {"classic", "noisy", "high-dimensional", "learned", "custom"}


# -- the surface's own claims --------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_loss_at_every_minimum_is_the_optimal_value(name):
    s = default(name)
    if s.optimal_value is None:
        assert len(s.minima) == 0
        pytest.skip(f"{name}: no known minimum")
    assert len(s.minima) >= 1
    for value in values_and_grads(name, s.minima)[0]:
        assert value == pytest.approx(s.optimal_value, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_vanishes_at_minima_and_critical_points(name):
    s = default(name)
    points = stated_points(s) + [np.array(p) for p in SADDLE_POINTS.get(name, [])]
    if not s.smooth_at_minima:
        assert s.notes, "a non-smooth minimum must be explained in the notes"
        points = list(s.local_minima) if s.local_minima is not None else []
    if not points:
        pytest.skip(f"{name}: no smooth minimum or critical point stated ({s.notes[:60]})")
    grads = values_and_grads(name, points)[1]
    np.testing.assert_allclose(grads, 0.0, atol=1e-8, err_msg=f"gradients at {points}")


@pytest.mark.parametrize("name", NAMES)
def test_stated_minima_are_minima(name):
    """Second-order check: the Hessian at each stated (local or global) minimum is PSD."""
    s = default(name)
    points = stated_points(s) if s.smooth_at_minima else []
    if not points or s.dim > 50:
        pytest.skip(f"{name}: no smooth minimum stated")
    for p in points:
        eigenvalues = np.linalg.eigvalsh(np.asarray(compiled(name).hessian(p, s.theta)))
        assert eigenvalues.min() >= -1e-8 * max(1.0, eigenvalues.max()), (p, eigenvalues)


@pytest.mark.parametrize("name", NAMES)
def test_no_sampled_point_beats_the_optimal_value(name):
    s = default(name)
    if s.optimal_value is None:
        pytest.skip(f"{name}: no known minimum")
    rng = np.random.default_rng(1)
    in_bounds = rng.uniform(s.bounds[:, 0], s.bounds[:, 1], size=(2000, s.dim))
    values = values_and_grads(name, np.concatenate([in_bounds, sample_points(s, 2000, 2)]))[0]
    assert values.min() >= s.optimal_value - 1e-9 * (1 + abs(s.optimal_value))


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    s = default(name)
    for w in sample_points(s, 3, seed=3):
        h = 1e-6 * max(1.0, float(np.abs(w).max()))
        steps = h * np.eye(s.dim)
        values, grads = values_and_grads(name, np.concatenate([w[None], w + steps, w - steps]))
        differences = (values[1 : s.dim + 1] - values[s.dim + 1 :]) / (2 * h)
        g = grads[0]
        np.testing.assert_allclose(g, differences, rtol=1e-5, atol=1e-6 * (1 + np.abs(g).max()))


@pytest.mark.parametrize("name", NAMES)
def test_jit_and_vmap_agree_with_plain_calls(name):
    s = default(name)
    ws = sample_points(s, 3, seed=4)
    plain = float(s.fn(jnp.asarray(ws[0]), s.theta))  # one eager call: the reference
    single = [compiled(name).single(w, s.theta) for w in ws]  # jit, one point at a time
    values, grads = values_and_grads(name, ws)  # jit of vmap
    assert float(single[0][0]) == pytest.approx(plain, rel=1e-10)
    np.testing.assert_allclose(values, [float(v) for v, _ in single], rtol=1e-10)
    for (_, g_single), g in zip(single, grads, strict=True):
        np.testing.assert_allclose(g, g_single, rtol=1e-9, atol=1e-10 * (1 + np.abs(g).max()))
    if s.grad_estimate_fn is not None:
        keys = jax.random.split(jax.random.key(0), len(ws))
        batched = jax.jit(jax.vmap(s.grad_estimate_fn, in_axes=(0, None, 0)))(ws, s.theta, keys)
        one = jax.jit(s.grad_estimate_fn)
        for w, key, g in zip(ws, keys, batched, strict=True):
            np.testing.assert_allclose(g, one(w, s.theta, key), rtol=1e-9, atol=1e-12)
    if s.predict_fn is not None:
        x = s.data["x"][:5]
        predicted = jax.jit(jax.vmap(s.predict_fn, in_axes=(0, None, None)))(ws, s.theta, x)
        np.testing.assert_allclose(predicted[1], s.predict(jnp.asarray(ws[1]), x), rtol=1e-10)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_dtype_of_the_weights_is_kept(name, dtype):
    s = default(name)
    w = jnp.asarray(s.starts[0], dtype)
    value, grad = compiled(name).single(w, s.theta)
    assert value.dtype == dtype and value.shape == () and grad.dtype == dtype
    exact = float(compiled(name).single(s.starts[0], s.theta)[0])
    assert float(value) == pytest.approx(exact, rel=1e-4 if dtype == jnp.float32 else 1e-12)
    if s.grad_estimate_fn is not None:
        estimate = jax.jit(s.grad_estimate_fn)(w, s.theta, jax.random.key(0))
        assert estimate.dtype == dtype
    if s.predict_fn is not None:
        assert jax.jit(s.predict_fn)(w, s.theta, s.data["x"][:3]).dtype == dtype


# -- metadata -------------------------------------------------------------------------------------
def _inside(points: np.ndarray, box: np.ndarray) -> bool:
    return bool(np.all((points >= box[:, 0]) & (points <= box[:, 1])))


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete_and_consistent(name):
    s = default(name)
    assert s.name == name and s.title and s.latex and s.reference
    code = classic_switch.KEY[0] if name in classic.SWITCH.names else name
    assert s.static_key[0] == code and hash(s.static_key) is not None
    assert set(s.params) == {p.name for p in FAMILIES[name].params}
    assert isinstance(s.theta, dict)
    assert s.bounds.shape == (s.dim, 2) and np.all(s.bounds[:, 0] < s.bounds[:, 1])
    assert s.window.shape == (2, 2) and np.all(s.window[:, 0] < s.window[:, 1])
    assert s.starts.shape[1] == s.dim and 1 <= len(s.starts) <= 3
    assert s.minima.ndim == 2 and s.minima.shape[1] == s.dim
    assert (s.optimal_value is None) == (len(s.minima) == 0)
    if s.log_scale:
        assert s.optimal_value is not None, "log colour scale needs f*"
    assert _inside(s.starts, s.bounds) and _inside(s.minima, s.bounds)
    assert _inside(s.project(s.starts), s.window)
    assert _inside(s.project(s.minima), s.window)
    if s.local_minima is not None:
        assert _inside(s.local_minima, s.bounds) and _inside(s.local_minima, s.window)
    assert np.all(np.isfinite(values_and_grads(name, s.starts)[0]))
    if s.dim == 2:
        assert s.projection is None
    else:
        basis = s.projection.basis
        assert basis.shape == (2, s.dim) and s.projection.how
        np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    if s.layers:
        assert sum(math.prod(shape) for _, shape in s.layers) == s.dim
    assert s.stochastic == (s.grad_estimate_fn is not None)


@pytest.mark.parametrize("name", NAMES)
def test_surface_is_rebuilt_from_its_name_and_params(name):
    s = default(name)
    again = surfaces.get(name, **s.params)
    assert again.static_key == s.static_key and again.fn is s.fn
    assert again.grad_estimate_fn is s.grad_estimate_fn and again.predict_fn is s.predict_fn
    jax.tree.map(np.testing.assert_array_equal, again.theta, s.theta)
    np.testing.assert_array_equal(again.minima, s.minima)
    np.testing.assert_array_equal(again.starts, s.starts)


# -- code identity: the static key decides the compiled function ----------------------------------
SAME_CODE = [
    ("rosenbrock", {"b": 100.0}, {"a": 0.5, "b": 10.0}),
    ("rastrigin", {}, {"A": 3.0}),
    ("elliptic_bowl", {}, {"condition": 1000.0, "angle": 30.0}),
    ("plateau_cliff", {}, {"height": 5.0, "width": 0.5}),
    (
        "noisy_quadratic",
        {"dim": 5},
        {"dim": 5, "spectrum": "inverse", "condition": 10.0, "batch_size": 8.0, "noise_scale": 2},
    ),
    ("rosenbrock_nd", {}, {"b": 10.0, "projection": "random", "projection_seed": 3}),
    ("quadratic_nd", {}, {"condition": 10.0, "rotated": False, "seed": 5}),
    ("linear_regression", {"batch_size": 10}, {"batch_size": 10}),
    ("logistic_regression", {}, {"l2": 1.0, "seed": 4, "separation": 3.0}),
    ("mlp", {}, {"dataset": "spirals", "noise": 0.3, "seed": 2}),
    ("mlp", {"hidden": "16,16"}, {"hidden": " 16, 16 "}),
    ("mlp_regression", {}, {"dataset": "wave", "noise": 0.2, "seed": 3}),
    ("custom", {}, {"xmin": -2.0, "ymax": 8.0, "log_scale": True}),
]
DIFFERENT_CODE = [
    ("noisy_quadratic", {"dim": 3}, {"dim": 4}),
    ("rosenbrock_nd", {"dim": 5}, {"dim": 6}),
    ("quadratic_nd", {"dim": 5}, {"dim": 6}),
    ("linear_regression", {}, {"batch_size": 10}),
    ("logistic_regression", {"n_samples": 100}, {"n_samples": 120}),
    ("mlp", {"hidden": "8"}, {"hidden": "16,16"}),
    ("mlp", {}, {"batch_size": 32}),
    ("mlp_regression", {"hidden": "8"}, {"hidden": "16,16"}),
    ("mlp_regression", {"n_samples": 64}, {"n_samples": 65}),
    ("custom", {"formula": "x^2 + y^2"}, {"formula": "x^2 + 2*y^2"}),
]


@pytest.mark.parametrize(("name", "first", "second"), SAME_CODE)
def test_same_static_key_means_same_function_and_one_trace(name, first, second):
    a, b = surfaces.get(name, **first), surfaces.get(name, **second)
    assert a.static_key == b.static_key
    assert a.fn is b.fn and a.grad_estimate_fn is b.grad_estimate_fn
    traces = []

    def traced(w, theta):
        traces.append(1)
        return a.fn(w, theta)

    engine_fn = jax.jit(traced)  # what the engine does: one jit per static_key, theta traced
    engine_fn(jnp.asarray(a.starts[0]), a.theta)
    value = engine_fn(jnp.asarray(a.starts[0]), b.theta)
    assert len(traces) == 1, "theta must have the same structure, shapes and dtypes"
    assert float(value) == pytest.approx(float(b.loss(jnp.asarray(a.starts[0]))), rel=1e-12)


@pytest.mark.parametrize(("name", "first", "second"), DIFFERENT_CODE)
def test_static_parameters_change_the_static_key(name, first, second):
    assert surfaces.get(name, **first).static_key != surfaces.get(name, **second).static_key


# -- bad input ------------------------------------------------------------------------------------
BAD_PARAMETERS = [
    ("rosenbrock", {"b": -1.0}, ["'rosenbrock'", "b=-1.0", "out of range [0.0, 10000.0]"]),
    ("rosenbrock", {"b": float("nan")}, ["b=nan", "finite"]),
    ("rosenbrock", {"a": float("inf")}, ["a=inf", "finite"]),
    ("rosenbrock", {"b": "100"}, ["parameter b", "number", "'100'"]),
    ("rosenbrock", {"b": True}, ["parameter b", "number"]),
    ("rosenbrock", {"b": None}, ["parameter b", "number"]),
    ("rosenbrock", {"c": 1.0}, ["unknown parameter 'c'", "a, b"]),
    ("beale", {"b": 1.0}, ["unknown parameter 'b'", "valid: none"]),
    ("noisy_quadratic", {"dim": 2.5}, ["dim=2.5", "whole number"]),
    ("noisy_quadratic", {"dim": 1}, ["dim=1", "out of range [2, 10000]"]),
    ("noisy_quadratic", {"spectrum": "linear"}, ["spectrum='linear'", "'geometric', 'inverse'"]),
    ("noisy_quadratic", {"batch_size": 0.5}, ["batch_size=0.5", "out of range"]),
    ("quadratic_nd", {"rotated": "yes"}, ["rotated", "true or false"]),
    ("mlp", {"hidden": "16,x"}, ["hidden='16,x'", "1 to 4"]),
    ("mlp", {"hidden": "100"}, ["hidden='100'"]),
    ("mlp", {"hidden": "8,8,8,8,8"}, ["hidden="]),
    ("mlp", {"batch_size": 500}, ["batch_size=500", "larger than the 200 samples"]),
    ("mlp_regression", {"batch_size": 100}, ["batch_size=100", "larger than the 64 samples"]),
    ("mlp_regression", {"dataset": "moons"}, ["dataset='moons'", "'ripple', 'wave'"]),
    ("mlp_regression", {"hidden": "0"}, ["hidden='0'"]),
    ("linear_regression", {"batch_size": -1}, ["batch_size=-1", "out of range"]),
    ("custom", {"formula": "__import__('os')"}, ["'custom'", "column 1", "'__import__'"]),
    ("custom", {"formula": 3}, ["formula", "string"]),
    ("custom", {"xmin": 5.0, "xmax": -5.0}, ["xmin < xmax"]),
]


@pytest.mark.parametrize(("name", "params", "fragments"), BAD_PARAMETERS)
def test_bad_parameters_are_rejected_with_a_clear_message(name, params, fragments):
    with pytest.raises(ValueError) as error:
        surfaces.get(name, **params)
    for fragment in fragments:
        assert fragment in str(error.value)


@pytest.mark.parametrize("name", ["rosenbrok", "", None, 3])
def test_unknown_surface_names_list_the_known_ones(name):
    with pytest.raises(ValueError, match=r"unknown surface .*known: rosenbrock, beale"):
        surfaces.get(name)


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**7), 10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["moons", "spirals", "geometric", "inverse", "random", "8,8", "x*y"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_parameter_value_gives_a_surface_or_a_value_error(data):
    name = data.draw(st.sampled_from(NAMES))
    declared = [p.name for p in FAMILIES[name].params] + ["bogus"]
    keys = data.draw(st.lists(st.sampled_from(declared), max_size=3, unique=True))
    params = {k: data.draw(ANY_VALUE) for k in keys}
    try:
        s = surfaces.get(name, **params)
    except ValueError as error:
        assert name in str(error)
    else:
        assert s.name == name and set(s.params) == set(declared[:-1])


# -- family-specific behaviour --------------------------------------------------------------------
def test_rosenbrock_minimum_follows_a():
    s = surfaces.get("rosenbrock", a=-1.5, b=3.0)
    np.testing.assert_array_equal(s.minima, [[-1.5, 2.25]])
    assert float(s.loss(jnp.asarray(s.minima[0]))) == 0.0
    assert _inside(s.minima, s.window)


def test_named_optimal_values():
    assert default("six_hump_camel").optimal_value == pytest.approx(-1.0316284534898774, abs=1e-15)
    assert default("styblinski_tang").optimal_value == pytest.approx(2 * -39.16616570377142)
    assert default("goldstein_price").optimal_value == 3.0
    assert len(default("himmelblau").minima) == 4


@pytest.mark.parametrize(("condition", "angle"), [(10.0, 0.0), (250.0, 30.0), (1.0, -75.0)])
def test_elliptic_bowl_has_the_chosen_condition_and_rotation(condition, angle):
    s = surfaces.get("elliptic_bowl", condition=condition, angle=angle)
    hessian = np.asarray(compiled("elliptic_bowl").hessian(np.zeros(2), s.theta))
    eigenvalues, vectors = np.linalg.eigh(hessian)
    np.testing.assert_allclose(eigenvalues, [1.0, condition], rtol=1e-12)
    if condition > 1:
        theta = np.deg2rad(angle)
        assert abs(vectors[:, 0] @ [np.cos(theta), np.sin(theta)]) == pytest.approx(1.0)


def test_plateau_is_flat_and_the_cliff_steep():
    width = default("plateau_cliff").params["width"]
    plateau = np.c_[np.linspace(-4.0, -width, 100), np.zeros(100)]
    cliff = np.c_[np.linspace(-width, width, 101), np.zeros(101)]
    plateau_slope = np.abs(values_and_grads("plateau_cliff", plateau)[1]).max()
    cliff_slope = np.abs(values_and_grads("plateau_cliff", cliff)[1]).max()
    assert plateau_slope <= 0.3 + 1e-12 and cliff_slope > 50 * plateau_slope


def test_two_wells_local_minimum_is_worse_than_the_global_one():
    s = default("two_wells")
    local = values_and_grads("two_wells", s.local_minima)[0][0]
    assert s.optimal_value < local < 0


def test_linear_regression_replicates_the_kerasy_document():
    rnd = np.random.RandomState(0)
    X = np.c_[rnd.uniform(0, 1, size=(100, 1)), np.ones((100, 1))]
    y = X @ [[2], [1]] + rnd.normal(0, 1 / 10, size=(100, 1))
    w0 = rnd.randn(2, 1)
    s = default("linear_regression")
    np.testing.assert_array_equal(s.data["x"], X[:, 0])
    np.testing.assert_array_equal(s.data["y"], y[:, 0])
    np.testing.assert_array_equal(s.starts[0], w0[:, 0])
    np.testing.assert_allclose(s.minima[0], np.linalg.lstsq(X, y, rcond=None)[0][:, 0], rtol=1e-12)
    w = np.array([0.3, -0.7])
    document_gradient = 2 / len(y) * X.T @ (X @ w - y[:, 0])
    np.testing.assert_allclose(s.grad(jnp.asarray(w)), document_gradient, rtol=1e-12)
    np.testing.assert_allclose(s.predict(jnp.asarray(w), jnp.array([0.0, 1.0])), [-0.7, -0.4])


def test_logistic_regression_predicts_probabilities():
    s = default("logistic_regression")
    p = s.predict(jnp.asarray(s.minima[0]), jnp.asarray(s.data["x"]))
    assert p.shape == (len(s.data["y"]),) and bool(jnp.all((p > 0) & (p < 1)))
    accuracy = float(jnp.mean((p > 0.5) == (s.data["y"] == 1)))
    assert accuracy > 0.7


@pytest.mark.parametrize(("hidden", "dataset"), [("16,16", "moons"), ("8", "spirals")])
def test_mlp_weights_unravel_into_layers(hidden, dataset):
    s = surfaces.get("mlp", hidden=hidden, dataset=dataset)
    sizes = [2, *map(int, hidden.split(",")), 1]
    expected = []
    for i in range(len(sizes) - 1):
        expected += [(f"W{i + 1}", (sizes[i], sizes[i + 1])), (f"b{i + 1}", (sizes[i + 1],))]
    assert list(s.layers) == expected
    w = jnp.asarray(s.starts[0])
    tree = s.unravel(w)
    assert [tree[k].shape for k, _ in s.layers] == [shape for _, shape in s.layers]
    np.testing.assert_array_equal(s.ravel(tree), w)
    x = jnp.asarray(s.data["x"][:12]).reshape(3, 4, 2)
    p = s.predict(w, x)
    assert p.shape == (3, 4) and bool(jnp.all((p >= 0) & (p <= 1)))
    np.testing.assert_array_equal(s.projection.origin, s.starts[0])
    np.testing.assert_allclose(s.project(s.starts[0]), [0.0, 0.0], atol=1e-12)


def test_mlp_regression_is_half_the_mean_squared_error_of_the_network():
    """The loss is (1/2N) sum (MLP_w(x_n) - y_n)^2 with the targets of its formula, and the
    network is the classification MLP's (its logit, which predict returns unsquashed)."""
    s = surfaces.get("mlp_regression", n_samples=50, seed=4)
    x, y = s.data["x"], s.data["y"]
    np.testing.assert_allclose(y, np.sin(3 * np.hypot(x[:, 0], x[:, 1])), rtol=1e-12)
    assert np.abs(x).max() <= 1.0 and x.shape == (50, 2)
    w = jnp.asarray(s.starts[1])
    out = np.asarray(s.predict(w, jnp.asarray(x)))
    assert float(s.loss(w)) == pytest.approx(0.5 * np.mean((out - y) ** 2), rel=1e-12)
    logits = surfaces.get("mlp", n_samples=50, seed=4).predict_fn  # sigmoid of the same network
    np.testing.assert_allclose(
        np.asarray(logits(w, s.theta, jnp.asarray(x))), 1 / (1 + np.exp(-out)), rtol=1e-10
    )
    wave = surfaces.get("mlp_regression", dataset="wave", noise=0.0)
    xw, yw = wave.data["x"], wave.data["y"]
    np.testing.assert_allclose(yw, np.sin(2 * np.pi * xw[:, 0]) + 0.5 * xw[:, 1], rtol=1e-12)
    assert "wave" in wave.title and r"\sin(2\pi" in wave.latex


def test_datasets_are_reproducible_and_balanced():
    for make in datasets.CLASSIFICATION.values():
        x, y = make(101, 0.1, 7)
        x_again, _ = make(101, 0.1, 7)
        np.testing.assert_array_equal(x, x_again)
        assert x.shape == (101, 2) and set(np.unique(y)) == {0.0, 1.0}
        assert abs(int(y.sum()) - 50) <= 1


@pytest.mark.parametrize("name", ["rosenbrock_nd", "quadratic_nd"])
@pytest.mark.parametrize("choice", ["top_curvature", "extreme_curvature"])
def test_curvature_projections_are_hessian_eigenvectors(name, choice):
    s = surfaces.get(name, dim=10, projection=choice)
    hessian = np.asarray(compiled(name).hessian(s.minima[0], s.theta))
    eigenvalues = np.sort(np.linalg.eigvalsh(hessian))[::-1]
    expected = eigenvalues[:2] if choice == "top_curvature" else eigenvalues[[0, -1]]
    basis = s.projection.basis
    np.testing.assert_allclose(basis @ hessian @ basis.T, np.diag(expected), atol=1e-8)
    np.testing.assert_array_equal(s.projection.origin, s.minima[0])


def test_random_projection_depends_on_its_seed_only():
    a = surfaces.get("rosenbrock_nd", projection="random", projection_seed=1)
    b = surfaces.get("rosenbrock_nd", projection="random", projection_seed=1, b=3.0)
    c = surfaces.get("rosenbrock_nd", projection="random", projection_seed=2)
    np.testing.assert_array_equal(a.projection.basis, b.projection.basis)
    assert not np.allclose(a.projection.basis, c.projection.basis)
    xy = np.array([[0.3, -0.2], [1.0, 2.0]])
    np.testing.assert_allclose(a.project(a.lift(xy)), xy, atol=1e-12)


@pytest.mark.parametrize("dim", [3, 10])
@pytest.mark.parametrize("b", [0.0, 100.0])
def test_rosenbrock_nd_hessian_formula(dim, b):
    s = surfaces.get("rosenbrock_nd", dim=dim, b=b)
    exact = compiled("rosenbrock_nd").hessian(np.ones(dim), s.theta)
    np.testing.assert_allclose(high_dim.rosenbrock_hessian_at_minimum(dim, b), exact, atol=1e-9)


@pytest.mark.parametrize("rotated", [True, False])
def test_quadratic_nd_spectrum(rotated):
    s = surfaces.get("quadratic_nd", dim=6, condition=1e3, rotated=rotated)
    A = np.asarray(s.theta["A"])
    np.testing.assert_allclose(np.linalg.eigvalsh(A), 1e3 ** -(np.arange(6)[::-1] / 5), rtol=1e-10)
    assert np.allclose(A, np.diag(np.diag(A))) != rotated


def test_noisy_quadratic_view_uses_the_extreme_curvature_axes():
    s = surfaces.get("noisy_quadratic", dim=50, spectrum="inverse")
    np.testing.assert_allclose(s.theta["h"], 1 / np.arange(1, 51))
    np.testing.assert_array_equal(np.abs(s.projection.basis).argmax(axis=1), [0, 49])
    assert surfaces.get("noisy_quadratic").projection is None


def test_catalogue_has_one_row_per_family():
    table = catalogue_markdown()
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(FAMILIES)
    for name, line in zip(NAMES, lines[2:], strict=True):
        assert line.startswith(f"| `{name}` |")
        assert line.replace(r"\|", "").count("|") == 8
        assert "$" in line
