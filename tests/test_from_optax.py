"""``optimizers.from_optax``: any optax factory in the engine, its floats traced, Python-only.

Checked: the path is optax's own loop's; sweeping the learning rate compiles once; a link
cannot name it; a snapshot records it as Python-only and ``replay`` refuses it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optimizers
from app import share
from tests.peers import assert_same_path
from trajectories import Experiment, OptimizerSpec, pieces, run, snapshot, sweeps

jax.config.update("jax_enable_x64", True)

START = (-1.5, 2.0)


@pytest.fixture(scope="module")
def lion():
    info = optimizers.from_optax(optax.lion, name="OptaxLion", learning_rate=3e-3, b1=0.8)
    yield info
    optimizers.registry.PYTHON_ONLY.pop(info.name)


def _scene(**hyperparams) -> Experiment:
    return Experiment(
        surface="rosenbrock",
        optimizers=(OptimizerSpec("OptaxLion", hyperparams),),
        steps=80,
        starts=(START,),
        dtype="float64",
        stride=1,
    )


def test_path_is_optax_own_loop(lion):
    r = run(_scene(learning_rate=0.01))
    surface = r.surface
    opt = optax.lion(learning_rate=0.01, b1=0.8)

    def body(carry, _):
        w, s = carry
        u, s = opt.update(jax.grad(surface.fn)(w, surface.theta), s, w)
        w = optax.apply_updates(w, u)
        return (w, s), w

    w0 = jnp.asarray(START, jnp.float64)
    theirs = jax.jit(lambda w: jax.lax.scan(body, (w, opt.init(w)), None, length=80)[1])(w0)
    ours = r.position[0, 0, 1:]
    assert_same_path(ours, np.asarray(theirs))
    assert np.max(np.abs(ours[-1] - ours[0])) > 0.05
    # the per-weight learning rate shown is the realised -update / gradient, signed
    np.testing.assert_allclose(r.lr[0, 0, :80], r.ratio[0, 0, :80], rtol=1e-12)
    assert r.evaluations[0, 0] == 80


def test_sweeping_the_learning_rate_compiles_once(lion):
    e = _scene()
    start = pieces.compile_count()
    first = sweeps.hyperparameter_grid(e, 0, [sweeps.Axis("learning_rate", 1e-3, 1e-2, 8)])
    before = pieces.compile_count()
    assert before - start == 1  # eight learning rates, one executable
    again = sweeps.hyperparameter_grid(e, 0, [sweeps.Axis("learning_rate", 2e-3, 3e-2, 8)])
    assert pieces.compile_count() == before  # new values: no compile
    # another swept float: one kernel of its own (a grid's unswept values are scalars every
    # cell shares, so which names vary per cell is structure), then none for its new values
    sweeps.hyperparameter_grid(e, 0, [sweeps.Axis("b1", 0.6, 0.9, 8)])
    assert pieces.compile_count() == before + 1
    b1 = sweeps.hyperparameter_grid(e, 0, [sweeps.Axis("b1", 0.5, 0.95, 8)])
    assert pieces.compile_count() == before + 1
    assert not np.array_equal(first.final_loss, again.final_loss)
    assert len(set(np.round(b1.final_loss, 12))) > 1
    rows = sweeps.fair_comparison(e.replace(stride=0), trials=4)
    assert rows[0].kind == "OptaxLion" and np.isfinite(rows[0].tuned_score)


def test_a_link_cannot_name_it(lion):
    scene = share.Scene(experiment=_scene())
    with pytest.raises(ValueError, match="made in Python") as error:
        share.encode(scene)
    assert "\n" not in str(error.value)
    # a hand-written link naming it is ignored with the same reason, even in this process
    decoded, warnings = share.decode({"o": ["OptaxLion(learning_rate=0.01)"]})
    assert all(o.kind != "OptaxLion" for o in decoded.experiment.optimizers)
    assert any("made in Python" in w for w in warnings)


def test_snapshot_records_it_and_replay_refuses(lion, tmp_path):
    e = _scene()
    text = snapshot.dumps(snapshot.from_result(run(e), e))
    assert '"python_only":["OptaxLion"]' in text.replace(" ", "")
    loaded = snapshot.loads(text)
    with pytest.raises(ValueError, match=r"made in Python.*cannot be reproduced"):
        snapshot.replay(loaded)
    # a process that does not define it cannot load the file, and says why
    optimizers.registry.PYTHON_ONLY.pop("OptaxLion")
    try:
        with pytest.raises(snapshot.SnapshotError, match="OptaxLion, an optimizer made in Python"):
            snapshot.loads(text)
    finally:
        optimizers.registry.PYTHON_ONLY["OptaxLion"] = lion


def test_it_is_never_offered_and_bad_factories_are_named(lion):
    assert "OptaxLion" not in optimizers.OPTIMIZERS  # the app and the CLI list only these
    assert optimizers.get("OptaxLion") is lion
    for call, match in [
        (lambda: optimizers.from_optax(optax.lion, name="Adam", learning_rate=1e-3), "built-in"),
        (lambda: optimizers.from_optax(optax.lion, bogus=1.0, learning_rate=1e-3), "bogus"),
        (lambda: optimizers.from_optax(optax.lion), "learning_rate"),
        (lambda: optimizers.from_optax(3), "callable"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
