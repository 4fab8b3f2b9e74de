"""A family of runs: one optimizer instance over a grid of one hyperparameter, in one call.

What a live slider scrubs through: every member is the instance's run with that hyperparameter
set to one grid value, all members computed by one vmapped kernel call (the hyperparameter is
traced, so a new grid or a new value never recompiles; the call always holds
:data:`FAMILY_SIZE` members, padded, so a grid of any length up to it shares one executable).
Each member carries the same per-step records a plain run has (:class:`trajectories.Result`'s
position, loss and per-weight learning rate), recorded at the stride the caller asks for, so
the members line up with the frames of the run being shown.

Grids are readable (:func:`readable_grid`): ten values a decade for a log-scaled
hyperparameter (1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8; the Renard R10 series), steps of 0.05
for one in [0, 1], always with the instance's own value in it.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from trajectories import hyperparams, kernel, limits, pieces
from trajectories.experiment import Experiment, OptimizerSpec
from trajectories.run import dtype_of, keys_for, prepare

FAMILY_SIZE = 32  # members per kernel call, a constant: one compile per structure
R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)
DECADES = 1  # a log grid spans this many decades on each side of the current value
LINEAR_STEPS = 20  # about this many steps across a linear range (0.05 across [0, 1])


@dataclasses.dataclass
class Family:
    """Member ``k`` is the instance with ``name = values[k]``; arrays ``[member, start, ...]``
    as in :class:`trajectories.Result` (record ``r`` is step ``steps[r]``)."""

    kind: str
    name: str
    values: np.ndarray  # (K,) ascending
    current: int  # the member at the instance's own value
    steps: np.ndarray  # (R,)
    stride: int
    position: np.ndarray  # (K, S, R, dim)
    loss: np.ndarray  # (K, S, R)
    lr: np.ndarray  # (K, S, R, dim)
    diverged_step: np.ndarray  # (K, S)
    hit_step: np.ndarray  # (K, S)
    final_loss: np.ndarray  # (K, S)


def _nice(x: float) -> float:
    """The 1-2-5 number nearest above ``x``."""
    d = 10.0 ** math.floor(math.log10(x))
    return next(m * d for m in (1, 2, 5, 10) if m * d >= x * (1 - 1e-9))


def readable_grid(hparam, current: float) -> np.ndarray:
    """The values a live slider offers for ``hparam`` around ``current``: within the
    declaration's practical range (``low``..``high``), ``current`` included."""
    low, high = float(hparam.low), float(hparam.high)
    if hparam.scale == "log" and low > 0:
        lo, hi = max(low, current / 10**DECADES), min(high, current * 10**DECADES)
        out = {
            float(f"{m * 10.0**d:.3g}")
            for d in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in R10
        }
        out = {v for v in out if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)}
    else:
        step = 0.05 if low >= 0 and high <= 1 else _nice((high - low) / LINEAR_STEPS)
        n = math.floor((high - low) / step + 1e-9)
        out = {round(low + k * step, 10) for k in range(n + 1)}
    out.add(float(current))
    return np.array(sorted(out))


def _valid_values(spec: OptimizerSpec, name: str, values) -> list[float]:
    """The grid values the optimizer accepts (with its other settings: WAME's zeta_min <=
    zeta_max, a decay rate below 1)."""
    kept = []
    for v in values:
        try:
            OptimizerSpec(spec.kind, {**spec.hyperparams, name: float(v)}).build()
        except ValueError:
            continue
        kept.append(float(v))
    return kept


def family(
    experiment: Experiment,
    instance: int,
    name: str,
    values=None,
    *,
    stride: int | None = None,
) -> Family:
    """``experiment.optimizers[instance]`` over ``values`` of its hyperparameter ``name``
    (default: :func:`readable_grid` around its own value), from every start, recorded every
    ``stride`` steps (default: as a run of that instance alone would be)."""
    surface = experiment.validate()
    if not 0 <= instance < len(experiment.optimizers):
        raise ValueError(f"family: no optimizer instance {instance}")
    spec = experiment.optimizers[instance]
    info = spec.info
    hparam = next((h for h in info.hyperparams if h.name == name), None)
    if hparam is None or hparam.kind != "float" or not hparam.traced:
        raise ValueError(f"family: {name!r} is not a traced numeric hyperparameter of {spec.kind}")
    current = spec.values().get(name)
    if not isinstance(current, int | float) or isinstance(current, bool):
        raise ValueError(f"family: {spec.kind}'s {name} is {current!r}, not a number")
    if values is None:
        values = readable_grid(hparam, float(current))
    values = sorted(set(_valid_values(spec, name, values)) | {float(current)})
    limits.check("family members", len(values), FAMILY_SIZE, f"use at most {FAMILY_SIZE} values")
    limits.check(
        "family work (members x starts x steps x weights)",
        FAMILY_SIZE * max(1, len(experiment.starts)) * experiment.steps * surface.dim,
        limits.MAX_SWEEP_WORK,
        "use fewer steps or starts",
    )
    one = experiment.replace(
        optimizers=(OptimizerSpec(spec.kind, spec.hyperparams),), stride=stride or 0
    )
    p = prepare(one, surface, record_state=False)
    (group,) = p.plan.groups
    _, traced = hyperparams.split_hyperparams(info, spec.values())
    dtype = dtype_of(experiment)
    hp = {}
    for n in group.traced_names:
        column = np.array([v if n == name else traced[n] for v in values], dtype)
        hp[n] = kernel.pad_rows(column, FAMILY_SIZE)
    outs = pieces.simulate(p.plan, p.inputs, (hp,), p.starts, keys_for([experiment.seed]))
    records, summary, _ = kernel.unpack_outputs(jax.device_get(outs), surface.dim, p.plan)
    K, S, R = len(values), p.n_starts, p.n_records

    def cut(a, per_record=True):
        a = np.asarray(a)[:K, :S, 0]
        return a[:, :, :R] if per_record else a

    return Family(
        kind=spec.kind,
        name=name,
        values=np.array(values),
        current=values.index(float(current)),
        steps=np.minimum(np.arange(R) * p.plan.stride, experiment.steps),
        stride=p.plan.stride,
        position=cut(records["position"]),
        loss=cut(records["loss"]),
        lr=cut(records["lr"]),
        diverged_step=cut(summary["diverged"], False),
        hit_step=cut(summary["hit"], False),
        final_loss=cut(summary["final_loss"], False),
    )
