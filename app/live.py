"""Live scrubbing: the document's ``live`` section, what the animator's live sliders draw.

For the inspected optimizer the animator offers a slider per live hyperparameter (the
declaration's ``HParam.live``). For one of them the document carries the family of that
optimizer's runs over a readable grid (:func:`trajectories.family.family`, one vmapped call),
so dragging swaps paths, loss curves and learning rates in the browser with no message to the
server; releasing commits the value (the component's ``live`` trigger, see
:func:`app.views.paths`). Schema::

    "live": null or {
      "optimizer": a,                      # index into "optimizers"
      "params": [{"name", "value"}],       # the sliders, in declaration order
      "family": null or {
        "name", "values": [...],           # the grid (ascending), K values
        "current": k,                      # values[k] is the run's own value
        "path": A(K, S, R, 2) as f2,       # in view coordinates
        "loss": A(K, S, R) as l2 (offset: the surface's floor) or f2,
        "lr": A(K, S, R, dim) as l2        # only while dim <= payload.INLINE_DIM and in budget
        "diverged": [[step or -1 per start] per member], "hit": [...],
        "final_loss": [[... per start] per member]
      },
      "note": why there is no family (over the budget), or absent
    }

The family fits :data:`FAMILY_BUDGET_BYTES` (its encoded arrays): past it the grid is thinned
(every other value, the current one kept) and then the learning rates are left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app import payload
from trajectories import Result
from trajectories.family import Family

FAMILY_BUDGET_BYTES = 150_000  # encoded (base64) bytes of one family's arrays
MIN_MEMBERS = 5  # a grid thinner than this is not worth a slider


def live_params(info, values: dict) -> list[dict[str, Any]]:
    """The hyperparameters of an instance a live slider moves: declared live, traced floats
    with a number as value (a scheduled learning rate has no single value to scrub)."""
    out = []
    for h in info.hyperparams:
        v = values.get(h.name)
        if not h.live or h.kind != "float" or not h.traced or h.name in info.fixed:
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append({"name": h.name, "value": float(v)})
    return out


def _thin(k: int, current: int) -> list[int]:
    """Every other member, ``current`` kept."""
    keep = set(range(current % 2, k, 2)) | {current}
    return sorted(keep)


def _size(encoded: dict) -> int:
    return sum(len(v["b64"]) for v in encoded.values() if isinstance(v, dict) and "b64" in v)


def _encode(result: Result, fam: Family, members: list[int], with_lr: bool) -> dict[str, Any]:
    s = result.surface
    pos = fam.position[members]  # (K, S, R, dim)
    path = s.project(pos.reshape(-1, s.dim)).reshape(*pos.shape[:-1], 2)
    loss = fam.loss[members]
    finite = loss[np.isfinite(loss)]
    floor = s.optimal_value if s.optimal_value is not None else 0.0
    if finite.size and finite.min() >= floor:  # on a log scale above the floor: to ~0.5%
        loss_spec = payload.array(loss, "l2", offset=float(floor))
    else:
        loss_spec = payload.array(loss, "f2")
    out: dict[str, Any] = {
        "name": fam.name,
        "values": [float(v) for v in fam.values[members]],
        "current": members.index(fam.current),
        "path": payload.array(path, "f2"),
        "loss": loss_spec,
        "diverged": fam.diverged_step[members].tolist(),
        "hit": fam.hit_step[members].tolist(),
        "final_loss": [
            [float(v) if np.isfinite(v) else None for v in row] for row in fam.final_loss[members]
        ],
    }
    if with_lr:
        out["lr"] = payload.array(fam.lr[members], "l2")
    return out


def encode_family(result: Result, fam: Family) -> tuple[dict[str, Any] | None, str | None]:
    """The family as the document carries it, within the budget; or None and why not."""
    members = list(range(len(fam.values)))
    inline = result.surface.dim <= payload.INLINE_DIM
    for with_lr in (inline, False) if inline else (False,):
        m = members
        while len(m) >= MIN_MEMBERS:
            encoded = _encode(result, fam, m, with_lr)
            if _size(encoded) <= FAMILY_BUDGET_BYTES:
                return encoded, None
            m = [m[i] for i in _thin(len(m), m.index(fam.current))]
    return None, f"the runs of {fam.name} are too large to send for live scrubbing"


def section(a: int, params: list[dict], family: dict | None, note: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"optimizer": int(a), "params": params, "family": family}
    if note:
        out["note"] = note
    return out
