"""Adafactor: a second moment factored into row and column averages for matrices
(Keras 3 ``Adafactor``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


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


def Adafactor(
    learning_rate=0.001,
    beta_2_decay=-0.8,
    epsilon_1=1e-30,
    epsilon_2=1e-3,
    clip_threshold=1.0,
    relative_step=True,
    **options,
) -> core.Optimizer:
    r"""Adafactor (Shazeer & Stern, 2018), as Keras 3 writes it.

    Symbols: $\eta$ ``learning_rate``, $c$ ``beta_2_decay``, $\varepsilon_1$ ``epsilon_1``,
    $\varepsilon_2$ ``epsilon_2``, $d$ ``clip_threshold``; RMS is the root mean square over a
    tensor.

    $$\rho_t = \min(\eta, 1/\sqrt t),\quad \alpha_t = \max(\varepsilon_2, \mathrm{RMS}(w_t))\,
      \rho_t,\quad \hat\beta_{2,t} = 1 - t^{c},\quad G_t = g_t^2 + \varepsilon_1$$
    $$\text{matrix: } R_t = \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_{
      \text{cols}} G_t,\quad C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\,
      \mathrm{mean}_{\text{rows}} G_t,\quad v_t = \frac{R_t C_t^\top}{\mathrm{mean}(R_t)}$$
    $$\text{otherwise: } v_t = \hat\beta_{2,t} v_{t-1} + (1-\hat\beta_{2,t}) G_t;\qquad
      u_t = \frac{g_t}{\sqrt{v_t}},\quad
      w_{t+1} = w_t - \frac{\alpha_t\, u_t}{\max(1, \mathrm{RMS}(u_t)/d)}$$

    Tensors of rank >= 2 keep only the row and column factors, so the state is not shaped like
    the parameters. Per-weight learning rate (applied to $g_t$): the factored preconditioner
    $\alpha_t / (\sqrt{v_t}\,\max(1, \mathrm{RMS}(u_t)/d))$. ``relative_step`` is accepted for
    Keras's signature; in Keras 3.15.1 it changes nothing ($\rho_t$ is always
    $\min(\eta, 1/\sqrt t)$). No first moment (Keras has none). Defaults are Keras's. Matches
    Keras 3 ``keras.optimizers.Adafactor`` exactly.

    Reference: Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML 2018 (arXiv:1804.04235).
    """
    name = "Adafactor"
    core.check_learning_rate(name, learning_rate)
    core.check_range(name, "beta_2_decay", beta_2_decay, None, 0.0, high_open=True)
    core.check_epsilon(name, epsilon_1, "epsilon_1")
    core.check_epsilon(name, epsilon_2, "epsilon_2")
    core.check_range(name, "clip_threshold", clip_threshold, 0.0, None, low_open=True)
    core.check_flag(name, "relative_step", relative_step)
    return family.finish(
        name,
        adafactor_core,
        learning_rate,
        options,
        beta_2_decay=beta_2_decay,
        epsilon_1=epsilon_1,
        epsilon_2=epsilon_2,
        clip_threshold=clip_threshold,
        relative_step=relative_step,
    )
