"""Rprop: a step size per weight, grown while the gradient keeps its sign and cut when it flips
(``optax.rprop``, the iRprop- variant)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import (
    ABOVE_ONE,
    OPEN_UNIT_INTERVAL,
    POSITIVE,
    OptimizerInfo,
    StateField,
    learning_rate,
    ordered,
)


class RpropState(NamedTuple):
    count: jax.Array
    step_sizes: Any  # Delta_t, each weight's step size
    prev_updates: Any  # Delta_t sign(g_t), or 0 after a sign flip (optax's prev_updates)


def rprop_core(eta_minus, eta_plus, min_step_size, max_step_size) -> core.Core:
    """The learning rate is the initial step size Delta_0: the step sizes take it at the first
    update (the core's ``init`` sees no learning rate), which is optax's init followed by the
    same first step."""

    def init(params):
        return RpropState(family.count(), core.zeros_like(params), core.zeros_like(params))

    def step_leaf(g, size, prev, t, lr):
        size = jnp.where(t == 1, core.cast(lr, size), size)
        agreement = g * prev
        grown = size * jnp.where(
            agreement > 0, core.cast(eta_plus, size), core.cast(eta_minus, size)
        )
        clipped = jnp.clip(grown, core.cast(min_step_size, size), core.cast(max_step_size, size))
        size = jnp.where(agreement == 0, size, clipped)
        new_prev = jnp.where(agreement < 0, jnp.zeros_like(g), size * jnp.sign(g))
        # optax moves by the *previous* signed step (0 on a flip): one call behind its state.
        return -jnp.where(agreement < 0, jnp.zeros_like(prev), prev), size, new_prev

    step = family.leafwise(step_leaf, ("step_sizes", "prev_updates"))

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda s: jnp.where(state.count == 0, core.cast(lr, s), s), state.step_sizes
        )

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
RPROP_INFO = OptimizerInfo(
    name="Rprop",
    rule=rprop_core,
    summary="A step size per weight, grown while the gradient keeps its sign, cut on a flip.",
    group="sign-based",
    reference="Riedmiller & Braun, A Direct Adaptive Method for Faster Backpropagation Learning: "
    "The RPROP Algorithm, ICNN 1993; Igel & Hüsken, Empirical evaluation of the improved Rprop "
    "learning algorithms, Neurocomputing 2003",
    matches="optax.rprop (iRprop-)",
    defaults_from="optax, and the paper's Delta_0 = 0.1 since optax has none",
    notes="p_{t-1} is the previous signed step (0 after a flip). As in optax, the weights move "
    "by the step chosen at the *previous* call (p_0 = 0: the first call does not move), one "
    "call behind the step sizes. The per-weight learning rate is Delta_t, the step size chosen "
    "for the next move. The learning rate is only the initial step size, so it is a number, "
    "not a schedule; the step sizes take it at the first update (before it they are reported "
    "as it).",
    example="    >>> opt = optimizers.Rprop(learning_rate=0.05)",
    update_latex=r"\Delta_t=\begin{cases}\mathrm{clip}(\eta^+\Delta_{t-1})&g_tp_{t-1}>0\\"
    r"\mathrm{clip}(\eta^-\Delta_{t-1})&g_tp_{t-1}<0\\\Delta_{t-1}&\text{else}\end{cases},\ "
    r"p_t=\begin{cases}0&g_tp_{t-1}<0\\\Delta_t\,\mathrm{sign}(g_t)&\text{else}\end{cases},\ "
    r"w_{t+1}=w_t-\begin{cases}0&g_tp_{t-1}<0\\p_{t-1}&\text{else}\end{cases}",
    learning_rate_latex=r"\Delta_t",
    learning_rate=learning_rate(
        0.1,
        1e-5,
        1.0,
        help="The initial step size Delta_0 (a number, not a schedule).",
        schedule=False,
    ),
    hyperparams=(
        family.amount(
            "eta_minus",
            0.5,
            0.01,
            0.99,
            "Factor applied to the step size on a sign flip.",
            valid=OPEN_UNIT_INTERVAL,
        ),
        family.amount(
            "eta_plus",
            1.2,
            1.01,
            3.0,
            "Factor applied to the step size while the sign holds.",
            valid=ABOVE_ONE,
        ),
        family.amount("min_step_size", 1e-6, 1e-9, 1e-2, "Smallest step size.", scale="log"),
        family.amount(
            "max_step_size",
            50.0,
            1e-2,
            100.0,
            "Largest step size.",
            scale="log",
            valid=POSITIVE,
        ),
    ),
    rules=(ordered("min_step_size", "max_step_size"),),
    state=(
        StateField(name="step_sizes", symbol=r"\Delta_t", role="step_size"),
        StateField(name="prev_updates", symbol="p_t", role="previous_step"),
    ),
)

Rprop = RPROP_INFO.build
