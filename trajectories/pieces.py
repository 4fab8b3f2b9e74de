"""Running a plan's compiled pieces: one jitted function per piece (least recently used dropped
past ``limits.MAX_COMPILED_PIECES``), a small pool that compiles new pieces side by side, the
pieces' outputs fetched and joined on the host (:func:`simulate`), the whole-scene reference
program (:func:`fused`) and the count of compiled executables (:func:`compile_count`). What a
piece computes is :mod:`trajectories.kernel`'s."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
import gc
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from trajectories import limits
from trajectories.kernel import (
    Inputs,
    Piece,
    Plan,
    group_outputs,
    join,
    split_records,
    summaries_from_records,
    tracks_in_loop,
)


def simulate(plan: Plan, inp: Inputs, hps: tuple, starts: jax.Array, keys: jax.Array):
    """Run every group; arrays are ``(instances, starts, seeds, ...)``.

    Each group runs its own compiled piece (:func:`compiled`), and their outputs are joined on
    the host in group order, as :func:`fused` joins them in one program; each group's arrays
    are those of its group's own program bit for bit (tests/test_pieces.py). Pieces that this
    process has not run with these shapes yet are called from a small thread pool, so one's XLA
    compile (which releases the GIL) overlaps the tracing and compiling of the next. Returns
    host arrays (``(records, (floats, ints), extras)``).
    """
    pieces = _pieces(plan)
    entries = [_entry(piece) for piece in pieces]
    signatures = [_signature(hp, starts, keys) for hp in hps]
    new = [
        i for i, (e, sig) in enumerate(zip(entries, signatures, strict=True)) if sig not in e.seen
    ]
    outs: list = [None] * len(pieces)
    with _collector_paused(bool(new)):
        if len(new) > 1:
            futures = {i: _pool().submit(entries[i].fn, inp, hps[i], starts, keys) for i in new}
        else:
            futures = {}
        for i, (e, hp) in enumerate(zip(entries, hps, strict=True)):
            if i not in futures:
                outs[i] = e.fn(inp, hp, starts, keys)
        for i, f in futures.items():
            outs[i] = f.result()
    for i in new:
        entries[i].seen.add(signatures[i])
    joined = join(split_records(_to_host(outs), plan, starts.shape[-1]), np.concatenate)
    if plan.final_only or tracks_in_loop(plan):  # nothing to read off records
        return joined
    return summaries_from_records(joined, inp, starts.shape[-1])


@contextlib.contextmanager
def _collector_paused(pause: bool):
    """Python's cyclic garbage collector paused while new pieces trace and compile. Tracing
    makes many short-lived objects, so collections come often, and each older-generation one
    walks every object the process holds (JAX's included): S2's first run made about 50, 0.1 s
    of CPU (benchmarks/RESULTS.md). Reference counting still frees what tracing drops; the
    collector runs again when the pause ends. A collector already off stays off."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _to_host(outs: list):
    """The pieces' outputs as NumPy arrays: on the CPU ``np.asarray`` views each buffer (about
    1 us an array, against ``jax.device_get``'s 10: S2's 32 arrays took 0.25-0.35 ms), elsewhere
    ``jax.device_get`` starts every copy before it waits for the first."""
    if jax.default_backend() != "cpu":
        return jax.device_get(outs)
    return [tuple(None if a is None else _host(a) for a in out) for out in outs]


def _host(a):
    if isinstance(a, tuple):  # the summaries' (floats, ints)
        return tuple(np.asarray(x) for x in a)
    return np.asarray(a)


@functools.lru_cache(maxsize=256)
def _pieces(plan: Plan) -> tuple[Piece, ...]:
    return plan.pieces()


def fused(plan: Plan) -> Callable:
    """Every group in one jitted program (what :func:`simulate` did before it compiled per
    piece): kept as the reference the pieces must equal bit for bit, and for measurements."""
    if not plan.record:
        plan = dataclasses.replace(plan, stride=0)
    return _fused(plan)


@functools.lru_cache(maxsize=4)
def _fused(plan: Plan) -> Callable:
    def run_all(inp, hps, starts, keys):
        pieces = zip(plan.pieces(), hps, strict=True)
        parts = [group_outputs(p, inp, hp, starts, keys, summarise=True) for p, hp in pieces]
        return join(split_records(parts, plan, starts.shape[-1]), jnp.concatenate)

    return jax.jit(run_all, compiler_options=_options(plan))


# Every compiled executable holds memory for as long as its jitted function lives (about
# 6 MiB a piece on a 2-D surface: benchmarks/RESULTS.md), and a server meets new pieces
# without end (each typed formula is one). One jitted function per piece, the least recently
# used dropped past MAX_COMPILED_PIECES, bounds that memory; a dropped piece compiles again if
# it comes back.
class _Entry(NamedTuple):
    fn: Any  # the piece's jitted function
    seen: set  # argument signatures already run (compiled): those skip the thread pool


# XLA's classic elemental emitters on CPU for the kernels' programs (and theirs only: plain JAX
# code in the same process keeps XLA's defaults). The CPU backend compiles each fused kernel of
# a loop that is not inlined as one function (the MLP's) as a module of its own, and the newer
# MLIR fusion emitters add a fixed lowering cost to each: without them a recording MLP piece
# compiles in about 35% less CPU time, a 2-D one in about 25% less, and runs no slower
# (benchmarks/RESULTS.md, "Cold compile"). Other backends ignore the option. Recording programs
# and a hyperparameter grid's (S3's, lean or full: the same warm CPU time, 3.5 of 3.5 ms a chunk
# of 1,024 cells, and 0.11 against 0.19 CPU s of XLA compile, "Final-loss sweeps"; both of a
# grid's modes must use the same emitters, which round some operations differently). The other
# summary-only sweeps (basins, fair comparison) keep XLA's defaults: not measured. A grid's
# pieces are those with ``shared_counters`` (sweeps.hyperparameter_grid sets it in both modes).
COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def _options(plan: Plan | Piece) -> dict:
    return COMPILER_OPTIONS if plan.record or plan.shared_counters else {}


MAX_COMPILED_PIECES = limits.MAX_COMPILED_PIECES
_COMPILED: collections.OrderedDict[Piece, _Entry] = collections.OrderedDict()
_COMPILED_LOCK = threading.Lock()
_compiles_dropped = [0]  # executables of dropped pieces, for compile_count
_POOL: list = []


def _signature(hp: dict, starts, keys) -> tuple:
    """What decides a piece's input shapes besides the piece (a guess is enough: it only
    chooses whether to call from the pool; jit itself decides what compiles)."""
    first = next(iter(hp.values()), None)
    n_i = None if first is None else (first.shape, first.dtype)
    return n_i, starts.shape, starts.dtype, keys.shape, getattr(starts, "sharding", None)


def _pool():
    with _COMPILED_LOCK:
        if not _POOL:
            _POOL.append(concurrent.futures.ThreadPoolExecutor(2, "trajectories-compile"))
        return _POOL[0]


def compiled(piece: Piece) -> Any:
    """The jitted kernel of one piece (``fn(inputs, hp, starts, keys)``; ``.lower`` works)."""
    return _entry(piece).fn


def _entry(piece: Piece) -> _Entry:
    with _COMPILED_LOCK:
        entry = _COMPILED.get(piece)
        if entry is not None:
            _COMPILED.move_to_end(piece)
            return entry
        fn = jax.jit(functools.partial(group_outputs, piece), compiler_options=_options(piece))
        entry = _COMPILED[piece] = _Entry(fn, set())
        while len(_COMPILED) > MAX_COMPILED_PIECES:
            _, old = _COMPILED.popitem(last=False)
            _compiles_dropped[0] += old.fn._cache_size()
        return entry


def clear_compiled() -> None:
    """Drop every compiled kernel (their memory goes back; the next runs compile again)."""
    with _COMPILED_LOCK:
        _compiles_dropped[0] += sum(e.fn._cache_size() for e in _COMPILED.values())
        _COMPILED.clear()
    _fused.cache_clear()


def compile_count() -> int:
    """How many executables the kernel has compiled in this process (for no-recompile tests)."""
    with _COMPILED_LOCK:
        return _compiles_dropped[0] + sum(e.fn._cache_size() for e in _COMPILED.values())
