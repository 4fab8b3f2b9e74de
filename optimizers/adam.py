"""The Adam family: Adam, AMSGrad, AdamW, Adamax and Nadam (Keras 3 forms).

All share the first moment $m_t$ and bias-corrected steps; they differ in the second moment
(squared-gradient average, its running max, or an infinity norm) and in the momentum term.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core

_NAMES = ("learning_rate", "beta_1", "beta_2", "epsilon")


class AdamState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t
    nu: Any  # v_t (Adamax: u_t, the infinity norm)
    nu_max: Any  # AMSGrad's running max of v_t (zeros otherwise)
    u_product: jax.Array  # Nadam's product of momentum-schedule terms (1 otherwise)


def _check(name, learning_rate, beta_1, beta_2, epsilon):
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "beta_1", beta_1)
    core.check_probability(name, "beta_2", beta_2)
    core.check_epsilon(name, epsilon)


def _init(params):
    z = core.zeros_like(params)
    leaves = jax.tree.leaves(params)
    dtype = leaves[0].dtype if leaves else jnp.float32
    return AdamState(jnp.zeros([], jnp.int32), z, z, z, jnp.ones([], dtype))


def _adam_core(beta_1, beta_2, epsilon, amsgrad: bool) -> core.Core:
    """Keras ``Adam``: the epsilon-hat form, bias correction folded into the step size."""

    def rate(v, t, lr):
        # alpha_t / (sqrt(v) + eps) with alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t), applied to m;
        # applied to m_hat this is lr sqrt(1 - b2^t) / (sqrt(v) + eps).
        c2 = 1 - core.step_power(beta_2, t, v)
        return core.cast(lr, v) * jnp.sqrt(c2) / (jnp.sqrt(v) + core.cast(epsilon, v))

    def step_leaf(g, m, v, vmax, t, lr):
        m = core.moment(m, g, beta_1)
        v = core.moment(v, g * g, beta_2)
        vmax = jnp.maximum(vmax, v) if amsgrad else vmax
        c1 = 1 - core.step_power(beta_1, t, g)
        return -rate(vmax if amsgrad else v, t, lr) * m / c1, m, v, vmax

    def step(grads, state, params, lr):
        del params
        t = state.count + 1
        updates, m, v, vmax = core.map_leaves(
            lambda *a: step_leaf(*a, t, lr), grads, state.mu, state.nu, state.nu_max
        )
        return updates, state._replace(count=t, mu=m, nu=v, nu_max=vmax)

    def learning_rates(state, lr):
        second = state.nu_max if amsgrad else state.nu
        return jax.tree.map(lambda v: rate(v, state.count, lr), second)

    return core.Core(_init, step, learning_rates)


def Adam(
    learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **options
) -> core.Optimizer:
    r"""Adam (Kingma & Ba, 2015); AMSGrad (Reddi et al., 2018) with ``amsgrad=True``.

    Symbols: $\eta$ ``learning_rate``, $\beta_1$ ``beta_1``, $\beta_2$ ``beta_2``,
    $\hat\varepsilon$ ``epsilon``.

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$$
    $$\alpha_t = \eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t},\qquad
      w_{t+1} = w_t - \alpha_t\,\frac{m_t}{\sqrt{v_t} + \hat\varepsilon}$$

    This is the epsilon-hat form of the paper (the formula before its section 2.1), used by
    Keras and kerasy: it equals the textbook $\eta\hat m_t/(\sqrt{\hat v_t}+\varepsilon)$ with
    $\varepsilon_t = \hat\varepsilon/\sqrt{1-\beta_2^t}$. AMSGrad replaces $v_t$ in the step by
    $\max(v^{\max}_{t-1}, v_t)$, the max of the *uncorrected* $v$ (Keras; optax takes the max of
    $\hat v$, which differs).

    Per-weight learning rate (the factor applied to $\hat m_t$):
    $\eta/(\sqrt{\hat v_t} + \hat\varepsilon/\sqrt{1-\beta_2^t})$.

    Defaults: the Keras AdamW document and the issue's API (``epsilon=1e-7``); the Adam
    article quotes 1e-8 for TensorFlow 1. Matches Keras 3 ``Adam`` exactly, chosen over optax's
    canonical form because the reference documents describe Keras-style arguments.

    Example:
        >>> import optimizers
        >>> opt = optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
        ...                       epsilon=1e-7, amsgrad=False)

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015;
    Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.
    """
    name = "Adam"
    _check(name, learning_rate, beta_1, beta_2, epsilon)
    core.check_flag(name, "amsgrad", amsgrad)
    opts = core.check_options(name, options, (*_NAMES, "amsgrad"))
    return core.with_options(
        _adam_core(beta_1, beta_2, epsilon, amsgrad),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
        ),
    )


def AdamW(
    learning_rate=0.001,
    weight_decay=0.004,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-7,
    amsgrad=False,
    **options,
) -> core.Optimizer:
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Symbols: as :func:`Adam`, plus $\lambda$ ``weight_decay``.

    $$w \leftarrow w - \eta\lambda w,\qquad\text{then the Adam step with } g_t
      \text{ taken at the old } w$$

    The decay is the shared ``weight_decay`` option of every optimizer (Keras applies it before
    the update step). Per-weight learning rate: as Adam's (the decay shrinks every weight by the
    same factor $1-\eta\lambda$). Defaults from the Keras AdamW document
    (``weight_decay=0.004``, ``epsilon=1e-7``). Matches Keras 3 ``AdamW`` exactly.

    Example:
        >>> import optimizers
        >>> opt = optimizers.AdamW(learning_rate=1e-3, weight_decay=0.004)

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """
    name = "AdamW"
    _check(name, learning_rate, beta_1, beta_2, epsilon)
    core.check_flag(name, "amsgrad", amsgrad)
    opts = core.check_options(name, {**options, "weight_decay": weight_decay}, (*_NAMES, "amsgrad"))
    return core.with_options(
        _adam_core(beta_1, beta_2, epsilon, amsgrad),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
        ),
    )


def Adamax(learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **options):
    r"""Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2015, section 7.1).

    Symbols: as :func:`Adam`.

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad u_t = \max(\beta_2 u_{t-1}, |g_t|),\qquad
      w_{t+1} = w_t - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t + \varepsilon}$$

    $u$ is not bias-corrected. Per-weight learning rate (applied to $\hat m_t$):
    $\eta/(u_t + \varepsilon)$. Defaults from the kerasy document (``learning_rate=0.002``);
    epsilon 1e-7 as Keras (optax puts it inside the max instead). Matches Keras 3 ``Adamax``.

    Example:
        >>> import optimizers
        >>> opt = optimizers.Adamax()

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """
    name = "Adamax"
    _check(name, learning_rate, beta_1, beta_2, epsilon)
    opts = core.check_options(name, options, _NAMES)

    def rate(u, lr):
        return core.cast(lr, u) / (u + core.cast(epsilon, u))

    def step_leaf(g, m, u, t, lr):
        m = core.moment(m, g, beta_1)
        u = jnp.maximum(core.cast(beta_2, u) * u, jnp.abs(g))
        return -rate(u, lr) * m / (1 - core.step_power(beta_1, t, g)), m, u

    def step(grads, state, params, lr):
        del params
        t = state.count + 1
        updates, m, u = core.map_leaves(lambda *a: step_leaf(*a, t, lr), grads, state.mu, state.nu)
        return updates, state._replace(count=t, mu=m, nu=u)

    def learning_rates(state, lr):
        return jax.tree.map(lambda u: rate(u, lr), state.nu)

    return core.with_options(
        core.Core(_init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon
        ),
    )


def Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **options):
    r"""Nadam: Adam with Nesterov momentum (Dozat, 2016), with Keras 3's momentum schedule.

    Symbols: as :func:`Adam`. Momentum schedule $\mu_t = \beta_1(1 - \tfrac12\,0.96^{t})$ and
    its running product $\Pi_t = \prod_{i\le t}\mu_i$:

    $$\hat m_t = \frac{\mu_{t+1} m_t}{1-\Pi_t\mu_{t+1}} + \frac{(1-\mu_t) g_t}{1-\Pi_t},\qquad
      \hat v_t = \frac{v_t}{1-\beta_2^t},\qquad
      w_{t+1} = w_t - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}$$

    The four libraries use four different schedules (OPTIMIZER_EQUATIONS.md section 11); this
    is Keras 3's. Per-weight learning rate: $\eta/(\sqrt{\hat v_t}+\varepsilon)$, as Adam.
    Defaults from the kerasy document. Matches Keras 3 ``Nadam`` exactly.

    Example:
        >>> import optimizers
        >>> opt = optimizers.Nadam(learning_rate=2e-3)

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
    """
    name = "Nadam"
    _check(name, learning_rate, beta_1, beta_2, epsilon)
    opts = core.check_options(name, options, _NAMES)

    def mu(t, like):
        return core.cast(beta_1, like) * (1 - 0.5 * jnp.power(core.cast(0.96, like), t))

    def rate(v, t, lr):
        v_hat = v / (1 - core.step_power(beta_2, t, v))
        return core.cast(lr, v) / (jnp.sqrt(v_hat) + core.cast(epsilon, v))

    def step_leaf(g, m, v, t, lr, u_product):
        tt = t.astype(g.dtype)
        mu_t, mu_next = mu(tt, g), mu(tt + 1, g)
        product = u_product.astype(g.dtype)
        m = core.moment(m, g, beta_1)
        v = core.moment(v, g * g, beta_2)
        m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
        return -rate(v, t, lr) * m_hat, m, v

    def step(grads, state, params, lr):
        del params
        t = state.count + 1
        u_product = state.u_product * mu(t.astype(state.u_product.dtype), state.u_product)
        updates, m, v = core.map_leaves(
            lambda *a: step_leaf(*a, t, lr, u_product), grads, state.mu, state.nu
        )
        return updates, state._replace(count=t, mu=m, nu=v, u_product=u_product)

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: rate(v, state.count, lr), state.nu)

    return core.with_options(
        core.Core(_init, step, learning_rates),
        learning_rate,
        opts,
        name=name,
        hyperparams=dict(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon
        ),
    )
