"""Adafactor: a second moment factored into row and column averages for matrices
(Keras 3 ``Adafactor``)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import POSITIVE, OptimizerInfo, Range, StateField, epsilon, flag, unrecorded


class AdafactorState(NamedTuple):
    """``row``/``col`` hold the factored second moment of tensors of rank >= 2 (shapes
    ``shape[:-1]`` and ``shape[:-2] + shape[-1:]``); ``velocity`` the full second moment of the
    others. Unused slots are scalar zeros, so this state is not shaped like the parameters."""

    count: jax.Array
    row: Any  # R_t, row means of g^2 + eps_1 (rank >= 2)
    col: Any  # C_t, column means of g^2 + eps_1 (rank >= 2)
    velocity: Any  # v_t (rank < 2)
    scale: Any  # alpha_t / max(1, RMS(u_t)/d) per tensor, the step's scalar factor


def _mean(x, axis=None, keepdims=False):
    """Keras 3's ``ops.mean``: it accumulates in float32 whatever the input's float type (its
    JAX backend takes ``result_type(x.dtype, "float32")``, which is float32 for float64), then
    casts back. Reproduced so that float64 paths agree with Keras; float32 is unchanged."""
    return jnp.mean(x, axis=axis, keepdims=keepdims, dtype=jnp.float32).astype(x.dtype)


def _rms(x):
    return jnp.sqrt(_mean(x * x))


def _slots(p):
    """(row, col, velocity) at zero for one parameter: factored when its rank is >= 2."""
    zero = jnp.zeros([], p.dtype)
    if p.ndim >= 2:
        return (
            jnp.zeros(p.shape[:-1], p.dtype),
            jnp.zeros(p.shape[:-2] + p.shape[-1:], p.dtype),
            zero,
        )
    return zero, zero, jnp.zeros_like(p)


def _second_moment(r, c, v):
    """Keras's v_t: R C / mean(R) rebuilt from the factors (a rank >= 1 ``r``), else v_t itself."""
    if r.ndim == 0:
        return v
    return jnp.expand_dims(r / _mean(r, axis=-1, keepdims=True), -1) * jnp.expand_dims(c, -2)


def adafactor_core(beta_2_decay, epsilon_1, epsilon_2, clip_threshold, relative_step) -> core.Core:
    del relative_step  # no effect in Keras 3.15.1: rho_t = min(lr, 1/sqrt(t)) either way

    def init(params):
        row, col, v = core.map_leaves(_slots, params)
        scale = jax.tree.map(lambda p: jnp.zeros([], p.dtype), params)
        return AdafactorState(family.count(), row, col, v, scale)

    def step_leaf(g, w, r, c, v, t, lr):
        tt = t.astype(g.dtype)
        rho = jnp.minimum(core.cast(lr, g), 1 / jnp.sqrt(tt))
        alpha = jnp.maximum(core.cast(epsilon_2, g), _rms(w)) * rho
        squared = g * g + core.cast(epsilon_1, g)
        decay = 1 - jnp.power(tt, core.cast(beta_2_decay, g))
        if g.ndim >= 2:
            r = decay * r + (1 - decay) * _mean(squared, axis=-1)
            c = decay * c + (1 - decay) * _mean(squared, axis=-2)
        else:
            v = decay * v + (1 - decay) * squared
        u = g / jnp.sqrt(_second_moment(r, c, v))
        scale = alpha / jnp.maximum(1.0, _rms(u) / core.cast(clip_threshold, g))
        return -scale * u, r, c, v, scale

    step = family.leafwise(
        step_leaf,
        ("row", "col", "velocity"),
        params=True,
        outputs=("row", "col", "velocity", "scale"),
    )

    def learning_rates(state, lr):
        del lr  # the step's scale already holds it
        return jax.tree.map(
            lambda r, c, v, scale: scale / jnp.sqrt(_second_moment(r, c, v)),
            state.row,
            state.col,
            state.velocity,
            state.scale,
        )

    return core.Core(init, step, learning_rates)


# ---- declaration ------------------------------------------------------------------------------
ADAFACTOR_INFO = OptimizerInfo(
    name="Adafactor",
    rule=adafactor_core,
    summary="A second moment factored into row and column averages for matrices; no momentum.",
    group="adaptive",
    reference="Shazeer & Stern, Adafactor: Adaptive Learning Rates with Sublinear Memory Cost, "
    "ICML 2018 (arXiv:1804.04235)",
    matches="Keras 3 Adafactor",
    defaults_from="the Keras 3 documentation",
    notes="RMS is the root mean square over a tensor; R_t, C_t are the moving averages (decay "
    "beta_hat) of the column and row means of g^2 + epsilon_1. Tensors of rank >= 2 keep only "
    "the row and column factors, so the state is not shaped like the parameters (the rank < 2 "
    "second moment is not recorded either: it is a scalar placeholder for matrices). The "
    "per-weight learning rate (applied to g_t) is the factored preconditioner. "
    "``relative_step`` is accepted for Keras's signature; in Keras 3.15.1 rho_t is always "
    "min(eta, 1/sqrt t). No first moment (Keras has none).",
    example="    >>> opt = optimizers.Adafactor(learning_rate=1e-2)",
    update_latex=r"\rho_t=\min(\eta,1/\sqrt t),\ \alpha_t=\max(\varepsilon_2,\mathrm{RMS}(w_t))"
    r"\rho_t,\ \hat\beta_{2,t}=1-t^{c},\ v_t=\begin{cases}R_tC_t^{T}/\mathrm{mean}(R_t)&"
    r"\text{matrix}\\\hat\beta_{2,t}v_{t-1}+(1-\hat\beta_{2,t})(g_t^2+\varepsilon_1)&\text{else}"
    r"\end{cases},\ u_t=\frac{g_t}{\sqrt{v_t}},\ w_{t+1}=w_t-\frac{\alpha_tu_t}"
    r"{\max(1,\mathrm{RMS}(u_t)/d)}",
    learning_rate_latex=r"\alpha_t\,/\,\big(\sqrt{v_t}\,\max(1,\mathrm{RMS}(u_t)/d)\big)",
    learning_rate=0.001,
    hyperparams=(
        family.amount(
            "beta_2_decay",
            -0.8,
            -1.0,
            -0.1,
            "c: the decay rate is 1 - t^c.",
            valid=Range(high=0.0, high_open=True),
        ),
        dataclasses.replace(
            epsilon(1e-30, "Added to g^2 (epsilon_1)."), name="epsilon_1", low=1e-35, high=1e-3
        ),
        dataclasses.replace(
            epsilon(1e-3, "Floor of the weights' RMS in the step size (epsilon_2)."),
            name="epsilon_2",
        ),
        family.amount(
            "clip_threshold",
            1.0,
            0.1,
            10.0,
            "d: the update's RMS is clipped to it.",
            scale="log",
            valid=POSITIVE,
        ),
        flag("relative_step", True, "Accepted as Keras's; it changes nothing in Keras 3.15.1."),
    ),
    state=(
        unrecorded("row", "R_t", "second_moment_rows"),
        unrecorded("col", "C_t", "second_moment_columns"),
        unrecorded("velocity", "v_t", "second_moment"),
        StateField(name="scale", symbol=r"\alpha_t", role="step_scale", shape="per_tensor"),
    ),
)

Adafactor = ADAFACTOR_INFO.build
