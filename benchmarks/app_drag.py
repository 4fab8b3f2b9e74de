"""The start drag and the surface click in headless chromium, against Streamlit's own floor.

    PYTHONPATH=. .venv/bin/python benchmarks/app_drag.py [--steps N] [--out FILE]

One fresh ``python -m app.serve`` without its background warm-up (whose runs hold the engine's
lock for minutes after a start): the first start's marker dragged N steps, each answered and
drawn before the next; per step, page times from the pointer event to the trigger sent, the
answer's websocket frame in, the animator called, its swap and the frame drawn (``dragTrace``
in app/animator/drag.js, the websocket's frames). Then N clicks on the surface: click to the new
paths drawn, and to the committed document drawn. Streamlit's floor from
benchmarks/fragment_floor.py in the same run: a fragment's and a whole script's rerun, click to
new text. Written to artifacts/APP_DRAG.md. The page's other figures: benchmarks/app.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# As in benchmarks/app.py: the repository's root first, so that the app package is found.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from benchmarks.app import ARM_JS, FIND_JS, LAUNCH_ARGS, Page, floor  # noqa: E402
from benchmarks.machine import describe, git_revision, loadavg, now  # noqa: E402
from tests.browser import chromium_path, streamlit_process  # noqa: E402

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


class DragPage(Page):
    """The page, with the start drag and the surface click."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.clicks = 0  # surface clicks so far

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


def bench(steps: int, log) -> dict:
    """Only the start drag, the surface click and Streamlit's floor (one fresh server)."""
    from playwright.sync_api import sync_playwright

    r: dict[str, Any] = {"outside": [], "errors": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        r["chromium"] = browser.version
        r["floor"] = floor(browser, steps)
        log(f"floor {r['floor']}")
        # without the background warm-up (app/warmup.py), which holds the engine's lock a run
        # at a time for minutes after the start: measured as a visitor meets it after that
        os.environ["OPTVIZ_BACKGROUND_WARMUP"] = "0"
        with streamlit_process(("-m", "app.serve"), log_name="bench-app", timeout=180) as srv:
            p = DragPage(browser, srv.url, r["outside"], r["errors"])
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
    d, c, fl, p50 = r["drag"], r["click"], r["floor"], statistics.median

    def row(name: str, xs: list[float], target: str = "", unit: str = "ms") -> tuple[str, str, str]:
        return name, f"{p50(xs):.0f} / {pct(xs, 0.9):.0f} {unit} (n = {len(xs)})", target

    def kb(name: str, sizes: list[float]) -> tuple[str, str, str]:
        return row(name, [b / 1e3 for b in sizes], unit="KB")

    def ratio(name: str, xs: list[float], floor_ms: list[float]) -> tuple[str, str, str]:
        return name, f"{p50(xs) / p50(floor_ms):.2f}", ""

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
        kb("start drag: the answer's websocket frame", d["answer bytes"]),
        row("Streamlit floor: a fragment rerun (click to new text)", fl["fragment"]),
        ratio("start drag p50 / fragment floor p50", d["pointer to drawn"], fl["fragment"]),
        row(
            "click on the surface (moves the start) to the new paths drawn",
            c["click to paths drawn"],
            "<= 150 ms",
        ),
        row("click to the committed document drawn", c["click to committed"]),
        row("... click to the first trigger sent", c["click to sent"]),
        row("... first trigger sent to the largest frame in", c["sent to the largest frame in"]),
        row("... largest frame in to the committed document drawn", c["largest frame in to drawn"]),
        kb("click: the largest websocket frame", c["largest frame bytes"]),
        row("Streamlit floor: a whole-script rerun (click to new text)", fl["app"]),
        ratio(
            "click to new paths p50 / fragment floor p50", c["click to paths drawn"], fl["fragment"]
        ),
        ratio(
            "click to committed p50 / whole-script floor p50", c["click to committed"], fl["app"]
        ),
        ("page and console errors", "; ".join(r["errors"])[:300] or "0", "0"),
    ]
    lines = ["# App benchmark: start drag and click", "", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += ["", "| figure | p50 / p90 | target |", "|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=8, help="drag steps, and clicks (default 8)")
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts/APP_DRAG.md")
    a = ap.parse_args()
    t0, load0 = time.perf_counter(), loadavg()
    info = {
        **describe(("streamlit", "jax", "playwright")),
        "code": git_revision("app", "trajectories"),
        "date": now(),
    }
    r = bench(a.steps, lambda m: print(m, file=sys.stderr, flush=True))
    info.update(
        {
            "chromium": r["chromium"],
            "load average (1/5/15 min)": f"{load0} at start, {loadavg()} at end",
            "server": "python -m app.serve",
            "run": f"drag {a.steps}, {(time.perf_counter() - t0) / 60:.1f} min",
        }
    )
    text = drag_tables(r, info)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
