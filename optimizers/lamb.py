"""LAMB: Adam's step rescaled per tensor by the trust ratio |w| / |step| (Keras 3 ``Lamb``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, StateField


class LambState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment
    nu: Any  # v_t, the second moment
    trust_ratio: Any  # r_t per tensor (one scalar per leaf: not shaped like the parameters)


def lamb_core(beta_1, beta_2, epsilon) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        ones = jax.tree.map(lambda p: jnp.ones([], p.dtype), params)
        return LambState(family.count(), z, z, ones)

    def denominator(v, t):
        return family.debiased_root(v, beta_2, t, epsilon)

    def step_leaf(g, w, m, v, t, lr):
        m = core.moment(m, g, beta_1)
        v = core.moment(v, g * g, beta_2)
        direction = family.debias(m, beta_1, t) / denominator(v, t)
        w_norm = jnp.sqrt(jnp.sum(w * w))
        d_norm = jnp.sqrt(jnp.sum(direction * direction))
        ratio = jnp.where(w_norm > 0, jnp.where(d_norm > 0, w_norm / d_norm, 1.0), 1.0)
        return -ratio * core.cast(lr, g) * direction, m, v, ratio.astype(g.dtype)

    step = family.leafwise(
        step_leaf, ("mu", "nu"), params=True, outputs=("mu", "nu", "trust_ratio")
    )

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda v, r: r * core.cast(lr, v) / denominator(v, state.count),
            state.nu,
            state.trust_ratio,
        )

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
LAMB_INFO = OptimizerInfo(
    name="Lamb",
    rule=lamb_core,
    summary="Adam's step rescaled per layer by the trust ratio |w| / |step|.",
    group="adaptive",
    reference="You et al., Large Batch Optimization for Deep Learning: Training BERT in 76 "
    "minutes, ICLR 2020 (arXiv:1904.00962)",
    matches="Keras 3 Lamb",
    defaults_from="the Keras 3 documentation",
    notes="m_t, v_t are Adam's; the norms are per tensor, so r_t is one number per layer. Keras "
    "has no separate LAMB weight decay: the shared decoupled ``weight_decay`` option is applied "
    "first and the trust ratio sees the decayed weights. The per-weight learning rate applies "
    "to m_hat.",
    example="    >>> opt = optimizers.Lamb(learning_rate=1e-3)",
    update_latex=r"d_t=\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon},\quad r_t=\frac{\lVert w_t"
    r"\rVert}{\lVert d_t\rVert}\ (1\text{ if either is }0),\quad w_{t+1}=w_t-\eta\,r_t\,d_t",
    learning_rate_latex=r"\eta\,r_t\,/\,(\sqrt{\hat v_t}+\varepsilon)",
    learning_rate=0.001,
    hyperparams=family.adam_moments(1e-7),
    state=(
        *family.ADAM_MOMENTS,
        StateField(name="trust_ratio", symbol="r_t", role="trust_ratio", shape="per_tensor"),
    ),
)

Lamb = LAMB_INFO.build
