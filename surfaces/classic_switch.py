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
        values = tuple(_value_branch(c) for c in classics)
        with_grads = tuple(_value_and_grad_branch(c) for c in classics)

        @jax.custom_jvp
        def switched(w, index, params):
            return jax.lax.switch(index, values, w, params)

        def switched_jvp(primals, tangents):
            w, index, params = primals
            dw, _, dparams = tangents
            value, grad = jax.lax.switch(index, with_grads, w, params)
            out = jnp.zeros_like(value) if isinstance(dw, SymbolicZero) else jnp.sum(grad * dw, -1)
            if not all(isinstance(d, SymbolicZero) for d in jax.tree.leaves(dparams)):
                # a derivative in the surface's parameters (nothing in the app asks for one):
                # forward mode through the value switch
                dparams = jax.tree.map(_instantiate, dparams, params)
                out = (
                    out
                    + jax.jvp(lambda p: jax.lax.switch(index, values, w, p), (params,), (dparams,))[
                        1
                    ]
                )
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


def _own_theta(classic, params: Mapping[str, Any]) -> dict:
    return {p.name: params[f"{classic.name}.{p.name}"] for p in classic.params}


def _value_branch(classic) -> Callable:
    def value(w, params):
        return classic.fn(w, _own_theta(classic, params))

    return value


def _value_and_grad_branch(classic) -> Callable:
    def value_and_grad(w, params):
        # w may be a batch of points (..., 2): each value depends on its own point only, so the
        # pullback of ones is every point's own gradient
        value, pullback = jax.vjp(lambda v: classic.fn(v, _own_theta(classic, params)), w)
        return value, pullback(jnp.ones_like(value))[0]

    return value_and_grad


def _instantiate(tangent: Any, primal: Any) -> Any:
    return jnp.zeros_like(primal) if isinstance(tangent, SymbolicZero) else tangent
