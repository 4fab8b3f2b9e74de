"""LAMB: Adam's step rescaled per tensor by the trust ratio |w| / |step| (Keras 3 ``Lamb``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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
        return jnp.sqrt(family.debias(v, beta_2, t)) + core.cast(epsilon, v)

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


def Lamb(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **options):
    r"""LAMB, layer-wise adaptive moments (You et al., 2020), as Keras 3 writes it.

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\varepsilon$ ``epsilon``; norms are per tensor.

    $$d_t = \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon},\qquad
      r_t = \frac{\lVert w_t\rVert}{\lVert d_t\rVert}\ (1 \text{ if either is } 0),\qquad
      w_{t+1} = w_t - \eta\, r_t\, d_t$$

    with Adam's $m_t, v_t$. Keras has no separate LAMB weight decay: the shared decoupled
    ``weight_decay`` option is applied first and the trust ratio sees the decayed weights.
    Per-weight learning rate (applied to $\hat m_t$): $\eta r_t/(\sqrt{\hat v_t}+\varepsilon)$.
    Defaults are Keras's. Matches Keras 3 ``keras.optimizers.Lamb`` exactly.

    Reference: You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76
    minutes", ICLR 2020 (arXiv:1904.00962).
    """
    name = "Lamb"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    return family.finish(
        name,
        lamb_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
    )
