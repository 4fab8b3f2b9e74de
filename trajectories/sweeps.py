"""Sweeps: many trajectories in single vmapped calls, sharded over every local JAX device.

* :func:`hyperparameter_grid`: one or two hyperparameters of one optimizer over linear or log
  ranges (up to 128 x 128); each cell: final loss, steps to target, area under the loss curve,
  divergence.
* :func:`basins`: a grid of start points; which minimum each reaches, and when it settles.
* :func:`seed_ensemble`: many seeds of a stochastic run; quantile bands of loss and position.
* :func:`fair_comparison`: every chosen optimizer tuned over all its numeric hyperparameters
  with the same budget and criterion, next to learning-rate-only tuning with the same budget
  (which favours some optimizers).

Long sweeps run in equal chunks (one compile) and report ``progress(done, total)`` after each;
``progress`` may raise :class:`Cancelled` (or return ``False``) to stop.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import optimizers
from trajectories import hyperparams, kernel, limits, pieces
from trajectories.experiment import Experiment, OptimizerSpec
from trajectories.run import dtype_of, instance_rows, keys_for, prepare

Progress = Callable[[int, int], Any]
CHUNK = 1024  # trajectories per kernel call (per device group), a constant: one compile
CRITERIA = ("final_loss", "loss_auc", "steps_to_target")


class Cancelled(Exception):  # noqa: N818 (reads better at the call site than CancelledError)
    """Raised (or signalled by ``progress`` returning False) to stop a sweep."""


@dataclasses.dataclass(frozen=True)
class Axis:
    """One swept hyperparameter: ``n`` values from ``low`` to ``high`` (log-spaced if ``log``)."""

    name: str
    low: float
    high: float
    n: int
    log: bool = False

    def values(self) -> np.ndarray:
        if self.log:
            return np.geomspace(self.low, self.high, self.n)
        return np.linspace(self.low, self.high, self.n)

    @classmethod
    def parse(cls, text: str) -> Axis:
        """``NAME=LOW:HIGH:N[:log]`` (the command line's ``--grid``)."""
        name, sep, rest = str(text).partition("=")
        parts = rest.split(":")
        log = len(parts) == 4 and parts[3] == "log"
        if not sep or not name or len(parts) not in (3, 4) or (len(parts) == 4 and not log):
            raise ValueError(f"grid {text!r}: expected NAME=LOW:HIGH:N or NAME=LOW:HIGH:N:log")
        try:
            low, high, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"grid {text!r}: LOW and HIGH must be numbers, N an integer") from None
        return cls(name.strip(), low, high, n, log=log)


def _at_least(what: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{what} must be an integer of at least {low}, got {value!r}")


def _check_axis(spec: OptimizerSpec, axis: Axis) -> None:
    names = {h.name for h in spec.info.hyperparams if h.kind == "float"}
    names |= {h.name for h in optimizers.OPTIONS if h.kind == "float" and h.name in spec.values()}
    if axis.name not in names:
        raise ValueError(
            f"grid: {axis.name!r} is not a numeric hyperparameter of {spec.kind} "
            f"(sweepable: {', '.join(sorted(names))})"
        )
    if not (math.isfinite(axis.low) and math.isfinite(axis.high)) or axis.low > axis.high:
        raise ValueError(f"grid {axis.name}: need finite LOW <= HIGH, got {axis.low}:{axis.high}")
    if axis.log and axis.low <= 0:
        raise ValueError(f"grid {axis.name}: a log range needs LOW > 0, got {axis.low}")
    limits.check(
        f"grid {axis.name} points",
        axis.n,
        limits.MAX_GRID_SIDE,
        f"use at most {limits.MAX_GRID_SIDE} points per axis",
    )
    _at_least(f"grid {axis.name}: N", axis.n, 1)
    for v in (axis.low, axis.high):
        try:
            OptimizerSpec(spec.kind, {**spec.hyperparams, axis.name: float(v)}).build()
        except ValueError as err:
            raise ValueError(f"grid {axis.name}={v:g}: {err}") from None


# ---- devices ---------------------------------------------------------------------------------
def _shard_leading(tree: Any) -> Any:
    """Spread the leading axis over all local devices (a no-op on one device)."""
    devices = jax.local_devices()
    if len(devices) == 1:
        return tree
    mesh = Mesh(np.array(devices), ("d",))
    sharding = NamedSharding(mesh, PartitionSpec("d"))
    everywhere = NamedSharding(mesh, PartitionSpec())  # a scalar: one copy on each device
    return jax.tree.map(lambda x: jax.device_put(x, sharding if np.ndim(x) else everywhere), tree)


def _chunk_size(total: int) -> int:
    n_dev = len(jax.local_devices())
    return max(n_dev, min(kernel.pow2(total), CHUNK * n_dev))


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise Cancelled(f"cancelled after {done} of {total} trajectories")


# ---- the core: many instances of one optimizer -------------------------------------------------
def _many_instances(
    experiment: Experiment,
    spec: OptimizerSpec,
    traced: list[dict[str, float]] | dict[str, np.ndarray],
    starts: np.ndarray,
    seeds: Sequence[int],
    progress: Progress | None,
    surface=None,
    final_only: bool = False,
    shared_counters: bool = False,
) -> dict[str, np.ndarray]:
    """Summaries ``(n_rows, n_starts, n_seeds)`` of ``spec`` at each row of traced values:
    ``traced`` is one dict per row, or one column (array) per name, where a 0-d array is one
    value every row shares (kept unbatched in the kernel); ``surface``: the
    experiment's, when the caller has built it already; ``final_only``: the final loss and
    divergence alone (hit -1, loss sum and settling 0: the lean kernel, ``Plan.final_only``);
    ``shared_counters``: ``Plan.shared_counters``."""
    surface = experiment.build_surface() if surface is None else surface
    one = experiment.replace(optimizers=(spec,), starts=())
    p = prepare(one, surface, record=False, starts=starts)
    plan = dataclasses.replace(p.plan, final_only=final_only, shared_counters=shared_counters)
    p = dataclasses.replace(p, plan=plan)
    (group,) = p.plan.groups
    dtype = dtype_of(experiment)
    columns = traced if isinstance(traced, dict) else _columns(traced, group.traced_names)
    shared = {n for n, v in columns.items() if np.ndim(v) == 0}
    n_traced = len(traced) if isinstance(traced, list) else max(map(np.size, columns.values()))
    # Instances are chunked; when there is a single instance, starts are chunked instead.
    by_starts = n_traced == 1
    total = len(starts) if by_starts else n_traced
    size = _chunk_size(total)
    keys = keys_for(seeds)
    out: dict[str, list] = {}
    for lo in range(0, total, size):
        hi = min(total, lo + size)
        if by_starts:
            cut, n_rows = slice(None), 1
            pts = kernel.pad_rows(np.asarray(starts[lo:hi]), size)
        else:
            cut, n_rows = slice(lo, hi), size
            pts = kernel.pad_rows(np.asarray(starts), kernel.pow2(len(starts)))
        # a column cast as a whole rounds each value as the rows' Python floats did
        hp = {
            n: np.asarray(columns[n], dtype)
            if n in shared
            else kernel.pad_rows(np.asarray(columns[n][cut], dtype), n_rows)
            for n in group.traced_names
        }
        pts = np.asarray(pts, dtype)
        if by_starts:
            pts = _shard_leading(pts)
        else:
            hp = _shard_leading(hp)
        outs = jax.device_get(pieces.simulate(p.plan, p.inputs, (hp,), pts, keys))
        _, summary, _ = kernel.unpack_outputs(outs, surface.dim)
        for k, v in summary.items():
            v = np.asarray(v)
            v = v[:, : hi - lo] if by_starts else v[: hi - lo, : len(starts)]
            out.setdefault(k, []).append(v)
        _report(progress, hi, total)
    return {k: np.concatenate(v, axis=1 if by_starts else 0) for k, v in out.items()}


def _columns(rows: list[dict[str, float]], names: Sequence[str]) -> dict[str, np.ndarray]:
    return {n: np.array([r[n] for r in rows]) for n in names}


def _traced_values(spec: OptimizerSpec) -> dict[str, float]:
    _, traced = hyperparams.split_hyperparams(spec.info, spec.values())
    return traced


def _steps_to_target(hit: np.ndarray) -> np.ndarray:
    return np.where(hit >= 0, hit, np.nan).astype(np.float64)


# ---- hyperparameter grid -----------------------------------------------------------------------
@dataclasses.dataclass
class GridResult:
    axes: list[Axis]
    values: list[np.ndarray]  # grid coordinates per axis
    final_loss: np.ndarray | None  # shape (n1,) or (n1, n2); inf where diverged
    loss_auc: np.ndarray | None
    steps_to_target: np.ndarray | None  # NaN where never reached
    diverged: np.ndarray  # bool
    diverged_step: np.ndarray
    # loss-and-gradient evaluations of each cell's run: its steps, or more for an optimizer
    # with a line search (L-BFGS); -1 where a line-search run diverged (no count kept)
    evaluations: np.ndarray | None = None
    metrics: tuple[str, ...] = CRITERIA  # the metrics computed; the others are None

    def best(self, criterion: str = "final_loss") -> dict[str, float]:
        """The grid point with the best score (ties: the first)."""
        if criterion in CRITERIA and criterion not in self.metrics:
            raise ValueError(
                f"grid: {criterion} was not computed (this grid has {', '.join(self.metrics)})"
            )
        score = np.where(np.isnan(_score(self, criterion)), np.inf, _score(self, criterion))
        if not np.isfinite(score).any():
            raise ValueError(f"grid: no cell has a finite {criterion} (every run diverged?)")
        idx = np.unravel_index(int(np.argmin(score)), score.shape)
        return {a.name: float(v[i]) for a, v, i in zip(self.axes, self.values, idx, strict=True)}


def hyperparameter_grid(
    experiment: Experiment,
    instance: int,
    axes: Sequence[Axis],
    progress: Progress | None = None,
    metrics: Sequence[str] | None = None,
) -> GridResult:
    """Sweep one or two hyperparameters of ``experiment.optimizers[instance]`` from the first
    start point (the experiment's seed, noise and steps).

    ``metrics``: which of ``CRITERIA`` to compute (default: all three); the others are
    ``None`` in the result. Asking for ``final_loss`` alone runs a lean kernel that tracks
    nothing else per step (no first hit, loss area or settling: ``kernel.Plan.final_only``),
    with the same final losses to the bit. Divergence is found as in the full mode, step by
    step with the same checks, so ``diverged`` and ``diverged_step`` are the full mode's; a
    diverged cell is not frozen there (nothing of it is reported but that it diverged, and
    when), and its ``final_loss`` is ``inf`` in both modes.

    Changing any value (ranges, unswept hyperparameters, steps, seed, surface values) compiles
    nothing; the unswept hyperparameters go to the kernel as one scalar each (every cell shares
    them), so a grid over other names compiles its own kernel once.
    """
    metrics = _metrics(metrics)
    surface, spec, base = _checked_grid(experiment, instance, tuple(axes))
    values = [a.values() for a in axes]
    mesh = np.meshgrid(*values, indexing="ij")
    # one column per swept name (the cells in row-major order), not one dict per cell; the
    # unswept ones one scalar each, shared by every cell (the kernel keeps it unbatched)
    columns = {name: np.asarray(value) for name, value in base.items()}
    columns.update({a.name: m.ravel() for a, m in zip(axes, mesh, strict=True)})
    starts = experiment.start_points(surface)[:1]
    final_only = metrics == ("final_loss",)
    # Both modes share the counters (the same loop but for what final_only drops, so the same
    # bits: XLA may round an expression of a shared scalar otherwise than a per-cell one)
    s = _many_instances(
        experiment, spec, columns, starts, [experiment.seed], progress, surface, final_only, True
    )
    shape = tuple(a.n for a in axes)

    def cell(k):
        return s[k][:, 0, 0].reshape(shape)

    diverged = cell("diverged")
    taken = np.where(diverged >= 0, diverged, experiment.steps)
    asked = {
        "final_loss": lambda: np.where(diverged >= 0, np.inf, cell("final_loss")),
        "loss_auc": lambda: cell("loss_sum") / (taken + 1),
        "steps_to_target": lambda: _steps_to_target(cell("hit")),
    }
    return GridResult(
        axes=list(axes),
        values=values,
        **{m: asked[m]() if m in metrics else None for m in CRITERIA},
        diverged=diverged >= 0,
        diverged_step=diverged,
        evaluations=cell("evaluations"),
        metrics=metrics,
    )


@functools.lru_cache(maxsize=64)
def _checked_grid(experiment: Experiment, instance: int, axes: tuple[Axis, ...]):
    """The grid's surface, optimizer and unswept values, once its checks pass: once per
    (experiment, instance, axes), as the checks build the optimizer at each axis end and the
    surface (a warm S3 spent about 1.5 of its 18 CPU ms here)."""
    surface = experiment.validate()
    if not 0 <= instance < len(experiment.optimizers):
        raise ValueError(f"grid: no optimizer instance {instance}")
    if len(axes) not in (1, 2) or len({a.name for a in axes}) != len(axes):
        raise ValueError("grid: give one or two different hyperparameters")
    spec = experiment.optimizers[instance]
    for a in axes:
        _check_axis(spec, a)
    limits.check(
        "sweep work (cells x steps x weights)",
        math.prod(a.n for a in axes) * experiment.steps * surface.dim,
        limits.MAX_SWEEP_WORK,
        "use fewer grid points or steps",
    )
    return surface, spec, _traced_values(spec)


def _metrics(metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The asked metrics in ``CRITERIA`` order (all of them for ``None``)."""
    if metrics is None:
        return CRITERIA
    if isinstance(metrics, str):
        metrics = (metrics,)
    unknown = [m for m in metrics if m not in CRITERIA]
    if unknown:
        raise ValueError(f"grid: unknown metric {unknown[0]!r}; choose from {', '.join(CRITERIA)}")
    if not metrics:
        raise ValueError(f"grid: ask for at least one metric of {', '.join(CRITERIA)}")
    return tuple(m for m in CRITERIA if m in metrics)


# ---- basins of attraction ----------------------------------------------------------------------
@dataclasses.dataclass
class BasinsResult:
    x: np.ndarray  # grid coordinates of the 2-D view
    y: np.ndarray
    minima: np.ndarray  # (k, dim): global minima then local minima
    labels: np.ndarray  # (ny, nx): index into minima, -1 none reached, -2 diverged
    settled_step: np.ndarray  # (ny, nx)
    final_loss: np.ndarray


def basins(
    experiment: Experiment,
    instance: int,
    n: int = 64,
    progress: Progress | None = None,
    radius: float | None = None,
) -> BasinsResult:
    """Start ``experiment.optimizers[instance]`` from an ``n x n`` grid over the view window;
    label each start by the minimum it ends within ``radius`` of (default: 2% of the window)."""
    experiment.validate()
    _at_least("basins grid side", n, 2)
    limits.check(
        "basins grid side",
        n,
        limits.MAX_GRID_SIDE,
        f"use at most {limits.MAX_GRID_SIDE} points per side",
    )
    surface = experiment.build_surface()
    limits.check(
        "sweep work (starts x steps x weights)",
        n * n * experiment.steps * surface.dim,
        limits.MAX_SWEEP_WORK,
        "use a smaller grid or fewer steps",
    )
    spec = experiment.optimizers[instance]
    window = np.asarray(surface.window, np.float64)
    x = np.linspace(window[0, 0], window[0, 1], n)
    y = np.linspace(window[1, 0], window[1, 1], n)
    xx, yy = np.meshgrid(x, y)
    starts = surface.lift(np.stack([xx.ravel(), yy.ravel()], axis=1))
    base = [_traced_values(spec)]
    s = _many_instances(experiment, spec, base, starts, [experiment.seed], progress)
    final = s["final_position"][0, :, 0]
    parts = [np.asarray(surface.minima).reshape(-1, surface.dim)]
    if surface.local_minima is not None:
        parts.append(np.asarray(surface.local_minima).reshape(-1, surface.dim))
    minima = np.concatenate(parts)
    if radius is None:
        radius = 0.02 * float(np.linalg.norm(window[:, 1] - window[:, 0]))
    labels = np.full(len(final), -1)
    if len(minima):
        d = np.linalg.norm(final[:, None, :] - minima[None], axis=-1)
        nearest = d.argmin(axis=1)
        labels = np.where(d[np.arange(len(final)), nearest] <= radius, nearest, -1)
    diverged = s["diverged"][0, :, 0] >= 0
    labels = np.where(diverged, -2, labels)
    return BasinsResult(
        x=x,
        y=y,
        minima=minima,
        labels=labels.reshape(n, n),
        settled_step=s["settled"][0, :, 0].reshape(n, n),
        final_loss=s["final_loss"][0, :, 0].reshape(n, n),
    )


# ---- seed ensembles ----------------------------------------------------------------------------
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclasses.dataclass
class EnsembleResult:
    steps: np.ndarray  # (R,)
    quantiles: tuple[float, ...]
    loss: np.ndarray  # (I, Q, R): per instance, quantile bands of the loss per record
    position: np.ndarray  # (I, Q, R, dim); instance a: the experiment's a-th enabled one
    n_seeds: int


def seed_ensemble(
    experiment: Experiment, n_seeds: int = 32, progress: Progress | None = None
) -> EnsembleResult:
    """Run every enabled instance from the first start with ``n_seeds`` seeds (seed, seed+1,
    ...); all instances see the same noise for the same seed (common random numbers)."""
    surface = experiment.validate()
    if not surface.stochastic:
        raise ValueError(
            "seed ensemble: this surface is deterministic: set gradient noise or pick a "
            "stochastic surface (noisy quadratic, a minibatch model)"
        )
    _at_least("seeds", n_seeds, 1)
    limits.check("seeds", n_seeds, limits.MAX_SEEDS, f"use at most {limits.MAX_SEEDS} seeds")
    n_inst = len(experiment.active())
    limits.check(
        "work (seeds x steps x optimizers x weights)",
        n_seeds * experiment.steps * n_inst * surface.dim,
        limits.MAX_WORK,
        "fewer seeds, steps or optimizers",
    )
    # Records shared across seeds: scale the stride so the ensemble fits the same budget.
    one = experiment.replace(starts=tuple(map(tuple, experiment.start_points(surface)[:1])))
    stride_one = prepare(one, surface, record_state=False).plan.stride
    per_seed = math.ceil(experiment.steps * n_seeds / (50 * limits.MAX_RECORDS))
    stride = max(stride_one, kernel.pow2(per_seed))
    one = one.replace(stride=stride)
    p = prepare(one, surface, record_state=False)
    seeds = [experiment.seed + k for k in range(n_seeds)]
    keys_all = keys_for(seeds)
    per_call = max(1, min(n_seeds, 64))
    losses, positions = [], []
    for lo in range(0, n_seeds, per_call):
        keys = keys_all[lo : lo + per_call]
        outs = jax.device_get(pieces.simulate(p.plan, p.inputs, p.hps, p.starts, keys))
        losses.append(_gather_records(p, outs, "loss", surface.dim))
        positions.append(_gather_records(p, outs, "position", surface.dim))
        _report(progress, min(n_seeds, lo + per_call), n_seeds)
    loss = np.concatenate(losses, axis=1)[..., : p.n_records]  # (I, seeds, R)
    pos = np.concatenate(positions, axis=1)[:, :, : p.n_records]  # (I, seeds, R, dim)
    q = np.array(QUANTILES)
    return EnsembleResult(
        steps=np.minimum(np.arange(p.n_records) * p.plan.stride, experiment.steps),
        quantiles=QUANTILES,
        loss=np.moveaxis(np.quantile(loss, q, axis=1), 0, 1),
        position=np.moveaxis(np.quantile(pos, q, axis=1), 0, 1),
        n_seeds=n_seeds,
    )


def _gather_records(p, outs, key, dim) -> np.ndarray:
    """``(instances, seeds, R, ...)`` from one start, instances in experiment order."""
    records, _, _ = kernel.unpack_outputs(outs, dim)
    return np.asarray(records[key])[instance_rows(p), 0]


# ---- fair comparison ---------------------------------------------------------------------------
@dataclasses.dataclass
class FairRow:
    name: str
    kind: str
    default_score: float
    lr_only_score: float
    lr_only_best: dict[str, float]
    tuned_score: float
    tuned_best: dict[str, float]
    trials: int
    # loss-and-gradient evaluations of the default run and of each best run: the experiment's
    # steps, or more for an optimizer with a line search (L-BFGS), so a budget of steps can be
    # read as a budget of evaluations
    default_evaluations: int = -1
    lr_only_evaluations: int = -1
    tuned_evaluations: int = -1


def _score(s, criterion: str) -> np.ndarray:
    if criterion not in CRITERIA:
        raise ValueError(f"criterion {criterion!r} must be one of {', '.join(CRITERIA)}")
    return np.asarray(getattr(s, criterion), np.float64)


def _tunable(spec: OptimizerSpec) -> list:
    """The numeric hyperparameters a fair tuner searches (registry ranges and scales)."""
    return [
        h
        for h in spec.info.hyperparams
        if h.kind == "float" and h.low is not None and h.high is not None and h.high > h.low
    ]


def _sample(spec: OptimizerSpec, hparams, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` points of a scrambled Sobol sequence mapped to each range (log ranges in log).

    Points that break one of the optimizer's declared rules (WAME's zeta_min <= zeta_max) are
    skipped and the sequence continues, so every trial is a valid setting.
    """
    from scipy.stats import qmc

    sobol = qmc.Sobol(len(hparams), scramble=True, seed=seed)
    values = spec.values()
    rows: list[dict[str, float]] = []
    for _ in range(8):  # the declared ranges make invalid points rare; give up after 8 rounds
        for point in sobol.random(n):
            row = {h.name: _map_unit(h, t) for h, t in zip(hparams, point, strict=True)}
            try:
                spec.info.check({**values, **row})
            except ValueError:
                continue
            rows.append(row)
            if len(rows) == n:
                return rows
    raise ValueError(f"{spec.kind}: too few valid settings in its declared ranges")


def _map_unit(h, t: float) -> float:
    if h.scale == "log" and h.low > 0:
        lo, hi = math.log(h.low), math.log(h.high)
        return float(math.exp(lo + t * (hi - lo)))
    return float(h.low + t * (h.high - h.low))


def _scores(summary: dict, criterion: str, steps: int) -> np.ndarray:
    diverged = summary["diverged"][:, 0, 0] >= 0
    if criterion == "final_loss":
        score = summary["final_loss"][:, 0, 0].astype(np.float64)
    elif criterion == "loss_auc":
        score = summary["loss_sum"][:, 0, 0].astype(np.float64) / (steps + 1)
    else:
        hit = summary["hit"][:, 0, 0]
        score = np.where(hit >= 0, hit, np.inf).astype(np.float64)
    return np.where(diverged | ~np.isfinite(score), np.inf, score)


def _evaluations(summary: dict, row: int) -> int:
    return int(summary["evaluations"][row, 0, 0])


def fair_comparison(
    experiment: Experiment,
    trials: int = 64,
    criterion: str = "final_loss",
    progress: Progress | None = None,
) -> list[FairRow]:
    """Tune every enabled instance's optimizer over all its numeric hyperparameters with the
    same budget of ``trials`` runs and the same criterion (lower is better), and also over its
    learning rate only with the same budget, from the first start point."""
    surface = experiment.validate()
    if criterion not in CRITERIA:
        raise ValueError(f"criterion {criterion!r} must be one of {', '.join(CRITERIA)}")
    _at_least("trials", trials, 1)
    limits.check("trials", trials, limits.MAX_TRIALS, f"use at most {limits.MAX_TRIALS} trials")
    active = experiment.active()
    limits.check(
        "sweep work (trials x optimizers x steps x weights)",
        2 * trials * len(active) * experiment.steps * surface.dim,
        limits.MAX_SWEEP_WORK,
        "fewer trials, optimizers or steps",
    )
    starts = experiment.start_points(surface)[:1]
    total = 2 * len(active)
    rows = []
    for k, (_, spec) in enumerate(active):
        base = _traced_values(spec)
        hparams = _tunable(spec)
        lr_h = [h for h in hparams if h.name == "learning_rate"]
        full = [{**base, **r} for r in _sample(spec, hparams, trials, experiment.seed)]
        lr_only = [{**base, **r} for r in _sample(spec, lr_h, trials, experiment.seed)]
        default = _many_instances(experiment, spec, [base], starts, [experiment.seed], None)
        s_full = _many_instances(experiment, spec, full, starts, [experiment.seed], None)
        _report(progress, 2 * k + 1, total)
        s_lr = _many_instances(experiment, spec, lr_only, starts, [experiment.seed], None)
        _report(progress, 2 * k + 2, total)
        sc_full = _scores(s_full, criterion, experiment.steps)
        sc_lr = _scores(s_lr, criterion, experiment.steps)
        b_full, b_lr = int(np.argmin(sc_full)), int(np.argmin(sc_lr))
        names = [h.name for h in hparams]
        rows.append(
            FairRow(
                name=spec.name or spec.kind,
                kind=spec.kind,
                default_score=float(_scores(default, criterion, experiment.steps)[0]),
                lr_only_score=float(sc_lr[b_lr]),
                lr_only_best={"learning_rate": lr_only[b_lr]["learning_rate"]},
                tuned_score=float(sc_full[b_full]),
                tuned_best={n: full[b_full][n] for n in names},
                trials=trials,
                default_evaluations=_evaluations(default, 0),
                lr_only_evaluations=_evaluations(s_lr, b_lr),
                tuned_evaluations=_evaluations(s_full, b_full),
            )
        )
    return rows
