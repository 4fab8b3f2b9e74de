"""The whole app in a real browser: ``streamlit run app/main.py`` driven by headless chromium.

One Streamlit server serves every test of this module (``app_url``); each test opens its own
browser context on it, so sessions do not share widget state (the server's caches they do
share: a scene computed by one test is a cache hit for the next). Every test checks that the
page logged no console error and no page error, and that nothing left 127.0.0.1 (requests and
websockets), and saves a screenshot to ``artifacts/screenshots/app_<name>.png``.

The animator lives in a shadow root: Playwright's CSS locators pierce it
(``page.locator("[data-testid='optviz']")``); JavaScript reaches it through the component's
host (``OV_JS``). Its document (``root.__optvizInstance.data``) is what is plotted: tests
compare its paths, not pixels.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app import lessons, payload
from tests.browser import (
    CANVAS_STATS_JS,
    REPO,
    SCREENSHOTS,
    open_page,
    screenshot,
    streamlit_server,
    until_playing,
)

pytestmark = pytest.mark.slow

APP = REPO / "app" / "main.py"
WIDTH, HEIGHT = 1400, 1000

# The animator's root element (inside the shadow root of the component's host), or null.
OV_JS = (
    "[...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]"
    ".map((h) => h.shadowRoot && h.shadowRoot.querySelector('.optviz')).find(Boolean)"
)
READY_JS = f"""(min) => {{
  const r = {OV_JS};
  if (!r || !r.__optviz) return false;
  const s = r.__optviz.state();
  return s.imageReady && s.drawn > min;
}}"""
NEW_DATA_JS = f"""(old) => {{
  const r = {OV_JS};
  if (!r || !r.__optviz) return false;
  const s = r.__optviz.state();
  return s.id !== old && s.imageReady && s.drawn > 0;
}}"""
ROOT = "[data-testid='optviz']"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server(APP, timeout=60) as url:
        yield url


def open_app(browser, app_url: str, query: str = ""):
    """A new context on the app (``query`` without ``?``), ready: animator drawn, run over."""
    ws = app_url.replace("http", "ws", 1)
    url = app_url + (f"?{query}" if query else "")
    page, log = open_page(browser, url, width=WIDTH, height=HEIGHT, allow=(app_url, ws))
    # the first test pays for JAX's imports and compiles (the scene's pieces and its live family):
    # 65 s was seen at load average 11, past the 90 s this waited before
    wait_drawn(page, timeout=240_000)
    settle(page)
    return page, log


def wait_drawn(page, drawn: int = 0, timeout: float = 30_000) -> None:
    page.wait_for_function(READY_JS, arg=drawn, timeout=timeout)


def settle(page, quiet_ms: int = 300, timeout: float = 30_000) -> None:
    """Wait until no script run has been going on for ``quiet_ms`` (a rerun just asked for
    may take a moment to start). The app's ``data-test-script-state`` tells; the
    ``stStatusWidget`` never shows in this app (toolbarMode "minimal")."""
    page.evaluate("() => { window.__busyAt = performance.now(); }")
    page.wait_for_function(
        """(quiet) => {
          const app = document.querySelector('[data-testid=stApp]');
          const now = performance.now();
          if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') {
            window.__busyAt = now;
            return false;
          }
          return now - window.__busyAt > quiet;
        }""",
        arg=quiet_ms,
        timeout=timeout,
    )


PLAYED_PAST_JS = f"""(frame) => {{
  const r = {OV_JS};
  if (!r || !r.__optviz) return false;
  const s = r.__optviz.state();
  return s.playing && s.frame > frame && s.frame < s.frames - 10;
}}"""


def pause(page, after: int = 5) -> dict:
    """Let the animation play past frame ``after`` (a paused frame 0 is the default and goes
    into no link), then pause it with its button: the animator's state, paused."""
    page.wait_for_function(PLAYED_PAST_JS, arg=after, timeout=30_000)
    # A click that lands while a rerun re-renders the component can be lost (seen under load
    # in CI: still playing at frame 317); click again, at most three times, until it says paused.
    for _ in range(3):
        page.locator("[data-testid='ov-play']").click()
        paused = until_playing(lambda: state(page), False)
        if not paused["playing"]:
            break
    assert not paused["playing"] and paused["frame"] > after, paused
    return paused


def one_animator(page, timeout: float = 30_000) -> None:
    """Wait until the page holds a single animator: a new stage mounts its own instance, and
    the previous stage's stays on the page until Streamlit clears the run's stale elements."""
    from playwright.sync_api import expect  # (the animator sits in its component's shadow root)

    expect(page.locator(ROOT)).to_have_count(1, timeout=timeout)


def state(page) -> dict:
    return page.locator(ROOT).evaluate("r => r.__optviz.state()")


def plotted(page) -> list[dict]:
    """The optimizers' plotted data (names and paths) from the component's document."""
    return page.locator(ROOT).evaluate(
        "r => r.__optvizInstance.data.optimizers.map((o) => ({name: o.name, path: o.path}))"
    )


def start_of(optimizer: dict) -> np.ndarray:
    """Where an optimizer's first path starts (frame 0 of start 0), in view coordinates."""
    return payload.decode(optimizer["path"])[0, 0]


def wait_new_data(page, old_id: str, timeout: float = 30_000) -> dict:
    page.wait_for_function(NEW_DATA_JS, arg=old_id, timeout=timeout)
    return state(page)


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_query(page, key: str, predicate, timeout: float = 20_000) -> list[str]:
    """Wait for the address bar's ``key`` to satisfy ``predicate`` (sync_url runs each rerun)."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        values = query(page).get(key, [])
        if predicate(values):
            return values
        page.wait_for_timeout(100)
    raise AssertionError(f"the URL's {key!r} never came right: {page.url}")


def sample_playing(page, n: int = 6, every_ms: int = 150) -> list[dict]:
    """``n`` samples while playing, each right after a drawn frame: the frame, the markers and
    pixel statistics of the surface, heatmap and loss canvases."""
    return page.evaluate(
        f"""async ([stats, n, every]) => {{
          const statsOf = eval(stats);
          const root = {OV_JS};
          const out = [];
          for (let k = 0; k < n; k++) {{
            await new Promise((r) => setTimeout(r, every));
            await new Promise((r) => requestAnimationFrame(r));
            const s = root.__optviz.state();
            const c = (name) => statsOf(root.querySelector(`[data-testid='ov-${{name}}']`));
            out.push({{frame: s.frame, frames: s.frames, playing: s.playing, markers: s.markers,
                       surface: c('surface'), lr: c('lr'), loss: c('loss')}});
          }}
          return out;
        }}""",
        [CANVAS_STATS_JS, n, every_ms],
    )


def assert_drawn(stats: dict, what: str) -> None:
    assert stats["drawn"] > 0.1 and stats["std"] > 8, f"{what} looks blank: {stats}"


def assert_advancing(samples: list[dict]) -> None:
    """Every sample playing, and the frame moving on between samples (looping allowed)."""
    assert all(s["playing"] for s in samples), [s["playing"] for s in samples]
    for a, b in itertools.pairwise(samples):
        ahead = (b["frame"] - a["frame"]) % a["frames"]
        assert 0 < ahead < a["frames"] // 2, [s["frame"] for s in samples]


def card(page, title: str):
    """An optimizer card in the sidebar (its <details>), opened."""
    summary = page.locator("[data-testid='stSidebar'] summary").filter(has_text=title)
    details = summary.locator("xpath=..")
    if details.get_attribute("open") is None:
        summary.click()  # a rerun builds the card's widgets (closed, it has none)
        details.locator("[data-testid='stSlider']").first.wait_for()
        settle(page)  # that run over: a key pressed now is not lost to a re-render
    return details


def card_title(page, kind: str) -> str:
    return (
        page.locator("[data-testid='stSidebar'] summary")
        .filter(has_text=re.compile(rf"● {kind} · lr"))
        .inner_text()
        .split("\n")[-1]
        .strip()
    )


def nudge_learning_rate(page, kind: str, key: str = "ArrowRight") -> None:
    """Move an instance's learning-rate select slider one notch with the keyboard.

    The slider's own value moves at the key press, before any message leaves: a press lost to
    a re-render that took the focus (seen once in CI under load, after a tab switch) shows as
    an unchanged value, and is pressed again; a press that landed is never repeated."""
    slider = card(page, f"{kind} · lr").locator("[data-testid='stSlider'] input[type=range]").first
    before = slider.input_value()
    for _ in range(3):
        slider.focus()
        page.keyboard.press(key)
        try:
            page.wait_for_function(
                "([el, v]) => el.value !== v", arg=[slider.element_handle(), before], timeout=5_000
            )
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the {kind} learning-rate slider never moved from {before}")


def open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()
    settle(page)


def main_area(page):
    return page.locator("[data-testid='stMain']")


def assert_no_exception(page) -> None:
    shown = page.locator("[data-testid='stException']")
    assert shown.count() == 0, shown.first.inner_text()


# ---------------------------------------------------------------- the animation


def test_load_and_play(browser, app_url):
    """The default scene loads and plays: markers move, and surface, heatmap and loss are
    drawn in every sampled frame."""
    page, log = open_app(browser, app_url)
    st = state(page)
    assert st["playing"] and st["failed"] == [] and not any(st["errors"].values()), st
    assert set(st["panels"]) == {"surface", "lr", "loss"}
    assert len(st["markers"]) == 6
    samples = sample_playing(page)
    assert_advancing(samples)
    for a, b in itertools.pairwise(samples):
        moved = [
            math.hypot(p["x"] - q["x"], p["y"] - q["y"])
            for p, q in zip(a["markers"], b["markers"], strict=True)
        ]
        assert max(moved) > 0.5, (a["frame"], b["frame"], moved)
    for s in samples:
        for panel in ("surface", "lr", "loss"):
            assert_drawn(s[panel], f"{panel} at frame {s['frame']}")
    screenshot(page, "app_load_and_play", full_page=False)
    log.assert_clean()
    page.context.close()


def test_step_back(browser, app_url):
    """Pause, step back: one frame back, and the paused frame reaches the URL (Python)."""
    page, log = open_app(browser, app_url)
    f = pause(page)["frame"]
    page.locator(ROOT).evaluate("r => { r.__optvizInstance.__tag = 'kept'; }")
    page.locator("[data-testid='ov-back']").click()
    st = state(page)
    assert st["frame"] == f - 1 and not st["playing"]
    steps = st["frames"] - 1
    assert page.locator("[data-testid='ov-step-label']").inner_text() == f"step {f - 1} / {steps}"
    wait_query(page, "f", lambda v: v == [str(f - 1)])
    settle(page)
    # the reruns that carried the frame to Python kept the same instance, at the same frame
    tag, st = page.locator(ROOT).evaluate("r => [r.__optvizInstance.__tag, r.__optviz.state()]")
    assert tag == "kept" and st["frame"] == f - 1 and not st["playing"]
    screenshot(page, "app_step_back", full_page=False)
    log.assert_clean()
    page.context.close()


def test_click_on_the_surface_moves_the_first_start(browser, app_url):
    """A click on the surface moves the first start point there: every optimizer's path now
    starts at the clicked view coordinates, and the link says so."""
    page, log = open_app(browser, app_url)
    st = state(page)
    x0, x1, y0, y1 = st["plot"]["extent"]
    target = (0.5, 2.5)  # a point of the view away from the default start (-1.5, 2)
    plot = st["plot"]
    px = plot["x"] + (target[0] - x0) / (x1 - x0) * plot["w"]
    py = plot["y"] + (y1 - target[1]) / (y1 - y0) * plot["h"]
    box = page.locator("[data-testid='ov-surface']").bounding_box()
    page.mouse.click(box["x"] + px, box["y"] + py)
    # the click is sent once the new paths are drawn (app/animator/drag.js: clickStart)
    page.wait_for_function(
        "() => (window.__optvizEvents || []).some((e) => e.name === 'click')", timeout=20_000
    )
    click = page.evaluate(
        "(window.__optvizEvents || []).filter((e) => e.name === 'click').pop().value"
    )
    per_px = ((x1 - x0) / plot["w"], (y1 - y0) / plot["h"])
    assert abs(click["x"] - target[0]) <= per_px[0] and abs(click["y"] - target[1]) <= per_px[1]
    assert click["add"] is False
    new = wait_new_data(page, st["id"])
    settle(page)
    data = plotted(page)
    assert len(data) == 6
    for o in data:
        assert payload.decode(o["path"]).shape[0] == 1, o["name"]  # moved, not added
        got = start_of(o)
        assert got == pytest.approx([click["x"], click["y"]], rel=1e-6, abs=1e-6), o["name"]
    # the share link holds the new start exactly (shortest round-trip repr, as Python sees it)
    assert [float(c) for c in wait_query(page, "x", bool)[0].split(",")] == [
        click["x"],
        click["y"],
    ]
    assert new["playing"]  # a new start point: the animation goes on
    screenshot(page, "app_click_surface", full_page=False)
    log.assert_clean()
    page.context.close()


def test_hyperparameter_change_keeps_the_frame(browser, app_url):
    """Moving SGD's learning-rate slider changes SGD's path only; the animation keeps its frame
    (paused: exactly; playing: goes on from where it was, not from 0)."""
    page, log = open_app(browser, app_url)
    paused = pause(page)
    f = paused["frame"]
    wait_query(page, "f", lambda v: v == [str(f)])
    settle(page)
    before = plotted(page)
    nudge_learning_rate(page, "SGD")  # 0.001 -> 0.0015
    st = wait_new_data(page, paused["id"])
    settle(page)
    assert st["frame"] == f and not st["playing"], (f, st["frame"], st["playing"])
    after = plotted(page)
    assert [o["name"] for o in after] == [o["name"] for o in before]
    changed = [a["path"]["b64"] != b["path"]["b64"] for a, b in zip(after, before, strict=True)]
    assert changed == [True, False, False, False, False, False]
    assert card_title(page, "SGD") == "● SGD · lr 0.0015"
    assert "SGD(learning_rate=0.0015)" in query(page)["o"]
    # playing: a second change (Adam's rate, 0.05 -> 0.03) goes on from the frame it was at
    page.locator("[data-testid='ov-play']").click()
    page.wait_for_timeout(400)
    playing = state(page)
    assert playing["playing"] and playing["frame"] > f
    nudge_learning_rate(page, "Adam", "ArrowLeft")
    st = wait_new_data(page, playing["id"])
    ahead = (st["frame"] - playing["frame"]) % st["frames"]
    assert st["playing"] and ahead < 150, (playing["frame"], st["frame"])  # < 5 s at 30 fps
    settle(page)
    samples = sample_playing(page, n=3)
    assert_advancing(samples)
    for s in samples:
        for panel in ("surface", "lr", "loss"):
            assert_drawn(s[panel], f"{panel} at frame {s['frame']}")
    screenshot(page, "app_hyperparameter", full_page=False)
    log.assert_clean()
    page.context.close()


def test_optimizer_card_stays_open_when_its_rate_changes(browser, app_url):
    page, log = open_app(browser, app_url)
    st = state(page)
    nudge_learning_rate(page, "RMSprop")  # 0.01 -> 0.015
    wait_new_data(page, st["id"])
    settle(page)
    screenshot(page, "app_card_after_change", full_page=False)
    log.assert_clean()
    summary = page.locator("[data-testid='stSidebar'] summary").filter(has_text="RMSprop · lr")
    assert summary.inner_text().strip().endswith("RMSprop · lr 0.015")
    assert summary.locator("xpath=..").get_attribute("open") is not None, "the card closed"


def test_schedule_popover_builds_its_widgets_only_while_open(browser, app_url):
    """A card's "Schedule & options" popover builds its widgets when a click opens it (a
    rerun; closed, it has none): a schedule chosen there changes Adam's paths and the link,
    and closing it keeps the schedule (the same document, the same link)."""
    from playwright.sync_api import expect

    page, log = open_app(browser, app_url)
    details = card(page, "Adam · lr")
    body = page.locator("[data-testid='stPopoverBody']")
    schedule = body.locator("[data-testid='stSelectbox']").filter(has_text="Learning-rate schedule")
    details.locator("[data-testid='stPopoverButton']").click()
    schedule.wait_for()
    settle(page)
    before = state(page)
    schedule.locator("input").click()
    page.get_by_role("option", name="cosine decay", exact=True).click()
    wait_new_data(page, before["id"])
    settle(page)
    screenshot(page, "app_schedule_popover", full_page=False)
    adam = [o for o in wait_query(page, "o", lambda o: "cosine_decay" in str(o)) if "Adam" in o]
    assert adam and "cosine_decay(" in adam[0], adam
    after = state(page)
    page.keyboard.press("Escape")  # closes the popover: a rerun without its widgets
    expect(schedule).to_have_count(0, timeout=20_000)
    settle(page)
    assert state(page)["id"] == after["id"]  # nothing set in it was lost
    assert [o for o in query(page)["o"] if "Adam" in o] == adam
    log.assert_clean()


# ---------------------------------------------------------------- sweeps


def _set_slider(page, slider, value: int) -> None:
    """Set an integer slider with the keyboard: Home, then one ArrowRight per notch."""
    slider.focus()
    page.keyboard.press("Home")
    settle(page)
    for _ in range(value - int(slider.get_attribute("min"))):
        page.keyboard.press("ArrowRight")
    settle(page)
    assert int(slider.get_attribute("value")) == value


def _run_grid(page, points: int) -> None:
    main = main_area(page)
    _set_slider(page, main.get_by_role("slider", name="learning_rate points"), points)
    main.get_by_role("button", name="Run grid").click()
    settle(page, timeout=60_000)


def test_sweep_cell_click_loads_the_setting(browser, app_url):
    """Sweeps: a small grid of SGD's learning rate; a click on a cell loads that rate into
    the SGD instance (card title, URL) and the Paths view animates it."""
    page, log = open_app(browser, app_url)
    default = plotted(page)
    open_tab(page, "Sweeps")
    _run_grid(page, 5)  # 1e-5 ... 10, log-spaced
    chart = main_area(page).locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    chart.wait_for()
    points = chart.locator(".scatterlayer path.point")
    # the cells drawn (diverged rates have no finite loss): their indices and values
    cells = points.evaluate_all("(ps) => ps.map((p) => p.__data__.i)")
    values = chart.evaluate("gd => Array.from(gd._fullData[0].x)")
    pick = next(i for i in cells if not math.isclose(values[i], 1e-3))
    lr = values[pick]
    chart.scroll_into_view_if_needed()
    box = points.nth(cells.index(pick)).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    title = f"● SGD · lr {lr:.4g}"
    error = page.locator("[data-testid='stException']")
    page.wait_for_function(
        "([t]) => document.querySelector('[data-testid=stException]') || [...document"
        ".querySelectorAll('[data-testid=stSidebar] summary')]"
        ".some((s) => s.innerText.includes(t))",
        arg=[title],
        timeout=30_000,
    )
    settle(page)
    screenshot(page, "app_sweep_click", full_page=False)
    log.assert_clean()
    assert error.count() == 0, "clicking a grid cell raised an exception in the app"
    assert card_title(page, "SGD") == title
    assert f"SGD(learning_rate={lr!r})" in query(page).get("o", [])
    open_tab(page, "Paths")
    wait_drawn(page)
    data = plotted(page)
    assert data[0]["path"]["b64"] != default[0]["path"]["b64"]
    assert [o["path"]["b64"] for o in data[1:]] == [o["path"]["b64"] for o in default[1:]]
    assert_advancing(sample_playing(page, n=3))
    screenshot(page, "app_sweep_loaded", full_page=False)


def test_sweep_grid_metric_switch_draws_the_metric_switched_to(browser, app_url):
    """The grid runs for the metric it draws (the final loss); switching "Colour by" computes
    and draws the new metric, with no exception and the progress bar gone."""
    page, log = open_app(browser, app_url)
    open_tab(page, "Sweeps")
    _run_grid(page, 5)
    chart = main_area(page).locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    chart.wait_for()
    final = chart.evaluate("gd => Array.from(gd._fullData[0].y)")
    screenshot(page, "app_sweep_final_loss", full_page=False)
    main_area(page).get_by_text("loss auc", exact=True).click()
    page.wait_for_function(
        "() => { const gd = document.querySelector("
        "'[data-testid=stMain] [data-testid=stPlotlyChart] .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0].name === 'loss_auc'; }",
        timeout=60_000,
    )
    settle(page)
    screenshot(page, "app_sweep_loss_auc", full_page=False)
    log.assert_clean()
    assert_no_exception(page)
    assert page.locator("[data-testid='stProgress']").count() == 0
    auc = chart.evaluate("gd => Array.from(gd._fullData[0].y)")
    assert len(auc) == len(final) == 5 and auc != final


def test_sweep_grid_runs_twice(browser, app_url):
    """Running the same grid again (a cache hit) shows it again."""
    page, log = open_app(browser, app_url)
    open_tab(page, "Sweeps")
    _run_grid(page, 2)
    assert_no_exception(page)
    main_area(page).get_by_role("button", name="Run grid").click()
    settle(page, timeout=60_000)
    screenshot(page, "app_sweep_twice", full_page=False)
    log.assert_clean()
    assert_no_exception(page)
    assert main_area(page).locator("[data-testid='stPlotlyChart']").count() == 1


# ---------------------------------------------------------------- sharing


def test_share_link_reproduces_the_scene(browser, app_url):
    """The page's URL (kept in sync with the scene) opened in a new context: the same plotted
    paths, bit for bit, paused at the same frame."""
    page, log = open_app(browser, app_url)
    first = state(page)
    nudge_learning_rate(page, "Momentum")  # 0.001 -> 0.0015: a scene that is not the default
    wait_new_data(page, first["id"])
    settle(page)
    assert "Momentum(learning_rate=0.0015)" in query(page)["o"]
    assert_link_reproduces(browser, app_url, page, log, "app_share_link")


def assert_link_reproduces(browser, app_url, page, log, name: str) -> None:
    """Pause (the frame goes into the link), then open the address bar in a new context (a
    new session): the same plotted paths, bit for bit, paused at the same frame. Screenshot of
    the new context as ``name``; both contexts closed."""
    f = pause(page)["frame"]
    wait_query(page, "f", lambda v: v == [str(f)])
    settle(page)
    link = page.url
    mine = plotted(page)
    other, other_log = open_app(browser, app_url, urlsplit(link).query)
    assert other.url == link
    st = state(other)
    assert st["id"] == state(page)["id"]  # a hash of the whole document
    assert plotted(other) == mine
    assert st["frame"] == f and not st["playing"]
    screenshot(other, name, full_page=False)
    other_log.assert_clean()
    log.assert_clean()
    other.context.close()
    page.context.close()


def test_share_tab_link_keeps_the_paused_frame(browser, app_url):
    from playwright.sync_api import expect

    page, log = open_app(browser, app_url)
    f = pause(page)["frame"]
    wait_query(page, "f", lambda v: v == [str(f)])
    open_tab(page, "Share & export")
    codes = main_area(page).locator("[data-testid='stCode']")
    link = codes.first.inner_text().strip()
    screenshot(page, "app_share_tab", full_page=False)
    script = codes.nth(1)  # Copy as Python: the scene's script, with st.code's copy button
    script.scroll_into_view_if_needed()
    expect(script).to_contain_text("jax.lax.scan")
    screenshot(page, "app_share_python", full_page=False)
    log.assert_clean()
    page.context.close()
    assert parse_qs(urlsplit(link).query).get("f") == [str(f)], link


def _download(page, label: str, tmp_path):
    with page.expect_download() as info:
        main_area(page).get_by_role("button", name=label).click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return path


def test_snapshot_round_trip(browser, app_url, tmp_path):
    """Download a snapshot, change the scene, upload the snapshot: the scene comes back."""
    page, log = open_app(browser, app_url)
    first = state(page)  # read before the nudge: a cached scene can arrive before a late read
    nudge_learning_rate(page, "Nesterov")  # 0.001 -> 0.0015
    wait_new_data(page, first["id"])
    settle(page)
    saved, saved_id = plotted(page), state(page)["id"]
    open_tab(page, "Share & export")
    snap = _download(page, "Download snapshot (.json)", tmp_path)
    assert snap.name.endswith(".json") and snap.stat().st_size > 1000
    open_tab(page, "Paths")
    wait_drawn(page)
    nudge_learning_rate(page, "Nesterov")  # 0.0015 -> 0.002
    wait_new_data(page, saved_id)
    settle(page)
    assert plotted(page) != saved
    open_tab(page, "Share & export")
    main_area(page).locator("input[type=file]").set_input_files(snap)
    main_area(page).get_by_text("reproduces its results exactly").wait_for(timeout=30_000)
    settle(page)
    assert "Nesterov(learning_rate=0.0015)" in query(page)["o"]
    screenshot(page, "app_snapshot_loaded", full_page=False)
    open_tab(page, "Paths")
    wait_drawn(page)
    assert state(page)["id"] == saved_id
    assert plotted(page) == saved
    log.assert_clean()
    page.context.close()


def test_html_export_plays_offline(browser, app_url, tmp_path):
    """The .html export opened from file:// in a context where every request but file: is
    aborted and recorded: it plays the app's scene, and asks for nothing."""
    page, log = open_app(browser, app_url)
    app_id, app_data = state(page)["id"], plotted(page)
    open_tab(page, "Share & export")
    path = _download(page, "Animation (.html)", tmp_path)
    log.assert_clean()
    page.context.close()
    offline, offline_log = open_page(browser, path.as_uri(), width=WIDTH, height=HEIGHT)
    root = offline.locator(".optviz")
    offline.wait_for_function(
        "() => { const r = document.querySelector('.optviz'); return r && r.__optviz && "
        "r.__optviz.state().imageReady && r.__optviz.state().drawn > 2; }",
        timeout=15_000,
    )
    st = root.evaluate("r => r.__optviz.state()")
    assert st["id"] == app_id and st["playing"]
    data = root.evaluate(
        "r => r.__optvizInstance.data.optimizers.map((o) => ({name: o.name, path: o.path}))"
    )
    assert data == app_data
    offline.wait_for_timeout(500)
    later = root.evaluate("r => r.__optviz.state()")
    assert later["drawn"] > st["drawn"] + 5 and later["frame"] != st["frame"]
    for panel in ("surface", "lr", "loss"):
        stats = offline.locator(f"[data-testid='ov-{panel}']").evaluate(CANVAS_STATS_JS)
        assert_drawn(stats, panel)
    screenshot(offline, "app_html_export", full_page=False)
    assert offline_log.external_requests == []
    offline_log.assert_clean()
    offline.context.close()


# ---------------------------------------------------------------- lessons


def test_lesson_in_presentation_mode(browser, app_url):
    """A lesson link (presentation, sidebar hidden): no sidebar, large fonts, the stage's
    narration shown, its frame paused; Next goes to the next stage."""
    lesson = lessons.LESSONS["momentum"]
    page, log = open_app(browser, app_url, lessons.link("momentum", 1, hide=("sidebar",)))
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.count() == 0 or not sidebar.is_visible()
    sizes = page.evaluate(
        "() => [document.documentElement, document.body].map((e) => "
        "parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(sizes) >= 18, sizes
    stage = lesson.stages[1]
    main = main_area(page)
    main.get_by_text(f"stage 2 of {len(lesson.stages)}: {stage.title}").wait_for()
    # the narration's longest stretch of plain text (between $...$ formulas)
    prose = max(stage.narration.split("$")[::2], key=len).strip()[:60]
    assert main.get_by_text(prose).is_visible(), prose
    one_animator(page)
    st = state(page)
    assert st["frame"] == stage.frame and not st["playing"]
    assert "ov-present" in page.locator(ROOT).get_attribute("class")
    assert [o["name"] for o in plotted(page)] == [o.name for o in stage.experiment.optimizers]
    screenshot(page, "app_lesson_stage2", full_page=False)
    page.get_by_role("button", name="Next").click()
    nxt = lesson.stages[2]
    main.get_by_text(f"stage 3 of {len(lesson.stages)}: {nxt.title}").wait_for()
    settle(page)
    one_animator(page)
    wait_new_data(page, st["id"])
    assert query(page)["stage"] == ["3"] and query(page)["hide"] == ["sidebar"]
    assert [o["name"] for o in plotted(page)] == [o.name for o in nxt.experiment.optimizers]
    assert sidebar.count() == 0 or not sidebar.is_visible()
    screenshot(page, "app_lesson_stage3", full_page=False)
    log.assert_clean()
    page.context.close()


def test_lesson_hide_tabs(browser, app_url):
    page, log = open_app(browser, app_url, lessons.link("momentum", 1, hide=("sidebar", "tabs")))
    screenshot(page, "app_lesson_hide_tabs", full_page=False)
    log.assert_clean()
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.count() == 0 or not sidebar.is_visible()
    assert page.locator(ROOT).is_visible()  # the view itself stays
    tabs = page.get_by_role("tablist")
    assert tabs.count() == 0 or not tabs.first.is_visible(), "the tab list is still shown"


# ---------------------------------------------------------------- links after changes


def pick_surface(page, title: str) -> None:
    """Choose a surface in the sidebar's "Loss surface" selectbox, as a person does."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text="Loss surface"
    )
    box.locator("input").click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(title)} ·")).click()


def test_surface_switch_then_its_link_draws_the_same_paths(browser, app_url):
    """Pick "Six-hump camel": the paths start at its own default start, inside its picture
    (not Rosenbrock's (-1.5, 2), above it); the address bar opened in a new context draws the
    same paths, bit for bit."""
    page, log = open_app(browser, app_url)
    first = state(page)
    pick_surface(page, "Six-hump camel")
    wait_new_data(page, first["id"])
    settle(page)
    x0, x1, y0, y1 = state(page)["plot"]["extent"]
    mine = plotted(page)
    for o in mine:
        x, y = start_of(o)
        assert (x, y) == pytest.approx((-1.8, -1.0), abs=1e-6), o["name"]
        assert x0 <= x <= x1 and y0 <= y <= y1
    assert query(page)["s"] == ["six_hump_camel"] and "x" not in query(page)
    screenshot(page, "app_surface_switch", full_page=False)
    assert_link_reproduces(browser, app_url, page, log, "app_surface_switch_link")


def test_a_hand_typed_lesson_link_opens_its_stage(browser, app_url):
    """``?lesson=momentum&stage=1`` as the README writes it: stage 1 of 3, its own scene."""
    lesson = lessons.LESSONS["momentum"]
    stage = lesson.stages[0]
    page, log = open_app(browser, app_url, "lesson=momentum&stage=1")
    main = main_area(page)
    main.get_by_text(f"stage 1 of {len(lesson.stages)}: {stage.title}").wait_for()
    prose = max(stage.narration.split("$")[::2], key=len).strip()[:60]
    assert main.get_by_text(prose).is_visible(), prose
    assert [o["name"] for o in plotted(page)] == [o.name for o in stage.experiment.optimizers]
    assert main.get_by_text("Settings changed").count() == 0
    assert_no_exception(page)
    screenshot(page, "app_lesson_link_stage1", full_page=False)
    log.assert_clean()
    page.context.close()


def test_png_download_is_slide_sized(browser, app_url, tmp_path):
    from PIL import Image

    page, log = open_app(browser, app_url)
    open_tab(page, "Share & export")
    path = _download(page, "Picture (.png)", tmp_path)
    with Image.open(path) as im:
        assert im.size == (1760, 1240)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        im.save(SCREENSHOTS / "app_export_png_2x.png")  # the file itself, to look at
    log.assert_clean()
    page.context.close()
