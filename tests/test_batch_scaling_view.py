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
