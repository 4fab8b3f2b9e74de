"""Lessons: every stage is a valid, light scene whose link reproduces it, and every number a
narration quotes is checked here by running the scene again.

Each lesson test quotes, in comments, the narration it guards. A quoted decimal is checked to its
rounding (``rounds_to``), a quoted step or count to within 2% (``at_step``: what a lesson shows
must not hang on the last bits of a float), and each lesson's main point once more with a wide
margin.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qs

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from app import labels, lessons, lessons_modern, share, state
from trajectories import Experiment, OptimizerSpec, limits, run

ALL_STAGES = [
    (lesson.id, k) for lesson in lessons.LESSONS.values() for k in range(len(lesson.stages))
]


@functools.cache
def _run(experiment_json: str):
    e = Experiment.from_json(experiment_json)
    return labels.attach(run(e), e)


def result(lesson_id: str, stage: int):
    return _run(lessons.stage_of(lesson_id, stage).experiment.to_json())


@functools.cache
def sweep(lesson_id: str, stage: int):
    return lessons.run_sweep(lessons.stage_of(lesson_id, stage))


def ensemble_names(lesson_id: str, stage: int) -> list[str]:
    """The names of a sweep's rows: the stage's enabled instances (the engine keeps order)."""
    return labels.names(lessons.stage_of(lesson_id, stage).experiment)


def instance(r, name: str) -> int:
    return r.names.index(name)


def first(mask) -> int:
    """The first index where ``mask`` holds (-1: nowhere)."""
    mask = np.asarray(mask)
    return int(np.argmax(mask)) if mask.any() else -1


def sign_flips(values) -> int:
    s = np.sign(np.asarray(values))
    return int(np.sum(s[1:] != s[:-1]))


def near(value, expected, rel=0.05) -> bool:
    return abs(float(value) - expected) <= rel * abs(expected)


def at_step(actual, quoted: int) -> bool:
    """A step (or a count) the narration quotes, to within 2% and at least one: what a lesson
    shows must not hang on the last bits of a float."""
    return abs(int(actual) - quoted) <= max(1, round(0.02 * quoted))


def rounds_to(value, text: str) -> bool:
    """``value`` written with as many decimals as ``text`` is ``text`` (a quoted number)."""
    decimals = len(text.partition(".")[2])
    return round(float(value), decimals) == float(text)


# ---- structure -----------------------------------------------------------------------------------
def test_lessons_with_unique_url_safe_ids():
    # the eight classic lessons, the edge of stability, and the newer optimizers' lessons that
    # this build can run
    offered = [m for m in lessons_modern.MODERN if lessons_modern.runnable(m)]
    assert len(lessons.LESSONS) == 9 + len(offered) >= 12
    for key, lesson in lessons.LESSONS.items():
        assert key == lesson.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", lesson.id), lesson.id
        assert lesson.title and lesson.summary.endswith(".")
        assert 2 <= len(lesson.stages) <= 4
        assert len({s.title for s in lesson.stages}) == len(lesson.stages)


@pytest.mark.parametrize(("lesson_id", "k"), ALL_STAGES)
def test_every_stage_is_a_valid_light_scene(lesson_id, k):
    s = lessons.stage_of(lesson_id, k)
    e = s.experiment
    surface = e.validate()
    assert s.view in share.VIEWS
    assert 1 <= len(e.active()) <= 8 and e.steps <= 3000
    assert all(o.name and o.color for o in e.optimizers), "name and colour every instance"
    # 2 to 5 sentences ("et al." is no sentence end)
    sentences = len(re.findall(r"[.?!](\s|$)", s.narration.replace("et al. ", "et al ")))
    assert 2 <= sentences <= 5, (s.title, sentences)
    assert s.narration.count("$") % 2 == 0, "unbalanced LaTeX"
    if s.sweep is not None:
        assert s.sweep in lessons.SWEEPS and s.view == "sweeps"
        if s.sweep == "ensemble":
            assert surface.stochastic or e.noise > 0
        else:
            assert surface.dim == 2
    if s.frame is not None:  # frames are records; every frame-bearing scene records each step
        r = result(lesson_id, k)
        assert r.stride == 1 and 0 <= s.frame < len(r.steps)


def test_stages_of_a_lesson_share_the_surface():
    for lesson in lessons.LESSONS.values():
        assert len({s.experiment.surface for s in lesson.stages}) == 1, lesson.id


def test_instances_keep_their_colour_across_a_lesson():
    for lesson in lessons.LESSONS.values():
        colours: dict[str, str] = {}
        for s in lesson.stages:
            for o in s.experiment.optimizers:
                assert colours.setdefault(o.name, o.color) == o.color, (lesson.id, o.name)


@pytest.mark.parametrize(("lesson_id", "k"), ALL_STAGES)
def test_the_link_reproduces_the_stage(lesson_id, k):
    qs = lessons.link(lesson_id, k)
    assert len(qs) < limits.MAX_LINK_CHARS
    scene, warnings = share.decode(parse_qs(qs, keep_blank_values=True))
    assert warnings == []
    s = lessons.stage_of(lesson_id, k)
    assert lessons.effective(scene.experiment) == lessons.effective(s.experiment)
    assert run(scene.experiment).final_loss.tobytes() == result(lesson_id, k).final_loss.tobytes()
    assert (scene.lesson, scene.stage) == (lesson_id, k)
    assert (scene.view, scene.frame) == (s.view, s.frame)
    assert scene.present and scene.hide == ("sidebar",)
    assert lessons.is_as_written(scene)
    changed = with_doubled_lr(scene.experiment)
    assert not lessons.is_as_written(share.Scene(changed, lesson=lesson_id, stage=k))
    # the page's widgets drop defaults too: loading a stage into them keeps it as written
    widgets: dict = {}
    state.write(widgets, s.experiment)
    read = state.read(widgets).experiment
    assert read is not None
    assert lessons.is_as_written(share.Scene(read, lesson=lesson_id, stage=k))


def with_doubled_lr(e: Experiment) -> Experiment:
    """``e`` with its first optimizer's learning rate doubled: a teacher's edit."""
    o = e.optimizers[0]
    lr = o.values()["learning_rate"]
    changed = OptimizerSpec(o.kind, {**o.hyperparams, "learning_rate": lr * 2}, o.name, o.color)
    return e.replace(optimizers=(changed, *e.optimizers[1:]))


def test_link_options_and_lookup_errors():
    qs = lessons.link("momentum", 1, present=False, hide=())
    scene, _ = share.decode(parse_qs(qs))
    assert not scene.present and scene.hide == () and scene.stage == 1
    with pytest.raises(ValueError, match="learning-rate"):
        lessons.get("no-such-lesson")
    with pytest.raises(ValueError, match="stages 0 to 2"):
        lessons.stage_of("momentum", 3)
    assert not lessons.is_as_written(share.Scene(scene.experiment, lesson="nope"))


# ---- 1. the learning rate ------------------------------------------------------------------------
def test_learning_rate_lesson():
    r = result("learning-rate", 3)  # all four rates
    s = r.surface
    x, y = np.asarray(s.data["x"]), np.asarray(s.data["y"])
    fit = s.minima[0]
    small, medium, large, huge = (instance(r, n) for n in ("lr 0.01", "lr 0.1", "lr 0.5", "lr 1.0"))
    pos, loss = r.position[:, 0], r.loss[:, 0]
    # "from its random start (-0.35, -1.37)", "the loss falls from 12.8", "fit y = 1.99x + 1.02",
    # "its minimum of 0.0099"
    assert rounds_to(pos[small, 0, 0], "-0.35") and rounds_to(pos[small, 0, 1], "-1.37")
    assert rounds_to(loss[small, 0], "12.8")
    assert np.allclose(fit, (1.99, 1.02), atol=0.005) and near(s.optimal_value, 0.0099, 0.01)
    # the curvatures: "0.134 ... against 2.48", "stable only below 2/λmax ≈ 0.81"
    hessian = 2 * np.stack([x, np.ones_like(x)], 1).T @ np.stack([x, np.ones_like(x)], 1) / len(x)
    low, high = np.linalg.eigvalsh(hessian)
    assert near(low, 0.134, 0.005) and near(high, 2.48, 0.005) and near(2 / high, 0.81, 0.01)

    # 0.01: "falls steadily", "after 100 epochs y = 1.09x + 1.19", "0.146, 15 times its minimum"
    assert np.all(np.diff(loss[small]) <= 0)
    assert np.allclose(pos[small, -1], (1.09, 1.19), atol=0.005)
    assert near(loss[small, -1], 0.146, 0.01) and 14 < loss[small, -1] / s.optimal_value < 16
    assert r.hit_step[small, 0] == -1
    # "ten times the learning rate, ten times the progress per step" (the first step)
    assert np.allclose(pos[medium, 1] - pos[medium, 0], 10 * (pos[small, 1] - pos[small, 0]))
    # 0.1: "after 10 epochs past where lr 0.01 gets in 100 (0.105 against 0.146)", "loss 0.0145",
    # "y = 1.76x + 1.14, still 0.26 away from the fit"
    assert loss[medium, 10] < loss[small, -1] and near(loss[medium, 10], 0.105, 0.01)
    assert near(loss[medium, -1], 0.0145, 0.01) and np.allclose(
        pos[medium, -1], (1.76, 1.14), 0, 6e-3
    )
    assert near(r.distance_to_minimum[medium, 0], 0.26, 0.02)
    # 0.5: "at epoch 1 the line y = 1.50x + 2.13 lies above every data point", "zigzag back",
    # "the loss still falls at every epoch", "within 0.001 of its minimum at epoch 31",
    # "ends on the least-squares fit"
    w1, w2 = pos[large, 1]
    assert np.allclose((w1, w2), (1.50, 2.13), atol=0.005) and np.all(w1 * x + w2 > y)
    across = (pos[large, :7] - fit) @ np.linalg.eigh(hessian)[1][:, 1]  # the steep direction
    assert np.allclose(across[1:] / across[:-1], 1 - 0.5 * high, atol=0.01)  # -0.24: zigzag
    assert np.all(np.diff(pos[large, :4, 1]) * [1, -1, 1] > 0)  # the intercept: up, down, up
    assert np.all(np.diff(loss[large]) <= 0)
    assert at_step(r.hit_step[large, 0], 31)
    assert r.distance_to_minimum[large, 0] < 0.002
    assert near(abs(1 - 0.5 * high), 0.24, 0.02)
    # 1.0: "the line flips from far above the data to far below and back", "the loss more than
    # doubles every epoch (12.8, 27.8, 60.8, 133)", "at epoch 7 the app stops it as diverged"
    above = [np.all(w[0] * x + w[1] > y) for w in pos[huge, 1:5]]
    below = [np.all(w[0] * x + w[1] < y) for w in pos[huge, 1:5]]
    assert above == [True, False, True, False] and below == [False, True, False, True]
    assert np.all(loss[huge, 1:6] / loss[huge, :5] > 2)
    assert np.allclose(loss[huge, :4], (12.8, 27.8, 60.8, 133), rtol=0.005)
    assert at_step(r.diverged_step[huge, 0], 7)


# ---- 2. momentum and Nesterov --------------------------------------------------------------------
def floor_gap(position) -> np.ndarray:
    """Height above Rosenbrock's valley floor y = x²."""
    return position[:, 1] - position[:, 0] ** 2


def test_momentum_lesson():
    r = result("momentum", 2)
    sgd, mom, nes = (instance(r, n) for n in ("SGD", "Momentum", "Nesterov"))
    pos, loss = r.position[:, 0], r.loss[:, 0]
    # SGD: "after 1000 steps it is at (-0.88, 0.79) with loss 3.56"
    assert np.allclose(pos[sgd, -1], (-0.88, 0.79), atol=0.005) and near(loss[sgd, -1], 3.56, 0.01)
    assert r.hit_step[sgd, 0] == -1
    # Momentum: "reaches the minimum at step 606", "at step 10 it has crossed the valley floor and
    # climbed 0.53 above it on the other side", "its loss (31.6) is almost five times what it was
    # at step 5", "it crosses the floor 63 times"
    gap = floor_gap(pos[mom])
    assert at_step(r.hit_step[mom, 0], 606)
    assert gap[0] < 0 and near(gap[10], 0.53, 0.01)
    assert near(loss[mom, 10], 31.6, 0.005) and 4.5 < loss[mom, 10] / loss[mom, 5] < 5
    assert at_step(sign_flips(gap), 63)
    # Nesterov: "after step 10 never more than 0.01 from the parabola (momentum strays up to
    # 0.59)", "crosses the floor 4 times", "its loss rises on a single step", "step 574"
    nes_gap = floor_gap(pos[nes])
    assert np.abs(nes_gap[10:]).max() < 0.0105
    assert near(np.abs(gap[10:]).max(), 0.59, 0.01)
    assert sign_flips(nes_gap) == 4
    assert int(np.sum(np.diff(loss[nes]) > 0)) == 1
    assert at_step(r.hit_step[nes, 0], 574)
    # the lesson's point, with margin: momentum leaves the floor far more, and its loss jumps
    assert np.abs(gap[10:]).max() > 20 * np.abs(nes_gap[10:]).max()
    best_so_far = np.minimum.accumulate(loss[mom])[:-1]
    assert (loss[mom, 1:] / best_so_far).max() > 20  # the loss climbs back up a wall
    assert (loss[nes, 1:] / np.minimum.accumulate(loss[nes])[:-1]).max() < 1.5


# ---- 3. Adagrad and RMSprop ----------------------------------------------------------------------
def test_adagrad_rmsprop_lesson():
    r = result("adagrad-rmsprop", 2)
    ada, rms = instance(r, "Adagrad"), instance(r, "RMSprop")
    x = r.position[:, 0, :, 0]
    lr_x = r.lr[:, 0, :, 0]
    width = r.surface.params["width"]
    # Record r holds the rate of the step taken from the point after r steps (frame r of the
    # Inside view): record 0 is the first step's rate, record 67 the last plateau step's.
    # Adagrad: "the rate only falls" (both weights, every step)
    assert np.all(np.diff(r.lr[ada, 0], axis=0) <= 0)
    # "its rate for x falling from 0.8 to 0.15, then runs down a steep cliff (steps 68 to 107)"
    on_cliff = np.flatnonzero(np.abs(x[ada]) < width)
    assert at_step(on_cliff[0], 68) and at_step(on_cliff[-1], 107)
    assert np.all(np.diff(on_cliff) == 1)  # one stretch
    assert near(lr_x[ada, 0], 0.8, 0.001) and near(lr_x[ada, 67], 0.15, 0.04)
    # "after the cliff its rate is 0.006, 130 times below where it began"
    assert near(lr_x[ada, -1], 0.006, 0.05) and 125 < lr_x[ada, 0] / lr_x[ada, -1] < 135
    # "after 1000 steps x is 0.79" (the minimum is at x = 2)
    assert near(x[ada, -1], 0.79, 0.01) and r.hit_step[ada, 0] == -1
    # stage 2, paused at step 150: "G = 1050: the 68 plateau steps added 1.9, the 40 cliff steps
    # 1048", "the gradient is small again (-0.08)". G at record r has taken in the gradients at
    # the points after 0 to r steps: the plateau's are records 0 to 67, the cliff's 68 to 107.
    G = r.state[ada]["accumulator"][0, :, 0]
    assert lessons.stage_of("adagrad-rmsprop", 1).frame == 150
    assert at_step(150 - on_cliff[-1], 43)
    assert at_step(len(on_cliff), 40) and at_step(on_cliff[0], 68)
    assert (
        near(G[150], 1050, 0.005) and near(G[67], 1.9, 0.02) and near(G[107] - G[67], 1048, 0.005)
    )
    assert near(r.grad[ada, 0, 150, 0], -0.08, 0.05)
    # RMSprop: "collapses on the cliff (to 0.0012, steps 127 to 191)", "52 steps later back
    # above its plateau value", "reaches the minimum at step 324", "its rate climbs to
    # η/√ε ≈ 63", "it hops across y = 0, 0.01 from the minimum"
    on_cliff = np.flatnonzero(np.abs(x[rms]) < width)
    assert at_step(on_cliff[0], 127) and at_step(on_cliff[-1], 191)
    plateau = lr_x[rms, on_cliff[0] - 1]  # the last plateau step's rate
    assert near(lr_x[rms].min(), 0.0012, 0.02) and lr_x[rms].min() < plateau / 100
    assert on_cliff[0] <= np.argmin(lr_x[rms]) <= on_cliff[-1]
    back = first((np.arange(len(r.steps)) > on_cliff[-1]) & (lr_x[rms] >= plateau))
    assert at_step(back - on_cliff[-1], 52)
    assert at_step(r.hit_step[rms, 0], 324)
    assert near(lr_x[rms, -1], 0.02 / np.sqrt(1e-7), 0.01)
    assert near(r.distance_to_minimum[rms, 0], 0.01, 0.01)
    assert sign_flips(r.position[rms, 0, -10:, 1]) == 9
    # the lesson's point, with margin: Adagrad's rate ends > 100x below its start, RMSprop's
    # ends above its start
    assert lr_x[ada, -1] < lr_x[ada, 0] / 100 and lr_x[rms, -1] > lr_x[rms, 0]


# ---- 4. Adam and AMSGrad -------------------------------------------------------------------------
def test_adam_amsgrad_lesson_without_noise():
    r = result("adam-amsgrad", 1)
    adam, ams = instance(r, "Adam"), instance(r, "AMSGrad")
    lr = r.lr[:, 0]
    beta_2 = 0.99
    # Adam: "from step 300 to step 1000 they rise 34-fold, from 0.011 to 0.36 for x",
    # "Adam reaches the target at step 414"
    assert np.all((lr[adam, -1] / lr[adam, 300] > 33) & (lr[adam, -1] / lr[adam, 300] < 35))
    assert near(lr[adam, 300, 0], 0.011, 0.02) and near(lr[adam, -1, 0], 0.36, 0.02)
    assert at_step(r.hit_step[adam, 0], 414)
    # AMSGrad: "v_max can never decrease", "rates rise only while the bias correction warms up",
    # "from 0.0040 to 0.0062 for x over the first 300 steps", "from step 300 to 1000 they change
    # by less than 3%", "reaches the target at step 641"
    assert np.all(np.diff(r.state[ams]["nu_max"][0], axis=0) >= 0)
    # record r's rate has its bias correction for r + 1 gradients (the last record repeats the
    # last step's rate: no step follows)
    t = r.steps[:-1, None] + 1
    without_warmup = lr[ams, :-1] / np.sqrt(1 - beta_2**t)
    assert np.all(np.diff(without_warmup, axis=0) <= 1e-6 * without_warmup[1:])
    assert near(lr[ams, 0, 0], 0.0040, 0.01) and near(lr[ams, 300, 0], 0.0062, 0.01)
    late = lr[ams, 300:]
    assert np.all(late.max(0) / late.min(0) < 1.03)
    assert at_step(r.hit_step[ams, 0], 641)
    # stage 1 shows Adam alone: the same Adam run
    assert np.array_equal(result("adam-amsgrad", 0).lr[0], r.lr[adam])


def test_adam_amsgrad_lesson_with_noise():
    r = result("adam-amsgrad", 2)
    adam, ams = instance(r, "Adam"), instance(r, "AMSGrad")
    late = r.lr[:, 0, 300:]
    # "after step 300 Adam's rate for y varies almost fourfold (0.0028 to 0.0105), while
    # AMSGrad's stays within 3%", "ends this run at loss 0.021, AMSGrad at 0.008"
    assert 3.5 < late[adam, :, 1].max() / late[adam, :, 1].min() < 4
    assert near(late[adam, :, 1].min(), 0.0028, 0.02) and near(late[adam, :, 1].max(), 0.0105, 0.01)
    assert np.all(late[ams].max(0) / late[ams].min(0) < 1.03)
    assert near(r.final_loss[adam, 0], 0.021, 0.02) and near(r.final_loss[ams, 0], 0.008, 0.02)
    # the ensemble: "AMSGrad's median loss is 0.0014 against Adam's 0.0048, and its 95th
    # percentile 0.0074 against 0.019"
    en = sweep("adam-amsgrad", 3)
    assert en.n_seeds == 64 and ensemble_names("adam-amsgrad", 3) == ["Adam", "AMSGrad"]
    median, q95 = en.loss[:, 2, -1], en.loss[:, 4, -1]
    assert near(median[1], 0.0014, 0.04) and near(median[0], 0.0048, 0.02)
    assert near(q95[1], 0.0074, 0.02) and near(q95[0], 0.019, 0.03)
    assert median[1] < median[0] / 2 and q95[1] < q95[0] / 2  # the point, with margin


# ---- 5. WAME -------------------------------------------------------------------------------------
def test_wame_lesson():
    r = result("wame", 2)
    adam, wame = instance(r, "Adam"), instance(r, "WAME")
    pos = r.position[:, 0]
    # Adam: "both weights start with the same stride, 0.05 per step, although the y gradient is
    # 20 times the x gradient", "y passes its minimum at step 12 and swings to -0.14", "the loss
    # rises on steps 13 to 18", "reaches the target at step 80"
    assert np.allclose(np.abs(pos[adam, 1] - pos[adam, 0]), 0.05, rtol=0.001)
    assert np.allclose(r.update[adam, 0, 0], pos[adam, 1] - pos[adam, 0])  # the first step
    g = r.grad[adam, 0, 0]  # the gradient at the start
    assert near(abs(g[1] / g[0]), 20, 0.001)
    assert at_step(first(pos[adam, :, 1] < 0), 12) and near(pos[adam, :, 1].min(), -0.14, 0.03)
    rises = np.flatnonzero(np.diff(r.loss[adam, 0]) > 0) + 1
    assert np.array_equal(rises[rises < 40], np.arange(13, 19))
    assert at_step(r.hit_step[adam, 0], 80)
    # WAME, paused at step 27 (frame 27 shows the step taken from there): "the stride in x is
    # 0.17, a hundred times its first step (0.0016)", "ζ reached its cap, 100, at step 26"
    assert lessons.stage_of("wame", 1).frame == 27
    stride = np.abs(r.update[wame, 0, :, 0])
    assert np.allclose(stride[:-1], np.abs(np.diff(pos[wame, :, 0])), rtol=1e-4, atol=1e-6)
    assert near(stride[0], 0.0016, 0.02) and near(stride[27], 0.17, 0.03)
    assert 95 < stride[27] / stride[0] < 110
    zeta, Z = r.state[wame]["zeta"][0], r.state[wame]["z"][0]
    assert at_step(first(zeta[:, 0] >= 100), 26) and np.all(zeta[26:28] == 100)
    # "at steps 28 and 29 the y gradient changes sign and ζ_y drops from 100 to 10 to 1, while
    # ζ_x stays at 100", paused at step 34: "Z_x = 76 and Z_y = 25; by step 40, 87 and 16",
    # "WAME reaches the target at step 40"
    assert lessons.stage_of("wame", 2).frame == 34
    gy = r.grad[wame, 0, :, 1]
    assert [t for t in range(1, 41) if gy[t] * gy[t - 1] < 0] == [28, 29]
    assert np.allclose(zeta[27:30, 1], (100, 10, 1)) and np.all(zeta[26:41, 0] == 100)
    assert np.allclose(Z[34], (76, 25), atol=0.5) and np.allclose(Z[40], (87, 16), atol=0.5)
    assert at_step(r.hit_step[wame, 0], 40)


# ---- 6. gradient noise ---------------------------------------------------------------------------
def test_gradient_noise_lesson():
    clean = result("gradient-noise", 0)
    sgd, adam = instance(clean, "SGD"), instance(clean, "Adam")
    # "curvature 1 along w1 and 0.01 along w2, started at (1, 1)"
    assert np.allclose(np.asarray(clean.surface.theta["h"]), (1, 0.01))
    assert np.allclose(clean.position[:, 0, 0], 1)
    # "SGD solves the steep direction in one step but shrinks the flat one by only 1% per step",
    # "reaches the target at step 81", "Adam gets there at step 23"
    w = clean.position[sgd, 0]
    assert np.all(w[1:, 0] == 0) and np.allclose(w[2:, 1] / w[1:-1, 1], 0.99)
    assert at_step(clean.hit_step[sgd, 0], 81) and at_step(clean.hit_step[adam, 0], 23)
    # one noisy run: "SGD ends at loss 0.018 and Adam at 0.043"
    noisy = result("gradient-noise", 1)
    assert near(noisy.final_loss[sgd, 0], 0.018, 0.03) and near(
        noisy.final_loss[adam, 0], 0.043, 0.01
    )
    # the ensemble: "SGD's median loss is 0.26 and its 95th percentile 2.9; Adam's are 0.0064
    # and 0.046, some 40 times lower", "seed 0 was a lucky draw for SGD"
    en = sweep("gradient-noise", 2)
    assert en.n_seeds == 64 and ensemble_names("gradient-noise", 2) == ["SGD", "Adam"]
    median, q95 = en.loss[:, 2, -1], en.loss[:, 4, -1]
    assert near(median[0], 0.26, 0.02) and near(q95[0], 2.9, 0.01)
    assert near(median[1], 0.0064, 0.01) and near(q95[1], 0.046, 0.01)
    assert 35 < median[0] / median[1] < 45 and q95[0] / q95[1] > 20
    assert noisy.final_loss[sgd, 0] < en.loss[0, 1, -1]  # below SGD's 25th percentile: lucky


# ---- 7. saddle -----------------------------------------------------------------------------------
def escape_step(r, a: int) -> int:
    """The first step with loss below -1 (the surface has no minimum)."""
    return first(r.loss[a, 0] < -1)


def test_saddle_lesson():
    r = result("saddle", 2)
    sgd, mom, adam = (instance(r, n) for n in ("SGD", "Momentum", "Adam"))
    pos = r.position[:, 0]
    # SGD: "each step multiplies x by 0.98 and y by only 1.02", "at step 100 it sits at
    # (-0.13, 0.0072)", "its loss first drops below -1 only at step 349"
    assert np.allclose(pos[sgd, 1:101] / pos[sgd, :100], (0.98, 1.02))
    assert rounds_to(pos[sgd, 100, 0], "-0.13") and rounds_to(pos[sgd, 100, 1], "0.0072")
    assert lessons.stage_of("saddle", 0).frame == 100
    assert at_step(escape_step(r, sgd), 349)
    # Momentum: "y grows by a factor of about 1.11 per step", "below -1 at step 72",
    # "the app calls that diverging (at step 94)"
    growth = (pos[mom, 50, 1] / pos[mom, 10, 1]) ** (1 / 40)
    assert rounds_to(growth, "1.11")
    assert at_step(escape_step(r, mom), 72) and at_step(r.diverged_step[mom, 0], 94)
    assert at_step(
        first(np.abs(pos[mom, :, 1]) > 2), 79
    )  # "leaves the plot soon after" (window ±2)
    # Adam: "y moves about 0.01 per step from the start (0.094 by step 10)", "below -1 at 80"
    assert np.allclose(np.diff(pos[adam, :11, 1]), 0.01, rtol=0.25)
    assert near(pos[adam, 10, 1], 0.094, 0.01) and at_step(escape_step(r, adam), 80)
    # the point, with margin: momentum and Adam escape > 4x sooner than gradient descent
    assert 4 * max(escape_step(r, mom), escape_step(r, adam)) < escape_step(r, sgd)


def test_saddle_ridge_needs_noise():
    e = lessons.stage_of("saddle", 3).experiment
    # "without noise no optimizer ever leaves y = 0"
    quiet = _run(e.replace(noise=0.0).to_json())
    assert np.all(quiet.position[:, 0, :, 1] == 0)
    # with noise: "momentum and Adam escape (loss below -1 at steps 68 and 81), while gradient
    # descent is only at y = 0.37 after 400 steps"
    r = result("saddle", 3)
    assert at_step(escape_step(r, instance(r, "Momentum")), 68)
    assert at_step(escape_step(r, instance(r, "Adam")), 81)
    sgd = instance(r, "SGD")
    assert escape_step(r, sgd) == -1 and near(r.position[sgd, 0, -1, 1], 0.37, 0.01)


# ---- 8. local and global minima ------------------------------------------------------------------
def test_local_minima_lesson():
    r = result("local-minima", 0)
    s = r.surface
    glob, loc = s.minima[0], s.local_minima[0]
    # "a wide, shallow one at (-1.36, -0.91) (loss -0.85) and a narrow, deep one at (1.48, 0.99)
    # (loss -1.84)"
    assert np.allclose(loc, (-1.36, -0.91), atol=0.005) and np.allclose(
        glob, (1.48, 0.99), atol=0.005
    )
    f = jax.jit(lambda w: s.fn(w, s.theta))
    assert near(f(jnp.asarray(loc)), -0.85, 0.005) and near(f(jnp.asarray(glob)), -1.84, 0.005)
    # "from (-3.5, -3) rolls into the wide well and stays there; from (3, 3) it reaches the
    # global minimum (target at step 40)"
    final = r.position[0, :, -1]
    assert np.linalg.norm(final[0] - loc) < 1e-3 and np.linalg.norm(final[1] - glob) < 1e-3
    assert r.hit_step[0, 0] == -1 and at_step(r.hit_step[0, 1], 40)
    # the map: "the wide well captures 68% of the starts, the deep one 32%"
    b = sweep("local-minima", 1)
    assert b.labels.shape == (64, 64)
    share_of = {k: float(np.mean(b.labels == k)) for k in (0, 1, -1, -2)}
    assert near(share_of[1], 0.68, 0.01) and near(share_of[0], 0.32, 0.02)
    assert share_of[-1] == share_of[-2] == 0


def test_a_large_step_cannot_settle_in_the_narrow_well():
    # "the deep well's curvature is about 8 (limit 0.25), the wide well's about 1.07 (limit 1.8)"
    s = result("local-minima", 2).surface
    hessian = jax.jit(jax.hessian(lambda w: s.fn(w, s.theta)))
    deep = np.linalg.eigvalsh(np.asarray(hessian(jnp.asarray(s.minima[0], jnp.float32))))
    wide = np.linalg.eigvalsh(np.asarray(hessian(jnp.asarray(s.local_minima[0], jnp.float32))))
    assert np.all(np.abs(deep - 8) < 0.15) and rounds_to(2 / deep.max(), "0.25")
    assert np.all(np.abs(wide - 1.07) < 0.02) and rounds_to(2 / wide.max(), "1.8")
    assert 2 / deep.max() < 0.3 < 2 / wide.max()
    # "no start reaches the global minimum any more: almost all of the 32% that went there now
    # never settle, while the wide well keeps its 68%"
    small, large = sweep("local-minima", 1).labels, sweep("local-minima", 2).labels
    assert np.all(large != 0)
    assert np.sum((small == 0) & (large == -1)) >= 0.99 * np.sum(small == 0)
    assert rounds_to(np.mean(large == 1), "0.68") and np.all(large[small == 1] == 1)
    # the path from (3, 3) keeps bouncing around the deep well
    r = result("local-minima", 2)
    assert r.hit_step[0, 1] == -1 and np.sum(np.diff(r.loss[0, 1, -50:]) > 0) > 10


def test_a_hand_typed_lesson_link_opens_the_stage_as_written():
    """``?lesson=momentum&stage=1``: links count stages from 1, as the page ("stage 1 of 3");
    without scene keys the stage's own scene, view and frame, with them the link's."""
    for k, s in enumerate(lessons.get("momentum").stages):
        query = {"lesson": ["momentum"], "stage": [str(k + 1)]}
        warnings: list[str] = []
        scene = lessons.opened(share.decode(query)[0], query, warnings)
        assert warnings == [] and scene.stage == k
        assert lessons.effective(scene.experiment) == lessons.effective(s.experiment)
        assert (scene.view, scene.frame) == (s.view, s.frame)
        assert lessons.is_as_written(scene)
    query = {"lesson": ["momentum"], "stage": ["2"], "n": ["50"]}
    scene = lessons.opened(share.decode(query)[0], query, [])
    assert scene.experiment.steps == 50 and not lessons.is_as_written(scene)
    warnings = []
    query = {"lesson": ["nope"]}
    assert lessons.opened(share.decode(query)[0], query, warnings).lesson is None
    assert warnings == ["lesson 'nope' not found"]
