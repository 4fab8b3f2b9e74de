"""Lessons: short stories in stages, each stage a scene to run with a few sentences of narration.

A :class:`Lesson` is a title, a one-sentence summary for the gallery and two to four
:class:`Stage` objects. A stage holds the *whole* scene (an :class:`~trajectories.Experiment`
with named, coloured instances), the view to open, the frame to pause at when the stage is
about a moment, and the sweep to show when it is about many runs. Every number in a narration
was measured on the scene it describes, and ``tests/test_lessons.py`` runs each scene again and
checks it: a lesson cannot drift from what it shows. The lessons on the newer optimizers are in
``app/lessons_modern.py`` (a lesson is offered once every optimizer it runs is registered); the
types and colours in ``app/lesson_types.py``.

``link(lesson_id, stage)`` is the share link of a stage (presentation mode, sidebar hidden by
default): the scene travels in the link itself, so every student runs the same experiment, with
the same seed (bit for bit on one platform; README, "Sharing and the classroom"). Pure data
and small helpers: no Streamlit here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from app import labels, lessons_modern
from app.lesson_types import (
    BLUE,
    BROWN,
    GREEN,
    GREY,
    ORANGE,
    PINK,
    PURPLE,
    RED,
    SWEEPS,  # noqa: F401  (lessons.SWEEPS: the sweeps a stage may show)
    Lesson,
    Stage,
    bowl,
    valley,
)
from app.lesson_types import opt as _opt
from app.share import Scene, has_scene_keys, query_string
from trajectories import Experiment, OptimizerSpec


# ---- 1. The learning rate (the figure of the kerasy optimizers documentation) --------------------
def _regression(*specs: OptimizerSpec) -> Experiment:
    """The kerasy regression from its documented random start, 100 full-batch epochs."""
    return Experiment(surface="linear_regression", optimizers=specs, steps=100)


LR_SMALL = _opt("SGD", "lr 0.01", BLUE, learning_rate=0.01)
LR_MEDIUM = _opt("SGD", "lr 0.1", GREEN, learning_rate=0.1)
LR_LARGE = _opt("SGD", "lr 0.5", ORANGE, learning_rate=0.5)
LR_TOO_LARGE = _opt("SGD", "lr 1.0", RED, learning_rate=1.0)

LEARNING_RATE = Lesson(
    id="learning-rate",
    title="The learning rate: too small, large, too large",
    summary="The kerasy documentation's regression, y = 2x + 1, fitted by gradient descent with "
    "learning rates 0.01, 0.1 and 0.5, and one rate that breaks it.",
    stages=(
        Stage(
            "Too small: 0.01",
            "Gradient descent fits the line $y = w_1 x + w_2$ to the kerasy documentation's 100 "
            "points ($y = 2x + 1$ plus noise), from its random start $(w_1, w_2) = (-0.35, "
            "-1.37)$. With learning rate 0.01 every step is cautious: the loss falls steadily "
            "from 12.8, but after 100 epochs the line is still $y = 1.09x + 1.19$, far from the "
            "least-squares fit $y = 1.99x + 1.02$, and the loss, 0.146, is 15 times its "
            "minimum of 0.0099. Watch the fitted line creep up towards the data.",
            _regression(LR_SMALL),
        ),
        Stage(
            "Ten times larger: 0.1",
            "Ten times the learning rate, ten times the progress per step: after 10 epochs "
            "lr 0.1 is already past where lr 0.01 gets in 100 (loss 0.105 against 0.146). "
            "After 100 epochs its loss is 0.0145, yet the line, $y = 1.76x + 1.14$, is still "
            "0.26 away from the fit. What is left is a slow pivot: raising the slope while "
            "lowering the intercept barely changes the loss (its curvature in that direction "
            "is 0.134, against 2.48 across it), so the gradient there is small.",
            _regression(LR_SMALL, LR_MEDIUM),
        ),
        Stage(
            "Large: 0.5 overshoots, then settles",
            "With lr 0.5 the very first step overshoots: paused at epoch 1, the line "
            "$y = 1.50x + 2.13$ lies above every data point (the intercept jumped from -1.37 "
            "past its best value, 1.02). The next few epochs zigzag back, the error across the "
            "steep direction flipping sign and shrinking by a factor $|1 - 0.5 \\cdot 2.48| "
            "= 0.24$ each time, while the loss still falls at every epoch. Of the documentation's "
            "three rates this one is best: the loss is within 0.001 of its minimum at epoch "
            "31, and the line ends on the least-squares fit.",
            _regression(LR_SMALL, LR_MEDIUM, LR_LARGE),
            frame=1,
        ),
        Stage(
            "Too large: 1.0 diverges",
            "Gradient descent on this loss is stable only while the learning rate stays "
            "below $2/\\lambda_{\\max} \\approx 0.81$, where $\\lambda_{\\max} = 2.48$ is the "
            "loss's largest curvature. At lr 1.0 each epoch multiplies the error across the "
            "steep direction by $1 - 2.48 = -1.48$: the line flips from far above the data to "
            "far below and back, the loss more than doubles every epoch (12.8, 27.8, 60.8, "
            "133, ...) and at epoch 7 the app stops the run as diverged.",
            _regression(LR_SMALL, LR_MEDIUM, LR_LARGE, LR_TOO_LARGE),
        ),
    ),
)


# ---- 2. Momentum and Nesterov in Rosenbrock's valley ---------------------------------------------


VALLEY_SGD = _opt("SGD", "SGD", GREY, learning_rate=5e-4)
VALLEY_MOMENTUM = _opt("Momentum", "Momentum", RED, learning_rate=5e-4, momentum=0.95)
VALLEY_NESTEROV = _opt("Nesterov", "Nesterov", BLUE, learning_rate=5e-4, momentum=0.95)

MOMENTUM = Lesson(
    id="momentum",
    title="Momentum overshoots; Nesterov looks ahead",
    summary="A heavy ball races along Rosenbrock's curved valley but swings up its walls; "
    "Nesterov's look-ahead keeps it on the valley floor.",
    stages=(
        Stage(
            "Gradient descent crawls",
            "Rosenbrock's valley is steep across and nearly flat along its floor, the parabola "
            "$y = x^2$, which curves up to the minimum at $(1, 1)$. From $(-1.5, 1.5)$, "
            "gradient descent with learning rate 0.0005 drops into the valley and then crawls "
            "along the floor, where the gradient is small: after 1000 steps it is at "
            "$(-0.88, 0.79)$ with loss 3.56, still far from the minimum.",
            valley(VALLEY_SGD),
        ),
        Stage(
            "Momentum: a heavy ball",
            "Momentum sums the gradients, $m_t = g_t + \\mu m_{t-1}$ with $\\mu = 0.95$, so on "
            "a steady slope its steps grow to $1/(1 - \\mu) = 20$ times those of gradient "
            "descent. It reaches the minimum (loss within 0.001) at step 606, but it swings "
            "from wall to wall on the way: paused at step 10 it has crossed the valley floor "
            "and climbed 0.53 above it on the other side, and its loss (31.6) is almost five "
            "times what it was at step 5. In 1000 steps it crosses the floor 63 times.",
            valley(VALLEY_SGD, VALLEY_MOMENTUM),
            frame=10,
        ),
        Stage(
            "Nesterov looks ahead",
            "Nesterov's momentum corrects its velocity with the gradient where the velocity is "
            "about to carry it (here in the form $w \\leftarrow w - \\eta(g_t + \\mu m_t)$), so "
            "it feels the far wall before it gets there. With the same learning rate and "
            "momentum it stays on the floor: after step 10 it is never more than 0.01 from the "
            "parabola (momentum strays up to 0.59), it crosses the floor 4 times instead of "
            "63, and its loss rises on a single step. It reaches the minimum at step 574.",
            valley(VALLEY_SGD, VALLEY_MOMENTUM, VALLEY_NESTEROV),
        ),
    ),
)


# ---- 3. Adagrad's learning rate decays for good; RMSprop forgets ---------------------------------
def _cliff(*specs: OptimizerSpec) -> Experiment:
    return Experiment(
        surface="plateau_cliff",
        surface_params={"height": 10.0, "width": 0.4},
        optimizers=specs,
        starts=((-3.0, 1.0),),
        steps=1000,
    )


CLIFF_ADAGRAD = _opt("Adagrad", "Adagrad", PURPLE, learning_rate=0.2)
CLIFF_RMSPROP = _opt("RMSprop", "RMSprop", GREEN, learning_rate=0.02)

ADAGRAD = Lesson(
    id="adagrad-rmsprop",
    title="Adagrad never forgets a cliff; RMSprop does",
    summary="Adagrad divides by the sum of every squared gradient, so one steep stretch "
    "shrinks its learning rate for good; RMSprop's moving average recovers.",
    stages=(
        Stage(
            "Rates that only shrink",
            "Adagrad divides each weight's step by the root of the sum of all its squared "
            "gradients so far, $\\eta/\\sqrt{G_t}$: the sum only grows, so the rate only falls. "
            "From $(-3, 1)$ it crosses a gentle plateau, its rate for $x$ falling from 0.8 to "
            "0.15, then runs down a steep cliff (steps 68 to 107). After the cliff its rate "
            "is 0.006, 130 times below where it began, and Adagrad crawls: after 1000 steps "
            "$x$ is 0.79, and the minimum is at $x = 2$.",
            _cliff(CLIFF_ADAGRAD),
        ),
        Stage(
            "After the cliff",
            "Paused at step 150, 43 steps past the cliff. Adagrad's accumulator for $x$ is "
            "$G = 1050$: the 68 plateau steps added 1.9 to it, the 40 steps on the cliff "
            "1048. On the floor the gradient is small again (-0.08), but it is still divided "
            "by $\\sqrt{1050}$. As the kerasy documentation says, once you update through a steep "
            "slope, the learning rate for that axis decreases for good.",
            _cliff(CLIFF_ADAGRAD),
            view="inside",
            frame=150,
        ),
        Stage(
            "RMSprop forgets",
            "RMSprop replaces the sum by a moving average, $v_t = \\rho v_{t-1} + (1 - \\rho) "
            "g_t^2$ with $\\rho = 0.9$, so an old gradient's weight halves about every 7 steps. "
            "Its rate for $x$ also collapses on the cliff (to 0.0012, steps 127 to 191), but 52 "
            "steps later it is back above its plateau value, and RMSprop reaches the minimum "
            "at step 324. There the gradient vanishes and its rate climbs to "
            "$\\eta/\\sqrt{\\varepsilon} \\approx 63$: a huge rate times a zero gradient is still "
            "a small step (it hops across $y = 0$, 0.01 from the minimum).",
            _cliff(CLIFF_ADAGRAD, CLIFF_RMSPROP),
        ),
    ),
)


# ---- 4. Adam and AMSGrad -------------------------------------------------------------------------
def _bowl10(*specs: OptimizerSpec, noise: float = 0.0) -> Experiment:
    return bowl(10.0, (-2.5, 1.5), *specs, steps=1000, noise=noise)


BOWL_ADAM = _opt("Adam", "Adam", ORANGE, learning_rate=0.01, beta_2=0.99)
BOWL_AMSGRAD = _opt("AMSGrad", "AMSGrad", BROWN, learning_rate=0.01, beta_2=0.99)

AMSGRAD = Lesson(
    id="adam-amsgrad",
    title="Adam's rate can grow; AMSGrad's cannot",
    summary="Adam's per-weight learning rate rises whenever gradients fade; AMSGrad divides by "
    "the largest average seen, which pays off once the gradients are noisy.",
    stages=(
        Stage(
            "Adam's rate grows as gradients fade",
            "Adam's per-weight learning rate is about $\\eta/\\sqrt{\\hat v_t}$, where "
            "$\\hat v_t$ is a moving average of squared gradients ($\\beta_2 = 0.99$ here: a "
            "memory of about 100 steps). On this bowl (condition number 10) the gradients "
            "shrink as Adam closes in, so its rates grow: from step 300 to step 1000 they rise "
            "34-fold, from 0.011 to 0.36 for $x$. On a clean bowl that helps: Adam reaches the "
            "target at step 414.",
            _bowl10(BOWL_ADAM),
        ),
        Stage(
            "AMSGrad keeps the maximum",
            "AMSGrad divides by $v^{\\max}_t$, the largest $v_t$ so far, which can never "
            "decrease. Its rates rise only while the bias correction warms up (from 0.0040 to "
            "0.0062 for $x$ over the first 300 steps) and then stay flat: from step 300 to 1000 "
            "they change by less than 3%, while Adam's grow 34-fold. Without noise the smaller "
            "late steps cost time: AMSGrad reaches the target at step 641, Adam at 414.",
            _bowl10(BOWL_ADAM, BOWL_AMSGRAD),
        ),
        Stage(
            "Add gradient noise",
            "Now every gradient carries Gaussian noise of standard deviation 1 (seed 0: the "
            "same noise for both). Near the minimum the noise dominates $v_t$, and Adam's rates "
            "follow its ups and downs: after step 300 its rate for $y$ varies almost fourfold "
            "(0.0028 to 0.0105), while AMSGrad's stays within 3%. Every lull in the noise "
            "raises Adam's rate; it ends this run at loss 0.021, AMSGrad at 0.008.",
            _bowl10(BOWL_ADAM, BOWL_AMSGRAD, noise=1.0),
        ),
        Stage(
            "Sixty-four seeds",
            "One run is one draw of the noise. The ensemble repeats it with seeds 0 to 63 "
            "(both optimizers see the same noise at each seed) and draws the 5-95% and 25-75% "
            "bands of the loss. At step 1000 AMSGrad's median loss is 0.0014 against Adam's "
            "0.0048, and its 95th percentile 0.0074 against 0.019. A learning rate that never "
            "increases is what Reddi et al. (2018) gave AMSGrad, and Adam lacks.",
            _bowl10(BOWL_ADAM, BOWL_AMSGRAD, noise=1.0),
            view="sweeps",
            sweep="ensemble",
        ),
    ),
)


# ---- 5. WAME's per-weight acceleration -----------------------------------------------------------
def _bowl100(*specs: OptimizerSpec) -> Experiment:
    return bowl(100.0, (-2.5, 0.5), *specs, steps=100)


NARROW_ADAM = _opt("Adam", "Adam", ORANGE, learning_rate=0.05)
NARROW_WAME = _opt("WAME", "WAME", PINK, learning_rate=5e-3, variant="paper_sqrt")

WAME = Lesson(
    id="wame",
    title="WAME accelerates each weight on its own",
    summary="On a narrow bowl WAME speeds up the weight whose gradient keeps its sign and "
    "brakes the one that overshoots; Adam takes equal strides on both.",
    stages=(
        Stage(
            "Adam: the same stride on every weight",
            "A narrow bowl: curvature 1 along $x$, 100 along $y$, started at $(-2.5, 0.5)$. "
            "Adam divides each weight's step by the size of its own gradients, so both weights "
            "start with the same stride, 0.05 per step, although the $y$ gradient is 20 times "
            "the $x$ gradient. That stride is too long for the steep direction: $y$ passes its "
            "minimum at step 12 and swings to -0.14, and the loss rises on steps 13 to 18. "
            "Adam reaches the target at step 80.",
            _bowl100(NARROW_ADAM),
        ),
        Stage(
            "WAME accelerates",
            "WAME keeps a per-weight acceleration factor $\\zeta$: times 1.2 at each step the "
            "weight's gradient keeps its sign, times 0.1 when the sign flips, between 0.01 and "
            "100. Its step is $\\lambda Z_t g_t/\\sqrt{\\theta_t}$ (the paper_sqrt variant), "
            "with $Z_t$ and $\\theta_t$ moving averages of $\\zeta$ and $g^2$, so the gradient's "
            "size roughly cancels and the acceleration sets the stride. Both weights descend "
            "without a sign change, so both speed up: paused at step 27, the stride in $x$ is "
            "0.17, a hundred times its first step (0.0016); $\\zeta$ reached its cap, 100, at "
            "step 26.",
            _bowl100(NARROW_ADAM, NARROW_WAME),
            frame=27,
        ),
        Stage(
            "Brake on one axis, accelerate on the other",
            "At steps 28 and 29 the $y$ gradient changes sign (the steep direction has reached "
            "its floor) and $\\zeta_y$ drops from 100 to 10 to 1, while $\\zeta_x$ stays at 100: "
            "$x$ keeps its full acceleration. Paused at step 34 the averages are $Z_x = 76$ and "
            "$Z_y = 25$; by step 40, 87 and 16. WAME reaches the target at step 40, Adam at "
            "step 80: each weight's stride follows its own history of sign changes.",
            _bowl100(NARROW_ADAM, NARROW_WAME),
            view="inside",
            frame=34,
        ),
    ),
)


# ---- 6. SGD and Adam under gradient noise (the noisy quadratic model) ----------------------------
def _nqm(*specs: OptimizerSpec, noise_scale: float) -> Experiment:
    return Experiment(
        surface="noisy_quadratic",
        surface_params={"dim": 2, "condition": 100.0, "noise_scale": noise_scale},
        optimizers=specs,
        steps=500,
    )


NQM_SGD = _opt("SGD", "SGD", BLUE, learning_rate=1.0)
NQM_ADAM = _opt("Adam", "Adam", ORANGE, learning_rate=0.05)

NOISE = Lesson(
    id="gradient-noise",
    title="SGD and Adam under gradient noise",
    summary="On Zhang et al.'s noisy quadratic one run can mislead: a seed ensemble shows "
    "where each optimizer really settles.",
    stages=(
        Stage(
            "Without noise",
            "Zhang et al.'s noisy quadratic in two dimensions: curvature 1 along $w_1$ and "
            "0.01 along $w_2$, started at $(1, 1)$, here with the noise switched off. SGD with "
            "learning rate 1 solves the steep direction in one step but shrinks the flat one "
            "by only 1% per step: it reaches the target (loss below 0.001) at step 81. Adam "
            "normalises each weight's step and gets there at step 23.",
            _nqm(NQM_SGD, NQM_ADAM, noise_scale=0.0),
        ),
        Stage(
            "With noise: one run",
            "Now the gradient is noisy, as a minibatch's is: noise of variance "
            "$\\sigma^2 h_i/B$ on weight $i$ ($\\sigma = 1$, batch size $B = 1$), larger along "
            "the steep direction. Both paths now jitter around the minimum instead of "
            "settling. In this run (seed 0) SGD ends at loss 0.018 and Adam at 0.043: SGD looks "
            "better. Is it?",
            _nqm(NQM_SGD, NQM_ADAM, noise_scale=1.0),
        ),
        Stage(
            "With noise: sixty-four runs",
            "The ensemble repeats the run with seeds 0 to 63 (both optimizers see the same "
            "noise at each seed). At step 500 SGD's median loss is 0.26 and its 95th percentile "
            "2.9; Adam's are 0.0064 and 0.046, some 40 times lower: seed 0 was a lucky draw for "
            "SGD. With learning rate 1 on curvature 1, SGD's next $w_1$ is just minus the "
            "latest noise, so it never settles; Adam's steps stay on the order of its learning "
            "rate, 0.05, and its first moment averages the noise over about ten steps.",
            _nqm(NQM_SGD, NQM_ADAM, noise_scale=1.0),
            view="sweeps",
            sweep="ensemble",
        ),
    ),
)


# ---- 7. Escaping a saddle ------------------------------------------------------------------------
def _saddle(*specs: OptimizerSpec, start=(-1.0, 0.001), noise: float = 0.0) -> Experiment:
    return Experiment(surface="saddle", optimizers=specs, starts=(start,), steps=400, noise=noise)


SADDLE_SGD = _opt("SGD", "SGD", BLUE, learning_rate=0.01)
SADDLE_MOMENTUM = _opt("Momentum", "Momentum", RED, learning_rate=0.01, momentum=0.9)
SADDLE_ADAM = _opt("Adam", "Adam", ORANGE, learning_rate=0.01)

SADDLE = Lesson(
    id="saddle",
    title="Escaping a saddle",
    summary="Near a saddle point the gradient almost vanishes: plain gradient descent creeps, "
    "momentum and Adam get away.",
    stages=(
        Stage(
            "Gradient descent creeps",
            "$f(x, y) = x^2 - y^2$ has a saddle at the origin: uphill along $x$, downhill "
            "along $y$, and no minimum. From $(-1, 0.001)$, just off the ridge, each step of "
            "gradient descent (learning rate 0.01) multiplies $x$ by 0.98, towards the saddle, "
            "and $y$ by only 1.02, away from it. Paused at step 100 it sits at "
            "$(-0.13, 0.0072)$, almost on the saddle; its loss first drops below -1 only at "
            "step 349.",
            _saddle(SADDLE_SGD),
            frame=100,
        ),
        Stage(
            "Momentum escapes",
            "Momentum ($\\mu = 0.9$) gathers speed along the faint downhill slope: its $y$ grows "
            "by a factor of about 1.11 per step instead of 1.02. Its loss drops below -1 at "
            "step 72 and the path leaves the plot soon after; the app calls that diverging (at "
            "step 94), but on a surface without a minimum, leaving is the goal.",
            _saddle(SADDLE_SGD, SADDLE_MOMENTUM),
        ),
        Stage(
            "Adam escapes too",
            "Adam divides each step by the size of the gradient, so even a faint slope gives a "
            "full-sized step: $y$ moves about 0.01 per step from the start (0.094 by step 10), "
            "and the loss drops below -1 at step 80. Normalised steps do not care how flat the "
            "saddle is.",
            _saddle(SADDLE_SGD, SADDLE_MOMENTUM, SADDLE_ADAM),
        ),
        Stage(
            "Exactly on the ridge",
            "Start exactly on the ridge, at $(-1, 0)$: there the $y$ gradient is exactly zero, "
            "and without noise no optimizer ever leaves $y = 0$. Add a little gradient noise "
            "(standard deviation 0.01): it knocks the paths off the ridge, and momentum and "
            "Adam escape (loss below -1 at steps 68 and 81), while gradient descent is only at "
            "$y = 0.37$ after 400 steps. Noisy gradients, like a minibatch's, help to escape "
            "saddles.",
            _saddle(SADDLE_SGD, SADDLE_MOMENTUM, SADDLE_ADAM, start=(-1.0, 0.0), noise=0.01),
        ),
    ),
)


# ---- 8. Local and global minima, and the basins map ----------------------------------------------
def _wells(*specs: OptimizerSpec) -> Experiment:
    return Experiment(
        surface="two_wells", optimizers=specs, starts=((-3.5, -3.0), (3.0, 3.0)), steps=300
    )


WELLS_SGD = _opt("SGD", "SGD lr 0.1", BLUE, learning_rate=0.1)
WELLS_SGD_LARGE = _opt("SGD", "SGD lr 0.3", RED, learning_rate=0.3)

MINIMA = Lesson(
    id="local-minima",
    title="Local and global minima: the basins map",
    summary="Two wells, two answers: where gradient descent ends depends on where it starts, "
    "and a large step cannot settle in a narrow well.",
    stages=(
        Stage(
            "Two starts, two minima",
            "A weak bowl with two wells: a wide, shallow one at $(-1.36, -0.91)$ (loss -0.85) "
            "and a narrow, deep one at $(1.48, 0.99)$ (loss -1.84, the global minimum). "
            "Gradient descent (learning rate 0.1) from $(-3.5, -3)$ rolls into the wide well "
            "and stays there; from $(3, 3)$ it reaches the global minimum (target at step 40). "
            "Gradient descent only goes downhill: it finds the bottom of the basin it starts "
            "in.",
            _wells(WELLS_SGD),
        ),
        Stage(
            "The basins map",
            "The basins map starts gradient descent from every point of a 64 x 64 grid over "
            "the window and colours each start by the minimum it reaches. The wide well "
            "captures 68% of the starts, the deep one 32%: the global minimum is the less "
            "likely answer. The border between the colours is the watershed between the wells.",
            _wells(WELLS_SGD),
            view="sweeps",
            sweep="basins",
        ),
        Stage(
            "A step too large for the narrow well",
            "With learning rate 0.3 no start reaches the global minimum any more: almost all "
            "of the 32% that went there now never settle, while the wide well keeps its 68%. "
            "Gradient descent "
            "is stable in a well only if the learning rate is below 2 / curvature: the deep "
            "well's curvature is about 8 (limit 0.25), the wide well's about 1.07 (limit 1.8). "
            "Large steps bounce out of sharp minima and settle in flat ones.",
            _wells(WELLS_SGD_LARGE),
            view="sweeps",
            sweep="basins",
        ),
    ),
)


# ---- 9. The edge of stability (Cohen et al. 2021, 2022) ------------------------------------------
def _ripple(*specs: OptimizerSpec) -> Experiment:
    """Full-batch training of the regression MLP (2-16-16-1, squared loss on 64 points of the
    ripple sin(3|x|)) from its first Glorot start: the setting of Cohen et al. (2021)."""
    return Experiment(surface="mlp_regression", optimizers=specs, steps=3000)


EOS_GD = _opt("SGD", "GD lr 0.2", BLUE, learning_rate=0.2)
EOS_GD_SMALL = _opt("SGD", "GD lr 0.1", GREEN, learning_rate=0.1)
EOS_GD_LARGE = _opt("SGD", "GD lr 0.3", ORANGE, learning_rate=0.3)
EOS_ADAM = _opt("Adam", "Adam lr 0.01", PURPLE, learning_rate=0.01)

EDGE_OF_STABILITY = Lesson(
    id="edge-of-stability",
    title="The edge of stability: sharpness rises to 2/η and stays there",
    summary="Full-batch gradient descent on a small regression network: the Hessian's top "
    "eigenvalue climbs until it meets 2/η, then hovers there while the loss keeps falling, "
    "bumpily.",
    stages=(
        Stage(
            "Progressive sharpening, then the edge",
            "A tanh network with 337 weights fits $y = \\sin(3\\lVert x\\rVert)$ on 64 "
            "points by full-batch gradient descent, lr $\\eta = 0.2$. The panel under the "
            "animation shows the sharpness: the largest eigenvalue of the loss's Hessian. "
            "Classical theory says the step is stable only while it stays below "
            "$2/\\eta = 10$ (the dashed line). It starts at 5.48 and climbs as the network "
            "learns, reaches 9.5 at step 568, and then stops: for the remaining 2,400 steps it "
            "hovers between about 9.5 and 10.7, right at the edge. The loss does not stall: it "
            "falls from 0.341 to 0.0074 through three brief spikes, each coming when the "
            "sharpness has overshot the line and each knocking it back below.",
            _ripple(EOS_GD),
        ),
        Stage(
            "Each learning rate finds its own edge",
            "With $\\eta = 0.3$ the edge is $2/\\eta = 6.67$: the sharpness reaches it "
            "by step 152 and hovers there, and the loss rises on about 115 of the 750 recorded "
            "stretches yet ends lower, below 0.01. With $\\eta = 0.1$ the edge, 20, is far "
            "away: the sharpness is still climbing at step 3000 (11.6) and the loss falls "
            "from every recorded step to the next. Gradient descent does not avoid sharp "
            "regions: it trains until the curvature is as large as its step allows.",
            _ripple(EOS_GD, EOS_GD_LARGE, EOS_GD_SMALL),
        ),
        Stage(
            "Adam: the edge is in the preconditioned sharpness",
            "Adam scales each weight's step by its own rate, so what must stay below a "
            "threshold is the preconditioned sharpness, the top eigenvalue of "
            "$P^{-1}H$ (Cohen et al. 2022), whose edge is "
            "$(2 + 2\\beta_1)/((1 - \\beta_1)\\eta) = 38/\\eta = 3800$. From 149 at step "
            "20 it rises to that edge by step 784 and then stays between about 0.87 and 1.04 "
            "times it, while the plain sharpness levels off near 11, with no line of its own "
            "to meet.",
            _ripple(EOS_GD, EOS_ADAM),
        ),
    ),
)


LESSONS: dict[str, Lesson] = {
    lesson.id: lesson
    for lesson in (
        *(LEARNING_RATE, MOMENTUM, ADAGRAD, AMSGRAD, WAME, NOISE, SADDLE, MINIMA),
        EDGE_OF_STABILITY,
        *(m for m in lessons_modern.MODERN if lessons_modern.runnable(m)),
    )
}


# ---- helpers -------------------------------------------------------------------------------------
def get(lesson_id: str) -> Lesson:
    """The lesson ``lesson_id``; a ValueError lists the known ids."""
    lesson = LESSONS.get(lesson_id) if isinstance(lesson_id, str) else None
    if lesson is None:
        raise ValueError(f"unknown lesson {lesson_id!r} (known: {', '.join(LESSONS)})")
    return lesson


def stage_of(lesson_id: str, index: int) -> Stage:
    """Stage ``index`` (0-based) of a lesson; a ValueError says how many stages it has."""
    lesson = get(lesson_id)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(lesson.stages):
        raise ValueError(
            f"lesson {lesson_id!r} has stages 0 to {len(lesson.stages) - 1}, not {index!r}"
        )
    return lesson.stages[index]


def scene(
    lesson_id: str, stage: int = 0, present: bool = True, hide: tuple[str, ...] = ("sidebar",)
) -> Scene:
    """The share-link scene of a stage: its experiment, view and frame, and the lesson."""
    s = stage_of(lesson_id, stage)
    return Scene(
        experiment=s.experiment,
        view=s.view,
        frame=s.frame,
        present=present,
        hide=tuple(hide),
        lesson=lesson_id,
        stage=stage,
    )


def link(
    lesson_id: str, stage: int = 0, present: bool = True, hide: tuple[str, ...] = ("sidebar",)
) -> str:
    """The query string (without ``?``) that opens stage ``stage`` (0-based here; the link
    counts from 1, as the page does: ``stage=2`` is stage index 1) of a lesson, its whole scene
    in the link."""
    return query_string(scene(lesson_id, stage, present=present, hide=hide))


def opened(scene: Scene, query: Mapping[str, Any], warnings: list[str]) -> Scene:
    """A decoded link as the page opens it. A lesson link without keys of its own scene
    (``share.SCENE_KEYS``: typed by hand, ``?lesson=momentum&stage=2``) shows the stage as
    written, its view and frame too unless the link names them; with them it shows the link's
    scene under the stage's narration. An unknown lesson or stage is named in ``warnings``."""
    if not scene.lesson:
        return scene
    lesson = LESSONS.get(scene.lesson)
    if lesson is None:
        warnings.append(f"lesson {scene.lesson!r} not found")
        return dataclasses.replace(scene, lesson=None, stage=0)
    if scene.stage >= len(lesson.stages):
        warnings.append(
            f"stage={scene.stage + 1}: {lesson.id!r} has stages 1 to {len(lesson.stages)}; "
            f"showing stage {len(lesson.stages)}"
        )
        scene = dataclasses.replace(scene, stage=len(lesson.stages) - 1)
    if has_scene_keys(query):
        return scene
    s = lesson.stages[scene.stage]
    return dataclasses.replace(
        scene,
        experiment=s.experiment,
        view=scene.view if "v" in query else s.view,
        frame=scene.frame if "f" in query else s.frame,
    )


def effective(e: Experiment) -> dict[str, Any]:
    """The normal form of ``e`` with its colours resolved (``app/labels.py``)."""
    return labels.effective(e)


def is_as_written(s: Scene) -> bool:
    """Whether a (decoded) scene still runs its lesson stage's experiment, no setting changed:
    the stage's narration describes that run only (the same normal form, ``effective``)."""
    if not s.lesson or s.lesson not in LESSONS:
        return False
    stages = LESSONS[s.lesson].stages
    return 0 <= s.stage < len(stages) and effective(stages[s.stage].experiment) == effective(
        s.experiment
    )


def run_sweep(s: Stage):
    """The sweep a stage shows: ``sweeps.basins`` of its first optimizer on a
    ``sweep_size``-square grid, or ``sweeps.seed_ensemble`` over ``sweep_size`` seeds."""
    from trajectories import sweeps

    if s.sweep == "basins":
        return sweeps.basins(s.experiment, 0, s.sweep_size)
    if s.sweep == "ensemble":
        return sweeps.seed_ensemble(s.experiment, s.sweep_size)
    raise ValueError(f"stage {s.title!r} shows no sweep")
