"""The web app in headless chromium: loads, a hyperparameter change, frame rate, payload.

    PYTHONPATH=. .venv/bin/python benchmarks/app.py [--quick] [--plain] [--out FILE]

Targets: the default scene from page load to an animated chart under 4 s cold and 2 s warm; the
updated chart within 0.5 s of one hyperparameter change; 30 fps or more with every panel drawn
in every sampled frame; the figure payload under 1 MB. On loopback only (every other request of
a page is aborted and counted).

* **cold load**: a fresh ``python -m app.serve`` (``--plain``: ``streamlit run app/main.py``,
  no warm-up), a new browser context; navigation start to the first frame the animator draws
  while playing, in page time. ``--cold`` fresh servers.
* **warm load**: the same server, new contexts (new sessions; the server's caches hold the
  scene). ``--warm`` times.
* **change**: SGD's learning-rate slider moved one notch from the keyboard, ``--changes`` times
  to new values, then back (cached values); the same paused, on Adam's slider. Keydown to the
  first frame drawn from the new document. Where its time went (medians, page times): keydown
  to the rerun request, to the first message back, to the largest (the animator's mount), to the
  animator's render called (``optviz-render`` mark of app/animator/entry.js) and returned
  (``optviz-rendered``), to the frame drawn; and the largest message each change brought (a
  patch after the first mount, app/doc_patch.py). ``--notch``: only these, on one server
  (start it with ``OPTVIZ_BACKGROUND_WARMUP=0`` so that the warm-up's compiles do not hold the
  engine during the new values).
* **frame rate**: frames drawn per second over ``--seconds``, then again while sampling the
  surface, learning-rate and loss canvases every 250 ms (each must be non-blank).
* **payload**: the animator's document as JSON, and the largest websocket message.
* **live drag**: the animator's ``learning_rate (live)`` slider dragged back and forth with the
  mouse for ``--seconds``: members swapped in (and drawn) per second, what one swap costs, and
  the websocket messages the page sent between pointer-down and release (0 by design); the
  document's size with and without its family of runs.

* **start drag** (``--drag N``, alone: one fresh ``python -m app.serve`` without its background
  warm-up, whose runs hold the engine's lock for minutes after a start): the first start's
  marker dragged N steps, each answered and drawn before the next; per step, page times from the
  pointer event to the trigger sent, the answer's websocket frame in, the animator called, its
  swap and the frame drawn (``dragTrace`` in app/animator/drag.js, the websocket's frames).
  Then N clicks on the surface: click to the new paths drawn, and to the committed document
  drawn. Streamlit's floor from benchmarks/fragment_floor.py in the same run: a fragment's and
  a whole script's rerun, click to new text. Written to artifacts/APP_DRAG.md.

Prints and writes (``--out``) tables only.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path, and this file (app.py) would
# shadow the app package: the repository's root goes first instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from benchmarks.machine import describe, git_revision, loadavg, now  # noqa: E402
from tests.browser import ARGS, CANVAS_STATS_JS, chromium_path, streamlit_process  # noqa: E402

FIND_JS = (  # the animator's root inside the component's shadow root, or null
    "([...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]"
    ".map((h) => h.shadowRoot && h.shadowRoot.querySelector('.optviz')).find(Boolean))"
)
# Before any page script: when the websocket opens, and when the animator first draws playing.
INIT_JS = f"""(() => {{
  const B = (window.__bench = {{open: null, ready: null, sent: [], received: []}});
  const Native = window.WebSocket;
  const size = (d) => (typeof d === 'string' ? d.length : d.byteLength ?? d.size ?? 0);
  window.WebSocket = class extends Native {{
    constructor(...a) {{ super(...a); this.addEventListener('open', () => {{
      B.open = B.open ?? performance.now(); }});
      this.addEventListener('message', (ev) => B.received.push([performance.now(), size(ev.data)]));
    }}
    send(d) {{ B.sent.push([performance.now(), size(d)]); return super.send(d); }}
  }};
  const poll = () => {{
    const r = {FIND_JS}, s = r && r.__optviz && r.__optviz.state();
    if (s && s.drawn > 0 && s.playing && s.imageReady) B.ready = performance.now();
    else requestAnimationFrame(poll);
  }};
  requestAnimationFrame(poll);
}})();"""
# Arm a change: the next keydown's time, then the first frame drawn from a document whose id
# is not ``old``.
ARM_JS = f"""(old) => {{
  const H = (window.__change = {{keydown: null, drawn: null}});
  document.addEventListener('keydown', () => {{ H.keydown = performance.now(); }},
                            {{capture: true, once: true}});
  const poll = () => {{
    const r = {FIND_JS}, s = r && r.__optviz && r.__optviz.state();
    if (s && s.id !== old && s.drawn > 0) H.drawn = performance.now();
    else requestAnimationFrame(poll);
  }};
  requestAnimationFrame(poll);
}}"""
# Where a change's time went (page times, ms): keydown; the rerun request sent; the first
# message back; the largest message back (the animator's mount) and its size; the animator's
# render called and returned (performance marks of app/animator/entry.js); the frame drawn.
TIMELINE_JS = """() => {
  const H = window.__change, B = window.__bench, t0 = H.keydown, t1 = H.drawn;
  const within = (xs) => xs.filter(([t]) => t >= t0 && t <= t1);
  const sent = within(B.sent), got = within(B.received);
  const big = got.reduce((a, b) => (b[1] > a[1] ? b : a), [null, 0]);
  const marks = (name) => performance.getEntriesByName(name).map((e) => e.startTime)
    .filter((t) => t >= t0 && t <= t1);
  const render = marks('optviz-render'), rendered = marks('optviz-rendered');
  return {keydown: t0, drawn: t1, sent: sent.length ? sent[0][0] : null,
          first: got.length ? got[0][0] : null, largest: big[0], largest_bytes: big[1],
          render: render.length ? render[render.length - 1] : null,
          rendered: rendered.length ? rendered[rendered.length - 1] : null};
}"""
# Arm a click on the surface: its time, the first frame drawn whose first path starts elsewhere
# than now, and the first frame drawn from a document whose id is not ``old`` (the commit).
CLICK_JS = f"""(old) => {{
  const H = (window.__click = {{click: null, paths: null, committed: null}});
  const start = () => {{ const i = {FIND_JS}.__optvizInstance, d = i && i.model
    && i.model.opts[0].path.data; return d ? d[0] + ',' + d[1] : ''; }};
  const before = start();
  document.addEventListener('click', () => {{ H.click = performance.now(); }},
                            {{capture: true, once: true}});
  const poll = () => {{
    const r = {FIND_JS}, s = r && r.__optviz && r.__optviz.state(), now = performance.now();
    if (H.click !== null && H.paths === null && start() !== before) H.paths = now;
    if (s && s.id !== old && s.drawn > 0) {{ H.committed = now; H.paths = H.paths ?? now; }}
    else requestAnimationFrame(poll);
  }};
  requestAnimationFrame(poll);
}}"""
# True once the script has not been running for ``quiet`` ms.
IDLE_JS = """(quiet) => {
  const app = document.querySelector('[data-testid=stApp]'), now = performance.now();
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') {
    window.__busyAt = now;
    return false;
  }
  return now - (window.__busyAt ?? 0) > quiet;
}"""
FPS_JS = f"""async ([stats, ms, every]) => {{
  const statsOf = stats ? eval(stats) : null, r = {FIND_JS};
  const frame = () => new Promise((res) => requestAnimationFrame(res));
  await frame();
  const a = r.__optviz.state(), t0 = performance.now(), samples = [];
  while (performance.now() - t0 < ms) {{
    await new Promise((res) => setTimeout(res, every));
    if (!statsOf) continue;
    await frame();  // right after a drawn frame
    const c = (n) => statsOf(r.querySelector(`[data-testid='ov-${{n}}']`));
    samples.push({{playing: r.__optviz.state().playing, surface: c('surface'), lr: c('lr'),
                  loss: c('loss')}});
  }}
  const b = r.__optviz.state();
  return {{fps: (b.drawn - a.drawn) / ((performance.now() - t0) / 1000), samples}};
}}"""


class Page:
    """A new context at ``url`` with INIT_JS; anything but the server is aborted and counted,
    page and console errors collected."""

    def __init__(self, browser: Any, url: str, outside: list[str], errors: list[str]):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        base, self.messages = url.split("?")[0], []

        def route(r: Any) -> None:
            if r.request.url.startswith(base):
                r.continue_()
            else:
                outside.append(r.request.url[:120])
                r.abort()

        self.context.route("**/*", route)
        self.context.add_init_script(INIT_JS)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        self.sent: list[int] = []
        self.timelines: list[dict] = []  # per change: TIMELINE_JS
        self.clicks = 0  # surface clicks so far

        def listen(ws: Any) -> None:
            ws.on("framereceived", lambda p: self.messages.append(len(p)))
            ws.on("framesent", lambda p: self.sent.append(len(p)))

        self.page.on("websocket", listen)
        self.page.goto(url, wait_until="commit")

    def loaded(self, timeout: float = 120_000) -> dict:
        """Page times (s) of the websocket opening and the first frame drawn while playing."""
        self.page.wait_for_function("() => window.__bench.ready !== null", timeout=timeout)
        self.idle()
        b = self.page.evaluate("window.__bench")
        return {"open": b["open"] / 1000, "ready": b["ready"] / 1000}

    def idle(self, quiet_ms: int = 300) -> None:
        self.page.evaluate("() => { window.__busyAt = performance.now(); }")
        self.page.wait_for_function(IDLE_JS, arg=quiet_ms, timeout=60_000)

    def change(self, key: str, kind: str) -> float:
        """One notch of ``kind``'s learning-rate slider: keydown to drawn, in s."""
        summary = self.page.locator("[data-testid='stSidebar'] summary").filter(
            has_text=f"{kind} · lr"
        )
        if summary.locator("xpath=..").get_attribute("open") is None:
            summary.click()  # opened once, the card stays open
        slider = summary.locator("xpath=..").locator("[data-testid='stSlider'] input").first
        slider.wait_for()
        self.idle()
        self.page.evaluate(ARM_JS, self.page.evaluate(f"() => {FIND_JS}.__optviz.state().id"))
        slider.focus()
        self.page.keyboard.press(key)
        self.page.wait_for_function("() => window.__change.drawn !== null", timeout=60_000)
        self.idle()
        h = self.page.evaluate(TIMELINE_JS)
        self.timelines.append(h)
        return (h["drawn"] - h["keydown"]) / 1000

    def live_drag(self, seconds: float) -> dict:
        """Drag the live learning-rate slider back and forth for ``seconds`` (page time)."""
        sizes = self.page.evaluate(
            f"""() => {{ const d = {FIND_JS}.__optvizInstance.data, all = JSON.stringify(d).length;
                 const fam = d.live && d.live.family ? JSON.stringify(d.live.family).length : 0;
                 return {{all, fam}}; }}"""
        )
        slider = self.page.get_by_role("slider", name=re.compile(r"^learning_rate \(live\)"))
        box = slider.bounding_box()
        y, x0, x1 = box["y"] + box["height"] / 2, box["x"] + 6, box["x"] + box["width"] - 6
        read = f"() => {{ const s = {FIND_JS}.__optviz.state(); "
        read += "return {t: performance.now(), applied: s.live.applied, moves: s.live.moves, "
        read += "drawn: s.drawn, "
        read += "costs: s.live.costs}; }"
        self.page.mouse.move(x0, y)
        sent = len(self.sent)
        self.page.mouse.down()
        a = self.page.evaluate(read)
        b, forth = a, True
        while b["t"] - a["t"] < seconds * 1000:
            self.page.mouse.move(x1 if forth else x0, y, steps=24)
            forth = not forth
            b = self.page.evaluate(read)
        during = len(self.sent) - sent
        self.page.mouse.up()
        self.idle()
        dt = (b["t"] - a["t"]) / 1000
        return {
            "swaps per s": (b["applied"] - a["applied"]) / dt,
            "moves per s": (b["moves"] - a["moves"]) / dt,
            "frames per s": (b["drawn"] - a["drawn"]) / dt,
            "swap ms": statistics.median(b["costs"]) if b["costs"] else float("nan"),
            "sent": during,
            "document MB": sizes["all"] / 1e6,
            "family KB": sizes["fam"] / 1e3,
        }

    def start_drag(self, steps: int) -> dict:
        """Drag the first start's marker ``steps`` times by a few pixels, each step answered and
        drawn before the next: per step, page times (ms) from the pointer event to the trigger
        sent, to the answer's websocket frame in, to the answer applied and to its frame drawn."""
        inst = f"{FIND_JS}.__optvizInstance"
        self.idle()
        sx, sy = self.page.evaluate(f"() => Array.from({inst}.model.opts[0].px[0].slice(0, 2))")
        box = self.page.locator("[data-testid='ov-surface']").bounding_box()
        old = self.page.evaluate(f"() => {FIND_JS}.__optviz.state().id")
        self.page.mouse.move(box["x"] + sx, box["y"] + sy)
        self.page.mouse.down()
        n0 = self.page.evaluate(f"() => {inst}.dragTrace.length")
        for k in range(1, steps + 1):
            self.page.mouse.move(box["x"] + sx + 7 * k, box["y"] + sy + 3 * k)
            self.page.wait_for_function(
                f"(n) => {inst}.dragTrace.length >= n && {inst}.dragTrace[n - 1].drawn !== null",
                arg=n0 + k,
                timeout=60_000,
            )
        trace = self.page.evaluate(f"() => {inst}.dragTrace.slice({n0})")
        b = self.page.evaluate("window.__bench")
        self.page.evaluate(ARM_JS, old)
        self.page.mouse.up()
        self.page.wait_for_function("() => window.__change.drawn !== null", timeout=60_000)
        self.idle()
        rows = []
        for q in trace:
            sent = next(t for t, _ in b["sent"] if t >= q["sent"])
            # the answer: the largest frame between the trigger and the answer applied
            frames = [(n, t) for t, n in b["received"] if sent <= t <= q["answered"]]
            first = min(t for _, t in frames)
            answer = max(frames)[1]
            rows.append(
                {
                    "pointer to sent": sent - q["pointer"],
                    "sent to first frame in": first - sent,
                    "sent to answer in": answer - sent,
                    "answer in to the animator called": q["answered"] - answer,
                    "the animator's swap and rebuild": q["applied"] - q["answered"],
                    "applied to drawn": q["drawn"] - q["applied"],
                    "pointer to drawn": q["drawn"] - q["pointer"],
                    "answer bytes": max(frames)[0],
                }
            )
        return {k: [r[k] for r in rows] for k in rows[0]}

    def surface_click(self, times: int) -> dict:
        """Click the surface ``times`` times (each moves the start): page times (ms) from the
        click to the first frame drawing paths from the new start, and to the first frame drawn
        from the committed document (a new id), and where they go."""
        st = self.page.evaluate(f"() => {FIND_JS}.__optviz.state()")
        box = self.page.locator("[data-testid='ov-surface']").bounding_box()
        p, out = st["plot"], []
        for k in range(self.clicks, self.clicks + times):  # every click somewhere new
            self.idle()
            self.page.evaluate(CLICK_JS, st["id"])
            fx, fy = (0.3, 0.6) if k % 2 else (0.6, 0.35)
            fx += 0.02 * (k % 10)
            self.page.mouse.click(box["x"] + p["x"] + fx * p["w"], box["y"] + p["y"] + fy * p["h"])
            self.page.wait_for_function(
                "() => window.__click.paths !== null && window.__click.committed !== null",
                timeout=60_000,
            )
            h, b = self.page.evaluate("[window.__click, window.__bench]")
            sent = [t for t, _ in b["sent"] if t >= h["click"]]
            frames = [(n, t) for t, n in b["received"] if sent and sent[0] <= t <= h["committed"]]
            big = max(frames) if frames else (0, h["committed"])
            out.append(
                {
                    "click to paths drawn": h["paths"] - h["click"],
                    "click to committed": h["committed"] - h["click"],
                    "click to sent": sent[0] - h["click"] if sent else float("nan"),
                    "sent to the largest frame in": big[1] - sent[0] if sent else float("nan"),
                    "largest frame in to drawn": h["committed"] - big[1],
                    "largest frame bytes": big[0],
                    "frames in": len(frames),
                }
            )
            st = self.page.evaluate(f"() => {FIND_JS}.__optviz.state()")
        self.idle()
        self.clicks += times
        return {k: [r[k] for r in out] for k in out[0]}

    def frame_rate(self, seconds: float) -> dict:
        self.page.wait_for_timeout(500)  # warm up
        plain = self.page.evaluate(FPS_JS, [None, seconds * 1000, 50])
        sampled = self.page.evaluate(FPS_JS, [CANVAS_STATS_JS, seconds * 1000, 250])
        panels = ("surface", "lr", "loss")
        blank = [
            p
            for s in sampled["samples"]
            for p in panels
            if not (s[p]["drawn"] > 0.1 and s[p]["std"] > 8)
        ]
        paused = sum(not s["playing"] for s in sampled["samples"])
        return {
            "fps": plain["fps"],
            "fps sampled": sampled["fps"],
            "samples": len(sampled["samples"]),
            "blank": len(blank),
            "paused": paused,
        }

    def three_d_rate(self, seconds: float) -> float:
        """Frames drawn per second on the 3-D tab (the animator with its 3-D panel), playing."""
        self.page.get_by_role("tab", name="3-D").click()
        self.page.wait_for_function(
            f"() => {{ const r = {FIND_JS}; return !!(r && r.__optviz && "
            "r.__optviz.state().surface3d); }",
            timeout=120_000,
        )
        self.idle()
        self.page.evaluate(f"() => {FIND_JS}.__optviz.play()")
        self.page.wait_for_timeout(500)  # warm up
        return self.page.evaluate(FPS_JS, [None, seconds * 1000, 50])["fps"]


# Arm a floor rerun: the next click's time, then the first frame where ``text`` is on the page.
FLOOR_JS = """(text) => {
  const H = (window.__floor = {click: null, seen: null});
  document.addEventListener('click', () => { H.click = performance.now(); },
                            {capture: true, once: true});
  const poll = () => {
    if (document.body.innerText.includes(text)) H.seen = performance.now();
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}"""


def floor(browser: Any, times: int) -> dict:
    """Streamlit's floor (benchmarks/fragment_floor.py): button click to the rerun's new text,
    for a fragment rerun and a whole-script rerun, in ms."""
    out: dict[str, list[float]] = {"fragment": [], "app": []}
    script = HERE / "fragment_floor.py"
    with streamlit_process(("-m", "streamlit", "run", str(script)), log_name="bench-floor") as srv:
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        page = context.new_page()
        page.goto(srv.url)
        page.get_by_text("app run 1").wait_for(timeout=60_000)
        for kind in ("fragment", "app"):
            for k in range(times + 1):
                n = page.evaluate(f"() => document.body.innerText.match(/{kind} run (\\d+)/)[1]")
                page.evaluate(FLOOR_JS, f"{kind} run {int(n) + 1}")
                page.get_by_role("button", name=f"{kind} rerun").click()
                page.wait_for_function("() => window.__floor.seen !== null", timeout=60_000)
                h = page.evaluate("window.__floor")
                if k:  # the first is a warm-up
                    out[kind].append(h["seen"] - h["click"])
        context.close()
    return out


def bench_drag(steps: int, log) -> dict:
    """Only the start drag, the surface click and Streamlit's floor (one fresh server)."""
    from playwright.sync_api import sync_playwright

    r: dict[str, Any] = {"outside": [], "errors": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        r["chromium"] = browser.version
        r["floor"] = floor(browser, steps)
        log(f"floor {r['floor']}")
        # without the background warm-up (app/warmup.py), which holds the engine's lock a run
        # at a time for minutes after the start: measured as a visitor meets it after that
        os.environ["OPTVIZ_BACKGROUND_WARMUP"] = "0"
        with streamlit_process(("-m", "app.serve"), log_name="bench-app", timeout=180) as srv:
            p = Page(browser, srv.url, r["outside"], r["errors"])
            p.loaded()
            p.surface_click(1)  # warm-up: the first answers of a session
            r["click"] = p.surface_click(steps)
            log(f"click {r['click']}")
            p.start_drag(2)
            r["drag"] = p.start_drag(steps)
            log(f"drag {r['drag']}")
            p.context.close()
        browser.close()
    return r


def pct(xs: list[float], q: float) -> float:
    return float(statistics.quantiles(xs, n=10, method="inclusive")[int(q * 10) - 1])


def drag_tables(r: dict, info: dict) -> str:
    """The start drag's timeline (p50 / p90 per phase) against Streamlit's floor."""
    d, fl, p50 = r["drag"], r["floor"], statistics.median
    f50 = statistics.median(fl["fragment"])
    a50 = statistics.median(fl["app"])
    c = r["click"]

    def row(name: str, xs: list[float], target: str = "", unit: str = "ms") -> tuple[str, str, str]:
        return name, f"{p50(xs):.0f} / {pct(xs, 0.9):.0f} {unit} (n = {len(xs)})", target

    rows = [
        row("start drag: pointer event to the answer drawn", d["pointer to drawn"], "<= 150 ms"),
        row("... pointer event to the trigger sent", d["pointer to sent"]),
        row("... trigger sent to the first frame back", d["sent to first frame in"]),
        row("... trigger sent to the answer's frame in (server)", d["sent to answer in"]),
        row(
            "... answer in to the animator called (Streamlit's frontend)",
            d["answer in to the animator called"],
        ),
        row("... the animator's swap and static layers", d["the animator's swap and rebuild"]),
        row("... applied to the frame drawn", d["applied to drawn"]),
        row(
            "start drag: the answer's websocket frame",
            [b / 1e3 for b in d["answer bytes"]],
            unit="KB",
        ),
        row("Streamlit floor: a fragment rerun (click to new text)", fl["fragment"]),
        ("start drag p50 / fragment floor p50", f"{p50(d['pointer to drawn']) / f50:.2f}", ""),
        row(
            "click on the surface (moves the start) to the new paths drawn",
            c["click to paths drawn"],
            "<= 150 ms",
        ),
        row("click to the committed document drawn", c["click to committed"]),
        row("... click to the first trigger sent", c["click to sent"]),
        row("... first trigger sent to the largest frame in", c["sent to the largest frame in"]),
        row("... largest frame in to the committed document drawn", c["largest frame in to drawn"]),
        row(
            "click: the largest websocket frame",
            [b / 1e3 for b in c["largest frame bytes"]],
            unit="KB",
        ),
        row("Streamlit floor: a whole-script rerun (click to new text)", fl["app"]),
        (
            "click to new paths p50 / fragment floor p50",
            f"{p50(c['click to paths drawn']) / f50:.2f}",
            "",
        ),
        (
            "click to committed p50 / whole-script floor p50",
            f"{p50(c['click to committed']) / a50:.2f}",
            "",
        ),
        ("page and console errors", "; ".join(r["errors"])[:300] or "0", "0"),
    ]
    lines = ["# App benchmark: start drag and click", "", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += ["", "| figure | p50 / p90 | target |", "|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows]) + "\n"


def bench(
    cold: int, warm: int, changes: int, seconds: float, plain: bool, log, notch: bool = False
) -> dict:
    from playwright.sync_api import sync_playwright

    launcher = ("-m", "streamlit", "run", "app/main.py") if plain else ("-m", "app.serve")
    r: dict[str, Any] = {"cold": [], "warm": [], "health": [], "outside": [], "errors": []}
    with sync_playwright() as pw:
        if chromium_path() is None:
            raise RuntimeError("no chromium (apt-get install -y chromium)")
        browser = pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        r["chromium"] = browser.version
        for i in range(cold):
            with streamlit_process(launcher, log_name="bench-app", timeout=180) as srv:
                r["health"].append(srv.health_s)
                p = Page(browser, srv.url, r["outside"], r["errors"])
                r["cold"].append(p.loaded())
                p.context.close()
                log(f"cold {i + 1}/{cold}: {r['cold'][-1]}")
                if i < cold - 1:
                    continue
                for j in range(warm):
                    p = Page(browser, srv.url, r["outside"], r["errors"])
                    r["warm"].append(p.loaded())
                    log(f"warm {j + 1}/{warm}: {r['warm'][-1]}")
                    if j < warm - 1:
                        p.context.close()
                r["document MB"] = p.page.evaluate(
                    f"() => JSON.stringify({FIND_JS}.__optvizInstance.data).length / 1e6"
                )
                r["message MB"] = max(p.messages) / 1e6
                if not notch:
                    r["fps"] = p.frame_rate(seconds)
                    log(f"fps {r['fps']}")
                    r["live"] = p.live_drag(seconds)
                    log(f"live drag {r['live']}")
                r["new"] = [p.change("ArrowRight", "SGD") for _ in range(changes)]
                r["cached"] = [p.change("ArrowLeft", "SGD") for _ in range(changes)]
                r["timelines playing"] = p.timelines[:]
                p.page.locator("[data-testid='ov-play']").click()
                p.idle()
                r["paused new"] = [p.change("ArrowRight", "Adam") for _ in range(changes)]
                r["paused cached"] = [p.change("ArrowLeft", "Adam") for _ in range(changes)]
                r["timelines paused"] = p.timelines[len(r["timelines playing"]) :]
                r["stayed paused"] = not p.page.evaluate(
                    f"() => {FIND_JS}.__optviz.state().playing"
                )
                log(f"changes {[r[k] for k in ('new', 'cached', 'paused new', 'paused cached')]}")
                r["fps 3-D"] = p.three_d_rate(seconds)
                log(f"fps 3-D tab {r['fps 3-D']:.1f}")
                p.context.close()
        browser.close()
    return r


def spread(xs: list[float], unit: str = "s") -> str:
    return f"{statistics.median(xs):.2f} {unit} ({min(xs):.2f} – {max(xs):.2f}, n = {len(xs)})"


def split(timelines: list[dict]) -> str:
    """Medians (ms) of where the changes' time went: keydown to the rerun request, request to
    the first message back (the script's start), first message to the animator's (the
    script's run and the transfer), that message to the animator's render (Streamlit's page),
    render to its return (the animator: patch, decode, build), return to the frame drawn."""
    steps = [
        ("keydown", "sent", "to request"),
        ("sent", "first", "to first reply"),
        ("first", "largest", "to the animator's message"),
        ("largest", "render", "to render"),
        ("render", "rendered", "render"),
        ("rendered", "drawn", "to drawn"),
    ]
    out = []
    for a, b, name in steps:
        xs = [t[b] - t[a] for t in timelines if t.get(a) is not None and t.get(b) is not None]
        out.append(f"{name} {statistics.median(xs):.0f}" if xs else f"{name} -")
    return " · ".join(out) + f" ms (n = {len(timelines)})"


def message_kb(timelines: list[dict]) -> str:
    xs = [t["largest_bytes"] / 1e3 for t in timelines if t.get("largest_bytes")]
    return spread(xs, "KB") if xs else "-"


def tables(r: dict, info: dict) -> str:
    notch = "fps" not in r
    fps = r.get("fps") or {"fps": 0.0, "fps sampled": 0.0, "blank": 0, "paused": 0, "samples": 0}
    live = r.get("live") or {
        "frames per s": 0.0, "moves per s": 0.0, "swaps per s": 0.0, "swap ms": 0.0,
        "sent": 0, "document MB": r["document MB"], "family KB": 0.0,
    }  # fmt: skip
    timed = r["timelines playing"] + r["timelines paused"]
    changes = [
        ("... where a change's time went (medians)", split(timed), ""),
        (
            "... the largest message a change brings, playing / paused",
            f"{message_kb(r['timelines playing'])} / {message_kb(r['timelines paused'])}",
            "< 1/3 of the whole message",
        ),
    ]
    rows = [
        (
            "cold load, navigation to the first frame playing",
            spread([b["ready"] for b in r["cold"]]),
            "< 4 s",
        ),
        ("... of which until the websocket opens", spread([b["open"] for b in r["cold"]]), ""),
        ("warm load (new session, same server)", spread([b["ready"] for b in r["warm"]]), "< 2 s"),
        ("... of which until the websocket opens", spread([b["open"] for b in r["warm"]]), ""),
        ("server start to healthy", spread(r["health"]), ""),
        ("change, new value, playing", spread(r["new"]), "< 0.5 s"),
        ("change, cached value, playing", spread(r["cached"]), "< 0.5 s"),
        ("change, new value, paused", spread(r["paused new"]), "< 0.5 s"),
        ("change, cached value, paused", spread(r["paused cached"]), "< 0.5 s"),
        ("paused changes left the animation paused", str(r["stayed paused"]), "True"),
        *changes,
        (
            "frames drawn per second",
            f"{fps['fps']:.1f} ({fps['fps sampled']:.1f} while sampling pixels every 250 ms)",
            ">= 30",
        ),
        ("frames drawn per second, 3-D tab (2-D and 3-D panels)", f"{r['fps 3-D']:.1f}", ">= 30"),
        (
            "sampled frames: blank panels / not playing",
            f"{fps['blank']} / {fps['paused']} of {fps['samples']} samples",
            "0",
        ),
        ("payload: the animator's document (JSON)", f"{r['document MB']:.3f} MB", "< 1 MB"),
        (
            "... of which the live family of runs (JSON)",
            f"{live['family KB']:.0f} KB (document without it: "
            f"{live['document MB'] - live['family KB'] / 1e3:.3f} MB)",
            "<= 150 KB",
        ),
        (
            "live drag: frames drawn / slider value changes / members drawn, per second",
            f"{live['frames per s']:.1f} / {live['moves per s']:.1f} / {live['swaps per s']:.1f} "
            f"(a swap and redraw of the layers: {live['swap ms']:.1f} ms median)",
            "each change drawn on the next frame",
        ),
        ("live drag: messages sent between pointer-down and release", str(live["sent"]), "0"),
        ("the largest websocket message", f"{r['message MB']:.3f} MB", ""),
        ("requests that tried to leave 127.0.0.1", str(len(r["outside"])), "0"),
        ("page and console errors", "; ".join(r["errors"])[:300] or "0", "0"),
    ]
    lines = ["# App benchmark: tables", "", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    if notch:  # --notch: only the changes were measured
        keep = ("change", "paused", "...", "the largest", "page and")
        rows = [row for row in rows if row[0].startswith(keep) and "live family" not in row[0]]
    lines += ["", "| figure | measured: median (min – max, n) | target |", "|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 cold, 2 warm, 2 changes, 2 s")
    ap.add_argument("--cold", type=int)
    ap.add_argument("--warm", type=int)
    ap.add_argument("--changes", type=int)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--plain", action="store_true", help="`streamlit run app/main.py` servers")
    ap.add_argument(
        "--notch", action="store_true", help="only the changes (one server, one page; no fps)"
    )
    ap.add_argument(
        "--drag", type=int, metavar="N",
        help="only the start drag (N steps), N surface clicks and Streamlit's floor",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, help="default: APP_RESULTS.md (--quick: artifacts/)")
    a = ap.parse_args()
    base = (1, 2, 2, 2.0) if a.quick else (3, 5, 5, 3.0)
    if a.notch:
        base = (1, 1, 5, 2.0)
    given = (a.cold, a.warm, a.changes, a.seconds)
    cold, warm, changes, seconds = (g or b for g, b in zip(given, base, strict=True))
    t0, load0 = time.perf_counter(), loadavg()
    info = {
        **describe(("streamlit", "jax", "playwright")),
        "code": git_revision("app", "trajectories"),
        "date": now(),
    }
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if a.drag:
        r = bench_drag(a.drag, log)
    else:
        r = bench(cold, warm, changes, seconds, a.plain, log, notch=a.notch)
    info.update(
        {
            "chromium": r["chromium"],
            "load average (1/5/15 min)": f"{load0} at start, {loadavg()} at end",
            "server": "streamlit run app/main.py" if a.plain else "python -m app.serve",
            "run": f"{'notch' if a.notch else 'quick' if a.quick else 'full'}, "
            f"{(time.perf_counter() - t0) / 60:.1f} min",
        }
    )
    text = drag_tables(r, info) if a.drag else tables(r, info)
    out = a.out or ROOT / (
        "artifacts/APP_DRAG.md"
        if a.drag
        else "artifacts/APP_RESULTS_quick.md"
        if a.quick or a.notch
        else "benchmarks/APP_RESULTS.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
