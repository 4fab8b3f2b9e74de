"""The trajectory engine: runs are right, bounded, reproducible and never recompile for values."""

from __future__ import annotations

import dataclasses
import gc

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import surfaces
import trajectories
from trajectories import Experiment, OptimizerSpec, kernel, limits, pieces, run
from trajectories.run import keys_for

ADAM = OptimizerSpec("Adam", {"learning_rate": 0.01})
SIX = (
    ADAM,
    OptimizerSpec("Adam", {"learning_rate": 0.05}, name="Adam fast"),
    OptimizerSpec("SGD", {"learning_rate": 1e-3}),
    OptimizerSpec("Momentum", {"learning_rate": 1e-3}),
    OptimizerSpec("WAME", {"learning_rate": 1e-3}),
    OptimizerSpec("RMSprop", {"learning_rate": 1e-2}),
)


def scene(**changes) -> Experiment:
    return Experiment(surface="rosenbrock", optimizers=SIX, steps=300).replace(**changes)


def reference_path(spec: OptimizerSpec, surface, w0, steps, dtype=jnp.float32):
    """The same optimizer in its own jitted optax scan, no engine (same XLA rounding)."""
    opt = spec.build()

    def body(carry, _):
        w, state = carry
        u, state = opt.update(jax.grad(surface.loss)(w), state, w)
        w = optax.apply_updates(w, u)
        return (w, state), w

    w0 = jnp.asarray(w0, dtype)
    _, path = jax.jit(lambda w: jax.lax.scan(body, (w, opt.init(w)), None, length=steps))(w0)
    return np.concatenate([np.asarray(w0)[None], np.asarray(path)])


def test_result_layout_and_step_zero_is_the_start():
    e = scene(starts=((-1.5, 2.0), (0.5, -0.5)))
    r = run(e)
    assert r.position.shape == (6, 2, 301, 2)
    assert r.loss.shape == (6, 2, 301)
    assert r.lr.shape == r.grad.shape == r.update.shape == r.position.shape
    np.testing.assert_array_equal(r.steps, np.arange(301))
    np.testing.assert_allclose(r.position[:, 0, 0], np.tile([-1.5, 2.0], (6, 1)))
    np.testing.assert_allclose(r.position[:, 1, 0], np.tile([0.5, -0.5], (6, 1)))
    s = surfaces.get("rosenbrock")
    final = r.position[:, :, -1]
    np.testing.assert_allclose(r.final_loss, jax.vmap(jax.vmap(s.loss))(final), rtol=1e-5)
    # the engine's result knows kinds, not labels: the app names and colours it (app/labels.py)
    assert r.kinds == [o.kind for o in SIX] and not hasattr(r, "names")
    assert not hasattr(r, "colors") and r.experiment.optimizers[1].name == ""


@pytest.mark.parametrize("index", range(6))
def test_engine_paths_equal_a_plain_optax_loop(index):
    e = scene(steps=200, dtype="float64")
    r = run(e)
    ref = reference_path(SIX[index], surfaces.get("rosenbrock"), (-1.5, 2.0), 200, jnp.float64)
    np.testing.assert_allclose(r.position[index, 0], ref, rtol=1e-9, atol=1e-12)


def test_recorded_quantities_are_consistent():
    r = run(scene(steps=50, dtype="float64"))
    # record t: the step taken from w_t is w_{t+1} - w_t; none follows the last record
    np.testing.assert_allclose(r.update[:, 0, :-1], np.diff(r.position[:, 0], axis=1), atol=1e-12)
    assert np.all(r.update[:, 0, -1] == 0)
    # the gradient recorded at w_t is the gradient there
    s = r.surface
    np.testing.assert_allclose(r.grad[:, 0, :-1], jax.vmap(jax.vmap(s.grad))(r.position[:, 0, :-1]),
                               rtol=1e-9)  # fmt: skip
    # SGD's realised ratio -u/g equals its learning rate
    sgd = r.kinds.index("SGD")
    np.testing.assert_allclose(r.ratio[sgd, 0, :-1], 1e-3, rtol=1e-9)
    np.testing.assert_allclose(r.lr[sgd, 0], 1e-3, rtol=1e-9)
    adam = r.state[0]
    assert set(adam) == {"mu", "nu"} and adam["mu"].shape == (1, 51, 2)


def test_changing_values_never_recompiles():
    run(scene())  # warm
    before = pieces.compile_count()
    changed = (*SIX[:1], OptimizerSpec("Adam", {"learning_rate": 0.2, "beta_1": 0.5}), *SIX[2:])
    run(scene(optimizers=changed))
    run(scene(surface_params={"b": 10.0}))
    run(scene(starts=((0.3, 0.3),)))
    run(scene(seed=7))
    run(scene(steps=290))  # same bucket of records
    assert pieces.compile_count() == before


def test_a_first_run_compiles_its_pieces_and_nothing_else():
    """No seeding or scalar-staging programs on a first run (each a compile of its own): the
    key is built on the host, the surface's parameters are put on the device as they are."""
    events: list[str] = []

    def listen(ev, secs, **kw):
        events.append(ev)

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        jax.clear_caches()  # JAX's own programs (seeding, staging) compile again if used
        pieces.clear_compiled()
        run(scene(seed=4242, surface_params={"b": 50.0}))
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    compiles = sum(ev.endswith("backend_compile_duration") for ev in events)
    groups = len({s.kind for s in SIX})  # the two Adams share one piece
    assert compiles == groups


def test_the_garbage_collector_waits_while_new_pieces_compile():
    """Tracing makes many short-lived objects; with the collector running, a first S2-like run
    made about 50 collections, each walking every object in the process."""
    collections: list[str] = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        pieces.clear_compiled()
        run(scene(seed=4243))
    finally:
        gc.callbacks.remove(count)
    assert len(collections) <= 3  # the host work after the compiles may make one or two
    assert gc.isenabled()
    gc.disable()  # a collector that is off stays off
    try:
        pieces.clear_compiled()
        run(scene(seed=4244))
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("seed", [0, 1, 7, 4242, 2**31 - 1, limits.MAX_SEED])
def test_keys_built_on_the_host_are_jaxs_keys(seed):
    (key,) = keys_for([seed])
    expected = np.asarray(jax.random.PRNGKey(seed))
    assert key.dtype == expected.dtype
    np.testing.assert_array_equal(key, expected)


def test_compiled_kernels_are_bounded_and_a_dropped_piece_compiles_again(monkeypatch):
    """A server meets new pieces without end (each typed formula is one): past
    MAX_COMPILED_PIECES the least recently used kernel is dropped, and comes back on demand."""
    monkeypatch.setattr(pieces, "MAX_COMPILED_PIECES", 2)

    def formula(k: int) -> Experiment:
        return Experiment(
            surface="custom",
            surface_params={"formula": f"(x - {k})^2 + 3*y^2"},
            optimizers=(OptimizerSpec("Adam", {"learning_rate": 0.1}),),
            steps=30,
        )

    first = run(formula(101))
    count = pieces.compile_count()
    run(formula(102))
    run(formula(103))  # the third piece: the first is dropped
    assert len(pieces._COMPILED) == 2
    assert pieces.compile_count() == count + 2
    again = run(formula(101))  # compiles again, the same result bit for bit
    assert pieces.compile_count() == count + 3
    np.testing.assert_array_equal(again.position, first.position)
    run(formula(101))  # now kept: no compile
    assert pieces.compile_count() == count + 3


def test_steps_are_bucketed():
    base = pieces.compile_count()
    for steps in range(200, 260, 7):  # 9 step counts
        run(scene(steps=steps))
    groups = len({s.kind for s in SIX})  # one kernel per optimizer group
    assert pieces.compile_count() - base <= 2 * groups  # two buckets of records


def test_divergence_stops_one_path_and_spoils_no_other():
    wild = OptimizerSpec("SGD", {"learning_rate": 0.5}, name="wild")
    r = run(scene(optimizers=(*SIX, wild)))
    r_calm = run(scene())
    d = r.diverged_step[-1, 0]
    assert d > 0
    assert np.all(np.isfinite(r.position[-1])) and np.all(np.isfinite(r.loss[-1]))
    frozen = r.position[-1, 0, d:]
    np.testing.assert_array_equal(frozen, np.broadcast_to(frozen[0], frozen.shape))
    np.testing.assert_array_equal(r.position[:-1], r_calm.position)
    assert np.all(r.diverged_step[:-1] == -1)
    assert np.isinf(r.loss_auc[-1, 0])


def test_same_description_gives_bit_identical_results():
    e = scene(noise=0.5, seed=3)
    a, b = run(e), run(Experiment.from_json(e.to_json()))
    for field in ("position", "loss", "grad", "update", "lr", "final_loss", "hit_step"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_gradient_noise_uses_common_random_numbers():
    twin = (ADAM, OptimizerSpec("Adam", {"learning_rate": 0.01}, name="twin"))
    r = run(scene(optimizers=twin, noise=1.0, seed=1))
    np.testing.assert_array_equal(r.position[0], r.position[1])
    other = run(scene(optimizers=twin, noise=1.0, seed=2))
    assert not np.allclose(r.position[0], other.position[0])
    clean = run(scene(optimizers=twin))
    assert not np.allclose(r.position[0], clean.position[0])


def test_names_colours_and_switched_off_instances_are_not_part_of_the_computation():
    e = scene(steps=40)
    named = [dataclasses.replace(o, name=f"n{i}", color="#123456") for i, o in enumerate(SIX)]
    off = OptimizerSpec("Adagrad", {"learning_rate": 0.3}, name="off", enabled=False)
    relabelled = e.replace(optimizers=(*named, off))
    assert relabelled != e and relabelled.to_json() != e.to_json()
    assert relabelled.computation() == e.computation()
    assert hash(relabelled.computation()) == hash(e.computation())
    first = run(e)
    before = pieces.compile_count()
    again = run(relabelled)
    assert pieces.compile_count() == before  # nothing compiled: the same prepared plan
    assert again.computation == first.computation
    for f in ("position", "loss", "grad", "update", "lr", "final_loss"):
        np.testing.assert_array_equal(getattr(again, f), getattr(first, f))
    # what changes the numbers changes the computation; defaults written out do not
    assert e.replace(seed=1).computation() != e.computation()
    lr = SIX[0].info.hparam("learning_rate").default
    spelled = OptimizerSpec("Adam", {**SIX[0].info.defaults(), "learning_rate": lr})
    assert (
        scene(optimizers=(spelled,)).computation()
        == scene(optimizers=(OptimizerSpec("Adam"),)).computation()
    )
    # an equal description, parsed again: equal, same hash, usable as a dictionary key
    parsed = Experiment.from_json(relabelled.to_json())
    assert parsed == relabelled and {parsed: 1}[relabelled] == 1


def test_a_bad_instance_is_named_as_the_description_has_it():
    # the computation holds the enabled instances alone and no names; the message does not
    off = OptimizerSpec("SGD", enabled=False)
    bad = OptimizerSpec("Adam", {"beta_1": 2.0}, name="bad one")
    with pytest.raises(ValueError, match=r"^optimizers\[1\] \(bad one\): Adam: beta_1"):
        run(Experiment(optimizers=(off, bad), steps=10))


def test_predictions_along_the_paths_of_a_learned_model():
    e = Experiment(surface="mlp", optimizers=(ADAM, OptimizerSpec("SGD")), steps=30)
    r = run(e)
    grid = np.random.default_rng(0).uniform(-2, 2, (7, 2))
    frames = np.array([0, 10, len(r.steps) - 1])
    p = trajectories.predictions(r, grid, frames)
    assert p.shape == (2, 3, 7) and p.dtype == np.float32
    for a in range(2):
        for k, f in enumerate(frames):  # the model, called on its own at those weights
            want = r.surface.predict(jnp.asarray(r.position[a, 0, f]), jnp.asarray(grid, "f4"))
            np.testing.assert_allclose(p[a, k], np.asarray(want), rtol=1e-5, atol=1e-6)
    assert not np.allclose(p[0, 0], p[0, -1])  # the boundary moves as the weights learn
    with pytest.raises(ValueError, match="not a learned model"):
        trajectories.predictions(run(scene(steps=5)), grid, frames)


def test_steps_to_target_and_metrics():
    momentum = OptimizerSpec("Momentum", {"learning_rate": 0.02})
    e = Experiment(surface="booth", optimizers=(momentum,), steps=400, tolerance=1e-6)
    r = run(e)
    hit = int(r.hit_step[0, 0])
    assert 0 < hit < 400
    assert r.loss[0, 0, hit] <= e.tolerance + 1e-7 < r.loss[0, 0, hit - 1]
    assert r.distance_to_minimum[0, 0] < 1e-3
    row = r.summary()[0]
    assert row["steps_to_target"] == hit and row["diverged_at"] == -1


def test_output_stays_within_the_memory_budget():
    eight = tuple(OptimizerSpec(k) for k in ("SGD", "Adam", "RMSprop", "Adagrad") * 2)
    e = Experiment(surface="noisy_quadratic", surface_params={"dim": 1500}, optimizers=eight,
                   steps=6000, starts=((1.0, 1.0), (0.5, -0.5)))  # fmt: skip
    r = run(e)
    arrays = [r.position, r.loss, r.grad, r.update, r.lr, *[v for s in r.state for v in s.values()]]
    assert sum(a.nbytes for a in arrays) <= limits.RESULT_BUDGET_BYTES
    assert r.stride > 1 and r.steps[-1] == 6000
    assert r.position.shape[2] == len(r.steps) <= limits.MAX_RECORDS


def test_learned_model_weights_are_a_pytree_for_per_tensor_optimizers():
    e = Experiment(surface="mlp", optimizers=(OptimizerSpec("LARS", {"learning_rate": 1.0}),),
                   steps=30)  # fmt: skip
    r = run(e)
    s = r.surface
    rates = s.unravel(jnp.asarray(r.lr[0, 0, -1]))
    for name, _ in s.layers:
        values = np.unique(np.asarray(rates[name]))
        assert values.size == 1, f"LARS's rate is per tensor, {name} has {values.size} values"
    assert len({float(np.asarray(rates[n]).ravel()[0]) for n, _ in s.layers}) > 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"surface": "nope"}, "surface"),
        ({"steps": 0}, "steps"),
        ({"steps": limits.MAX_STEPS + 1}, "steps"),
        ({"optimizers": [{"kind": "Adam", "hyperparams": {"beta_1": 2.0}}]}, r"optimizers\[0\]"),
        ({"optimizers": [{"kind": "Adamm"}]}, r"optimizers\[0\].kind"),
        ({"optimizers": [{"kind": "Adam", "color": "red"}]}, "color"),
        ({"optimizers": [{"kind": "Adam", "wat": 1}]}, "unknown field"),
        ({"optimizers": [{"kind": "Adam", "enabled": False}]}, "at least one"),
        ({"optimizers": [{"kind": "Adam"}], "starts": [[1, 2, 3]]}, r"starts\[0\]"),
        ({"optimizers": [{"kind": "Adam"}], "starts": [["a", 1]]}, r"starts\[0\]"),
        ({"optimizers": [{"kind": "Adam"}], "noise": -1}, "noise"),
        ({"optimizers": [{"kind": "Adam"}], "seed": 1.5}, "seed"),
        ({"optimizers": [{"kind": "Adam"}], "dtype": "float16"}, "dtype"),
        ({"optimizers": [{"kind": "Adam"}], "surprise": True}, "unknown field"),
        ({"optimizers": [{"kind": "Adam"}] * 17}, "optimizers"),
        ([1, 2], "expected an object"),
        (
            {
                "optimizers": [
                    {
                        "kind": "Adam",
                        "hyperparams": {
                            "learning_rate": {
                                "schedule": "cosine_decay",
                                "initial_learning_rate": 0.05,
                                "decay_steps": "abc",
                            }
                        },
                    }
                ]
            },
            "decay_steps",
        ),
        (
            {
                "optimizers": [
                    {
                        "kind": "Adam",
                        "hyperparams": {
                            "learning_rate": {
                                "schedule": "exponential_decay",
                                "initial_learning_rate": 0.05,
                            }
                        },
                    }
                ]
            },
            "missing field",
        ),
    ],
)
def test_bad_descriptions_name_the_problem(data, message):
    with pytest.raises(ValueError, match=message):
        Experiment.from_dict(data)


def test_description_round_trips_through_json():
    e = scene(starts=((-1.0, 1.5),), noise=0.1, seed=4, stride=2)
    e = e.replace(optimizers=(
        OptimizerSpec("Adam", {"learning_rate": {"schedule": "cosine_decay",
                                                 "initial_learning_rate": 0.05,
                                                 "decay_steps": 200}}, color="#123456"),
        OptimizerSpec("WAME", {"variant": "paper_sqrt"}, enabled=False),
    ))  # fmt: skip
    assert Experiment.from_json(e.to_json()) == e


def test_schedules_run_and_trace():
    sched = {"schedule": "exponential_decay", "initial_learning_rate": 0.05, "decay_steps": 50,
             "decay_rate": 0.5}  # fmt: skip
    e = scene(optimizers=(OptimizerSpec("Adam", {"learning_rate": sched}),), steps=100)
    r = run(e)
    before = pieces.compile_count()
    faster = {**sched, "decay_rate": 0.9}
    r2 = run(e.replace(optimizers=(OptimizerSpec("Adam", {"learning_rate": faster}),)))
    assert pieces.compile_count() == before
    assert not np.allclose(r.position, r2.position)


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_summaries_read_off_the_records_equal_those_tracked_in_the_loop(noise):
    """At stride 1 hit, loss area and settling come from the records after the loop; a
    summary-only run tracks them step by step: both ways give the same summaries, diverged
    paths included."""
    from trajectories.run import prepare

    wild = OptimizerSpec("SGD", {"learning_rate": 0.5}, name="wild")
    e = Experiment(
        surface="booth",
        optimizers=(*SIX, wild),
        starts=((0.0, 0.0), (-4.0, 3.0)),
        steps=300,
        tolerance=1e-3,
        noise=noise,
        seed=4,
    )
    surface = e.build_surface()
    keys = np.asarray(jax.random.PRNGKey(e.seed))[None]

    def summary(record: bool):
        p = prepare(e, surface, record=record)
        assert kernel.tracks_in_loop(p.plan) is not record
        outs = jax.device_get(pieces.simulate(p.plan, p.inputs, p.hps, p.starts, keys))
        return kernel.unpack_outputs(outs, surface.dim)[1]

    recorded, tracked = summary(True), summary(False)
    assert (recorded["diverged"] >= 0).any() and (recorded["hit"] >= 0).any()
    assert (recorded["settled"] > 0).any()
    for name in ("diverged", "hit", "settled"):
        np.testing.assert_array_equal(recorded[name], tracked[name], err_msg=name)
    for name in ("final_loss", "loss_sum", "final_position"):
        np.testing.assert_allclose(recorded[name], tracked[name], rtol=1e-5, err_msg=name)


def test_a_summary_run_compiles_once_for_every_number_of_steps():
    """Summary mode loops on a traced bound: other step counts reuse the kernel, and each
    gives the same end point as a recording run of that length."""
    from trajectories.run import prepare

    surface = scene().build_surface()
    keys = np.asarray(jax.random.PRNGKey(0))[None]
    finals, compiles = {}, []
    for steps in (37, 300, 1000):
        p = prepare(scene(steps=steps), surface, record=False)
        before = pieces.compile_count()
        outs = jax.device_get(pieces.simulate(p.plan, p.inputs, p.hps, p.starts, keys))
        compiles.append(pieces.compile_count() - before)
        finals[steps] = kernel.unpack_outputs(outs, surface.dim)[1]["final_position"]
    assert compiles[1:] == [0, 0]
    for steps, final in finals.items():
        recorded = run(scene(steps=steps))
        np.testing.assert_allclose(final[:6, 0, 0], recorded.position[:, 0, -1], rtol=1e-5)
