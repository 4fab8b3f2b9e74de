"""The compiled kernel: optimizer trajectories as ``lax.scan``s under ``jax.jit``, vmapped.

A :class:`Plan` is everything static about a computation (the surface's code, each optimizer
group's structure, record layout, bucket sizes); every value (hyperparameters, surface
parameters, start points, keys, the number of steps) is a traced argument. Each plan has its
jitted function, holding one executable per input shapes, the least recently used plans dropped
past ``limits.MAX_COMPILED_PLANS`` (memory stays bounded on a server), so:

* changing any hyperparameter or surface value never recompiles;
* the number of steps is traced: a summary-only run loops exactly that many times (a traced
  loop bound), a recording run scans a bucketed number of records (steps past the last are
  frozen no-ops); the recording stride and the vmap sizes are bucketed too, so the number of
  distinct compiles stays small (:func:`bucket`).

The program holds one copy of the optimizer step: the end point's loss, gradient and record
come from one more pass of the same loop (every step used up, nothing moves; a summary-only run
evaluates just the loss there), and at recording stride 1 the hit, loss area and settling
summaries are read off the records after the loop rather than tracked inside it (S2's compile
time -40%: benchmarks/RESULTS.md).

Trajectories are vmapped over optimizer instances of one group x start points x seeds. Every
trajectory uses the key ``fold_in(PRNGKey(seed), step)``: the same noise and minibatches for
every optimizer and start (common random numbers).

Divergence: a step whose new weights are not finite or leave the divergence box (the surface's
domain widened by its own width on every side, ``DIVERGENCE_MARGIN``), or whose loss or
gradient is not finite, stops that trajectory: it stays frozen at its last finite point and the
step is recorded. Other trajectories are unaffected. Its step count stops with it, so every record
after the stop, the end point's included, looks at the frozen point with one and the same key
(a noisy gradient shown there does not change).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import optimizers
from optimizers import schedules
from trajectories import limits

DIVERGENCE_MARGIN = 1.0
TRACED_SEP = "/"  # "learning_rate/decay_steps": a traced field of a schedule


# ---- hyperparameters: what is traced, what is static ------------------------------------------
def _flatten_schedule(prefix: str, config: Mapping[str, Any], traced: dict, static: list) -> None:
    for key, value in sorted(config.items()):
        path = f"{prefix}{TRACED_SEP}{key}"
        if isinstance(value, Mapping):
            _flatten_schedule(path, value, traced, static)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            traced[path] = float(value)
        else:
            static.append((path, value))


def split_hyperparams(
    info: optimizers.OptimizerInfo, values: Mapping[str, Any]
) -> tuple[tuple, dict[str, float]]:
    """``(static items, traced floats)``, as the declaration says (``HParam.traced``).

    A value is traced when its hyperparameter or option is declared traced and the value is a
    number; flags, choices, integer options (accumulation steps, overwrite frequency), ``None``
    (an option that is off: whether it is set is structural) and a schedule's kind are static.
    A schedule's numeric fields are traced.
    """
    static: list = []
    traced: dict[str, float] = {}
    for name, value in sorted(values.items()):
        if isinstance(value, Mapping):
            _flatten_schedule(name, value, traced, static)
        elif info.traced(name) and isinstance(value, int | float) and not isinstance(value, bool):
            traced[name] = float(value)
        else:
            static.append((name, int(value) if _is_int(info, name, value) else value))
    return tuple(static), traced


def _is_int(info: optimizers.OptimizerInfo, name: str, value: Any) -> bool:
    kinds = {h.name: h.kind for h in (*info.hyperparams, *optimizers.OPTIONS)}
    return (
        kinds.get(name) == "int" and isinstance(value, int | float) and not isinstance(value, bool)
    )


def _unflatten(static: tuple, traced: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in [*static, *traced.items()]:
        *parents, leaf = path.split(TRACED_SEP)
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


@dataclasses.dataclass(frozen=True)
class Group:
    """Optimizer instances that share one compiled update rule (same kind and structure)."""

    kind: str
    static: tuple  # ((name, value), ...) incl. schedule structure
    traced_names: tuple[str, ...]

    def build(self, traced: Mapping[str, jax.Array]) -> optimizers.Optimizer:
        kwargs = _unflatten(self.static, traced)
        lr = kwargs.get("learning_rate")
        if isinstance(lr, Mapping):
            kwargs["learning_rate"] = schedules.from_config(lr)
        return optimizers.get(self.kind).make(**kwargs)

    @property
    def info(self) -> optimizers.OptimizerInfo:
        return optimizers.get(self.kind)

    @property
    def uses_ema(self) -> bool:
        return dict(self.static).get("use_ema") is True


# ---- the plan ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything static about one compiled computation (hashable: the jit cache key)."""

    fn: Callable  # surface loss(w, theta)
    grad_estimate_fn: Callable | None  # stochastic gradient(w, theta, key), or None
    layers: tuple  # the surface's pytree layout
    groups: tuple[Group, ...]
    n_chunks: int  # records after the start one (0 in summary mode)
    stride: int  # steps per record (summary mode: total scan length)
    record: bool
    record_state: bool


class Tracked(NamedTuple):
    """Per-step bookkeeping for the summaries, kept in the loop only where the records cannot
    give it afterwards (summary mode, or a recording stride above 1: :func:`_from_records`)."""

    hit: jax.Array  # first step with loss <= target, -1 if never
    loss_sum: jax.Array  # sum of losses over steps taken (area under the loss curve)
    settled: jax.Array  # steps after which every move was shorter than ``Inputs.settle``


class Carry(NamedTuple):
    w: jax.Array
    state: Any
    diverged: jax.Array  # step at which it diverged, -1 while it has not (it is alive)
    t: jax.Array | None  # steps taken (summary mode: the loop's own index serves)
    tracked: Tracked | None


class Seen(NamedTuple):
    """What one step saw and did: the loss and gradient at w, and the update it applied."""

    loss: jax.Array
    g: jax.Array
    u: jax.Array  # zero when the step was not taken (frozen or past the last step)


class Inputs(NamedTuple):
    theta: Any
    n_steps: jax.Array
    target: jax.Array
    lo: jax.Array
    hi: jax.Array
    settle: jax.Array  # a move shorter than this counts as standing still


def _unravel(layers, w):
    if not layers:
        return w
    out, i = {}, 0
    for name, shape in layers:
        size = math.prod(shape)
        out[name] = w[i : i + size].reshape(shape)
        i += size
    return out


def _ravel(layers, tree):
    if not layers:
        return tree
    return jnp.concatenate([jnp.ravel(tree[name]) for name, _ in layers])


def _ravel_like(layers, tree, like):
    """Ravel a per-tensor state field (LARS's rate), each scalar spread over its tensor."""
    return _ravel(layers, jax.tree.map(lambda f, p: jnp.broadcast_to(f, p.shape), tree, like))


def state_fields(group: Group) -> tuple[str, ...]:
    """The state fields recorded per weight: those declared parameter-shaped or per tensor."""
    return tuple(f for f, _ in group.info.state_symbols)


def _record_field(layers, info, name: str, value, like):
    if info.state_field(name).shape == "per_tensor":
        return _ravel_like(layers, value, like)
    return _ravel(layers, value)


def extra_names(plan: Plan, group: Group) -> tuple[str, ...]:
    """A group's own recorded fields, in the order :func:`simulate` stacks them."""
    return _extra_names(plan.record, plan.record_state, group)


@functools.lru_cache(maxsize=1024)
def _extra_names(record: bool, record_state: bool, group: Group) -> tuple[str, ...]:
    if not record:
        return ()
    names = tuple(f"state/{f}" for f in state_fields(group)) if record_state else ()
    return names + (("ema",) if group.uses_ema else ())


def tracks_in_loop(plan: Plan) -> bool:
    """Whether hit, loss area and settling are tracked step by step: not when every step is
    recorded, then they are read off the records after the loop (a smaller loop body)."""
    return not (plan.record and plan.stride == 1)


def _trajectories(plan: Plan, group: Group, inp: Inputs, hp, w0, key):
    """A batch of trajectories of one group: ``hp`` leaves, ``w0`` and ``key`` share axis 0.

    The per-step body is vmapped and the loops run over the batched carry (rather than
    vmapping the loops), so JAX never has to batch a loop: tracing stays cheap. The program
    holds one copy of the step: a recording run looks at the end point by one more pass of the
    same loop (all steps used up, so it moves nothing), a summary-only run evaluates the loss
    there; neither traces a second copy of the step after the loop.
    """
    layers = plan.layers
    fn, theta = plan.fn, inp.theta
    track = tracks_in_loop(plan)
    # Summary mode reads no optimizer state after the loop, and a path that stopped never
    # moves again (it stays diverged), so only its position needs freezing: gating every state
    # leaf too would copy the whole step into each gate (XLA's CPU fusion duplicates producers
    # into every consumer, and each fused kernel is one more pass over the batch per step).
    # Its step count need not stop either: nothing it gives is read after the stop, so the
    # loop index, one scalar, serves every path.
    gate_state = plan.record

    def optimizer(h):
        return group.build(h)

    def value_and_grad(w, k):
        if plan.grad_estimate_fn is None:
            return jax.value_and_grad(fn)(w, theta)
        return fn(w, theta), plan.grad_estimate_fn(w, theta, k)

    def finite(x):
        return jnp.all(jnp.isfinite(x))

    def loss_args(w, loss, g) -> dict:
        """optax's extra arguments for an optimizer that evaluates the loss itself (L-BFGS's
        line search, ``OptimizerInfo.takes_loss``): the loss and gradient at ``w`` and the loss
        as a function of the weights. On a stochastic surface that function is the step's own
        loss, ``f(v) + <e, v - w>`` with ``e = g - grad f(w)`` the step's gradient noise held
        fixed: its value at ``w`` is the loss and its gradient there is the step's gradient
        (everywhere, for additive gradient noise), so the search sees the gradient it steps
        along."""
        if not group.info.takes_loss:
            return {}
        if plan.grad_estimate_fn is None:

            def value_fn(v):
                return fn(_ravel(layers, v), theta)

        else:
            noise = jax.lax.stop_gradient(g - jax.grad(fn)(w, theta))

            def value_fn(v):
                v = _ravel(layers, v)
                return fn(v, theta) + jnp.vdot(noise, v - w)

        return {"value": loss, "grad": _unravel(layers, g), "value_fn": value_fn}

    def init_one(h, w):
        tracked = None
        if track:
            tracked = Tracked(jnp.int32(-1), jnp.zeros([], w.dtype), jnp.int32(0))
        return Carry(
            w=w,
            state=optimizer(h).init(_unravel(layers, w)),
            diverged=jnp.int32(-1),
            t=jnp.int32(0) if plan.record else None,
            tracked=tracked,
        )

    def step_one(h, k0, c: Carry, t) -> tuple[Carry, Seen]:
        alive = c.diverged < 0
        active = alive & (t < inp.n_steps)
        loss, g = value_and_grad(c.w, jax.random.fold_in(k0, t))
        u_tree, state = optimizer(h).update(
            _unravel(layers, g), c.state, _unravel(layers, c.w), **loss_args(c.w, loss, g)
        )
        u = _ravel(layers, u_tree)
        w = c.w + u
        # one reduction for every check (each separate reduction is a fused kernel of its own,
        # and XLA copies the whole step into each one)
        inside = (w >= inp.lo) & (w <= inp.hi)
        ok = jnp.all(inside & jnp.isfinite(w) & jnp.isfinite(g)) & jnp.isfinite(loss)
        move = active & ok
        # A non-finite loss or gradient at w itself: w is finite, so the path stops there.
        diverged = jnp.where(active & ~ok, t + jnp.where(jnp.isfinite(loss), 1, 0), c.diverged)
        tracked = c.tracked
        if track:
            tr = c.tracked
            tracked = Tracked(
                hit=jnp.where((tr.hit < 0) & alive & (loss <= inp.target), t, tr.hit),
                loss_sum=tr.loss_sum + jnp.where(active, loss, 0),
                settled=jnp.where(move & (jnp.linalg.norm(u) > inp.settle), t + 1, tr.settled),
            )
        if gate_state:
            state = jax.tree.map(lambda a, b: jnp.where(move, a, b), state, c.state)
        new = Carry(
            w=jnp.where(move, w, c.w),
            state=state,
            diverged=diverged,
            t=None if c.t is None else c.t + active.astype(c.t.dtype),
            tracked=tracked,
        )
        zero = jnp.zeros_like(u)
        return new, Seen(loss, jnp.where(finite(g), g, zero), jnp.where(move, u, zero))

    def record_one(h, w, seen: Seen, after: Carry):
        """Record at ``w``: its loss and gradient, the step taken from it, and the optimizer's
        learning rates and state for that step (what an arrow at the current point shows)."""
        out = {
            "position": w,
            "loss": seen.loss,
            "grad": seen.g,
            "update": seen.u,
            "lr": _ravel(layers, optimizer(h).learning_rates(after.state)),
        }
        if plan.record_state:
            like = _unravel(layers, w)
            for f in state_fields(group):
                value = getattr(after.state.inner, f)
                out[f"state/{f}"] = _record_field(layers, group.info, f, value, like)
        if group.uses_ema:
            out["ema"] = _ravel(layers, after.state.ema)
        return out

    def evaluations(c: Carry):
        """Loss-and-gradient evaluations of the steps taken: one a step, or what the optimizer
        counts (a line search, ``OptimizerInfo.evaluations``); -1 where a path that diverged
        kept no count (summary mode does not freeze the state of a stopped path)."""
        taken = jnp.where(c.diverged < 0, inp.n_steps, c.diverged).astype(jnp.int32)
        count = group.info.evaluations
        if count is None:
            return taken
        n = jnp.asarray(count(c.state.inner), jnp.int32)
        return n if gate_state else jnp.where(c.diverged < 0, n, -1)

    def summary_one(c: Carry, last_loss, hit):
        return {
            "evaluations": evaluations(c),
            "final_position": c.w,
            "final_loss": last_loss,
            "diverged": c.diverged,
            "hit": hit,
            "loss_sum": jnp.where(c.diverged < 0, c.tracked.loss_sum + last_loss, jnp.inf),
            "settled": c.tracked.settled,
        }

    def step(c, t=None):  # the step of every path; ``t``: the loop's index (summary mode)
        if t is None:
            return jax.vmap(step_one)(hp, key, c, c.t)
        return jax.vmap(step_one, in_axes=(0, 0, 0, None))(hp, key, c, t)

    def plain(c, n):
        if n <= 0:
            return c
        return jax.lax.scan(lambda c, _: (step(c)[0], None), c, None, length=n)[0]

    c = jax.vmap(init_one)(hp, w0)
    recs = {}
    if plan.record:
        record = jax.vmap(record_one)

        def chunk(c, _):
            after, seen = step(c)
            rec = record(hp, c.w, seen, after)
            return plain(after, plan.stride - 1), rec

        # n_chunks moves and one more look at the end point (every step used up by then: the
        # bucketed n_chunks * stride >= n_steps). A path that diverged looks at its frozen point
        # with the key its stopped step count gives, as every record after the stop does.
        c, recs = jax.lax.scan(chunk, c, None, length=plan.n_chunks + 1)
        recs = jax.tree.map(lambda a: jnp.moveaxis(a, 0, 1), recs)  # (R, B, ...) -> (B, R, ...)
        last_loss = recs["loss"][:, -1]
        if not track:
            c = c._replace(tracked=_from_records(recs, c, inp))
        hit = c.tracked.hit  # the end point's look already counted it
    else:
        # exactly n_steps moves (a loop bound that is traced: no frozen tail), then the loss
        # at the end point (the loss alone: no second copy of the step)
        c = jax.lax.fori_loop(0, inp.n_steps, lambda t, c: step(c, t)[0], c)
        last_loss = jax.vmap(fn, in_axes=(0, None))(c.w, theta)
        reached = (c.tracked.hit < 0) & (c.diverged < 0) & (last_loss <= inp.target)
        hit = jnp.where(reached, inp.n_steps, c.tracked.hit)
    return recs, jax.vmap(summary_one)(c, last_loss, hit)


def _from_records(recs: dict, c: Carry, inp: Inputs) -> Tracked:
    """Hit, loss area (without the end point) and settling from every step's record (stride 1).

    Record ``r`` is step ``r`` (the end point repeats past ``n_steps``); a path counts towards
    ``hit`` up to the step that stopped it, as in the loop. The loss sum adds in step order, as
    the loop does.
    """
    loss = recs["loss"]  # (B, R)
    r = jnp.arange(loss.shape[1], dtype=jnp.int32)[None, :]
    d = c.diverged[:, None]
    alive_at = (d < 0) | (r < d) | ((r == d) & ~jnp.isfinite(loss))
    reached = (loss <= inp.target) & alive_at & (r <= inp.n_steps)
    hit = jnp.where(jnp.any(reached, axis=1), jnp.argmax(reached, axis=1), -1).astype(jnp.int32)
    taken = jnp.where(r < inp.n_steps, loss, 0).T  # steps taken: the end point is added later

    def add(total, row):
        return total + row, None

    loss_sum = jax.lax.scan(add, jnp.zeros_like(loss[:, 0]), taken)[0]
    moved = jnp.linalg.norm(recs["update"], axis=-1) > inp.settle
    settled = jnp.max(jnp.where(moved, r + 1, 0), axis=1).astype(jnp.int32)
    return Tracked(hit=hit, loss_sum=loss_sum, settled=settled)


COMMON_RECORDS = ("position", "loss", "grad", "update", "lr")


def simulate(plan: Plan, inp: Inputs, hps: tuple, starts: jax.Array, keys: jax.Array):
    """Run every group; arrays are ``(instances, starts, seeds, ...)`` (compiled per plan and
    input shapes, see :func:`compiled`)."""
    return compiled(plan)(inp, hps, starts, keys)


# Every compiled executable holds about 14 MiB for as long as its jitted function lives
# (measured: benchmarks/RESULTS.md), and a server meets new plans without end (each typed
# formula is one). One jitted function per plan, the least recently used dropped past
# MAX_COMPILED_PLANS, bounds that memory; a dropped plan compiles again if it comes back.
MAX_COMPILED_PLANS = limits.MAX_COMPILED_PLANS
_COMPILED: collections.OrderedDict[Plan, Any] = collections.OrderedDict()
_COMPILED_LOCK = threading.Lock()
_compiles_dropped = [0]  # executables of dropped plans, for compile_count


def compiled(plan: Plan) -> Any:
    """The jitted kernel of ``plan`` (``fn(inputs, hps, starts, keys)``; ``.lower`` works)."""
    if not plan.record:  # the summary loop's bound is traced: its length is no part of the key
        plan = dataclasses.replace(plan, stride=0)
    with _COMPILED_LOCK:
        fn = _COMPILED.get(plan)
        if fn is not None:
            _COMPILED.move_to_end(plan)
            return fn
        fn = _COMPILED[plan] = jax.jit(functools.partial(_simulate, plan))
        while len(_COMPILED) > MAX_COMPILED_PLANS:
            _, old = _COMPILED.popitem(last=False)
            _compiles_dropped[0] += old._cache_size()
        return fn


def clear_compiled() -> None:
    """Drop every compiled kernel (their memory goes back; the next runs compile again)."""
    with _COMPILED_LOCK:
        _compiles_dropped[0] += sum(fn._cache_size() for fn in _COMPILED.values())
        _COMPILED.clear()


def _simulate(plan: Plan, inp: Inputs, hps: tuple, starts: jax.Array, keys: jax.Array):
    """Run every group; arrays are ``(instances, starts, seeds, ...)``.

    Returns ``(records, summary, extras)``: the fields every group records and the summaries
    are concatenated over the groups' (padded) instances, so few arrays cross to the host;
    ``extras`` holds each group's own fields (optimizer state, weight average) stacked, one
    array per group (:func:`extra_names`; :func:`unpack_outputs` names them again). Each group's
    (instance, start, seed) combinations are flattened into one batch axis.
    """
    n_s, n_k = starts.shape[0], keys.shape[0]
    per_group = []
    for group, hp in zip(plan.groups, hps, strict=True):
        n_i = next(iter(hp.values())).shape[0] if hp else 1
        hp_b = {k: jnp.repeat(v, n_s * n_k) for k, v in hp.items()}
        w0 = jnp.tile(jnp.repeat(starts, n_k, axis=0), (n_i, 1))
        key = jnp.tile(keys, (n_i * n_s, 1))
        out = _trajectories(plan, group, inp, hp_b, w0, key)
        per_group.append(jax.tree.map(lambda a, n=n_i: a.reshape((n, n_s, n_k, *a.shape[1:])), out))

    def concat(parts):
        return jnp.concatenate(parts) if len(parts) > 1 else parts[0]

    # A few big arrays cross to the host rather than two dozen small ones: each transfer has a
    # fixed cost, which dominated warm runs (benchmarks/RESULTS.md).
    records = concat([pack(r, COMMON_RECORDS) for r, _ in per_group]) if plan.record else None
    floats = concat([pack(s, SUMMARY_FLOATS) for _, s in per_group])
    ints = concat([pack(s, SUMMARY_INTS) for _, s in per_group])
    # a group's own fields (all per weight) stacked: one array per group, not one per field
    extras = tuple(
        jnp.stack([r[k] for k in names], axis=-2) if names else None
        for (r, _), group in zip(per_group, plan.groups, strict=True)
        for names in [extra_names(plan, group)]
    )
    return records, (floats, ints), extras


SUMMARY_FLOATS = ("final_position", "final_loss", "loss_sum")
SUMMARY_INTS = ("diverged", "hit", "settled", "evaluations")
VECTOR_FIELDS = frozenset({"position", "grad", "update", "lr", "final_position"})


def pack(fields: dict, names: tuple[str, ...]) -> jax.Array:
    """Join fields along a new last axis: vectors (``VECTOR_FIELDS``) by their width, scalars
    as one column, all in the first field's dtype."""
    dtype = fields[names[0]].dtype
    cols = [fields[n] if n in VECTOR_FIELDS else fields[n][..., None] for n in names]
    return jnp.concatenate([c.astype(dtype) for c in cols], axis=-1)


def unpack(packed: np.ndarray, names: tuple[str, ...], dim: int) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack`, on the host."""
    out, i = {}, 0
    for n in names:
        if n in VECTOR_FIELDS:
            out[n], i = packed[..., i : i + dim], i + dim
        else:
            out[n], i = packed[..., i], i + 1
    return out


def unpack_outputs(outs, dim: int, plan: Plan | None = None) -> tuple[dict, dict, tuple]:
    """``(records, summary, extras)`` of :func:`simulate` as dicts of host arrays (``extras``,
    one dict per group, only with ``plan``)."""
    records, (floats, ints), packed = outs
    recs = unpack(np.asarray(records), COMMON_RECORDS, dim) if records is not None else {}
    summary = unpack(np.asarray(floats), SUMMARY_FLOATS, dim)
    summary.update(unpack(np.asarray(ints), SUMMARY_INTS, dim))
    extras = ()
    if plan is not None:
        extras = tuple(
            {n: np.asarray(a)[..., i, :] for i, n in enumerate(extra_names(plan, group))}
            for a, group in zip(packed, plan.groups, strict=True)
        )
    return recs, summary, extras


def compile_count() -> int:
    """How many executables the kernel has compiled in this process (for no-recompile tests)."""
    with _COMPILED_LOCK:
        return _compiles_dropped[0] + sum(fn._cache_size() for fn in _COMPILED.values())


# ---- buckets -------------------------------------------------------------------------------
def bucket(n: int) -> int:
    """Round a size up to the bucket ladder 1, 2, 4, ..., 64, then multiples of 64."""
    if n <= 64:
        return 1 << max(0, math.ceil(math.log2(max(n, 1))))
    return 64 * math.ceil(n / 64)


def pow2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def pad_rows(x: np.ndarray, n: int) -> np.ndarray:
    """Pad the leading axis to ``n`` by repeating the last row (padding is computed, then cut)."""
    if x.shape[0] == n:
        return x
    return np.concatenate([x, np.repeat(x[-1:], n - x.shape[0], axis=0)])


def divergence_box(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.asarray(bounds, np.float64)
    width = bounds[:, 1] - bounds[:, 0]
    return bounds[:, 0] - DIVERGENCE_MARGIN * width, bounds[:, 1] + DIVERGENCE_MARGIN * width
