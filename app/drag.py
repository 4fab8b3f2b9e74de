"""Dragging the first start point: the animator's ``drag`` trigger answered with only the new
paths and losses.

While the start marker is dragged the animator sends ``drag`` triggers ``{"x", "y", "seq"}``
(view coordinates; at most one unanswered). The animator is mounted in an ``st.fragment``
(:func:`app.views.paths`), so such a trigger reruns only the fragment, whose mount then carries
:func:`answer` instead of the document: the same ``id`` and a ``drag`` section, which the
browser swaps into the instance it draws (``app/animator/drag.js``). Starts are traced in the
engine, so a new start runs the compiled kernels again without compiling. The release sends
the ``click`` trigger the surface's click sends, which commits the start (scene and link).

A plain click on the surface takes the same road first: it sends a ``drag`` trigger for the
clicked point, and its ``click`` (the whole page's rerun: the document, the sidebar, the link)
once that answer is drawn, so the paths move after a fragment's rerun rather than after the
page's. Every ``drag`` trigger is answered, a refused start by :func:`refused`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app import compute, payload
from trajectories import Experiment, limits

ANSWER = "drag_answer"  # session key: the answer the next fragment run mounts


def moved(e: Experiment, x: float, y: float) -> Experiment:
    """``e`` with its first start point at (x, y) in view coordinates (the others kept)."""
    starts = [tuple(p) for p in e.starts] or [(x, y)]
    starts[0] = (x, y)
    return e.replace(starts=tuple(starts[: limits.MAX_STARTS]))


def answer(e: Experiment, x: float, y: float, seq: int) -> dict[str, Any]:
    """The ``drag`` section for a start at (x, y): every enabled optimizer's path (view
    coordinates), loss and divergence steps, in the document's encoding and order (the
    arrows, the inside table and the heatmaps wait for the release's document)."""
    r = compute.result(moved(e, x, y))
    s = r.surface
    runs = [
        {
            "path": payload.array(s.project(r.position[a])),
            "loss": payload.array(r.loss[a]),
            "diverged": r.diverged_step[a].tolist(),
            "hit": r.hit_step[a].tolist(),
            "final_loss": [float(v) if np.isfinite(v) else None for v in r.final_loss[a]],
        }
        for a in range(len(r.position))
    ]
    return {"seq": int(seq), "optimizers": runs}


def refused(seq: int) -> dict[str, Any]:
    """The answer for a start the scene refuses: no paths (the browser keeps those it draws,
    and a click's commit follows, whose rerun shows the message)."""
    return {"seq": int(seq), "optimizers": None}


def read(value: Any) -> tuple[float, float, int] | None:
    """The trigger's ``(x, y, seq)``, or None for anything else (it comes from the page)."""
    drag = getattr(value, "drag", None) if value is not None else None
    if not isinstance(drag, dict):
        return None
    try:
        x, y, seq = float(drag["x"]), float(drag["y"]), int(drag["seq"])
    except (KeyError, TypeError, ValueError):
        return None
    return (x, y, seq) if math.isfinite(x) and math.isfinite(y) else None
