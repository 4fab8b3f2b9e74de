"""The minibatch-gradient fan on a stochastic surface, in a real browser (standalone page)."""

from __future__ import annotations

import numpy as np
import pytest

from app import animator, payload
from tests.browser import open_page, screenshot
from tests.documents import document
from trajectories import Experiment, OptimizerSpec
from trajectories.drawn import FAN_SIZE

pytestmark = pytest.mark.slow

ROOT = ".optviz"
STATE = f"document.querySelector('{ROOT}').__optviz.state()"


def _doc(surface: str, lr: float = 0.05, **kw) -> dict:
    e = Experiment(surface, optimizers=(OptimizerSpec("SGD", {"learning_rate": lr}),), **kw)
    return document(e)


def test_fan_travels_only_for_stochastic_surfaces():
    noisy = _doc("rosenbrock", 1e-3, steps=30, noise=2.0)["optimizers"][0]
    fan = payload.decode(noisy["fan"])
    assert fan.shape[1:] == (FAN_SIZE, 2)
    grad = payload.decode(noisy["arrows"]["grad"])[0]  # the kernel's own estimate per frame
    # additive noise of standard deviation 2: each frame's fan spreads by about 2 per axis
    spread = np.std(fan, axis=1)
    assert np.all((spread > 1.0) & (spread < 3.2)), spread
    assert "fan" not in _doc("rosenbrock", steps=30)["optimizers"][0]
    assert fan.shape[0] == grad.shape[0]


def test_fan_is_drawn_when_paused(browser, tmp_path):
    doc = _doc("rosenbrock", 1e-3, steps=60, seed=1, noise=3.0)
    assert doc["optimizers"][0]["diverged"] == [-1]
    path = tmp_path / "fan.html"
    path.write_text(animator.standalone_html(doc, title="fan", options={"autoplay": False}))
    page, log = open_page(browser, path.as_uri())
    page.wait_for_function(f"() => {{ const r = document.querySelector('{ROOT}'); "
                           f"return r && r.__optviz && {STATE}.drawn >= 1; }}")  # fmt: skip
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.seek(20)")
    page.wait_for_function(
        f"() => {STATE}.fan && {STATE}.fan.frame === 20 && {STATE}.fan.count === {FAN_SIZE}"
    )
    screenshot(page, "gradient_fan")
    page.evaluate(f"document.querySelector('{ROOT}').__optviz.play()")
    page.wait_for_function(f"() => {STATE}.playing && {STATE}.fan === null")
    log.assert_clean()
    page.context.close()
