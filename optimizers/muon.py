"""Muon: momentum orthogonalised by Newton-Schulz for matrices, AdamW for every other weight
(Keras 3 ``Muon``)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers import core, family
from optimizers.declare import (
    ANY_NUMBER,
    POSITIVE,
    HParam,
    OptimizerInfo,
    Range,
    decay_rate,
    epsilon,
    flag,
    momentum_buffer,
    unrecorded,
)


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


# ---- declaration ------------------------------------------------------------------------------
_MUON_LATEX = (
    r"\text{matrices: }B_t=\mu B_{t-1}+g_t,\ D_t=g_t+\mu B_t,\ O_t=\mathrm{NS}_K(D_t),\ "
    r"w_{t+1}=(1-\eta\lambda)w_t-\eta\rho\sqrt{\max(m,n)}\,O_t;\quad\text{other weights: "
    r"AdamW with}\ r\eta,\ \lambda_A"
)

MUON_INFO = OptimizerInfo(
    name="Muon",
    rule=muon_core,
    summary="Orthogonalised momentum for weight matrices; Adam fallback on 2-D surfaces.",
    group="adaptive",
    reference="Jordan et al., Muon: An optimizer for hidden layers in neural networks (2024), "
    "https://kellerjordan.github.io/posts/muon/; Liu et al., Muon is Scalable for LLM Training, "
    "arXiv:2502.16982 (2025), for the RMS-matching scale",
    matches="Keras 3 Muon",
    defaults_from="the Keras 3 documentation",
    notes="NS_K normalises X = D/(|D|_F + 1e-7) and repeats K times X <- aX + (bA + cA^2)X with "
    "A = XX^T; without ``nesterov`` D_t = B_t. Every other weight follows Keras's AdamW with "
    "learning rate r eta and decay lambda_A eta. On a 2-D surface every weight is a vector, so "
    "Muon is its Adam fallback there (the momentum arrow is then Adam's eta m_t); it "
    "orthogonalises on a network's weight matrices (the MLP surface). Keras also skips weights "
    "whose path names an embedding or matches ``exclude_layers``; the weights here carry no "
    "Keras layer paths, so every rank-2 weight is orthogonalised and those two arguments are not "
    "offered. ``weight_decay`` and ``adam_weight_decay`` are Muon's own (Keras overrides its "
    "weight-decay step); the shared decoupled option is not added on top. Per-weight learning "
    "rate: for matrices no diagonal one exists, so it is the realised -update/gradient of the "
    "last step (signed, for a diverging colour map; 0 where g = 0), for the others Adam's (applied "
    "to m_hat). The velocity (matrices keep none) and the realised ratio are not parameter-shaped "
    "for every weight, so they are not recorded per weight.",
    example="    >>> opt = optimizers.Muon(learning_rate=0.02)",
    update_latex=_MUON_LATEX,
    learning_rate_latex=r"-\Delta w/g\ \text{(matrices, realised)};\ r\eta\sqrt{1-\beta_2^t}"
    r"/(\sqrt{v_t}+\hat\varepsilon)\ \text{(others)}",
    learning_rate=0.001,
    hyperparams=(
        decay_rate("adam_beta_1", 0.9, "Adam's beta_1 for the weights that are not matrices."),
        decay_rate("adam_beta_2", 0.999, "Adam's beta_2 for the others.", live=False),
        family.amount(
            "adam_weight_decay", 0.004, 0.0, 0.5, "Decoupled decay lambda_A of the others."
        ),
        epsilon(1e-7, "Adam's epsilon hat for the others."),
        family.amount(
            "weight_decay", 0.004, 0.0, 0.5, "Muon's own decoupled decay lambda of matrices."
        ),
        family.amount("muon_a", 3.4445, 0.0, 5.0, "Newton-Schulz coefficient a.", valid=ANY_NUMBER),
        family.amount(
            "muon_b", -4.7750, -6.0, 0.0, "Newton-Schulz coefficient b.", valid=ANY_NUMBER
        ),
        family.amount("muon_c", 2.0315, 0.0, 5.0, "Newton-Schulz coefficient c.", valid=ANY_NUMBER),
        family.amount(
            "adam_lr_ratio",
            1.0,
            0.01,
            10.0,
            "r: the others' learning rate is r eta.",
            scale="log",
            valid=POSITIVE,
        ),
        decay_rate("momentum", 0.95, "mu, the momentum of the matrices' buffer B."),
        HParam(
            name="ns_steps",
            default=5,
            low=0,
            high=10,
            kind="int",
            valid=Range(low=0, high=50),
            help="K, the Newton-Schulz iterations.",
        ),
        flag("nesterov", True, "Orthogonalise g + mu B (Nesterov) rather than B."),
        dataclasses.replace(
            family.amount(
                "rms_rate",
                0.2,
                0.01,
                1.0,
                "rho, the RMS-matching scale (None: no scale).",
                scale="log",
                valid=POSITIVE,
            ),
            can_be_off=True,
        ),
    ),
    state=(
        momentum_buffer("momentum", "B_t"),
        unrecorded("velocity", "v_t", "second_moment"),
        unrecorded("realised", r"-\Delta w/g", "realised_rate"),
    ),
)

Muon = MUON_INFO.build
