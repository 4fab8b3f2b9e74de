"""The Sweeps view's "Batch-size scaling" section (AppTest)."""

import numpy as np

from tests.app_scenarios import plotly_array, plotly_spec
from tests.test_app import assert_no_progress_bar, assert_ok, sweeps_page


def test_the_button_draws_one_log_log_line_per_optimizer():
    at = sweeps_page()
    assert not [c for c in at.get("plotly_chart") if c.key == "batch_scaling_chart"]
    at.multiselect(key="bs_optimizers").set_value(["sgd", "adam"])
    at.button(key="bs_run").click().run(timeout=300)
    assert_ok(at)
    assert_no_progress_bar(at)
    spec = plotly_spec(at, "batch_scaling_chart")
    layout = spec["layout"]
    assert layout["xaxis"]["type"] == "log" and layout["yaxis"]["type"] == "log"
    traces = spec["data"]
    assert [t["name"] for t in traces] == ["sgd", "adam"]
    for t in traces:
        x, y = plotly_array(t["x"]), plotly_array(t["y"])
        assert len(x) >= 4 and np.all(np.diff(x) > 0)
        assert y[-1] < y[0] / 5  # more batch, fewer steps
    # SGD at B = 1 never reaches the default target: said, not drawn
    assert "sgd at B=1" in " ".join(c.value for c in at.main.caption)


def test_the_chart_in_the_browser(browser):
    """The section in headless chromium: press the button, wait for the chart's lines, keep a
    screenshot (artifacts/screenshots/batch_scaling.png)."""
    from tests.browser import screenshot
    from tests.test_app_browser import APP, main_area, open_app, open_tab, settle, streamlit_server

    with streamlit_server(APP, timeout=60) as url:
        page, log = open_app(browser, url)
        open_tab(page, "Sweeps")
        main = main_area(page)
        main.get_by_role("tab", name="Batch-size scaling").click()
        main.get_by_role("button", name="Scale the batch").click()
        chart = main.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
        chart.wait_for(timeout=180_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length >= 3",
            timeout=60_000,
        )
        settle(page)
        chart.scroll_into_view_if_needed()
        screenshot(page, "batch_scaling", full_page=False)
        log.assert_clean()
        names = chart.evaluate("gd => gd._fullData.map((t) => t.name)")
        assert names == ["sgd", "momentum", "adam"]
