"""The web app, headless (``streamlit.testing.v1.AppTest``): every control and every view.

Each test opens ``app/main.py`` with a URL query (a light scene unless the default page is the
point), drives the sidebar's widgets by their stable keys and reads back what the page shows:
the animator's payload document, plotly figure specs, tables, messages and the URL. Compiled
kernels and cached runs are shared by every AppTest in the process, so the scenes are few and
small. Helpers: ``tests/app_scenarios.py``.

What AppTest cannot check (it runs no JavaScript and no CSS): that the animator draws, plays
and reports its paused frame, that a click on the canvas sends the trigger (simulated here),
that presentation mode's CSS hides what it hides, the deferred download files, clipboard copy.
Those need a real browser.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qs

import numpy as np
import pytest

import surfaces
from app import labels, lessons, payload, share
from app.state import DEFAULT
from tests.app_scenarios import (
    LIGHT,
    TABS,
    click_surface,
    doc,
    experiment,
    in_order,
    index_of,
    light,
    link_query,
    names,
    open_controls,
    open_view,
    page,
    path,
    plotly_array,
    plotly_spec,
    query,
    select_points,
    texts,
    widget_keys,
)
from trajectories import Experiment, OptimizerSpec, as_code, limits, pieces, run, snapshot

STALE = "Showing the last run that could be computed"


def uids(at) -> list[int]:
    return list(at.session_state["instances"])


def card_labels(at) -> list[str]:
    """The optimizer cards' titles (expanders inside the Optimizers expander)."""
    return [e.label for e in at.sidebar.expander if e.label[:1] in "●○"]


def assert_ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def errors_in(nodes: list) -> list[int]:
    """Positions of the error messages among ``nodes`` (see ``in_order``)."""
    return [i for i, n in enumerate(nodes) if type(n).__name__ == "Error"]


def paths_doc(at) -> dict:
    """Back to the Paths tab, and the animator's document there."""
    open_view(at, "paths")
    return doc(at)


# ---- the default page ----------------------------------------------------------------------------
def test_default_page():
    at = page(cards=False)  # as it opens
    assert_ok(at)
    assert [t.label for t in at.tabs] == list(TABS.values())
    assert at.session_state["view_tab"] == TABS["paths"]
    assert not at.main.error and not at.main.warning and not at.main.info
    assert not at.sidebar.error

    # the Paths tab holds the animator: 6 optimizers x 501 frames over the surface's image
    (paths_tab,) = [t for t in at.tabs if t.label == TABS["paths"]]
    first = next(iter(paths_tab.children.values()))  # the animator's fragment (app/views.py)
    assert [getattr(n, "key", None) for n in first.children.values()] == ["animator"]
    d = doc(at)
    assert names(d) == ["SGD", "Momentum", "Nesterov", "RMSprop", "Adam", "WAME"]
    assert d["steps"] == list(range(501))
    for o in d["optimizers"]:
        assert o["path"]["shape"] == [1, 501, 2], o["name"]
        assert o["loss"]["shape"] == [1, 501], o["name"]
        np.testing.assert_allclose(path(d, o["name"])[0, 0], [-1.5, 2.0])
    assert len({o["color"] for o in d["optimizers"]}) == 6
    surface = d["surface"]
    assert surface["name"] == "rosenbrock"
    assert surface["image"].startswith("data:image/png;base64,iVBORw0KGgo")  # a PNG
    assert len(surface["extent"]) == 4 and surface["minima"] == [[1.0, 1.0]]
    assert d["options"]["presentation"] is False and "events" in d["options"]["hide"]
    assert "frame" not in d["options"]  # plays from the start

    # the default scene's link is the bare address
    assert dict(at.query_params) == {}
    assert lessons.effective(experiment(at)) == lessons.effective(DEFAULT)


KEY_PATTERN = re.compile(
    r"surface|sp\.rosenbrock\.(a|b)|steps|noise|seed|add_kind|add_button|starts_editor"
    r"|o\d+\.(kind|color|name|on|dup|rm|sched|hp\.\w+|opt\.\w+(\.on)?)"
)


def test_every_sidebar_widget_has_a_stable_key():
    at = page()
    keys = widget_keys(at.sidebar)
    assert None not in keys
    assert len(keys) == len(set(keys)), "duplicate keys"
    bad = [k for k in keys if not KEY_PATTERN.fullmatch(k)]
    assert not bad, bad
    for uid in uids(at):  # every card has the same controls
        for field in ("kind", "color", "name", "on", "dup", "rm", "sched", "hp.learning_rate"):
            assert f"o{uid}.{field}" in keys
    at.run()
    assert widget_keys(at.sidebar) == keys  # the same keys on every rerun


def test_a_closed_card_builds_no_widgets_and_keeps_its_values():
    at = light()  # cards opened
    adam, sgd = uids(at)
    at.select_slider(key=f"o{sgd}.hp.learning_rate").set_value(0.002)
    at.slider(key=f"o{adam}.hp.beta_1").set_value(0.5).run()
    assert card_labels(at) == ["● Adam · lr 0.05", "● SGD · lr 0.002"]
    assert at.session_state[f"o{sgd}.open"]  # re-labelled, still open
    before = doc(at)["id"]
    for uid in (adam, sgd):  # closed, as a click on their titles does
        at.session_state[f"o{uid}.open"] = False
    at.run().run()  # a second run: Streamlit drops what a run did not draw after the first
    assert_ok(at)
    assert not [k for k in widget_keys(at.sidebar) if k.startswith(("o0.", "o1."))]
    assert card_labels(at) == ["● Adam · lr 0.05", "● SGD · lr 0.002"]
    assert doc(at)["id"] == before  # the same experiment: nothing set was lost
    assert [o.hyperparams for o in experiment(at).optimizers] == [
        {"learning_rate": 0.05, "beta_1": 0.5},
        {"learning_rate": 0.002},
    ]
    open_controls(at)
    assert at.slider(key=f"o{adam}.hp.beta_1").value == 0.5


def test_an_added_card_opens_and_the_others_stay_closed():
    at = page(LIGHT, cards=False)
    assert not [k for k in widget_keys(at.sidebar) if k.startswith("o")]  # all closed
    at.selectbox(key="add_kind").set_value("WAME")
    at.button(key="add_button").click().run()
    new = uids(at)[-1]
    keys = widget_keys(at.sidebar)
    assert f"o{new}.hp.learning_rate" in keys
    assert not [k for k in keys if k.startswith(tuple(f"o{u}." for u in uids(at)[:-1]))]


# ---- surface -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def picker():
    """One page for the surface picker: one optimizer, 20 steps, each surface's own start."""
    return page({"o": ["SGD(learning_rate=0.001)"], "n": "20", "x": "none"})


@pytest.mark.parametrize(
    "name",
    list(surfaces.FAMILIES),
)
def test_surface_picker_renders_each_family(picker, name):
    at = picker
    at.selectbox(key="surface").set_value(name).run()
    assert_ok(at)
    assert texts(at.sidebar.error) == []
    assert STALE not in " ".join(texts(at.main.info))
    assert doc(at)["surface"]["name"] == name
    assert experiment(at).surface == name
    assert query(at).get("s", ["rosenbrock"]) == [name]
    keys = [k for k in widget_keys(at.sidebar) if k.startswith("sp.")]
    assert keys == [f"sp.{name}.{p.name}" for p in surfaces.FAMILIES[name].params]


def test_surface_parameter_changes_the_run():
    at = light()
    before = doc(at)
    at.slider(key="sp.rosenbrock.b").set_value(10.0).run()
    assert_ok(at)
    after = doc(at)
    assert experiment(at).surface_params == {"b": 10.0}
    assert query(at)["p"] == ["b=10"]
    assert after["surface"]["image"] != before["surface"]["image"]
    for name in ("Adam", "SGD"):
        assert not np.array_equal(path(after, name), path(before, name))
    at.slider(key="sp.rosenbrock.b").set_value(100.0).run()  # back to the default
    assert "p" not in query(at)
    assert doc(at)["id"] == before["id"]


@pytest.mark.parametrize(
    ("extra", "widget", "key", "value", "field", "link"),
    [
        ({}, "select_slider", "steps", 100, "steps", ("n", "100")),
        ({}, "number_input", "noise", 0.5, "noise", ("noise", "0.5")),
        ({"noise": "0.5"}, "number_input", "seed", 7, "seed", ("seed", "7")),
    ],
    ids=["steps", "noise", "seed-with-noise"],
)
def test_run_control_changes_the_run(extra, widget, key, value, field, link):
    at = light(**extra)
    before = doc(at)
    getattr(at, widget)(key=key).set_value(value).run()
    assert_ok(at)
    after = doc(at)
    assert getattr(experiment(at), field) == value
    assert query(at)[link[0]] == [link[1]]
    frames = len(before["steps"])
    assert len(after["steps"]) == (value + 1 if key == "steps" else frames)
    for name in ("Adam", "SGD"):
        old, new = path(before, name), path(after, name)
        if key == "steps":  # the first 50 steps are the same steps
            np.testing.assert_allclose(new[:, :frames], old, rtol=1e-6, atol=1e-7)
        else:
            assert not np.array_equal(new, old), name


def test_run_controls_cannot_go_beyond_the_limits():
    at = light()
    assert max(at.select_slider(key="steps").options, key=float) == str(limits.MAX_STEPS)
    noise = at.number_input(key="noise")
    assert noise.min == 0 and noise.max == limits.MAX_NOISE
    assert at.number_input(key="seed").min == 0 and at.number_input(key="seed").max == 2**31 - 1


# ---- optimizer instances -------------------------------------------------------------------------
def test_learning_rate_slider_changes_only_its_instance_without_recompiling():
    at = light()
    before = doc(at)
    sgd = uids(at)[1]
    compiles = pieces.compile_count()
    at.select_slider(key=f"o{sgd}.hp.learning_rate").set_value(0.002).run()
    assert_ok(at)
    after = doc(at)
    assert pieces.compile_count() == compiles  # hyperparameters are traced
    np.testing.assert_array_equal(path(after, "Adam"), path(before, "Adam"))
    assert not np.array_equal(path(after, "SGD"), path(before, "SGD"))
    assert query(at)["o"] == ["Adam(learning_rate=0.05)", "SGD(learning_rate=0.002)"]
    assert card_labels(at) == ["● Adam · lr 0.05", "● SGD · lr 0.002"]


def test_other_hyperparameters_change_the_run():
    at = light()
    before = doc(at)
    adam, sgd = uids(at)
    at.slider(key=f"o{adam}.hp.beta_1").set_value(0.5)
    at.slider(key=f"o{sgd}.hp.momentum").set_value(0.9)
    at.toggle(key=f"o{adam}.hp.amsgrad").set_value(True).run()
    assert_ok(at)
    e = experiment(at)
    assert e.optimizers[0].hyperparams == {"learning_rate": 0.05, "beta_1": 0.5, "amsgrad": True}
    assert e.optimizers[1].hyperparams == {"learning_rate": 0.001, "momentum": 0.9}
    for name in ("Adam", "SGD"):
        assert not np.array_equal(path(doc(at), name), path(before, name))
    assert query(at)["o"] == [
        "Adam(amsgrad=true,beta_1=0.5,learning_rate=0.05)",
        "SGD(learning_rate=0.001,momentum=0.9)",
    ]


def test_toggle_an_instance_off_and_on():
    at = light()
    before = doc(at)
    adam, sgd = uids(at)
    at.toggle(key=f"o{adam}.on").set_value(False).run()
    assert_ok(at)
    assert names(doc(at)) == ["SGD"]
    assert query(at)["o"] == ["Adam(learning_rate=0.05,off)", "SGD(learning_rate=0.001)"]
    assert card_labels(at) == ["○ Adam · lr 0.05", "● SGD · lr 0.001"]  # kept, to turn on
    np.testing.assert_array_equal(path(doc(at), "SGD"), path(before, "SGD"))

    at.toggle(key=f"o{sgd}.on").set_value(False).run()  # nothing left to run
    assert_ok(at)
    (message,) = texts(at.sidebar.error)
    assert "choose at least one enabled optimizer" in message
    order = in_order(at.sidebar)
    assert index_of(order, "add_button") < errors_in(order)[0]  # below the Add control
    assert STALE in " ".join(texts(at.main.info))
    assert names(doc(at)) == ["SGD"]  # the last run stays

    at.toggle(key=f"o{adam}.on").set_value(True)
    at.toggle(key=f"o{sgd}.on").set_value(True).run()
    assert not at.sidebar.error and not at.main.info
    assert doc(at)["id"] == before["id"]
    assert query(at) == {"o": LIGHT["o"], "n": [LIGHT["n"]]}


def test_add_an_instance():
    at = light()
    at.selectbox(key="add_kind").set_value("WAME")
    at.button(key="add_button").click().run()
    assert_ok(at)
    *_, wame = uids(at)
    assert len(uids(at)) == 3
    assert names(doc(at)) == ["Adam", "SGD", "WAME"]
    assert len({o["color"] for o in doc(at)["optimizers"]}) == 3  # a colour of its own
    keys = widget_keys(at.sidebar)
    for h in ("learning_rate", "alpha", "eta_plus", "eta_minus", "zeta_min", "zeta_max"):
        assert f"o{wame}.hp.{h}" in keys  # every hyperparameter of the registry
    assert at.select_slider(key=f"o{wame}.hp.learning_rate").value == 0.001  # registry default
    assert query(at)["o"][-1] == "WAME()"


def test_duplicate_an_instance():
    at = light()
    adam, sgd = uids(at)
    at.button(key=f"o{adam}.dup").click().run()
    assert_ok(at)
    order = uids(at)
    assert order[0] == adam and order[2] == sgd  # the copy comes right after its original
    copy = order[1]
    assert at.text_input(key=f"o{copy}.name").value == "Adam (copy)"
    assert at.select_slider(key=f"o{copy}.hp.learning_rate").value == 0.05
    d = doc(at)
    assert names(d) == ["Adam", "Adam (copy)", "SGD"]
    np.testing.assert_array_equal(path(d, "Adam (copy)"), path(d, "Adam"))
    assert len({o["color"] for o in d["optimizers"]}) == 3


def test_adam_at_two_learning_rates_beside_wame():
    """Adam at two learning rates beside WAME, built with the controls, then opened by link."""
    at = page({"o": ["Adam(learning_rate=0.05)"], "n": "50"})
    (adam,) = uids(at)
    at.button(key=f"o{adam}.dup").click().run()
    copy = uids(at)[1]
    at.select_slider(key=f"o{copy}.hp.learning_rate").set_value(0.01)
    at.text_input(key=f"o{copy}.name").set_value("Adam slow").run()
    at.selectbox(key="add_kind").set_value("WAME")
    at.button(key="add_button").click().run()
    assert_ok(at)
    d = doc(at)
    assert names(d) == ["Adam", "Adam slow", "WAME"]
    assert not np.array_equal(path(d, "Adam"), path(d, "Adam slow"))
    assert [o.hyperparams.get("learning_rate") for o in experiment(at).optimizers] == [
        0.05,
        0.01,
        None,  # WAME at its registry default
    ]
    again = page(at.query_params)
    assert_ok(again)
    assert lessons.effective(experiment(again)) == lessons.effective(experiment(at))
    for name in names(d):
        np.testing.assert_array_equal(path(doc(again), name), path(d, name))


def test_remove_an_instance():
    at = light()
    adam, sgd = uids(at)
    at.button(key=f"o{sgd}.rm").click().run()
    assert_ok(at)
    assert uids(at) == [adam]
    assert names(doc(at)) == ["Adam"]
    assert not [k for k in widget_keys(at.sidebar) if k.startswith(f"o{sgd}.")]
    assert query(at)["o"] == ["Adam(learning_rate=0.05)"]

    at.button(key=f"o{adam}.rm").click().run()  # the last one: nothing to run
    assert_ok(at)
    assert "choose at least one enabled optimizer" in " ".join(texts(at.sidebar.error))
    assert names(doc(at)) == ["Adam"]  # the last run stays
    at.selectbox(key="add_kind").set_value("SGD")
    at.button(key="add_button").click().run()
    assert not at.sidebar.error
    assert names(doc(at)) == ["SGD"]


def test_rename_and_recolour_an_instance():
    at = light()
    before = doc(at)
    adam, _ = uids(at)
    at.text_input(key=f"o{adam}.name").set_value("fast Adam")
    at.color_picker(key=f"o{adam}.color").set_value("#123456").run()
    assert_ok(at)
    d = doc(at)
    assert names(d) == ["fast Adam", "SGD"]
    assert d["optimizers"][0]["color"] == "#123456"
    np.testing.assert_array_equal(path(d, "fast Adam"), path(before, "Adam"))  # same run
    assert query(at)["o"][0] == "Adam(learning_rate=0.05,name=fast Adam,color=123456)"
    assert card_labels(at)[0] == "● fast Adam · lr 0.05"


def test_a_rename_or_a_new_colour_computes_nothing(monkeypatch):
    """Names and colours are not part of the computation: relabelling reuses the cached run
    and the cached document (no engine call, no compile, no payload built), same arrays."""
    from app import compute

    at = light()
    before = doc(at)
    calls = []

    def counted(real, name):
        def call(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(compute, "run", counted(compute.run, "run"))
    monkeypatch.setattr(compute.payload, "build", counted(compute.payload.build, "build"))
    compiles = pieces.compile_count()
    adam, sgd = uids(at)
    at.text_input(key=f"o{adam}.name").set_value("renamed").run()
    assert_ok(at)
    at.color_picker(key=f"o{sgd}.color").set_value("#654321").run()
    assert_ok(at)
    for view in ("inside", "3d", "summary", "paths"):  # every view of the run
        open_view(at, view)
        assert_ok(at)
    assert calls == [] and pieces.compile_count() == compiles
    d = doc(at)
    assert names(d) == ["renamed", "SGD"] and d["optimizers"][1]["color"] == "#654321"
    assert d["id"] != before["id"]  # the browser is told: the labels changed
    for new, old in (("renamed", "Adam"), ("SGD", "SGD")):
        np.testing.assert_array_equal(path(d, new), path(before, old))
    # what the engine computes from does run it (a seed no other test uses: not cached)
    at.number_input(key="seed").set_value(4242).run()
    assert_ok(at)
    assert calls == ["run", "build"]


def test_change_an_instances_optimizer_keeps_name_colour_and_rate():
    at = light()
    adam, _ = uids(at)
    at.text_input(key=f"o{adam}.name").set_value("mine").run()
    color = at.color_picker(key=f"o{adam}.color").value
    at.selectbox(key=f"o{adam}.kind").set_value("RMSprop").run()
    assert_ok(at)
    spec = experiment(at).optimizers[0]
    assert (spec.kind, spec.name, spec.hyperparams) == ("RMSprop", "mine", {"learning_rate": 0.05})
    assert at.color_picker(key=f"o{adam}.color").value == color
    keys = widget_keys(at.sidebar)
    assert f"o{adam}.hp.rho" in keys and f"o{adam}.hp.beta_1" not in keys
    assert doc(at)["optimizers"][0]["kind"] == "RMSprop"
    assert query(at)["o"][0] == "RMSprop(learning_rate=0.05,name=mine)"


def test_learning_rate_schedule_of_an_instance():
    at = light()
    before = doc(at)
    adam, _ = uids(at)
    at.selectbox(key=f"o{adam}.sched").set_value("exponential_decay").run()
    assert_ok(at)
    keys = widget_keys(at.sidebar)
    assert f"o{adam}.sched.decay_steps" in keys and f"o{adam}.sched.decay_rate" in keys
    lr = experiment(at).optimizers[0].hyperparams["learning_rate"]
    assert lr == {
        "schedule": "exponential_decay",
        "initial_learning_rate": 0.05,
        "decay_steps": 10.0,  # steps / 5
        "decay_rate": 0.5,
    }
    assert query(at)["o"][0].startswith("Adam(learning_rate=exponential_decay(")
    decayed = doc(at)
    assert not np.array_equal(path(decayed, "Adam"), path(before, "Adam"))
    np.testing.assert_array_equal(path(decayed, "SGD"), path(before, "SGD"))
    at.slider(key=f"o{adam}.sched.decay_rate").set_value(0.9).run()
    assert experiment(at).optimizers[0].hyperparams["learning_rate"]["decay_rate"] == 0.9
    assert not np.array_equal(path(doc(at), "Adam"), path(decayed, "Adam"))
    at.selectbox(key=f"o{adam}.sched").set_value("constant").run()
    assert doc(at)["id"] == before["id"]


def test_weight_decay_option_of_an_instance():
    at = light()
    before = doc(at)
    _, sgd = uids(at)
    assert f"o{sgd}.opt.weight_decay" not in widget_keys(at.sidebar)
    at.checkbox(key=f"o{sgd}.opt.weight_decay.on").check().run()
    assert_ok(at)
    assert at.slider(key=f"o{sgd}.opt.weight_decay").value == 0.01
    assert experiment(at).optimizers[1].hyperparams == {
        "learning_rate": 0.001,
        "weight_decay": 0.01,
    }
    assert query(at)["o"][1] == "SGD(learning_rate=0.001,weight_decay=0.01)"
    assert not np.array_equal(path(doc(at), "SGD"), path(before, "SGD"))
    at.slider(key=f"o{sgd}.opt.weight_decay").set_value(0.1).run()
    assert experiment(at).optimizers[1].hyperparams["weight_decay"] == 0.1
    at.checkbox(key=f"o{sgd}.opt.weight_decay.on").uncheck().run()
    assert experiment(at).optimizers[1].hyperparams == {"learning_rate": 0.001}
    assert doc(at)["id"] == before["id"]


def test_a_closed_schedule_popover_builds_no_widgets_and_keeps_its_values():
    """The "Schedule & options" popover builds its widgets only while open (as the cards do):
    closed, the schedule and the options set in it still hold, and opened again it shows them."""
    at = light()  # cards and popovers opened
    adam, sgd = uids(at)
    at.selectbox(key=f"o{adam}.sched").set_value("cosine_decay").run()
    at.checkbox(key=f"o{sgd}.opt.weight_decay.on").check().run()
    before = doc(at)["id"]
    for uid in (adam, sgd):  # closed, as a click outside it does
        at.session_state[f"o{uid}.more"] = False
    at.run().run()  # a second run: Streamlit drops what a run did not draw after the first
    assert_ok(at)
    keys = widget_keys(at.sidebar)
    assert f"o{adam}.hp.learning_rate" in keys  # the cards are open ...
    assert not [k for k in keys if ".sched" in k or ".opt." in k]  # ... their popovers closed
    assert doc(at)["id"] == before
    adam_lr, sgd_hp = (o.hyperparams for o in experiment(at).optimizers)
    assert adam_lr["learning_rate"]["schedule"] == "cosine_decay"
    assert sgd_hp == {"learning_rate": 0.001, "weight_decay": 0.01}
    open_controls(at)
    assert at.selectbox(key=f"o{adam}.sched").value == "cosine_decay"
    assert at.checkbox(key=f"o{sgd}.opt.weight_decay.on").value


def test_an_optimizer_hyperparameter_that_may_be_off_has_a_toggle():
    """Prodigy's beta_3 (off by default: sqrt(beta_2)) and Muon's rms_rate (0.2, may be off)."""
    at = page({**LIGHT, "o": ["Prodigy", "Muon"]})
    prodigy, muon = uids(at)
    on = {u: at.toggle(key=f"o{u}.hp.{n}.on") for u, n in ((prodigy, "beta_3"), (muon, "rms_rate"))}
    assert not on[prodigy].value and on[muon].value
    on[prodigy].set_value(True)
    on[muon].set_value(False)
    at.run()
    assert_ok(at)
    prodigy_values, muon_values = (o.hyperparams for o in experiment(at).optimizers)
    assert 0.0 < prodigy_values["beta_3"] < 1.0
    assert muon_values["rms_rate"] is None
    link = query(at)["o"]
    again = page({**LIGHT, "o": link})
    assert_ok(again)
    assert [o.hyperparams for o in experiment(again).optimizers] == [prodigy_values, muon_values]


# ---- custom formula ------------------------------------------------------------------------------
CUSTOM = {**LIGHT, "s": "custom"}


def test_custom_formula_renders_and_follows_edits():
    at = page(CUSTOM)
    assert_ok(at)
    before = doc(at)
    assert before["surface"]["name"] == "custom"
    assert texts(at.sidebar.latex) == [
        "$$\n\\sin\\left(x\\right) \\cdot \\cos\\left(y\\right) + \\frac{x^{2} + y^{2}}{10}\n$$"
    ]
    at.text_input(key="sp.custom.formula").set_value("x^2 + 3*y^2").run()
    assert_ok(at)
    assert not at.sidebar.error
    assert texts(at.sidebar.latex) == ["$$\nx^{2} + 3 \\cdot y^{2}\n$$"]
    assert experiment(at).surface_params == {"formula": "x^2 + 3*y^2"}
    assert query(at)["p"] == ["formula=x^2 + 3*y^2"]
    assert not np.array_equal(path(doc(at), "Adam"), path(before, "Adam"))


@pytest.mark.parametrize(
    ("formula", "column"), [("__import__('os')", "column 1"), ("x +* y", "column 4")]
)
def test_bad_formula_shows_an_inline_error_and_keeps_the_last_run(formula, column):
    at = page(CUSTOM)
    before, good, link = doc(at), at.session_state["last_good"], query(at)
    at.text_input(key="sp.custom.formula").set_value(formula).run()
    assert_ok(at)
    (message,) = texts(at.sidebar.error)
    assert message.startswith("Formula: ") and column in message
    order = in_order(at.sidebar)
    assert (
        index_of(order, "sp.custom.formula")
        < errors_in(order)[0]
        < index_of(order, "sp.custom.xmin")
    )  # right below the formula
    assert STALE in " ".join(texts(at.main.info))
    assert doc(at)["id"] == before["id"]  # the last valid run stays on the page
    assert at.session_state["last_good"] == good and query(at) == link
    assert at.text_input(key="sp.custom.formula").value == formula  # the text typed is kept

    open_view(at, "summary")  # the rest of the page keeps working
    assert_ok(at)
    assert len(at.main.dataframe[0].value) == 2
    at.select_slider(key="steps").set_value(100).run()  # still stale, but remembered
    assert at.text_input(key="sp.custom.formula").value == formula
    at.text_input(key="sp.custom.formula").set_value("x^2 + y^2").run()
    assert not at.sidebar.error and not at.main.info
    e = experiment(at)
    assert (e.surface_params, e.steps) == ({"formula": "x^2 + y^2"}, 100)


# ---- start points --------------------------------------------------------------------------------
def test_start_points_from_the_table():
    at = light()
    at.session_state["starts_editor"] = {
        "edited_rows": {0: {"x": 0.5}},
        "added_rows": [{"x": 2.0, "y": 2.0}, {"x": 3.0}],  # an incomplete row is left out
        "deleted_rows": [],
    }
    at.run()
    assert_ok(at)
    assert experiment(at).starts == ((0.5, 2.0), (2.0, 2.0))
    assert query(at)["x"] == ["0.5,2", "2,2"]
    d = doc(at)
    for name in ("Adam", "SGD"):
        p = path(d, name)
        assert p.shape == (2, 51, 2)
        np.testing.assert_allclose(p[:, 0], [[0.5, 2.0], [2.0, 2.0]])

    at.session_state["starts_editor"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()  # an empty table: the surface's own start
    assert experiment(at).starts == ()
    assert query(at)["x"] == ["none"]
    own = surfaces.get("rosenbrock").starts[0]
    np.testing.assert_allclose(path(doc(at), "Adam")[0, 0], own)


def test_closed_sections_keep_the_table_edits_and_run_settings():
    at = light()  # cards and sections opened
    at.session_state["starts_editor"] = {
        "edited_rows": {0: {"x": 0.5}},
        "added_rows": [{"x": 2.0, "y": 2.0}],
        "deleted_rows": [],
    }
    at.number_input(key="seed").set_value(7).run()
    edited = experiment(at)
    assert (edited.starts, edited.seed) == (((0.5, 2.0), (2.0, 2.0)), 7)
    at.session_state["starts_open"] = False
    at.session_state["run_open"] = False
    at.run().run()  # closed: nothing built (Streamlit drops what a run did not draw)
    assert_ok(at)
    keys = widget_keys(at.sidebar)
    assert "starts_editor" not in keys and "seed" not in keys
    assert experiment(at) == edited and doc(at)["id"]
    assert query(at)["x"] == ["0.5,2", "2,2"] and query(at)["seed"] == ["7"]
    open_controls(at)  # opened again: the table shows the edited points, once
    assert at.data_editor(key="starts_editor").value.values.tolist() == [[0.5, 2.0], [2.0, 2.0]]
    assert at.number_input(key="seed").value == 7
    assert experiment(at) == edited


def test_an_error_shows_below_its_closed_section():
    at = page({**LIGHT, "x": [f"{i / 10},1" for i in range(limits.MAX_STARTS)]}, cards=False)
    at.session_state["start_points"] = [[i / 10, 1.0] for i in range(limits.MAX_STARTS + 1)]
    at.run()
    assert_ok(at)
    (message,) = texts(at.sidebar.error)
    assert "start points = 17 is over the limit of 16" in message
    order = in_order(at.sidebar)
    assert index_of(order, "starts_open") < errors_in(order)[0] < index_of(order, "run_open")


def test_several_start_points_from_session_state():
    at = light()
    points = [[1.0, 1.5], [-1.0, 0.5], [0.0, -1.0]]
    at.session_state["start_points"] = points
    at.run()
    assert_ok(at)
    assert experiment(at).starts == tuple(map(tuple, points))
    assert at.data_editor(key="starts_editor").value.values.tolist() == points
    np.testing.assert_allclose(path(doc(at), "SGD")[:, 0], points)
    assert query(at)["x"] == ["1,1.5", "-1,0.5", "0,-1"]


def test_click_on_the_surface_moves_or_adds_a_start_point():
    at = light()
    click_surface(at, 0.5, 0.25)
    assert_ok(at)
    assert experiment(at).starts == ((0.5, 0.25),)
    np.testing.assert_allclose(path(doc(at), "Adam")[0, 0], [0.5, 0.25])
    assert query(at)["x"] == ["0.5,0.25"]
    assert at.data_editor(key="starts_editor").value.values.tolist() == [[0.5, 0.25]]

    click_surface(at, 1.0, -1.0, add=True)  # shift-click adds one
    assert experiment(at).starts == ((0.5, 0.25), (1.0, -1.0))
    assert path(doc(at), "SGD").shape[0] == 2
    click_surface(at, -1.0, 1.0)  # a plain click moves the first only
    assert experiment(at).starts == ((-1.0, 1.0), (1.0, -1.0))
    at.run()  # a trigger fires once
    assert experiment(at).starts == ((-1.0, 1.0), (1.0, -1.0))
    click_surface(at, "left", None)  # a malformed click is ignored
    assert_ok(at)
    assert experiment(at).starts == ((-1.0, 1.0), (1.0, -1.0))


def test_a_surface_switch_keeps_the_link_the_drawn_run():
    """Picking another surface: a start nobody set follows it (the paths start inside the new
    picture), and the address bar, decoded as a new browser does, runs the drawn scene."""
    at = light()
    at.selectbox(key="surface").set_value("six_hump_camel").run()
    assert_ok(at)
    e = experiment(at)
    camel = surfaces.get("six_hump_camel")
    assert e.surface == "six_hump_camel"
    np.testing.assert_allclose(path(doc(at), "Adam")[0, 0], camel.starts[0])
    assert at.data_editor(key="starts_editor").value.values.tolist() == [[-1.8, -1.0]]
    linked, warnings = share.decode(query(at))
    assert warnings == []
    assert lessons.effective(linked.experiment) == lessons.effective(e)
    assert not at.sidebar.info  # nothing the user set has moved

    click_surface(at, -1.9, 1.1)  # a start of the user's, inside Rosenbrock's window too
    at.selectbox(key="surface").set_value("rosenbrock").run()
    assert experiment(at).starts == ((-1.9, 1.1),)
    assert query(at)["x"] == ["-1.9,1.1"]
    click_surface(at, -1.9, 2.8)  # above the camel's window (y up to 1.2)
    at.selectbox(key="surface").set_value("six_hump_camel").run()
    assert_ok(at)
    e = experiment(at)
    assert e.starts == ((-1.8, -1.0),)
    np.testing.assert_allclose(path(doc(at), "SGD")[0, 0], [-1.8, -1.0])
    (note,) = texts(at.sidebar.info)
    assert "(-1.9, 2.8) lies outside Six-hump camel" in note and "(-1.8, -1)" in note
    linked, _ = share.decode(query(at))
    assert lessons.effective(linked.experiment) == lessons.effective(e)


# ---- views ---------------------------------------------------------------------------------------
def test_inside_view_shows_equations_and_values():
    at = light()
    open_view(at, "inside")
    assert_ok(at)
    assert None not in widget_keys(at.main)
    latex = texts(at.main.latex)
    assert len(latex) == 4  # the update rule and the per-weight learning rate, per optimizer
    assert "beta_1" in latex[0] and latex[1].startswith("$$\n\\text{per-weight learning rate}")
    assert any(m.startswith("**Adam**") for m in texts(at.main.markdown))
    assert "Values after step 50" in " ".join(texts(at.main.caption))
    tables = [t.value for t in at.main.dataframe]
    assert len(tables) == 2
    for table in tables:
        assert table.index.tolist() == ["x", "y"]
        assert {"gradient g", "learning rate", "update Δw", "ratio -Δw/g"} <= set(table.columns)
        assert not any("\\" in column for column in table.columns)  # no raw LaTeX
    assert any({"mₜ", "vₜ"} <= set(t.columns) for t in tables)  # Adam's m_t, v_t as text
    g = payload.decode(paths_doc(at)["optimizers"][0]["inside"]["g"])[0, -1]
    np.testing.assert_allclose(tables[0]["gradient g"].to_numpy(), g, rtol=1e-6)


def test_inside_view_opens_at_a_linked_frame():
    at = light(f="10", v="inside")
    assert_ok(at)
    assert at.session_state["view_tab"] == TABS["inside"]
    assert "Values after step 10" in " ".join(texts(at.main.caption))


def test_inside_view_step_slider_moves():
    at = light()
    open_view(at, "inside")
    at.slider(key="inside_frame").set_value(3).run()
    assert at.slider(key="inside_frame").value == 3
    assert "Values after step 3" in " ".join(texts(at.main.caption))


def test_inside_view_at_the_last_frame_has_no_step_and_no_negative_zero():
    """After the last frame no step follows: its update and ratio read "–" with a note, not 0
    and "-0" beside a nonzero state; every other frame shows them, and no cell reads "-0"."""
    from app import compute, views

    at = light()
    open_view(at, "inside")
    assert_ok(at)
    assert views.NO_STEP_NOTE in " ".join(texts(at.main.caption))  # opens at the last frame
    for table in (t.value for t in at.main.dataframe):
        assert (table[["update Δw", "ratio -Δw/g"]] == views.NO_STEP).all().all()
        assert table["gradient g"].notna().all()
    at.slider(key="inside_frame").set_value(3).run()
    assert views.NO_STEP_NOTE not in " ".join(texts(at.main.caption))
    r = compute.result(experiment(at))
    for a, t in enumerate(at.main.dataframe):
        np.testing.assert_allclose(t.value["update Δw"].to_numpy(), r.update[a, 0, 3], rtol=1e-6)
    # a zero step (a frozen run's: update 0, ratio -0/g) prints "0" in both columns
    zeroed = dataclasses.replace(r, update=r.update.copy())
    zeroed.update[0, 0, 3] = 0.0
    assert np.signbit(zeroed.ratio[0, 0, 3]).any()  # -0.0 where g > 0
    cells = views._value_table(zeroed, 0, 3).map("{:.4g}".format)
    assert (cells[["update Δw", "ratio -Δw/g"]] == "0").all().all(), cells


def test_three_d_view_is_the_animator_with_its_3d_panel():
    at = light(x=["-1.5,2", "1,-1"])
    in_paths = doc(at)
    assert "surface3d" not in in_paths["options"].get("show", [])  # Paths keeps its look
    open_view(at, "3d")
    assert_ok(at)
    d = doc(at)
    assert d["options"]["show"] == ["surface3d"]
    assert {"lr", "loss", "inside", "fit", "schedule"} <= set(d["options"]["hide"])
    assert "surface" not in d["options"]["hide"]  # the 2-D view beside the 3-D one
    assert d["id"] == in_paths["id"]  # the same document: one clock for both views
    z = payload.decode(d["surface"]["height"]["z"])
    assert z.shape == (len(d["surface"]["height"]["y"]), len(d["surface"]["height"]["x"]))
    assert min(z.shape) >= 48 and np.isfinite(z).all()
    assert not [c for c in at.get("plotly_chart") if c.key == "three_d"]  # no WebGL figure


def test_summary_view_has_one_row_per_optimizer():
    at = page({"o": ["SGD(learning_rate=0.1)", "Adam(learning_rate=0.05)"], "n": "50"})
    open_view(at, "summary")
    assert_ok(at)
    (table,) = [t.value for t in at.main.dataframe]
    assert table["optimizer"].tolist() == ["SGD", "Adam"]
    assert {"final_loss", "steps_to_target", "diverged_at"} <= set(table.columns)
    diverged = table["diverged_at"].tolist()
    assert diverged[0] == paths_doc(at)["optimizers"][0]["diverged"][0] and np.isnan(diverged[1])


def sweeps_page(**extra):
    at = light(**extra)
    open_view(at, "sweeps")
    assert_ok(at)
    assert None not in widget_keys(at.main)
    return at


def assert_no_progress_bar(at) -> None:
    """A finished sweep shows its result only: its progress bar and Cancel button are gone."""
    assert [p.value for p in at.get("progress")] == []
    assert not [k for k in widget_keys(at.main) if str(k).startswith("cancel_")]


def test_the_progress_bar_goes_when_the_grid_is_shown():
    at = sweeps_page()
    at.slider(key="grid_n_learning_rate").set_value(32)
    at.button(key="grid_run").click().run()
    assert_ok(at)
    assert len(plotly_array(plotly_spec(at, "grid_chart")["data"][0]["x"])) == 32
    assert_no_progress_bar(at)  # not "Sweeping: 32 / 32" under the result


def test_hyperparameter_grid_and_loading_a_cell():
    at = sweeps_page()
    at.slider(key="grid_n_learning_rate").set_value(4)
    at.selectbox(key="grid_p2").set_value("beta_1").run()
    at.slider(key="grid_n_beta_1").set_value(3)
    at.button(key="grid_run").click().run()
    assert_ok(at)
    cells = plotly_spec(at, "grid_chart")["data"][0]
    xs, ys = plotly_array(cells["x"]), plotly_array(cells["y"])
    assert len(xs) == len(ys) == 12
    assert len(set(xs.tolist())) == 4 and len(set(ys.tolist())) == 3
    assert len(plotly_array(cells["marker"]["color"])) == 12
    assert any(c.startswith("Best cell: learning_rate = ") for c in texts(at.main.caption))

    custom = plotly_array(cells["customdata"])[5].tolist()  # a click on a cell loads it
    select_points(at, "grid_chart", [{"customdata": custom}])
    assert_ok(at)
    adam = experiment(at).optimizers[0].values()
    assert adam["learning_rate"] == pytest.approx(custom[0])
    assert adam["beta_1"] == pytest.approx(custom[1])
    assert query(at)["v"] == ["sweeps"]


def test_the_grid_computes_the_metric_it_draws_and_a_switch_computes_the_next(monkeypatch):
    from app import compute

    calls = []
    real = compute.sweeps.hyperparameter_grid

    def counted(*args, metrics=None, **kw):
        calls.append(tuple(metrics))
        return real(*args, metrics=metrics, **kw)

    monkeypatch.setattr(compute.sweeps, "hyperparameter_grid", counted)
    monkeypatch.setattr(compute, "_SWEEPS", type(compute._SWEEPS)())
    at = sweeps_page()
    at.slider(key="grid_n_learning_rate").set_value(5)
    at.button(key="grid_run").click().run()
    assert_ok(at)
    assert calls == [("final_loss",)]  # the lean kernel for the metric drawn by default
    final = plotly_array(plotly_spec(at, "grid_chart")["data"][0]["y"])
    # a switch computes the metric switched to (all three: they come from one kernel)
    at.radio(key="grid_metric").set_value("loss_auc").run()
    assert_ok(at)
    assert_no_progress_bar(at)
    assert calls == [("final_loss",), compute.sweeps.CRITERIA]
    auc = plotly_array(plotly_spec(at, "grid_chart")["data"][0]["y"])
    np.testing.assert_array_equal(auc, at.session_state["grid_result"]["result"].loss_auc)
    assert not np.array_equal(auc, final)
    # back to the final loss: the full grid has it, the same values, nothing computed
    at.radio(key="grid_metric").set_value("final_loss").run()
    assert_ok(at)
    assert len(calls) == 2
    again = plotly_array(plotly_spec(at, "grid_chart")["data"][0]["y"])
    np.testing.assert_array_equal(again, final)
    # the same grid run again for its final loss: the full grid's cells serve it
    at.button(key="grid_run").click().run()
    assert_ok(at)
    assert len(calls) == 2


def test_basins_of_attraction():
    at = sweeps_page()
    at.slider(key="basins_n").set_value(8)
    at.button(key="basins_run").click().run()
    assert_ok(at)
    assert_no_progress_bar(at)
    heat, minima = plotly_spec(at, "basins_chart")["data"]
    assert heat["type"] == "heatmap" and plotly_array(heat["z"]).shape == (8, 8)
    assert minima["type"] == "scatter"
    (table,) = [t.value for t in at.main.dataframe if "basin" in t.value]
    shares = table["share of starts"].str.rstrip("%").astype(float)
    assert shares.sum() == pytest.approx(100, abs=0.2)


def test_seed_ensemble_with_gradient_noise():
    at = sweeps_page(noise="0.5")
    at.slider(key="ensemble_n").set_value(4)
    at.button(key="ensemble_run").click().run()
    assert_ok(at)
    assert_no_progress_bar(at)
    traces = plotly_spec(at, "ensemble_chart")["data"]
    assert len(traces) == 6  # two bands and a median per optimizer
    assert [t["name"] for t in traces if t.get("name")] == ["Adam (median)", "SGD (median)"]
    median = plotly_array(traces[2]["y"])
    assert len(median) == 51 and np.all(np.isfinite(median))


def test_fair_comparison():
    at = sweeps_page()
    at.select_slider(key="fair_trials").set_value(8)
    at.button(key="fair_run").click().run()
    assert_ok(at)
    assert_no_progress_bar(at)
    (table,) = [t.value for t in at.main.dataframe if "optimizer" in t.value]
    assert sorted(table["optimizer"]) == ["Adam", "SGD"]
    assert {"as set", "lr tuned", "all tuned", "best setting"} <= set(table.columns)
    assert "8 trials each" in " ".join(texts(at.main.caption))


def test_lessons_gallery_open_next_back_and_leave():
    at = light()
    open_view(at, "lessons")
    assert_ok(at)
    keys = widget_keys(at.main)
    assert [f"open_{lid}" for lid in lessons.LESSONS] == [k for k in keys if k.startswith("open")]

    lesson = lessons.get("learning-rate")
    at.button(key="open_learning-rate").click().run()
    assert_ok(at)
    assert at.session_state["view_tab"] == TABS[lesson.stages[0].view]
    assert lesson.stages[0].narration in texts(at.main.markdown)
    assert names(doc(at)) == [o.name for o in lesson.stages[0].experiment.optimizers]
    assert at.button(key="stage_prev").disabled and not at.button(key="stage_next").disabled
    assert query(at)["lesson"] == ["learning-rate"]

    at.button(key="stage_next").click().run()
    assert lesson.stages[1].narration in texts(at.main.markdown)
    assert names(doc(at)) == ["lr 0.01", "lr 0.1"]
    assert query(at)["stage"] == ["2"]  # "stage 2 of 3": links count as the page does
    at.button(key="stage_next").click().run()  # stage 3 opens paused at its frame
    assert doc(at)["options"]["frame"] == lesson.stages[2].frame
    assert doc(at)["options"]["autoplay"] is False
    at.button(key="stage_prev").click().run()
    assert lesson.stages[1].narration in texts(at.main.markdown)

    at.select_slider(key="steps").set_value(50).run()  # a changed setting is pointed out
    assert any("Settings changed" in c for c in texts(at.main.caption))
    at.button(key="stage_reset").click().run()
    assert experiment(at).steps == 100
    assert not any("Settings changed" in c for c in texts(at.main.caption))

    at.button(key="stage_leave").click().run()
    assert_ok(at)
    assert lesson.stages[1].narration not in texts(at.main.markdown)
    assert "lesson" not in query(at)


def test_share_tab_link_and_downloads():
    at = light()
    open_view(at, "share")
    assert_ok(at)
    assert None not in widget_keys(at.main)
    # the link shares what was being looked at before opening this tab (here: Paths)
    scene = share.Scene(experiment(at), view="paths")
    link, script = texts(at.main.code)  # the link, then the scene as Python
    assert link.endswith("?" + share.query_string(scene))
    assert "v=share" not in link and "o=Adam(learning_rate=0.05)" in link
    keys = {b.key for b in at.main.download_button}
    assert keys == {"dl_snapshot", "dl_html", "dl_png", "dl_gif", "dl_csv"}
    assert at.file_uploader(key="snapshot_upload").allowed_type == [".json"]
    copy = [n for n in at.main if getattr(n, "key", None) == "copy_link"]
    assert len(copy) == 1 and link in copy[0].proto.json
    assert at.main.code[1].language == "python"
    assert script.strip() == as_code.script(experiment(at), labels.names(experiment(at))).strip()
    assert "learning_rate=0.05" in script and "jax.lax.scan" in script


def snapshot_bytes() -> tuple[bytes, Experiment]:
    e = Experiment(
        surface="himmelblau",
        optimizers=(OptimizerSpec("SGD", {"learning_rate": 0.01}, name="from a file"),),
        steps=30,
    )
    return snapshot.dumps(snapshot.from_result(run(e), e)).encode(), e


def test_uploading_a_snapshot_loads_its_scene():
    data, e = snapshot_bytes()
    at = light()
    open_view(at, "share")
    at.file_uploader(key="snapshot_upload").set_value(("run.json", data, "application/json"))
    at.run()
    assert_ok(at)
    assert texts(at.main.success) == [
        "Loaded run.json: re-running it reproduces its results exactly."
    ]
    assert lessons.effective(experiment(at)) == lessons.effective(e)
    assert at.selectbox(key="surface").value == "himmelblau"
    d = paths_doc(at)
    assert d["surface"]["name"] == "himmelblau" and names(d) == ["from a file"]


def _tampered() -> bytes:
    data, _ = snapshot_bytes()
    return data.replace(b'"learning_rate":0.01', b'"learning_rate":0.02', 1)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\x80\x04\x95 pickle", "pickle"),
        (b'{"schema": "something else"}', "schema"),
        (_tampered, "checksum mismatch"),
    ],
    ids=["not-json", "pickle", "schema", "tampered"],
)
def test_a_bad_snapshot_upload_is_refused_in_one_line(content, reason):
    content = content() if callable(content) else content
    at = light()
    open_view(at, "share")
    good = at.session_state["last_good"]
    at.file_uploader(key="snapshot_upload").set_value(("bad.json", content, "application/json"))
    at.run()
    assert_ok(at)
    (message,) = texts(at.main.error)
    assert reason in message and "\n" not in message
    assert at.session_state["last_good"] == good
    assert names(paths_doc(at)) == ["Adam", "SGD"]


# ---- links ---------------------------------------------------------------------------------------
LINKED = Experiment(
    surface="rosenbrock",
    surface_params={"b": 20.0},
    optimizers=(
        OptimizerSpec("Adam", {"learning_rate": 0.05, "beta_1": 0.8}, name="fast", color="#aa0000"),
        OptimizerSpec("SGD", {"learning_rate": 0.001, "momentum": 0.9}),
        OptimizerSpec("RMSprop", {"learning_rate": 0.01}, enabled=False),
    ),
    starts=((1.0, -1.0), (-1.5, 2.0)),
    steps=60,
    noise=0.1,
    seed=3,
)


def test_a_link_reproduces_its_scene():
    scene = share.Scene(LINKED, view="summary")
    at = page(link_query(scene), cards=False)
    assert_ok(at)
    assert not at.main.warning
    assert lessons.effective(experiment(at)) == lessons.effective(LINKED)
    again, warnings = share.decode(query(at))  # the page's own URL is the same scene again
    assert not warnings and again.view == "summary"
    assert lessons.effective(again.experiment) == lessons.effective(LINKED)
    assert at.session_state["view_tab"] == TABS["summary"]
    summary = at.main.dataframe[0].value  # a row per optimizer and start; RMSprop is off
    assert summary[["optimizer", "start"]].values.tolist() == [
        ["fast", 1],
        ["fast", 2],
        ["SGD", 1],
        ["SGD", 2],
    ]
    assert card_labels(at)[2].startswith("○ RMSprop")  # off
    d = paths_doc(at)
    r = labels.attach(run(LINKED), LINKED)
    assert names(d) == r.names == ["fast", "SGD"]
    for a, name in enumerate(r.names):  # bit for bit
        np.testing.assert_array_equal(path(d, name), r.position[a].astype(np.float32))


@pytest.mark.parametrize(
    "lr",
    [
        {"schedule": "cosine_decay", "initial_learning_rate": 0.05, "decay_steps": 500},
        {
            "schedule": "exponential_decay",
            "initial_learning_rate": 0.05,
            "decay_steps": 10,
            "decay_rate": 0.5,
            "staircase": True,
        },
        {
            "schedule": "warmup",
            "initial_learning_rate": 0.0,
            "after": {"schedule": "cosine_decay", "initial_learning_rate": 0.05, "decay_steps": 60},
            "warmup_steps": 5,
        },
    ],
    ids=["cosine-decay-steps", "exponential-staircase", "warmup-then-cosine"],
)
def test_a_link_with_a_schedule_reproduces_it(lr):
    e = Experiment(optimizers=(OptimizerSpec("Adam", {"learning_rate": lr}),), steps=50)
    at = page(link_query(share.Scene(e)), cards=False)
    assert_ok(at)
    assert not at.main.warning  # nothing was reported as ignored ...
    assert lessons.effective(experiment(at)) == lessons.effective(e)  # ... so nothing may be


def test_a_malformed_link_warns_and_the_rest_applies():
    at = page(
        cards=False,  # the link's warnings show on its first run
        query={
            "o": ["Adam(learning_rate=abc)", "SGD(learning_rate=0.002)"],
            "x": ["1,2,3", "0.5,0.5"],
            "seed": "3",
            "n": "50",
            "bogus": "1",
            "v": "nope",
        },
    )
    assert_ok(at)
    warnings = texts(at.main.warning)
    assert all(w.startswith("Part of the link was ignored: ") for w in warnings)
    assert all(w.endswith("The rest applies.") for w in warnings)
    text = "\n".join(warnings)
    for named in ("'bogus'", "o[1] 'Adam(learning_rate=abc)'", "x '1,2,3'", "v='nope'"):
        assert named in text, named
    e = experiment(at)
    assert [(o.kind, o.hyperparams) for o in e.optimizers] == [("SGD", {"learning_rate": 0.002})]
    assert (e.starts, e.seed, e.steps) == (((0.5, 0.5),), 3, 50)
    assert at.session_state["view_tab"] == TABS["paths"]
    assert names(doc(at)) == ["SGD"]


def test_presentation_link_hides_the_sidebar():
    at = page({**LIGHT, "present": "1", "hide": "sidebar"})
    assert_ok(at)
    assert in_order(at.sidebar) == []
    (style,) = [h.proto.body for h in at.get("html")]
    assert '[data-testid="stSidebar"]' in style and "display: none" in style
    assert doc(at)["options"]["presentation"] is True
    assert query(at)["present"] == ["1"] and query(at)["hide"] == ["sidebar"]


def test_a_link_hides_the_animators_panels_it_names():
    """Every panel `hide=` may name reaches the animator, the schedule panel among them; the
    page's parts (here the sidebar) are hidden by the page, not passed on."""
    at = page({**LIGHT, "hide": "sidebar,schedule,loss,legend"})
    assert_ok(at)
    hidden = doc(at)["options"]["hide"]
    assert {"schedule", "loss", "legend"} <= set(hidden) and "sidebar" not in hidden
    assert query(at)["hide"] == ["sidebar,schedule,loss,legend"]


def test_a_lessons_present_link_opens_it_without_controls():
    at = page({k: v if len(v) > 1 else v[0] for k, v in parse_qs(lessons.link("saddle")).items()})
    assert_ok(at)
    assert in_order(at.sidebar) == []
    stage = lessons.get("saddle").stages[0]
    assert stage.narration in texts(at.main.markdown)
    keys = widget_keys(at.main)
    assert "stage_next" in keys and "stage_leave" not in keys  # presenting: no Leave
    assert doc(at)["options"]["frame"] == stage.frame


def test_a_lesson_link_typed_by_hand_opens_the_stage_as_written():
    """``?lesson=momentum&stage=1`` (README): stage 1 of 3, its own scene, view and frame, not
    the default optimizers with "Settings changed"."""
    lesson = lessons.get("momentum")
    for k, stage in enumerate(lesson.stages):
        at = page({"lesson": "momentum", "stage": str(k + 1)}, cards=False)
        assert_ok(at)
        assert not at.main.warning
        markdown = texts(at.main.markdown)
        assert stage.narration in markdown
        assert f"**{lesson.title} · stage {k + 1} of {len(lesson.stages)}: {stage.title}**" in (
            markdown
        )
        assert not any("Settings changed" in c for c in texts(at.main.caption))
        assert lessons.effective(experiment(at)) == lessons.effective(stage.experiment)
        assert at.session_state["view_tab"] == TABS[stage.view]
        if stage.view == "paths":
            assert names(doc(at)) == [o.name for o in stage.experiment.optimizers]
            assert doc(at)["options"].get("frame") == stage.frame
    # the address bar then holds the stage's whole scene, still counting from 1
    assert query(at)["stage"] == [str(len(lesson.stages))]
    assert lessons.effective(share.decode(query(at))[0].experiment) == lessons.effective(
        lesson.stages[-1].experiment
    )


def test_a_lesson_link_with_scene_keys_runs_its_own_scene():
    lesson = lessons.get("momentum")
    at = page({**LIGHT, "lesson": "momentum", "stage": "2"}, cards=False)
    assert_ok(at)
    assert lesson.stages[1].narration in texts(at.main.markdown)
    assert names(doc(at)) == ["Adam", "SGD"]  # the link's scene, under stage 2's narration
    assert any("Settings changed" in c for c in texts(at.main.caption))


def test_a_lesson_link_past_the_last_stage_says_so():
    at = page({"lesson": "momentum", "stage": "9"}, cards=False)
    (warning,) = texts(at.main.warning)
    assert "'momentum' has stages 1 to 3; showing stage 3" in warning
    assert lessons.get("momentum").stages[2].narration in texts(at.main.markdown)


# ---- bad input -----------------------------------------------------------------------------------
def test_a_diverging_optimizer_warns_with_its_step():
    at = light()
    _, sgd = uids(at)
    at.select_slider(key=f"o{sgd}.hp.learning_rate").set_value(0.1).run()
    assert_ok(at)
    (warning,) = texts(at.main.warning)
    step = doc(at)["optimizers"][1]["diverged"][0]
    assert step > 0
    assert warning.startswith(f"**SGD** diverged at step {step}: ")
    assert doc(at)["optimizers"][0]["diverged"] == [-1]
    for view in ("inside", "3d", "summary", "share"):  # the rest of the page works
        open_view(at, view)
        assert_ok(at)
    open_view(at, "paths")
    at.select_slider(key=f"o{sgd}.hp.learning_rate").set_value(0.001).run()
    assert not at.main.warning


def test_steps_beyond_the_limit_in_a_link_warn_and_the_rest_applies():
    at = page({**LIGHT, "n": "50000", "seed": "3"}, cards=False)  # the link's warnings
    assert_ok(at)
    (warning,) = texts(at.main.warning)
    assert "n='50000'" in warning and "out of range [1, 20000]" in warning
    e = experiment(at)
    assert (e.steps, e.seed) == (DEFAULT.steps, 3)
    assert names(doc(at)) == ["Adam", "SGD"]


def test_too_many_optimizers():
    sixteen = {"o": ["SGD(learning_rate=0.001)"] * limits.MAX_INSTANCES, "n": "50"}
    at = page({**sixteen, "o": sixteen["o"] + ["Adam()"]}, cards=False)  # 17: 16 are kept
    assert_ok(at)
    assert "only the first 16 optimizers were kept" in " ".join(texts(at.main.warning))
    assert len(names(doc(at))) == 16

    at.selectbox(key="add_kind").set_value("Adam")
    at.button(key="add_button").click().run()  # the 17th, from the controls
    assert_ok(at)
    (message,) = texts(at.sidebar.error)
    assert "optimizers = 17 is over the limit of 16" in message
    order = in_order(at.sidebar)
    assert index_of(order, "add_button") < errors_in(order)[0] < index_of(order, "starts_open")
    assert STALE in " ".join(texts(at.main.info))
    assert len(uids(at)) == 17 and len(names(doc(at))) == 16  # nothing lost, last run kept
    open_controls(at).toggle(key=f"o{uids(at)[0]}.on").set_value(False).run()
    assert not at.sidebar.error
    assert names(doc(at))[-1] == "Adam" and len(names(doc(at))) == 16


WAME_SCENE = {
    "o": ["Adam(learning_rate=0.05)", "WAME(learning_rate=0.001,zeta_min=5,zeta_max=10)"],
    "n": "50",
}


def test_wame_zeta_min_above_zeta_max_is_an_error_next_to_its_card():
    at = page(WAME_SCENE)
    assert_ok(at)
    before = doc(at)
    _, wame = uids(at)
    at.select_slider(key=f"o{wame}.hp.zeta_max").set_value(2.0).run()
    assert_ok(at)
    (message,) = texts(at.sidebar.error)
    assert "zeta_min=5.0 must not exceed zeta_max=2.0" in message
    order = in_order(at.sidebar)
    assert index_of(order, f"o{wame}.rm") < errors_in(order)[0] < index_of(order, "add_kind")
    assert STALE not in " ".join(texts(at.main.info))  # the valid instance still runs ...
    assert names(doc(at)) == ["Adam"] and doc(at)["id"] != before["id"]  # ... alone
    assert at.select_slider(key=f"o{wame}.hp.zeta_max").value == 2.0  # nothing set is lost
    assert at.select_slider(key=f"o{wame}.hp.zeta_min").value == 5.0
    at.select_slider(key=f"o{wame}.hp.zeta_max").set_value(20.0).run()
    assert not at.sidebar.error and not at.main.info
    assert experiment(at).optimizers[1].hyperparams["zeta_max"] == 20.0
    assert names(doc(at)) == ["Adam", "WAME"]


def test_other_instances_still_run_while_one_is_invalid():
    at = page(WAME_SCENE)
    adam, wame = uids(at)
    at.select_slider(key=f"o{wame}.hp.zeta_max").set_value(2.0).run()
    at.select_slider(key=f"o{adam}.hp.learning_rate").set_value(0.01).run()
    assert experiment(at).optimizers[0].hyperparams["learning_rate"] == 0.01
    assert names(doc(at)) == ["Adam"]


def test_too_many_start_points_error_is_next_to_the_table():
    at = light()
    at.session_state["starts_editor"] = {
        "edited_rows": {},
        "added_rows": [{"x": float(i) / 10, "y": 1.0} for i in range(limits.MAX_STARTS)],
        "deleted_rows": [],
    }
    at.run()
    assert_ok(at)
    (message,) = texts(at.sidebar.error)
    assert "start points = 17 is over the limit of 16" in message
    assert STALE in " ".join(texts(at.main.info))
    order = in_order(at.sidebar)
    assert index_of(order, "starts_editor") < errors_in(order)[0] < index_of(order, "steps")
