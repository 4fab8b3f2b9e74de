"""NovoGrad: momentum of gradients normalised by a per-layer second moment (``optax.novograd``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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


def NovoGrad(
    learning_rate=0.01,
    beta_1=0.9,
    beta_2=0.25,
    epsilon=1e-6,
    epsilon_root=0.0,
    weight_decay=0.0,
    **options,
) -> core.Optimizer:
    r"""NovoGrad (Ginsburg et al., 2019), as optax computes it.

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\varepsilon$ ``epsilon``, $\bar\varepsilon$ ``epsilon_root``, $\lambda$ ``weight_decay``;
    $v_t$ is one number per tensor (layer), $\lVert\cdot\rVert$ its Euclidean norm.

    $$v_t = \beta_2 v_{t-1} + (1-\beta_2)\lVert g_t\rVert^2\ (v_1 = \lVert g_1\rVert^2),\qquad
      m_t = \beta_1 m_{t-1} + \frac{g_t}{\sqrt{v_t+\bar\varepsilon}+\varepsilon} + \lambda w_t
      \ (m_1 \text{ without } \beta_1 m_0)$$
    $$w_{t+1} = w_t - \eta\, m_t$$

    ``weight_decay`` is optax's (inside the momentum); the shared decoupled option is not added
    on top. Per-weight learning rate: $\eta/(\sqrt{v_t+\bar\varepsilon}+\varepsilon)$, the same
    for every weight of a tensor, applied to the gradient entering the momentum. The second
    moment is not shaped like the parameters (a scalar per tensor). Defaults are optax's; optax
    has no default learning rate, this package uses 0.01. Matches ``optax.novograd`` exactly.

    Reference: Ginsburg et al., "Stochastic Gradient Methods with Layer-wise Adaptive Moments
    for Training of Deep Networks", arXiv:1905.11286 (2019).
    """
    name = "NovoGrad"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)
    core.check_epsilon(name, epsilon_root, "epsilon_root")
    core.check_range(name, "weight_decay", weight_decay, 0.0, None)
    return family.finish(
        name,
        novograd_core,
        learning_rate,
        options,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        epsilon_root=epsilon_root,
        weight_decay=weight_decay,
    )
