"""Start points in the page: the user's own, or the surface's default that follows the surface.

The page keeps the start-point table's rows in ``start_points``, and in ``starts_followed`` the
rows it last filled in from the surface's default: while the table still holds those, nobody
set the points. Points nobody set follow the surface: switching surfaces (or a parameter
that moves the surface's default) runs the new surface's default start, and the table shows
it. Points the user set (table, click, a link's ``x``) stay on a surface switch while they lie
in the new surface's window (the picture); one outside moves to the surface's first default
start, with a note saying so. ``default_starts`` is also what a share link without ``x`` runs
(``app/share.py``), so the address bar is the link of what is drawn.
"""

from __future__ import annotations

import functools
import json
from collections.abc import MutableMapping
from typing import Any

import numpy as np

import surfaces
from trajectories import Experiment

State = MutableMapping[str, Any]
FOLLOWED = "starts_followed"  # the rows the table was given from the surface's default
NOTE = "start_note"  # {"surface", "points", "text"}: why a start point moved


@functools.lru_cache(maxsize=32)
def _surface(name: str, params_json: str) -> surfaces.Surface:
    return surfaces.get(name, **json.loads(params_json))


def surface_of(e: Experiment) -> surfaces.Surface:
    """The (noise-free) surface of ``e``, built once per name and parameters."""
    try:
        key = json.dumps(dict(e.surface_params), sort_keys=True)
    except TypeError:  # a value JSON does not hold (never from the widgets or a link)
        return surfaces.get(e.surface, **e.surface_params)
    return _surface(e.surface, key)


def default_starts(e: Experiment) -> tuple[tuple[float, ...], ...]:
    """The starts ``e``'s surface runs when nobody chose them: its first default start as a
    point of the 2-D view; ``()`` on a high-dimensional surface (the engine then starts at its
    default weights, which a point of the view would only approximate). Raises ValueError for
    a surface that cannot be built."""
    surface = surface_of(e)
    if surface.dim != 2:
        return ()
    return (tuple(float(c) for c in surface.starts[0]),)


def view_default(surface: surfaces.Surface) -> list[float]:
    """The surface's first default start, in view coordinates (what the table shows)."""
    return [float(c) for c in np.asarray(surface.project(surface.starts[0]), np.float64)]


def in_window(surface: surfaces.Surface, point: list[float] | tuple[float, ...]) -> bool:
    (x0, x1), (y0, y1) = np.asarray(surface.window, np.float64)
    return len(point) >= 2 and x0 <= point[0] <= x1 and y0 <= point[1] <= y1


def _fmt(point) -> str:
    return "(" + ", ".join(f"{float(c):.4g}" for c in point[:2]) + ")"


def kept_on(surface: surfaces.Surface, points: list[list[float]]) -> tuple[list, str | None]:
    """The user's start points on a new surface: those inside its window stay, those outside
    become its first default start (once); and the note that says what moved, or None."""
    inside = [list(p) for p in points if in_window(surface, p)]
    outside = [p for p in points if not in_window(surface, p)]
    if not outside:
        return inside, None
    default = view_default(surface)
    moved = inside + ([default] if default not in inside else [])
    (x0, x1), (y0, y1) = np.asarray(surface.window, np.float64)
    what = "Start point" if len(outside) == 1 else "Start points"
    text = (
        f"{what} {', '.join(_fmt(p) for p in outside)} "
        f"{'lies' if len(outside) == 1 else 'lie'} outside {surface.title}'s window "
        f"(x {x0:g} to {x1:g}, y {y0:g} to {y1:g}): moved to its default start {_fmt(default)}."
    )
    return moved, text


# ---- the page's start-point state --------------------------------------------------------------
def start_points(state: State) -> list:
    """The start points as the table last read them (edits included), or as last set."""
    return state.get("start_points_read", state.get("start_points", []))


def set_start_points(state: State, points: list, *, own: bool = True) -> None:
    """New start points: the table starts again from them, without its edits. ``own``: the
    user chose them (a click, the table); False: they follow the surface's default."""
    state["start_points"] = points
    if own:
        state.pop(FOLLOWED, None)
    else:
        state[FOLLOWED] = [list(p) for p in points]
    state.pop("starts_editor", None)
    state.pop("start_points_read", None)


def fold_start_edits(state: State) -> None:
    """The start-point table's edits become the start points (its section closed: the
    table's own edit state goes when it is not drawn)."""
    if "start_points_read" in state:
        set_start_points(state, state["start_points_read"], own=not follows_surface(state))


def follows_surface(state: State) -> bool:
    """Whether nobody set the start points: the table holds what the surface's default gave it
    (an edit, a click or a link's ``x`` makes them the user's)."""
    followed = state.get(FOLLOWED)
    shown = (state.get("start_points", []), state.get("start_points_read", followed))
    return followed is not None and all([list(p) for p in rows] == followed for rows in shown)


def current_note(state: State) -> str | None:
    """The note about moved start points, while it still describes the page."""
    note = state.get(NOTE)
    if not note:
        return None
    if note["surface"] != state.get("surface") or start_points(state) != note["points"]:
        state.pop(NOTE, None)
        return None
    return note["text"]
