"""Dragging the first start point on the surface (app/drag.py, app/animator/drag.js).

In the server process: a drag's answer is the engine's run from the new start, and answering
new starts never compiles. In a real browser: pointer-down on the start square, moves in
steps, the plotted paths' first point follows each step, a burst of moves ends on the latest
position, release puts the start into the link; the pointer-to-pixels latency is read from
the page's own timestamps and printed (``-s`` shows it).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app import drag, payload
from tests.browser import screenshot, streamlit_server
from tests.test_app_browser import (
    APP,
    OV_JS,
    open_app,
    plotted,
    settle,
    start_of,
    state,
    wait_new_data,
    wait_query,
)
from trajectories import pieces, run
from trajectories.experiment import Experiment

SCENE = Experiment.from_json(
    '{"surface": "rosenbrock", "optimizers": [{"kind": "SGD"}, {"kind": "Adam"}],'
    ' "starts": [[-1.5, 2.0]], "steps": 120}'
)


def test_answer_is_the_run_from_the_new_start_and_never_compiles():
    drag.answer(SCENE, -1.0, 1.5, 1)  # warm: the scene's kernels
    before = pieces.compile_count()
    for seq, (x, y) in enumerate([(0.3, 0.4), (-0.7, 2.2), (1.1, -0.3)], start=2):
        out = drag.answer(SCENE, x, y, seq)
        assert out["seq"] == seq
        direct = run(SCENE.replace(starts=((x, y),)))  # the engine, not through app/
        for a, o in enumerate(out["optimizers"]):
            path = payload.decode(o["path"])
            assert path[0, 0] == pytest.approx([x, y], abs=1e-6)
            np.testing.assert_allclose(path, direct.position[a], rtol=1e-5, atol=1e-6)
            loss = payload.decode(o["loss"])
            np.testing.assert_allclose(loss, direct.loss[a], rtol=1e-5, atol=1e-6)
            assert o["diverged"] == direct.diverged_step[a].tolist()
    assert pieces.compile_count() == before


def test_answer_is_paths_only_no_family_document_or_picture(monkeypatch):
    """A drag step (and a click's first answer) runs the engine alone: no live family, no
    document, no surface picture for the moved scene (those wait for the commit)."""
    from app import compute

    def refuse(*args, **kwargs):
        raise AssertionError("a drag answer must not build this")

    for name in ("_family", "_document", "surface_picture", "live_document", "document"):
        monkeypatch.setattr(compute, name, refuse)
    monkeypatch.setattr(payload, "build", refuse)
    out = drag.answer(SCENE, 0.25, -0.5, 7)
    assert out["seq"] == 7 and len(out["optimizers"]) == 2
    assert set(out["optimizers"][0]) == {"path", "loss", "diverged", "hit", "final_loss"}


def test_a_refused_start_is_answered_without_paths():
    """The browser needs an answer to go on (a click commits after it): no paths, its seq."""
    assert drag.refused(4) == {"seq": 4, "optimizers": None}


def test_a_second_start_is_kept_while_the_first_moves():
    two = SCENE.replace(starts=((-1.5, 2.0), (1.0, 1.0)))
    assert drag.moved(two, 0.2, 0.3).starts == ((0.2, 0.3), (1.0, 1.0))
    assert drag.moved(SCENE.replace(starts=()), 0.2, 0.3).starts == ((0.2, 0.3),)


def test_bad_trigger_values_are_ignored():
    class Value:
        def __init__(self, d):
            self.drag = d

    assert drag.read(Value({"x": "1", "y": 2, "seq": 3})) == (1.0, 2.0, 3)
    for bad in (None, "x", {"x": 1}, {"x": "nan", "y": 0, "seq": 1}, {"x": 1, "y": 2, "seq": "a"}):
        assert drag.read(Value(bad)) is None
    assert drag.read(None) is None


# ---------------------------------------------------------------- in the browser

INST = f"(() => {{ const r = {OV_JS}; return r && r.__optvizInstance; }})()"
# Whether every visible path's first point is within tol of (x, y), in view coordinates.
STARTS_AT_JS = f"""([x, y, tol]) => {{
  const inst = {INST};
  if (!inst || !inst.model) return false;
  return inst.model.opts.every((op) => op.path &&
    Math.abs(op.path.data[0] - x) <= tol[0] && Math.abs(op.path.data[1] - y) <= tol[1]);
}}"""


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server(APP, timeout=60) as url:
        yield url


def _to_view(st: dict, px: float, py: float) -> tuple[float, float]:
    x0, x1, y0, y1 = st["plot"]["extent"]
    p = st["plot"]
    return x0 + (px - p["x"]) / p["w"] * (x1 - x0), y1 - (py - p["y"]) / p["h"] * (y1 - y0)


@pytest.mark.slow
def test_dragging_the_start_moves_every_path_and_release_commits_it(browser, app_url):
    page, log = open_app(browser, app_url)
    st = state(page)
    old_id = st["id"]
    x0, x1, y0, y1 = st["plot"]["extent"]
    tol = [(x1 - x0) / st["plot"]["w"], (y1 - y0) / st["plot"]["h"]]  # one pixel
    sx, sy = page.evaluate(f"() => Array.from({INST}.model.opts[0].px[0].slice(0, 2))")
    box = page.locator("[data-testid='ov-surface']").bounding_box()
    page.mouse.move(box["x"] + sx, box["y"] + sy)
    page.mouse.down()
    # steps: each position answered and drawn before the next
    for k in range(1, 7):
        px, py = sx + 22 * k, sy + 9 * k
        page.mouse.move(box["x"] + px, box["y"] + py)
        page.wait_for_function(STARTS_AT_JS, arg=[*_to_view(st, px, py), tol], timeout=20_000)
        if k == 3:
            shot = screenshot(page, "app_drag_start_mid", full_page=False)
    # a burst of moves without waiting: at most one request in flight, the latest wins
    for k in range(1, 13):
        page.mouse.move(box["x"] + sx + 132 - 8 * k, box["y"] + sy + 54 + 6 * k)
    last_px, last_py = sx + 132 - 96, sy + 54 + 72
    target = _to_view(st, last_px, last_py)
    page.wait_for_function(STARTS_AT_JS, arg=[*target, tol], timeout=20_000)
    data = plotted(page)
    assert len(data) == 6
    for o in data:
        assert start_of(o) == pytest.approx(target, abs=max(tol)), o["name"]
    trace = page.evaluate(f"() => {INST}.dragTrace")
    for prev, nxt in itertools.pairwise(trace):
        assert nxt["seq"] == prev["seq"] + 1
        # one in flight: the next leaves after the answer (or after 3 s, taken as lost)
        answered = prev["answered"] is not None and prev["answered"] <= nxt["sent"]
        assert answered or nxt["sent"] - prev["sent"] >= 3000, (prev, nxt)
    assert len(trace) < 6 + 12  # the burst was throttled, not sent move by move
    latencies = page.evaluate(f"() => {INST}.dragLatencies.slice()")
    assert len(latencies) >= 6
    clicks_before = page.evaluate(
        "(window.__optvizEvents || []).filter((e) => e.name === 'click').length"
    )
    page.mouse.up()
    wait_new_data(page, old_id)
    settle(page)
    x = [float(c) for c in wait_query(page, "x", bool)[0].split(",")]
    assert x == pytest.approx(target, abs=max(tol))
    clicks = page.evaluate("(window.__optvizEvents || []).filter((e) => e.name === 'click')")
    assert len(clicks) == clicks_before + 1  # the release's commit, not a second "click"
    for o in plotted(page):  # the committed document starts there too
        assert start_of(o) == pytest.approx(target, abs=max(tol)), o["name"]
    p50 = float(np.median(latencies))
    trips = [q["answered"] - q["sent"] for q in trace if q["answered"] is not None]
    print(
        f"\ndrag: {len(trace)} requests, pointer-to-pixels p50 {p50:.0f} ms, "
        f"p90 {np.percentile(latencies, 90):.0f} ms, max {max(latencies):.0f} ms; "
        f"trigger-to-answer p50 {np.median(trips):.0f} ms; {shot}"
    )
    log.assert_clean()
    page.context.close()


@pytest.mark.slow
def test_a_click_draws_the_new_paths_before_it_commits(browser, app_url):
    """A click on the surface: the paths from the clicked point are drawn from a drag answer
    (the fragment's rerun), and only then is the click sent (the whole page's rerun), which
    commits the start: link and document."""
    page, log = open_app(browser, app_url)
    st = state(page)
    x0, x1, y0, y1 = st["plot"]["extent"]
    tol = [(x1 - x0) / st["plot"]["w"], (y1 - y0) / st["plot"]["h"]]
    p = st["plot"]
    px, py = p["x"] + 0.7 * p["w"], p["y"] + 0.4 * p["h"]
    box = page.locator("[data-testid='ov-surface']").bounding_box()
    page.mouse.click(box["x"] + px, box["y"] + py)
    target = _to_view(st, px, py)
    page.wait_for_function(
        "() => (window.__optvizEvents || []).some((e) => e.name === 'click')", timeout=20_000
    )
    events = page.evaluate(
        "(window.__optvizEvents || []).filter((e) => e.name === 'click' || e.name === 'drag')"
    )
    assert [e["name"] for e in events][-2:] == ["drag", "click"]
    moved, click = events[-2]["value"], events[-1]["value"]
    assert (click["x"], click["y"]) == (moved["x"], moved["y"]) and click["add"] is False
    # the answer to that drag trigger was drawn before the click left (page clock -> epoch ms)
    drawn = page.evaluate(
        f"(seq) => {{ const q = {INST}.dragTrace.find((q) => q.seq === seq);"
        " return q && q.drawn !== null ? performance.timeOrigin + q.drawn : null; }",
        moved["seq"],
    )
    assert drawn is not None and drawn <= click_time(events[-1]) + 20  # two clocks: a margin
    wait_new_data(page, st["id"])
    settle(page)
    x = [float(c) for c in wait_query(page, "x", bool)[0].split(",")]
    assert x == pytest.approx(target, abs=max(tol))
    for o in plotted(page):
        assert start_of(o) == pytest.approx(target, abs=max(tol)), o["name"]
    log.assert_clean()
    page.context.close()


def click_time(event: dict) -> float:
    return float(event["t"])  # Date.now() when the animator sent it (app/animator/timeline.js)
