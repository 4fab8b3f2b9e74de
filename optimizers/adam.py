"""The Adam family: Adam, AMSGrad, AdamW, Adamax and Nadam (Keras 3 forms).

All share the first moment m_t and bias-corrected steps; they differ in the second moment
(squared-gradient average, its running max, or an infinity norm) and in the momentum term.
Each state holds what its algorithm needs and no more (as optax's states): plain Adam keeps no
AMSGrad max and no Nadam product. AdamW is Adam's rule with the shared decoupled weight decay
declared as a hyperparameter of its own. Equations and library differences:
docs/optimizer-equations.md, Adam family.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OPTIONS, OptimizerInfo, StateField, epsilon, flag, insert_after


class AdamState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t
    nu: Any  # v_t (Adamax: u_t, the infinity norm)


class AMSGradState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any
    nu_max: Any  # running max of v_t (of the uncorrected v, as Keras)


class NadamState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any
    u_product: jax.Array  # product of the momentum-schedule terms mu_1 ... mu_t


def _zeros(params):
    return jnp.zeros([], jnp.int32), core.zeros_like(params)


def _adam_core(beta_1, beta_2, epsilon, amsgrad: bool) -> core.Core:
    """Keras ``Adam``: the epsilon-hat form, bias correction folded into the step size."""

    def init(params):
        count, z = _zeros(params)
        return AMSGradState(count, z, z, z) if amsgrad else AdamState(count, z, z)

    def rate(v, t, lr):
        # alpha_t / (sqrt(v) + eps) with alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t), applied to m;
        # applied to m_hat this is lr sqrt(1 - b2^t) / (sqrt(v) + eps).
        c2 = 1 - core.step_power(beta_2, t, v)
        return core.cast(lr, v) * jnp.sqrt(c2) / (jnp.sqrt(v) + core.cast(epsilon, v))

    def step_leaf(g, m, v, *vmax, t, lr):
        m = core.moment(m, g, beta_1)
        v = core.moment(v, g * g, beta_2)
        vmax = tuple(jnp.maximum(x, v) for x in vmax)
        c1 = 1 - core.step_power(beta_1, t, g)
        return (-rate(vmax[0] if amsgrad else v, t, lr) * m / c1, m, v, *vmax)

    def step(grads, state, params, lr):
        del params
        t = state.count + 1
        updates, *moments = core.map_leaves(lambda *a: step_leaf(*a, t=t, lr=lr), grads, *state[1:])
        return updates, type(state)(t, *moments)

    def learning_rates(state, lr):
        second = state.nu_max if amsgrad else state.nu
        return jax.tree.map(lambda v: rate(v, state.count, lr), second)

    return core.Core(init, step, learning_rates)


def _adamax_core(beta_1, beta_2, epsilon) -> core.Core:
    def init(params):
        return AdamState(*_zeros(params), core.zeros_like(params))

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
        return updates, AdamState(t, m, u)

    def learning_rates(state, lr):
        return jax.tree.map(lambda u: rate(u, lr), state.nu)

    return core.Core(init, step, learning_rates)


def _nadam_core(beta_1, beta_2, epsilon) -> core.Core:
    def init(params):
        count, z = _zeros(params)
        return NadamState(count, z, z, jnp.ones([], core.float_dtype(params)))

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
        return updates, NadamState(t, m, v, u_product)

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: rate(v, state.count, lr), state.nu)

    return core.Core(init, step, learning_rates)


# ---- declarations -------------------------------------------------------------------------------
_AMSGRAD = flag("amsgrad", False, "Whether to apply the AMSGrad variant (Reddi et al., 2018).")
_ADAM_LATEX = (
    r"m_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad v_t=\beta_2 v_{t-1}+(1-\beta_2)g_t^2,\quad "
    r"w_{t+1}=w_t-\eta\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\frac{m_t}{\sqrt{v_t}+\hat\varepsilon}"
)
_ADAM_LR = r"\eta\,/\,\big(\sqrt{\hat v_t}+\hat\varepsilon/\sqrt{1-\beta_2^t}\big)"
_ADAM_REF = "Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015"
_KERAS_DEFAULTS = "the Keras 3 documentation (epsilon=1e-7; the Adam paper quotes 1e-8)"

ADAM_INFO = OptimizerInfo(
    name="Adam",
    rule=_adam_core,
    summary="Momentum on the gradient, per-weight scale from the squared-gradient average.",
    group="adaptive",
    reference=_ADAM_REF,
    matches="Keras 3 Adam",
    defaults_from=_KERAS_DEFAULTS,
    notes="This is the epsilon-hat form of the paper (the formula before its section 2.1), used "
    "by Keras and kerasy: it equals the textbook eta m_hat/(sqrt(v_hat) + eps) with "
    "eps_t = eps_hat/sqrt(1 - beta_2^t). The per-weight learning rate is the factor applied to "
    "m_hat. ``amsgrad=True`` replaces v_t in the step by its running max (the AMSGrad preset), "
    "the max of the uncorrected v as Keras (optax takes the max of v_hat, which differs).",
    example="    >>> opt = optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999)",
    update_latex=_ADAM_LATEX,
    learning_rate_latex=_ADAM_LR,
    learning_rate=0.001,
    hyperparams=(
        *family.adam_moments(
            epsilon(1e-7, "Epsilon hat of the paper (before its 2.1)."),
            beta_2_help="The exponential decay rate for the 2nd moment estimates.",
        ),
        _AMSGRAD,
    ),
    state=family.ADAM_MOMENTS,
)

AMSGRAD_INFO = ADAM_INFO.preset(
    name="AMSGrad",
    summary="Adam whose denominator never shrinks: the running max of v.",
    reference="Reddi, Kale & Kumar, On the Convergence of Adam and Beyond, ICLR 2018",
    matches="Keras 3 Adam(amsgrad=True)",
    update_latex=_ADAM_LATEX.replace(r"\sqrt{v_t}", r"\sqrt{v^{\max}_t}")
    + r",\quad v^{\max}_t=\max(v^{\max}_{t-1},v_t)",
    learning_rate_latex=_ADAM_LR.replace(r"\hat v_t", r"\hat v^{\max}_t"),
    fixed={"amsgrad": True},
    state=(
        *family.ADAM_MOMENTS,
        StateField(name="nu_max", symbol=r"v^{\max}_t", role="second_moment_max"),
    ),
)

# AdamW: Adam's rule; its weight_decay is the shared decoupled option (applied before the step,
# as Keras), declared here as a hyperparameter with AdamW's default.
ADAMW_INFO = ADAM_INFO.derive(
    name="AdamW",
    summary="Adam with decoupled weight decay: shrinks weights by lr*wd each step.",
    reference="Loshchilov & Hutter, Decoupled Weight Decay Regularization, ICLR 2019",
    matches="Keras 3 AdamW",
    defaults_from="the Keras 3 AdamW documentation (weight_decay=0.004, epsilon=1e-7)",
    notes="The decay is the shared ``weight_decay`` option of every optimizer, applied before "
    "the Adam step (the gradient is taken at the old w); the per-weight learning rate is "
    "Adam's (the decay shrinks every weight by the same factor 1 - eta lambda).",
    example="    >>> opt = optimizers.AdamW(learning_rate=1e-3, weight_decay=0.004)",
    update_latex=r"w\leftarrow w-\eta\lambda w,\quad " + _ADAM_LATEX,
    hyperparams=insert_after(
        ADAM_INFO.hyperparams,
        "learning_rate",
        dataclasses.replace(
            next(o for o in OPTIONS if o.name == "weight_decay"),
            default=0.004,
            help="Decoupled weight decay lambda: w <- w - lr * lambda * w.",
            option=True,
        ),
    ),
)


# Adam's hyperparameters after the learning rate, without the AMSGrad flag (Adamax, Nadam).
_WITHOUT_AMSGRAD = ADAM_INFO.hyperparams[1:-1]


ADAMAX_INFO = ADAM_INFO.derive(
    name="Adamax",
    rule=_adamax_core,
    summary="Adam with an infinity norm: the scale is the decayed max of |g|.",
    reference=_ADAM_REF + ", section 7.1",
    matches="Keras 3 Adamax",
    defaults_from="the kerasy optimizers documentation (learning_rate=0.002); epsilon 1e-7 as "
    "Keras (optax puts it inside the max instead)",
    notes="u is not bias-corrected; the per-weight learning rate applies to m_hat.",
    example="    >>> opt = optimizers.Adamax()",
    update_latex=r"m_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad u_t=\max(\beta_2u_{t-1},|g_t|),\quad "
    r"w_{t+1}=w_t-\frac{\eta}{1-\beta_1^t}\frac{m_t}{u_t+\varepsilon}",
    learning_rate_latex=r"\eta\,/\,(u_t+\varepsilon)",
    learning_rate=0.002,
    hyperparams=_WITHOUT_AMSGRAD,
    state=(family.FIRST_MOMENT, StateField(name="nu", symbol="u_t", role="infinity_norm")),
)

NADAM_INFO = ADAM_INFO.derive(
    name="Nadam",
    rule=_nadam_core,
    summary="Adam with Nesterov momentum (Keras's warming momentum schedule).",
    reference="Dozat, Incorporating Nesterov Momentum into Adam, ICLR 2016 workshop",
    matches="Keras 3 Nadam",
    defaults_from="the kerasy optimizers documentation",
    notes="Pi_t is the running product of the momentum schedule mu_1 ... mu_t. The libraries "
    "use four different schedules (docs/optimizer-equations.md, Adam family); this is Keras 3's.",
    example="    >>> opt = optimizers.Nadam(learning_rate=2e-3)",
    update_latex=r"\mu_t=\beta_1(1-\tfrac12 0.96^t),\ "
    r"\hat m_t=\frac{\mu_{t+1}m_t}{1-\Pi_t\mu_{t+1}}+\frac{(1-\mu_t)g_t}{1-\Pi_t},\ "
    r"w_{t+1}=w_t-\eta\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon}",
    learning_rate_latex=r"\eta\,/\,(\sqrt{\hat v_t}+\varepsilon)",
    learning_rate=0.001,
    hyperparams=_WITHOUT_AMSGRAD,
)

Adam = ADAM_INFO.build
AdamW = ADAMW_INFO.build
Adamax = ADAMAX_INFO.build
Nadam = NADAM_INFO.build
