"""Shared helpers for tests in a real browser: Debian's chromium driven by Playwright.

Playwright's own browser download does not work here, so the system chromium is launched
(``apt-get install -y chromium``; ``pip install playwright==1.65.2``). The ``browser``
fixture (session scope) skips the tests when either is missing, with the reason, unless the
environment variable ``CI`` is set: in CI a missing browser is a failure, so browser tests
never skip silently there.

The ``browser`` fixture is registered once in tests/conftest.py; ``open_page`` gives a
page whose console errors, page errors and network requests are recorded (``PageLog``):
anything but ``file:``, ``data:``, ``blob:``, ``about:`` and the allowed prefixes (a local test
server) is recorded as external and aborted. ``streamlit_server(script)`` runs a Streamlit app
on a free local port for the length of a ``with`` block.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run: {reason}. CI is set, so this is a failure.")
    pytest.skip(f"browser tests skipped: {reason}")


def chromium_path() -> str | None:
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless chromium for the session (skips, or fails in CI, when unavailable)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright==1.65.2)")
    path = chromium_path()
    if path is None:
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=path, args=ARGS)
        except Exception as e:  # a broken install is as good as a missing one
            _unavailable(f"chromium at {path} does not start: {e}")
        try:
            yield b
        finally:
            b.close()


# Every context open_page made, so that close_pages closes those a test leaves open: a page
# left playing keeps animating (and taking the CPU from later tests) until the session ends.
_OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def close_pages() -> Iterator[None]:
    """Close, after each test, the pages it opened (not those of wider-scoped fixtures, which
    were opened before it started)."""
    before = len(_OPENED)
    yield
    while len(_OPENED) > before:
        with contextlib.suppress(Exception):  # closed by the test, or its browser is gone
            _OPENED.pop().close()


@dataclasses.dataclass
class PageLog:
    """What a page did that a test may want to forbid."""

    console_errors: list[str] = dataclasses.field(default_factory=list)
    page_errors: list[str] = dataclasses.field(default_factory=list)
    external_requests: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.page_errors, f"page errors: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.external_requests, f"requests left the page: {self.external_requests}"


def open_page(
    browser: Any,
    url: str,
    *,
    width: int = 1200,
    height: int = 900,
    wait: str = "load",
    allow: tuple[str, ...] = (),
    before_goto: Any = None,
) -> tuple[Any, PageLog]:
    """A new page (own context) at ``url``, recording into a :class:`PageLog`.

    Requests to anything but local schemes and the URL prefixes in ``allow`` (a test server)
    are recorded as external and aborted. ``before_goto(page)`` runs before the page loads
    (to listen from the first request or websocket on)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    _OPENED.append(context)
    log = PageLog()
    local = LOCAL_SCHEMES + tuple(allow)

    def on_route(route: Any) -> None:
        if route.request.url.startswith(local):
            route.continue_()
            return
        if route.request.url not in log.external_requests:
            log.external_requests.append(route.request.url)
        route.abort()

    context.route("http://*/**", on_route)
    context.route("https://*/**", on_route)
    page = context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))

    def on_request(request: Any) -> None:
        u = request.url
        log.requests.append(u[:80])
        if not u.startswith(local) and u not in log.external_requests:
            log.external_requests.append(u)

    page.on("request", on_request)
    page.on(
        "websocket",
        lambda ws: (
            None
            if ws.url.replace("ws", "http", 1).startswith(local)
            else log.external_requests.append(ws.url)
        ),
    )
    if before_goto is not None:
        before_goto(page)
    page.goto(url, wait_until=wait)
    return page, log


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under artifacts/screenshots/ (git-ignored) and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# Pixel statistics of a canvas, computed in the page: mean and spread of the luminance (as
# seen over a white page) over a sample of pixels, and the fraction that is drawn at all.
CANVAS_STATS_JS = """
(canvas) => {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  const d = ctx.getImageData(0, 0, w, h).data;
  let n = 0, drawn = 0, s = 0, s2 = 0;
  const step = Math.max(1, Math.floor((w * h) / 40000));
  for (let i = 0; i < w * h; i += step) {
    const o = i * 4;
    const a = d[o + 3];
    n++;
    if (a > 0) drawn++;
    // as seen on a white page: composited over white
    const lum = 0.2126 * d[o] + 0.7152 * d[o + 1] + 0.0722 * d[o + 2];
    const l = lum * (a / 255) + 255 * (1 - a / 255);
    s += l; s2 += l * l;
  }
  const mean = s / n;
  return {mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), drawn: drawn / n, w, h};
}
"""


def until_playing(read: Any, playing: bool, timeout: float = 10.0) -> dict:
    """The animator's state (``read()``) once its ``playing`` is as asked, or the last one read
    after ``timeout`` s (for the assertion to show). A click or key handled by a page on a
    loaded machine may take a moment to show in the state."""
    deadline = time.monotonic() + timeout
    while True:
        st = read()
        if st["playing"] == playing or time.monotonic() > deadline:
            return st
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class StreamlitProcess:
    url: str
    proc: subprocess.Popen
    health_s: float  # from the start to the first healthy answer
    log: Path


@contextlib.contextmanager
def streamlit_process(
    launcher: Sequence[str],
    *options: str,
    log_name: str,
    usage_stats: bool = False,
    timeout: float = 40.0,
    cwd: Path = REPO,
    pythonpath: Sequence[Path] = (REPO,),
) -> Iterator[StreamlitProcess]:
    """``python <launcher> <options>`` headless on 127.0.0.1 and a free port (``launcher``:
    ``-m streamlit run SCRIPT`` or ``-m app.serve``), until it answers its health check; it is
    stopped when the ``with`` block ends. Its output goes to ``artifacts/<log_name>-<port>.log``
    (never inside the source tree). It runs in ``cwd`` with ``pythonpath`` first on its path
    (the checkout; an installed copy for tests/test_package.py)."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"{log_name}-{port}.log"
    cmd = [
        sys.executable, *launcher,
        "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
        f"--browser.gatherUsageStats={'true' if usage_stats else 'false'}",
        "--server.fileWatcherType=none", "--global.developmentMode=false", *options,
    ]  # fmt: skip
    path = [*map(str, pythonpath), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    t0 = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield StreamlitProcess(url, proc, time.monotonic() - t0, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def streamlit_server(script: Path, *, timeout: float = 40.0) -> Iterator[str]:
    """Run ``streamlit run script`` headless on a free port; yields the app's URL."""
    launcher = ("-m", "streamlit", "run", str(script))
    with streamlit_process(launcher, log_name=Path(script).stem, timeout=timeout) as s:
        yield s.url
