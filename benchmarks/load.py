"""Load and isolation test of the web app, on loopback only.

    PYTHONPATH=. .venv/bin/python benchmarks/load.py [--sessions 20] [--reruns 500] [--quick]
        [--kernels 10] [--budget 900] [--server-env NAME=VALUE] [--out benchmarks/LOAD_RESULTS.md]

One Streamlit server (``streamlit run app/main.py`` on 127.0.0.1 and a free port, with a probe
thread: see ``PROBE_BOOT``) and one headless chromium (Debian's, driven by Playwright):

0. **In this process, first.** ``--kernels`` custom formulas run through the engine: the live
   memory each distinct compiled kernel keeps. Then the engine reference of every scene, and
   the *expected* growth: the live memory the scenes take when run here the way the server does
   (run, surface picture, animator document, all kept as its caches keep them).
1. **Baselines.** The server's RSS (``VmRSS`` of the process and its descendants, ``/proc``)
   once it answers ``/_stcore/health`` (*cold*: Streamlit only; the app is imported by the
   first session), then after a warm-up session and one more single session have drawn and
   closed (*warm*: the app, JAX and two kernels loaded). Growth is measured from *warm*.
2. **Load.** ``--sessions`` browser contexts open at once (each its own Streamlit session), each
   on the share link of a *different* scene (surface, optimizers, learning rates, names, start
   points, steps, gradient noise and seed all vary). Every session's plotted paths (the
   animator's decoded ``path`` arrays, read from the component in the page) must equal
   ``trajectories.run(experiment)``'s positions projected to the view, computed here, to float32
   tolerance; the references are checked to differ pairwise, so a result leaked from another
   session cannot pass. Measured: each session's time from navigation to a drawn chart, the
   latency of ``GET /_stcore/health`` polled every 200 ms, the server's peak RSS. Then every
   session closes, the RSS is polled until steady (at most 60 s) and compared with *warm*; the
   probe then runs ``gc.collect()`` and ``malloc_trim(0)`` in the server, which separates live
   memory (checked against ``load_margin``) from freed memory glibc keeps (reported).
3. **Soak.** One session, ``--reruns`` reruns: the Seed number input (sidebar, Run section) is
   set to the next of four seeds from the keyboard and Enter pressed; each rerun is waited for
   until the animator shows the new run's document, the URL carries the seed and the script has
   finished. The RSS (and the probe's figures) is sampled every ``reruns / 10`` reruns, the
   plotted paths checked against the engine at each sample; growth after the first fifth
   (warm-up) must stay within ``SOAK_MARGIN_MIB``.

Links open paused (``f=0``): twenty canvases animating at 30 frames a second in one headless
chromium would take the machine's two cores from the server being measured (the animator's
frame rate is tested in ``tests/test_animator_browser.py``).

Network: the server binds 127.0.0.1; chromium (and every context) sends anything that is not
loopback to a proxy on a closed loopback port, so nothing can leave the machine, and every
request a page makes is recorded (one to anything but the server fails the run). Every wait has
a timeout and the run a deadline (``--budget``: 15 minutes; 3.5 with ``--quick``: 4 sessions,
30 reruns, no kernel measurement; about 2.5 minutes on an idle machine).

Writes a Markdown report (``--out``: ``benchmarks/LOAD_RESULTS.md``; with ``--quick``
``artifacts/LOAD_RESULTS_quick.md``) and exits 1 when a gating check fails (isolation,
responsiveness, live memory, soak, network); whether the RSS comes back *by itself* is reported
but does not gate, since it depends on glibc's trimming, not on the app. ``tests/test_load.py``
runs a small version of the same checks in the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts benchmarks/ first on sys.path, where a module named like a package
# of the repository (benchmarks/app.py) would shadow it: the repository root comes first instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from app import share  # noqa: E402
from benchmarks.machine import describe as describe_machine  # noqa: E402
from benchmarks.machine import git_revision, loadavg, now  # noqa: E402
from trajectories import Experiment, OptimizerSpec  # noqa: E402

HOST = "127.0.0.1"
APP = ROOT / "app" / "main.py"
ARTIFACTS = ROOT / "artifacts"
RESULTS = ROOT / "benchmarks" / "LOAD_RESULTS.md"
MIB = 1024 * 1024

# ---- scenes ------------------------------------------------------------------------------
# Surfaces that compile in about a second each: classic 2-D ones, a noisy quadratic, projected
# high-dimensional ones (the view is a 2-D projection of 10 weights) and learned models.
SURFACES: tuple[tuple[str, dict[str, Any]], ...] = (
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
KINDS: tuple[tuple[str, float], ...] = (  # optimizer, a learning rate that suits most surfaces
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
SOAK_SEEDS = (1, 2, 3, 4)


def scene(i: int) -> Experiment:
    """Scene ``i``: every session of the load gets a different one. The optimizers' names carry
    ``#i``, so a result shown in the wrong session is visible even by name."""
    import optimizers
    import surfaces

    name, params = SURFACES[i % len(SURFACES)]
    surface = surfaces.get(name, **params)
    (x0, x1), (y0, y1) = np.asarray(surface.window, np.float64)
    n_opt = 1 + i % 3
    specs = []
    for j in range(n_opt):
        kind, lr = KINDS[(3 * i + 4 * j) % len(KINDS)]
        factor = (0.5, 1.0, 2.0)[(i + j) % 3] * (1 + i // len(SURFACES))
        hyper = {"learning_rate": lr * factor}
        defaults = optimizers.get(kind).defaults()
        hyper = {k: v for k, v in hyper.items() if defaults.get(k) != v}  # as a link reads
        specs.append(OptimizerSpec(kind, hyper, name=f"{kind} #{i}"))
    starts = []
    for k in range(1 + i % 2):
        fx, fy = 0.15 + 0.7 * ((0.37 * i + 0.5 * k) % 1), 0.15 + 0.7 * ((0.61 * i + 0.3 * k) % 1)
        starts.append((round(float(x0 + fx * (x1 - x0)), 3), round(float(y0 + fy * (y1 - y0)), 3)))
    return Experiment(
        surface=name,
        surface_params=params,
        optimizers=tuple(specs),
        starts=tuple(starts),
        steps=(200, 300, 400)[i % 3],
        noise=(0.0, 0.05, 0.2)[i % 3],
        seed=100 + i,
    )


def soak_scene(seed: int = SOAK_SEEDS[0]) -> Experiment:
    return Experiment(
        surface="himmelblau",
        optimizers=(
            OptimizerSpec("Adam", {"learning_rate": 0.1}, name="Adam soak"),
            OptimizerSpec("Momentum", {"learning_rate": 1e-3}, name="Momentum soak"),
        ),
        starts=((1.0, -2.0),),
        steps=300,
        noise=0.3,
        seed=seed,
    )


WARMUP = share.Scene(soak_scene(9).replace(surface="booth", starts=()), frame=0)


def link(e: Experiment, frame: int = 0) -> str:
    """The scene's share link query; ``f=`` opens it paused at ``frame``."""
    return share.query_string(share.Scene(e, frame=frame))


def decoded(query: str) -> Experiment:
    """What the app reads from a link (the server runs this scene)."""
    scene, warnings = share.decode(parse_qs(query, keep_blank_values=True))
    if warnings:
        raise ValueError(f"the link {query!r} does not decode cleanly: {warnings}")
    return scene.experiment


@dataclasses.dataclass
class Reference:
    """What the engine computes for a scene: names and view paths (S, R, 2) per optimizer."""

    names: list[str]
    paths: list[np.ndarray]

    def differs_from(self, other: Reference) -> bool:
        if self.names != other.names or len(self.paths) != len(other.paths):
            return True
        return any(
            a.shape != b.shape or not np.allclose(a, b, equal_nan=True)
            for a, b in zip(self.paths, other.paths, strict=True)
        )


def reference(e: Experiment, keep: list | None = None) -> Reference:
    """``trajectories.run(e)`` positions projected to the 2-D view, as float32 (what the
    payload sends). ``keep``: also build and keep what the server caches for the scene (the
    result, the surface picture and the animator document), to measure their memory."""
    from trajectories import run

    r = run(e)
    paths = [np.asarray(r.surface.project(r.position[a]), np.float32) for a in range(len(r.names))]
    if keep is not None:
        from app import payload, surface_image

        picture = surface_image.render(r.surface)
        keep.append((r, picture, payload.build(r, picture)))
    return Reference(list(r.names), paths)


def compare(got: dict, ref: Reference) -> tuple[bool, float, str]:
    """Plotted paths vs the engine's, to float32 tolerance: ``(ok, max abs error, why)``."""
    if got.get("names") != ref.names:
        return False, math.inf, f"names {got.get('names')} != {ref.names}"
    worst = 0.0
    for name, spec, want in zip(ref.names, got["paths"], ref.paths, strict=True):
        if spec is None:
            return False, math.inf, f"{name}: no path in the page"
        have = np.asarray(spec["data"], np.float64).reshape(spec["shape"])
        if have.shape != want.shape:
            return False, math.inf, f"{name}: shape {have.shape} != {want.shape}"
        want64 = want.astype(np.float64)
        nan = np.isnan(want64)
        if not np.array_equal(nan, np.isnan(have)):
            return False, math.inf, f"{name}: NaNs differ"
        err = np.abs(have - want64)[~nan]
        worst = max(worst, float(err.max()) if err.size else 0.0)
        scale = np.maximum(1.0, np.abs(want64[~nan]))
        if np.any(err > 1e-5 * scale):  # float32 carries about 7 significant digits
            return False, worst, f"{name}: differs by up to {worst:.3g}"
    return True, worst, ""


# ---- the server and its memory ---------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` and all its descendants, in MiB (0 once it has exited)."""
    kids, total, todo = _children(), 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def health_ms(url: str, timeout: float = 5.0) -> float | None:
    """Latency of ``GET /_stcore/health`` in ms; None when it fails or times out."""
    assert urlsplit(url).hostname == HOST, url
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url + "_stcore/health", timeout=timeout) as r:
            r.read()
            if r.status != 200:
                return None
    except OSError:
        return None
    return (time.perf_counter() - t) * 1000


# The server process: ``streamlit run`` exactly as its command line does it, plus a thread that
# writes, every second, a JSON line with what the RSS alone cannot tell: the allocator's view
# (bytes in use vs freed but kept by glibc), the sessions Streamlit holds (connected, and closed
# but kept for reconnection), the entries of the app's caches and the kernels JAX compiled. It
# also runs commands the harness appends to ``<probe>.cmd``: ``census`` (live objects by type),
# ``collect`` (gc.collect()) and ``trim`` (malloc_trim(0)), to tell a leak from memory that is
# merely not returned yet. It only reads, and imports nothing the app would not.
PROBE_BOOT = r"""
import collections, ctypes, gc, json, os, sys, threading, time, types

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

WATCH = {"AppSession", "SessionState", "ScriptRunner", "Result", "SurfaceImage", "Animator"}

def figures():
    # only modules the server has finished importing (importing here could race its imports)
    rec, mods = {}, sys.modules
    rt = mods.get("streamlit.runtime.runtime")
    if rt is not None and hasattr(rt, "Runtime") and rt.Runtime.exists():
        mgr = rt.Runtime.instance()._session_mgr
        rec["sessions_active"] = len(mgr.list_active_sessions())
        rec["sessions_kept"] = len(mgr.list_sessions()) - rec["sessions_active"]
        # stored, expired ones included (TTLCache drops them only when another is stored)
        rec["sessions_stored"] = len(getattr(mgr._session_storage, "_cache", ()))
    caches = {}
    cr = mods.get("streamlit.runtime.caching.cache_resource_api")
    for c in getattr(cr, "_resource_caches", None) and cr._resource_caches._function_caches.get(
            None, {}).values() or ():
        caches[c.display_name.rsplit(".", 1)[-1]] = len(c._mem_cache)
    cd = mods.get("streamlit.runtime.caching.cache_data_api")
    for c in getattr(cd, "_data_caches", None) and cd._data_caches._function_caches.get(
            None, {}).values() or ():
        caches[c.display_name.rsplit(".", 1)[-1]] = len(getattr(c.storage, "_mem_cache", ()))
    rec["caches"] = caches
    kernel = mods.get("trajectories.kernel")
    if kernel is not None and hasattr(kernel, "compile_count"):
        rec["compiled"] = kernel.compile_count()
    return rec

def census():
    gc.collect()
    counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
    return {"watched": {k: counts.get(k, 0) for k in sorted(WATCH)},
            "top": dict(counts.most_common(12)), "objects": sum(counts.values())}

IDLE = {"wait", "select", "poll", "epoll", "sleep", "_worker", "get", "accept", "readline",
        "_wait_for_tstate_lock", "run_forever", "_run_once", "wait_for", "acquire"}
REPO = os.getcwd() + os.sep

def where(frame):  # (innermost function, innermost repository function) of a stack
    inner, repo, f = ("?", "?"), None, frame
    while isinstance(f, types.FrameType):  # another thread's stack can change under us
        name = f.f_code.co_filename
        if inner == ("?", "?"):
            inner = (name, f.f_code.co_name)
        if repo is None and name.startswith(REPO) and "site-packages" not in name:
            repo = name[len(REPO):] + ":" + f.f_code.co_name
        f = f.f_back
    return inner, repo

def library(path):
    parts = path.replace(os.sep, "/").split("/")
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    return parts[-1].removesuffix(".py") if path.startswith(sys.prefix) or "lib/python" in path \
        else "app"

def sample(counter):
    me, names = threading.get_ident(), {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        name = names.get(ident, "?")
        kind = "script" if "ScriptRunner" in name else ("event loop" if name == "MainThread"
                                                         else "other")
        (path, func), repo = where(frame)
        state = "idle" if func in IDLE and repo is None else library(path) + "." + func
        counter[(kind, repo or "-", state)] += 1
    counter[("samples", "", "")] += 1

def summary(counter):
    n = counter.pop(("samples", "", ""), 0)
    failed = counter.pop(("samples failed", "", ""), 0)
    top = [[k, r, st, c / max(1, n)] for (k, r, st), c in counter.most_common(40)]
    return {"samples": n, "failed": failed, "top": top}

LAGS = []  # while profiling: (wake-up delay of a sleeping thread, event loop delay), ms

def lags():
    # Every 100 ms: how late a thread of this process wakes from a sleep (waiting for a core
    # and for the GIL), and how late a callback handed to Streamlit's event loop runs.
    while True:
        t = time.perf_counter()
        time.sleep(0.1)
        woke = (time.perf_counter() - t - 0.1) * 1000
        rt = sys.modules.get("streamlit.runtime.runtime")
        try:
            loop = rt.Runtime.instance()._async_objs.eventloop
        except Exception:
            continue
        if not PROFILING.is_set():
            continue
        ran, done = [], threading.Event()
        t = time.perf_counter()
        loop.call_soon_threadsafe(lambda: (ran.append(time.perf_counter()), done.set()))
        done.wait(10)
        LAGS.append((woke, (ran[0] - t) * 1000 if ran else 10000.0))

PROFILING = threading.Event()
GC_PAUSES = []  # while profiling: (generation, ms) of every garbage collection
_gc_started = [0.0]

def on_gc(phase, info):
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    elif PROFILING.is_set():
        GC_PAUSES.append((info["generation"], (time.perf_counter() - _gc_started[0]) * 1000))

gc.callbacks.append(on_gc)

def percentiles(values):
    v = sorted(values)
    if not v:
        return {}
    return {"p50": v[len(v) // 2], "p95": v[min(len(v) - 1, int(len(v) * 0.95))], "max": v[-1]}

def probe(path):
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    done, profile, written = 0, None, 0.0
    with open(path, "a") as out:
        while True:
            if profile is not None:
                try:
                    sample(profile)
                except Exception:
                    profile[("samples failed", "", "")] += 1
            try:
                with open(path + ".cmd") as f:
                    commands = f.read().split()
            except OSError:
                commands = []
            if time.monotonic() - written < 1.0 and done == len(commands):
                time.sleep(0.02 if profile is not None else 0.25)
                continue
            rec = {"t": time.monotonic(), "gc": list(gc.get_count())}
            m = libc.mallinfo2()
            rec["heap_used"] = (m.uordblks + m.hblkhd) / 2**20
            rec["heap_free"] = m.fordblks / 2**20
            try:
                rec.update(figures())
            except Exception as err:
                rec["error"] = repr(err)[:200]
            for command in commands[done:]:
                done += 1
                if command == "census":
                    rec["census"] = census()
                elif command == "collect":
                    rec["collected"] = gc.collect()
                elif command == "trim":
                    rec["trimmed"] = libc.malloc_trim(0)
                elif command == "profile_on":
                    profile = collections.Counter()
                    LAGS.clear()
                    GC_PAUSES.clear()
                    PROFILING.set()
                elif command == "profile_off" and profile is not None:
                    PROFILING.clear()
                    rec["profile"], profile = summary(profile), None
                    rec["profile"]["wake_ms"] = percentiles([w for w, _ in LAGS])
                    rec["profile"]["loop_ms"] = percentiles([x for _, x in LAGS])
                    rec["profile"]["gc"] = {
                        str(g): {"n": len(v), "total_ms": sum(v), **percentiles(v)}
                        for g in (0, 1, 2)
                        for v in [[ms for gen, ms in GC_PAUSES if gen == g]]
                    }
                rec.setdefault("done", []).append([done - 1, command])
            out.write(json.dumps(rec) + "\n")
            out.flush()
            written = time.monotonic()

threading.Thread(target=probe, args=(os.environ["LOAD_PROBE"],), daemon=True).start()
threading.Thread(target=lags, daemon=True).start()
if os.environ.get("LOAD_PREPARE") == "1":
    from app import serve  # as ``python -m app.serve`` does: warm the engine, gc.freeze()
    serve.prepare()
from streamlit.web.cli import main
sys.argv = ["streamlit", *sys.argv[1:]]
main(prog_name="streamlit")
"""


class Server:
    """``streamlit run app/main.py`` on 127.0.0.1 and a free port, as the tests start it, with
    the probe above (``probe=False``: the plain command)."""

    def __init__(
        self,
        script: Path = APP,
        *,
        timeout: float = 60.0,
        env: dict | None = None,
        probe: bool = True,
    ):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log = ARTIFACTS / f"load-server-{self.port}.log"
        self.probe = ARTIFACTS / f"load-probe-{self.port}.jsonl" if probe else None
        args = [
            "run", str(script),
            "--server.headless=true", f"--server.port={self.port}",
            f"--server.address={HOST}", "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none", "--global.developmentMode=false",
        ]  # fmt: skip
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
        if self.probe is not None:
            for f in (self.probe, Path(f"{self.probe}.cmd")):
                f.unlink(missing_ok=True)
            full_env["LOAD_PROBE"] = str(self.probe)
            cmd = [sys.executable, "-c", PROBE_BOOT, *args]
        else:
            cmd = [sys.executable, "-m", "streamlit", *args]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        while health_ms(self.url, 2.0) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"streamlit did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def rss(self) -> float:
        return rss_mib(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def figures(self) -> dict[str, Any]:
        """The probe's latest line ({} without a probe)."""
        if self.probe is None or not self.probe.exists():
            return {}
        lines = self.probe.read_text().splitlines()
        return json.loads(lines[-1]) if lines else {}

    def command(self, name: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Run a probe command (census, collect, trim) in the server: the probe's line that
        reports it, with the RSS before and after ({} without a probe)."""
        if self.probe is None:
            return {}
        cmd = Path(f"{self.probe}.cmd")
        index = len(cmd.read_text().split()) if cmd.exists() else 0
        before = self.rss()
        with open(cmd, "a") as f:
            f.write(name + "\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if time.time() - self.probe.stat().st_mtime > 15:
                return {"error": "the probe stopped (see the server's log)", "rss_before": before}
            for line in reversed(self.probe.read_text().splitlines()):
                rec = json.loads(line)
                if [index, name] in rec.get("done", []):
                    time.sleep(1.0)  # let the RSS follow
                    return {**rec, "rss_before": before, "rss_after": self.rss()}
            time.sleep(0.25)
        return {"error": f"probe command {name} timed out", "rss_before": before}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# A control for the latency figures: the smallest HTTP server, in its own process on the same
# machine. Polled next to the app's health check, it shows what the machine itself (other work,
# chromium, this process) adds to any request's latency; the difference is the app server's.
CONTROL_BOOT = r"""
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


class Control:
    """``CONTROL_BOOT`` on 127.0.0.1 and a free port."""

    def __init__(self, timeout: float = 20.0):
        port = free_port()
        self.url = f"http://{HOST}:{port}/"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CONTROL_BOOT, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while health_ms(self.url, 1.0) is None and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine since boot (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Monitor(threading.Thread):
    """Polls every ``period`` s until stopped or ``limit`` s: the server's health latency (ms,
    None on failure), its RSS (MiB) and the control server's latency, as ``(monotonic time,
    latency, rss, control latency)``."""

    def __init__(
        self, server: Server, control: Control | None, period: float = 0.2, limit: float = 1200.0
    ):
        super().__init__(daemon=True)
        self.server, self.control, self.period, self.limit = server, control, period, limit
        self.samples: list[tuple[float, float | None, float, float | None]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        end = time.monotonic() + self.limit
        while not self._halt.is_set() and time.monotonic() < end and self.server.alive():
            t = time.monotonic()
            latency = health_ms(self.server.url)
            control = health_ms(self.control.url) if self.control is not None else None
            self.samples.append((t, latency, self.server.rss(), control))
            self._halt.wait(max(0.0, self.period - (time.monotonic() - t)))

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def between(self, t0: float, t1: float) -> list[tuple[float, float | None, float, Any]]:
        return [s for s in list(self.samples) if t0 <= s[0] <= t1]


def settle(server: Server, *, most: float, window: float = 10.0, tol: float = 2.0) -> tuple:
    """Poll the RSS every second until it changed by less than ``tol`` MiB over the last
    ``window`` s, or ``most`` s passed: ``(rss, seconds waited, steady)``."""
    t0, series = time.monotonic(), []
    while True:
        series.append((time.monotonic(), server.rss()))
        recent = [r for t, r in series if t >= series[-1][0] - window]
        waited = series[-1][0] - t0
        if waited >= window and max(recent) - min(recent) < tol:
            return series[-1][1], waited, True
        if waited >= most:
            return series[-1][1], waited, False
        time.sleep(1.0)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, np.float64), q))


# ---- the browser -----------------------------------------------------------------------------
# Every context (and, with ``launch``, the whole browser) sends anything that is not loopback to
# a proxy on a closed loopback port (9, discard): no request can leave the machine, whichever
# browser the contexts come from (the tests' shared one too).
GUARD_PROXY = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"}
GUARD_ARGS = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost"]
FIND_JS = """
const __loadFind = () => {
  for (const h of document.querySelectorAll('.stBidiComponentIsolated, [class*="stBidi"]')) {
    const r = h.shadowRoot && h.shadowRoot.querySelector('.optviz');
    if (r) return r;
  }
  const h = [...document.querySelectorAll('*')].find(
    (e) => e.shadowRoot && e.shadowRoot.querySelector('.optviz'));
  return h ? h.shadowRoot.querySelector('.optviz') : null;
};
"""
# Records (in page time, ms since navigation) when the chart is first drawn.
INIT_JS = (
    "(() => { if (window.top !== window) return;\n"
    + FIND_JS
    + """
  const tick = () => {
    try {
      const r = __loadFind(), s = r && r.__optviz && r.__optviz.state();
      if (s && s.imageReady && s.drawn >= 1) { window.__loadDrawnAt = performance.now(); return; }
    } catch (e) {}
    setTimeout(tick, 50);
  };
  setTimeout(tick, 50);
})();
"""
)
READ_JS = (
    "() => {\n"
    + FIND_JS
    + """
  const r = __loadFind(), i = r && r.__optvizInstance;
  if (!i || !i.model) return null;
  const app = document.querySelector("[data-testid='stApp']");
  return {
    id: i.id, names: i.model.opts.map((o) => o.name), surface: i.model.surface.name,
    frame: i.frame, errors: i.model.errors, search: location.search,
    script: app && app.getAttribute('data-test-script-state'),
    paths: i.model.opts.map((o) => (o.path ? {shape: o.path.shape, data: Array.from(o.path.data)}
                                           : null)),
  };
}
"""
)
# True once a rerun for ``seed`` is over: new document drawn, URL updated, script finished.
RERUN_DONE_JS = (
    "([previous, seed]) => {\n"
    + FIND_JS
    + """
  const r = __loadFind(), i = r && r.__optvizInstance, s = i && i.alive && r.__optviz.state();
  const app = document.querySelector("[data-testid='stApp']");
  return !!(s && i.id !== previous && s.drawn >= 1 && app &&
    app.getAttribute('data-test-script-state') === 'notRunning' &&
    new URLSearchParams(location.search).get('seed') === String(seed));
}
"""
)


@dataclasses.dataclass
class Session:
    """One browser context on one link (one Streamlit session)."""

    context: Any
    page: Any
    query: str
    server_url: str
    started: float
    requests: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    drawn_s: float | None = None  # navigation to drawn chart, in page time

    @property
    def foreign(self) -> list[str]:
        """Requests to anything but the server (and local schemes)."""
        ws = self.server_url.replace("http", "ws", 1)
        local = (self.server_url, ws, "data:", "blob:", "about:")
        return [u for u in self.requests if not u.startswith(local)]

    def read(self) -> dict | None:
        return self.page.evaluate(READ_JS)

    def close(self) -> None:
        try:
            self.context.close()
        except Exception as err:  # a crashed page must not hide the other results
            self.errors.append(f"close: {err}")


def launch(playwright: Any) -> Any:
    from tests.browser import ARGS, chromium_path

    path = chromium_path()
    if path is None:
        raise RuntimeError("no chromium (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=path, args=[*ARGS, *GUARD_ARGS])


def open_session(
    browser: Any, url: str, query: str, *, timeout: float = 60.0, navigate: bool = True
) -> Session:
    """A new context (own cookies, own Streamlit session) on ``url?query``; returns once the
    navigation has started. ``navigate=False``: the page stays blank until ``start(session)``."""
    assert urlsplit(url).hostname == HOST, url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, proxy=GUARD_PROXY)
    context.add_init_script(INIT_JS)
    page = context.new_page()
    session = Session(context, page, query, url, math.nan)
    page.on("request", lambda r: session.requests.append(r.url[:200]))
    page.on("pageerror", lambda e: session.errors.append(f"page error: {e}"))
    page.on(
        "console", lambda m: session.errors.append(f"console: {m.text}") if m.type == "error" else 0
    )
    if navigate:
        session.started = time.monotonic()
        page.goto(f"{url}?{query}", wait_until="commit", timeout=timeout * 1000)
    return session


def start(session: Session) -> None:
    """Navigate a blank session's page without waiting for the server's answer (so many
    sessions start within a fraction of a second; ``open_session`` waits for each response)."""
    session.started = time.monotonic()
    target = f"{session.server_url}?{session.query}"
    session.page.evaluate("(u) => { setTimeout(() => { location.href = u; }, 0); }", target)


def wait_drawn(sessions: Sequence[Session], *, timeout: float) -> None:
    """Wait until every session's chart is drawn (``drawn_s`` set) or ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pending = [s for s in sessions if s.drawn_s is None]
    while pending and time.monotonic() < deadline:
        for s in list(pending):
            try:
                at = s.page.evaluate("window.__loadDrawnAt ?? null")
            except Exception as err:  # e.g. the page navigated during the call: ask again
                if "destroyed" not in str(err) and "navigat" not in str(err):
                    s.errors.append(f"evaluate: {str(err)[:200]}")
                    pending.remove(s)
                continue
            if at is not None and s.page.url.startswith(s.server_url):
                s.drawn_s = at / 1000
                pending.remove(s)
        if pending:
            pending[0].page.wait_for_timeout(200)  # lets Playwright deliver events meanwhile


def open_section(page: Any, title: str, *, timeout: float = 30.0) -> None:
    """Expand a sidebar section (``st.expander``) by its title."""
    summary = page.locator("[data-testid='stSidebar'] [data-testid='stExpander'] summary").filter(
        has_text=re.compile(rf"{re.escape(title)}$")  # after the icon's ligature text
    )
    summary.first.wait_for(timeout=timeout * 1000)
    details = summary.first.locator("xpath=..")
    if details.get_attribute("open") is None:
        summary.first.click(timeout=timeout * 1000)


def rerun_seed(page: Any, seed: int, previous_id: str, *, timeout: float = 60.0) -> str:
    """Set the Seed input to ``seed`` (keyboard: type, Enter) and wait until that rerun is
    over; returns the new document's id."""
    box = page.get_by_label("Seed", exact=True)
    box.fill(str(seed), timeout=timeout * 1000)
    box.press("Enter", timeout=timeout * 1000)
    page.wait_for_function(
        RERUN_DONE_JS, arg=[previous_id, seed], polling=50, timeout=timeout * 1000
    )
    return page.evaluate("() => {" + FIND_JS + "return __loadFind().__optvizInstance.id; }")


# ---- the phases ------------------------------------------------------------------------------
@dataclasses.dataclass
class SessionResult:
    index: int
    experiment: Experiment
    query: str
    drawn_s: float | None
    ok: bool
    max_err: float
    why: str
    doc_id: str | None
    url_kept: bool
    foreign: list[str]
    errors: list[str]
    started: float = 0.0


def check_session(s: Session, index: int, e: Experiment, ref: Reference) -> SessionResult:
    got = None if s.drawn_s is None else s.read()
    if got is None:
        ok, err, why = (
            False,
            math.inf,
            "no chart drawn" + (f" ({s.errors[:2]})" if s.errors else ""),
        )
    else:
        ok, err, why = compare(got, ref)
    # the app keeps the address bar equal to the scene shown: it must still be this link
    kept = got is not None and parse_qs(got["search"].lstrip("?")) == parse_qs(s.query)
    if got is not None and not kept:
        ok, why = False, why or f"the URL became {got['search'][:120]!r}"
    foreign = s.foreign
    if foreign:
        ok, why = False, why or f"requests left the server: {foreign[:3]}"
    doc_id = got["id"] if got else None
    return SessionResult(
        index, e, s.query, s.drawn_s, ok, err, why, doc_id, kept, foreign, s.errors, s.started
    )


def run_concurrent(
    browser: Any,
    url: str,
    scenes: Sequence[Experiment],
    refs: Sequence[Reference],
    *,
    timeout: float,
    before_close: Any = None,
) -> list[SessionResult]:
    """Open one session per scene at once, wait for every chart, check each against its
    reference, call ``before_close()`` (sessions still open), then close them all."""
    sessions: list[Session] = []
    try:
        for e in scenes:  # contexts and pages first (slow with many: chromium starts renderers)
            sessions.append(open_session(browser, url, link(e), navigate=False))
        for s in sessions:  # then every navigation at once
            start(s)
        sessions[0].page.wait_for_timeout(500)
        wait_drawn(sessions, timeout=timeout)
        results = [
            check_session(s, i, e, ref)
            for i, (s, e, ref) in enumerate(zip(sessions, scenes, refs, strict=True))
        ]
        if before_close is not None:
            before_close()
        return results
    finally:
        for s in sessions:
            s.close()


@dataclasses.dataclass
class SoakResult:
    reruns: int = 0
    seconds: list[float] = dataclasses.field(default_factory=list)  # per rerun
    samples: list[tuple[int, float]] = dataclasses.field(default_factory=list)  # (rerun, MiB)
    checks: list[tuple[int, bool, float, str]] = dataclasses.field(default_factory=list)
    error: str = ""
    foreign: list[str] = dataclasses.field(default_factory=list)


def run_soak(
    browser: Any,
    server: Server,
    reruns: int,
    refs: dict[int, Reference],
    *,
    every: int,
    deadline: float,
    rerun_timeout: float = 60.0,
    on_sample: Any = None,
) -> SoakResult:
    """``reruns`` reruns of one session, alternating the Seed input over ``SOAK_SEEDS``; the
    server's RSS sampled (and ``on_sample()`` called) before the first and every ``every``."""
    out = SoakResult()
    s = open_session(browser, server.url, link(soak_scene(SOAK_SEEDS[0])))
    try:
        wait_drawn([s], timeout=120)
        if s.drawn_s is None:
            out.error = f"the soak page did not draw: {s.errors[:3]}"
            return out
        open_section(s.page, "Run")

        def check(k: int, seed: int) -> None:
            ok, err, why = compare(s.read() or {}, refs[seed])
            out.checks.append((k, ok, err, why))

        check(0, SOAK_SEEDS[0])
        out.samples.append((0, server.rss()))
        if on_sample is not None:
            on_sample()
        doc_id = s.read()["id"]
        for k in range(1, reruns + 1):
            if time.monotonic() > deadline:
                out.error = f"stopped at rerun {k - 1}: the time budget ran out"
                break
            seed = SOAK_SEEDS[k % len(SOAK_SEEDS)]
            t = time.perf_counter()
            doc_id = rerun_seed(s.page, seed, doc_id, timeout=rerun_timeout)
            out.seconds.append(time.perf_counter() - t)
            out.reruns = k
            if k % every == 0 or k == reruns:
                out.samples.append((k, server.rss()))
                if on_sample is not None:
                    on_sample()
                check(k, seed)
    except Exception as err:
        out.error = f"rerun {out.reruns + 1} failed: {type(err).__name__}: {str(err)[:300]}"
    finally:
        out.foreign = s.foreign
        s.close()
    return out


def soak_growth(samples: list[tuple[int, float]], warmup: int) -> tuple[float, float]:
    """RSS growth after the warm-up: (last - first sample at or after ``warmup``, MiB) and the
    least-squares slope over those samples (MiB per 100 reruns)."""
    after = [(k, r) for k, r in samples if k >= warmup]
    if len(after) < 2:
        return math.nan, math.nan
    ks, rs = np.array([k for k, _ in after], float), np.array([r for _, r in after], float)
    slope = float(np.polyfit(ks, rs, 1)[0]) * 100
    return float(rs[-1] - rs[0]), slope


# ---- memory: margins and what is expected ----------------------------------------------------
SOAK_MARGIN_MIB = 16.0
HEAP_SLACK_MIB = 24.0  # the gating memory check: heap in use after the load (see below)
LOAD_SLACK_MIB = 64.0  # the same on the RSS after malloc_trim (reported)
RESIDUE_MIB = 8.0  # a second wave of sessions on cached scenes may leave this much ...
RESIDUE_PER_SESSION_MIB = 1.0  # ... plus this much per session
HEALTH_EXCESS_MS = 1000.0  # "responsive": see the report's margins


def load_margin(expected: float, slack: float = HEAP_SLACK_MIB) -> float:
    """How much more memory the server may hold after the load than before it: what the scenes
    legitimately leave in its caches and JAX's compile cache (``expected``: measured in this
    process by ``expected_growth``, as heap in use or as RSS after ``malloc_trim``) plus a slack
    for what this process does not reproduce: the closed sessions Streamlit keeps for
    reconnection (``server.disconnectedSessionTTL``, 120 s) and Streamlit's own cache
    bookkeeping (``HEAP_SLACK_MIB``); on the RSS also fragmentation, which ``malloc_trim``
    cannot return and which grows with the number of threads that allocated at once
    (``LOAD_SLACK_MIB``)."""
    return expected + slack


def self_rss() -> float:
    return rss_mib(os.getpid())


def heap_in_use() -> float:
    """This process's heap in use (glibc ``mallinfo2``: ``uordblks + hblkhd``), MiB."""
    import ctypes

    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in names.split()]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    m = libc.mallinfo2()
    return (m.uordblks + m.hblkhd) / MIB


def live_rss() -> float:
    """This process's RSS after ``gc.collect()`` and glibc's ``malloc_trim(0)``: the memory in
    use, without freed memory the allocator keeps."""
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return self_rss()


def expected_growth(scenes: Sequence[Experiment]) -> tuple[list[Reference], float, dict]:
    """The engine references of ``scenes``; the live memory (MiB) that running them the way
    the server does costs: ``run``, the surface picture and the animator document, all kept
    (the server's caches keep them), compiled kernels included (call after a warm-up); and the
    mean size (MiB) of one scene's result arrays, picture and document (as JSON)."""
    kept: list = []
    before, heap_before = live_rss(), heap_in_use()
    refs = [reference(e, keep=kept) for e in scenes]
    grown = live_rss() - before
    sizes = {"result": 0.0, "picture": 0.0, "document": 0.0, "heap": heap_in_use() - heap_before}
    for result, picture, doc in kept:
        arrays = [result.position, result.loss, result.grad, result.update, result.lr]
        arrays += [v for fields in result.state for v in fields.values()]
        sizes["result"] += sum(a.nbytes for a in arrays) / MIB
        sizes["picture"] += (len(picture.png) + picture.grid.nbytes) / MIB
        sizes["document"] += len(json.dumps(doc)) / MIB
    sizes = {k: v if k == "heap" else v / max(1, len(kept)) for k, v in sizes.items()}
    del kept
    return refs, grown, sizes


def kernel_growth(n: int) -> dict[str, float]:
    """Engine-level, in this process: the live memory each distinct compiled kernel keeps.
    ``n`` custom formulas (each a new kernel structure; a user typing formulas makes them),
    then ``n`` more runs of one structure with other seeds (no new kernel), then
    ``kernel.clear_compiled()``."""
    from trajectories import kernel, run

    base = Experiment(
        surface="custom",
        optimizers=(
            OptimizerSpec("Adam", {"learning_rate": 0.05}),
            OptimizerSpec("Momentum", {"learning_rate": 0.01}),
        ),
        steps=300,
        noise=0.1,
    )

    def formula(k: int) -> Experiment:
        return base.replace(surface_params={"formula": f"(x - {k / 10:g})^2 + {k}*y^2"})

    run(formula(0))
    r0, c0 = live_rss(), kernel.compile_count()
    t = time.perf_counter()
    for k in range(1, n + 1):
        run(formula(k))
    seconds = (time.perf_counter() - t) / n
    r1, c1 = live_rss(), kernel.compile_count()
    for seed in range(1, n + 1):
        lr = OptimizerSpec("Adam", {"learning_rate": 0.01 * seed})
        run(formula(1).replace(seed=seed, noise=0.1 * seed, optimizers=(lr, base.optimizers[1])))
    r2, c2 = live_rss(), kernel.compile_count()
    kernel.clear_compiled()
    r3 = live_rss()
    # the bound: with room for BOUND_TRIAL plans, n more formulas keep only that many kernels
    bound, kernel.MAX_COMPILED_PLANS = kernel.MAX_COMPILED_PLANS, BOUND_TRIAL
    try:
        for k in range(n + 1, 2 * n + 1):
            run(formula(k))
        r4 = live_rss()
    finally:
        kernel.MAX_COMPILED_PLANS = bound
        kernel.clear_compiled()
    return {
        "n": n,
        "kernels": c1 - c0,
        "grown": r1 - r0,
        "per_kernel": (r1 - r0) / max(1, c1 - c0),
        "compile_s": seconds,
        "same_structure": r2 - r1,
        "same_structure_kernels": c2 - c1,
        "cleared": r3 - r2,
        "bounded": r4 - r3,
        "bound": BOUND_TRIAL,
    }


BOUND_TRIAL = 4  # kernel_growth: plans kept while measuring the bound


# ---- the report ------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    return {
        **describe_machine(("streamlit", "jax", "jaxlib", "numpy", "playwright")),
        "git": git_revision(),
    }


def fmt(v: float | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def signed(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:+.{digits}f}"


def describe(e: Experiment) -> tuple[str, str]:
    params = ",".join(f"{k}={v:g}" for k, v in e.surface_params.items())
    surface = e.surface + (f" ({params})" if params else "")
    opts = ", ".join(f"{o.kind} {o.values()['learning_rate']:.3g}" for o in e.optimizers)
    return surface, opts


def latency_stats(samples: list[tuple], column: int = 1) -> dict[str, float]:
    """Latency percentiles of a Monitor column (1: the app, 3: the control), and the p95 of the
    app's latency in excess of the control's, poll by poll."""
    ok = [s[column] for s in samples if s[column] is not None]
    excess = [s[1] - s[3] for s in samples if s[1] is not None and s[3] is not None]
    return {
        "n": len(samples),
        "failed": len(samples) - len(ok),
        "p50": percentile(ok, 50),
        "p95": percentile(ok, 95),
        "max": max(ok) if ok else math.nan,
        "excess_p95": percentile(excess, 95),
    }


def _probe_cells(f: dict[str, Any]) -> str:
    if not f:
        return "- | - | - | - | -"
    caches = f.get("caches", {})
    entries = ", ".join(f"{k} {v}" for k, v in sorted(caches.items())) or "-"
    sessions = f"{f.get('sessions_active', '-')} / {f.get('sessions_kept', '-')}"
    if f.get("sessions_stored", f.get("sessions_kept")) != f.get("sessions_kept"):
        sessions += f" ({f['sessions_stored']} stored)"
    return (
        f"{fmt(f.get('heap_used'))} | {fmt(f.get('heap_free'))} | {sessions} | {entries} | "
        f"{f.get('compiled', '-')}"
    )


def report(r: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    soak: SoakResult = r["soak"]
    add("# Load and isolation: concurrent sessions and a rerun soak on one app server")
    add("")
    add(
        f"Written by `benchmarks/load.py` ({'quick' if r['quick'] else 'full'} run: "
        f"{r['sessions']} concurrent sessions, {r['reruns']} reruns; took "
        f"{r['elapsed'] / 60:.1f} min). Reproduce: `PYTHONPATH=. .venv/bin/python "
        f"benchmarks/load.py{' --quick' if r['quick'] else ''}`. Server, browser and every "
        "request on loopback (127.0.0.1). The server starts as `python -m app.serve` does: "
        "the default scene computed first, then `gc.freeze()`, then Streamlit."
        + (f" Server environment: `{' '.join(r['server_env'])}`." if r["server_env"] else "")
    )
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    for k, v in r["machine"].items():
        add(f"| {k} | {v} |")
    add(f"| chromium | {r['chromium']} (headless, one process, one context per session) |")
    add(f"| date | {r['date']} |")
    add(f"| load average (1/5/15 min) | {r['load_start']} at start, {r['load_end']} at end |")
    add("")
    add(
        "The machine is shared with other work (see the load average against 2 cores): the "
        "times below are what a user of this machine would have seen, not a best case; the "
        "memory figures do not depend on it."
    )
    add("")
    add("## Verdict")
    add("")
    add("| check | result |")
    add("|---|---|")
    for name, passed, detail, gating in r["verdict"]:
        mark = "**met**" if passed else "**NOT met**"
        add(f"| {name}{'' if gating else ' (reported, not gating)'} | {mark}: {detail} |")
    add("")
    # ---- sessions
    results: list[SessionResult] = r["load_results"]
    add(f"## {r['sessions']} concurrent sessions, each on its own scene")
    add("")
    add(
        f"Every context navigated within {fmt(r['open_spread_s'], 2)} s of the first, so the "
        "sessions loaded, computed and drew at the same time. Links open paused (`f=0`): "
        "twenty canvases animating in one headless chromium would take the two cores from the "
        "server being measured. *time to chart*: navigation to the animator's first drawn frame "
        "(surface image loaded), in page time. *plotted = engine*: the paths the animator "
        "decoded and drew, read from the component in the page, against `trajectories.run` of "
        "the scene in this process, projected to the view (tolerance 1e-5 relative, at least "
        "1e-5 absolute); the optimizers' names carry the scene number, the page's URL must "
        "still be the scene's link after the run."
    )
    add("")
    add(
        "| # | surface | optimizers (learning rate) | starts | steps | noise | seed | "
        "time to chart s | plotted = engine | max abs err | document id |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in results:
        surface, opts = describe(s.experiment)
        verdict = "yes" if s.ok else f"**NO**: {s.why}"
        add(
            f"| {s.index} | {surface} | {opts} | {len(s.experiment.starts)} | "
            f"{s.experiment.steps} | {s.experiment.noise:g} | {s.experiment.seed} | "
            f"{fmt(s.drawn_s, 1)} | {verdict} | {s.max_err:.2g} | `{s.doc_id}` |"
        )
    times = [s.drawn_s for s in results if s.drawn_s is not None]
    add("")
    add(
        f"Time to chart: median {fmt(percentile(times, 50))} s, p95 "
        f"{fmt(percentile(times, 95))} s, max {fmt(max(times) if times else None)} s. For "
        f"comparison, one session alone on the warm server: {fmt(r['single_s'])} s (a new "
        f"scene: one kernel compiled); the first session of the cold server: "
        f"{fmt(r['warmup_s'])} s (imports, JAX start-up, a compile). Each of the "
        f"{len(results)} scenes compiles its own kernel and surface picture, and the 2 cores "
        f"also run chromium's {len(results)} pages, so the sessions queue. The engine "
        f"references differ pairwise: {r['distinct']}; {len({s.doc_id for s in results})} "
        "distinct documents were received."
    )
    add("")
    add("### Responsiveness during the load")
    add("")
    add(
        "`GET /_stcore/health` every 200 ms from this process (timeout 5 s). Streamlit answers "
        "it on its event loop, so its latency is how long any request (a click, a websocket "
        "message) waits to be picked up. Each poll is followed by one of a *control*: a minimal "
        "HTTP server in its own process on the same machine (`CONTROL_BOOT`), whose latency is "
        "what the machine itself adds (other work on it, chromium, this process); *server's "
        "share*: the p95 of the app's latency minus the control's, poll by poll."
    )
    add("")
    add(
        "| phase | polls | failed | p50 ms | p95 ms | max ms | control p50 / p95 / max ms | "
        "server's share p95 ms |"
    )
    add("|---|---|---|---|---|---|---|---|")
    for label, st, ct in (
        ("idle (before)", r["lat_idle"], r["ctl_idle"]),
        (f"{r['sessions']} sessions loading", r["lat_load"], r["ctl_load"]),
        ("second wave (cached scenes)", r["lat_wave2"], r["ctl_wave2"]),
    ):
        add(
            f"| {label} | {st['n']} | {st['failed']} | {fmt(st['p50'])} | {fmt(st['p95'])} | "
            f"{fmt(st['max'])} | {fmt(ct['p50'])} / {fmt(ct['p95'])} / {fmt(ct['max'])} | "
            f"{fmt(st['excess_p95'])} |"
        )
    add("")
    add(
        f"During the load ({fmt(r['load_s'], 0)} s) the server process used "
        f"{fmt(r['server_cores'], 2)} cores on average and the whole machine was "
        f"{fmt(100 * r['machine_busy'], 0)}% busy (both cores)."
    )
    add("")
    prof = r.get("profile") or {}
    if prof.get("top"):
        add(
            f"Where the server's threads were during the load: the probe sampled every thread's "
            f"stack every 20 ms ({prof['samples']} samples; `sys._current_frames()`): the "
            "innermost function of the repository on the stack, and the innermost function "
            "(*idle*: waiting on a lock, a queue or the selector). *share*: the fraction of "
            "samples in which a thread of that kind was there; the script threads' shares add up "
            "to the average number of script threads alive."
        )
        add("")
        add("| thread | in the repository | innermost | share |")
        add("|---|---|---|---|")
        for kind, repo, state, share_ in prof["top"][:16]:
            add(f"| {kind} | `{repo}` | `{state}` | {share_:.2f} |")
        add("")
        wake, loop = prof.get("wake_ms", {}), prof.get("loop_ms", {})
        add(
            "Delays inside the server during the load, ms (p50 / p95 / max): a callback handed "
            f"to the event loop ran after {fmt(loop.get('p50'))} / {fmt(loop.get('p95'))} / "
            f"{fmt(loop.get('max'))}; a thread sleeping 100 ms woke late by "
            f"{fmt(wake.get('p50'))} / {fmt(wake.get('p95'))} / {fmt(wake.get('max'))} "
            "(waiting for a core or the GIL). Python's garbage collections (`gc.callbacks`; "
            "each holds the GIL, so nothing else in the server runs meanwhile):"
        )
        add("")
        add("| generation | collections | total ms | p95 ms | longest ms |")
        add("|---|---|---|---|---|")
        for g, st in sorted((prof.get("gc") or {}).items()):
            add(
                f"| {g} | {st.get('n', 0)} | {fmt(st.get('total_ms'), 0)} | "
                f"{fmt(st.get('p95'), 0)} | {fmt(st.get('max'), 0)} |"
            )
        add("")
    # ---- memory
    add("### Server memory")
    add("")
    add(
        "*RSS*: `VmRSS` of the server process and its children (`/proc`). The other columns "
        "come from a probe thread in the server (see `PROBE_BOOT`): glibc's `mallinfo2` (heap "
        "*in use*; *free*: freed but kept by the allocator, counted in the RSS), the sessions "
        "Streamlit holds (connected / closed but kept for reconnection), the entries of the "
        "app's caches and the kernels JAX compiled (`kernel.compile_count()`)."
    )
    add("")
    add("| when | RSS MiB | heap in use MiB | heap free MiB | sessions | cache entries | kernels |")
    add("|---|---|---|---|---|---|---|")
    for label, key in (
        ("cold: server started, no session yet", "cold"),
        ("warm baseline: the warm-up session and one more, each drawn and closed", "warm"),
        (f"all {r['sessions']} sessions open, charts drawn", "open"),
        (
            f"after closing them all (+{r['after_wait']:.0f} s, "
            f"{'steady' if r['after_steady'] else 'still changing'})",
            "after",
        ),
        ("then `gc.collect()` in the server", "collected"),
        ("then `malloc_trim(0)` in the server", "trimmed"),
    ):
        add(f"| {label} | {fmt(r['rss'][key])} | {_probe_cells(r['probe'].get(key, {}))} |")
    add("")
    add(f"Peak RSS during the load: {fmt(r['rss_peak'])} MiB.")
    add("")
    add(
        f"| growth over the warm baseline, MiB | server | expected: the same {r['sessions']} "
        "scenes run here (run, picture, document, kernels, all kept) | margin | within |"
    )
    add("|---|---|---|---|---|")
    for label, got, want, margin in (
        ("heap in use (`mallinfo2`)", r["growth_heap"], r["expected_heap"], r["margin_heap"]),
        ("RSS after `malloc_trim(0)`", r["growth_live"], r["expected"], r["margin"]),
        ("RSS as it is after the load", r["growth_raw"], r["expected"], r["margin"]),
    ):
        add(
            f"| {label} | {signed(got)} | {signed(want)} | {signed(margin)} | "
            f"{'yes' if got <= margin else '**no**'} |"
        )
    sz = r["sizes"]
    add("")
    add(
        f"One scene's cache entries, on average: result arrays {fmt(sz['result'], 2)} MiB, "
        f"surface picture {fmt(sz['picture'], 2)} MiB (grid and PNG), animator document "
        f"{fmt(sz['document'], 2)} MiB (JSON); the rest of the expected growth is JAX's: "
        "compiled kernels and what tracing them keeps."
    )
    census = r["probe"].get("census", {}).get("census", {})
    if census:
        watched = ", ".join(f"{k} {v}" for k, v in census.get("watched", {}).items())
        add("")
        add(
            f"Live objects in the server after the load (`gc.get_objects()`, after a "
            f"collection): {watched}; {census.get('objects', 0):,} objects in all."
        )
    add("")
    # ---- second wave
    wave2: list[SessionResult] = r["wave2_results"]
    add(f"## Second wave: {r['sessions']} sessions on the same scenes, after the soak")
    add("")
    times2 = [s.drawn_s for s in wave2 if s.drawn_s is not None]
    add(
        f"Every result is cached by then, so the server computes nothing new and whatever the "
        f"sessions leave behind shows on its own. {sum(s.ok for s in wave2)} of {len(wave2)} "
        f"sessions plotted exactly their scene again (served from the shared caches); time to "
        f"chart median {fmt(percentile(times2, 50))} s, max "
        f"{fmt(max(times2) if times2 else None)} s (no compiling: this is the server and "
        f"chromium's {len(wave2)} pages sharing 2 cores)."
    )
    bad2 = [s for s in wave2 if not s.ok]
    if bad2:
        add("")
        add("Failed: " + "; ".join(f"#{s.index}: {s.why}" for s in bad2[:5]))
    add("")
    add("| | RSS MiB (after `malloc_trim`) | heap in use MiB | heap free MiB | sessions | "
        "cache entries | kernels |")  # fmt: skip
    add("|---|---|---|---|---|---|---|")
    add(f"| before the wave | {fmt(r['rss']['before2'])} | {_probe_cells(r['probe']['before2'])} |")
    add(f"| after it | {fmt(r['rss']['after2'])} | {_probe_cells(r['probe']['trimmed2'])} |")
    add("")
    add(
        f"Residue: **{signed(r['residue'])} MiB** (margin {signed(r['residue_margin'])}). "
        f"`AppSession` objects alive after the wave: {r['sessions_alive2']}, for "
        f"{r['sessions_held2']} sessions Streamlit holds (connected, or stored for reconnection, "
        "expired ones included until its `TTLCache` drops them)."
    )
    add("")
    # ---- soak
    add("## Soak: reruns of one session")
    add("")
    add(
        "One session on a noisy Himmelblau scene (Adam and Momentum, 300 steps, noise 0.3). "
        f"Each rerun types the next of the seeds {list(SOAK_SEEDS)} into the sidebar's Seed "
        "input and presses Enter, then waits until the animator shows that run's document, the "
        "URL carries the seed and the script has finished (`data-test-script-state`). The "
        "first four reruns compute; the rest are cache hits, like most reruns of a real session "
        "(a widget moved back and forth)."
    )
    add("")
    if soak.error:
        add(f"**Soak incomplete**: {soak.error}")
        add("")
    secs = soak.seconds
    add(
        f"{soak.reruns} reruns; time per rerun, Enter to drawn: median "
        f"{fmt(percentile(secs, 50) * 1000, 0)} ms, p95 {fmt(percentile(secs, 95) * 1000, 0)} "
        f"ms, max {fmt(max(secs) * 1000 if secs else None, 0)} ms. Plotted paths checked "
        f"against the engine at every sample: {sum(ok for _, ok, _, _ in soak.checks)} of "
        f"{len(soak.checks)} equal."
    )
    add("")
    add(
        "| after rerun | RSS MiB | RSS vs first sample after warm-up | heap in use MiB | "
        "heap free MiB | sessions | cache entries | kernels |"
    )
    add("|---|---|---|---|---|---|---|---|")
    base = next((m for k, m in soak.samples if k >= r["soak_warmup"]), math.nan)
    for (k, mib), f in zip(soak.samples, r["soak_probe"], strict=False):
        delta = signed(mib - base) if k >= r["soak_warmup"] else "(warm-up)"
        add(f"| {k} | {fmt(mib)} | {delta} | {_probe_cells(f)} |")
    add("")
    add(
        f"Growth over reruns {r['soak_warmup']}–{soak.reruns}: RSS **{signed(r['soak_growth'])} "
        f"MiB** (least-squares slope {signed(r['soak_slope'], 2)} MiB per 100 reruns), heap in "
        f"use {signed(r['soak_heap_growth'])} MiB; margin {SOAK_MARGIN_MIB:g} MiB."
    )
    add("")
    # ---- kernels
    k = r.get("kernels")
    add("## Compiled kernels: the growth that stays")
    add("")
    if not k:
        add("Not measured in a quick run.")
    else:
        add(
            f"Engine only, in this process: {k['n']} runs of scenes that differ in their kernel's "
            f"structure (custom formulas: a user typing formulas makes them), then {k['n']} runs "
            "of one of them with other seeds, noise levels and learning rates, then "
            "`kernel.clear_compiled()`. "
            "Live memory (after `gc.collect()` and `malloc_trim(0)`):"
        )
        add("")
        add("| | kernels compiled | live memory MiB |")
        add("|---|---|---|")
        add(
            f"| {k['n']} new structures | {k['kernels']} | {signed(k['grown'])} "
            f"({fmt(k['per_kernel'], 2)} per kernel; {fmt(k['compile_s'], 2)} s per run) |"
        )
        add(
            f"| {k['n']} runs of one structure (other seeds, noise, learning rates) | "
            f"{k['same_structure_kernels']} | {signed(k['same_structure'])} |"
        )
        add(f"| `kernel.clear_compiled()` | - | {signed(k['cleared'])} |")
        if "bounded" in k:
            add(
                f"| {k['n']} more new structures, `MAX_COMPILED_PLANS` = {k['bound']} | "
                f"{k['n']} | {signed(k['bounded'])} |"
            )
    add("")
    # ---- margins
    add("## Margins, and why")
    add("")
    add(
        "- **Sessions must not leak into each other**: exact equality (to float32 rounding) of "
        "every session's plotted paths with its own scene's engine result, with references "
        "that differ pairwise, so that one session showing another's result cannot pass."
    )
    add(
        "- **Responsive**: no health check fails (5 s timeout), and the server's own share of "
        f"the latency (over the control's, poll by poll) stays under {HEALTH_EXCESS_MS:g} ms at "
        "p95 while the sessions load: a click then still gets an answer within about a second "
        "beyond what the machine imposes on any process. The raw figures are reported too; on "
        "a machine shared with other work they mostly measure that work."
    )
    add(
        "- **Memory after the load**: the server may keep what its caches legitimately hold "
        "for the scenes it ran, and nothing per session. `app/compute.py` bounds the caches by "
        "entries: `result` (`st.cache_resource`, 128 runs), `document` (`st.cache_resource`, "
        "64 animator documents), `surface_picture` (`st.cache_data`, 64 pictures; 16 per sweep "
        "function); the engine's `_prepared` (`functools.lru_cache`, 256 descriptions) and "
        "`surface_image._grid_fn` (64 jitted grid functions). JAX keeps every compiled "
        "executable for the life of the process: one per distinct kernel structure (surface "
        "and its static parameters, optimizer groups, step bucket; a changed learning rate, "
        "start, noise or seed does not recompile). That growth is expected and is not "
        "released. *Expected* is measured, not guessed: this process runs the same scenes "
        "through the same code after the same warm-up and keeps what the caches keep; its "
        "growth is the figure. The gating check compares **heap in use** (glibc's count of "
        "allocated bytes: what the program holds, whatever the allocator does with freed "
        f"memory) with a slack of {HEAP_SLACK_MIB:g} MiB for the closed sessions Streamlit keeps "
        "for reconnection (`server.disconnectedSessionTTL`, 120 s) and its cache bookkeeping; "
        "a leak per session is also checked, more finely, by the second wave. The RSS after "
        f"`malloc_trim` is compared with the expected RSS growth plus {LOAD_SLACK_MIB:g} MiB and "
        "reported: it also counts pages that are partly free (fragmentation grows with the "
        "number of threads that allocated at once: here one per session, against one in this "
        "process), and the RSS as it is counts the allocator's free memory as well (see "
        "Findings)."
    )
    add(
        f"- **Second wave**: {r['sessions']} more sessions on the same, now cached, scenes "
        "compute nothing new, so the live memory after them must be what it was before, up to "
        f"{RESIDUE_MIB:g} MiB of allocator noise plus {RESIDUE_PER_SESSION_MIB:g} MiB per "
        "session (a session's own state is a few KiB of widget values and the experiment's "
        "JSON; a document or result kept per session would be 0.1-2 MiB each, see the "
        "documents' sizes above). And no `AppSession` may outlive Streamlit's own record of "
        "it (connected or stored for reconnection)."
    )
    add(
        f"- **Soak**: reruns whose results are all cached allocate only transient objects (the "
        "widget tree, a JSON-safe copy of the animator document, the messages to the browser). "
        f"More than {SOAK_MARGIN_MIB:g} MiB of RSS growth over the reruns after the warm-up "
        f"({max(1, soak.reruns - r['soak_warmup'])} reruns: "
        f"{SOAK_MARGIN_MIB * 1024 / max(1, soak.reruns - r['soak_warmup']):.0f} KiB a rerun) "
        "would mean something is kept per rerun. The margin also absorbs the allocator's "
        "noise: the RSS of a steady server moves by a few MiB from sample to sample."
    )
    add("")
    add("## Findings")
    add("")
    for f in r["findings"]:
        add(f"- {f}")
    add("")
    return "\n".join(lines)


def findings(r: dict[str, Any]) -> list[str]:
    """What the figures say, with the evidence, and what to do about it."""
    out = []
    p, rss = r["probe"], r["rss"]
    n = r["sessions"]
    leaks = [s for s in r["load_results"] if not s.ok]
    if leaks:
        out.append(
            f"**Isolation failed** for sessions {[s.index for s in leaks]}: "
            + "; ".join(f"#{s.index}: {s.why}" for s in leaks[:5])
        )
    else:
        out.append(
            f"**No leak between sessions.** All {n} sessions plotted exactly their own scene "
            "(maximum difference "
            f"{max(s.max_err for s in r['load_results']):.2g}, i.e. the same float32 values), "
            "although they ran at once and share the cached `result`/`document` objects, "
            "the compiled kernels and the surface pictures; every page's URL was still its own "
            "link afterwards."
        )
    after, collected, trimmed = (p.get(k, {}) for k in ("after", "collected", "trimmed"))
    if after and trimmed:
        out.append(
            "**The RSS does not come back by itself after a burst of sessions, but nothing "
            f"leaks: glibc keeps the freed memory.** After the load the RSS was "
            f"{signed(r['growth_raw'])} MiB over the warm baseline, steady; the allocator "
            f"reported {fmt(after.get('heap_used'))} MiB in use and "
            f"{fmt(after.get('heap_free'))} MiB *free* but kept in its arenas (the transient "
            f"peak of {n} script runs at once: {fmt(r['rss_peak'])} MiB RSS). `gc.collect()` "
            f"in the server found {collected.get('collected', '-')} unreachable objects and "
            f"changed the RSS by {signed(rss['collected'] - rss['after'])} MiB (no garbage "
            f"cycles hold memory); `malloc_trim(0)` returned "
            f"{fmt(rss['collected'] - rss['trimmed'])} MiB to the system at once, leaving "
            f"{signed(r['growth_live'])} MiB over the baseline against "
            f"{signed(r['expected'])} MiB expected for the scenes' cache entries and kernels "
            "(the rest: pages left partly used in the arenas of the threads that ran at once). "
            f"What the program holds, the heap in use, grew {signed(r['growth_heap'])} MiB "
            f"against {signed(r['expected_heap'])} MiB for the same scenes run here, and a "
            f"second wave of {n} sessions on the same scenes added {signed(r['residue'])} MiB: "
            "the memory is the caches' and the kernels', none is left per session. "
            "Fix (deployment, no code change in the app's logic): run the "
            "server with `MALLOC_ARENA_MAX=2` (glibc gives each thread that allocates "
            "concurrently its own arena, up to 8 per core, and Streamlit runs every script run "
            "on a thread of its own) and/or call `malloc_trim(0)` when sessions end (e.g. from "
            "a `st.runtime` session-end hook or a periodic timer), or preload jemalloc. "
            "`benchmarks/load.py --server-env MALLOC_ARENA_MAX=2` measures the first."
        )
    prof = r.get("profile") or {}
    if prof.get("top"):

        def share(kind: str, test: Any) -> float:
            return sum(x[3] for x in prof["top"] if x[0] == kind and test(x[2]))

        idle = share("event loop", lambda st: st == "idle")
        writing = share("event loop", lambda st: "write" in st)
        compiling = share("script", lambda st: "compile" in st)
        lat, ctl = r["lat_load"], r["ctl_load"]
        wake, loop = prof.get("wake_ms", {}), prof.get("loop_ms", {})
        met = lat["failed"] == 0 and lat["excess_p95"] <= HEALTH_EXCESS_MS
        gc1, gc2 = (prof.get("gc") or {}).get("1", {}), (prof.get("gc") or {}).get("2", {})
        objects = p.get("census", {}).get("census", {}).get("objects", 0)
        out.append(
            f"**Responsiveness under load: {'met' if met else 'NOT met'} on this machine.** "
            f"With {n} sessions loading, {lat['failed']} of {lat['n']} health checks timed out "
            f"(5 s); the others answered in p50 {fmt(lat['p50'], 0)} / "
            f"p95 {fmt(lat['p95'], 0)} / max {fmt(lat['max'], 0)} ms, the control server on the "
            f"same machine in {fmt(ctl['p50'], 0)} / {fmt(ctl['p95'], 0)} / "
            f"{fmt(ctl['max'], 0)} ms: the server's own share was p95 "
            f"{fmt(lat['excess_p95'], 0)} ms (limit {HEALTH_EXCESS_MS:g}). Inside the server "
            f"(probe, sampled every 20 ms): the event loop was idle {100 * idle:.0f}% of the time "
            f"and writing to sockets {100 * writing:.0f}% (the frontend's files and the "
            f"documents going to {n} browsers); a callback handed to it ran after p95 "
            f"{fmt(loop.get('p95'), 0)} ms (max {fmt(loop.get('max'), 0)}); a sleeping thread "
            f"of the server woke p95 {fmt(wake.get('p95'), 0)} ms late (waiting for a core or "
            f"the GIL); on average {compiling:.1f} script threads were inside XLA compilation "
            "(`backend_compile_and_load`: the scenes' kernels and their surface pictures' grid "
            f"functions). The server used {fmt(r['server_cores'], 2)} cores on average while "
            f"the machine was {fmt(100 * r['machine_busy'], 0)}% busy (load average "
            f"{r['load_start']} at the start). "
            f"Garbage collection: {gc2.get('n', 0)} full (generation 2) collections, the "
            f"longest {fmt(gc2.get('max'), 0)} ms, {fmt(gc2.get('total_ms'), 0)} ms in all; "
            f"generation 1 at most {fmt(gc1.get('max'), 0)} ms. A collection holds the GIL, so "
            "the event loop cannot answer meanwhile; a full one walks every tracked object, and "
            f"the server keeps {objects:,} of them after the load (JAX's traced programs for "
            "every kernel, among others). XLA compilation itself releases the GIL (checked "
            "outside the app: a thread ticking every 5 ms stayed within 31 ms through 0.8 s "
            "compiles). Two measures in the app answer this (both measured by this run): "
            "`app.serve` calls `gc.freeze()` once the default scene is warm, so full collections "
            "skip everything alive by then (a trial with 12 sessions before it was applied cut "
            "the longest full collection from 1508 ms to 45 ms); and `app/compute.py` runs one "
            "engine computation at a time (`_ENGINE` lock), so new scenes queue for the "
            "compiler instead of tracing side by side: on 2 cores the total time stays about "
            "the same while the garbage produced at once and the peak memory drop. What "
            f"remains is the machine itself: {n} browser pages and the server on 2 cores."
        )
    kept = after.get("sessions_kept")
    if kept:
        census = p.get("census", {}).get("census", {}).get("watched", {})
        out.append(
            f"**Closed sessions stay in memory for a while (by design).** After the load "
            f"{kept} closed sessions were still held "
            f"({census.get('AppSession', '-')} `AppSession`, {census.get('SessionState', '-')} "
            "`SessionState` objects alive): Streamlit keeps a disconnected session for "
            "`server.disconnectedSessionTTL` (120 s) so a reconnecting browser finds its state, "
            "and its `TTLCache` drops expired ones only when another session is stored. Each is "
            "small here (widget values, the experiment JSON, the animator's last value; the run "
            "results live in the shared caches, not in the session), bounded by the TTL and "
            "`MemorySessionStorage`'s 128 entries. Nothing to fix; lower the TTL if a deployment "
            "sees many short visits."
        )
    k = r.get("kernels")
    if k:
        out.append(
            "**Compiled kernels: bounded by count.** Every distinct kernel structure keeps "
            f"about {fmt(k['per_kernel'])} MiB of live memory while it is compiled (measured: "
            f"{k['n']} custom formulas, {signed(k['grown'])} MiB; the same number of runs of "
            f"one structure with other seeds: {signed(k['same_structure'])} MiB), and a server "
            "meets new structures without end (each typed formula, dimension, hidden size, step "
            "bucket or optimizer combination is one). `trajectories/kernel.py` keeps one jitted "
            "function per plan and drops the least recently used past "
            "`limits.MAX_COMPILED_PLANS` (48, about 0.7 GiB); a dropped plan compiles again if "
            "it comes back. Measured here with a bound of "
            f"{k.get('bound', '-')}: {k['n']} more new formulas left "
            f"{signed(k.get('bounded', math.nan))} MiB, about "
            f"{fmt(k.get('bounded', math.nan) / max(k['per_kernel'], 1e-9), 1)} kernels' worth "
            f"instead of {k['n']}; `kernel.clear_compiled()` gives everything back "
            f"({fmt(-k['cleared'])} MiB)."
        )
    if r["soak_growth"] <= SOAK_MARGIN_MIB and not r["soak"].error:
        out.append(
            f"**No growth per rerun.** {r['soak'].reruns} reruns of one session: RSS "
            f"{signed(r['soak_growth'])} MiB after the warm-up, heap in use "
            f"{signed(r['soak_heap_growth'])} MiB; the session's state, the component's data "
            "and the caches do not accumulate anything per rerun."
        )
    return out


# ---- main ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=None, help="concurrent sessions (20)")
    ap.add_argument("--reruns", type=int, default=None, help="reruns of the soak (500)")
    ap.add_argument("--quick", action="store_true", help="4 sessions, 30 reruns, ~3 minutes")
    ap.add_argument("--budget", type=float, default=None, help="deadline in s (900; quick 210)")
    ap.add_argument("--kernels", type=int, default=None, help="formulas compiled (10; quick 0)")
    ap.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="for the server"
    )
    ap.add_argument("--out", type=Path, default=None, help="the Markdown report")
    args = ap.parse_args(argv)
    # a terminated run still stops its server, control server and browser (``finally``/``with``)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    quick = args.quick
    n_sessions = args.sessions or (4 if quick else 20)
    reruns = args.reruns if args.reruns is not None else (30 if quick else 500)
    budget = args.budget or (210.0 if quick else 900.0)
    window = 5.0 if quick else 10.0  # s of steady RSS that end a wait (at most 60 s)
    n_kernels = args.kernels if args.kernels is not None else (0 if quick else 10)
    server_env = {"LOAD_PREPARE": "1", **dict(item.split("=", 1) for item in args.server_env)}
    out = args.out or (ARTIFACTS / "LOAD_RESULTS_quick.md" if quick else RESULTS)
    t_start = time.monotonic()
    deadline = t_start + budget
    r: dict[str, Any] = {
        "quick": quick,
        "sessions": n_sessions,
        "reruns": reruns,
        "server_env": args.server_env,
        "machine": machine(),
        "load_start": loadavg(),
        "date": now(),
        "rss": {},
        "probe": {},
    }

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t_start:6.1f}s] {msg}", flush=True)

    # in this process: compiled-kernel growth, references and the expected cache growth
    if n_kernels:
        log(f"compiled-kernel growth: {n_kernels} custom formulas")
        r["kernels"] = kernel_growth(n_kernels)
        log(f"  {r['kernels']['per_kernel']:.1f} MiB per kernel")
    scenes = [scene(i) for i in range(n_sessions)]
    for e in scenes:
        if decoded(link(e)).to_json() != e.to_json():
            raise RuntimeError(f"the link of {e} does not round-trip")
    log("engine references and the expected growth, in this process")
    reference(WARMUP.experiment)  # the same warm-up as the server's
    refs, r["expected"], r["sizes"] = expected_growth(scenes)
    soak_refs = {seed: reference(soak_scene(seed)) for seed in SOAK_SEEDS}
    distinct = all(a.differs_from(b) for i, a in enumerate(refs) for b in refs[i + 1 :])
    r["distinct"] = "yes" if distinct else "**NO**"
    log(f"  expected growth for {n_sessions} scenes: {r['expected']:.1f} MiB")

    from playwright.sync_api import sync_playwright

    with (
        Control() as control,
        Server(env=server_env, timeout=180) as server,
        sync_playwright() as pw,
    ):
        browser = launch(pw)
        r["chromium"] = browser.version
        monitor = Monitor(server, control, limit=budget + 120)
        monitor.start()
        time.sleep(3)
        r["rss"]["cold"], r["probe"]["cold"] = server.rss(), server.figures()
        idle = monitor.between(t_start, time.monotonic())
        r["lat_idle"], r["ctl_idle"] = latency_stats(idle), latency_stats(idle, 3)
        log(f"server up (pid {server.pid}, {server.url}); cold RSS {r['rss']['cold']:.1f} MiB")
        # warm-up: imports the app, starts JAX, compiles one kernel
        warm = open_session(browser, server.url, share.query_string(WARMUP))
        wait_drawn([warm], timeout=min(180, deadline - time.monotonic()))
        r["warmup_s"] = warm.drawn_s
        warm.close()
        if r["warmup_s"] is None:
            raise RuntimeError(f"the warm-up session did not draw: {warm.errors[:3]}")
        log(f"warm-up drawn in {r['warmup_s']:.1f} s")
        # one session alone (a scene outside the load), for comparison
        alone = open_session(browser, server.url, link(soak_scene(SOAK_SEEDS[-1])))
        wait_drawn([alone], timeout=120)
        r["single_s"] = alone.drawn_s
        alone.close()
        r["rss"]["warm"], _, _ = settle(server, most=30, window=window)
        r["probe"]["warm"] = server.figures()
        log(f"warm RSS {r['rss']['warm']:.1f} MiB")
        # the load
        log(f"{n_sessions} concurrent sessions")
        server.command("profile_on")
        t0, cpu0, busy0 = time.monotonic(), cpu_seconds(server.pid), machine_busy()

        def at_peak() -> None:
            r["rss"]["open"], r["probe"]["open"] = server.rss(), server.figures()

        results = run_concurrent(
            browser,
            server.url,
            scenes,
            refs,
            timeout=max(30.0, min(420.0, deadline - time.monotonic() - 180)),
            before_close=at_peak,
        )
        t1, cpu1, busy1 = time.monotonic(), cpu_seconds(server.pid), machine_busy()
        r["profile"] = server.command("profile_off").get("profile", {})
        r["rss"].setdefault("open", server.rss())
        r["load_s"] = t1 - t0
        r["server_cores"] = (cpu1 - cpu0) / (t1 - t0)
        r["machine_busy"] = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
        r["load_results"] = results
        r["open_spread_s"] = max(s.started for s in results) - min(s.started for s in results)
        during = monitor.between(t0, t1)
        r["lat_load"], r["ctl_load"] = latency_stats(during), latency_stats(during, 3)
        r["rss_peak"] = max([x[2] for x in during] + [r["rss"]["open"]])
        log(
            f"load done in {t1 - t0:.1f} s: {sum(s.ok for s in results)}/{n_sessions} correct; "
            f"peak RSS {r['rss_peak']:.1f} MiB; health p95 {r['lat_load']['p95']:.0f} ms "
            f"(control {r['ctl_load']['p95']:.0f} ms); server {r['server_cores']:.2f} cores"
        )
        r["rss"]["after"], r["after_wait"], r["after_steady"] = settle(
            server, most=20.0 if quick else 60.0, window=window
        )
        r["probe"]["after"] = server.figures()
        r["probe"]["census"] = server.command("census")
        r["probe"]["collected"] = server.command("collect")
        r["rss"]["collected"] = r["probe"]["collected"].get("rss_after", math.nan)
        r["probe"]["trimmed"] = server.command("trim")
        r["rss"]["trimmed"] = r["probe"]["trimmed"].get("rss_after", math.nan)
        log(
            f"after closing: RSS {r['rss']['after']:.1f} MiB ({r['after_wait']:.0f} s); after "
            f"gc.collect {r['rss']['collected']:.1f}; after malloc_trim {r['rss']['trimmed']:.1f}"
        )
        # the soak
        r["soak_warmup"] = max(1, reruns // 5)
        every = max(1, reruns // 10)
        log(f"soak: {reruns} reruns")
        probes: list[dict] = []
        soak = run_soak(
            browser,
            server,
            reruns,
            soak_refs,
            every=every,
            deadline=deadline - (30 + 6 * n_sessions),  # what the second wave needs
            on_sample=lambda: probes.append(server.figures()),
        )
        r["soak"], r["soak_probe"] = soak, probes
        r["soak_growth"], r["soak_slope"] = soak_growth(soak.samples, r["soak_warmup"])
        heap = [
            (k, f.get("heap_used", math.nan))
            for (k, _), f in zip(soak.samples, probes, strict=False)
        ]
        r["soak_heap_growth"], _ = soak_growth(heap, r["soak_warmup"])
        log(f"soak: {soak.reruns} reruns; RSS growth {r['soak_growth']:.1f} MiB {soak.error}")
        # a second wave of the same scenes: every result is cached now, so whatever the
        # sessions leave behind shows on its own
        settle(server, most=15, window=window)
        before2 = server.command("trim")
        r["rss"]["before2"], r["probe"]["before2"] = before2.get("rss_after", math.nan), before2
        log(f"second wave: {n_sessions} sessions on the same scenes (cached)")
        t2 = time.monotonic()
        r["wave2_results"] = run_concurrent(
            browser,
            server.url,
            scenes,
            refs,
            timeout=max(30.0, min(300.0, deadline - time.monotonic() - 40)),
        )
        r["wave2_s"] = time.monotonic() - t2
        during2 = monitor.between(t2, time.monotonic())
        r["lat_wave2"], r["ctl_wave2"] = latency_stats(during2), latency_stats(during2, 3)
        settle(server, most=15, window=window)
        r["probe"]["after2"] = server.figures()
        r["probe"]["census2"] = server.command("census")
        server.command("collect")
        after2 = server.command("trim")
        r["rss"]["after2"], r["probe"]["trimmed2"] = after2.get("rss_after", math.nan), after2
        log(
            f"second wave: {sum(s.ok for s in r['wave2_results'])}/{n_sessions} correct; live "
            f"RSS {r['rss']['before2']:.1f} -> {r['rss']['after2']:.1f} MiB"
        )
        monitor.stop()
        browser.close()
    r["load_end"] = loadavg()
    r["elapsed"] = time.monotonic() - t_start
    r["margin"] = load_margin(r["expected"], LOAD_SLACK_MIB)
    r["growth_raw"] = r["rss"]["after"] - r["rss"]["warm"]
    r["growth_live"] = r["rss"]["trimmed"] - r["rss"]["warm"]
    r["expected_heap"] = r["sizes"]["heap"]
    r["margin_heap"] = load_margin(r["expected_heap"])
    heap_now = r["probe"]["trimmed"].get("heap_used", math.nan)
    r["growth_heap"] = heap_now - r["probe"]["warm"].get("heap_used", math.nan)
    n_ok = sum(s.ok for s in r["load_results"])
    soak_ok = sum(ok for _, ok, _, _ in soak.checks)
    lat = r["lat_load"]
    wave2 = r["wave2_results"]
    n_ok2 = sum(s.ok for s in wave2)
    r["residue"] = r["rss"]["after2"] - r["rss"]["before2"]
    r["residue_margin"] = RESIDUE_MIB + RESIDUE_PER_SESSION_MIB * n_sessions
    census2 = r["probe"].get("census2", {})
    alive2 = census2.get("census", {}).get("watched", {}).get("AppSession", math.nan)
    held2 = census2.get("sessions_active", 0) + census2.get("sessions_stored", math.nan)
    r["sessions_alive2"], r["sessions_held2"] = alive2, held2
    r["verdict"] = [
        (
            "each session got its own correct result",
            n_ok == n_sessions and distinct,
            f"{n_ok} of {n_sessions} sessions plotted exactly their own scene's engine result",
            True,
        ),
        (
            "the server stayed responsive",
            lat["failed"] == 0 and lat["excess_p95"] <= HEALTH_EXCESS_MS,
            f"health checks: {lat['failed']} of {lat['n']} failed; p95 {fmt(lat['p95'], 0)} "
            "ms, of which "
            f"the server's own share (over the control server's latency, poll by poll) "
            f"{fmt(lat['excess_p95'], 0)} ms (limit {HEALTH_EXCESS_MS:g}); max "
            f"{fmt(lat['max'], 0)} ms",
            True,
        ),
        (
            "memory in use back within the margin after the load",
            r["growth_heap"] <= r["margin_heap"],
            f"heap in use {signed(r['growth_heap'])} MiB over the warm baseline; the same scenes "
            f"take {signed(r['expected_heap'])} MiB here; margin {signed(r['margin_heap'])} MiB",
            True,
        ),
        (
            "RSS back within the margin once the allocator returns its free memory",
            r["growth_live"] <= r["margin"],
            f"{signed(r['growth_live'])} MiB after `malloc_trim(0)`; the same scenes take "
            f"{signed(r['expected'])} MiB here; margin {signed(r['margin'])} MiB",
            False,
        ),
        (
            "RSS back within the margin by itself",
            r["growth_raw"] <= r["margin"],
            f"{signed(r['growth_raw'])} MiB after {r['after_wait']:.0f} s: freed memory kept by "
            "glibc (see Findings)",
            False,
        ),
        (
            "no growth in the soak",
            not soak.error
            and soak.reruns == reruns
            and soak_ok == len(soak.checks)
            and r["soak_growth"] <= SOAK_MARGIN_MIB,
            f"RSS {signed(r['soak_growth'])} MiB over reruns {r['soak_warmup']}–{soak.reruns} "
            f"(margin {SOAK_MARGIN_MIB:g}); {soak_ok} of {len(soak.checks)} plotted-path checks "
            "equal",
            True,
        ),
        (
            "a second wave leaves nothing behind",
            n_ok2 == n_sessions and r["residue"] <= r["residue_margin"] and alive2 <= held2,
            f"{n_ok2} of {n_sessions} correct again (from the caches); live memory "
            f"{signed(r['residue'])} MiB (margin {signed(r['residue_margin'])}); "
            f"{alive2} `AppSession` objects alive for {held2} sessions held by Streamlit",
            True,
        ),
        (
            "no request left loopback",
            not any(s.foreign for s in [*r["load_results"], *wave2]) and not soak.foreign,
            "every page request went to the test server",
            True,
        ),
    ]
    r["findings"] = findings(r)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(r) + "\n", encoding="utf-8")
    log(f"wrote {out}")
    for name, passed, detail, gating in r["verdict"]:
        state = "ok  " if passed else ("FAIL" if gating else "note")
        print(f"  {state} {name}: {detail}")
    return 0 if all(passed for _, passed, _, gating in r["verdict"] if gating) else 1


if __name__ == "__main__":
    sys.exit(main())
