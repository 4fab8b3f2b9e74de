"""Start points and the share link: the address bar is the link of what is drawn.

The page's state is driven here through the functions the sidebar calls (``app/state.py``,
``app/starts.py``): a surface picked in the selectbox (``state.switch_surface``, its
``on_change``), a click on the surface or an edit of the table (``set_start_points`` / the
table's reading), a parameter or the steps changed, the start-point section drawn or not
(``state.follow_surface``). After every change the experiment the page would run is encoded
as the link the address bar shows and decoded as a new browser would: the two must run the
same scene (``lessons.effective``: every default filled in, start points as they are).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surfaces
from app import lessons, share, starts, state

SURFACES = ("rosenbrock", "six_hump_camel", "beale", "saddle", "noisy_quadratic", "quadratic_nd")


def page_experiment(ss: dict):
    reading = state.read(ss)
    assert reading.experiment is not None, reading.errors
    return reading.experiment


def decoded_link(e) -> object:
    query = parse_qs(share.query_string(share.Scene(e)), keep_blank_values=True)
    scene, warnings = share.decode(query)
    assert warnings == []
    return scene.experiment


def drawn_starts(e) -> np.ndarray:
    """Where the paths start, in weights (what the engine runs)."""
    return e.start_points(e.build_surface())


# ---- one change at a time ---------------------------------------------------------------------
def _switch(ss: dict, name: str) -> None:
    previous = ss["surface"]
    ss["surface"] = name  # the selectbox's new value, then its on_change
    state.switch_surface(ss, previous)


def test_unset_start_follows_the_new_surface():
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    _switch(ss, "six_hump_camel")
    e = page_experiment(ss)
    assert e.starts == ((-1.8, -1.0),)  # the camel's own default start, not Rosenbrock's
    assert "x" not in share.encode(share.Scene(e))
    assert decoded_link(e).starts == e.starts
    assert starts.current_note(ss) is None  # nothing the user set has moved


def test_a_set_start_inside_the_new_window_stays():
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    state.set_start_points(ss, [[0.5, 0.25]])  # a click on the surface
    _switch(ss, "six_hump_camel")
    e = page_experiment(ss)
    assert e.starts == ((0.5, 0.25),)
    assert share.encode(share.Scene(e))["x"] == ["0.5,0.25"]
    assert starts.current_note(ss) is None


def test_a_set_start_outside_the_new_window_moves_with_a_note():
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    state.set_start_points(ss, [[-1.9, 2.8], [0.5, 0.25]])
    _switch(ss, "six_hump_camel")  # y in [-1.2, 1.2]: (-1.9, 2.8) is above it
    e = page_experiment(ss)
    assert e.starts == ((0.5, 0.25), (-1.8, -1.0))
    note = starts.current_note(ss)
    assert note is not None
    assert "(-1.9, 2.8)" in note and "outside" in note and "(-1.8, -1)" in note
    assert decoded_link(e).starts == e.starts
    state.set_start_points(ss, [[0.0, 0.0]])  # the next change: the note has said its piece
    assert starts.current_note(ss) is None


def test_a_parameter_that_moves_the_default_moves_an_unset_start():
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    _switch(ss, "noisy_quadratic")
    assert page_experiment(ss).starts == ((1.0, 1.0),)
    ss[state.surface_key("noisy_quadratic", "dim")] = 5  # 5 weights: the default weights
    e = page_experiment(ss)
    assert e.starts == ()
    np.testing.assert_array_equal(
        drawn_starts(e)[0], surfaces.get("noisy_quadratic", dim=5).starts[0]
    )
    assert decoded_link(e).starts == ()


def test_kept_on_is_exact_about_the_window():
    camel = surfaces.get("six_hump_camel")  # window x [-2, 2], y [-1.2, 1.2]
    assert starts.kept_on(camel, [[2.0, -1.2]]) == ([[2.0, -1.2]], None)  # on the edge: inside
    points, note = starts.kept_on(camel, [[2.0, 1.2001], [3.0, 0.0]])
    assert points == [[-1.8, -1.0]] and note.startswith("Start points (2, 1.2), (3, 0) lie")


# ---- any sequence of changes --------------------------------------------------------------------
point = st.tuples(
    st.floats(-6, 6, allow_nan=False).map(lambda v: round(v, 3)),
    st.floats(-6, 6, allow_nan=False).map(lambda v: round(v, 3)),
).map(list)
change = st.one_of(
    st.tuples(st.just("surface"), st.sampled_from(SURFACES)),
    st.tuples(st.just("click"), point),
    st.tuples(st.just("add"), point),  # shift-click
    st.tuples(st.just("table"), st.lists(point, max_size=3)),  # the table as edited
    st.tuples(st.just("steps"), st.sampled_from((50, 100, 500))),
    st.tuples(st.just("param"), st.sampled_from((0.0, 0.25, 0.5, 0.75))),
    st.tuples(st.just("section"), st.booleans()),  # the start-point section drawn or not
)


def apply(ss: dict, what: str, value) -> None:
    if what == "surface":
        _switch(ss, value)
    elif what in ("click", "add"):
        points = [list(p) for p in state.start_points(ss)]
        points = [*points, value] if what == "add" or not points else [value, *points[1:]]
        state.set_start_points(ss, points[:16])
    elif what == "table":
        ss["start_points_read"] = value  # what the table read after an edit
    elif what == "steps":
        ss["steps"] = value
    elif what == "param":  # the first numeric parameter, a quarter, half or 3/4 of its range
        family = surfaces.FAMILIES[ss["surface"]]
        p = next((p for p in family.params if p.kind in ("int", "float") and p.high), None)
        if p is not None:
            v = p.low + (p.high - p.low) * value
            ss[state.surface_key(family.name, p.name)] = round(v) if p.kind == "int" else v
    elif what == "section" and value:
        state.follow_surface(ss)  # the table drawn: it shows the points in effect


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(change, min_size=1, max_size=6))
def test_the_link_runs_the_page_scene_after_any_changes(changes):
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    for what, value in changes:
        apply(ss, what, value)
        e = page_experiment(ss)
        again = decoded_link(e)
        assert lessons.effective(again) == lessons.effective(e), (what, value)
        np.testing.assert_array_equal(drawn_starts(again), drawn_starts(e))
        # an unset start is the surface's own; a set one lies in the window it was kept in
        if starts.follows_surface(ss):
            assert e.starts == starts.default_starts(e)


@pytest.mark.parametrize("name", sorted(surfaces.FAMILIES))
def test_every_surface_default_start_round_trips(name):
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    _switch(ss, name)
    e = page_experiment(ss)
    assert lessons.effective(decoded_link(e)) == lessons.effective(e)
    np.testing.assert_array_equal(drawn_starts(e)[0], surfaces.get(name).starts[0])
