"""The web app in headless chromium: loads, a hyperparameter change, a new surface, frame
rate, payload.

    PYTHONPATH=. .venv/bin/python benchmarks/app.py [--quick | --notch] [--plain] [--repo DIR]
        [--out FILE]

Targets: the default scene from page load to an animated chart under 4 s cold and 2 s warm; the
updated chart within 0.5 s of one hyperparameter change; 30 fps or more with every panel drawn
in every sampled frame; the figure payload under 1 MB. On loopback only (see the end).

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
  patch after the first mount, app/doc_patch.py). ``--notch``: the loads, these and a new
  surface, on one server, no frame rates (start it with ``OPTVIZ_BACKGROUND_WARMUP=0`` so that
  the warm-up's compiles do not hold the engine during the new values). Streamlit's floor in
  the same run (benchmarks/fragment_floor.py): a near-empty whole-script rerun and one of a page
  with as many sidebar widgets as the app had, click to new text.
* **frame rate**: frames drawn per second over ``--seconds``, then again while sampling the
  surface, learning-rate and loss canvases every 250 ms (each must be non-blank).
* **payload**: the animator's document as JSON, and the largest websocket message.
* **live drag**: the animator's ``learning_rate (live)`` slider dragged back and forth with the
  mouse for ``--seconds``: members swapped in (and drawn) per second, what one swap costs, and
  the websocket messages the page sent between pointer-down and release (0 by design); the
  document's size with and without its family of runs.
* **new surface**: a surface this server never computed picked in the sidebar's "Loss surface"
  box (``--surfaces`` times, a different one each time, paused): the pointer pressing the
  option to the first frame drawn from the new document (its kernels compiled, run, encoded).
  The background warm-up (app/warmup.py) compiles other scenes; run without it
  (``OPTVIZ_BACKGROUND_WARMUP=0``) to time a visitor who meets it idle.
* ``--repo PATH``: serve another checkout's app (e.g. the base branch) with this script, to
  compare two versions in the same minutes.

The start drag and the surface click: benchmarks/app_drag.py.

Outside requests are counted from the page's request events (nothing is intercepted: a route
handler in the benchmark's process slowed every one of a page's ~100 requests) and cannot leave
the machine (chromium resolves no host but 127.0.0.1).

Prints and writes (``--out``) tables only.
"""

from __future__ import annotations

import argparse
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

# No host but the server's resolves: nothing a page asks for can leave the machine.
LAUNCH_ARGS = [*ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

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
# Arm a change: the next ``event``'s time (a keydown unless named), then the first frame drawn
# from a document whose id is not ``old``.
ARM_JS = f"""(old, event = 'keydown') => {{
  if (Array.isArray(old)) [old, event] = old;
  const H = (window.__change = {{keydown: null, drawn: null}});
  document.addEventListener(event, () => {{ H.keydown = performance.now(); }},
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
    """A new context at ``url`` with INIT_JS; requests to anywhere but the server counted (the
    browser, launched with LAUNCH_ARGS, resolves no other host), page and console errors
    collected."""

    def __init__(self, browser: Any, url: str, outside: list[str], errors: list[str]):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        base, self.messages = url.split("?")[0], []
        # a passive listener: a route handler would hold every request until this process
        # answered it (about 0.3 s of a warm load here)
        self.context.on(
            "request",
            lambda q: None if q.url.startswith(base) else outside.append(q.url[:120]),
        )
        self.context.add_init_script(INIT_JS)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        self.sent: list[int] = []
        self.timelines: list[dict] = []  # per change: TIMELINE_JS
        self.surface_timelines: list[dict] = []  # per new surface: TIMELINE_JS

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
        slider.focus()
        h = self.timed("keydown", lambda: self.page.keyboard.press(key))
        self.timelines.append(h)
        return (h["drawn"] - h["keydown"]) / 1000

    def new_surface(self, title: str) -> float:
        """Pick the surface titled ``title`` in the sidebar: the pointer pressing its option to
        the first frame drawn from the new document, in s."""
        box = self.page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
            has_text="Loss surface"
        )
        self.idle()
        box.locator("input").click()
        self.page.keyboard.type(title)  # the list shows what matches
        option = self.page.get_by_role("option", name=re.compile(rf"^{re.escape(title)} ·"))
        option.wait_for()
        h = self.timed("pointerdown", option.click)
        self.surface_timelines.append(h)
        return (h["drawn"] - h["keydown"]) / 1000

    def timed(self, event: str, act: Any) -> dict:
        """``act()``, then wait for a new document drawn: TIMELINE_JS from the first ``event``."""
        self.page.evaluate(
            ARM_JS, [self.page.evaluate(f"() => {FIND_JS}.__optviz.state().id"), event]
        )
        act()
        self.page.wait_for_function("() => window.__change.drawn !== null", timeout=120_000)
        self.idle()
        return self.page.evaluate(TIMELINE_JS)

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


def floor(browser: Any, times: int, widgets: int = 0) -> dict:
    """Streamlit's floor (benchmarks/fragment_floor.py): button click to the rerun's new text,
    for a fragment rerun and a whole-script rerun, in ms; with ``widgets``, also a whole-script
    rerun of a page with that many widgets in its sidebar (``app, N widgets``)."""
    out: dict[str, list[float]] = {}
    script = HERE / "fragment_floor.py"
    with streamlit_process(("-m", "streamlit", "run", str(script)), log_name="bench-floor") as srv:
        pages = [("", ("fragment", "app"))] + [(f"?widgets={widgets}", ("app",))] * bool(widgets)
        for query, kinds in pages:
            context = browser.new_context(viewport={"width": 1000, "height": 700})
            page = context.new_page()
            page.goto(srv.url + query)
            page.get_by_text("app run 1").wait_for(timeout=60_000)
            for kind in kinds:
                name = f"app, {widgets} widgets" if query else kind
                out[name] = _floor_runs(page, kind, times)
            context.close()
    return out


def _floor_runs(page: Any, kind: str, times: int) -> list[float]:
    """``times`` clicks on the ``kind`` rerun button (after one warm-up): click to new text."""
    out = []
    for k in range(times + 1):
        n = page.evaluate(f"() => document.body.innerText.match(/{kind} run (\\d+)/)[1]")
        page.evaluate(FLOOR_JS, f"{kind} run {int(n) + 1}")
        page.get_by_role("button", name=f"{kind} rerun").click()
        page.wait_for_function("() => window.__floor.seen !== null", timeout=60_000)
        h = page.evaluate("window.__floor")
        if k:  # the first is a warm-up
            out.append(h["seen"] - h["click"])
    return out


# Surfaces for the "new surface" row, one per repeat, none of them computed before (the server
# computes the default scene's and Beale's before it answers: app/serve.py): the classic 2-D
# ones, in the registry's order. All but Rosenbrock share the switch's kernels
# (surfaces/classic_switch.py), so what this row times is a scene that compiles nothing.
NEW_SURFACES = (
    "Himmelblau", "Booth", "Matyas", "Three-hump camel", "Six-hump camel",
    "Goldstein–Price", "Ackley", "Styblinski–Tang", "Saddle", "Monkey saddle",
)  # fmt: skip


def bench(
    cold: int,
    warm: int,
    changes: int,
    seconds: float,
    plain: bool,
    log,
    notch: bool = False,
    new_surfaces: int = 5,
    repo: Path = ROOT,
) -> dict:
    from playwright.sync_api import sync_playwright

    launcher = ("-m", "streamlit", "run", "app/main.py") if plain else ("-m", "app.serve")
    where = {"cwd": repo, "pythonpath": (repo,)}
    r: dict[str, Any] = {"cold": [], "warm": [], "health": [], "outside": [], "errors": []}
    with sync_playwright() as pw:
        if chromium_path() is None:
            raise RuntimeError("no chromium (apt-get install -y chromium)")
        browser = pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        r["chromium"] = browser.version
        for i in range(cold):
            with streamlit_process(launcher, log_name="bench-app", timeout=180, **where) as srv:
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
                r["sidebar elements"] = p.page.evaluate(
                    "() => document.querySelectorAll("
                    "'[data-testid=stSidebar] [data-testid=stElementContainer]').length"
                )
                r["new surface"] = [p.new_surface(t) for t in NEW_SURFACES[:new_surfaces]]
                r["timelines new surface"] = p.surface_timelines
                log(f"new surfaces {r['new surface']}")
                r["fps 3-D"] = p.three_d_rate(seconds)
                log(f"fps 3-D tab {r['fps 3-D']:.1f}")
                p.context.close()
        # Streamlit's floor in the same minutes: a near-empty rerun, and one of a page with as
        # many widgets in its sidebar as the app's had during the changes
        r["floor"] = floor(browser, changes, r["sidebar elements"])
        log(f"floor {r['floor']}")
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
    n_widgets, floor_s = (
        r["sidebar elements"],
        {k: [t / 1e3 for t in v] for k, v in r["floor"].items()},
    )
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
            "Streamlit's floor: a whole-script rerun, near empty / with as many sidebar widgets"
            f" ({n_widgets}), click to new text",
            f"{spread(floor_s['app'])} / {spread(floor_s[f'app, {n_widgets} widgets'])}",
            "",
        ),
        (
            "new surface (never computed in this server), paused",
            spread(r["new surface"]),
            "<= 0.5 s",
        ),
        ("... where its time went (medians)", split(r["timelines new surface"]), ""),
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
    if notch:  # --notch: no frame rates, no live drag
        unmeasured = ("frames drawn", "sampled frames", "payload", "live drag", "... of which the")
        rows = [row for row in rows if not row[0].startswith(unmeasured)]
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
        "--surfaces", type=int, default=5,
        help=f"new surfaces picked (at most {len(NEW_SURFACES)}; default 5)",
    )  # fmt: skip
    ap.add_argument("--repo", type=Path, default=ROOT, help="the checkout served (default: this)")
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
        "code": git_revision("app", "trajectories", repo=a.repo.resolve()),
        "date": now(),
    }
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    r = bench(
        cold, warm, changes, seconds, a.plain, log, a.notch, min(a.surfaces, len(NEW_SURFACES)),
        a.repo.resolve(),
    )  # fmt: skip
    info.update(
        {
            "chromium": r["chromium"],
            "load average (1/5/15 min)": f"{load0} at start, {loadavg()} at end",
            "server": "streamlit run app/main.py" if a.plain else "python -m app.serve",
            "run": f"{'notch' if a.notch else 'quick' if a.quick else 'full'}, "
            f"{(time.perf_counter() - t0) / 60:.1f} min",
        }
    )
    text = tables(r, info)
    out = a.out or ROOT / (
        "artifacts/APP_RESULTS_quick.md" if a.quick or a.notch else "benchmarks/APP_RESULTS.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
