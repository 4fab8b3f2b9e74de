"""Rprop: a step size per weight, grown while the gradient keeps its sign and cut when it flips
(``optax.rprop``, the iRprop- variant)."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class RpropState(NamedTuple):
    count: jax.Array
    step_sizes: Any  # Delta_t, each weight's step size
    prev_updates: Any  # Delta_t sign(g_t), or 0 after a sign flip (optax's prev_updates)


def rprop_core(initial_step, eta_minus, eta_plus, min_step_size, max_step_size) -> core.Core:
    def init(params):
        steps = jax.tree.map(lambda p: jnp.full_like(p, initial_step), params)
        return RpropState(family.count(), steps, core.zeros_like(params))

    def step_leaf(g, size, prev, t, lr):
        del t, lr  # the learning rate is the initial step size only
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
        del lr
        return state.step_sizes

    return core.Core(init, step, learning_rates)


def Rprop(
    learning_rate=0.1,
    eta_minus=0.5,
    eta_plus=1.2,
    min_step_size=1e-6,
    max_step_size=50.0,
    **options,
) -> core.Optimizer:
    r"""Rprop (Riedmiller & Braun, 1993), in optax's iRprop- form (Igel & Hüsken, 2003).

    Symbols: $\Delta_0$ ``learning_rate`` (the initial step size), $\eta^-$ ``eta_minus``,
    $\eta^+$ ``eta_plus``, $\Delta_{\min}$ ``min_step_size``, $\Delta_{\max}$ ``max_step_size``;
    $p_{t-1}$ is the previous signed step (0 after a flip).

    $$\Delta_t = \begin{cases}\mathrm{clip}(\eta^+\Delta_{t-1}) & g_t p_{t-1} > 0\\
      \mathrm{clip}(\eta^-\Delta_{t-1}) & g_t p_{t-1} < 0\\ \Delta_{t-1} & g_t p_{t-1} = 0
      \end{cases},\qquad p_t = \begin{cases}0 & g_t p_{t-1} < 0\\
      \Delta_t\,\mathrm{sign}(g_t) & \text{otherwise}\end{cases}$$
    $$w_{t+1} = w_t - \begin{cases}0 & g_t p_{t-1} < 0\\ p_{t-1} & \text{otherwise}\end{cases}$$

    As in optax, the weights move by the step chosen at the *previous* call ($p_0 = 0$: the
    first call does not move), one call behind the step sizes.

    Per-weight learning rate: $\Delta_t$, the step size chosen for the next move. The learning
    rate is only the initial step size, so it is a number, not a schedule. Defaults are
    optax's, and the paper's $\Delta_0 = 0.1$ since optax has none. Matches ``optax.rprop`` exactly.

    Reference: Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm", ICNN 1993; Igel & Hüsken, "Empirical evaluation of the
    improved Rprop learning algorithms", Neurocomputing 2003.
    """
    name = "Rprop"
    if callable(learning_rate):
        raise ValueError(
            f"{name}: learning_rate is the initial step size: a number, not a schedule"
        )
    core.check_learning_rate(name, learning_rate)
    core.check_range(name, "eta_minus", eta_minus, 0.0, 1.0, low_open=True, high_open=True)
    core.check_range(name, "eta_plus", eta_plus, 1.0, None, low_open=True)
    core.check_range(name, "min_step_size", min_step_size, 0.0, None)
    core.check_range(name, "max_step_size", max_step_size, 0.0, None, low_open=True)
    traced = core.is_traced(min_step_size) or core.is_traced(max_step_size)
    if not traced and min_step_size > max_step_size:
        raise ValueError(
            f"{name}: min_step_size={min_step_size!r} exceeds max_step_size={max_step_size!r}"
        )
    return family.finish(
        name,
        functools.partial(rprop_core, learning_rate),
        learning_rate,
        options,
        eta_minus=eta_minus,
        eta_plus=eta_plus,
        min_step_size=min_step_size,
        max_step_size=max_step_size,
    )
