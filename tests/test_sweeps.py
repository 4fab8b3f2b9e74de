"""Sweeps agree with individual runs, shard over devices, report progress and can be cancelled."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from trajectories import Experiment, OptimizerSpec, pieces, run, sweeps
from trajectories.run import keys_for, prepare

ADAM = OptimizerSpec("Adam", {"learning_rate": 0.01})
SCENE = Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=200)


def test_grid_cells_equal_individual_runs():
    axes = [
        sweeps.Axis("learning_rate", 1e-3, 0.3, 5, log=True),
        sweeps.Axis("beta_1", 0.5, 0.95, 4),
    ]
    g = sweeps.hyperparameter_grid(SCENE, 0, axes)
    assert g.final_loss.shape == (5, 4)
    for i, j in [(0, 0), (2, 3), (4, 1)]:
        lr, b1 = g.values[0][i], g.values[1][j]
        r = run(
            SCENE.replace(optimizers=(OptimizerSpec("Adam", {"learning_rate": lr, "beta_1": b1}),))
        )
        assert g.final_loss[i, j] == pytest.approx(r.final_loss[0, 0], rel=1e-5)
        hit = r.hit_step[0, 0]
        assert (np.isnan(g.steps_to_target[i, j]) and hit < 0) or g.steps_to_target[i, j] == hit
    best = g.best()
    assert set(best) == {"learning_rate", "beta_1"}


def test_grid_columns_give_what_one_row_per_cell_gives_bit_for_bit():
    """The grid hands its cells to the kernel as columns (one array per hyperparameter); the
    same cells as one dict per cell, in row-major order, give the same summaries to the bit."""
    axes = [
        sweeps.Axis("learning_rate", 1e-3, 0.3, 5, log=True),
        sweeps.Axis("beta_1", 0.5, 0.95, 3),
    ]
    g = sweeps.hyperparameter_grid(SCENE, 0, axes)
    base = sweeps._traced_values(ADAM)
    rows = [{**base, "learning_rate": float(lr), "beta_1": float(b1)}
            for lr in axes[0].values() for b1 in axes[1].values()]  # fmt: skip
    starts = SCENE.start_points(SCENE.build_surface())[:1]
    s = sweeps._many_instances(SCENE, ADAM, rows, starts, [SCENE.seed], None)
    assert np.array_equal(g.final_loss, s["final_loss"][:, 0, 0].reshape(5, 3))
    assert np.array_equal(g.diverged_step, s["diverged"][:, 0, 0].reshape(5, 3))
    taken = np.where(g.diverged_step >= 0, g.diverged_step, SCENE.steps)
    assert np.array_equal(g.loss_auc, s["loss_sum"][:, 0, 0].reshape(5, 3) / (taken + 1))


def test_grid_marks_divergence_and_the_cell_is_infinite():
    sgd = SCENE.replace(optimizers=(OptimizerSpec("SGD", {"learning_rate": 1e-4}),))
    g = sweeps.hyperparameter_grid(sgd, 0, [sweeps.Axis("learning_rate", 1e-4, 1.0, 8, log=True)])
    assert g.diverged[-1] and not g.diverged[0]
    assert np.isinf(g.final_loss[-1]) and np.isfinite(g.final_loss[0])


def test_a_128_by_128_grid_is_one_compile_and_reports_progress():
    calls = []
    axes = [
        sweeps.Axis("learning_rate", 1e-4, 1.0, 128, True),
        sweeps.Axis("beta_2", 0.5, 0.999, 128),
    ]
    short = SCENE.replace(steps=50)
    sweeps.hyperparameter_grid(short, 0, axes[:1])  # warm the chunk shape
    before = pieces.compile_count()
    g = sweeps.hyperparameter_grid(short, 0, axes, progress=lambda d, n: calls.append((d, n)))
    assert g.final_loss.shape == (128, 128)
    assert pieces.compile_count() - before <= 1
    assert calls[-1] == (128 * 128, 128 * 128) and len(calls) > 1
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_sweep_can_be_cancelled():
    axes = [sweeps.Axis("learning_rate", 1e-4, 1.0, 64, True), sweeps.Axis("beta_1", 0.0, 0.9, 64)]

    def stop(done, total):
        if done < total:
            raise sweeps.Cancelled("stop")

    with pytest.raises(sweeps.Cancelled):
        sweeps.hyperparameter_grid(SCENE, 0, axes, progress=stop)
    with pytest.raises(sweeps.Cancelled):
        sweeps.hyperparameter_grid(SCENE, 0, axes, progress=lambda d, n: d >= n)


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ([sweeps.Axis("nesterov", 0, 1, 3)], "not a numeric hyperparameter"),
        ([sweeps.Axis("learning_rate", 1.0, 0.1, 3)], "LOW <= HIGH"),
        ([sweeps.Axis("learning_rate", -1.0, 0.1, 3, log=True)], "LOW > 0"),
        ([sweeps.Axis("learning_rate", 0.1, 1.0, 129)], "limit"),
        ([sweeps.Axis("learning_rate", 0.1, 1.0, 0)], "at least 1"),
        ([sweeps.Axis("beta_1", 0.5, 1.5, 3)], "beta_1"),
        ([], "one or two"),
        ([sweeps.Axis("beta_1", 0, 0.5, 2)] * 2, "one or two different"),
    ],
)
def test_bad_grids_name_the_problem(axes, message):
    with pytest.raises(ValueError, match=message):
        sweeps.hyperparameter_grid(SCENE, 0, axes)


@pytest.mark.parametrize(
    ("text", "axis"),
    [
        ("learning_rate=1e-4:1:16:log", sweeps.Axis("learning_rate", 1e-4, 1.0, 16, True)),
        ("beta_1=0:0.99:8", sweeps.Axis("beta_1", 0.0, 0.99, 8)),
    ],
)
def test_grid_syntax(text, axis):
    assert sweeps.Axis.parse(text) == axis


@pytest.mark.parametrize("text", ["lr", "lr=1:2", "lr=a:b:3", "lr=1:2:3:lin", "=1:2:3"])
def test_bad_grid_syntax(text):
    with pytest.raises(ValueError, match="grid"):
        sweeps.Axis.parse(text)


def test_sweeps_shard_over_every_local_device():
    assert len(jax.local_devices()) == 2  # tests/conftest.py asks for two CPU devices
    x = sweeps._shard_leading(np.zeros((8, 2), np.float32))
    assert len(x.sharding.device_set) == 2
    # and sharded results equal one-device results computed by run()
    g = sweeps.hyperparameter_grid(SCENE, 0, [sweeps.Axis("learning_rate", 1e-3, 0.1, 4, True)])
    for k, lr in enumerate(g.values[0]):
        r = run(SCENE.replace(optimizers=(OptimizerSpec("Adam", {"learning_rate": lr}),)))
        assert g.final_loss[k] == pytest.approx(r.final_loss[0, 0], rel=1e-5)


def test_basins_of_himmelblau_find_all_four_minima():
    adam = OptimizerSpec("Adam", {"learning_rate": 0.05})
    e = Experiment(surface="himmelblau", optimizers=(adam,), steps=300)
    b = sweeps.basins(e, 0, n=24)
    assert b.labels.shape == (24, 24)
    assert set(np.unique(b.labels)) >= {0, 1, 2, 3}
    # a start next to a minimum lands in that minimum's basin
    for k, m in enumerate(b.minima):
        near = np.argmin(np.abs(b.x - m[0])), np.argmin(np.abs(b.y - m[1]))
        assert b.labels[near[1], near[0]] == k
    assert np.all(b.settled_step <= 300)


def test_basins_of_two_wells_show_local_and_global():
    e = Experiment(surface="two_wells", optimizers=(OptimizerSpec("SGD", {"learning_rate": 0.05}),),
                   steps=400)  # fmt: skip
    b = sweeps.basins(e, 0, n=24)
    assert {0, 1} <= set(np.unique(b.labels))


def test_seed_ensemble_bands_are_ordered_and_reproducible():
    e = SCENE.replace(optimizers=(ADAM, OptimizerSpec("SGD", {"learning_rate": 1e-3})), noise=2.0)
    a = sweeps.seed_ensemble(e, n_seeds=16)
    b = sweeps.seed_ensemble(e, n_seeds=16)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.loss.shape == (2, len(sweeps.QUANTILES), len(a.steps))
    assert np.all(np.diff(a.loss, axis=1) >= 0)  # 5% <= 25% <= 50% <= 75% <= 95%
    assert np.any(a.loss[:, -1, 1:] > a.loss[:, 0, 1:])  # the noise spreads the seeds
    # seed 0 of the ensemble is the plain run with seed 0: it lies within the 5%-95% band
    # at most records (a single seed may leave it at a few, by definition of the band)
    single = run(e.replace(stride=int(a.steps[1] - a.steps[0])))
    lo, hi = a.loss[0, 0], a.loss[0, -1]
    inside = (single.loss[0, 0] >= lo - 1e-6) & (single.loss[0, 0] <= hi + 1e-6)
    assert inside.mean() > 0.5


def test_seed_ensemble_needs_a_stochastic_surface():
    with pytest.raises(ValueError, match="deterministic"):
        sweeps.seed_ensemble(SCENE, n_seeds=4)


def test_fair_comparison_tunes_all_hyperparameters_with_the_same_budget():
    e = SCENE.replace(
        optimizers=(ADAM, OptimizerSpec("SGD", {"learning_rate": 1e-3})), steps=150, dtype="float64"
    )
    rows = sweeps.fair_comparison(e, trials=16, criterion="loss_auc")
    assert [r.kind for r in rows] == ["Adam", "SGD"]
    for r in rows:
        assert r.trials == 16
        assert set(r.tuned_best) == {h.name for h in sweeps._tunable(OptimizerSpec(r.kind))}
        # the reported best setting reproduces its score
        best = OptimizerSpec(r.kind, r.tuned_best)
        check = run(e.replace(optimizers=(best,)))
        assert r.tuned_score == pytest.approx(float(check.loss_auc[0, 0]), rel=1e-4)
        assert r.lr_only_score <= r.default_score or np.isinf(r.default_score)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sweeps.basins(SCENE, 0, n=0), "at least 2"),
        (lambda: sweeps.fair_comparison(SCENE, trials=0), "at least 1"),
        (lambda: sweeps.fair_comparison(SCENE, criterion="speed"), "criterion"),
        (lambda: sweeps.seed_ensemble(SCENE.replace(noise=1.0), n_seeds=0), "at least 1"),
        (lambda: sweeps.seed_ensemble(SCENE.replace(noise=1.0), n_seeds=10_000), "limit"),
    ],
)
def test_bad_sweep_sizes_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_trajectory_loop_compiles_as_one_native_function():
    """The engine's speed depends on XLA hoisting the small loop (trajectories/xla_flags.py)."""
    e = SCENE.replace(optimizers=(ADAM, OptimizerSpec("SGD")))
    s = e.validate()
    p = prepare(e, s)
    for piece, hp in zip(p.plan.pieces(), p.hps, strict=True):
        lowered = pieces.compiled(piece).lower(p.inputs, hp, p.starts, keys_for([0]))
        assert 'xla_cpu_small_call="true"' in lowered.compile().as_text()
