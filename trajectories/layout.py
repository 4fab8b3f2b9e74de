"""Whether an optimizer group may step a layered surface's weights as one flat vector.

A surface with layers (the MLP: ``W1, b1, ...``) hands each optimizer its weights as a dict of
tensors, because some rules look at a tensor as a whole (a norm per tensor, a factored second
moment, an orthogonalised matrix). Most rules treat every weight alike and on its own; for
those, one flat vector gives the same numbers, and the compiled step has one fused kernel per
operation instead of one per tensor (XLA's CPU backend compiles each kernel separately: a
piece's compile time grows with their number, benchmarks/RESULTS.md).

:func:`elementwise` decides by tracing the group's ``init``, ``update`` and ``learning_rates``
on the surface's tensors and on the same tensors raveled: the rule qualifies when every
operation is elementwise (scalars broadcast, nothing reduced, reshaped or indexed) and both
traces apply the same operations, so nothing depends on a tensor's shape or rank.
"""

from __future__ import annotations

import functools
import math

import jax

# Primitives that act on each element on its own (with scalars broadcast by jaxpr rules).
ELEMENTWISE = frozenset({
    "abs", "acos", "acosh", "add", "and", "asin", "asinh", "atan", "atan2", "atanh", "cbrt",
    "ceil", "clamp", "convert_element_type", "copy", "copy_p", "cos", "cosh", "div", "eq", "erf",
    "erf_inv", "erfc", "exp", "exp2", "expm1", "floor", "ge", "gt", "integer_pow", "is_finite",
    "le", "lgamma", "digamma", "log", "log1p", "logistic", "lt", "max", "min", "mul", "ne", "neg",
    "nextafter", "not", "or", "pow", "reduce_precision", "rem", "round", "rsqrt", "select_n",
    "sign", "sin", "sinh", "sqrt", "square", "sub", "tan", "tanh", "xor",
})  # fmt: skip
# Shape changes allowed only on scalars (a scalar hyperparameter broadcast to a tensor).
ON_SCALARS = frozenset({"broadcast_in_dim", "reshape", "squeeze", "expand_dims"})
# Calls whose bodies are looked into, in their place.
NESTED = ("jaxpr", "call_jaxpr", "fun_jaxpr")


SHAPE_PARAMS = frozenset({"shape", "broadcast_dimensions", "dimensions", "new_sizes", "sharding"})


def _walk(jaxpr, names: dict, out: list) -> bool:
    """Append one line per operation of ``jaxpr`` to ``out``, calls inlined, variables named
    by their order of appearance, shapes left out: two traces with the same lines apply the same
    operations, constants and wiring. False as soon as an operation is not elementwise."""

    def name(v):
        return repr(v.val) if hasattr(v, "val") else names[v]  # a literal, or a variable

    for eqn in jaxpr.eqns:
        bodies = [eqn.params[k] for k in NESTED if k in eqn.params]
        if bodies:
            body = getattr(bodies[0], "jaxpr", bodies[0])
            names.update(zip(body.invars, (name(v) for v in eqn.invars), strict=True))
            consts = getattr(bodies[0], "consts", ())
            names.update(zip(body.constvars, map(repr, consts), strict=True))
            if not _walk(body, names, out):
                return False
            names.update(zip(eqn.outvars, (name(v) for v in body.outvars), strict=True))
            continue
        prim = eqn.primitive.name
        if prim in ON_SCALARS:
            if any(getattr(v.aval, "ndim", 0) for v in eqn.invars):
                return False
        elif prim not in ELEMENTWISE:
            return False
        args = [name(v) for v in eqn.invars]
        for j, v in enumerate(eqn.outvars):
            names[v] = f"v{len(out)}.{j}"
        params = sorted((k, repr(v)) for k, v in eqn.params.items() if k not in SHAPE_PARAMS)
        out.append((prim, tuple(args), tuple(params), tuple(names[v] for v in eqn.outvars)))
    return True


@functools.lru_cache(maxsize=1024)
def elementwise(group, layers: tuple, dtype) -> bool:
    """Whether ``group`` (a kernel ``Group``) may step ``layers``' weights as one flat vector."""
    if not layers or group.info.takes_loss:
        return False

    def step(hp, w):
        opt = group.build(hp)
        state = opt.init(w)
        u, state = opt.update(w, state, w)
        return u, state, opt.learning_rates(state)

    hp = {n: jax.ShapeDtypeStruct((), dtype) for n in group.traced_names}
    traces = []
    for shape_of in (lambda s: s, lambda s: (math.prod(s),)):
        w = {name: jax.ShapeDtypeStruct(shape_of(shape), dtype) for name, shape in layers}
        try:
            closed = jax.make_jaxpr(step)(hp, w)
        except Exception:  # a rule that cannot take these shapes keeps its tensors
            return False
        names = {v: f"in{i}" for i, v in enumerate(closed.jaxpr.invars)}
        ops: list = []
        if not _walk(closed.jaxpr, names, ops):
            return False
        traces.append(ops)
    return traces[0] == traces[1]
