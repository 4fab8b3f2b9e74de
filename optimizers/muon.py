"""Muon: momentum orthogonalised by Newton-Schulz for matrices, AdamW for every other weight
(Keras 3 ``Muon``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family


class MuonState(NamedTuple):
    count: jax.Array
    momentum: Any  # matrices: B_t, the momentum buffer; others: Adam's m_t
    velocity: Any  # others: Adam's v_t; matrices: a scalar zero (Keras keeps none)
    realised: Any  # matrices: -update/gradient of the last step; others: a scalar zero


def _orthogonalised(x, steps, a, b, c):
    """Keras's ``zeropower_via_newtonschulz5``: a quintic Newton-Schulz iteration towards the
    nearest semi-orthogonal matrix (wide orientation inside, as Keras)."""
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = jnp.swapaxes(x, -1, -2)
    # Keras 3's ops.norm computes in float32 even for float64 input (its JAX backend casts to
    # result_type(x.dtype, float), float32): reproduced so float64 paths agree with Keras.
    norm = jnp.linalg.norm(x.astype(jnp.float32), axis=(-2, -1), keepdims=True)
    x = x / (norm + 1e-7).astype(x.dtype)  # the 1e-7 is added in float32 too
    for _ in range(steps):
        gram = x @ jnp.swapaxes(x, -1, -2)
        x = a * x + (b * gram + (c * gram) @ gram) @ x
    return jnp.swapaxes(x, -1, -2) if tall else x


def muon_core(
    adam_beta_1,
    adam_beta_2,
    adam_weight_decay,
    epsilon,
    weight_decay,
    muon_a,
    muon_b,
    muon_c,
    adam_lr_ratio,
    momentum,
    ns_steps,
    nesterov,
    rms_rate,
) -> core.Core:
    def orthogonal(p) -> bool:
        return p.ndim == 2  # Keras: exactly rank 2 (it also excludes named embeddings)

    def init(params):
        def slot(p, shaped):
            return jnp.zeros_like(p) if shaped else jnp.zeros([], p.dtype)

        velocity = jax.tree.map(lambda p: slot(p, not orthogonal(p)), params)
        realised = jax.tree.map(lambda p: slot(p, orthogonal(p)), params)
        return MuonState(family.count(), core.zeros_like(params), velocity, realised)

    def adam_rate(v, t, lr):
        """The Keras-Adam factor applied to the bias-corrected m (as optimizers.Adam)."""
        lr = core.cast(lr, v) * core.cast(adam_lr_ratio, v)
        c2 = 1 - core.step_power(adam_beta_2, t, v)
        return lr * jnp.sqrt(c2) / (jnp.sqrt(v) + core.cast(epsilon, v))

    def step_leaf(g, w, m, v, t, lr):
        lr_w = core.cast(lr, w)
        if orthogonal(w):
            decay = -w * core.cast(weight_decay, w) * lr_w
            mu = core.cast(momentum, m)
            m = m + (g + m * (mu - 1))
            direction = g + mu * m if nesterov else m
            step = lr_w * _orthogonalised(
                direction,
                ns_steps,
                core.cast(muon_a, g),
                core.cast(muon_b, g),
                core.cast(muon_c, g),
            )
            if rms_rate is not None:
                # Keras: ops.sqrt of an integer, a float32 (exact for square sizes).
                side = jnp.sqrt(jnp.float32(max(w.shape))).astype(g.dtype)
                step = step * side * core.cast(rms_rate, g)
            realised = jnp.where(g == 0, 0.0, step / jnp.where(g == 0, 1.0, g))
            return decay - step, m, v, realised
        decay = -w * core.cast(adam_weight_decay, w) * lr_w
        b1 = core.cast(adam_beta_1, m)
        lr_adam = lr_w * core.cast(adam_lr_ratio, w)
        tt = t.astype(w.dtype)
        alpha = (
            lr_adam
            * jnp.sqrt(1 - jnp.power(core.cast(adam_beta_2, w), tt))
            / (1 - jnp.power(b1, tt))
        )
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - core.cast(adam_beta_2, v))
        return (
            decay - m * alpha / (jnp.sqrt(v) + core.cast(epsilon, v)),
            m,
            v,
            jnp.zeros([], w.dtype),
        )

    step = family.leafwise(
        step_leaf,
        ("momentum", "velocity"),
        params=True,
        outputs=("momentum", "velocity", "realised"),
    )

    def learning_rates(state, lr):
        return jax.tree.map(
            lambda m, v, r: r if m.ndim == 2 else adam_rate(v, state.count, lr),
            state.momentum,
            state.velocity,
            state.realised,
        )

    return core.Core(init, step, learning_rates)


def Muon(
    learning_rate=0.001,
    adam_beta_1=0.9,
    adam_beta_2=0.999,
    adam_weight_decay=0.004,
    epsilon=1e-7,
    weight_decay=0.004,
    muon_a=3.4445,
    muon_b=-4.7750,
    muon_c=2.0315,
    adam_lr_ratio=1.0,
    momentum=0.95,
    ns_steps=5,
    nesterov=True,
    rms_rate=0.2,
    **options,
) -> core.Optimizer:
    r"""Muon, MomentUm Orthogonalized by Newton-Schulz (Jordan et al., 2024), as Keras 3 writes it.

    Symbols: $\eta$ ``learning_rate``, $\mu$ ``momentum``, $(a, b, c)$ ``muon_a``, ``muon_b``,
    ``muon_c``, $K$ ``ns_steps``, $\rho$ ``rms_rate``, $\lambda$ ``weight_decay``; for the other
    weights $\beta_1, \beta_2$ ``adam_beta_1``, ``adam_beta_2``, $\lambda_A$
    ``adam_weight_decay``, $r$ ``adam_lr_ratio``, $\hat\varepsilon$ ``epsilon``.

    Matrices ($m \times n$ weights):
    $$B_t = \mu B_{t-1} + g_t,\quad D_t = g_t + \mu B_t\ (\text{nesterov; else } B_t),\quad
      O_t = \mathrm{NS}_K(D_t),\quad
      w_{t+1} = (1-\eta\lambda) w_t - \eta\,\rho\sqrt{\max(m,n)}\; O_t$$
    where $\mathrm{NS}_K$ normalises $X = D/(\lVert D\rVert_F + 10^{-7})$ and repeats
    $K$ times $X \leftarrow aX + (bA + cA^2)X$ with $A = XX^\top$.
    Every other weight: Keras's AdamW with learning rate $r\eta$ and decay $\lambda_A\eta$
    (as :func:`optimizers.adam.AdamW`). On a 2-D surface every weight is a vector, so Muon is
    its Adam fallback there; it orthogonalises on a network's weight matrices.

    Keras also skips weights whose path names an embedding or matches ``exclude_layers``; the
    weights here carry no Keras layer paths, so every rank-2 weight is orthogonalised and those
    two arguments are not offered. ``weight_decay`` and ``adam_weight_decay`` are Muon's own
    (Keras overrides its weight-decay step); the shared decoupled option is not added on top.
    Per-weight learning rate: for matrices no diagonal one exists, so it is the realised
    $-\Delta w/g$ of the last step (signed; 0 where $g = 0$), for the others Adam's
    $r\eta\sqrt{1-\beta_2^t}/(\sqrt{v_t}+\hat\varepsilon)$ (applied to $\hat m_t$).
    Defaults are Keras's. Matches Keras 3 ``keras.optimizers.Muon`` exactly.

    Reference: Jordan et al., "Muon: An optimizer for hidden layers in neural networks" (2024),
    https://kellerjordan.github.io/posts/muon/; Liu et al., "Muon is Scalable for LLM
    Training", arXiv:2502.16982 (2025), for the RMS-matching scale.
    """
    name = "Muon"
    core.check_learning_rate(name, learning_rate)
    core.check_probability(name, "adam_beta_1", adam_beta_1)
    core.check_probability(name, "adam_beta_2", adam_beta_2)
    core.check_range(name, "adam_weight_decay", adam_weight_decay, 0.0, None)
    core.check_epsilon(name, epsilon)
    core.check_range(name, "weight_decay", weight_decay, 0.0, None)
    for arg, value in (("muon_a", muon_a), ("muon_b", muon_b), ("muon_c", muon_c)):
        core.check_range(name, arg, value)
    core.check_range(name, "adam_lr_ratio", adam_lr_ratio, 0.0, None, low_open=True)
    core.check_probability(name, "momentum", momentum)
    core.check_range(name, "ns_steps", ns_steps, 0, 50, integer=True)
    core.check_flag(name, "nesterov", nesterov)
    if rms_rate is not None:
        core.check_range(name, "rms_rate", rms_rate, 0.0, None, low_open=True)
    return family.finish(
        name,
        muon_core,
        learning_rate,
        options,
        adam_beta_1=adam_beta_1,
        adam_beta_2=adam_beta_2,
        adam_weight_decay=adam_weight_decay,
        epsilon=epsilon,
        weight_decay=weight_decay,
        muon_a=muon_a,
        muon_b=muon_b,
        muon_c=muon_c,
        adam_lr_ratio=adam_lr_ratio,
        momentum=momentum,
        ns_steps=ns_steps,
        nesterov=nesterov,
        rms_rate=rms_rate,
    )
