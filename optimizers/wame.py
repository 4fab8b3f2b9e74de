"""WAME: weight-wise adaptive learning rates with moving-average estimator (Mosca & Magoulas)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core

VARIANTS = ("paper", "paper_sqrt", "tensorflow")


class WAMEState(NamedTuple):
    count: jax.Array
    previous_gradient: Any  # g_{t-1}
    zeta: Any  # zeta_t, the per-weight acceleration factor
    z: Any  # Z_t, the moving average of zeta
    theta: Any  # theta_t, the moving average of g^2


def WAME(
    learning_rate=0.001,
    alpha=0.9,
    eta_plus=1.2,
    eta_minus=0.1,
    zeta_min=0.01,
    zeta_max=100.0,
    epsilon=1e-7,
    variant="paper",
    **options,
) -> core.Optimizer:
    r"""WAME (Mosca & Magoulas, ESANN 2017), in three documented variants.

    Symbols: $\lambda$ ``learning_rate``, $\alpha$ ``alpha``, $\eta_+$ ``eta_plus``,
    $\eta_-$ ``eta_minus``, $\zeta_{\min}$ ``zeta_min``, $\zeta_{\max}$ ``zeta_max``,
    $\varepsilon$ ``epsilon``.

    ``variant="paper"`` is Algorithm 1 of the paper: $\zeta_0 = 1$, $Z_0 = \theta_0 = 0$, Rprop
    sign logic on the per-weight acceleration,

    $$\zeta_t = \begin{cases}\min(\eta_+\zeta_{t-1}, \zeta_{\max}) & g_t g_{t-1} > 0\\
      \max(\eta_-\zeta_{t-1}, \zeta_{\min}) & g_t g_{t-1} < 0\\ \zeta_{t-1} & \text{else}
      \end{cases}$$
    $$Z_t = \alpha Z_{t-1} + (1-\alpha)\zeta_t,\quad
      \theta_t = \alpha\theta_{t-1} + (1-\alpha) g_t^2,\quad
      w_{t+1} = w_t - \lambda Z_t\,\frac{g_t}{\theta_t + \varepsilon}$$

    (the paper has $1/\theta_t$; $\varepsilon$ only guards a zero gradient).
    ``variant="paper_sqrt"`` is the adjusted form $\lambda Z_t g_t/(\sqrt{\theta_t}+\varepsilon)$.
    ``variant="tensorflow"`` reproduces the published TensorFlow 2 package (seed 000,
    justinbt1/WAME-Optimiser) with its deviations (OPTIMIZER_EQUATIONS.md section 14b): all
    slots start at 0; $\zeta_t = \mathrm{clip}(\theta_{t-1}\eta_+, \cdot)$ on a sign *change*
    and $\theta_{t-1}\eta_-$ on sign agreement; the step is
    $\lambda Z_t g_t/(\theta_t + \varepsilon)$ with $\varepsilon$ = ``K.epsilon()`` = 1e-7; and
    the hyperparameters (not $\varepsilon$) are rounded to float32, as TF keeps them in float32
    variables even for float64 weights.

    Per-weight learning rate: $\lambda Z_t/(\theta_t+\varepsilon)$ (``paper_sqrt``:
    $\lambda Z_t/(\sqrt{\theta_t}+\varepsilon)$). Since $\theta \sim g^2$, the realised step of the
    1/theta forms behaves like $\lambda Z/g$: the first step moves each weight by about
    $\lambda/|g_1|$.

    Defaults: the README of seed 000 (``zeta_min`` 0.01 as its code; its text says 0.1).
    No peer library exists in JAX: each variant is tested against an independent
    transcription (the TF code is replicated with float32-rounded constants).

    Example (dropping WAME into an optax training loop):
        >>> import jax, jax.numpy as jnp, optax, optimizers
        >>> loss = lambda w: jnp.sum((w - 3.0) ** 2)
        >>> opt = optimizers.WAME(learning_rate=0.01, variant="paper_sqrt")
        >>> w = jnp.zeros(3); state = opt.init(w)
        >>> for _ in range(200):
        ...     updates, state = opt.update(jax.grad(loss)(w), state, w)
        ...     w = optax.apply_updates(w, updates)

    Reference: Mosca & Magoulas, "Training Convolutional Networks with Weight-wise Adaptive
    Learning Rates", ESANN 2017.
    """
    name = "WAME"
    core.check_choice(name, "variant", variant, VARIANTS)
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "alpha", alpha)
    core.check_range(name, "eta_plus", eta_plus, 1.0, None, low_open=True)
    core.check_range(name, "eta_minus", eta_minus, 0.0, 1.0, low_open=True, high_open=True)
    core.check_range(name, "zeta_min", zeta_min, 0.0, None, low_open=True)
    core.check_range(name, "zeta_max", zeta_max, 0.0, None, low_open=True)
    if not (core.is_traced(zeta_min) or core.is_traced(zeta_max)) and zeta_min > zeta_max:
        raise ValueError(f"{name}: zeta_min={zeta_min!r} must not exceed zeta_max={zeta_max!r}")
    core.check_epsilon(name, epsilon)
    opts = core.check_options(
        name,
        options,
        (
            "learning_rate",
            "alpha",
            "eta_plus",
            "eta_minus",
            "zeta_min",
            "zeta_max",
            "epsilon",
            "variant",
        ),
    )
    tf = variant == "tensorflow"

    def h(value, like):
        """A hyperparameter as the variant sees it (float32-rounded for the TF variant)."""
        if tf:
            value = jnp.asarray(value, jnp.float32)
        return core.cast(value, like)

    def init(params):
        z = core.zeros_like(params)
        zeta = z if tf else jax.tree.map(jnp.ones_like, params)
        return WAMEState(jnp.zeros([], jnp.int32), z, zeta, z, z)

    def denominator(theta):
        eps = core.cast(epsilon, theta)
        return jnp.sqrt(theta) + eps if variant == "paper_sqrt" else theta + eps

    def step_leaf(g, g_prev, zeta, z, theta, lr):
        sign = g * g_prev
        up, down = h(eta_plus, g), h(eta_minus, g)
        lo, hi = h(zeta_min, g), h(zeta_max, g)
        if tf:  # base theta_{t-1}; eta_plus on a sign change; clip afterwards
            zeta = jnp.where(sign < 0, theta * up, jnp.where(sign > 0, theta * down, zeta))
            zeta = jnp.clip(zeta, lo, hi)
        else:
            zeta = jnp.where(
                sign > 0,
                jnp.minimum(zeta * up, hi),
                jnp.where(sign < 0, jnp.maximum(zeta * down, lo), zeta),
            )
        a = h(alpha, g)
        z = a * z + (1 - a) * zeta
        theta = a * theta + (1 - a) * g * g
        step = h(lr, g) * (z * g * (1 / denominator(theta)))
        return -step, g, zeta, z, theta

    def step(grads, state, params, lr):
        del params
        updates, g_prev, zeta, z, theta = core.map_leaves(
            lambda *a: step_leaf(*a, lr),
            grads,
            state.previous_gradient,
            state.zeta,
            state.z,
            state.theta,
        )
        return updates, WAMEState(state.count + 1, g_prev, zeta, z, theta)

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda z, theta: h(lr, z) * z / denominator(theta), state.z, state.theta
        )

    return core.with_options(
        core.Core(init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate,
            alpha=alpha,
            eta_plus=eta_plus,
            eta_minus=eta_minus,
            zeta_min=zeta_min,
            zeta_max=zeta_max,
            epsilon=epsilon,
            variant=variant,
        ),
    )
