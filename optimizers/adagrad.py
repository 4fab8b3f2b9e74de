"""Adagrad: per-weight learning rates that only ever shrink (docs/optimizer-equations.md,
Adagrad)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, StateField, epsilon


class AdagradState(NamedTuple):
    count: jax.Array
    accumulator: Any  # G_t, the running sum of squared gradients


def _adagrad_core(initial_accumulator_value, epsilon) -> core.Core:
    def init(params):
        acc = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params)
        return AdagradState(jnp.zeros([], jnp.int32), acc)

    def rate(acc, lr):
        return core.cast(lr, acc) / jnp.sqrt(acc + core.cast(epsilon, acc))

    def step(grads, state, params, lr):
        del params
        acc = jax.tree.map(lambda a, g: a + g * g, state.accumulator, grads)
        updates = jax.tree.map(lambda g, a: -rate(a, lr) * g, grads, acc)
        return updates, AdagradState(state.count + 1, acc)

    def learning_rates(state, lr):
        return jax.tree.map(lambda a: rate(a, lr), state.accumulator)

    return core.Core(init, step, learning_rates)


ADAGRAD_INFO = OptimizerInfo(
    name="Adagrad",
    rule=_adagrad_core,
    summary="Per-weight rates from the sum of all past squared gradients: they only shrink.",
    group="adaptive",
    reference="Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and "
    "Stochastic Optimization, JMLR 2011",
    matches="Keras 3 Adagrad",
    defaults_from="the kerasy optimizers documentation (eta = 0.01, G_0 = 0, epsilon inside the "
    "root; Keras's own defaults are 0.001 and G_0 = 0.1)",
    notes="The per-weight learning rate never increases. Matches Keras 3 Adagrad exactly given "
    "the same arguments.",
    example="    >>> opt = optimizers.Adagrad(learning_rate=0.1)",
    update_latex=r"G_t=G_{t-1}+g_t^2,\quad w_{t+1}=w_t-\frac{\eta}{\sqrt{G_t+\varepsilon}}g_t",
    learning_rate_latex=r"\eta\,/\sqrt{G_t+\varepsilon}",
    learning_rate=0.01,
    hyperparams=(
        family.amount(
            "initial_accumulator_value",
            0.0,
            0.0,
            1.0,
            "Starting value of the accumulated squared gradient G_0.",
        ),
        epsilon(1e-7),
    ),
    state=(StateField(name="accumulator", symbol="G_t", role="second_moment_sum"),),
)

Adagrad = ADAGRAD_INFO.build
