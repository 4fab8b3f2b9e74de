"""Live scrubbing in the whole app (``streamlit run app/main.py`` in headless chromium).

The animator's live slider for the inspected optimizer's learning rate: dragging it redraws
the path on animation frames from the family of runs the document carries, sends nothing to
the server until the release, and the release puts the value into the scene, the sidebar and
the link (the URL's ``o=``). Screenshots: ``artifacts/screenshots/app_live_*.png``.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import REPO, open_page, screenshot, streamlit_server
from tests.test_app_browser import (
    HEIGHT,
    OV_JS,
    WIDTH,
    query,
    settle,
    state,
    wait_drawn,
    wait_new_data,
    wait_query,
)

pytestmark = pytest.mark.slow

APP = REPO / "app" / "main.py"
SLIDER = re.compile(r"^learning_rate \(live\)")

# Resolves once the animator has applied a live member newer than `applied` and drawn it.
APPLIED_JS = f"""(applied) => {{
  const r = {OV_JS};
  if (!r || !r.__optviz) return false;
  const s = r.__optviz.state();
  return s.live && s.live.applied > applied;
}}"""


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server(APP, timeout=60) as url:
        yield url


def open_counting(browser, app_url: str):
    """The app in a new context, with every websocket frame the page sends timestamped."""
    sent: list[float] = []

    def listen(page):
        page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.append(time.monotonic())))

    ws = app_url.replace("http", "ws", 1)
    page, log = open_page(
        browser, app_url, width=WIDTH, height=HEIGHT, allow=(app_url, ws), before_goto=listen
    )
    wait_drawn(page, timeout=240_000)  # a first page pays for imports and compiles
    settle(page)
    return page, log, sent


def live_slider(page):
    return page.get_by_role("slider", name=SLIDER)


def test_drag_morphs_the_path_without_messages_and_release_commits(browser, app_url):
    page, log, sent = open_counting(browser, app_url)
    slider = live_slider(page)
    slider.wait_for()
    shown = state(page)
    before = shown["live"]
    assert before["name"] == "learning_rate" and before["params"][0] == "learning_rate"
    assert before["values"][before["current"]] == 1e-3  # SGD, the inspected optimizer
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    x_of = lambda k: box["x"] + 8 + (box["width"] - 16) * k / (len(before["values"]) - 1)  # noqa: E731
    k0 = before["current"]
    page.mouse.move(x_of(k0), y)
    messages = len(sent)
    page.mouse.down()
    ends, applied = [], state(page)["live"]["applied"]
    for k in (k0 + 2, k0 + 4, k0 + 6, k0 + 8):  # larger learning rates: SGD goes further
        page.mouse.move(x_of(k), y, steps=3)
        page.wait_for_function(APPLIED_JS, arg=applied, timeout=10_000)
        live = state(page)["live"]
        applied = live["applied"]
        assert live["dragging"] and live["index"] > k0, live
        ends.append((live["index"], tuple(live["end"])))
    screenshot(page, "app_live_drag", full_page=False)
    during = len(sent) - messages
    page.mouse.up()
    assert during == 0, f"{during} websocket messages between pointer-down and release"
    # each applied member drew a different path (its end point moved on screen)
    assert len({e for _, e in ends}) == len(ends), ends
    index = ends[-1][0]
    value = before["values"][index]
    # the release commits the value: the scene reruns it and the link holds it
    o = wait_query(page, "o", lambda v: bool(v) and f"SGD(learning_rate={value:g})" in v[0])
    assert o[0] == f"SGD(learning_rate={value:g})", o
    after = wait_new_data(page, shown["id"])
    assert after["live"]["values"][after["live"]["current"]] == value
    settle(page)
    summary = page.locator("[data-testid='stSidebar'] summary").filter(has_text="SGD")
    assert f"lr {value:.4g}" in summary.first.inner_text()
    assert query(page)["o"][1].startswith("Momentum(")
    screenshot(page, "app_live_released", full_page=False)
    log.assert_clean()


def test_other_hyperparameter_loads_on_request_and_scrubs(browser, app_url):
    page, log, _ = open_counting(browser, app_url)
    first = state(page)
    page.get_by_role("button", name=re.compile(r"^momentum \(live\)")).click()
    after = wait_new_data(page, first["id"])
    assert after["live"]["name"] == "momentum"
    momentum = page.get_by_role("slider", name=re.compile(r"^momentum \(live\)"))
    momentum.focus()
    applied = after["live"]["applied"]
    page.keyboard.press("ArrowRight")  # a notch: 0 -> 0.05, drawn from the family
    page.wait_for_function(APPLIED_JS, arg=applied, timeout=10_000)
    assert state(page)["live"]["value"] == pytest.approx(0.05)
    screenshot(page, "app_live_momentum", full_page=False)
    o = wait_query(page, "o", lambda v: bool(v) and "momentum=0.05" in v[0])
    assert o[0] == "SGD(learning_rate=0.001,momentum=0.05)", o
    log.assert_clean()
