"""WAME: weight-wise adaptive learning rates with moving-average estimator (Mosca & Magoulas),
in three variants (docs/optimizer-equations.md, WAME)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import (
    ABOVE_ONE,
    OPEN_UNIT_INTERVAL,
    POSITIVE,
    HParam,
    OptimizerInfo,
    StateField,
    decay_rate,
    epsilon,
    ordered,
)

VARIANTS = ("paper", "paper_sqrt", "tensorflow")


class WAMEState(NamedTuple):
    count: jax.Array
    previous_gradient: Any  # g_{t-1}
    zeta: Any  # zeta_t, the per-weight acceleration factor
    z: Any  # Z_t, the moving average of zeta
    theta: Any  # theta_t, the moving average of g^2


def _wame_core(alpha, eta_plus, eta_minus, zeta_min, zeta_max, epsilon, variant) -> core.Core:
    tf = variant == "tensorflow"

    def h(value, like):
        """A hyperparameter as the variant sees it (float32-rounded for the TF variant)."""
        if tf:
            value = jnp.asarray(value, jnp.float32)
        return core.cast(value, like)

    def init(params):
        z = core.zeros_like(params)
        zeta = z if tf else jax.tree.map(jnp.ones_like, params)
        return WAMEState(jnp.zeros([], jnp.int32), z, zeta, z, z)

    def denominator(theta):
        eps = core.cast(epsilon, theta)
        return jnp.sqrt(theta) + eps if variant == "paper_sqrt" else theta + eps

    def step_leaf(g, g_prev, zeta, z, theta, lr):
        sign = g * g_prev
        up, down = h(eta_plus, g), h(eta_minus, g)
        lo, hi = h(zeta_min, g), h(zeta_max, g)
        if tf:  # base theta_{t-1}; eta_plus on a sign change; clip afterwards
            zeta = jnp.where(sign < 0, theta * up, jnp.where(sign > 0, theta * down, zeta))
            zeta = jnp.clip(zeta, lo, hi)
        else:
            zeta = jnp.where(
                sign > 0,
                jnp.minimum(zeta * up, hi),
                jnp.where(sign < 0, jnp.maximum(zeta * down, lo), zeta),
            )
        a = h(alpha, g)
        z = a * z + (1 - a) * zeta
        theta = a * theta + (1 - a) * g * g
        step = h(lr, g) * (z * g * (1 / denominator(theta)))
        return -step, g, zeta, z, theta

    def step(grads, state, params, lr):
        del params
        updates, g_prev, zeta, z, theta = core.map_leaves(
            lambda *a: step_leaf(*a, lr),
            grads,
            state.previous_gradient,
            state.zeta,
            state.z,
            state.theta,
        )
        return updates, WAMEState(state.count + 1, g_prev, zeta, z, theta)

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda z, theta: h(lr, z) * z / denominator(theta), state.z, state.theta
        )

    return core.Core(init, step, learning_rates)


WAME_INFO = OptimizerInfo(
    name="WAME",
    rule=_wame_core,
    summary="Per-weight acceleration: Rprop-like factors zeta averaged into Z, over theta.",
    group="sign-based",
    reference="Mosca & Magoulas, Training Convolutional Networks with Weight-wise Adaptive "
    "Learning Rates, ESANN 2017",
    matches="Algorithm 1 of the paper (independent transcription; the WAME TensorFlow 2 "
    "package, justinbt1/WAME-Optimiser, for variant='tensorflow')",
    defaults_from="the README of the WAME TensorFlow 2 package (zeta_min 0.01 as its code; its "
    "text says 0.1)",
    notes="``variant='paper'`` is Algorithm 1 of the paper: zeta_0 = 1, Z_0 = theta_0 = 0, "
    "Rprop sign logic on the per-weight acceleration; the paper has 1/theta_t and epsilon only "
    "guards a zero gradient. ``variant='paper_sqrt'`` is the adjusted form lambda Z_t g_t / "
    "(sqrt(theta_t) + eps), per-weight rate lambda Z_t / (sqrt(theta_t) + eps). "
    "``variant='tensorflow'`` reproduces the published TensorFlow 2 package "
    "(justinbt1/WAME-Optimiser) with its deviations: all slots start at 0; zeta_t = "
    "clip(theta_{t-1} eta_plus) on a sign *change* and theta_{t-1} eta_minus on sign "
    "agreement; epsilon = K.epsilon() = 1e-7; and the hyperparameters (not epsilon) are "
    "rounded to float32, as TF keeps them in float32 variables even for float64 weights. "
    "Since theta ~ g^2, the realised step of the 1/theta forms behaves like lambda Z / g: the "
    "first step moves each weight by about lambda / |g_1|. No peer library exists in JAX: each "
    "variant is tested against an independent transcription.",
    example="    >>> opt = optimizers.WAME(learning_rate=0.01, variant='paper_sqrt')",
    update_latex=r"\zeta_t=\begin{cases}\min(\eta_+\zeta_{t-1},\zeta_{\max})&g_tg_{t-1}>0\\"
    r"\max(\eta_-\zeta_{t-1},\zeta_{\min})&g_tg_{t-1}<0\\\zeta_{t-1}&\text{else}\end{cases}"
    r",\ Z_t=\alpha Z_{t-1}+(1-\alpha)\zeta_t,\ \theta_t=\alpha\theta_{t-1}+(1-\alpha)"
    r"g_t^2,\ w_{t+1}=w_t-\lambda Z_t\frac{g_t}{\theta_t+\varepsilon}",
    learning_rate_latex=r"\lambda Z_t\,/\,(\theta_t+\varepsilon)",
    learning_rate=0.001,
    hyperparams=(
        decay_rate("alpha", 0.9, "Decay rate of the moving averages Z and theta."),
        family.amount(
            "eta_plus",
            1.2,
            1.01,
            3.0,
            "Factor applied to zeta when the gradient keeps its sign.",
            valid=ABOVE_ONE,
        ),
        family.amount(
            "eta_minus",
            0.1,
            0.01,
            0.99,
            "Factor applied to zeta when the gradient changes sign.",
            valid=OPEN_UNIT_INTERVAL,
        ),
        family.amount(
            "zeta_min",
            0.01,
            1e-4,
            1.0,
            "Minimum clipping value for the per-weight acceleration factor.",
            scale="log",
            valid=POSITIVE,
        ),
        family.amount(
            "zeta_max",
            100.0,
            1.0,
            1e4,
            "Maximum clipping value for the per-weight acceleration factor.",
            scale="log",
            valid=POSITIVE,
        ),
        epsilon(1e-7),
        HParam(
            name="variant",
            default="paper",
            help="paper: Algorithm 1 (1/theta); paper_sqrt: 1/(sqrt(theta)+eps); "
            "tensorflow: the published TF2 package, deviations and all.",
            kind="choice",
            choices=VARIANTS,
        ),
    ),
    rules=(ordered("zeta_min", "zeta_max"),),
    state=(
        StateField(name="zeta", symbol=r"\zeta_t", role="acceleration"),
        StateField(name="z", symbol="Z_t", role="acceleration_average"),
        StateField(name="theta", symbol=r"\theta_t", role="second_moment"),
    ),
)

WAME = WAME_INFO.build
