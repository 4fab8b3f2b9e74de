"""Adagrad: per-weight learning rates that only ever shrink."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core


class AdagradState(NamedTuple):
    count: jax.Array
    accumulator: Any  # G_t, the running sum of squared gradients


def Adagrad(
    learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-7, **options
) -> core.Optimizer:
    r"""Adagrad (Duchi, Hazan & Singer, 2011).

    Symbols: $\eta$ ``learning_rate``, $G_0$ ``initial_accumulator_value``,
    $\varepsilon$ ``epsilon``.

    $$G_t = G_{t-1} + g_t^2,\qquad w_{t+1} = w_t - \frac{\eta}{\sqrt{G_t + \varepsilon}}\, g_t$$

    Per-weight learning rate: $\eta / \sqrt{G_t + \varepsilon}$; it never increases.
    Defaults from the kerasy document ($\eta = 0.01$, $v^0 = 0$, $\varepsilon$ inside the
    root as its formula shows; Keras's own defaults are 0.001 and $G_0 = 0.1$). Matches
    Keras 3 ``Adagrad`` exactly given the same arguments.

    Example:
        >>> import optimizers
        >>> opt = optimizers.Adagrad(learning_rate=0.1)

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.
    """
    name = "Adagrad"
    core.check_learning_rate(name, learning_rate)
    core.check_range(name, "initial_accumulator_value", initial_accumulator_value, 0.0, None)
    core.check_epsilon(name, epsilon)
    opts = core.check_options(
        name, options, ("learning_rate", "initial_accumulator_value", "epsilon")
    )

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

    return core.with_options(
        core.Core(init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate,
            initial_accumulator_value=initial_accumulator_value,
            epsilon=epsilon,
        ),
    )
