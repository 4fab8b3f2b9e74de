"""AdEMAMix: Adam with a second, slow moving average of the gradient mixed into the step
(``optax.contrib.ademamix``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from optimizers import core, family
from optimizers.declare import OptimizerInfo, StateField, decay_rate, epsilon, momentum_buffer


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
        return family.debiased_root(v, beta_2, t, epsilon, epsilon_root)

    def step_leaf(g, w, m1, m2, v, t, lr):
        m1 = core.moment(m1, g, beta_1)
        m2 = core.moment(m2, g, beta_3)
        v = core.moment(v, g * g, beta_2)
        mixed = family.debias(m1, beta_1, t) + core.cast(alpha, m2) * m2
        update = mixed / denominator(v, t) + core.cast(weight_decay, w) * w
        return -core.cast(lr, g) * update, m1, m2, v

    learning_rates = family.rates_over("nu", denominator)
    step = family.leafwise(step_leaf, ("m1", "m2", "nu"), params=True)
    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
ADEMAMIX_INFO = OptimizerInfo(
    name="AdEMAMix",
    rule=ademamix_core,
    summary="Adam with a second, much slower momentum mixed into the step.",
    group="adaptive",
    reference="Pagliardini, Ablin & Grangier, The AdEMAMix Optimizer: Better, Faster, Older, "
    "arXiv:2409.03509 (2024)",
    matches="optax.contrib.ademamix",
    defaults_from="optax.contrib.ademamix (alpha=5; optax has no default learning rate: 0.001 "
    "here)",
    notes="m1 and v are bias-corrected, m2 is not. optax lets beta_3 and alpha follow schedules "
    "(the paper's warm-ups); here they are constants. ``weight_decay`` is optax's (added before "
    "the learning rate); the shared decoupled option is not added on top. The per-weight "
    "learning rate applies to m1_hat + alpha m2.",
    example="    >>> opt = optimizers.AdEMAMix(learning_rate=1e-3)",
    update_latex=r"m^{(1)}_t=\beta_1m^{(1)}_{t-1}+(1-\beta_1)g_t,\ m^{(2)}_t=\beta_3m^{(2)}_{t-1}"
    r"+(1-\beta_3)g_t,\ v_t=\beta_2v_{t-1}+(1-\beta_2)g_t^2,\ w_{t+1}=w_t-\eta\Big("
    r"\frac{\hat m^{(1)}_t+\alpha m^{(2)}_t}{\sqrt{\hat v_t+\bar\varepsilon}+\varepsilon}"
    r"+\lambda w_t\Big)",
    learning_rate_latex=r"\eta\,/\,(\sqrt{\hat v_t+\bar\varepsilon}+\varepsilon)",
    learning_rate=0.001,
    hyperparams=(
        decay_rate("beta_1", 0.9, "Decay rate of the fast momentum m1."),
        decay_rate("beta_2", 0.999, "Decay rate of the second moment.", live=False),
        decay_rate("beta_3", 0.9999, "Decay rate of the slow momentum m2.", live=False),
        family.amount("alpha", 5.0, 0.0, 20.0, "Weight of the slow momentum.", live=True),
        epsilon(1e-8),
        family.epsilon_root(0.0),
        family.optax_weight_decay("added to the update before the learning rate"),
    ),
    state=(
        momentum_buffer("m1", r"m^{(1)}_t"),
        StateField(name="m2", symbol=r"m^{(2)}_t", role="slow_momentum"),
        StateField(name="nu", symbol="v_t", role="second_moment"),
    ),
)

AdEMAMix = ADEMAMIX_INFO.build
