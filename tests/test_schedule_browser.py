"""The schedule panel in a real browser: eta_t over the steps with the frame's cursor.

Standalone pages (``animator.standalone_html``) of real runs, as in tests/test_animator_browser.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import optax
import pytest

from app import animator, payload
from tests.browser import CANVAS_STATS_JS, open_page, screenshot
from tests.documents import document
from trajectories import Experiment, OptimizerSpec

pytestmark = pytest.mark.slow

ROOT = ".optviz"
STATE = f"document.querySelector('{ROOT}').__optviz.state()"
STEPS = 200
COSINE = {"schedule": "cosine_decay", "initial_learning_rate": 1e-4, "decay_steps": 180,
          "warmup_target": 2e-3, "warmup_steps": 20}  # fmt: skip
LARS = {"schedule": "polynomial_decay", "initial_learning_rate": 4e-3, "decay_steps": STEPS,
        "end_learning_rate": 0.0, "power": 2.0}  # fmt: skip


def _doc(optimizers) -> dict:
    e = Experiment("rosenbrock", optimizers=optimizers, steps=STEPS)
    return document(e)


@pytest.fixture(scope="module")
def scheduled() -> dict:
    return _doc((
        OptimizerSpec("SGD", {"learning_rate": COSINE}, name="SGD cosine"),
        OptimizerSpec("Adam", {"learning_rate": LARS}, name="Adam (1-t/T)^2"),
        OptimizerSpec("Momentum", {"learning_rate": 1e-3}, name="Momentum constant"),
    ))  # fmt: skip


def _open(browser, tmp_path, doc, **options):
    path = tmp_path / f"page_{len(list(tmp_path.iterdir()))}.html"
    path.write_text(animator.standalone_html(doc, title="schedule", options=options), "utf-8")
    page, log = open_page(browser, path.as_uri())
    ready = "return r && r.__optviz && r.__optviz.state().drawn >= 1; }"
    page.wait_for_function(f"() => {{ const r = document.querySelector('{ROOT}'); {ready}")
    return page, log


def _cursor_after_seek(page, frame: int) -> float:
    """The schedule cursor's x once the seeked frame is drawn: ``frame`` changes at the seek,
    the cursor at the next draw (waiting on the frame alone read the previous frame's)."""
    before = page.evaluate(f"{STATE}.drawn")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek({frame})")
    page.wait_for_function(
        f"() => {{ const s = {STATE}; "
        f"return s.frame === {frame} && s.drawn > {before} && s.scheduleCursor !== null; }}"
    )
    return page.evaluate(f"{STATE}.scheduleCursor")


def test_payload_carries_the_schedules(scheduled):
    steps = np.asarray(scheduled["steps"])
    cosine, lars, constant = (o["schedule"] for o in scheduled["optimizers"])
    peer = optax.warmup_cosine_decay_schedule(1e-4, 2e-3, warmup_steps=20, decay_steps=200)
    want = np.array([float(peer(int(t))) for t in steps])
    np.testing.assert_allclose(payload.decode(cosine), want, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(payload.decode(lars), 4e-3 * (1 - steps / STEPS) ** 2,
                               rtol=1e-5, atol=1e-9)  # fmt: skip
    assert constant == pytest.approx(1e-3)  # a constant rate travels as one number


def test_schedule_panel_is_drawn_and_its_cursor_follows_the_frame(browser, scheduled, tmp_path):
    page, log = _open(browser, tmp_path, scheduled, autoplay=False, frame=0)
    assert "schedule" in page.evaluate(f"{STATE}.panels")
    stats = page.locator("[data-testid='ov-schedule']").evaluate(CANVAS_STATS_JS)
    assert stats["drawn"] > 0.05 and stats["std"] > 8, stats
    R = len(scheduled["steps"])
    xs = [_cursor_after_seek(page, f) for f in (0, R // 4, R // 2, R - 1)]
    assert all(b > a for a, b in itertools.pairwise(xs)), xs
    # the cursor is linear in the step (same clock and axis as the loss panel)
    steps = [scheduled["steps"][f] for f in (0, R // 4, R // 2, R - 1)]
    slope = (xs[-1] - xs[0]) / (steps[-1] - steps[0])
    np.testing.assert_allclose(np.diff(xs) / np.diff(steps), slope, rtol=0.02)
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.play()")
    page.wait_for_function(f"() => {STATE}.frame > 5")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.pause()")
    page.wait_for_function(f"() => !{STATE}.playing")
    frame = page.evaluate(f"{STATE}.frame")
    _cursor_after_seek(page, R // 2)
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek({R // 3})")
    page.wait_for_function(f"() => {STATE}.frame === {R // 3}")
    screenshot(page, "schedule_panel")
    assert frame > 5
    log.assert_clean()
    page.context.close()


def test_constant_rates_keep_the_layout_and_hide_removes_the_panel(browser, scheduled, tmp_path):
    constant = _doc((OptimizerSpec("SGD", {"learning_rate": 1e-3}),))
    page, log = _open(browser, tmp_path, constant, autoplay=False)
    assert "schedule" not in page.evaluate(f"{STATE}.panels")
    page.context.close()
    page, log = _open(browser, tmp_path, scheduled, autoplay=False, hide=["schedule"])
    assert "schedule" not in page.evaluate(f"{STATE}.panels")
    assert "loss" in page.evaluate(f"{STATE}.panels")
    log.assert_clean()
    page.context.close()
