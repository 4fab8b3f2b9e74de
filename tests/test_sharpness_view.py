"""The sharpness panel's chart (app/sharpness_view.py): its traces are the engine's numbers, a
dashed threshold per optimizer that has one, on the row it bounds; and, in a real browser, the
edge-of-stability lesson opens with the chart drawn."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from app import labels, lessons, sharpness_view
from tests.browser import REPO, SCREENSHOTS, open_page, screenshot, streamlit_server
from trajectories import Experiment, OptimizerSpec, run, sharpness


@functools.cache
def scene():
    e = Experiment(
        surface="rosenbrock",
        optimizers=(
            OptimizerSpec("SGD", {"learning_rate": 1e-3}, name="gd", color="#1f77b4"),
            OptimizerSpec("Adam", {"learning_rate": 0.02}, name="adam", color="#ff7f0e"),
            OptimizerSpec("Rprop", name="rprop", color="#2ca02c"),
        ),
        steps=50,
        starts=((-1.5, 2.0), (1.0, -0.5)),
    )
    r = labels.attach(run(e), e)
    return r, sharpness.compute(r)


def test_chart_rows_traces_and_thresholds():
    r, sh = scene()
    fig = sharpness_view.figure(r, sh, frame=10)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["loss", "sharpness λ₁(H)", "preconditioned sharpness λ₁(P⁻¹H)"]
    by_axis: dict[str, list] = {}
    for t in fig.data:
        by_axis.setdefault(t.yaxis, []).append(t)
    loss, plain, pre = by_axis["y"], by_axis["y2"], by_axis["y3"]
    assert len(loss) == 6  # 3 optimizers x 2 starts
    np.testing.assert_array_equal(loss[0].y, r.loss[0, 0])
    solid = [t for t in plain if t.line.dash != "dash"]
    np.testing.assert_array_equal(solid[1].y, sh.sharpness[0, 1])  # gd, start 2
    assert solid[1].line.dash == "dot" and solid[1].line.color == "#1f77b4"
    # gradient descent's line bounds the sharpness at 2/eta; Adam's the preconditioned at 38/eta
    dashed = [t for t in plain if t.line.dash == "dash"]
    assert [t.name for t in dashed] == ["gd: 2/η = 2000"]
    np.testing.assert_allclose(dashed[0].y, 2000.0)
    dashed = [t for t in pre if t.line.dash == "dash"]
    assert [t.name for t in dashed] == ["adam: (2+2β₁)/((1−β₁)η) = 1900"]
    adam = next(t for t in pre if t.line.dash != "dash")
    np.testing.assert_allclose(adam.y, sh.preconditioned[1, 0])
    assert all("rprop" not in t.name for t in plain + pre if t.line.dash == "dash")
    # the paused frame is marked, on every row
    assert [s.x0 for s in fig.layout.shapes] == [float(r.steps[10])] * 3


def test_no_preconditioned_row_without_a_preconditioner():
    r, _ = scene()
    keep = [0, 2]
    e = r.description.replace(optimizers=tuple(r.description.optimizers[a] for a in keep))
    r2 = labels.attach(run(e), e)
    fig = sharpness_view.figure(r2, sharpness.compute(r2))
    assert len(fig.layout.annotations) == 2 and not fig.layout.shapes
    assert "**gd** ends with sharpness at" in sharpness_view.summary_line(r2, sharpness.compute(r2))


# The chart's traces as drawn (``_fullData``: Plotly's decoded arrays; ``data`` may hold them
# still base64-encoded).
PLOT_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .map((p) => (p._fullData || []).map((t) => ({name: t.name, dash: t.line && t.line.dash,
                                               y0: t.y && t.y[0], n: t.y && t.y.length})))
  .find((d) => d.some((t) => t.dash === 'dash')) || null"""


@pytest.mark.slow
def test_edge_of_stability_lesson_opens_with_the_chart(browser):
    """Stage 1 of the lesson: the toggle is on, the chart shows GD's sharpness with its dashed
    2/eta line at 10 (screenshots: artifacts/screenshots/app_edge_of_stability.png and
    edge_of_stability_chart.png); stage 3 adds Adam's 38/eta line on the preconditioned row
    (edge_of_stability_adam_chart.png)."""
    with streamlit_server(REPO / "app" / "main.py", timeout=60) as url:
        ws = url.replace("http", "ws", 1)
        link = lessons.link("edge-of-stability", 0, hide=("sidebar",))
        page, log = open_page(browser, f"{url}?{link}", width=1400, height=1000, allow=(url, ws))
        page.wait_for_function(PLOT_JS, timeout=240_000)
        traces = page.evaluate(PLOT_JS)
        dashed = [t for t in traces if t["dash"] == "dash"]
        assert [t["name"] for t in dashed] == ["GD lr 0.2: 2/η = 10"]
        assert dashed[0]["y0"] == pytest.approx(10.0) and dashed[0]["n"] == 751
        solid = [t for t in traces if t["dash"] != "dash"]
        assert len(solid) == 2  # the loss and the sharpness of the one path
        chart = page.locator(".js-plotly-plot").last
        chart.scroll_into_view_if_needed()
        page.get_by_text("Sharpness is the largest eigenvalue").wait_for()
        screenshot(page, "app_edge_of_stability", full_page=True)
        chart.screenshot(path=str(SCREENSHOTS / "edge_of_stability_chart.png"))
        log.assert_clean()
        page.context.close()
        # stage 3: Adam's line bounds the preconditioned sharpness, on a row of its own
        link = lessons.link("edge-of-stability", 2, hide=("sidebar",))
        page, log = open_page(browser, f"{url}?{link}", width=1400, height=1000, allow=(url, ws))
        page.wait_for_function(PLOT_JS, timeout=240_000)
        dashed = [t for t in page.evaluate(PLOT_JS) if t["dash"] == "dash"]
        assert [t["name"] for t in dashed] == [
            "GD lr 0.2: 2/η = 10",
            "Adam lr 0.01: (2+2β₁)/((1−β₁)η) = 3800",
        ]
        page.get_by_text("preconditioned sharpness λ₁(P⁻¹H)").wait_for()
        chart = page.locator(".js-plotly-plot").last
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(SCREENSHOTS / "edge_of_stability_adam_chart.png"))
        log.assert_clean()
        page.context.close()
