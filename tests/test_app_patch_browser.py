"""A sidebar notch sends the animator only what changed (``streamlit run app/main.py`` in
headless chromium; app/doc_patch.py and app/animator/patch.js).

One notch of Adam's learning rate: the websocket message is a small part of the first page's,
the browser's rebuilt document equals the one built directly for the new scene, Adam's drawn
path is the engine's run, the other optimizers' data are untouched, and the paused frame is
kept. A patch for a document the page does not hold asks for the whole one (resync). A
reload after patches gets the whole document and draws the same. Screenshots:
``artifacts/screenshots/delta_*.png``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from app import animator, compute, payload, share
from tests.browser import REPO, open_page, screenshot, streamlit_server
from tests.test_app_browser import (
    HEIGHT,
    OV_JS,
    ROOT,
    WIDTH,
    card,
    nudge_learning_rate,
    pause,
    query,
    settle,
    state,
    wait_drawn,
    wait_new_data,
)

pytestmark = pytest.mark.slow

APP = REPO / "app" / "main.py"
PATCHES_JS = f"() => {{ const r = {OV_JS}; return r ? {{...r.__optvizPatches}} : null; }}"
# A line of the joined script: a message carrying it sends the script inline (a plain checkout;
# installed, Streamlit serves it as a cached file, app/build_animator.py).
SCRIPT_MARK = "// ==== app/animator/base.js"


def _data_bytes(payload_: str | bytes) -> int:
    """A websocket message's size less the animator's script and stylesheet when inline: what
    every rerun sends, patch or not, until the app is installed."""
    raw = payload_ if isinstance(payload_, bytes) else payload_.encode("utf-8")
    if SCRIPT_MARK.encode() not in raw:
        return len(raw)
    js, css = animator._assets()
    return len(raw) - len(js.encode("utf-8")) - len(css.encode("utf-8"))


DOCUMENT_JS = "r => JSON.stringify(r.__optvizInstance.data)"
# Every canvas of the animator (surface, heatmaps, loss, ...) as PNG, once its surface picture
# has loaded: the pixels drawn.
PIXELS_JS = """async (r) => {
  const a = r.__optviz;
  while (!a.state().imageReady) await new Promise((res) => requestAnimationFrame(res));
  await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
  return [...r.querySelectorAll('canvas')].map((c) => [c.dataset.testid || c.className,
    c.width, c.height, c.toDataURL()]);
}"""


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server(APP, timeout=60) as url:
        yield url


def open_sized(browser, app_url: str):
    """The app with the size of every websocket message it receives recorded, in order (less
    the animator's script when it travels inline: see :func:`_data_bytes`)."""
    sizes: list[int] = []

    def listen(page):
        page.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda p: sizes.append(_data_bytes(p))),
        )

    ws = app_url.replace("http", "ws", 1)
    page, log = open_page(
        browser, app_url, width=WIDTH, height=HEIGHT, allow=(app_url, ws), before_goto=listen
    )
    wait_drawn(page, timeout=240_000)  # a first page pays for imports and compiles
    settle(page)
    return page, log, sizes


def drawn_document(page) -> dict:
    """The document the animator draws, without its options (they come with every mount)."""
    d = json.loads(page.locator(ROOT).evaluate(DOCUMENT_JS))
    d.pop("options")
    return d


def expected_document(page) -> tuple[dict, object]:
    """The whole document built directly for the page's scene (its link), and that scene's
    experiment; the animator inspects the first optimizer's learning rate."""
    scene, warnings = share.decode(query(page))
    assert not warnings, warnings
    e = scene.experiment
    whole = json.loads(json.dumps(animator.prepare(compute.live_document(e, 0, None))))
    whole.pop("options")
    whole.pop("id")  # a hash of the content: see assert_same_document
    return whole, e


def assert_same_document(got, want, where: str = "document") -> None:
    """``got`` is ``want``: every field equal, the encoded arrays to float32 rounding (this
    process runs JAX with float64 enabled and two host devices, tests/conftest.py, so its
    sums can round differently from the server's; the server's own whole document is compared
    exactly after the reload)."""
    if isinstance(want, dict) and "b64" in want:
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        assert got["shape"] == want["shape"] and got["dtype"] == want["dtype"], where
        a, b = payload.decode(got), payload.decode(want)
        scale = float(np.nanmax(np.abs(b))) if np.isfinite(b).any() else 0.0
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale, err_msg=where)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), (where, got.keys())
        for k in want:
            assert_same_document(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (x, y) in enumerate(zip(got, want, strict=True)):
            assert_same_document(x, y, f"{where}[{i}]")
    elif isinstance(want, float) and isinstance(got, float):
        assert got == pytest.approx(want, rel=1e-4), where
    else:
        assert got == want, where


def test_a_notch_sends_a_patch_that_draws_the_new_run(browser, app_url):
    page, log, sizes = open_sized(browser, app_url)
    whole_message = max(sizes)
    assert page.evaluate(PATCHES_JS)["whole"] >= 1
    paused = pause(page)
    settle(page)
    before = drawn_document(page)
    screenshot(page, "delta_before_notch", full_page=False)
    applied = page.evaluate(PATCHES_JS)["applied"]
    received = len(sizes)
    nudge_learning_rate(page, "Adam", "ArrowLeft")  # 0.05 -> 0.03; SGD is inspected
    st = wait_new_data(page, paused["id"])
    settle(page)
    screenshot(page, "delta_after_notch", full_page=False)
    after_notch = sizes[received:]
    assert max(after_notch) < whole_message / 3, (max(after_notch), whole_message)
    assert page.evaluate(PATCHES_JS)["applied"] > applied
    # the paused frame is kept
    assert st["frame"] == paused["frame"] and not st["playing"], (paused, st)
    # what the browser rebuilt is the whole document built directly for the new scene
    after = drawn_document(page)
    whole, e = expected_document(page)
    assert "Adam(learning_rate=0.03)" in query(page)["o"]
    assert_same_document({k: v for k, v in after.items() if k != "id"}, whole)
    # Adam's drawn path is the engine's run of the new scene; the others' data are untouched
    names = [o["name"] for o in after["optimizers"]]
    a = names.index("Adam")
    r = compute.result(e)
    engine_path = r.surface.project(r.position[a].reshape(-1, r.surface.dim))
    drawn_path = payload.decode(after["optimizers"][a]["path"]).reshape(-1, 2)
    np.testing.assert_allclose(drawn_path, engine_path, rtol=1e-5, atol=1e-6)
    assert after["optimizers"][a]["path"] != before["optimizers"][a]["path"]
    for i, (x, y) in enumerate(zip(before["optimizers"], after["optimizers"], strict=True)):
        if i != a:
            assert x == y, f"{names[i]} changed"
    assert after["surface"] == before["surface"] and after["live"] == before["live"]
    log.assert_clean()

    # a reload (a new session) gets the whole document and draws the same: the same document
    # and, paused at the same frame (the link's), the same pixels
    pixels = page.locator(ROOT).evaluate(PIXELS_JS)
    received = len(sizes)
    page.reload()
    wait_drawn(page, timeout=120_000)
    settle(page)
    assert max(sizes[received:]) > whole_message * 0.8
    assert page.evaluate(PATCHES_JS)["applied"] == 0
    assert drawn_document(page) == after
    reloaded = state(page)
    assert reloaded["frame"] == paused["frame"] and not reloaded["playing"], reloaded
    again = page.locator(ROOT).evaluate(PIXELS_JS)
    assert len(pixels) >= 3 and [c[:3] for c in again] == [c[:3] for c in pixels]
    differ = [c[0] for c, d in zip(pixels, again, strict=True) if c[3] != d[3]]
    assert not differ, f"canvases drawn differently after the reload: {differ}"
    screenshot(page, "delta_after_reload", full_page=False)
    log.assert_clean()
    page.context.close()


def test_a_patch_for_another_document_asks_for_the_whole_one(browser, app_url):
    page, log, _ = open_sized(browser, app_url)
    card(page, "RMSprop · lr")  # opened first: that rerun is not the one tested
    first = state(page)
    # as if a message had been missed: the page holds another document than Python thinks
    page.locator(ROOT).evaluate("r => { r.__optvizInstance.id = 'not-sent'; }")
    nudge_learning_rate(page, "RMSprop")  # 0.01 -> 0.015
    st = wait_new_data(page, "not-sent")
    settle(page)
    counts = page.evaluate(PATCHES_JS)
    assert counts["resyncs"] == 1 and counts["whole"] == 2, counts
    assert st["id"] != first["id"] and st["playing"]
    whole, _ = expected_document(page)
    assert_same_document({k: v for k, v in drawn_document(page).items() if k != "id"}, whole)
    log.assert_clean()
    page.context.close()
