"""FTRL-Proximal: follow the regularised leader, per coordinate (Keras 3 ``Ftrl``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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


def Ftrl(
    learning_rate=0.001,
    learning_rate_power=-0.5,
    initial_accumulator_value=0.1,
    l1_regularization_strength=0.0,
    l2_regularization_strength=0.0,
    l2_shrinkage_regularization_strength=0.0,
    beta=0.0,
    **options,
) -> core.Optimizer:
    r"""FTRL-Proximal (McMahan et al., 2013), as Keras 3 writes it.

    Symbols: $\eta$ ``learning_rate``, $p$ ``learning_rate_power`` ($\le 0$), $n_0$
    ``initial_accumulator_value``, $\lambda_1$ ``l1_regularization_strength``, $\lambda_2$
    ``l2_regularization_strength``, $\lambda_s$ ``l2_shrinkage_regularization_strength``,
    $\beta$ ``beta``.

    $$n_t = n_{t-1} + g_t^2,\qquad
      z_t = z_{t-1} + g_t + 2\lambda_s w_t - \frac{n_t^{-p} - n_{t-1}^{-p}}{\eta}\, w_t$$
    $$w_{t+1} = \frac{\mathrm{clip}(z_t, -\lambda_1, \lambda_1) - z_t}
      {n_t^{-p}/\eta + 2\lambda_2 + \beta/\eta}$$

    ($\lambda_s$ shrinks only the linear term, not $n_t$.) Per-weight learning rate: the
    per-coordinate rate of the closed form, $1/(n_t^{-p}/\eta + 2\lambda_2 + \beta/\eta)$ (with
    $p=-\tfrac12$ and no regularisation, Adagrad's $\eta/\sqrt{n_t}$). Defaults are Keras's.
    Matches Keras 3 ``keras.optimizers.Ftrl`` exactly.

    Reference: McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013.
    """
    name = "Ftrl"
    core.check_learning_rate(name, learning_rate)
    core.check_range(name, "learning_rate_power", learning_rate_power, None, 0.0)
    core.check_range(name, "initial_accumulator_value", initial_accumulator_value, 0.0, None)
    for arg, value in (
        ("l1_regularization_strength", l1_regularization_strength),
        ("l2_regularization_strength", l2_regularization_strength),
        ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ("beta", beta),
    ):
        core.check_range(name, arg, value, 0.0, None)
    return family.finish(
        name,
        ftrl_core,
        learning_rate,
        options,
        learning_rate_power=learning_rate_power,
        initial_accumulator_value=initial_accumulator_value,
        l1_regularization_strength=l1_regularization_strength,
        l2_regularization_strength=l2_regularization_strength,
        l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength,
        beta=beta,
    )
