"""A grid asked for its final loss alone runs the lean kernel: the same final losses and the
same divergences as the full grid, no recompiles on value changes, clear errors."""

from __future__ import annotations

import jax.monitoring
import numpy as np
import pytest

from trajectories import Experiment, OptimizerSpec, pieces, sweeps

ADAM = OptimizerSpec("Adam", {"learning_rate": 0.01})
# learning rates up to 30 on Rosenbrock: the top rows leave the divergence box or overflow
AXES = [
    sweeps.Axis("learning_rate", 1e-4, 30.0, 12, log=True),
    sweeps.Axis("beta_1", 0.0, 0.99, 5),
]
_COMPILES: list[str] = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, secs, **kw: (
        _COMPILES.append(event) if event.endswith("backend_compile_duration") else None
    )
)


@pytest.mark.parametrize(
    "scene",
    [
        Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=150),
        # a noisy surface: every step's gradient draws from the step's key
        Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=150, noise=2.0, seed=3),
        Experiment(
            surface="rosenbrock",
            optimizers=(OptimizerSpec("SGD", {"learning_rate": 1e-3}),),
            steps=150,
        ),
    ],
)
def test_final_loss_alone_equals_the_full_grid_bit_for_bit(scene):
    axes = AXES if scene.optimizers[0].kind == "Adam" else AXES[:1]
    full = sweeps.hyperparameter_grid(scene, 0, axes)
    lean = sweeps.hyperparameter_grid(scene, 0, axes, metrics=["final_loss"])
    # the grid has both kinds of cell
    assert full.diverged.any() and not full.diverged.all()
    # every cell that diverged in one diverged in the other, at the same step
    assert np.array_equal(lean.diverged, full.diverged)
    assert np.array_equal(lean.diverged_step, full.diverged_step)
    assert np.all(np.isinf(lean.final_loss[lean.diverged]))
    # every other cell: the same final loss to the bit
    ok = ~full.diverged
    assert np.all(np.isfinite(full.final_loss[ok]))
    assert np.array_equal(lean.final_loss[ok], full.final_loss[ok])
    assert np.array_equal(lean.evaluations, full.evaluations)
    assert lean.best() == full.best()
    # what was not asked is not there
    assert lean.metrics == ("final_loss",) and full.metrics == sweeps.CRITERIA
    assert lean.loss_auc is None and lean.steps_to_target is None


def test_the_full_grid_still_computes_every_metric_as_individual_runs_do():
    scene = Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=150)
    g = sweeps.hyperparameter_grid(scene, 0, AXES, metrics=["steps_to_target", "loss_auc"])
    assert g.metrics == ("loss_auc", "steps_to_target") and g.final_loss is None
    full = sweeps.hyperparameter_grid(scene, 0, AXES)
    assert np.array_equal(g.loss_auc, full.loss_auc)
    assert np.array_equal(g.steps_to_target, full.steps_to_target, equal_nan=True)


def test_value_changes_of_a_lean_grid_compile_nothing():
    scene = Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=100)
    sweeps.hyperparameter_grid(scene, 0, AXES, metrics=["final_loss"])  # compiles once
    before, events = pieces.compile_count(), len(_COMPILES)
    eps = OptimizerSpec("Adam", {"learning_rate": 0.01, "epsilon": 1e-5, "beta_2": 0.99})
    for e, axes in [
        (scene, [sweeps.Axis("learning_rate", 1e-3, 0.5, 12, log=True), AXES[1]]),
        (scene.replace(steps=60, seed=9), AXES),  # the step count is traced in summary mode
        (scene.replace(optimizers=(eps,)), AXES),  # values every cell shares
        (scene.replace(surface_params={"a": 0.5, "b": 50.0}), AXES),
    ]:
        g = sweeps.hyperparameter_grid(e, 0, axes, metrics=["final_loss"])
        assert g.final_loss.shape == (12, 5)
    assert pieces.compile_count() == before
    assert len(_COMPILES) == events


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        (["final_loss", "loss_area"], "unknown metric 'loss_area'"),
        ("finalloss", "unknown metric 'finalloss'"),
        ([], "at least one metric"),
    ],
)
def test_an_unknown_metric_is_named(metrics, message):
    scene = Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=20)
    with pytest.raises(ValueError, match=message):
        sweeps.hyperparameter_grid(scene, 0, AXES, metrics=metrics)


def test_best_of_a_metric_not_computed_says_so():
    scene = Experiment(surface="rosenbrock", optimizers=(ADAM,), steps=20)
    g = sweeps.hyperparameter_grid(scene, 0, AXES[:1], metrics=("final_loss",))
    with pytest.raises(ValueError, match="loss_auc was not computed"):
        g.best("loss_auc")
