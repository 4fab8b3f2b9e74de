"""The classics behind one switch compute what their own formulas compute (surfaces/classic.py),
value, gradient and Hessian, whatever the index, the parameters or what ran before."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import surfaces
from app import state
from surfaces import classic, classic_switch
from trajectories import pieces, run

SWITCHED = [c for c in classic.CLASSICS if not c.own_kernel]
POINTS = np.random.default_rng(7).uniform(-2.5, 2.5, (64, 2))


def own(c: classic.Classic, **values) -> dict:
    return {p.name: values.get(p.name, p.default) for p in c.params}


def test_every_classic_but_the_own_kernel_ones_is_a_branch_in_catalogue_order():
    assert [c.name for c in classic.CLASSICS if c.own_kernel] == ["rosenbrock"]
    assert classic.SWITCH.names == tuple(c.name for c in SWITCHED)
    for i, c in enumerate(SWITCHED):
        s = surfaces.get(c.name)
        assert s.fn is classic.SWITCH.fn and s.static_key == classic_switch.KEY
        assert int(s.theta["index"]) == i and s.theta["index"].dtype == jnp.int32
        # every switched classic's parameters, always: one pytree structure for all of them
        assert set(s.theta["params"]) == set(classic.SWITCH.defaults)
    assert {"rastrigin.A", "elliptic_bowl.condition", "plateau_cliff.width"} <= set(
        classic.SWITCH.defaults
    )
    assert surfaces.get("rosenbrock").fn is classic.rosenbrock


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_gradients_are_the_formulas_own(dtype):
    """To the last bit on the machines tried (the branch runs the formula's own operations);
    checked to a few units in the last place, as XLA may fuse the two programs differently."""
    w = POINTS.astype(dtype)
    batch = jax.jit(jax.vmap(jax.value_and_grad(classic.SWITCH.fn), in_axes=(0, None)))
    for c in SWITCHED:
        s = surfaces.get(c.name)
        value, grad = batch(w, s.theta)
        # compiled too: XLA's fused float32 arithmetic is not op-by-op's to the last bit
        formula = jax.jit(jax.vmap(jax.value_and_grad(c.fn), in_axes=(0, None)))
        want_value, want_grad = formula(w, own(c))
        assert value.dtype == grad.dtype == dtype
        tol = (
            {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-14, "atol": 1e-12}
        )
        np.testing.assert_allclose(value, want_value, **tol, err_msg=c.name)
        np.testing.assert_allclose(grad, want_grad, **tol, err_msg=c.name)


def test_a_grid_of_points_and_the_hessian_match_too():
    hessian = jax.jit(jax.hessian(classic.SWITCH.fn))
    for c in SWITCHED:
        s = surfaces.get(c.name)
        grid = POINTS[:12].reshape(3, 4, 2)  # fn takes (..., 2), as the pictures use it
        np.testing.assert_allclose(s.fn(grid, s.theta), c.fn(grid, own(c)), rtol=1e-6)
        for w in POINTS[:3]:
            np.testing.assert_allclose(
                hessian(w, s.theta), jax.hessian(c.fn)(w, own(c)), rtol=1e-5, atol=1e-6,
                err_msg=c.name,
            )  # fmt: skip


def test_parameters_reach_their_own_branch_only_and_their_derivative_is_right():
    s = surfaces.get("rastrigin", A=4.0)
    c = next(c for c in SWITCHED if c.name == "rastrigin")
    w = jnp.asarray(POINTS[0])
    np.testing.assert_allclose(s.fn(w, s.theta), c.fn(w, {"A": 4.0}), rtol=1e-6)
    assert float(s.fn(w, s.theta)) != pytest.approx(float(c.fn(w, {"A": 10.0})))
    # another classic's parameter changes nothing here
    other = {**s.theta, "params": {**s.theta["params"], "elliptic_bowl.condition": 99.0}}
    assert float(s.fn(w, other)) == float(s.fn(w, s.theta))
    # d f / d A through the custom rule (forward and reverse) against the formula's own
    by_a = jax.grad(lambda a: s.fn(w, {**s.theta, "params": {**s.theta["params"],
                                                          "rastrigin.A": a}}))(4.0)  # fmt: skip
    np.testing.assert_allclose(by_a, jax.grad(lambda a: c.fn(w, {"A": a}))(4.0), rtol=1e-6)


def test_one_set_of_kernels_runs_every_classic_and_what_ran_before_changes_nothing():
    first = run(state.DEFAULT.replace(surface="himmelblau"))
    before = pieces.compile_count()
    for name in ("booth", "matyas", "ackley"):
        r = run(state.DEFAULT.replace(surface=name))
        assert np.isfinite(r.loss[:, :, 0]).all()
    run(state.DEFAULT.replace(surface="rastrigin", surface_params={"A": 3.0}))
    again = run(state.DEFAULT.replace(surface="himmelblau"))
    assert pieces.compile_count() == before
    np.testing.assert_array_equal(again.position, first.position)
    np.testing.assert_array_equal(again.loss, first.loss)
    # the scene's paths are the formula's: the first step of plain SGD from each start
    sgd = next(i for i, o in enumerate(state.DEFAULT.optimizers) if o.kind == "SGD")
    lr = state.DEFAULT.optimizers[sgd].values()["learning_rate"]
    c = next(c for c in SWITCHED if c.name == "himmelblau")
    w0 = first.position[sgd, :, 0]
    step = w0 - lr * np.asarray(jax.vmap(jax.grad(c.fn), in_axes=(0, None))(w0, {}))
    assert first.steps[1] == first.stride
    if first.stride == 1:
        np.testing.assert_allclose(first.position[sgd, :, 1], step, rtol=1e-6)
