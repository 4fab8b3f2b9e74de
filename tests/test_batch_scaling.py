"""The batch-size scaling engine on the noisy quadratic model (Zhang et al., 2019)."""

import math

import numpy as np
import pytest

from surfaces.noisy_quadratic import curvatures
from trajectories import batch_scaling as bs
from trajectories.experiment import OptimizerSpec


def test_closed_form_by_hand_in_one_dimension():
    # x' = (1 - a h) x - a sqrt(c/B) xi with h = c = B = 1, a = 1/2: v = v/4 + 1/4, v = 1/3,
    # loss = h v / 2 = 1/6
    assert bs.sgd_stationary_loss([1.0], [1.0], 1.0, 0.5) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="stationary"):
        bs.sgd_stationary_loss([1.0], [1.0], 1.0, 2.5)


@pytest.mark.parametrize("batch_size, rate", [(4.0, 0.3), (32.0, 1.2)])
def test_sgd_steady_state_matches_the_nqm_closed_form(batch_size, rate):
    params = {"dim": 10, "spectrum": "geometric", "condition": 10.0, "noise_scale": 1.0}
    e = bs._experiment(params, batch_size, steps=1500, target=1e-9, seed=3)
    curves = bs.loss_curves(e, OptimizerSpec("sgd", {}), [rate], n_seeds=64)[0]  # (seeds, R)
    # the slowest coordinate (h = 0.1) forgets its start as (1 - a h)^t: past step 500 that is
    # below 1e-7 of the start for both rates
    per_seed = curves[:, 500:].mean(axis=1)
    mean, se = per_seed.mean(), per_seed.std(ddof=1) / math.sqrt(len(per_seed))
    h = curvatures("geometric", 10, 10.0)
    expected = bs.sgd_stationary_loss(h, h, batch_size, rate)  # c_i = sigma^2 h_i, sigma = 1
    assert abs(mean - expected) < 4 * se, (mean, expected, se)
    assert se < 0.1 * expected  # the check is sharp enough to mean something


def _slope(rows, name, b0, b1):
    steps = {r.batch_size: r.steps_to_target for r in rows if r.optimizer == name}
    return math.log(steps[b1] / steps[b0]) / math.log(b1 / b0)


def test_defaults_show_perfect_scaling_then_a_plateau():
    rows = bs.batch_scaling(["sgd", "momentum", "adam"])
    assert {(r.optimizer, r.batch_size) for r in rows} == {
        (n, float(b)) for n in ("sgd", "momentum", "adam") for b in bs.DEFAULT_BATCH_SIZES
    }
    # the smallest batch sizes at which each reaches the target (SGD's noise floor at B = 1 is
    # above it at every rate that converges within the steps)
    for name, b0 in (("sgd", 4), ("adam", 1)):
        small = _slope(rows, name, b0, 4 * b0)
        large = _slope(rows, name, 256, 1024)
        assert -1.35 < small < -0.7, (name, small)  # perfect scaling: steps ~ 1/B
        assert large > -0.4, (name, large)  # past the critical batch size: flat
    # momentum and preconditioning extend the scaling: at the largest batch both need fewer
    # steps than SGD (curvature-limited there), while momentum is no better at small batches
    steps = {(r.optimizer, r.batch_size): r.steps_to_target for r in rows}
    assert steps["momentum", 1024.0] < 0.8 * steps["sgd", 1024.0]
    assert steps["adam", 1024.0] < 0.8 * steps["sgd", 1024.0]
    assert steps["momentum", 4.0] > 0.8 * steps["sgd", 4.0]
    # the best learning rate grows with the batch size in the perfect-scaling regime
    sgd = {r.batch_size: r.learning_rate for r in rows if r.optimizer == "sgd"}
    assert sgd[4.0] < sgd[16.0] < sgd[64.0]


def test_ema_loss_is_that_of_the_averaged_weights():
    params = {"dim": 4, "noise_scale": 1.0}
    e = bs._experiment(params, 1.0, steps=300, target=1e-9, seed=0)
    raw = bs.loss_curves(e, OptimizerSpec("sgd", {}), [0.2], n_seeds=32)[0]
    ema = bs.loss_curves(
        e, OptimizerSpec("sgd", {"use_ema": True, "ema_momentum": 0.9}), [0.2], 32
    )[0]
    assert ema[:, 0] == pytest.approx(raw[:, 0])  # both start at the start
    # averaging removes noise: the tail loss of the average is below the iterates'
    assert ema[:, 150:].mean() < 0.8 * raw[:, 150:].mean()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer_names": ["lion"]}, "optimizer 'lion'"),
        ({"batch_sizes": [0.5]}, "batch size"),
        ({"target": -1.0}, "target"),
        ({"lr_grid": (1.0, 0.1, 8)}, "learning-rate grid"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bs.batch_scaling(**kwargs)


def test_steps_to_target_uses_the_ensemble_mean():
    curves = np.array([[[1.0, 0.5, 0.1], [1.0, 0.1, 0.1]]])  # one rate, two seeds
    assert bs.steps_to_target(curves, 0.3).tolist() == [1.0]  # mean 0.3 at step 1
    assert np.isnan(bs.steps_to_target(curves, 0.05)).all()
