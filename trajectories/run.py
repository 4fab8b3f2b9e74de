"""``run(experiment) -> Result``: every enabled optimizer instance from every start point.

Instances are grouped by structure (kind, flags, which options are set) so that one compiled
scan serves each group, vmapped over its instances, the start points and the seeds; all groups
run in one jitted call.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import jax
import numpy as np

import surfaces
from trajectories import hyperparams, kernel, limits, pieces
from trajectories.experiment import Computation, Experiment

# A path has settled once every later move is shorter than this fraction of the window.
SETTLE_FRACTION = 1e-4


@dataclasses.dataclass
class Result:
    """Recorded trajectories; arrays are indexed ``[instance, start, record, ...]``.

    ``steps[r]`` is the step of record ``r`` (record 0 is the start point). Record ``r`` holds
    the position after ``steps[r]`` updates and what the optimizer sees and does there: the
    loss and gradient at that point, the update it takes from it, and the per-weight learning
    rates and state of that update (an arrow drawn at the current point shows where it goes
    next). The last record's update is zero: no step follows. After a divergence a path stays
    frozen at its last finite point with zero updates; ``diverged_step`` says when
    (-1: never). ``hit_step`` is the first step whose loss is within ``tolerance`` of the
    surface's optimal value (-1: never, or no known optimum).

    Instance ``a`` is ``experiment.optimizers[a]``: ``experiment`` is the computation's
    (the enabled instances, hyperparameters filled in, no names or colours), so one result
    serves every description with that computation. The front ends name and colour it.
    """

    computation: Computation
    surface: surfaces.Surface
    steps: np.ndarray
    position: np.ndarray  # (I, S, R, dim)
    loss: np.ndarray  # (I, S, R)
    grad: np.ndarray
    update: np.ndarray
    lr: np.ndarray  # the optimizer's own per-weight learning rate
    state: list[dict[str, np.ndarray]]  # per instance: field -> (S, R, dim)
    ema: dict[int, np.ndarray]  # instance -> averaged weights (S, R, dim), when use_ema
    diverged_step: np.ndarray  # (I, S)
    hit_step: np.ndarray  # (I, S)
    final_loss: np.ndarray  # (I, S)
    loss_auc: np.ndarray  # (I, S) mean loss over the steps taken (inf if diverged)
    settled_step: np.ndarray  # (I, S) after it, every move < 1e-4 of the window diagonal
    stride: int
    # (I, S) loss-and-gradient evaluations of the steps taken: the steps, or more for an
    # optimizer that evaluates the loss itself (L-BFGS's line search); None: not recorded (a
    # snapshot saved before it was)
    evaluations: np.ndarray | None

    @property
    def experiment(self) -> Experiment:
        return self.computation.experiment

    @property
    def kinds(self) -> list[str]:
        return [o.kind for o in self.experiment.optimizers]

    @property
    def ratio(self) -> np.ndarray:
        """The realised per-weight step ratio ``-update / gradient`` (NaN where g = 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.grad != 0, -self.update / self.grad, np.nan)

    @property
    def distance_to_minimum(self) -> np.ndarray:
        """Distance from each final point to the nearest global minimum (NaN if unknown)."""
        minima = np.asarray(self.surface.minima)
        final = self.position[:, :, -1, :]
        if minima.size == 0:
            return np.full(final.shape[:2], np.nan)
        d = np.linalg.norm(final[:, :, None, :] - minima[None, None], axis=-1)
        return d.min(axis=-1)

    def summary(self, names: list[str] | None = None) -> list[dict]:
        """One row per (instance, start): the metrics a table shows; ``names`` label the
        instances (default: their kinds)."""
        rows = []
        dist = self.distance_to_minimum
        for a, name in enumerate(names or self.kinds):
            for s in range(self.position.shape[1]):
                rows.append(
                    {
                        "optimizer": name,
                        "start": s,
                        "final_loss": float(self.final_loss[a, s]),
                        "distance_to_minimum": float(dist[a, s]),
                        "steps_to_target": int(self.hit_step[a, s]),
                        "diverged_at": int(self.diverged_step[a, s]),
                    }
                )
        return rows


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A plan with its traced inputs, ready to simulate."""

    plan: kernel.Plan
    inputs: kernel.Inputs
    hps: tuple
    starts: jax.Array
    members: tuple[tuple[int, ...], ...]  # per group: result-instance indices
    n_starts: int
    n_records: int


def dtype_of(experiment: Experiment):
    return np.float64 if experiment.dtype == "float64" else np.float32


def group_instances(experiment: Experiment, dtype) -> tuple[list, list, list]:
    """Groups, their traced hyperparameter arrays (padded to a power of 2), and members."""
    keyed: dict[kernel.Group, list[tuple[int, dict]]] = {}
    for a, (_, spec) in enumerate(experiment.active()):
        static, traced = hyperparams.split_hyperparams(spec.info, spec.values())
        group = kernel.Group(spec.info.name, static, tuple(sorted(traced)))
        keyed.setdefault(group, []).append((a, traced))
    groups, hps, members = [], [], []
    for group, items in keyed.items():
        n = kernel.pow2(len(items))
        hp = {
            name: kernel.pad_rows(np.array([t[name] for _, t in items], dtype), n)
            for name in group.traced_names
        }
        groups.append(group)
        hps.append(hp)
        members.append(tuple(a for a, _ in items))
    return groups, hps, members


def record_layout(experiment: Experiment, surface, groups, members, record_state: bool):
    """Stride and number of records so that the recorded arrays fit the memory budget."""
    itemsize = np.dtype(experiment.dtype).itemsize
    n_starts = max(1, len(experiment.starts))
    per_record = 0
    for group, m in zip(groups, members, strict=True):
        fields = 4 + (len(kernel.state_fields(group)) if record_state else 0) + group.uses_ema
        per_record += len(m) * n_starts * (surface.dim * fields + 1) * itemsize
    max_records = int(min(limits.MAX_RECORDS, max(2, limits.RESULT_BUDGET_BYTES // per_record)))
    steps = experiment.steps
    needed = math.ceil(steps / (max_records - 1))
    stride = max(experiment.stride, needed) if experiment.stride else kernel.pow2(needed)
    return stride, math.ceil(steps / stride)


def prepare(
    experiment: Experiment,
    surface: surfaces.Surface,
    *,
    record: bool = True,
    record_state: bool = True,
    starts: np.ndarray | None = None,
) -> Prepared:
    dtype = dtype_of(experiment)
    groups, hps, members = group_instances(experiment, dtype)
    pts = experiment.start_points(surface) if starts is None else np.asarray(starts)
    n_starts = pts.shape[0]
    if record:
        stride, n_chunks = record_layout(experiment, surface, groups, members, record_state)
        scan_chunks = kernel.bucket(n_chunks)
    else:
        stride, n_chunks, scan_chunks = kernel.bucket(experiment.steps), 0, 0
    lo, hi = kernel.divergence_box(surface.bounds)
    f_star = surface.optimal_value
    target = -np.inf if f_star is None else f_star + experiment.tolerance
    window = np.asarray(surface.window, np.float64)
    settle = SETTLE_FRACTION * float(np.linalg.norm(window[:, 1] - window[:, 0]))
    plan = kernel.Plan(
        fn=surface.fn,
        grad_estimate_fn=surface.grad_estimate_fn,
        layers=tuple(surface.layers),
        groups=tuple(groups),
        n_chunks=scan_chunks,
        stride=stride,
        record=record,
        record_state=record_state,
    )
    # NumPy inputs: jit moves them to the device on its fast path (jnp conversions would each
    # dispatch a computation, milliseconds per run).
    inputs = kernel.Inputs(
        theta=surface.theta,
        n_steps=np.int32(experiment.steps),
        target=np.asarray(target, dtype),
        lo=np.asarray(lo, dtype),
        hi=np.asarray(hi, dtype),
        settle=np.asarray(settle, dtype),
    )
    padded = kernel.pad_rows(pts, kernel.pow2(n_starts))
    return Prepared(
        plan,
        inputs,
        tuple(hps),
        np.asarray(padded, dtype),
        tuple(members),
        n_starts,
        n_chunks + 1,
    )


@functools.lru_cache(maxsize=4096)
def _key(seed: int) -> np.ndarray:
    """``jax.random.PRNGKey(seed)``'s raw key. With JAX's default threefry2x32 keys that is the
    seed's high and low 32-bit words (``jax.random``'s threefry seeding), here ``[0, seed]`` for
    a seed in [0, 2**31), built on the host: a first run then compiles no seeding program
    (about 0.03 s). Other seeds and key kinds ask JAX."""
    if 0 <= seed < 2**31 and jax.config.jax_default_prng_impl == "threefry2x32":
        return np.array([0, seed], np.uint32)
    return np.asarray(jax.random.PRNGKey(seed))


def keys_for(seeds) -> np.ndarray:
    return np.stack([_key(int(s)) for s in seeds])


@functools.lru_cache(maxsize=256)
def _prepared(computation: Computation, record_state: bool):
    """Validation and preparation depend on the computation only: done once per computation
    (warm, they cost more than the computation itself); names and colours are not in it."""
    e = computation.experiment
    surface = e.validate()
    p = prepare(e, surface, record_state=record_state)
    # kept on the device: a warm run then hands the kernel no host arrays to copy over
    inputs, hps, starts = jax.device_put((p.inputs, p.hps, p.starts))
    return surface, dataclasses.replace(p, inputs=inputs, hps=hps, starts=starts)


@functools.lru_cache(maxsize=4096)
def _device_key(seed: int) -> jax.Array:
    return jax.device_put(keys_for([seed]))


def run(
    experiment: Experiment | Computation,
    *,
    record_state: bool = True,
    on_compile: Callable[[], None] | None = None,
) -> Result:
    """Run the experiment's computation (its enabled instances; names and colours play no
    part); bad descriptions raise ``ValueError`` before any work starts."""
    c = experiment if isinstance(experiment, Computation) else experiment.computation()
    try:
        surface, p = _prepared(c, record_state)
    except ValueError:
        if isinstance(experiment, Experiment):
            experiment.validate()  # the same problem, as the description numbers and names it
        raise
    before = pieces.compile_count() if on_compile is not None else 0
    outs = pieces.simulate(p.plan, p.inputs, p.hps, p.starts, _device_key(c.experiment.seed))
    if on_compile is not None and pieces.compile_count() > before:
        on_compile()
    return assemble(c, surface, p, outs)  # host arrays already


def instance_rows(p: Prepared) -> np.ndarray:
    """For each result instance (experiment order), its row in the concatenated outputs."""
    return layout(p).rows


@dataclasses.dataclass(frozen=True)
class _Layout:
    """How a prepared computation's joined outputs become a result's arrays: worked out once
    per prepared computation (a warm run spent a third of its host time on it)."""

    rows: np.ndarray
    in_order: bool  # one instance per group, groups unpadded: a slice (no copy) picks them
    state_names: tuple[tuple[tuple[int, str], ...], ...]  # per group: (column, field)
    ema_column: tuple[int | None, ...]  # per group


@functools.lru_cache(maxsize=256)
def _layout_of(plan: kernel.Plan, members: tuple, sizes: tuple) -> _Layout:
    offsets = [sum(sizes[:g]) for g in range(len(sizes))]  # groups are padded
    rows_of = {a: o + k for o, m in zip(offsets, members, strict=True) for k, a in enumerate(m)}
    rows = np.array([rows_of[a] for a in range(len(rows_of))])
    states, emas = [], []
    for group in plan.groups:
        names = kernel.extra_names(plan, group)
        states.append(
            tuple((i, n.split("/", 1)[1]) for i, n in enumerate(names) if n.startswith("state/"))
        )
        emas.append(names.index("ema") if "ema" in names else None)
    in_order = bool(np.array_equal(rows, np.arange(len(rows))))
    return _Layout(rows, in_order, tuple(states), tuple(emas))


def layout(p: Prepared) -> _Layout:
    sizes = tuple(next(iter(hp.values())).shape[0] if hp else 1 for hp in p.hps)
    return _layout_of(p.plan, p.members, sizes)


def assemble(computation: Computation | Experiment, surface, p: Prepared, outs) -> Result:
    if isinstance(computation, Experiment):
        computation = computation.computation()
    experiment = computation.experiment
    records, summary, _ = kernel.unpack_outputs(outs, surface.dim)
    S, R = p.n_starts, p.n_records
    lay = layout(p)
    rows = lay.rows

    def pick(a, n_records=True):  # (rows, starts, seeds, [R], ...) -> (I, S, [R], ...)
        a = a[: len(rows), :S, 0] if lay.in_order else a[rows, :S, 0]
        return a[:, :, :R] if n_records else a

    state: list = [None] * len(rows)
    ema = {}
    for members, packed, fields, ema_column in zip(
        p.members, outs[2], lay.state_names, lay.ema_column, strict=True
    ):
        for k, a in enumerate(members):
            if packed is None:  # nothing of its own recorded
                state[a] = {}
                continue
            mine = packed[k, :S, 0, :R]  # (S, R, fields, dim)
            state[a] = {name: mine[:, :, i] for i, name in fields}
            if ema_column is not None:
                ema[a] = mine[:, :, ema_column]
    steps_taken = np.minimum(np.arange(R) * p.plan.stride, experiment.steps)
    diverged = pick(summary["diverged"], False)
    taken = np.where(diverged >= 0, diverged, experiment.steps)
    return Result(
        computation=computation,
        surface=surface,
        steps=steps_taken,
        position=pick(records["position"]),
        loss=pick(records["loss"]),
        grad=pick(records["grad"]),
        update=pick(records["update"]),
        lr=pick(records["lr"]),
        state=state,
        ema=ema,
        diverged_step=diverged,
        hit_step=pick(summary["hit"], False),
        final_loss=pick(summary["final_loss"], False),
        loss_auc=pick(summary["loss_sum"], False) / (taken + 1),
        settled_step=pick(summary["settled"], False),
        stride=p.plan.stride,
        evaluations=pick(summary["evaluations"], False),
    )
