"""The compiled kernel: optimizer trajectories as ``lax.scan``s under ``jax.jit``, vmapped.

A :class:`Plan` is everything static about a computation (the surface's code, each optimizer
group's structure, record layout, bucket sizes); every value (hyperparameters, surface
parameters, start points, keys, the number of steps) is a traced argument. A plan is compiled
in pieces, one per (surface structure, optimizer group) (:class:`Piece`), run one after the
other and joined on the host, so a scene that adds one optimizer compiles one small kernel
and reuses the others, and a new scene's pieces compile concurrently
(:func:`trajectories.pieces.simulate`, which runs them). Each piece has its jitted function,
holding one executable per input shapes, the least recently used pieces dropped past
``limits.MAX_COMPILED_PIECES`` (memory stays bounded on a server), so:

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

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import optimizers
from optimizers import schedules
from trajectories import layout
from trajectories.hyperparams import unflatten
from trajectories.packing import (  # noqa: F401  (kernel.bucket, kernel.pack, ...: callers)
    SUMMARY_FLOATS,
    SUMMARY_INTS,
    VECTOR_FIELDS,
    bucket,
    pack,
    pad_rows,
    pow2,
    unpack,
)

DIVERGENCE_MARGIN = 1.0


@dataclasses.dataclass(frozen=True)
class Group:
    """Optimizer instances that share one compiled update rule (same kind and structure)."""

    kind: str
    static: tuple  # ((name, value), ...) incl. schedule structure
    traced_names: tuple[str, ...]

    def build(self, traced: Mapping[str, jax.Array]) -> optimizers.Optimizer:
        kwargs = unflatten(self.static, traced)
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
    # summary mode only: each path's final loss and divergence, no hit / loss area / settling
    # (a grid asked for its final loss alone: the lean loop, :func:`_trajectories`)
    final_only: bool = False
    # summary mode only: the optimizer state's step counters carried once for every path
    # (:func:`_counters_unbatched`; a grid's pieces, in both of its modes)
    shared_counters: bool = False

    def pieces(self) -> tuple[Piece, ...]:
        """One piece per group: what is compiled (summary mode's loop bound is traced, so its
        stride is no part of the key)."""
        stride = self.stride if self.record else 0
        return tuple(
            Piece(self.fn, self.grad_estimate_fn, self.layers, g, self.n_chunks, stride,
                  self.record, self.record_state, self.final_only, self.shared_counters)
            for g in self.groups
        )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Piece:
    """What one compiled kernel is specialised to: one surface structure and one optimizer
    group, with the record layout (:func:`_trajectories` reads these as it reads a plan's)."""

    fn: Callable
    grad_estimate_fn: Callable | None
    layers: tuple
    group: Group
    n_chunks: int
    stride: int
    record: bool
    record_state: bool
    final_only: bool = False
    shared_counters: bool = False


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
    """A group's own recorded fields, in the order a piece stacks them."""
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
    return not (plan.record and plan.stride == 1) and not plan.final_only


def _trajectories(plan: Plan, group: Group, inp: Inputs, hp, w0, key, summarise=False):
    """A batch of trajectories of one group: ``hp`` leaves, ``w0`` and ``key`` share axis 0.
    Returns ``((records, extras), summaries)``: the records packed (:func:`pack`, one row per
    record) and, in the same row after them, the group's own fields (``extras`` is ``None``
    then; it is a separate stacked array only where their dtype differs; ``None`` for either
    where there are none; :func:`split_records`).

    At recording stride 1, hit, loss area and settling are left unset (-1, 0, 0) for
    :func:`summaries_from_records` to fill in on the host, unless ``summarise`` (the fused
    reference program computes them here, as it always did).

    The per-step body is vmapped and the loops run over the batched carry (rather than
    vmapping the loops), so JAX never has to batch a loop: tracing stays cheap. The program
    holds one copy of the step: a recording run looks at the end point by one more pass of the
    same loop (all steps used up, so it moves nothing), a summary-only run evaluates the loss
    there; neither traces a second copy of the step after the loop.
    """
    # A rule that treats every weight alike steps the flat vector (one kernel per operation
    # rather than one per tensor: :mod:`trajectories.layout`); the others get the tensors.
    layers = () if layout.elementwise(group, plan.layers, w0.dtype) else plan.layers
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
        # final_only reports a stopped path's stop alone (its loss is inf whatever it ends
        # at): its position need not freeze either, one select a step fewer, and XLA then fuses
        # the check's reduction into the stop's select (benchmarks/RESULTS.md)
        new = Carry(
            w=w if plan.final_only else jnp.where(move, w, c.w),
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
        # Packed here, one row per step, the group's own fields in the same row as the common
        # records, rather than after the loop: every separate loop output is a buffer of its
        # own to zero, update in place, transpose and join, each compiled (S2's eight pieces:
        # 5-12% less trace, lower and compile time for the one row than for two).
        # :func:`split_records` cuts the row in two after the program.
        names = _extra_names(plan.record, plan.record_state, group)
        row = pack(out, COMMON_RECORDS)
        if not names:
            return row, None
        extras = jnp.stack([out[k] for k in names])
        if extras.dtype != row.dtype:
            return row, extras
        return jnp.concatenate([row, extras.ravel()]), None

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
        tr = _unset(c.diverged, last_loss) if c.tracked is None else c.tracked
        return {
            "evaluations": evaluations(c),
            "final_position": c.w,
            "final_loss": last_loss,
            "diverged": c.diverged,
            "hit": hit,
            "loss_sum": jnp.where(c.diverged < 0, tr.loss_sum + last_loss, jnp.inf),
            "settled": tr.settled,
        }

    def step(c, t=None, axes=0):  # every path's step; ``t``: the loop's index (summary mode)
        if t is None:
            return jax.vmap(step_one)(hp, key, c, c.t)
        vmapped = jax.vmap(step_one, in_axes=(hp_axes, 0, axes, None), out_axes=(axes, 0))
        return vmapped(hp, key, c, t)

    def init(axes):
        return jax.vmap(init_one, in_axes=(hp_axes, 0), out_axes=axes)(hp, w0)

    # A hyperparameter every path shares (a grid's unswept ones) comes as a scalar: unbatched,
    # what it alone determines (Adam's 1 - beta_2^t) is one scalar a step, not one per path.
    hp_axes = {k: 0 if v.ndim else None for k, v in hp.items()}
    axes = 0
    if plan.shared_counters and not plan.record:
        axes = _counters_unbatched(init, lambda c, a: step(c, jnp.int32(0), a))

    def plain(c, n):
        if n <= 0:
            return c
        return jax.lax.scan(lambda c, _: (step(c)[0], None), c, None, length=n)[0]

    c = init(axes)
    recs = None, None
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
        fields = unpack(recs[0], COMMON_RECORDS, w0.shape[-1])
        last_loss = fields["loss"][:, -1]
        if not track:
            if summarise:
                tracked = _from_records(jnp, fields["loss"], fields["update"], c.diverged, inp)
            else:
                tracked = _unset(c.diverged, last_loss)
            c = c._replace(tracked=tracked)
        hit = c.tracked.hit  # the end point's look already counted it
    else:
        # exactly n_steps moves (a loop bound that is traced: no frozen tail), then the loss
        # at the end point (the loss alone: no second copy of the step)
        c = jax.lax.fori_loop(0, inp.n_steps, lambda t, c: step(c, t, axes)[0], c)
        last_loss = jax.vmap(fn, in_axes=(0, None))(c.w, theta)
        if track:
            reached = (c.tracked.hit < 0) & (c.diverged < 0) & (last_loss <= inp.target)
            hit = jnp.where(reached, inp.n_steps, c.tracked.hit)
        else:  # final_only: not tracked
            hit = jnp.full_like(c.diverged, -1)
    return recs, jax.vmap(summary_one, in_axes=(axes, 0, 0))(c, last_loss, hit)


def _counters_unbatched(init: Callable, step: Callable) -> Any:
    """vmap axes of a summary-mode carry with the optimizer state's integer scalars unbatched,
    or 0 (everything batched) where a step makes one of them differ between paths.

    Summary mode gates no optimizer state and gives every path the loop's index as its step,
    so a step counter in the state (Adam's ``t``, the options' update count) holds the same
    number in every path. Carried unbatched it is one scalar a step (XLA then sees that it is
    the loop index) instead of a per-path array with its own increment and loop copy: 2 of the
    16 fused kernels and 2 of the 5 copies of S3's loop body (benchmarks/RESULTS.md). vmap
    refuses an unbatched output that depends on the path: that counter stays batched."""
    shapes = jax.eval_shape(lambda: init(0))

    def axis(a):
        return None if a.ndim == 1 and jnp.issubdtype(a.dtype, jnp.integer) else 0

    state = jax.tree.map(axis, shapes.state)
    if None not in jax.tree.leaves(state, is_leaf=lambda a: a is None):
        return 0
    axes = Carry(0, state, 0, None, None if shapes.tracked is None else 0)
    try:
        jax.eval_shape(lambda: step(init(axes), axes))
    except ValueError:
        return 0
    return axes


def _unset(diverged, loss) -> Tracked:
    return Tracked(jnp.full_like(diverged, -1), jnp.zeros_like(loss), jnp.zeros_like(diverged))


def _from_records(xp, loss, update, diverged, inp: Inputs) -> Tracked:
    """Hit, loss area (without the end point) and settling from every step's record (stride 1),
    with ``xp`` = ``jnp`` (in a program) or ``np`` (on the host, the same arithmetic).

    Record ``r`` is step ``r`` (the end point repeats past ``n_steps``); a path counts towards
    ``hit`` up to the step that stopped it, as in the loop. The loss sum adds in step order, as
    the loop does. On the host rather than in every piece: these few reductions took half of a
    recording piece's XLA compile (0.16 of 0.33 CPU s for SGD on S2).
    """
    # loss (B, R), update (B, R, dim), diverged (B,)
    if xp is np:
        return _from_records_host(loss, update, diverged, inp)
    r = xp.arange(loss.shape[1], dtype=xp.int32)[None, :]
    d = diverged[:, None]
    alive_at = (d < 0) | (r < d) | ((r == d) & ~xp.isfinite(loss))
    reached = (loss <= inp.target) & alive_at & (r <= inp.n_steps)
    hit = xp.where(xp.any(reached, axis=1), xp.argmax(reached, axis=1), -1).astype(xp.int32)
    taken = xp.where(r < inp.n_steps, loss, 0).astype(loss.dtype)  # the end point comes later
    loss_sum = jax.lax.scan(lambda t, row: (t + row, None), jnp.zeros_like(loss[:, 0]), taken.T)[0]
    moved = jnp.linalg.norm(update, axis=-1) > inp.settle
    settled = xp.max(xp.where(moved, r + 1, 0), axis=1).astype(xp.int32)
    return Tracked(hit=hit, loss_sum=loss_sum, settled=settled)


def _from_records_host(loss, update, diverged, inp: Inputs) -> Tracked:
    """:func:`_from_records` in NumPy, the same values with fewer passes (a warm S2 run spent
    0.12 ms here): columns past the last step are left out rather than masked, and a path's
    stop is masked only when some path stopped."""
    n_paths, n_records = loss.shape
    n = int(inp.n_steps)
    reached = loss[:, : n + 1] <= inp.target  # records past n_steps repeat the end point
    stopped = diverged >= 0
    if stopped.any():
        r = np.arange(reached.shape[1], dtype=np.int32)[None, :]
        d = diverged[:, None]
        alive_at = ~stopped[:, None] | (r < d) | ((r == d) & ~np.isfinite(loss[:, : n + 1]))
        reached &= alive_at
    first = reached.argmax(axis=1)
    hit = np.where(reached[np.arange(n_paths), first], first, -1).astype(np.int32)
    # cumsum adds one after the other in the array's dtype, as the scan does; the loop added
    # zeros past the last step, and x + 0 is x but for -0 (hence the last + 0)
    zero = loss.dtype.type(0)
    if n:
        loss_sum = np.cumsum(loss[:, :n], axis=1, dtype=loss.dtype)[:, -1] + zero
    else:
        loss_sum = np.zeros(n_paths, loss.dtype)
    # the same sum of squares as a norm, without np.linalg.norm's 0.2 ms on S2's records
    moved = np.sqrt(np.einsum("...i,...i->...", update, update)) > inp.settle
    last = n_records - 1 - moved[:, ::-1].argmax(axis=1)
    settled = np.where(moved[np.arange(n_paths), last], last + 1, 0).astype(np.int32)
    return Tracked(hit=hit, loss_sum=loss_sum, settled=settled)


def summaries_from_records(outs: tuple, inp: Inputs, dim: int) -> tuple:
    """Fill in hit, loss area and settling of joined host outputs from their records (each
    piece left them unset: :func:`_trajectories`); ``inp``'s scalars may be device arrays."""
    records, (floats, ints), extras = outs
    rec = unpack(records.reshape(-1, *records.shape[-2:]), COMMON_RECORDS, dim)
    floats, ints = np.array(floats), np.array(ints)  # writable copies
    flat_f, flat_i = floats.reshape(-1, floats.shape[-1]), ints.reshape(-1, ints.shape[-1])
    host = Inputs(None, *(np.asarray(x) for x in inp[1:]))
    diverged = flat_i[:, SUMMARY_INTS.index("diverged")]
    tr = _from_records(np, rec["loss"], rec["update"], diverged, host)
    last = rec["loss"][:, -1]
    loss_sum = np.where(diverged < 0, tr.loss_sum + last, np.inf).astype(floats.dtype)
    flat_f[:, dim + 1] = loss_sum  # after final_position (dim columns) and final_loss
    flat_i[:, SUMMARY_INTS.index("hit")] = tr.hit
    flat_i[:, SUMMARY_INTS.index("settled")] = tr.settled
    return records, (floats, ints), extras


COMMON_RECORDS = ("position", "loss", "grad", "update", "lr")


def group_outputs(piece: Piece, inp, hp: dict, starts, keys, summarise: bool = False):
    """One group's trajectories: ``(records, (floats, ints), extras)``, its (instance, start,
    seed) combinations flattened into one batch axis and back. ``records`` are the fields
    every group records packed into one array, the summaries two (few arrays cross to the
    host: each transfer has a fixed cost, which dominated warm runs, benchmarks/RESULTS.md);
    ``extras`` the group's own fields (optimizer state, weight average) stacked, one array
    (:func:`extra_names`; :func:`unpack_outputs` names them again), or ``None`` with those
    fields at the end of each record row (:func:`split_records` cuts them off)."""
    n_s, n_k = starts.shape[0], keys.shape[0]
    n_i = next((v.shape[0] for v in hp.values() if v.ndim), 1)
    hp_b = {k: jnp.repeat(v, n_s * n_k) if v.ndim else v for k, v in hp.items()}
    w0 = jnp.tile(jnp.repeat(starts, n_k, axis=0), (n_i, 1))
    key = jnp.tile(keys, (n_i * n_s, 1))
    out = _trajectories(piece, piece.group, inp, hp_b, w0, key, summarise)
    (records, extras), s = jax.tree.map(lambda a: a.reshape((n_i, n_s, n_k, *a.shape[1:])), out)
    return records, (pack(s, SUMMARY_FLOATS), pack(s, SUMMARY_INTS)), extras


def split_records(parts, plan: Plan, dim: int) -> list:
    """Each group's outputs with its own recorded fields apart from the common records: a
    recording program writes both into one row per step (:func:`_trajectories`), cut here
    (views on the host, slices in a program)."""
    width = sum(dim if n in VECTOR_FIELDS else 1 for n in COMMON_RECORDS)
    out = []
    for (records, summaries, extras), group in zip(parts, plan.groups, strict=True):
        names = extra_names(plan, group)
        if records is not None and extras is None and names:
            extras = records[..., width:].reshape(*records.shape[:-1], len(names), dim)
            records = records[..., :width]
        out.append((records, summaries, extras))
    return out


def join(parts: list, concatenate: Callable) -> tuple:
    """The groups' outputs as one: fields every group has concatenated over the groups'
    (padded) instances, each group's own fields one array per group."""

    def concat(xs):
        return concatenate(xs) if len(xs) > 1 else xs[0]

    records = concat([r for r, _, _ in parts]) if parts[0][0] is not None else None
    floats = concat([s[0] for _, s, _ in parts])
    ints = concat([s[1] for _, s, _ in parts])
    return records, (floats, ints), tuple(e for _, _, e in parts)


def unpack_outputs(outs, dim: int, plan: Plan | None = None) -> tuple[dict, dict, tuple]:
    """``(records, summary, extras)`` of :func:`trajectories.pieces.simulate` as dicts of host
    arrays (``extras``, one dict per group, only with ``plan``)."""
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


def divergence_box(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.asarray(bounds, np.float64)
    width = bounds[:, 1] - bounds[:, 0]
    return bounds[:, 0] - DIVERGENCE_MARGIN * width, bounds[:, 1] + DIVERGENCE_MARGIN * width
