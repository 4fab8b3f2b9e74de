"""RAdam: Adam with its variance rectified, momentum SGD while the variance is intractable
(``optax.radam``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo


class RAdamState(NamedTuple):
    count: jax.Array
    mu: Any  # m_t, the first moment
    nu: Any  # v_t, the second moment (moving average of g^2)


def _rho(beta_2, t, like):
    """(rho_inf, rho_t): the length of the approximated simple moving average."""
    b2 = core.cast(beta_2, like)
    rho_inf = 2 / (1 - b2) - 1
    b2t = core.step_power(beta_2, t, like)
    return rho_inf, rho_inf - 2 * t.astype(like.dtype) * b2t / (1 - b2t)


def radam_core(beta_1, beta_2, epsilon, epsilon_root, threshold, nesterov) -> core.Core:
    def init(params):
        z = core.zeros_like(params)
        return RAdamState(family.count(), z, z)

    def rate(v, t, lr):
        """The factor applied to the bias-corrected first moment."""
        rho_inf, rho = _rho(beta_2, t, v)
        r = jnp.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        rectified = r / family.debiased_root(v, beta_2, t, epsilon, epsilon_root)
        return core.cast(lr, v) * jnp.where(rho >= core.cast(threshold, v), rectified, 1.0)

    def step_leaf(g, m, v, t, lr):
        m = core.moment(m, g, beta_1)
        v = core.moment(v, g * g, beta_2)
        m_hat = family.nesterov_moment(m, g, beta_1, t, nesterov)
        return -rate(v, t, lr) * m_hat, m, v

    step = family.leafwise(step_leaf, ("mu", "nu"))

    def learning_rates(state, lr):
        return jax.tree.map(lambda v: rate(v, state.count, lr), state.nu)

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
RADAM_INFO = OptimizerInfo(
    name="RAdam",
    rule=radam_core,
    summary="Adam with its variance rectified; momentum SGD while the variance is intractable.",
    group="adaptive",
    reference="Liu et al., On the Variance of the Adaptive Learning Rate and Beyond, ICLR 2020 "
    "(arXiv:1908.03265)",
    matches="optax.radam",
    defaults_from="optax (optax has no default learning rate: 0.001 is the paper's)",
    notes="m_hat and v_hat are bias-corrected. ``nesterov=True`` replaces m_hat by "
    "beta_1 m_t/(1-beta_1^(t+1)) + (1-beta_1) g_t/(1-beta_1^t) (optax's form). The per-weight "
    "learning rate is the factor applied to m_hat.",
    example="    >>> opt = optimizers.RAdam(learning_rate=1e-3)",
    update_latex=r"\rho_\infty=\frac{2}{1-\beta_2}-1,\ \rho_t=\rho_\infty-\frac{2t\beta_2^t}"
    r"{1-\beta_2^t},\ r_t=\sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)"
    r"(\rho_\infty-2)\rho_t}},\ w_{t+1}=w_t-\eta\begin{cases}r_t\hat m_t/(\sqrt{\hat v_t+"
    r"\bar\varepsilon}+\varepsilon)&\rho_t\ge\rho_{\min}\\\hat m_t&\text{otherwise}\end{cases}",
    learning_rate_latex=r"\eta\,r_t/(\sqrt{\hat v_t+\bar\varepsilon}+\varepsilon)"
    r"\ \text{once rectified, else }\eta",
    learning_rate=0.001,
    hyperparams=(
        *family.adam_moments(1e-8),
        family.epsilon_root(0.0),
        family.amount(
            "threshold", 5.0, 0.0, 20.0, "rho_min: below it the step is plain momentum SGD."
        ),
        family.OPTAX_NESTEROV,
    ),
    state=family.ADAM_MOMENTS,
)

RAdam = RADAM_INFO.build
