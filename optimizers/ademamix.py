"""AdEMAMix: Adam with a second, slow moving average of the gradient mixed into the step
(``optax.contrib.ademamix``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class AdEMAMixState(NamedTuple):
    count: jax.Array
    m1: Any  # m^{(1)}_t, the fast moving average of g (beta_1)
    m2: Any  # m^{(2)}_t, the slow moving average of g (beta_3; not bias-corrected)
    nu: Any  # v_t, the second moment


def ademamix_core(beta_1, beta_2, beta_3, alpha, epsilon, epsilon_root, weight_decay):
    def init(params):
        z = core.zeros_like(params)
        return AdEMAMixState(family.count(), z, z, z)

    def denominator(v, t):
        v_hat = family.debias(v, beta_2, t)
        return jnp.sqrt(v_hat + core.cast(epsilon_root, v)) + core.cast(epsilon, v)

    def step_leaf(g, w, m1, m2, v, t, lr):
        m1 = core.moment(m1, g, beta_1)
        m2 = core.moment(m2, g, beta_3)
        v = core.moment(v, g * g, beta_2)
        mixed = family.debias(m1, beta_1, t) + core.cast(alpha, m2) * m2
        update = mixed / denominator(v, t) + core.cast(weight_decay, w) * w
        return -core.cast(lr, g) * update, m1, m2, v

    step = family.leafwise(step_leaf, ("m1", "m2", "nu"), params=True)

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: core.cast(lr, v) / denominator(v, state.count), state.nu)

    return core.Core(init, step, learning_rates)


def AdEMAMix(
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    beta_3=0.9999,
    alpha=5.0,
    epsilon=1e-8,
    epsilon_root=0.0,
    weight_decay=0.0,
    **options,
) -> core.Optimizer:
    r"""AdEMAMix (Pagliardini et al., 2024), as ``optax.contrib.ademamix`` computes it.

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1`` (fast average), $\beta_2$
    ``beta_2`` (second moment), $\beta_3$ ``beta_3`` (slow average), $\alpha$ ``alpha``,
    $\varepsilon$ ``epsilon``, $\bar\varepsilon$ ``epsilon_root``, $\lambda$ ``weight_decay``.

    $$m^{(1)}_t = \beta_1 m^{(1)}_{t-1} + (1-\beta_1) g_t,\quad
      m^{(2)}_t = \beta_3 m^{(2)}_{t-1} + (1-\beta_3) g_t,\quad
      v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$$
    $$w_{t+1} = w_t - \eta\left(\frac{\hat m^{(1)}_t + \alpha\, m^{(2)}_t}
      {\sqrt{\hat v_t + \bar\varepsilon} + \varepsilon} + \lambda w_t\right)$$

    $\hat m^{(1)}_t, \hat v_t$ are bias-corrected, $m^{(2)}_t$ is not. optax lets $\beta_3$ and
    $\alpha$ follow schedules (the paper's warm-ups); here they are constants. ``weight_decay``
    is optax's (added before the learning rate); the shared decoupled option is not added on
    top. Per-weight learning rate (applied to $\hat m^{(1)}_t + \alpha m^{(2)}_t$):
    $\eta/(\sqrt{\hat v_t+\bar\varepsilon}+\varepsilon)$. Defaults are ``optax.contrib.ademamix``'s
    (``alpha=5``); optax has no default learning rate, this package uses 0.001. Matches
    ``optax.contrib.ademamix`` exactly.

    Reference: Pagliardini, Ablin & Grangier, "The AdEMAMix Optimizer: Better, Faster, Older",
    arXiv:2409.03509 (2024).
    """
    name = "AdEMAMix"
    core.check_learning_rate(name, learning_rate)
    for arg, value in (("beta_1", beta_1), ("beta_2", beta_2), ("beta_3", beta_3)):
        core.check_probability(name, arg, value)
    core.check_range(name, "alpha", alpha, 0.0, None)
    core.check_epsilon(name, epsilon)
    core.check_epsilon(name, epsilon_root, "epsilon_root")
    core.check_range(name, "weight_decay", weight_decay, 0.0, None)
    return family.finish(
        name,
        ademamix_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        beta_3=beta_3,
        alpha=alpha,
        epsilon=epsilon,
        epsilon_root=epsilon_root,
        weight_decay=weight_decay,
    )
