"""The lessons on the newer optimizers (``app/lessons_modern.py``): every number a narration quotes
is checked by running its scene again, and each rule a narration states (Lion's step is
-lr * sign(c_t); Rprop's step size and WAME's acceleration follow the sign agreement of successive
gradients) is checked at every step of the run. The structural checks every lesson passes (valid
light scenes, links that reproduce them, ``?lesson=NAME&stage=N``) run in
``tests/test_lessons.py`` over ``lessons.LESSONS``, which holds these lessons too.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optimizers
from app import lessons, lessons_modern, payload, share, surface_image
from tests.test_lessons import at_step, first, instance, near, result, rounds_to, sweep

OFFERED = ("rprop-wame", "lion", "schedule-free", "lbfgs-adam")
TINY = 1e-30  # products of gradients below this are under float32's normal range (1.2e-38)


def test_the_modern_lessons_are_offered_once_their_optimizers_are_registered():
    for lesson_id in OFFERED:
        assert lesson_id in lessons.LESSONS
    lbfgs = lessons_modern.LBFGS_ADAM
    assert lessons_modern.runnable(lbfgs) == ("LBFGS" in optimizers.registry.OPTIMIZERS)
    assert (lbfgs.id in lessons.LESSONS) == lessons_modern.runnable(lbfgs)


@pytest.mark.parametrize("lesson_id", OFFERED)
def test_every_stage_opens_from_a_hand_typed_link(lesson_id):
    """``?lesson=NAME&stage=N`` counts stages from 1 and opens the stage as written."""
    for k, s in enumerate(lessons.get(lesson_id).stages):
        query = parse_qs(f"lesson={lesson_id}&stage={k + 1}")
        warnings: list[str] = []
        scene = lessons.opened(share.decode(query)[0], query, warnings)
        assert warnings == [] and scene.stage == k
        assert (scene.view, scene.frame) == (s.view, s.frame)
        assert lessons.is_as_written(scene)


# ---- Rprop then WAME -----------------------------------------------------------------------------
def rprop_follows_the_signs(r, a: int) -> None:
    """Rprop (optax's iRprop-): Delta_t is Delta_{t-1} times 1.2 when g_t agrees in sign with the
    previous signed step p_{t-1}, times 0.5 when it disagrees (clipped to its bounds), unchanged
    when p_{t-1} = 0 (after a flip); it moves by -p_{t-1}, 0 on a flip."""
    values = r.experiment.optimizers[a].values()
    size, prev = (r.state[a][f][0].astype(np.float64) for f in ("step_sizes", "prev_updates"))
    g = r.grad[a, 0].astype(np.float64)
    agreement = g[1:] * prev[:-1]
    factor = np.where(agreement > 0, values["eta_plus"], values["eta_minus"])
    bounded = np.clip(size[:-1] * factor, values["min_step_size"], values["max_step_size"])
    expected = np.where(agreement == 0, size[:-1], bounded)
    seen = (np.abs(agreement[:-1]) > TINY) | (agreement[:-1] == 0)  # float32's range, as WAME's
    assert seen.mean() > 0.5
    assert np.allclose(size[1:-1][seen], expected[:-1][seen], rtol=1e-5, atol=0)  # last: no step
    # p_t = Delta_t sign(g_t), or 0 after a flip: each move is a step size times -sign(g)
    signed = np.where(agreement < 0, 0, size[1:] * np.sign(g[1:]))
    assert np.allclose(prev[1:-1], signed[:-1], rtol=1e-5, atol=0)
    steps = r.update[a, 0, 1:-1]
    assert np.allclose(steps, np.where(agreement[:-1] < 0, 0, -prev[:-2]), rtol=1e-5, atol=1e-12)


def wame_follows_the_signs(r, a: int) -> None:
    """WAME: zeta_t is zeta_{t-1} times 1.2 when g_t g_{t-1} > 0, times 0.1 when < 0, within
    [0.01, 100] (the declared defaults), unchanged when the product is 0."""
    values = r.experiment.optimizers[a].values()
    zeta = r.state[a]["zeta"][0].astype(np.float64)
    g = r.grad[a, 0].astype(np.float64)
    agreement = g[1:] * g[:-1]
    grown = np.minimum(zeta[:-1] * values["eta_plus"], values["zeta_max"])
    cut = np.maximum(zeta[:-1] * values["eta_minus"], values["zeta_min"])
    expected = np.where(agreement > 0, grown, np.where(agreement < 0, cut, zeta[:-1]))
    # where the product of two gradients is below float32's normal range (both ~1e-20 once a
    # weight has converged) the engine's float32 sign test sees 0: those steps are not checked
    seen = np.abs(agreement[:-1]) > TINY
    assert seen.mean() > 0.5
    assert np.allclose(zeta[1:-1][seen], expected[:-1][seen], rtol=1e-5)  # the last: no step
    assert (values["eta_plus"], values["eta_minus"]) == (1.2, 0.1)


def flips(g, upto: int) -> list[int]:
    return [t for t in range(1, upto + 1) if g[t] * g[t - 1] < 0]


def test_rprop_wame_lesson_without_noise():
    r = result("rprop-wame", 1)
    rp, wa = instance(r, "Rprop"), instance(r, "WAME")
    size = r.state[rp]["step_sizes"][0]
    g = r.grad[rp, 0]
    # "each weight moves by its own step size Δ in the direction of -sign(g)", "Δ grows by 1.2
    # at each step the weight's gradient keeps its sign and halves when it flips"
    rprop_follows_the_signs(r, rp)
    # "both step sizes grow from 0.01 until y's gradient first flips at step 15", "Δx keeps
    # growing to 0.55 at step 22", "Rprop reaches the target at step 32"
    assert flips(g[:, 1], 100)[0] == 15 and flips(g[:, 0], 22) == []
    assert np.allclose(size[:15], 0.01 * 1.2 ** np.arange(15)[:, None], rtol=1e-3)
    assert np.allclose(size[:23, 0], 0.01 * 1.2 ** np.arange(23), rtol=1e-3)
    assert rounds_to(size[:, 0].max(), "0.55") and np.argmax(size[:, 0]) == 22
    assert at_step(r.hit_step[rp, 0], 32)
    # WAME: "ζ follows the same sign agreement as Rprop's Δ: times 1.2 ..., cut (times 0.1)"
    wame_follows_the_signs(r, wa)
    # paused at step 30: "after the y gradient's flips at steps 28 and 29: ζ_y fell a hundredfold
    # (100 to 1), but Z_y only from 50 to 41 and WAME's rate for y by 8%, where each of Rprop's
    # 7 flips in 40 steps halved its Δ_y"
    assert lessons.stage_of("rprop-wame", 1).frame == 30
    zeta, Z = r.state[wa]["zeta"][0], r.state[wa]["z"][0]
    gw = r.grad[wa, 0, :, 1]
    assert flips(gw, 30) == [28, 29]
    assert zeta[27, 1] == 100 and zeta[29, 1] == 1
    assert rounds_to(Z[27, 1], "50") and rounds_to(Z[29, 1], "41")
    assert rounds_to(1 - r.lr[wa, 0, 29, 1] / r.lr[wa, 0, 27, 1], "0.08")
    rprop_flips = flips(g[:, 1], 40)
    assert len(rprop_flips) == 7
    for t in rprop_flips:
        assert near(size[t, 1] / size[t - 1, 1], 0.5, 1e-4)
    # the point, with margin: two flips cost WAME's rate < 10%, one costs Rprop's 50%
    assert r.lr[wa, 0, 29, 1] > 0.9 * r.lr[wa, 0, 27, 1]
    assert at_step(r.hit_step[wa, 0], 40)
    # stage 1 shows Rprop alone: the same run
    assert np.array_equal(result("rprop-wame", 0).position[0], r.position[rp])


def test_rprop_wame_lesson_with_noise():
    r = result("rprop-wame", 2)
    rp, wa = instance(r, "Rprop"), instance(r, "WAME")
    size = r.state[rp]["step_sizes"][0]
    # "every flip halves Rprop's step", "WAME cuts ζ on the same kind of flips"
    rprop_follows_the_signs(r, rp)
    wame_follows_the_signs(r, wa)
    # "by step 104 both step sizes are at their floor, 10^-6, and Rprop stays frozen at
    # x = -0.19 (loss 0.020)"
    floor = r.experiment.optimizers[rp].values()["min_step_size"]
    assert floor == 1e-6
    frozen = first(np.all(size <= floor * (1 + 1e-5), axis=1))
    assert at_step(frozen, 104)
    assert np.abs(r.update[rp, 0, frozen:]).max() < 1e-5
    assert rounds_to(r.position[rp, 0, -1, 0], "-0.19") and rounds_to(r.final_loss[rp, 0], "0.020")
    # "its averages reach the target at step 40 and it ends 0.005 from the minimum"
    assert at_step(r.hit_step[wa, 0], 40) and rounds_to(r.distance_to_minimum[wa, 0], "0.005")
    # the point, with margin: Rprop never gets there, WAME ends far below it
    assert r.hit_step[rp, 0] == -1 and r.final_loss[wa, 0] < r.final_loss[rp, 0] / 10


# ---- Lion ----------------------------------------------------------------------------------------
def lion_direction(r, a: int) -> np.ndarray:
    """c_t = beta_1 m_{t-1} + (1 - beta_1) g_t from the recorded momentum (m_{-1} = 0)."""
    b1 = r.experiment.optimizers[a].values()["beta_1"]
    m = r.state[a]["momentum"][0].astype(np.float64)
    previous = np.vstack([np.zeros_like(m[:1]), m[:-1]])
    return b1 * previous + (1 - b1) * r.grad[a, 0]


def test_lion_lesson():
    r = result("lion", 2)
    adam, lion = instance(r, "Adam"), instance(r, "Lion")
    values = r.experiment.optimizers[lion].values()
    lr, b2 = values["learning_rate"], values["beta_2"]
    c, g, pos = lion_direction(r, lion), r.grad[lion, 0], r.position[lion, 0]
    # "Lion's step is -η sign(c_t)": at every step, each weight by exactly η = 0.02
    assert lr == 0.02
    assert np.allclose(r.update[lion, 0, :-1], -lr * np.sign(c[:-1]), rtol=1e-6, atol=0)
    assert np.all(np.abs(r.update[lion, 0, :-1]) == np.float32(lr))
    m = r.state[lion]["momentum"][0]  # m_t = beta_2 m_{t-1} + (1 - beta_2) g_t
    assert np.allclose(m[1:-1], b2 * m[:-2] + (1 - b2) * g[1:-1], rtol=1e-4, atol=1e-7)
    # "at the start the y gradient is 6 times the x gradient, yet the path runs at 45 degrees,
    # y and x both 0.02 per step, until y reaches 0 at step 76"
    assert near(abs(g[0, 1] / g[0, 0]), 6, 1e-4)
    assert at_step(first(pos[:, 1] < 0), 76)
    assert np.allclose(r.update[lion, 0, :76], (lr, -lr))
    # paused at step 90: "y has passed its minimum and the y gradient points back, but Lion
    # still moves down", "c_t keeps its sign for 40 steps after the gradient has flipped (steps
    # 76 to 115)", "y overshoots to -0.82 and only returns above 0 at step 157"
    assert lessons.stage_of("lion", 1).frame == 90
    assert pos[90, 1] < 0 and g[90, 1] < 0 and r.update[lion, 0, 90, 1] < 0
    against = [t for t in range(40, 150) if np.sign(c[t, 1]) != np.sign(g[t, 1])]
    assert against == list(range(76, 116))
    assert rounds_to(pos[:, 1].min(), "-0.82")
    assert at_step(first((np.arange(len(pos)) > 116) & (pos[:, 1] > 0)), 157)
    # stage 3: "Adam's loss never rises; Lion's rises on 138 of its 400 steps", "reaches the
    # target first (step 239, Adam 255)", "over the last 50 steps it hops around the minimum,
    # at most 0.02 from it in each weight", "loss 0.0022 against Adam's 1.2e-7"
    assert np.all(np.diff(r.loss[adam, 0]) <= 0)
    assert at_step(np.sum(np.diff(r.loss[lion, 0]) > 0), 138)
    assert at_step(r.hit_step[lion, 0], 239) and at_step(r.hit_step[adam, 0], 255)
    off = np.abs(pos[-50:] - r.surface.minima[0])
    assert off.max() <= lr * (1 + 1e-3) and off.max(axis=0).min() > 0.9 * lr
    assert rounds_to(r.final_loss[lion, 0], "0.0022") and near(r.final_loss[adam, 0], 1.2e-7, 0.05)
    # the point, with margin: Adam settles > 1000x lower
    assert r.final_loss[adam, 0] < r.final_loss[lion, 0] / 1000
    assert np.array_equal(result("lion", 0).position[0], r.position[lion])


# ---- schedule-free against a cosine schedule -----------------------------------------------------
def average_x(r, a: int) -> np.ndarray:
    """Schedule-free's x after each record's step, from y and z (the state after that step):
    x = (y - (1 - beta_1) z) / beta_1, as ``optimizers.schedule_free.averaged_weights``."""
    b1 = r.experiment.optimizers[a].values()["beta_1"]
    y = r.position[a, 0].astype(np.float64) + r.update[a, 0]
    return (y - (1 - b1) * r.state[a]["z"][0]) / b1


def path_length(p) -> float:
    return float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1)))


def test_schedule_free_lesson():
    r = result("schedule-free", 2)
    constant, cosine, free = (instance(r, n) for n in ("Adam", "Adam cosine", "Schedule-free"))
    # constant: "reaches the target at step 118", "over the last 500 steps their median length
    # is 0.010", "its loss over the last 200 steps averages 0.029"
    assert at_step(r.hit_step[constant, 0], 118)
    lengths = np.linalg.norm(r.update[constant, 0, -501:-1], axis=1)
    assert rounds_to(np.median(lengths), "0.010")
    assert rounds_to(r.loss[constant, 0, -200:].mean(), "0.029")
    # cosine: "falls from 0.05 to 0 along half a cosine over the 1000 steps (0.025 at step
    # 500)", "ends at loss 2.1e-5, against 0.039 at the constant rate"
    rate = optimizers.declare.learning_rate_at(lessons_modern.COSINE, np.array([0, 500, 1000]))
    assert np.allclose(rate, (0.05, 0.025, 0.0), atol=1e-7)
    assert near(r.final_loss[cosine, 0], 2.1e-5, 0.03)
    assert rounds_to(r.final_loss[constant, 0], "0.039")
    # schedule-free: "over the last 500 steps x moves 6.6 times less than y", "at step 1000
    # its loss is 0.0010, a tenth of y's (0.012)"
    x = average_x(r, free)
    s = r.surface
    f = jax.jit(jax.vmap(lambda w: s.fn(w, s.theta)))
    fx = np.asarray(f(jnp.asarray(x, jnp.float32)))
    y = r.position[free, 0]
    assert rounds_to(path_length(y[500:]) / path_length(x[500:]), "6.6")
    assert rounds_to(fx[-1], "0.0010") and rounds_to(r.final_loss[free, 0], "0.012")
    # the dashed line the page draws is this x
    doc = payload.build(r, surface_image.render(s))
    drawn = payload.decode(doc["optimizers"][free]["average_path"])[0]
    assert np.allclose(drawn, s.project(x), atol=1e-5)
    assert "average_path" not in doc["optimizers"][cosine]


def test_schedule_free_ensemble():
    # "at step 500 schedule-free's median loss is 0.0037 against the cosine's 0.0049 and the
    # constant rate's 0.011", "at step 1000 it wins: 0.00085 against 0.0033, the constant rate
    # is at 0.013"
    en = sweep("schedule-free", 3)
    assert en.n_seeds == 64
    median = en.loss[:, 2]
    half, end = (int(np.flatnonzero(en.steps == k)[0]) for k in (500, 1000))
    constant, cosine, free = median[:, half]
    assert near(free, 0.0037, 0.02) and near(cosine, 0.0049, 0.02) and rounds_to(constant, "0.011")
    constant, cosine, free = median[:, end]
    assert near(cosine, 0.00085, 0.02) and near(free, 0.0033, 0.02) and rounds_to(constant, "0.013")
    # the point, with margin: schedule-free is ahead halfway, the annealed cosine at its end
    assert median[2, half] < 0.8 * median[1, half] and median[1, end] < median[2, end] / 2


def test_the_averaged_sequence_is_the_optimizers_own():
    """x drawn from the records equals ``averaged_weights`` of the optimizer run by hand."""
    from trajectories import Experiment, OptimizerSpec, run

    e = Experiment(
        surface="elliptic_bowl",
        surface_params={"condition": 10.0},
        optimizers=(OptimizerSpec("ScheduleFreeAdamW", {"learning_rate": 0.05}),),
        starts=((-2.5, 1.5),),
        steps=60,
    )
    r = run(e)
    s = r.surface
    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.05)
    w = jnp.asarray((-2.5, 1.5), jnp.float32)
    state = opt.init(w)
    grad = jax.grad(lambda w: s.fn(w, s.theta))
    xs = []
    for _ in range(60):
        u, state = opt.update(grad(w), state, w)
        w = w + u
        xs.append(np.asarray(optimizers.schedule_free.averaged_weights(w, state)))
    assert np.allclose(average_x(r, 0)[:60], np.stack(xs), rtol=1e-4, atol=1e-5)


# ---- L-BFGS against Adam in Rosenbrock's valley ---------------------------------------------
def test_lbfgs_lesson():
    r = result("lbfgs-adam", 1)
    adam, lbfgs = instance(r, "Adam"), instance(r, "L-BFGS")
    assert r.experiment.tolerance == 1e-3 and r.surface.minima[0].tolist() == [1.0, 1.0]
    # Adam: "at step 300 Adam is still at x = 0.45", "reaches the target (a loss within 1e-3 of
    # the minimum's) at step 722, after 722 evaluations of the loss and its gradient, one a step"
    assert r.experiment.optimizers[adam].values()["learning_rate"] == 0.2
    assert rounds_to(r.position[adam, 0, 300, 0], "0.45")
    hit_adam, hit = r.hit_step[adam, 0], r.hit_step[lbfgs, 0]
    assert at_step(hit_adam, 722)
    assert r.loss[adam, 0, hit_adam] <= 1e-3 < r.loss[adam, 0, hit_adam - 1]
    assert r.evaluations[adam, 0] == len(r.steps) - 1  # one a step, over the whole run
    # L-BFGS: "keeps its last 10 steps", "reaches the target at step 37, 20 times fewer steps
    # than Adam", "its 37 steps cost 89 evaluations, still 8 times fewer than Adam's 722"
    assert r.experiment.optimizers[lbfgs].values()["memory_size"] == 10
    assert at_step(hit, 37) and round(hit_adam / hit) == 20
    alpha = r.state[lbfgs]["step_size"][0][:, 0]  # record t: the search of step t
    n = r.state[lbfgs]["evaluations"][0][:, 0]
    # each step: one evaluation at the weights and n_k in the search; over the whole run this
    # is the engine's own count
    assert np.sum(1 + n[:-1]) == r.evaluations[lbfgs, 0]
    to_target = int(np.sum(1 + n[:hit]))
    assert at_step(to_target, 89) and round(hit_adam / to_target) == 8
    # paused at step 8: "at step 7 it lengthened the step to 1.6", "at step 8 it took 4
    # evaluations to cut it to 0.028"
    assert lessons.stage_of("lbfgs-adam", 2).frame == 8
    assert rounds_to(alpha[7], "1.6") and n[8] == 4 and rounds_to(alpha[8], "0.028")
    assert np.linalg.norm(r.update[lbfgs, 0, 7]) > 0.8  # "jumped down the valley"
    # "of the 37 steps to the target, 26 take the full step alpha = 1, 9 shorten it and 2
    # lengthen it; from step 32 to the target ... every search accepts the full step at its
    # first evaluation"
    searched = alpha[:hit]
    assert [np.sum(searched == 1), np.sum(searched < 1), np.sum(searched > 1)] == [26, 9, 2]
    assert np.all(alpha[32:hit] == 1) and np.all(n[32:hit] == 1) and alpha[31] != 1
    # the point, with margin: > 10x fewer steps and > 5x fewer evaluations than Adam
    assert hit < hit_adam / 10 and to_target < hit_adam / 5
    # stage 1 shows Adam alone: the same run
    assert np.array_equal(result("lbfgs-adam", 0).position[0], r.position[adam])
