"""Browser sessions on one app server, checked against the engine (benchmarks/load.py and
tests/test_load.py).

A scene opens from its share link in its own browser context (its own Streamlit session). What
the page plots (the animator's decoded ``path`` arrays) must equal ``trajectories.run`` of the
scene projected to the view, to float32 tolerance. Every context sends anything that is not
loopback to a closed loopback port, and every request a page makes is recorded.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from app import share
from trajectories import Experiment, OptimizerSpec

GUARD_PROXY = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"}
SOAK_SEEDS = (1, 2, 3, 4)
SOAK_MARGIN_MIB = 16.0  # RSS growth allowed over the soak's reruns after its warm-up
FIND_JS = """const __find = () => {
  for (const h of document.querySelectorAll('[data-testid=stBidiComponentIsolated]')) {
    const r = h.shadowRoot && h.shadowRoot.querySelector('.optviz');
    if (r) return r;
  }
  return null;
};"""
# Notes (page time, ms since navigation) when the chart is first drawn.
INIT_JS = f"""(() => {{ if (window.top !== window) return; {FIND_JS}
  const tick = () => {{
    try {{
      const r = __find(), s = r && r.__optviz && r.__optviz.state();
      if (s && s.imageReady && s.drawn >= 1) {{ window.__drawnAt = performance.now(); return; }}
    }} catch (e) {{}}
    setTimeout(tick, 50);
  }};
  setTimeout(tick, 50);
}})();"""
READ_JS = f"""() => {{ {FIND_JS}
  const r = __find(), i = r && r.__optvizInstance;
  if (!i || !i.model) return null;
  return {{id: i.id, search: location.search,
    paths: i.model.opts.map((o) => o.path &&
                            {{shape: o.path.shape, data: Array.from(o.path.data)}})}};
}}"""
# True once the rerun for ``seed`` is over: new document drawn, URL updated, script finished.
RERUN_DONE_JS = f"""([previous, seed]) => {{ {FIND_JS}
  const r = __find(), i = r && r.__optvizInstance, s = i && i.alive && r.__optviz.state();
  const app = document.querySelector("[data-testid='stApp']");
  return !!(s && i.id !== previous && s.drawn >= 1 && app &&
    app.getAttribute('data-test-script-state') === 'notRunning' &&
    new URLSearchParams(location.search).get('seed') === String(seed));
}}"""


def link(e: Experiment) -> str:
    """The scene's share link query, opening paused at frame 0 (twenty animating canvases would
    take the cores from the server being measured)."""
    return share.query_string(share.Scene(e, frame=0))


def decoded(query: str) -> Experiment:
    """What the app reads from a link."""
    scene, warnings = share.decode(parse_qs(query, keep_blank_values=True))
    if warnings:
        raise ValueError(f"the link {query!r} does not decode cleanly: {warnings}")
    return scene.experiment


def soak_scene(seed: int = SOAK_SEEDS[0]) -> Experiment:
    return Experiment(
        surface="himmelblau",
        optimizers=(
            OptimizerSpec("Adam", {"learning_rate": 0.1}),
            OptimizerSpec("Momentum", {"learning_rate": 1e-3}),
        ),
        starts=((1.0, -2.0),),
        steps=300,
        noise=0.3,
        seed=seed,
    )


def reference(e: Experiment) -> list[np.ndarray]:
    """``trajectories.run(e)``'s positions in the 2-D view, float32 (as the payload sends),
    one ``(starts, records, 2)`` array per optimizer instance."""
    from trajectories import run

    r = run(e)
    return [np.asarray(r.surface.project(p), np.float32) for p in r.position]


def differ(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) != len(b) or any(
        x.shape != y.shape or not np.allclose(x, y, equal_nan=True)
        for x, y in zip(a, b, strict=True)
    )


def compare(got: dict | None, ref: list[np.ndarray]) -> tuple[bool, float, str]:
    """Plotted paths vs the engine's: ``(ok, max abs error, why not)``."""
    paths = (got or {}).get("paths")
    if paths is None or len(paths) != len(ref):
        return False, math.inf, f"{0 if paths is None else len(paths)} paths, not {len(ref)}"
    worst = 0.0
    for k, (spec, want) in enumerate(zip(paths, ref, strict=True)):
        have = None if spec is None else np.asarray(spec["data"], np.float64).reshape(spec["shape"])
        if have is None or have.shape != want.shape:
            return False, math.inf, f"path {k}: {None if have is None else have.shape}"
        want64 = want.astype(np.float64)
        nan = np.isnan(want64)
        if not np.array_equal(nan, np.isnan(have)):
            return False, math.inf, f"path {k}: NaNs differ"
        err = np.abs(have - want64)[~nan]
        worst = max(worst, float(err.max()) if err.size else 0.0)
        if np.any(err > 1e-5 * np.maximum(1.0, np.abs(want64[~nan]))):  # float32: ~7 digits
            return False, worst, f"path {k}: differs by up to {worst:.3g}"
    return True, worst, ""


class Session:
    """One browser context on ``url?query``; ``start()`` navigates."""

    def __init__(self, browser: Any, url: str, query: str):
        self.url, self.query = url, query
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, proxy=GUARD_PROXY
        )
        self.context.add_init_script(INIT_JS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.started, self.drawn_s = math.nan, None
        self.page.on("request", lambda r: self.requests.append(r.url[:200]))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def start(self) -> None:
        """Navigate without waiting for the answer (many sessions start within a moment)."""
        self.started = time.monotonic()
        self.page.evaluate(
            "(u) => { setTimeout(() => { location.href = u; }, 0); }", f"{self.url}?{self.query}"
        )

    @property
    def foreign(self) -> list[str]:
        local = (self.url, self.url.replace("http", "ws", 1), "data:", "blob:", "about:")
        return [u for u in self.requests if not u.startswith(local)]

    def read(self) -> dict | None:
        return self.page.evaluate(READ_JS)

    def check(self, ref: list[np.ndarray]) -> dict:
        """Drawn, equal to ``ref``, the URL still this scene's link, nothing sent elsewhere."""
        got = None if self.drawn_s is None else self.read()
        _, err, why = compare(got, ref) if got else (False, math.inf, "no chart drawn")
        kept = got is not None and parse_qs(got["search"].lstrip("?")) == parse_qs(self.query)
        if not why and not kept:
            why = f"the URL became {got['search'][:120]!r}"
        if not why and self.foreign:
            why = f"requests left the server: {self.foreign[:3]}"
        return {
            "ok": not why,
            "max_err": err,
            "why": why,
            "drawn_s": self.drawn_s,
            "doc_id": got and got["id"],
            "started": self.started,
            "errors": self.errors,
            "foreign": self.foreign,
        }

    def close(self) -> None:
        try:
            self.context.close()
        except Exception as err:  # a crashed page must not hide the other results
            self.errors.append(f"close: {err}")


def wait_drawn(sessions: Sequence[Session], timeout: float) -> None:
    """Until every chart is drawn (``drawn_s``: navigation to drawn, page time) or timeout."""
    deadline, pending = time.monotonic() + timeout, list(sessions)
    while pending and time.monotonic() < deadline:
        for s in list(pending):
            try:
                at = s.page.evaluate("window.__drawnAt ?? null")
            except Exception as err:  # the page navigated during the call: ask again
                if "destroyed" not in str(err) and "navigat" not in str(err):
                    s.errors.append(f"evaluate: {str(err)[:200]}")
                    pending.remove(s)
                continue
            if at is not None and s.page.url.startswith(s.url):
                s.drawn_s = at / 1000
                pending.remove(s)
        if pending:
            pending[0].page.wait_for_timeout(200)  # lets Playwright deliver events meanwhile


def concurrent(browser, url, scenes, refs, timeout: float, before_close=None) -> list[dict]:
    """One session per scene, all navigating at once; each checked against its reference;
    ``before_close()`` runs while they are still open."""
    sessions = [Session(browser, url, link(e)) for e in scenes]  # renderers start: slow
    try:
        for s in sessions:
            s.start()
        wait_drawn(sessions, timeout)
        results = [s.check(ref) for s, ref in zip(sessions, refs, strict=True)]
        if before_close is not None:
            before_close()
        return results
    finally:
        for s in sessions:
            s.close()


def rerun_seed(page: Any, seed: int, previous_id: str, timeout: float = 60.0) -> str:
    """Type ``seed`` into the sidebar's Seed input, Enter; wait for that run; its document id."""
    box = page.get_by_label("Seed", exact=True)
    box.fill(str(seed), timeout=timeout * 1000)
    box.press("Enter", timeout=timeout * 1000)
    page.wait_for_function(
        RERUN_DONE_JS, arg=[previous_id, seed], polling=50, timeout=timeout * 1000
    )
    return page.evaluate(READ_JS)["id"]


def soak(browser, url, pid: int, reruns: int, refs: dict, every: int, deadline: float) -> dict:
    """``reruns`` reruns of one session over ``SOAK_SEEDS``; before the first and every
    ``every``-th: the server's RSS and the plotted paths checked against ``refs[seed]``."""
    out: dict[str, Any] = {"reruns": 0, "seconds": [], "samples": [], "checks": [], "error": ""}
    s = Session(browser, url, link(soak_scene(SOAK_SEEDS[0])))
    try:
        s.start()
        wait_drawn([s], 120)
        summary = s.page.locator("[data-testid='stSidebar'] [data-testid='stExpander'] summary")
        summary = summary.filter(has_text=re.compile(r"Run$")).first  # after the icon's text
        if summary.locator("xpath=..").get_attribute("open") is None:
            summary.click()  # the Run section, which holds the Seed input
        doc_id = s.read()["id"]
        for k in range(reruns + 1):
            seed = SOAK_SEEDS[k % len(SOAK_SEEDS)]
            if k:
                t = time.perf_counter()
                doc_id = rerun_seed(s.page, seed, doc_id)
                out["seconds"].append(time.perf_counter() - t)
                out["reruns"] = k
            if k % every == 0 or k == reruns:
                out["samples"].append((k, rss_mib(pid)))
                out["checks"].append(compare(s.read(), refs[seed])[0])
            if time.monotonic() > deadline:
                out["error"] = f"stopped at rerun {k}: the time budget ran out"
                break
    except Exception as err:
        out["error"] = f"rerun {out['reruns'] + 1}: {type(err).__name__}: {str(err)[:300]}"
    finally:
        out["foreign"] = s.foreign
        s.close()
    return out


def growth(samples: list[tuple[int, float]], warmup: int) -> float:
    """RSS growth (MiB) from the first sample at or after rerun ``warmup`` to the last."""
    after = [r for k, r in samples if k >= warmup]
    return after[-1] - after[0] if len(after) >= 2 else math.nan


def rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` and its descendants, MiB (``/proc``)."""
    kids: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        kids.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        total += sum(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:"))
    return total / 1024
