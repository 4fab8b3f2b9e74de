"""Lessons on the newer optimizers: Rprop then WAME, Lion, schedule-free against a cosine schedule,
and L-BFGS against Adam in Rosenbrock's valley.

Like every lesson (``app/lessons.py``), each number a narration quotes was measured on the
scene it describes, and ``tests/test_lessons_modern.py`` runs each scene again and checks it.
A lesson is offered only when every optimizer its stages run is registered
(:func:`runnable`): the L-BFGS lesson is written here as data and appears once
``optimizers.registry`` has ``LBFGS``.
"""

from __future__ import annotations

from app.lesson_types import (
    BLUE,
    GREEN,
    ORANGE,
    PINK,
    PURPLE,
    RED,
    Lesson,
    Stage,
    bowl,
    opt,
    valley,
)
from trajectories import Experiment, OptimizerSpec


def runnable(lesson: Lesson) -> bool:
    """Whether every optimizer the lesson's stages run is registered in this build."""
    from optimizers import registry

    kinds = {o.kind for s in lesson.stages for o in s.experiment.optimizers}
    return kinds <= set(registry.OPTIMIZERS)


# ---- Rprop then WAME -----------------------------------------------------------------------------
def _narrow(*specs: OptimizerSpec, noise: float = 0.0, steps: int = 100) -> Experiment:
    """The WAME lesson's narrow bowl (curvature 1 along x, 100 along y)."""
    return bowl(100.0, (-2.5, 0.5), *specs, steps=steps, noise=noise)


SIGN_RPROP = opt("Rprop", "Rprop", GREEN, learning_rate=0.01)
SIGN_WAME = opt("WAME", "WAME", PINK, learning_rate=5e-3, variant="paper_sqrt")

RPROP_WAME = Lesson(
    id="rprop-wame",
    title="Rprop then WAME",
    summary="Rprop grows each weight's step while its gradient keeps its sign and cuts it on a "
    "flip; WAME keeps that sign logic and adds moving averages, which survive noisy gradients.",
    stages=(
        Stage(
            "Rprop: a step size per weight",
            "Rprop ignores the gradient's size: each weight moves by its own step size "
            "$\\Delta$ in the direction of $-\\mathrm{sign}(g)$. $\\Delta$ grows by 1.2 at each "
            "step the weight's gradient keeps its sign and halves when it flips. On this narrow "
            "bowl both step sizes grow from 0.01 until $y$'s gradient first flips at step 15; "
            "$\\Delta_x$ keeps growing to 0.55 at step 22. Rprop reaches the target at step 32.",
            _narrow(SIGN_RPROP),
        ),
        Stage(
            "WAME: the same signs, averaged",
            "WAME's acceleration factor $\\zeta$ follows the same sign agreement as Rprop's "
            "$\\Delta$: times 1.2 when the gradient keeps its sign, cut (times 0.1) when it "
            "flips. But WAME steps by $\\lambda Z_t g_t/\\sqrt{\\theta_t}$, with $Z_t$ and "
            "$\\theta_t$ moving averages of $\\zeta$ and $g^2$. Paused at step 30, after the "
            "$y$ gradient's flips at steps 28 and 29: $\\zeta_y$ fell a hundredfold (100 to "
            "1), but $Z_y$ only from 50 to 41 and WAME's rate for $y$ by 8%, where each of "
            "Rprop's 7 flips in 40 steps halved its $\\Delta_y$.",
            _narrow(SIGN_RPROP, SIGN_WAME),
            view="inside",
            frame=30,
        ),
        Stage(
            "Noisy gradients",
            "Now every gradient carries Gaussian noise of standard deviation 1, as a "
            "minibatch's does. Near the minimum the noise flips the gradient's sign at random, "
            "and every flip halves Rprop's step: by step 104 both step sizes are at their floor, "
            "$10^{-6}$, and Rprop stays frozen at $x = -0.19$ (loss 0.020). WAME cuts $\\zeta$ "
            "on the same kind of flips, but its averages reach the target at step 40 and it "
            "ends 0.005 from the minimum: Rprop was made for full batches, WAME for minibatches.",
            _narrow(SIGN_RPROP, SIGN_WAME, noise=1.0, steps=300),
        ),
    ),
)


# ---- Lion follows the sign of momentum -----------------------------------------------------------
def _bowl(*specs: OptimizerSpec) -> Experiment:
    return bowl(10.0, (-2.5, 1.5), *specs, steps=400)


LION_ADAM = opt("Adam", "Adam", ORANGE, learning_rate=0.02)
LION_LION = opt("Lion", "Lion", PURPLE, learning_rate=0.02)

LION = Lesson(
    id="lion",
    title="Lion follows the sign of momentum",
    summary="Lion moves every weight by exactly its learning rate, in the direction of the sign "
    "of a momentum: it overshoots like a heavy ball and never settles on its own.",
    stages=(
        Stage(
            "Every weight moves by the learning rate",
            "Lion's step is $-\\eta\\,\\mathrm{sign}(c_t)$ with $c_t = \\beta_1 m_{t-1} + "
            "(1 - \\beta_1) g_t$: every weight moves by exactly $\\eta = 0.02$ at every step, "
            "whatever the size of its gradient. At the start the $y$ gradient is 6 times the "
            "$x$ gradient, yet the path runs at 45 degrees, $y$ and $x$ both 0.02 per step, "
            "until $y$ reaches 0 at step 76.",
            _bowl(LION_LION),
        ),
        Stage(
            "The sign of momentum, not of the gradient",
            "Paused at step 90: $y$ has passed its minimum and the $y$ gradient points back, "
            "but Lion still moves down. Its momentum $m_t$ averages the gradients with "
            "$\\beta_2 = 0.99$ and still remembers the steep descent, so $c_t$ keeps its sign "
            "for 40 steps after the gradient has flipped (steps 76 to 115). $y$ overshoots to "
            "-0.82 and only returns above 0 at step 157.",
            _bowl(LION_LION),
            view="inside",
            frame=90,
        ),
        Stage(
            "Beside Adam: a step that never shrinks",
            "Adam's steps shrink as its gradients do and its loss never rises; Lion's loss "
            "rises on 138 of its 400 steps. Lion reaches the target first (step 239, Adam "
            "255), but a step of exactly $\\eta$ cannot settle: over the last 50 steps it hops "
            "around the minimum, at most 0.02 from it in each weight, and ends at loss 0.0022 "
            "against Adam's $1.2 \\times 10^{-7}$. With Lion, the learning rate must decay.",
            _bowl(LION_ADAM, LION_LION),
        ),
    ),
)


# ---- Schedule-free against a cosine schedule -----------------------------------------------------
def _noisy_bowl(*specs: OptimizerSpec) -> Experiment:
    """The Adam and AMSGrad lesson's bowl, its gradients noisy (standard deviation 1)."""
    return bowl(10.0, (-2.5, 1.5), *specs, steps=1000, noise=1.0)


COSINE = {"schedule": "cosine_decay", "initial_learning_rate": 0.05, "decay_steps": 1000}
SF_CONSTANT = opt("Adam", "Adam", ORANGE, learning_rate=0.05)
SF_COSINE = opt("Adam", "Adam cosine", GREEN, learning_rate=COSINE)
SF_FREE = opt("ScheduleFreeAdamW", "Schedule-free", BLUE, learning_rate=0.05)

SCHEDULE_FREE = Lesson(
    id="schedule-free",
    title="Schedule-free against a cosine schedule",
    summary="Under gradient noise a constant learning rate stalls; a cosine schedule anneals "
    "to a fixed end; schedule-free AdamW averages its way down without knowing the end.",
    stages=(
        Stage(
            "A constant rate stalls",
            "A bowl (condition number 10) whose gradients carry Gaussian noise of standard "
            "deviation 1 (seed 0). Adam with a constant learning rate of 0.05 reaches the "
            "target at step 118 but cannot stay: its steps do not shrink (over the last 500 "
            "steps their median length is 0.010), so it jitters around the minimum, and its "
            "loss over the last 200 steps averages 0.029.",
            _noisy_bowl(SF_CONSTANT),
        ),
        Stage(
            "A cosine schedule anneals",
            "The same Adam with a cosine schedule: the learning rate falls from 0.05 to 0 "
            "along half a cosine over the 1000 steps (0.025 at step 500). As the steps shrink "
            "the noise averages out, and the run ends at loss $2.1 \\times 10^{-5}$, against "
            "0.039 at the constant rate. But the schedule must know the number of steps in "
            "advance.",
            _noisy_bowl(SF_CONSTANT, SF_COSINE),
        ),
        Stage(
            "Schedule-free: no end to plan for",
            "Schedule-free AdamW keeps its learning rate constant (0.05) and instead averages: "
            "its weights $y$ (the solid path) interpolate between a fast sequence $z$ and "
            "$x_t$, the running average of $z$ (the dashed line, the weights to evaluate). Over "
            "the last 500 steps $x$ moves 6.6 times less than $y$, and at step 1000 its loss is "
            "0.0010, a tenth of $y$'s (0.012). No schedule and no horizon: it can be stopped "
            "at any step.",
            _noisy_bowl(SF_CONSTANT, SF_COSINE, SF_FREE),
        ),
        Stage(
            "Sixty-four seeds",
            "The ensemble repeats the race with seeds 0 to 63 and shows the loss at $y$. At "
            "step 500, halfway through the cosine's plan, schedule-free's median loss is 0.0037 "
            "against the cosine's 0.0049 and the constant rate's 0.011. At step 1000, the end "
            "the cosine was planned for, it wins: 0.00085 against 0.0033, and the constant "
            "rate is at 0.013.",
            _noisy_bowl(SF_CONSTANT, SF_COSINE, SF_FREE),
            view="sweeps",
            sweep="ensemble",
        ),
    ),
)


# ---- L-BFGS against Adam in Rosenbrock's valley (offered once LBFGS is registered) ---------------
# Adam at 0.2: at the 0.02 of other lessons it is still in the valley after the 1000 steps
VALLEY_ADAM = opt("Adam", "Adam", ORANGE, learning_rate=0.2)
VALLEY_LBFGS = opt("LBFGS", "L-BFGS", RED)

LBFGS_ADAM = Lesson(
    id="lbfgs-adam",
    title="L-BFGS against Adam in Rosenbrock's valley",
    summary="L-BFGS builds a curvature model from its last steps and searches along its "
    "direction; in Rosenbrock's curved valley it needs 20 times fewer steps than Adam, and 8 "
    "times fewer evaluations of the loss even counting its line search.",
    stages=(
        Stage(
            "Adam in the valley",
            "From $(-1.5, 1.5)$ Adam (learning rate 0.2) drops into Rosenbrock's valley and "
            "follows its curved floor, the parabola $y = x^2$, towards the minimum at "
            "$(1, 1)$. The floor is long and nearly flat: at step 300 Adam is still at "
            "$x = 0.45$, and it reaches the target (a loss within $10^{-3}$ of the minimum's) "
            "at step 722, after 722 evaluations of the loss and its gradient, one a step.",
            valley(VALLEY_ADAM),
        ),
        Stage(
            "L-BFGS models the curvature",
            "L-BFGS keeps its last 10 steps and gradient changes and turns them into an "
            "estimate of the inverse Hessian, so its direction bends with the valley; a line "
            "search (optax's zoom) then picks how far to go. It reaches the target at step "
            "37, 20 times fewer steps than Adam. Each step evaluates the loss and gradient at "
            "the weights and again inside the search: its 37 steps cost 89 evaluations, still "
            "8 times fewer than Adam's 722.",
            valley(VALLEY_ADAM, VALLEY_LBFGS),
        ),
        Stage(
            "The line search's step",
            "Paused at step 8, the inside view shows $\\alpha_k$, the step size the line "
            "search accepted, and $n_k$, the evaluations it took. At step 7 it lengthened the "
            "step to 1.6 and L-BFGS jumped down the valley; at step 8 it took 4 evaluations "
            "to cut it to 0.028. Of the 37 steps to the target, 26 take the full step "
            "$\\alpha = 1$, 9 shorten it and 2 lengthen it; from step 32 to the target, "
            "where the quadratic model holds, every search accepts the full step at its "
            "first evaluation.",
            valley(VALLEY_ADAM, VALLEY_LBFGS),
            view="inside",
            frame=8,
        ),
    ),
)

MODERN: tuple[Lesson, ...] = (RPROP_WAME, LION, SCHEDULE_FREE, LBFGS_ADAM)
