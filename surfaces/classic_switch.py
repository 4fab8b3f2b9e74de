"""The classic 2-D surfaces as one function of a traced index, so picking another compiles nothing.

Each classic is written once, as its own formula (``surfaces/classic.py``). Compiled code is
specialised to the function it calls, so a kernel compiled for Beale is useless for Himmelblau,
and a person picking a surface this server never ran waits for a whole scene to compile
(benchmarks/RESULTS.md, "a new surface"). Here every classic but Rosenbrock is one branch of a
``lax.switch`` on ``theta["index"]``: the branch is a traced value, so one compiled kernel (the
scene's, the picture's, the live family's, the fans') serves all of them, and the server's
warm-up compiles it once (``app/warmup.py``). Rosenbrock, the default scene and the engine
benchmarks' surface, keeps its own straight-line kernels: a switch costs a little per step.

The gradient is where the cost would be: differentiating a ``lax.switch`` gives a forward
switch that saves every branch's intermediates and a backward switch that reads them. Instead a
custom JVP runs one switch whose branch returns the value and its gradient, both from that
branch's own formula (the same operations as differentiating the formula directly), and the
tangent is ``<grad, dw>``, linear in ``dw``, so reverse mode transposes it for free and higher
derivatives (the sharpness view's Hessians) differentiate the branch itself.

``theta`` holds ``index`` (int32) and ``params``: every switched classic's parameters under
``"<surface>.<parameter>"``, all of them always present (the defaults where a surface is not
the chosen one) so every classic has the same pytree structure and so the same compiled code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from surfaces.losses import loss_function

KEY = ("classic_switch",)  # the static key every switched surface shares: the same code


class Switch:
    """The switched function of an ordered tuple of classics (``name``, ``fn``, ``params``)."""

    def __init__(self, classics: tuple) -> None:
        self.names = tuple(c.name for c in classics)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.defaults = {f"{c.name}.{p.name}": float(p.default) for c in classics for p in c.params}
        with_grads = _points_switch(tuple(_value_and_grad_branch(c) for c in classics))

        @jax.custom_jvp
        def switched(w, index, params):
            return with_grads(index, w, params)[0]

        def switched_jvp(primals, tangents):
            w, index, params = primals
            dw, _, dparams = tangents
            value, grad = with_grads(index, w, params)
            out = jnp.zeros_like(value) if isinstance(dw, SymbolicZero) else jnp.sum(grad * dw, -1)
            if not all(isinstance(d, SymbolicZero) for d in jax.tree.leaves(dparams)):
                # a derivative in the surface's parameters (nothing in the app asks for one):
                # forward mode through the switch (the gradients' tangents are dropped unused)
                dparams = jax.tree.map(_instantiate, dparams, params)

                def value_of(p):
                    return with_grads(index, w, p)[0]

                out = out + jax.jvp(value_of, (params,), (dparams,))[1]
            return value, out

        switched.defjvp(switched_jvp, symbolic_zeros=True)

        @loss_function
        def classic_switch(w, theta):
            return switched(w, theta["index"], theta["params"])

        self.fn = classic_switch

    def theta(self, name: str, values: Mapping[str, Any]) -> dict:
        """``theta`` for the classic ``name`` with its parameter ``values``; device-placed
        scalars (``jax.device_put``, no program compiled), traced by every kernel."""
        params = {**self.defaults, **{f"{name}.{k}": float(v) for k, v in values.items()}}
        return {
            "index": jax.device_put(np.int32(self.index[name])),
            "params": {k: jax.device_put(v) for k, v in params.items()},
        }


def _points_switch(branches: tuple) -> Callable:
    """``lax.switch(index, branches, w, params)`` that a ``vmap`` over points leaves alone.

    Every branch takes a batch of points ``(..., 2)`` already, so vmapping over ``w`` alone
    (the engine's paths, a family's members) passes the batch straight through instead of
    batching each branch's program: JAX's batching of a switch rewrites every branch, each time
    a kernel is traced, which was most of the tracing time of a kernel on a switched classic.
    A batched index or parameter (nothing in the app does that) takes JAX's own rule, and so do
    derivatives of it (the Hessians of the sharpness view): JAX cannot differentiate a
    ``custom_vmap`` function, so a JVP goes through the plain switch."""

    def plain(index, w, params):
        return jax.lax.switch(index, branches, w, params)

    @jax.custom_batching.custom_vmap
    def call(index, w, params):
        return plain(index, w, params)

    @call.def_vmap
    def call_batched(axis_size, in_batched, index, w, params):
        index_batched, w_batched, params_batched = in_batched
        if index_batched or any(jax.tree.leaves(params_batched)):
            axes = (0 if index_batched else None, 0 if w_batched else None,
                    jax.tree.map(lambda b: 0 if b else None, params_batched))  # fmt: skip
            out = jax.vmap(plain, in_axes=axes)(index, w, params)
        else:  # the batch axis leads; every branch handles it as more points
            out = call(index, w, params)
        return out, jax.tree.map(lambda _: True, out)

    @jax.custom_jvp
    def differentiable(index, w, params):
        return call(index, w, params)

    @differentiable.defjvp
    def differentiable_jvp(primals, tangents):
        index, w, params = primals
        _, dw, dparams = tangents
        return jax.jvp(lambda v, p: plain(index, v, p), (w, params), (dw, dparams))

    return differentiable


def _own_theta(classic, params: Mapping[str, Any]) -> dict:
    return {p.name: params[f"{classic.name}.{p.name}"] for p in classic.params}


def _value_and_grad_branch(classic) -> Callable:
    def value_and_grad(w, params):
        # w may be a batch of points (..., 2): each value depends on its own point only, so the
        # pullback of ones is every point's own gradient
        value, pullback = jax.vjp(lambda v: classic.fn(v, _own_theta(classic, params)), w)
        return value, pullback(jnp.ones_like(value))[0]

    return value_and_grad


def _instantiate(tangent: Any, primal: Any) -> Any:
    return jnp.zeros_like(primal) if isinstance(tangent, SymbolicZero) else tangent
