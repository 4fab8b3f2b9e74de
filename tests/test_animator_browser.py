"""The animator in a real browser: standalone pages of real runs in headless chromium.

Pages are the offline export (``animator.standalone_html``) written to a temporary folder and
opened from ``file://``; the payloads are built here from ``trajectories.run``, the way the
app builds them. Screenshots of every scene go to ``artifacts/screenshots/`` and the measured
frame rates to ``artifacts/fps_<scene>.json``.
"""

from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pytest

from app import animator, payload
from tests.browser import (
    ARTIFACTS,
    CANVAS_STATS_JS,
    SCREENSHOTS,
    open_page,
    screenshot,
    streamlit_server,
    until_playing,
)

pytestmark = pytest.mark.slow

ROOT = ".optviz"
STATE = f"document.querySelector('{ROOT}').__optviz.state()"


def _specs():
    from trajectories import OptimizerSpec

    six = (
        OptimizerSpec("Adam", {"learning_rate": 0.05}),
        OptimizerSpec("SGD", {"learning_rate": 1e-3}),
        OptimizerSpec("Momentum", {"learning_rate": 1e-3}),
        OptimizerSpec("RMSprop", {"learning_rate": 1e-2}),
        OptimizerSpec("WAME", {"learning_rate": 1e-3, "variant": "paper_sqrt"}),
        OptimizerSpec("Adagrad", {"learning_rate": 0.5}),
    )
    fast = OptimizerSpec("SGD", {"learning_rate": 0.01}, name="SGD too fast")
    rates = tuple(
        OptimizerSpec("SGD", {"learning_rate": lr}, name=f"lr {lr}") for lr in (0.01, 0.1, 0.5)
    )
    return {
        "rosenbrock": dict(surface="rosenbrock", optimizers=six, steps=500),
        "rosenbrock_diverge": dict(
            surface="rosenbrock",
            optimizers=(*six, fast),
            steps=300,
            starts=((-1.5, 2.0), (1.5, -0.5)),
        ),
        "linear_regression": dict(surface="linear_regression", optimizers=rates, steps=100),
        "mlp": dict(surface="mlp", optimizers=six[:4], steps=300),
    }


class _Docs(dict):
    """Payloads built on first use (with pytest-xdist, each worker builds only what its own
    tests need)."""

    def __missing__(self, name: str) -> dict:
        from tests.documents import document
        from trajectories import Experiment

        e = Experiment(**_specs()[name])
        doc = self[name] = document(e)
        return doc


@pytest.fixture(scope="session")
def docs() -> dict[str, dict]:
    return _Docs()


@pytest.fixture(scope="session")
def page_file(docs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")

    def make(name: str, doc: dict | None = None, **options) -> str:
        doc = docs[name] if doc is None else doc
        text = animator.standalone_html(doc, title=name, options=options)
        tag = "_".join(f"{k}-{v}" for k, v in sorted(options.items()))
        path = folder / f"{name}_{abs(hash(tag))}.html"
        path.write_text(text, encoding="utf-8")
        return path.as_uri()

    return make


def state(page) -> dict:
    return page.evaluate(STATE)


def wait_ready(page, drawn: int = 1) -> dict:
    page.wait_for_function(
        f"() => {{ const r = document.querySelector('{ROOT}'); return r && r.__optviz && "
        f"r.__optviz.state().imageReady && r.__optviz.state().drawn >= {drawn}; }}",
        timeout=10_000,
    )
    page.wait_for_timeout(100)
    return state(page)


def canvas_stats(page, name: str) -> dict:
    return page.locator(f"[data-testid='ov-{name}']").evaluate(CANVAS_STATS_JS)


def assert_drawn(stats: dict, what: str) -> None:
    assert stats["drawn"] > 0.1 and stats["std"] > 8, f"{what} looks blank: {stats}"


def events(page) -> list[dict]:
    return page.evaluate("window.__optvizEvents || []")


def path_of(doc: dict, i: int) -> np.ndarray:
    return payload.decode(doc["optimizers"][i]["path"])


# ---------------------------------------------------------------- every scene


@pytest.mark.parametrize("name", ["rosenbrock", "rosenbrock_diverge", "linear_regression", "mlp"])
def test_scene_loads_and_draws_every_panel(browser, docs, page_file, name):
    doc = docs[name]
    frames = len(doc["steps"])
    page, log = open_page(browser, page_file(name, autoplay=False, frame=int(frames * 0.6)))
    st = wait_ready(page)
    assert st["frame"] == int(frames * 0.6) and not st["playing"]
    assert st["failed"] == [] and not any(st["errors"].values()), st["errors"]
    expected = {"surface", "lr", "loss"} | ({"fit"} if doc["fit"] else set())
    assert set(st["panels"]) == expected
    for panel in expected:
        assert_drawn(canvas_stats(page, panel), panel)
    n_runs = sum(len(o["diverged"]) for o in doc["optimizers"])
    assert len(st["markers"]) == n_runs
    if name == "rosenbrock_diverge":
        text = page.locator("[data-testid='ov-diverged']").inner_text()
        expected_msgs = [
            f"{o['name']} (start {s + 1}) diverged at step {step}"
            for o in doc["optimizers"]
            for s, step in enumerate(o["diverged"])
            if step >= 0
        ]
        assert expected_msgs and all(m in text for m in expected_msgs), text
        assert any(m["diverged"] for m in st["markers"])
        assert {(d["name"], d["start"]) for d in st["diverged"]} == {
            (o["name"], s)
            for o in doc["optimizers"]
            for s, step in enumerate(o["diverged"])
            if step >= 0
        }
    if name == "mlp":
        layers = [layer["name"] for layer in doc["lr_layers"]["layers"]]
        assert st["layers"] == layers  # one heatmap per layer matrix
        title = page.locator("[data-testid='ov-panel-fit'] .ov-ptitle").inner_text()
        assert "Decision boundary" in title
        # the boundary image holds both classes' colours
        reds, blues = page.locator("[data-testid='ov-fit']").evaluate(
            """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let r = 0, b = 0; for (let i = 0; i < d.length; i += 16) {
                   if (d[i] > d[i + 2] + 60) r++; if (d[i + 2] > d[i] + 60) b++; }
                 return [r, b]; }"""
        )
        assert reds > 500 and blues > 500
        assert page.locator("[data-testid='ov-inside-note']").count() == 1
    else:
        rows = page.locator("[data-testid='ov-inside-table'] tbody tr")
        assert rows.count() == doc["surface"]["dim"]
        assert page.locator("[data-testid='ov-equations']").inner_text().strip()
    screenshot(page, name)
    log.assert_clean()
    page.context.close()


# ---------------------------------------------------------------- playing


def test_plays_with_every_panel_drawn_in_every_sampled_frame(browser, page_file):
    page, log = open_page(browser, page_file("rosenbrock", speed=1))
    wait_ready(page)
    samples = page.evaluate(
        """async ([stats]) => {
          const statsOf = eval(stats);
          const root = document.querySelector('.optviz');
          const out = [];
          for (let k = 0; k < 8; k++) {
            await new Promise((r) => setTimeout(r, 120));
            await new Promise((r) => requestAnimationFrame(r));  // right after a drawn frame
            const s = root.__optviz.state();
            const c = (n) => statsOf(root.querySelector(`[data-testid='ov-${n}']`));
            out.push({frame: s.frame, playing: s.playing, markers: s.markers,
                      surface: c('surface'), lr: c('lr'), loss: c('loss')});
          }
          return out;
        }""",
        [CANVAS_STATS_JS],
    )
    frames = [s["frame"] for s in samples]
    assert all(s["playing"] for s in samples)
    assert all(b > a for a, b in itertools.pairwise(frames)), frames
    first, last = samples[0]["markers"], samples[-1]["markers"]
    moved = [math.hypot(a["x"] - b["x"], a["y"] - b["y"]) for a, b in zip(first, last, strict=True)]
    assert max(moved) > 3, moved
    for s in samples:
        for panel in ("surface", "lr", "loss"):
            assert_drawn(s[panel], f"{panel} at frame {s['frame']}")
    log.assert_clean()
    page.context.close()


@pytest.mark.parametrize("name", ["rosenbrock", "rosenbrock_diverge", "mlp"])
def test_playing_draws_every_frame_and_records_the_rate(browser, page_file, name, record_property):
    """The rate itself is a benchmark figure (benchmarks/app.py, RESULTS.md: >= 30 fps), not
    a timed assertion: here it is recorded, and playing must draw and advance."""
    page, log = open_page(browser, page_file(name, speed=1))
    wait_ready(page)
    page.wait_for_timeout(600)  # warm up
    a = state(page)
    t0 = page.evaluate("performance.now()")
    page.wait_for_timeout(2000)
    b = state(page)
    t1 = page.evaluate("performance.now()")
    rate = (b["drawn"] - a["drawn"]) / ((t1 - t0) / 1000)
    fps = b["fps"]  # the animator's own count over the last second
    record_property(f"fps_{name}", round(rate, 1))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {"drawn_per_second": round(rate, 1), "fps_last_second": fps}
    (ARTIFACTS / f"fps_{name}.json").write_text(json.dumps(report))
    print(f"{name}: {rate:.1f} frames drawn per second (animator's count: {fps})")
    assert b["playing"] and b["frame"] != a["frame"] and b["drawn"] > a["drawn"]
    log.assert_clean()
    page.context.close()


# ---------------------------------------------------------------- controls


def test_playback_controls_and_keyboard(browser, docs, page_file):
    frames = len(docs["rosenbrock"]["steps"])
    page, log = open_page(browser, page_file("rosenbrock", autoplay=False, frame=100))
    wait_ready(page)
    tid = lambda t: page.locator(f"[data-testid='ov-{t}']")  # noqa: E731
    assert page.get_attribute(ROOT, "data-frame") == "100"
    tid("play").click()
    page.wait_for_function(f"() => {STATE}.frame > 100", timeout=30_000)
    assert state(page)["playing"] and page.get_attribute(ROOT, "data-playing") == "true"
    tid("play").click()  # pause
    st = until_playing(lambda: state(page), False)
    assert not st["playing"] and st["frame"] > 100
    f = st["frame"]
    tid("back").click()
    assert state(page)["frame"] == f - 1
    tid("forward").click()
    tid("forward").click()
    assert state(page)["frame"] == f + 1
    tid("first").click()
    assert state(page)["frame"] == 0
    tid("last").click()
    assert state(page)["frame"] == frames - 1
    assert tid("step-label").inner_text() == f"step {frames - 1} / {frames - 1}"
    # scrub
    tid("scrub").fill("250")
    assert state(page)["frame"] == 250 and page.get_attribute(ROOT, "data-frame") == "250"
    page.wait_for_timeout(300)
    sent = [e["value"] for e in events(page) if e["name"] == "frame"]
    assert sent and sent[-1] == 250
    # keyboard
    page.focus(ROOT)
    page.keyboard.press("ArrowLeft")
    assert state(page)["frame"] == 249
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert state(page)["frame"] == 251
    page.keyboard.press("Home")
    assert state(page)["frame"] == 0
    page.keyboard.press("End")
    assert state(page)["frame"] == frames - 1
    page.keyboard.press("Home")
    page.keyboard.press(" ")
    assert until_playing(lambda: state(page), True)["playing"]
    page.keyboard.press(" ")
    assert not until_playing(lambda: state(page), False)["playing"]
    # space on a focused button plays (the button's own click would pause and step)
    tid("forward").focus()
    page.keyboard.press(" ")
    assert until_playing(lambda: state(page), True)["playing"]
    page.keyboard.press(" ")
    assert not until_playing(lambda: state(page), False)["playing"]

    def advance(speed: str) -> float:
        """Frames per second of page time at ``speed``: the animation clock driven by hand
        (0.1 s between two ticks), so a loaded machine's dropped frames do not count."""
        tid("speed").select_option(speed)
        return page.evaluate(
            f"""() => {{
              const r = document.querySelector('{ROOT}'), a = r.__optvizInstance;
              r.__optviz.seek(0);
              r.__optviz.play();
              cancelAnimationFrame(a.raf);
              a.raf = 0;
              a.tick(1000);  // the first tick of a play only notes the time
              const p0 = a.pos;
              a.tick(1100);
              const moved = a.pos - p0;
              r.__optviz.pause();
              return moved * 10;
            }}"""
        )

    slow, normal, fast = advance("0.25"), advance("1"), advance("4")
    assert (slow, normal, fast) == pytest.approx((7.5, 30, 120)), (slow, normal, fast)
    tid("speed").select_option("1")
    # loop off: stops at the last frame; loop on: starts again
    assert tid("loop").get_attribute("aria-pressed") == "true"
    tid("loop").click()
    assert tid("loop").get_attribute("aria-pressed") == "false"
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek({frames - 10})")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.play()")
    page.wait_for_timeout(900)
    st = state(page)
    assert st["frame"] == frames - 1 and not st["playing"]
    tid("loop").click()
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek({frames - 5})")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.play()")
    page.wait_for_timeout(1100)
    st = state(page)
    assert st["playing"] and st["frame"] < frames - 5
    log.assert_clean()
    page.context.close()


def test_click_on_the_surface_sends_view_coordinates(browser, docs, page_file):
    doc = docs["rosenbrock"]
    page, log = open_page(browser, page_file("rosenbrock", autoplay=False, frame=200))
    st = wait_ready(page)
    box = page.locator("[data-testid='ov-surface']").bounding_box()
    plot = st["plot"]
    x0, x1, y0, y1 = plot["extent"]
    per_px = ((x1 - x0) / plot["w"], (y1 - y0) / plot["h"])
    for i, shift in ((0, False), (2, True)):
        marker = next(m for m in st["markers"] if m["name"] == doc["optimizers"][i]["name"])
        want = path_of(doc, i)[0, 200]
        page.mouse.move(box["x"] + marker["x"], box["y"] + marker["y"])
        if shift:
            page.keyboard.down("Shift")
        page.mouse.click(box["x"] + marker["x"], box["y"] + marker["y"])
        if shift:
            page.keyboard.up("Shift")
        click = [e for e in events(page) if e["kind"] == "trigger" and e["name"] == "click"][-1]
        got = click["value"]
        assert got["add"] is shift
        assert abs(got["x"] - want[0]) <= per_px[0] * 1.01, (got, want, per_px)
        assert abs(got["y"] - want[1]) <= per_px[1] * 1.01, (got, want, per_px)
    assert page.locator("[data-testid='ov-readout']").inner_text().startswith("x = ")
    # outside the plot area: nothing is sent
    n = len(events(page))
    page.mouse.click(box["x"] + 3, box["y"] + 3)
    assert len(events(page)) == n
    log.assert_clean()
    page.context.close()


def test_legend_toggles_and_inspected_optimizer(browser, docs, page_file):
    doc = docs["rosenbrock"]
    page, log = open_page(browser, page_file("rosenbrock", autoplay=False, frame=50))
    wait_ready(page)
    n = len(doc["optimizers"])
    page.locator("[data-testid='ov-legend-1']").click()
    st = state(page)
    assert st["hidden"] == [doc["optimizers"][1]["name"]] and len(st["markers"]) == n - 1
    page.locator("[data-testid='ov-legend-1']").click()
    assert len(state(page)["markers"]) == n
    page.locator("[data-testid='ov-focus']").select_option("4")  # WAME: zeta, Z, theta
    head = page.locator("[data-testid='ov-inside-table'] thead").inner_text()
    for sym in ("ζ", "Z", "θ", "η"):
        assert sym in head, head
    assert "WAME" in page.locator("[data-testid='ov-inside']").inner_text()
    log.assert_clean()
    page.context.close()


# ---------------------------------------------------------------- re-mounting


def test_same_data_keeps_playing_new_data_keeps_the_step(browser, page_file):
    page, log = open_page(browser, page_file("rosenbrock", speed=1))
    wait_ready(page)
    page.wait_for_timeout(400)
    remount = """(change) => {
      const data = JSON.parse(document.getElementById('optviz-data').textContent);
      if (change) { data.id = 'changed-' + change; data.optimizers[0].name = 'Adam ' + change; }
      const root = document.querySelector('.optviz');
      root.__optvizInstance.__tag = root.__optvizInstance.__tag || 'first';
      window.__optvizMount({data, parentElement: document.getElementById('optviz-app'),
                            setStateValue() {}, setTriggerValue() {}});
      return root.__optvizInstance.__tag || 'new';
    }"""
    before = state(page)
    assert page.evaluate(remount, None) == "first"  # same id: the same instance goes on
    page.wait_for_timeout(200)
    after = state(page)
    assert (
        after["playing"] and after["frame"] > before["frame"] and after["drawn"] > before["drawn"]
    )
    # new data while playing: rebuilt, still playing, from (about) the same frame
    old = state(page)
    at = old["frame"]
    assert page.evaluate(remount, "a") == "new"
    st = state(page)
    ahead = (st["frame"] - at) % st["frames"]  # looping allowed
    assert st["playing"] and ahead < 150 and st["drawn"] < old["drawn"], (at, st["frame"])
    assert st["markers"][0]["name"] == "Adam a"
    # paused: the step stays exactly
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.pause()")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek(321)")
    assert page.evaluate(remount, "b") == "new"
    st = state(page)
    assert st["frame"] == 321 and not st["playing"]
    page.wait_for_timeout(100)
    assert_drawn(canvas_stats(page, "surface"), "surface after new data")
    log.assert_clean()
    page.context.close()


# ---------------------------------------------------------------- robustness and layouts


def test_bad_fields_show_messages_not_exceptions(browser, docs, page_file):
    bad = json.loads(json.dumps(docs["linear_regression"]))
    r = len(bad["steps"])
    bad["optimizers"][0]["lr"] = {"b64": "!!not base64", "shape": [1, r, 2], "dtype": "f4"}
    nan_path = np.full((1, r, 2), np.nan, np.float32)
    nan_path[0, : r // 2] = 0.5
    bad["optimizers"][1]["path"] = payload.array(nan_path)
    bad["optimizers"][2]["loss"] = payload.array(np.full((1, r), np.inf, np.float32))
    bad["fit"] = {"kind": "line", "x": [1.0, 2.0]}
    page, log = open_page(browser, page_file("linear_regression", bad, autoplay=False, frame=r - 1))
    st = wait_ready(page)
    assert st["errors"]["lr"] and st["errors"]["fit"]
    assert "lr" in page.locator("[data-testid='ov-panel-lr'] .ov-msg").inner_text()
    assert page.locator("[data-testid='ov-panel-fit'] .ov-msg").is_visible()
    assert_drawn(canvas_stats(page, "surface"), "surface")
    assert_drawn(canvas_stats(page, "loss"), "loss")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.play()")
    page.wait_for_timeout(300)
    assert state(page)["drawn"] > 3
    assert not log.page_errors and not log.console_errors
    page.context.close()
    # nothing usable at all: a message, no exception
    page, log = open_page(browser, page_file("linear_regression", {"version": 1}))
    page.wait_for_selector("[data-testid='ov-error']")
    assert "Cannot animate" in page.locator("[data-testid='ov-error']").inner_text()
    assert not log.page_errors and not log.console_errors
    page.context.close()


@pytest.mark.parametrize(
    ("label", "width", "options"),
    [
        ("narrow", 720, {}),
        ("phone", 420, {}),
        ("dark_presentation", 1400, {"theme": "dark", "presentation": True}),
    ],
)
def test_layouts(browser, page_file, label, width, options):
    page, log = open_page(
        browser, page_file("rosenbrock_diverge", autoplay=False, frame=120, **options), width=width
    )
    wait_ready(page)
    overflow = page.evaluate(
        f"(() => {{ const r = document.querySelector('{ROOT}'); "
        "return r.scrollWidth - r.clientWidth; })()"
    )
    assert overflow <= 0, f"{label}: {overflow}px wider than the page"
    boxes = [
        page.locator(f"[data-testid='ov-panel-{p}']").bounding_box()
        for p in ("surface", "lr", "loss")
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
            overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
            assert overlap_x <= 0 or overlap_y <= 0, f"{label}: panels overlap {a} {b}"
    for p in ("surface", "lr", "loss"):
        assert_drawn(canvas_stats(page, p), f"{label} {p}")
    screenshot(page, f"rosenbrock_diverge_{label}")
    log.assert_clean()
    page.context.close()


# ---------------------------------------------------------------- inside a real Streamlit app


def test_inside_streamlit(browser, docs, tmp_path):
    """The component in a real app: shadow DOM, theme, click and frame back in Python, and
    a rerun with the same document goes on where it was."""
    doc = docs["linear_regression"]
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(doc))
    script = tmp_path / "animator_app.py"  # not app.py: that would shadow the app package
    script.write_text(
        "import json\n"
        "import streamlit as st\n"
        "from app.animator import animator\n"
        "st.set_page_config(layout='wide')\n"
        f"doc = json.loads(open({str(doc_path)!r}).read())\n"
        "st.session_state.setdefault('runs', 0)\n"
        "st.session_state.runs += 1\n"
        "res = animator(doc, key='anim', options={'speed': 0.5})\n"
        "st.text('python: ' + json.dumps({'runs': st.session_state.runs, 'click': res.click,"
        " 'frame': res.frame}))\n"
    )

    def python(page) -> dict:
        text = page.locator("[data-testid='stText']").filter(has_text="python: ").inner_text()
        return json.loads(text.split("python: ", 1)[1])

    with streamlit_server(script) as url:
        ws = url.replace("http", "ws", 1)
        page, log = open_page(browser, url, width=1300, allow=(url, ws))
        root = page.locator(ROOT)
        root.wait_for(timeout=20_000)
        page.wait_for_function(
            "() => { const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot &&"
            " e.shadowRoot.querySelector('.optviz')); if (!h) return false;"
            " const s = h.shadowRoot.querySelector('.optviz').__optviz.state();"
            " return s.imageReady && s.playing && s.frame > 3; }",
            timeout=20_000,
        )
        assert python(page)["frame"] is None
        root.evaluate("r => { r.__optvizInstance.__tag = 'kept'; }")
        read = lambda: root.evaluate("r => r.__optviz.state()")  # noqa: E731
        page.locator("[data-testid='ov-play']").click()  # pause: the frame goes to Python
        paused = until_playing(read, False)
        if paused["playing"]:  # seen once under a loaded CI: the click lost, try it once more
            page.locator("[data-testid='ov-play']").click()
            paused = until_playing(read, False)
        assert not paused["playing"]
        page.wait_for_function(
            "f => document.body.innerText.includes('\"frame\": ' + f)", arg=paused["frame"]
        )
        st = root.evaluate("r => r.__optviz.state()")
        box = page.locator("[data-testid='ov-surface']").bounding_box()
        marker = st["markers"][1]
        page.mouse.click(box["x"] + marker["x"], box["y"] + marker["y"])
        page.wait_for_function("() => document.body.innerText.includes('\"add\": false')")
        got = python(page)
        want = path_of(doc, 1)[0, paused["frame"]]
        x0, x1, y0, y1 = st["plot"]["extent"]
        assert abs(got["click"]["x"] - want[0]) <= (x1 - x0) / st["plot"]["w"] * 1.01
        assert abs(got["click"]["y"] - want[1]) <= (y1 - y0) / st["plot"]["h"] * 1.01
        assert got["runs"] >= 3 and got["frame"] == paused["frame"]
        # the reruns sent the same document: the same instance, still at the paused frame
        after = root.evaluate("r => [r.__optvizInstance.__tag, r.__optviz.state()]")
        assert after[0] == "kept" and after[1]["frame"] == paused["frame"]
        page.locator("[data-testid='ov-play']").click()
        page.wait_for_timeout(600)
        assert root.evaluate("r => r.__optviz.state().frame") > paused["frame"]
        screenshot(page, "streamlit_app")
        log.assert_clean()
        page.context.close()


def test_inside_table_shows_the_values_at_the_current_step(browser, docs, page_file):
    """Every cell is the payload's value at the frame shown; lr and ratio, derivable, may be
    left out of the payload (the browser uses ``lr`` and computes ``-update / g``)."""
    slim = docs["linear_regression"]  # what app.payload sends: no inside.lr, no ratio
    full = json.loads(json.dumps(slim))  # the older form that sent both
    for o in full["optimizers"]:
        g, u = payload.decode(o["inside"]["g"]), payload.decode(o["inside"]["update"])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(g != 0, -u / g, 0.0)
        o["inside"]["lr"] = o["lr"]
        o["inside"]["ratio"] = payload.array(ratio)
    frame = 7
    tables = []
    for doc in (full, slim):
        page, log = open_page(browser, page_file("linear_regression", doc, autoplay=False))
        wait_ready(page)
        page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek({frame})")
        head = page.locator("[data-testid='ov-inside-table'] thead th").all_inner_texts()
        rows = [
            r.locator("td").all_inner_texts()
            for r in page.locator("[data-testid='ov-inside-table'] tbody tr").all()
        ]
        tables.append((head, rows))
        log.assert_clean()
        page.context.close()
    assert tables[0] == tables[1]
    head, rows = tables[0]
    inside = full["optimizers"][0]["inside"]
    state = [k for k in inside if k not in ("g", "update", "lr", "ratio")]
    keys = ["g", *state, "lr", "update", "ratio"]
    assert len(head) == 1 + len(keys)
    for j, key in enumerate(keys):
        want = payload.decode(inside[key])[0, frame]
        for w, row in enumerate(rows):
            got = float(row[j].replace("−", "-"))
            assert got == pytest.approx(float(want[w]), rel=6e-3, abs=1e-12), (key, w)


def test_ema_path_is_drawn(browser, docs, page_file):
    doc = json.loads(json.dumps(docs["linear_regression"]))
    ema = payload.decode(doc["optimizers"][0]["path"]).copy()
    ema[..., 1] += 0.4  # an average that visibly differs from the path
    doc["optimizers"][0]["ema_path"] = payload.array(ema)
    stats = []
    for d in (docs["linear_regression"], doc):
        page, log = open_page(browser, page_file("linear_regression", d, autoplay=False, frame=60))
        wait_ready(page)
        stats.append(canvas_stats(page, "surface"))
        key = page.locator("[data-testid='ov-key']").inner_text()
        log.assert_clean()
        page.context.close()
    assert "EMA" in key
    assert stats[0]["mean"] != stats[1]["mean"]


def test_hidden_panels_and_presentation(browser, page_file):
    url = page_file(
        "linear_regression",
        autoplay=False,
        frame=40,
        presentation=True,
        hide=["heatmap", "inside", "tools"],
    )
    page, log = open_page(browser, url)
    st = wait_ready(page)
    assert set(st["panels"]) == {"surface", "loss", "fit"}
    assert page.locator("[data-testid='ov-inside']").count() == 0
    assert page.locator("[data-testid='ov-focus']").count() == 0
    assert "ov-present" in page.get_attribute(ROOT, "class")
    for p in st["panels"]:
        assert_drawn(canvas_stats(page, p), p)
    screenshot(page, "linear_regression_presentation")
    log.assert_clean()
    page.context.close()


# ---------------------------------------------------------------- the TeX renderer


def _registry_latex() -> list[str]:
    """Every LaTeX string the animator renders: each registry entry's update rule, learning
    rate and state symbols, and the symbols the inside table writes itself."""
    from app.animator import ASSETS, SCRIPT_MODULES
    from optimizers.registry import OPTIMIZERS

    out = []
    for info in OPTIMIZERS.values():
        out += [info.update_latex, info.learning_rate_latex]
        out += [symbol for _, symbol in info.state_symbols]
    for name in SCRIPT_MODULES:
        text = (ASSETS / name).read_text(encoding="utf-8")
        out += [json.loads(f'"{s}"') for s in re.findall(r'texToHtml\("((?:[^"\\]|\\.)*)"\)', text)]
    return list(dict.fromkeys(out))


def test_every_registry_latex_renders_without_errors(browser, page_file):
    strings = _registry_latex()
    assert len(strings) > 30 and "\\eta_{\\mathrm{eff}}" in strings
    # what the renderer must refuse, so that a clean result means something
    broken = ["\\frac{a", "a}", "\\nosuchcommand x", "x_1_2", "\\begin{matrix}a\\end{matrix}",
              "a & b", "\\sqrt", "\\text x", "\\begin{cases}a"]  # fmt: skip
    page, log = open_page(browser, page_file("linear_regression", autoplay=False))
    wait_ready(page)
    results = page.evaluate(
        f"(xs) => xs.map((s) => document.querySelector('{ROOT}').__optviz.tex(s))",
        strings + broken,
    )
    log.assert_clean()
    page.context.close()
    bad = {s: r["errors"] for s, r in zip(strings, results, strict=False) if r["errors"]}
    assert not bad, bad
    for s, r in zip(strings, results, strict=False):
        assert r["html"].strip(), s
        assert "\\" not in r["html"], (s, r["html"])  # no command leaked through as text
    for s, r in zip(broken, results[len(strings) :], strict=True):
        assert r["errors"], f"{s!r} should be reported"


# ---------------------------------------------------------------- arrows


def _with_arrows(doc: dict, **vectors: tuple[float, float]) -> dict:
    """``doc`` with the first optimizer's arrows constant over every frame and start."""
    out = json.loads(json.dumps(doc))
    o = out["optimizers"][0]
    s, r = len(o["diverged"]), len(out["steps"])
    for key, v in vectors.items():
        o["arrows"][key] = payload.array(np.broadcast_to(np.float32(v), (s, r, 2)).copy())
    return out


@pytest.mark.parametrize("momentum", [(0.3, 0.2), (-0.3, -0.2)])
def test_arrows_are_drawn_as_sent(browser, docs, page_file, momentum):
    """The momentum arrow points the way the payload's vector does, whatever its angle with
    the gradient (here parallel or opposite: no sign is guessed); the gradient arrow shows
    −∇f, the update arrow the update as sent."""
    doc = _with_arrows(
        docs["linear_regression"], grad=(0.6, 0.4), momentum=momentum, update=(-0.1, 0.5)
    )
    page, log = open_page(browser, page_file("linear_regression", doc, autoplay=False, frame=30))
    st = wait_ready(page)
    drawn = {a["key"]: a for a in st["arrows"] if a["name"] == doc["optimizers"][0]["name"]}
    log.assert_clean()
    page.context.close()
    assert set(drawn) == {"grad", "momentum", "update"}, st["arrows"]
    x0, x1, y0, y1 = st["plot"]["extent"]
    sx, sy = st["plot"]["w"] / (x1 - x0), st["plot"]["h"] / (y1 - y0)
    for key, sent, sign in (("grad", (0.6, 0.4), -1), ("momentum", momentum, 1),
                            ("update", (-0.1, 0.5), 1)):  # fmt: skip
        want = np.array([sent[0] * sx, -sent[1] * sy]) * sign  # screen y points down
        got = np.array([drawn[key]["dx"], drawn[key]["dy"]])
        cos = got @ want / np.linalg.norm(got) / np.linalg.norm(want)
        assert cos > 0.9999, (key, got, want)


# ---------------------------------------------------------------- halo


def _wcag_luminance(hex_colour: str) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


@pytest.mark.parametrize("colour", ["#440154", "#fde725", "#1f77b4", "#ff7f0e"])
def test_paths_are_drawn_over_a_contrasting_halo(browser, docs, page_file, colour):
    """Beside a drawn trail (1.5-2.2 px from its centre line, inside the 1.5 px halo around
    its 2.2 px line) the pixels are white under a dark colour and near-black under a light one:
    the halo contrasts with the path's own colour, so a path the colour of the map's darkest
    (or lightest) end still stands out there."""
    doc = json.loads(json.dumps(docs["linear_regression"]))
    # one run, alone on the surface, along a straight line across the middle of the view
    x0, x1, y0, y1 = doc["surface"]["extent"]
    r = len(doc["steps"])
    t = np.linspace(0.2, 0.8, r)[:, None]
    line = np.array([x0, y0 + 0.45 * (y1 - y0)]) + t * np.array([x1 - x0, 0.3 * (y1 - y0)])
    i = 0
    doc["optimizers"][i]["path"] = payload.array(line[None].astype(np.float32))
    doc["optimizers"][i]["color"] = colour
    hidden = [o["name"] for j, o in enumerate(doc["optimizers"]) if j != i]
    url = page_file("linear_regression", doc, autoplay=False, frame=r - 1, hidden=hidden)
    page, log = open_page(browser, url)
    wait_ready(page)
    page.wait_for_timeout(100)
    lums = page.evaluate(
        f"""(i) => {{
          const root = document.querySelector('{ROOT}'), a = root.__optvizInstance;
          const c = root.querySelector("[data-testid='ov-surface']");
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, k = a.dpr;
          const px = a.model.opts[i].px[0], n = px.length / 2;
          const [ax, ay, bx, by] = [px[0], px[1], px[2 * n - 2], px[2 * n - 1]];
          const len = Math.hypot(bx - ax, by - ay), ux = (bx - ax) / len, uy = (by - ay) / len;
          const out = [];
          for (let v = 0; v < c.height; v++) for (let u = 0; u < c.width; u++) {{
            const x = (u + 0.5) / k - ax, y = (v + 0.5) / k - ay;
            const along = (x * ux + y * uy) / len, off = Math.abs(x * uy - y * ux);
            if (along < 0.2 || along > 0.8 || off < 1.5 || off > 2.2) continue;
            const o = (v * c.width + u) * 4;
            out.push(0.2126 * d[o] + 0.7152 * d[o + 1] + 0.0722 * d[o + 2]);
          }}
          return out;
        }}""",
        i,
    )
    log.assert_clean()
    page.context.close()
    assert len(lums) >= 100, lums
    light = (1.05 / (_wcag_luminance(colour) + 0.05)) >= (
        (_wcag_luminance(colour) + 0.05) / (_wcag_luminance("#101018") + 0.05)
    )
    beside = np.array(lums)
    share = np.mean(beside > 200) if light else np.mean(beside < 60)
    assert share >= 0.7, (colour, "white" if light else "dark", np.round(beside))


# ---------------------------------------------------------------- numbers and the last frame


def test_no_step_follows_the_last_frame_and_no_negative_zero(browser, docs, page_file):
    doc = docs["linear_regression"]
    last = len(doc["steps"]) - 1
    page, log = open_page(browser, page_file("linear_regression", autoplay=False, frame=last))
    wait_ready(page)
    fmt = page.evaluate(
        f"""() => {{ const f = document.querySelector('{ROOT}').__optviz.format;
                    return [f(-0), f(0), f(-0.0, 4), f(-2.5), f(1.23e-4), f(-1e-20)]; }}"""
    )
    assert fmt == ["0", "0", "0", "−2.5", "1.23e−4", "−1e−20"]
    head = page.locator("[data-testid='ov-inside-table'] thead th").all_inner_texts()
    step_cols = [j - 1 for j, h in enumerate(head) if h.startswith(("Δ", "−Δ"))]
    assert len(step_cols) == 2, head

    def rows() -> list[list[str]]:
        return [
            r.locator("td").all_inner_texts()
            for r in page.locator("[data-testid='ov-inside-table'] tbody tr").all()
        ]

    note = page.locator("[data-testid='ov-inside-last']")
    assert note.is_visible() and "No step follows the last frame" in note.inner_text()
    for row in rows():
        assert [row[j] for j in step_cols] == ["–", "–"], row
        assert all(c not in ("–", "") for j, c in enumerate(row) if j not in step_cols), row
    text = page.locator(ROOT).inner_text()
    assert not re.search(r"(?<![\d.])[-−]0(?:\.0+)?(?![\d.])", text), text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(ROOT).screenshot(path=str(SCREENSHOTS / "animator_last_frame.png"))
    # one frame before: the step that follows it is shown
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek({last - 1})")
    assert not note.is_visible()
    update = payload.decode(doc["optimizers"][0]["inside"]["update"])[0, last - 1]
    for w, row in enumerate(rows()):
        got = float(row[step_cols[0]].replace("−", "-"))
        assert got == pytest.approx(float(update[w]), rel=6e-3)
    log.assert_clean()
    page.context.close()
