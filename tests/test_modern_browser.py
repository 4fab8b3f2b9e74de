"""The modern optimizers in the animator, in a real browser: Lion, Muon and Adafactor beside Adam
on the MLP (per-layer heatmaps) and on Rosenbrock, Muon's realised-ratio heatmap on its
diverging colour map, and ScheduleFreeAdamW's averaged sequence x drawn beside its path.

The pages are the offline export of real runs, as in ``tests/test_animator_browser.py``; the
checks read the animator's document and state (never pixels); the screenshots go to
``artifacts/screenshots/modern_*.png``.
"""

from __future__ import annotations

import functools

import pytest

from app import animator, lessons, payload
from tests.browser import open_page, screenshot
from tests.documents import document
from trajectories import Experiment, OptimizerSpec

pytestmark = pytest.mark.slow

ROOT = ".optviz"
FOUR = (
    OptimizerSpec("Adam", {"learning_rate": 0.01}),
    OptimizerSpec("Lion", {"learning_rate": 0.003}),
    OptimizerSpec("Muon", {"learning_rate": 0.02}),
    OptimizerSpec("Adafactor", {"learning_rate": 0.01}),
)
SECOND_ORDER = (OptimizerSpec("Adam", {"learning_rate": 0.01}), OptimizerSpec("LBFGS", {}))
SCENES = {
    "mlp": dict(surface="mlp", optimizers=FOUR, steps=300),
    "rosenbrock": dict(surface="rosenbrock", optimizers=FOUR, starts=((-1.5, 1.5),), steps=500),
    "mlp_lbfgs": dict(surface="mlp", optimizers=SECOND_ORDER, steps=300),
    "rosenbrock_lbfgs": dict(
        surface="rosenbrock", optimizers=SECOND_ORDER, starts=((-1.5, 1.5),), steps=500
    ),
}


def experiment(name: str) -> Experiment:
    if name == "schedule_free":  # the schedule-free lesson's race: y jitters, x stays smooth
        return lessons.stage_of("schedule-free", 2).experiment
    return Experiment(**SCENES[name])


@functools.cache
def doc(name: str) -> dict:
    return document(experiment(name))


def open_scene(browser, tmp_path, name: str, **options):
    path = tmp_path / f"{name}_{options.get('optimizer', 'all')}.html"
    path.write_text(animator.standalone_html(doc(name), title=name, options=options), "utf-8")
    page, log = open_page(browser, path.as_uri(), width=1200, height=1100)
    page.wait_for_function(
        f"() => {{ const r = document.querySelector('{ROOT}'); return r && r.__optviz && "
        "r.__optviz.state().imageReady && r.__optviz.state().drawn >= 1; }",
        timeout=15_000,
    )
    return page, log


def lr_panel(page) -> dict:
    return page.locator("[data-testid='ov-panel-lr']").evaluate(
        "p => ({map: p.dataset.lrMap, title: p.querySelector('.ov-ptitle-text').textContent})"
    )


@pytest.mark.parametrize("focus", ["Lion", "Muon", "Adafactor"])
def test_mlp_layer_heatmaps_beside_adam(browser, tmp_path, focus):
    """Per-layer heatmaps of each modern optimizer on the MLP: Muon's on the diverging map (its
    matrices have no diagonal rate), Lion's and Adafactor's on the log scale Adam's uses."""
    page, log = open_scene(browser, tmp_path, "mlp", optimizer=focus, autoplay=False, frame=150)
    want = "diverging" if focus == "Muon" else "log"
    page.wait_for_function(
        "w => document.querySelector(\"[data-testid='ov-panel-lr']\").dataset.lrMap === w", arg=want
    )
    panel = lr_panel(page)
    assert focus in panel["title"]
    assert ("−update/gradient" in panel["title"]) == (focus == "Muon")
    screenshot(page, f"modern_mlp_{focus.lower()}")
    log.assert_clean()


def test_muon_document_marks_its_realised_rates_diverging():
    """The document says so too: Muon's layer scale is its own signed one (0 is the middle
    byte; blue below, red above), the others keep the shared log scale."""
    d = doc("mlp")
    names = [o["name"] for o in d["optimizers"]]
    maps = {o["name"]: o["lr_map"] for o in d["optimizers"]}
    assert maps == {"Adam": "log", "Lion": "log", "Muon": "diverging", "Adafactor": "log"}
    scales = d["lr_layers"]["scales"]
    muon = scales[names.index("Muon")]
    assert muon["map"] == "diverging" and muon["vmin"] < muon["vmax"]
    # the bytes: both signs occur (the realised ratio of an orthogonalised step is not a rate)
    ratio = payload.decode(d["lr_layers"]["values"][names.index("Muon")])
    assert (ratio < 128).any() and (ratio > 128).any()
    assert all(s["map"] == "log" for i, s in enumerate(scales) if names[i] != "Muon")
    # on Rosenbrock every weight is a vector: Muon is its Adam fallback, a diagonal rate
    assert {o["lr_map"] for o in doc("rosenbrock")["optimizers"]} == {"log"}


def test_rosenbrock_beside_adam(browser, tmp_path):
    page, log = open_scene(browser, tmp_path, "rosenbrock", autoplay=False, frame=499)
    assert lr_panel(page)["map"] == "log"
    screenshot(page, "modern_rosenbrock")
    log.assert_clean()


def test_schedule_free_average_line_is_in_the_document(browser, tmp_path):
    d = doc("schedule_free")
    names = [o["name"] for o in d["optimizers"]]
    sf = d["optimizers"][names.index("Schedule-free")]
    assert "average_path" in sf and sf["average_label"] == "average x"
    assert ["average_path" in o for o in d["optimizers"]] == [False, False, True]
    page, log = open_scene(browser, tmp_path, "schedule_free", autoplay=False, frame=1000)
    shape = page.evaluate(
        f"() => {{ const op = document.querySelector('{ROOT}').__optvizInstance.model.opts[2];"
        " return op.average && op.averagePx ? op.average.shape : null; }"
    )
    assert shape == list(payload.decode(sf["average_path"]).shape)
    assert "average x" in page.locator(".optviz").inner_text()  # the legend names the line
    screenshot(page, "modern_schedule_free_x")
    log.assert_clean()
    alone, log = open_scene(
        browser, tmp_path, "schedule_free", autoplay=False, frame=1000, hidden=names[:2]
    )
    screenshot(alone, "modern_schedule_free_x_alone")
    log.assert_clean()


def test_lbfgs_beside_adam_on_the_mlp(browser, tmp_path):
    """L-BFGS has no diagonal rate: its per-layer heatmaps are the signed realised ratio on the
    diverging map, Adam's stay on the log scale."""
    maps = {o["name"]: o["lr_map"] for o in doc("mlp_lbfgs")["optimizers"]}
    assert maps == {"Adam": "log", "LBFGS": "diverging"}
    page, log = open_scene(
        browser, tmp_path, "mlp_lbfgs", optimizer="LBFGS", autoplay=False, frame=150
    )
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='ov-panel-lr']\").dataset.lrMap"
        " === 'diverging'"
    )
    panel = lr_panel(page)
    assert "LBFGS" in panel["title"] and "−update/gradient" in panel["title"]
    screenshot(page, "modern_mlp_lbfgs")
    log.assert_clean()


def test_lbfgs_beside_adam_on_rosenbrock(browser, tmp_path):
    """On a 2-D surface the rates are drawn inline: L-BFGS's row on its signed scale beside
    Adam's log one. Paused at step 8, inside L-BFGS: the line search's alpha_k and n_k."""
    page, log = open_scene(
        browser, tmp_path, "rosenbrock_lbfgs", optimizer="LBFGS", autoplay=False, frame=8
    )
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='ov-panel-lr']\").dataset.lrMap"
        " === 'log+diverging'"
    )
    assert "LBFGS: signed −Δw/g (diverging)" in lr_panel(page)["title"]
    screenshot(page, "modern_rosenbrock_lbfgs")
    log.assert_clean()


def test_inline_heatmap_draws_a_realised_rate_on_its_own_scale(browser, tmp_path):
    """Small models draw every rate over the steps (one row per weight): a row whose document
    says ``lr_map: diverging`` (L-BFGS on a 2-D surface, once registered) gets the signed scale
    beside the log one. The document here is Rosenbrock's with Muon's rates made signed."""
    d = dict(doc("rosenbrock"))
    ops = [dict(o) for o in d["optimizers"]]
    k = [o["name"] for o in ops].index("Muon")
    rates = payload.decode(ops[k]["lr"]).copy()
    rates[..., 1] *= -1  # one weight's realised ratio negative, the other positive
    ops[k] = {**ops[k], "lr": payload.array(rates), "lr_map": "diverging"}
    d["optimizers"] = ops
    path = tmp_path / "inline_diverging.html"
    path.write_text(animator.standalone_html(d, title="inline", options={"autoplay": False}))
    page, log = open_page(browser, path.as_uri(), width=1200, height=1100)
    page.wait_for_function(
        "() => { const p = document.querySelector(\"[data-testid='ov-panel-lr']\");"
        " return p && p.dataset.lrMap === 'log+diverging'; }",
        timeout=15_000,
    )
    assert "Muon: signed −Δw/g (diverging)" in lr_panel(page)["title"]
    screenshot(page, "modern_inline_diverging")
    log.assert_clean()
