"""The family of runs over one hyperparameter's grid (trajectories/family.py) and its place in
the animator's document (app/live.py): what the live sliders scrub through."""

from __future__ import annotations

import json

import numpy as np
import pytest

import optimizers
from app import live, payload
from trajectories import Experiment, OptimizerSpec, pieces, run
from trajectories.family import FAMILY_SIZE, family, readable_grid


def _scene(*specs: OptimizerSpec, steps: int = 300) -> Experiment:
    return Experiment(surface="rosenbrock", optimizers=specs, starts=((-1.5, 2.0),), steps=steps)


@pytest.mark.parametrize(
    ("kind", "name", "own", "other"),
    [
        ("Momentum", "learning_rate", 1e-3, 2e-3),
        ("Adam", "beta_1", 0.9, 0.5),
        ("RMSprop", "rho", 0.9, 0.75),
    ],
)
def test_members_equal_plain_runs_bit_for_bit(kind, name, own, other):
    # Two instances of one optimizer run as one vmapped group: the family's members at their
    # two values are those very runs, bit for bit, at the run's own stride.
    e = _scene(OptimizerSpec(kind, {name: own}), OptimizerSpec(kind, {name: other}))
    r = run(e)
    fam = family(e, 0, name, stride=r.stride)
    assert fam.values[fam.current] == own and other in fam.values
    np.testing.assert_array_equal(fam.steps, r.steps)
    for a, value in enumerate((own, other)):
        k = int(np.flatnonzero(fam.values == value)[0])
        for field in ("position", "loss", "lr"):
            np.testing.assert_array_equal(getattr(fam, field)[k], getattr(r, field)[a], field)
        np.testing.assert_array_equal(fam.diverged_step[k], r.diverged_step[a])
        np.testing.assert_array_equal(fam.hit_step[k], r.hit_step[a])


def test_a_lone_instance_matches_to_float32_rounding():
    # A group of one instance is compiled without its vmapped axis (XLA drops an axis of size
    # 1), which rounds a few operations differently: the same run to float32 precision.
    e = _scene(OptimizerSpec("Momentum", {"learning_rate": 1e-3}))
    r = run(e)
    fam = family(e, 0, "learning_rate", stride=r.stride)
    np.testing.assert_allclose(fam.position[fam.current], r.position[0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(fam.loss[fam.current], r.loss[0], rtol=1e-4)


def test_a_family_compiles_once_per_structure():
    e = _scene(OptimizerSpec("Nesterov", {"learning_rate": 3e-3}), steps=200)
    before = pieces.compile_count()
    first = family(e, 0, "learning_rate")
    assert pieces.compile_count() - before <= 1
    compiled = pieces.compile_count()
    # another hyperparameter, another current value (another grid), a short grid, more steps:
    # all traced, the same executable
    family(e, 0, "momentum")
    moved = e.replace(optimizers=(OptimizerSpec("Nesterov", {"learning_rate": 0.02}),))
    other = family(moved, 0, "learning_rate")
    family(e, 0, "learning_rate", values=[1e-3, 2e-3, 4e-3])
    family(e.replace(steps=230), 0, "learning_rate")
    assert pieces.compile_count() == compiled
    assert not np.array_equal(first.position, other.position)


def test_grids_are_readable_and_hold_the_current_value():
    lr = optimizers.get("Adam").hparam("learning_rate")
    r10 = [1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8]
    # 0.005 to 0.5: a decade each side of 0.05
    expected = [m * 1e-3 for m in r10[7:]] + [m * 1e-2 for m in r10] + [m * 1e-1 for m in r10[:8]]
    np.testing.assert_allclose(readable_grid(lr, 0.05), expected)
    # clipped to the declaration's range (low 1e-5), the current value added when off the grid
    low = readable_grid(lr, 3e-5)
    assert low[0] == pytest.approx(1e-5) and low[-1] == pytest.approx(2.5e-4) and 3e-5 in low
    beta = optimizers.get("Adam").hparam("beta_1")
    np.testing.assert_allclose(readable_grid(beta, 0.9), np.arange(20) * 0.05, atol=1e-12)
    assert 0.93 in readable_grid(beta, 0.93)


def test_grid_values_the_optimizer_refuses_are_left_out():
    # Adam's beta_1 must stay below 1: a grid given past it keeps the valid values only
    e = _scene(OptimizerSpec("Adam", {"learning_rate": 0.05}), steps=50)
    fam = family(e, 0, "beta_1", values=[0.5, 0.9, 1.0, 1.5])
    assert list(fam.values) == [0.5, 0.9]


@pytest.mark.parametrize(
    ("spec", "name", "message"),
    [
        (OptimizerSpec("Adam"), "beta_9", "'beta_9' is not a traced numeric hyperparameter"),
        (OptimizerSpec("Adam"), "amsgrad", "'amsgrad' is not a traced numeric hyperparameter"),
        (
            OptimizerSpec("Adam", {"learning_rate": {"schedule": "cosine_decay",
                                                     "initial_learning_rate": 0.1,
                                                     "decay_steps": 50}}),
            "learning_rate",
            "not a number",
        ),
    ],
)  # fmt: skip
def test_bad_requests_say_what_is_wrong(spec, name, message):
    with pytest.raises(ValueError, match=message):
        family(_scene(spec, steps=50), 0, name)
    with pytest.raises(ValueError, match="no optimizer instance 3"):
        family(_scene(spec, steps=50), 3, "learning_rate")


def test_too_many_values_is_refused():
    e = _scene(OptimizerSpec("SGD"), steps=20)
    with pytest.raises(ValueError, match="family members"):
        family(e, 0, "learning_rate", values=np.geomspace(1e-4, 1e-1, FAMILY_SIZE + 1))


# ---- in the document ------------------------------------------------------------------------
def test_encoded_family_is_within_budget_and_decodes_to_the_runs():
    e = _scene(OptimizerSpec("Adam", {"learning_rate": 0.05}), steps=500)
    r = run(e)
    fam = family(e, 0, "learning_rate", stride=r.stride)
    encoded, note = live.encode_family(r, fam)
    assert note is None
    size = sum(len(v["b64"]) for v in encoded.values() if isinstance(v, dict))
    assert size <= live.FAMILY_BUDGET_BYTES
    assert len(json.dumps(encoded)) <= live.FAMILY_BUDGET_BYTES + 5_000  # lists and names
    path = payload.decode(encoded["path"])  # (K, S, R, 2) float16
    assert path.dtype == np.float16 and path.shape == (len(fam.values), 1, len(r.steps), 2)
    k = encoded["current"]
    assert encoded["values"][k] == 0.05
    np.testing.assert_allclose(path[k], r.position[0], rtol=2e-3, atol=2e-3)
    loss = payload.decode(encoded["loss"])  # log10 above the surface's floor
    np.testing.assert_allclose(loss[k], r.loss[0], rtol=5e-3)
    lr = payload.decode(encoded["lr"])
    np.testing.assert_allclose(lr[k], r.lr[0], rtol=5e-3)


def test_a_family_over_budget_is_thinned_keeping_the_current_value(monkeypatch):
    e = _scene(OptimizerSpec("SGD", {"learning_rate": 1e-3}), steps=500)
    r = run(e)
    fam = family(e, 0, "learning_rate", stride=r.stride)
    full, _ = live.encode_family(r, fam)
    monkeypatch.setattr(live, "FAMILY_BUDGET_BYTES", 80_000)
    thinned, note = live.encode_family(r, fam)
    assert note is None and 5 <= len(thinned["values"]) < len(full["values"])
    assert thinned["values"][thinned["current"]] == 1e-3
    assert set(thinned["values"]) <= set(full["values"])
    monkeypatch.setattr(live, "FAMILY_BUDGET_BYTES", 1_000)
    none, note = live.encode_family(r, fam)
    assert none is None and "too large" in note


def test_live_params_follow_the_declaration():
    adam = optimizers.get("Adam")
    assert [p["name"] for p in live.live_params(adam, adam.defaults())] == [
        "learning_rate",
        "beta_1",
    ]
    scheduled = {**adam.defaults(), "learning_rate": {"schedule": "constant", "learning_rate": 1}}
    assert [p["name"] for p in live.live_params(adam, scheduled)] == ["beta_1"]
    rms = optimizers.get("RMSprop")
    assert [p["name"] for p in live.live_params(rms, rms.defaults())] == [
        "learning_rate",
        "rho",
        "momentum",
    ]
