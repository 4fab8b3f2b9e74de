"""Share links: any valid scene round-trips exactly; garbage never raises and keeps the rest."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimizers
from app import share, state
from trajectories import Experiment, OptimizerSpec


def _parse(qs: str) -> dict:
    return parse_qs(qs, keep_blank_values=True)


def test_defaults_make_an_empty_link():
    assert share.encode(share.Scene(state.DEFAULT)) == {}
    scene, warnings = share.decode({})
    assert scene.experiment == state.DEFAULT and warnings == []


def test_a_typical_scene_is_short_and_readable():
    e = state.DEFAULT.replace(
        surface="himmelblau",
        optimizers=(
            OptimizerSpec("Adam", {"learning_rate": 0.05, "beta_1": 0.8}, name="fast Adam"),
            OptimizerSpec("SGD", {"learning_rate": 0.001, "momentum": 0.9}, color="#123abc"),
            OptimizerSpec("WAME", {"variant": "paper_sqrt"}, enabled=False),
            OptimizerSpec("AdamW", {"learning_rate": {"schedule": "cosine_decay",
                                                      "initial_learning_rate": 0.05,
                                                      "decay_steps": 500}}),
        ),
        starts=((-1.5, 2.0), (0.25, -3.125)),
        steps=800,
        noise=0.1,
        seed=3,
    )  # fmt: skip
    qs = share.query_string(share.Scene(e, view="inside", frame=120))
    assert len(qs) < 2000
    assert "o=Adam(learning_rate=0.05,beta_1=0.8,name=fast" in qs.replace("+", " ")
    scene, warnings = share.decode(_parse(qs))
    assert warnings == []
    assert scene.experiment == e and scene.view == "inside" and scene.frame == 120


@st.composite
def scenes(draw):
    names = list(optimizers.OPTIMIZERS)
    specs = []
    for _ in range(draw(st.integers(1, 5))):
        info = optimizers.OPTIMIZERS[draw(st.sampled_from(names))]
        hp = {}
        for h in info.hyperparams:
            if h.name in info.fixed or not draw(st.booleans()):
                continue
            if h.kind == "bool":
                hp[h.name] = draw(st.booleans())
            elif h.kind == "choice":
                hp[h.name] = draw(st.sampled_from(h.choices))
            elif h.kind == "int":  # ScheduleFreeAdamW's warmup_steps, Muon's ns_steps
                hp[h.name] = draw(st.integers(int(h.low), int(h.high)))
            else:
                hp[h.name] = draw(st.floats(h.low, h.high, allow_subnormal=False))
        if "zeta_min" in hp or "zeta_max" in hp:
            hp["zeta_min"], hp["zeta_max"] = 0.01, 100.0
        if "min_step_size" in hp or "max_step_size" in hp:  # Rprop: ordered
            hp["min_step_size"], hp["max_step_size"] = 1e-6, 50.0
        specs.append(OptimizerSpec(
            info.name, hp,
            name=draw(st.sampled_from(["", "mine", "run 2", "ä b"])),
            color=draw(st.sampled_from(["", "#00aaff", "#FF0000"])),
            enabled=draw(st.booleans()) if specs else True,
        ))  # fmt: skip
    surface = draw(st.sampled_from(["rosenbrock", "himmelblau", "booth", "elliptic_bowl"]))
    params = {}
    if surface == "rosenbrock" and draw(st.booleans()):
        params["b"] = draw(st.floats(0.0, 1e4))
    if surface == "elliptic_bowl" and draw(st.booleans()):
        params["angle"] = draw(st.floats(-90, 90))
    coord = st.floats(-4, 4, allow_subnormal=False)
    starts = tuple((draw(coord), draw(coord)) for _ in range(draw(st.integers(0, 3))))
    e = Experiment(
        surface=surface,
        surface_params=params,
        optimizers=tuple(specs),
        starts=starts,
        steps=draw(st.integers(1, 20_000)),
        noise=draw(st.sampled_from([0.0, 0.5, 1e-3])),
        seed=draw(st.integers(0, 99)),
    )
    return share.Scene(e, view=draw(st.sampled_from(share.VIEWS)),
                       frame=draw(st.none() | st.integers(0, 1000)))  # fmt: skip


def effective(e: Experiment) -> Experiment:
    """The same scene with values equal to their defaults dropped (links omit them)."""
    specs = tuple(
        OptimizerSpec(o.kind, {k: v for k, v in o.hyperparams.items()
                               if o.info.defaults().get(k, object()) != v},
                      name=o.name, color=o.color, enabled=o.enabled)
        for o in e.optimizers
    )  # fmt: skip
    return e.replace(optimizers=specs)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_any_valid_scene_round_trips_exactly(scene):
    back, warnings = share.decode(_parse(share.query_string(scene)))
    assert warnings == []
    assert effective(back.experiment) == effective(scene.experiment)
    assert [o.values() for o in back.experiment.optimizers] == [
        o.values() for o in scene.experiment.optimizers
    ]
    assert back.view == scene.view and back.frame == scene.frame


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(share.KNOWN), "zz", "o", "x"]),
                       st.lists(st.text(max_size=80), min_size=1, max_size=3)))  # fmt: skip
def test_garbage_never_raises(query):
    scene, warnings = share.decode(query)
    assert isinstance(scene.experiment, Experiment)
    scene.experiment.validate()
    assert all(isinstance(w, str) and "\n" not in w for w in warnings)


@pytest.mark.parametrize(
    ("query", "warning", "kept"),
    [
        ({"o": ["Adam(learning_rate=nan)", "SGD(learning_rate=0.01)"]}, "o[1]", "SGD"),
        ({"o": ["Adam(learning_rate=1e999)", "SGD()"]}, "o[1]", "SGD"),
        ({"o": ["Evil(x=1)", "Adam()"]}, "o[1]", "Adam"),
        ({"o": ["Adam(__class__=1)", "Adam()"]}, "o[1]", "Adam"),
        ({"o": ["Adam(beta_1=2)", "Adam()"]}, "beta_1", "Adam"),
        ({"o": ["Adam(((((", "Adam()"]}, "o[1]", "Adam"),
        ({"n": ["1e9"], "o": ["Adam()"]}, "n=", "Adam"),
        ({"n": ["abc"], "o": ["Adam()"]}, "n=", "Adam"),
        ({"seed": ["-3"], "o": ["Adam()"]}, "seed", "Adam"),
        ({"x": ["1,2,3"], "o": ["Adam()"]}, "x", "Adam"),
        ({"x": ["nan,1"], "o": ["Adam()"]}, "x", "Adam"),
        ({"s": ["nowhere"], "o": ["Adam()"]}, "s:", "Adam"),
        ({"p": ["formula=__import__('os')"], "s": ["custom"], "o": ["Adam()"]}, "p:", "Adam"),
        ({"zz": ["1"], "o": ["Adam()"]}, "unknown key", "Adam"),
        ({"v": ["<script>"], "o": ["Adam()"]}, "unknown view", "Adam"),
        ({"o": ["Adam(" + "1" * 5000 + ")", "SGD()"]}, "too long", "SGD"),
    ],
)
def test_bad_parts_are_named_and_the_rest_applies(query, warning, kept):
    scene, warnings = share.decode(query)
    assert any(warning in w for w in warnings), warnings
    assert kept in [o.kind for o in scene.experiment.optimizers]


def test_a_huge_link_is_ignored_whole():
    scene, warnings = share.decode({"o": ["Adam()"] * 3000})
    assert scene.experiment == state.DEFAULT and "long" in warnings[0]


def test_presentation_and_hide():
    scene, warnings = share.decode({"present": ["1"], "hide": ["sidebar,loss,nothing"],
                                    "lesson": ["momentum"], "stage": ["2"]})  # fmt: skip
    # links count stages from 1, as the page does ("stage 2 of 3"); Scene.stage from 0
    assert scene.present and scene.hide == ("sidebar", "loss") and scene.stage == 1
    assert any("nothing" in w for w in warnings)
    again, _ = share.decode(_parse(share.query_string(scene)))
    assert again.hide == scene.hide and again.lesson == "momentum" and again.stage == 1
    assert share.encode(again)["stage"] == "2"


@pytest.mark.parametrize("bad", ["0", "-1", "two", "123"])
def test_a_stage_that_does_not_count_from_1_is_named(bad):
    scene, warnings = share.decode({"lesson": ["momentum"], "stage": [bad]})
    assert scene.lesson == "momentum" and scene.stage == 0
    assert any("stages count from 1" in w for w in warnings), warnings
