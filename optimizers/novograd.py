"""NovoGrad: momentum of gradients normalised by a per-layer second moment (``optax.novograd``)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, decay_rate, epsilon


class NovoGradState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the momentum of normalised gradients (parameter-shaped)
    nu: Any  # v_t, the moving average of |g|^2 per tensor: one scalar per leaf


def novograd_core(beta_1, beta_2, epsilon, epsilon_root, weight_decay) -> core.Core:
    def init(params):
        nu = jax.tree.map(lambda p: jnp.zeros([], p.dtype), params)
        return NovoGradState(family.count(), core.zeros_like(params), nu)

    def denominator(v):
        return jnp.sqrt(v + core.cast(epsilon_root, v)) + core.cast(epsilon, v)

    def step_leaf(g, w, m, v, t, lr):
        first = t == 1
        norm2 = (jnp.linalg.norm(g) ** 2).astype(v.dtype)
        v = jnp.where(first, norm2, core.moment(v, norm2, beta_2))
        normalised = g / denominator(v) + core.cast(weight_decay, w) * w
        m = jnp.where(first, normalised, core.cast(beta_1, m) * m + normalised)
        return -core.cast(lr, m) * m, m, v

    step = family.leafwise(step_leaf, ("mu", "nu"), params=True)

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda m, v: family.per_weight(core.cast(lr, v) / denominator(v), m),
            state.mu,
            state.nu,
        )

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
NOVOGRAD_INFO = OptimizerInfo(
    name="NovoGrad",
    rule=novograd_core,
    summary="Momentum of gradients normalised per layer by a layer-wise second moment.",
    group="adaptive",
    reference="Ginsburg et al., Stochastic Gradient Methods with Layer-wise Adaptive Moments "
    "for Training of Deep Networks, arXiv:1905.11286 (2019)",
    matches="optax.novograd",
    defaults_from="optax (optax has no default learning rate: 0.01 here)",
    notes="v_t is one number per tensor (layer), the norm its Euclidean norm; v_1 = |g_1|^2 "
    "and m_1 has no beta_1 m_0 term. ``weight_decay`` is optax's (inside the momentum); the "
    "shared decoupled option is not added on top. The per-weight learning rate is the same for "
    "every weight of a tensor, applied to the gradient entering the momentum.",
    example="    >>> opt = optimizers.NovoGrad(learning_rate=1e-2)",
    update_latex=r"v_t=\beta_2v_{t-1}+(1-\beta_2)\lVert g_t\rVert^2,\quad m_t=\beta_1m_{t-1}+"
    r"\frac{g_t}{\sqrt{v_t+\bar\varepsilon}+\varepsilon}+\lambda w_t,\quad w_{t+1}=w_t-\eta m_t",
    learning_rate_latex=r"\eta\,/\,(\sqrt{v_t+\bar\varepsilon}+\varepsilon)",
    learning_rate=0.01,
    hyperparams=(
        decay_rate("beta_1", 0.9, "Decay rate of the momentum."),
        family.beta_2(0.25, "Decay rate of the layer-wise second moment."),
        epsilon(1e-6),
        family.epsilon_root(0.0),
        family.optax_weight_decay("inside the momentum"),
    ),
    state=(
        family.FIRST_MOMENT,
        dataclasses.replace(family.SECOND_MOMENT, shape="per_tensor"),
    ),
)

NovoGrad = NOVOGRAD_INFO.build
