"""Concurrent sessions, a rerun soak and memory on one app server, on loopback only.

    PYTHONPATH=. .venv/bin/python benchmarks/load.py [--sessions 20] [--reruns 500] [--quick]
        [--budget 900] [--out FILE]

The server starts as ``python -m app.serve`` does (``benchmarks/heap_probe.py``: the same, plus
a heap report on ``SIGUSR1``); the browser is Debian's chromium in Playwright; sessions are
checked as ``benchmarks/sessions.py`` says. Environment variables (``MALLOC_ARENA_MAX=2``...)
reach the server from this process.

0. Here, first: the engine reference of every scene, and the memory the scenes take when run
   here the way the server keeps them (result, surface picture, animator document, kernels):
   the *expected* growth.
1. Baselines: the server's RSS once healthy, then after a warm-up session and one more single
   session (*warm*; heap in use from the probe).
2. Load: ``--sessions`` contexts open at once, each on the link of a different scene; each must
   plot exactly its scene's engine result. ``GET /_stcore/health`` of the server and of a
   control (``python -m http.server`` on the same machine) every 200 ms: the server's share of
   the latency is the difference, poll by poll. After closing them all: RSS, then heap in use
   and RSS after ``gc.collect()`` and ``malloc_trim(0)`` in the server, against the expected
   growth plus a slack (``HEAP_SLACK_MIB``: the closed sessions Streamlit keeps for
   reconnection, its cache bookkeeping).
3. Soak: one session, ``--reruns`` reruns of the Seed input; RSS growth after the first fifth
   within ``sessions.SOAK_MARGIN_MIB``, the plot equal to the engine at every sample.
4. Second wave: the same scenes again (all cached): correct again, and the live RSS after it
   within ``RESIDUE_MIB`` + ``RESIDUE_PER_SESSION_MIB`` per session of the RSS before it.

The server runs with ``OPTVIZ_TIMING=1`` (app/run_timing.py): for each wave, the time from a
session's first script run to its document sent, read from the server's log.

Writes tables (``--out``) and exits 1 when a gating check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, benchmarks/ comes first on sys.path, where benchmarks/app.py would shadow the
# app package: the repository root comes first instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from benchmarks import sessions  # noqa: E402
from benchmarks.heap_probe import heap  # noqa: E402
from benchmarks.machine import describe, git_revision, loadavg, now, table  # noqa: E402
from tests.browser import ARGS, chromium_path, free_port, streamlit_process  # noqa: E402
from trajectories import Experiment, OptimizerSpec  # noqa: E402

HEAP_SLACK_MIB = 24.0  # heap in use after the load may exceed the expected growth by this
RESIDUE_MIB, RESIDUE_PER_SESSION_MIB = 8.0, 1.0  # what a second wave may leave behind
SHARE_P95_MS = 1000.0  # the server's share of the health-check latency, p95, during the load
GUARD_ARGS = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost"]
# Surfaces that compile in about a second each; optimizers with a learning rate that suits most.
SURFACES = (
    ("himmelblau", {}),
    ("rosenbrock", {"b": 20.5}),
    ("beale", {}),
    ("booth", {}),
    ("quadratic_nd", {}),
    ("matyas", {}),
    ("three_hump_camel", {}),
    ("elliptic_bowl", {"condition": 30.5}),
    ("six_hump_camel", {}),
    ("linear_regression", {}),
    ("rastrigin", {"A": 5.5}),
    ("ackley", {}),
    ("styblinski_tang", {}),
    ("rosenbrock_nd", {}),
    ("two_wells", {}),
    ("goldstein_price", {}),
    ("plateau_cliff", {}),
    ("noisy_quadratic", {}),
    ("logistic_regression", {}),
    ("saddle", {}),
)
KINDS = (
    ("Adam", 0.05),
    ("SGD", 1e-3),
    ("Momentum", 1e-3),
    ("RMSprop", 1e-2),
    ("Adagrad", 0.3),
    ("Nesterov", 1e-3),
    ("Nadam", 0.05),
    ("Adamax", 0.1),
    ("AMSGrad", 0.05),
    ("WAME", 1e-3),
    ("AdamW", 0.05),
)


WARMUP = sessions.soak_scene(9).replace(surface="booth", starts=())


def scene(i: int) -> Experiment:
    """Scene ``i``: surface, optimizers, learning rates, starts, steps, noise and seed vary."""
    import surfaces

    name, params = SURFACES[i % len(SURFACES)]
    (x0, x1), (y0, y1) = np.asarray(surfaces.get(name, **params).window, np.float64)
    specs = []
    for j in range(1 + i % 3):
        kind, lr = KINDS[(3 * i + 4 * j) % len(KINDS)]
        factor = (0.5, 1.0, 2.0)[(i + j) % 3] * (1 + i // len(SURFACES))
        specs.append(OptimizerSpec(kind, {"learning_rate": lr * factor}))
    starts = tuple(
        (
            round(float(x0 + (0.15 + 0.7 * ((0.37 * i + 0.5 * k) % 1)) * (x1 - x0)), 3),
            round(float(y0 + (0.15 + 0.7 * ((0.61 * i + 0.3 * k) % 1)) * (y1 - y0)), 3),
        )
        for k in range(1 + i % 2)
    )
    return Experiment(
        surface=name,
        surface_params=params,
        optimizers=tuple(specs),
        starts=starts,
        steps=(200, 300, 400)[i % 3],
        noise=(0.0, 0.05, 0.2)[i % 3],
        seed=100 + i,
    )


def script_runs(log: str) -> list[dict]:
    """The server's ``OPTVIZ_TIMING=1`` lines (app/run_timing.py): per script run, its start
    (epoch s), session, and when its document was sent (ms from its start; None: none sent)."""
    runs = []
    for line in log.splitlines():
        if not line.startswith("optviz-run at "):
            continue
        head, *parts = line.split(" · ")
        fields = dict(p.rsplit(" ", 1) for p in parts)
        sent = fields.get("sent")
        runs.append({"at": float(head.split()[2]), "session": fields.get("session", "-"),
                     "sent": None if sent is None else float(sent)})  # fmt: skip
    return runs


def to_document(runs: list[dict], t0: float, t1: float) -> list[float]:
    """Per session whose first run started in ``[t0, t1]`` (epoch s): seconds from that run's
    start to the session's first document sent (its own run's or a later one's)."""
    first: dict[str, float] = {}
    sent: dict[str, float] = {}
    for r in sorted(runs, key=lambda r: r["at"]):
        s = r["session"]
        first.setdefault(s, r["at"])
        if r["sent"] is not None and s not in sent:
            sent[s] = r["at"] + r["sent"] / 1000
    return [sent[s] - t for s, t in first.items() if t0 <= t <= t1 and s in sent]


def live_rss() -> float:
    """This process's RSS after ``gc.collect()`` and ``malloc_trim(0)``, MiB."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return sessions.rss_mib(os.getpid())


def expected_growth(scenes: list[Experiment]) -> tuple[list, float, float]:
    """References of ``scenes``, and the live RSS and heap in use (MiB) that running them here,
    keeping what the server's caches keep, adds (call after a warm-up)."""
    from app import payload, surface_image
    from trajectories import run

    rss0, heap0, kept, refs = live_rss(), heap()["heap_used"], [], []
    for e in scenes:
        r = run(e)
        picture = surface_image.render(r.surface)
        kept.append((r, picture, payload.build(r, picture)))
        refs.append(sessions.reference(e))
    rss1, heap1 = live_rss(), heap()["heap_used"]
    return refs, rss1 - rss0, heap1 - heap0


def health_ms(url: str, timeout: float = 5.0) -> float | None:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read()
    except OSError:
        return None
    return (time.perf_counter() - t) * 1000


class Monitor(threading.Thread):
    """Every 200 ms: (time, the server's health latency, the control's latency, server RSS)."""

    def __init__(self, health: str, control: str, pid: int):
        super().__init__(daemon=True)
        self.urls, self.pid, self.samples, self.halt = (health, control), pid, [], threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            t = time.monotonic()
            lat = [health_ms(u) for u in self.urls]
            self.samples.append((t, *lat, sessions.rss_mib(self.pid)))
            self.halt.wait(max(0.0, 0.2 - (time.monotonic() - t)))

    def latency(self, t0: float, t1: float) -> dict:
        s = [x for x in list(self.samples) if t0 <= x[0] <= t1]
        app = [x[1] for x in s if x[1] is not None]
        ctl = [x[2] for x in s if x[2] is not None]
        share = [x[1] - x[2] for x in s if x[1] is not None and x[2] is not None]
        p = lambda v, q: float(np.percentile(v, q)) if v else math.nan  # noqa: E731
        return {
            "polls": len(s),
            "failed": len(s) - len(app),
            "p50": p(app, 50),
            "p95": p(app, 95),
            "max": max(app, default=math.nan),
            "control p95": p(ctl, 95),
            "control max": max(ctl, default=math.nan),
            "share p95": p(share, 95),
            "peak RSS": max((x[3] for x in s), default=math.nan),
        }


class Server:
    """``python -m benchmarks.heap_probe`` (the app server) and its heap reports."""

    def __init__(self, stack: Any, timeout: float):
        self.heap_file = Path(tempfile.mkstemp(prefix="load-heap-", suffix=".jsonl")[1])
        os.environ["BENCH_HEAP_FILE"] = str(self.heap_file)
        os.environ["OPTVIZ_TIMING"] = "1"  # each script run's phases, in the server's log
        self.s = stack.enter_context(
            streamlit_process(
                ("-m", "benchmarks.heap_probe"), log_name="load-server", timeout=timeout
            )
        )
        self.url, self.pid = self.s.url, self.s.proc.pid

    def runs(self) -> list[dict]:
        return script_runs(self.s.log.read_text(errors="replace"))

    def rss(self) -> float:
        return sessions.rss_mib(self.pid)

    def trimmed(self, timeout: float = 60.0) -> dict:
        """gc.collect() and malloc_trim(0) in the server: its heap figures and RSS after."""
        n = len(self.heap_file.read_text().splitlines())
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.heap_file.read_text().splitlines()
            if len(lines) > n:
                time.sleep(1.0)  # let the RSS follow
                return {**json.loads(lines[n]), "rss": self.rss()}
            time.sleep(0.2)
        raise RuntimeError("the server's heap probe did not answer")


def settle(server: Server, most: float, window: float = 10.0, tol: float = 2.0) -> float:
    """Wait until the RSS moved less than ``tol`` MiB over ``window`` s (at most ``most`` s)."""
    t0, series = time.monotonic(), []
    while True:
        series.append((time.monotonic(), server.rss()))
        recent = [r for t, r in series if t >= series[-1][0] - window]
        waited = series[-1][0] - t0
        if (waited >= window and max(recent) - min(recent) < tol) or waited >= most:
            return series[-1][1]
        time.sleep(1.0)


def measure(n: int, reruns: int, budget: float, log) -> dict:
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + budget
    r: dict[str, Any] = {"sessions": n, "reruns": reruns}
    scenes = [scene(i) for i in range(n)]
    for e in scenes:
        if sessions.decoded(sessions.link(e)).to_json() != e.to_json():
            raise RuntimeError(f"the link of {e} does not round-trip")
    sessions.reference(WARMUP)  # the same warm-up as the server's
    refs, r["expected RSS"], r["expected heap"] = expected_growth(scenes)
    soak_refs = {
        seed: sessions.reference(sessions.soak_scene(seed)) for seed in sessions.SOAK_SEEDS
    }
    r["distinct"] = all(sessions.differ(a, b) for i, a in enumerate(refs) for b in refs[i + 1 :])
    log(f"expected growth: RSS {r['expected RSS']:.1f}, heap {r['expected heap']:.1f} MiB")
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as empty:
        control = stack.enter_context(control_server(free_port(), empty))
        server = Server(stack, timeout=180)
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=chromium_path(), args=[*ARGS, *GUARD_ARGS])
        r["chromium"] = browser.version
        monitor = Monitor(server.url + "_stcore/health", control, server.pid)
        monitor.start()
        time.sleep(3)
        r["RSS cold"] = server.rss()
        r["latency idle"] = monitor.latency(0, time.monotonic())
        for key, e in (
            ("warm-up", WARMUP),
            ("single", sessions.soak_scene(sessions.SOAK_SEEDS[-1])),
        ):
            s = sessions.Session(browser, server.url, sessions.link(e))
            s.start()
            sessions.wait_drawn([s], 180)
            r[f"{key} s"] = s.drawn_s
            s.close()
        settle(server, most=30, window=5)
        r["warm"] = server.trimmed()
        log(f"warm: {r['warm']}; {n} sessions at once")
        t0, epoch0 = time.monotonic(), time.time()
        r["load"] = sessions.concurrent(
            browser,
            server.url,
            scenes,
            refs,
            timeout=max(30.0, min(420.0, deadline - t0 - 180)),
            before_close=lambda: r.__setitem__("RSS open", server.rss()),
        )
        r["load s"], r["latency load"] = (
            time.monotonic() - t0,
            monitor.latency(t0, time.monotonic()),
        )
        epoch1 = time.time()
        log(f"load: {sum(x['ok'] for x in r['load'])}/{n} correct, {r['latency load']}")
        r["RSS after"] = settle(server, most=60)
        r["after"] = server.trimmed()
        r["to document load"] = to_document(server.runs(), epoch0, epoch1)  # runs logged by now
        log(f"after the load: RSS {r['RSS after']:.1f} MiB, trimmed {r['after']}")
        every = max(1, reruns // 10)
        r["soak"] = sessions.soak(
            browser, server.url, server.pid, reruns, soak_refs, every, deadline - (30 + 6 * n)
        )
        r["soak growth"] = sessions.growth(r["soak"]["samples"], max(1, reruns // 5))
        log(f"soak: {r['soak']['reruns']} reruns, {r['soak growth']:+.1f} MiB {r['soak']['error']}")
        settle(server, most=15, window=5)
        r["before wave 2"] = server.trimmed()
        t2, epoch2 = time.monotonic(), time.time()
        r["wave 2"] = sessions.concurrent(
            browser, server.url, scenes, refs, timeout=max(30.0, min(300.0, deadline - t2 - 40))
        )
        epoch3 = time.time()
        r["latency wave 2"] = monitor.latency(t2, time.monotonic())
        settle(server, most=15, window=5)
        r["after wave 2"] = server.trimmed()
        r["to document wave 2"] = to_document(server.runs(), epoch2, epoch3)
        log(f"second wave: {sum(x['ok'] for x in r['wave 2'])}/{n} correct")
        monitor.halt.set()
        browser.close()
    return r


@contextlib.contextmanager
def control_server(port: int, folder: str):
    """The control: Python's own ``http.server`` on 127.0.0.1, serving an empty folder."""
    import subprocess

    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", folder]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while health_ms(url, 1.0) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def checks(r: dict) -> list[tuple[str, bool, str]]:
    n, load, wave2, soak = r["sessions"], r["load"], r["wave 2"], r["soak"]
    lat = r["latency load"]
    heap_growth = r["after"]["heap_used"] - r["warm"]["heap_used"]
    residue = r["after wave 2"]["rss"] - r["before wave 2"]["rss"]
    residue_margin = RESIDUE_MIB + RESIDUE_PER_SESSION_MIB * n
    return [
        (
            "each session plotted exactly its own scene's engine result (references distinct: "
            f"{r['distinct']})",
            all(x["ok"] for x in load) and r["distinct"],
            f"{sum(x['ok'] for x in load)} of {n}",
        ),
        (
            f"responsive: no health check failed, the server's share p95 <= {SHARE_P95_MS:g} ms",
            lat["failed"] == 0 and lat["share p95"] <= SHARE_P95_MS,
            f"{lat['failed']} of {lat['polls']} failed; share p95 {lat['share p95']:.0f} ms",
        ),
        (
            f"heap in use after the load <= expected + {HEAP_SLACK_MIB:g} MiB",
            heap_growth <= r["expected heap"] + HEAP_SLACK_MIB,
            f"{heap_growth:+.1f} MiB vs {r['expected heap']:+.1f} expected",
        ),
        (
            f"soak: RSS growth after the warm-up <= {sessions.SOAK_MARGIN_MIB:g} MiB, plots equal",
            not soak["error"]
            and soak["reruns"] == r["reruns"]
            and all(soak["checks"])
            and r["soak growth"] <= sessions.SOAK_MARGIN_MIB,
            f"{r['soak growth']:+.1f} MiB over reruns {max(1, r['reruns'] // 5)}–{soak['reruns']}; "
            f"{sum(soak['checks'])} of {len(soak['checks'])} equal {soak['error']}",
        ),
        (
            f"second wave correct, live RSS residue <= {residue_margin:g} MiB",
            all(x["ok"] for x in wave2) and residue <= residue_margin,
            f"{sum(x['ok'] for x in wave2)} of {n}; {residue:+.1f} MiB",
        ),
        (
            "no request left loopback",
            not any(x["foreign"] for x in load + wave2) and not soak["foreign"],
            "",
        ),
    ]


LATENCY = ("polls", "failed", "p50", "p95", "max", "control p95", "control max", "share p95",
           "peak RSS")  # fmt: skip


def tables(r: dict, info: dict) -> str:
    lines = ["# Load benchmark: tables", "", *table(("machine", ""), info.items()), ""]
    scenes = [scene(i) for i in range(r["sessions"])]
    lines += table(("check (gating)", "met", "measured"),
                   ((c, "yes" if ok else "**no**", got) for c, ok, got in checks(r)))  # fmt: skip
    for wave in ("load", "wave 2"):
        t = [x["drawn_s"] for x in r[wave] if x["drawn_s"] is not None] or [math.nan]
        spread = max(x["started"] for x in r[wave]) - min(x["started"] for x in r[wave])
        lines += ["", f"**{wave}**: time to chart (navigation to drawn) median {np.median(t):.1f}"
                  f" s, p95 {np.percentile(t, 95):.1f} s, max {max(t):.1f} s; opened within "
                  f"{spread:.1f} s.", ""]  # fmt: skip
        d = r.get(f"to document {wave}") or [math.nan]
        lines += [f"In the server, a session's first script run to its document sent "
                  f"(OPTVIZ_TIMING, {len(d)} sessions): median {np.median(d):.1f} s, p95 "
                  f"{np.percentile(d, 95):.1f} s, max {max(d):.1f} s.", ""]  # fmt: skip
    lines += [f"One session alone on the warm server: {r['single s']:.1f} s; the cold server's "
              f"first: {r['warm-up s']:.1f} s.", ""]  # fmt: skip
    rows = [(i, f"{e.surface} {e.surface_params or ''}".strip() + ": " + ", ".join(
                f"{o.kind} {o.hyperparams['learning_rate']:.3g}" for o in e.optimizers)
             + f"; {len(e.starts)} starts, {e.steps} steps, noise {e.noise:g}",
             x["ok"], f"{x['max_err']:.2g}", f"{x['drawn_s'] or math.nan:.1f}", x["why"])
            for i, (x, e) in enumerate(zip(r["load"], scenes, strict=True))]  # fmt: skip
    lines += table(("#", "scene", "correct", "max abs error", "time to chart s", "why not"), rows)
    rows = [(k, *(f"{r[k][c]:.0f}" for c in LATENCY)) for k in
            ("latency idle", "latency load", "latency wave 2")]  # fmt: skip
    lines += ["", *table(("health check, ms (RSS MiB)", *LATENCY), rows), ""]
    rows = [("cold (healthy, no session)", f"{r['RSS cold']:.1f}", "", ""),
            (f"the {r['sessions']} sessions open", f"{r['RSS open']:.1f}", "", ""),
            ("after closing them, as it is", f"{r['RSS after']:.1f}", "", "")]  # fmt: skip
    rows += [(f"{k}, after gc.collect + malloc_trim", *(f"{r[k][c]:.1f}" for c in
              ("rss", "heap_used", "heap_free"))) for k in
             ("warm", "after", "before wave 2", "after wave 2")]  # fmt: skip
    lines += table(("server memory, MiB", "RSS", "heap in use", "heap free"), rows)
    lines += ["", f"Expected growth of the {r['sessions']} scenes run here: heap in use "
              f"{r['expected heap']:+.1f} MiB, live RSS {r['expected RSS']:+.1f} MiB.", "",
              *table(("soak: after rerun", "RSS MiB"), ((k, f"{m:.1f}") for k, m in
                                                        r["soak"]["samples"]))]  # fmt: skip
    if r["soak"]["seconds"]:
        ms = np.asarray(r["soak"]["seconds"]) * 1000
        lines += ["", f"Rerun, Enter to drawn: median {np.median(ms):.0f} ms, p95 "
                  f"{np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, help="concurrent sessions (20; quick 4)")
    ap.add_argument("--reruns", type=int, help="reruns of the soak (500; quick 30)")
    ap.add_argument("--quick", action="store_true", help="4 sessions, 30 reruns, ~3 minutes")
    ap.add_argument("--budget", type=float, help="deadline in s (900; quick 240)")
    ap.add_argument("--out", type=Path, help="default LOAD_RESULTS.md (--quick: artifacts/)")
    a = ap.parse_args(argv)
    # a terminated run still stops its servers and browser (``with`` blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = a.sessions or (4 if a.quick else 20)
    reruns = a.reruns if a.reruns is not None else (30 if a.quick else 500)
    t0, load0 = time.monotonic(), loadavg()
    info = {**describe(("streamlit", "jax", "playwright")), "code": git_revision(), "date": now()}
    log = lambda m: print(f"[{time.monotonic() - t0:6.1f}s] {m}", flush=True)  # noqa: E731
    r = measure(n, reruns, a.budget or (240.0 if a.quick else 900.0), log)
    malloc = " ".join(f"{k}={v}" for k, v in os.environ.items() if k.startswith("MALLOC_"))
    info.update({"chromium": r["chromium"], "load average (1/5/15 min)": f"{load0} at start, "
                 f"{loadavg()} at end", "server environment": malloc or "-", "run": f"{n} "
                 f"sessions, {reruns} reruns, {(time.monotonic() - t0) / 60:.1f} min"})  # fmt: skip
    text = tables(r, info)
    out = a.out or ROOT / (
        "artifacts/LOAD_RESULTS_quick.md" if a.quick else "benchmarks/LOAD_RESULTS.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(ok for _, ok, _ in checks(r)) else 1


if __name__ == "__main__":
    sys.exit(main())
