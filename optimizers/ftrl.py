"""FTRL-Proximal: follow the regularised leader, per coordinate (Keras 3 ``Ftrl``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import OptimizerInfo, Range, StateField


class FtrlState(NamedTuple):
    count: jax.Array
    accumulator: Any  # n_t, the running sum of g^2 (starts at initial_accumulator_value)
    linear: Any  # z_t, the linear term; the weights are a closed-form function of z_t and n_t


def ftrl_core(
    learning_rate_power,
    initial_accumulator_value,
    l1_regularization_strength,
    l2_regularization_strength,
    l2_shrinkage_regularization_strength,
    beta,
) -> core.Core:
    lr_power, l1, l2 = learning_rate_power, l1_regularization_strength, l2_regularization_strength
    l2_shrinkage = l2_shrinkage_regularization_strength

    def init(params):
        n0 = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params)
        return FtrlState(family.count(), n0, core.zeros_like(params))

    def quadratic(n, lr):
        """The denominator of the closed form: n^{-p}/lr + 2 l2 + beta/lr."""
        lr = core.cast(lr, n)
        l2_total = core.cast(l2, n) + core.cast(beta, n) / (2.0 * lr)
        return jnp.power(n, -core.cast(lr_power, n)) / lr + 2 * l2_total

    def step_leaf(g, w, n, z, t, lr):
        p = -core.cast(lr_power, n)
        shrunk = g + 2 * core.cast(l2_shrinkage, w) * w
        n_new = n + g * g
        sigma = (jnp.power(n_new, p) - jnp.power(n, p)) / core.cast(lr, n)
        z = z + (shrunk - sigma * w)
        limit = core.cast(l1, z)
        w_new = (jnp.clip(z, -limit, limit) - z) / quadratic(n_new, lr)
        return w_new - w, n_new, z

    step = family.leafwise(step_leaf, ("accumulator", "linear"), params=True)

    def learning_rates(state, lr):
        return jax.tree.map(lambda n: 1 / quadratic(n, lr), state.accumulator)

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
FTRL_INFO = OptimizerInfo(
    name="Ftrl",
    rule=ftrl_core,
    summary="Follow the regularised leader: weights in closed form from summed gradients.",
    group="classic",
    reference="McMahan et al., Ad Click Prediction: a View from the Trenches, KDD 2013",
    matches="Keras 3 Ftrl",
    defaults_from="the Keras 3 documentation",
    notes="The closed form is centred at the origin: the first step forgets most of the "
    "starting weights (w_1 = (1 - sqrt(n_0/n_1)) w_0 - eta g_1/sqrt(n_1) without regularisation, "
    "as in Keras), since FTRL is meant for weights that start at 0. "
    "lambda_s shrinks only the linear term, not n_t. The per-weight learning rate is the "
    "per-coordinate rate of the closed form (with p = -1/2 and no regularisation, Adagrad's "
    "eta/sqrt(n_t)).",
    example="    >>> opt = optimizers.Ftrl(learning_rate=0.1)",
    update_latex=r"n_t=n_{t-1}+g_t^2,\ z_t=z_{t-1}+g_t+2\lambda_sw_t-\frac{n_t^{-p}-n_{t-1}^{-p}}"
    r"{\eta}w_t,\ w_{t+1}=\frac{\mathrm{clip}(z_t,-\lambda_1,\lambda_1)-z_t}{n_t^{-p}/\eta+"
    r"2\lambda_2+\beta/\eta}",
    learning_rate_latex=r"1\,/\,(n_t^{-p}/\eta+2\lambda_2+\beta/\eta)",
    learning_rate=0.001,
    hyperparams=(
        family.amount(
            "learning_rate_power",
            -0.5,
            -2.0,
            0.0,
            "p: the power of n in the per-weight rate.",
            valid=Range(high=0.0),
        ),
        family.amount(
            "initial_accumulator_value",
            0.1,
            1e-3,
            10.0,
            "n_0, the starting sum of g^2.",
            scale="log",
        ),
        family.amount("l1_regularization_strength", 0.0, 0.0, 1.0, "lambda_1 (L1)."),
        family.amount("l2_regularization_strength", 0.0, 0.0, 1.0, "lambda_2 (L2)."),
        family.amount(
            "l2_shrinkage_regularization_strength",
            0.0,
            0.0,
            1.0,
            "lambda_s: L2 shrinkage of the linear term only.",
        ),
        family.amount("beta", 0.0, 0.0, 10.0, "beta of the closed form's denominator."),
    ),
    state=(
        StateField(name="accumulator", symbol="n_t", role="accumulator"),
        StateField(name="linear", symbol="z_t", role="linear"),
    ),
)

Ftrl = FTRL_INFO.build
