"""The scene grammar (trajectories/grammar.py), the structured errors, one set of limits and the
normal form, at every entrance that reads them: links, the command line, the engine, the page."""

from __future__ import annotations

import math
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import cli, cli_scene, labels, share, state
from trajectories import Experiment, FieldError, LimitError, OptimizerSpec, grammar, limits
from trajectories.experiment import SCALARS


# ---- values ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-2", -2),
        ("+7", 7),
        ("1e-3", 1e-3),
        ("1E5", 1e5),
        ("0.5", 0.5),
        (".5", 0.5),
        (" 2.5 ", 2.5),
        ("true", True),
        ("False", False),
        ("none", None),
        ("null", None),
        ("paper_sqrt", "paper_sqrt"),
        ('"42"', "42"),
        ('"a,b"', "a,b"),
        ("1" * 19, float("1" * 19)),  # beyond 18 digits: a decimal
        (
            '{"schedule": "constant", "learning_rate": 0.1}',
            {"schedule": "constant", "learning_rate": 0.1},
        ),
        (
            "cosine_decay(initial_learning_rate=0.05,decay_steps=500)",
            {"schedule": "cosine_decay", "initial_learning_rate": 0.05, "decay_steps": 500},
        ),
        (
            "warmup(warmup_steps=10,after=cosine_decay(initial_learning_rate=0.1,decay_steps=5))",
            {
                "schedule": "warmup",
                "warmup_steps": 10,
                "after": {
                    "schedule": "cosine_decay",
                    "initial_learning_rate": 0.1,
                    "decay_steps": 5,
                },
            },
        ),
    ],
)
def test_parse_value(text, value):
    assert grammar.parse_value(text) == value
    assert type(grammar.parse_value(text)) is type(value)


def test_specs_keep_commas_inside_values():
    spec = grammar.parse_spec("mlp:hidden=16,16,dataset=moons", "--surface")
    assert spec == ("mlp", {"hidden": "16,16", "dataset": "moons"}, ())
    spec = grammar.parse_spec("custom:formula=arctan2(x,y)+max(x,y),xmin=-2", "--surface")
    assert spec.args == {"formula": "arctan2(x,y)+max(x,y)", "xmin": "-2"}
    spec = grammar.parse_spec('Adam:learning_rate={"a":1,"b":2},name=x', "--optimizer")
    assert spec.args == {"learning_rate": '{"a":1,"b":2}', "name": "x"}
    spec = grammar.parse_spec('Adam(name="a, (b",off)', flags=grammar.OPTIMIZER_FLAGS)
    assert spec == ("Adam", {"name": '"a, (b"'}, ("off",))
    assert grammar.parse_text(spec.args["name"]) == "a, (b"


def test_both_forms_say_the_same():
    link = grammar.optimizer_entry("WAME(lr=0.001,variant=paper_sqrt,name=mine,color=123abc,off)")
    command = grammar.optimizer_entry("WAME:learning_rate=1e-3,variant=paper_sqrt,name=mine,"
                                      "color=#123abc,off")  # fmt: skip
    assert (
        link
        == command
        == {
            "kind": "WAME",
            "hyperparams": {"learning_rate": 1e-3, "variant": "paper_sqrt"},
            "name": "mine",
            "color": "#123abc",
            "enabled": False,
        }
    )
    # a choice keeps its text; a formula and an MLP's layers are text
    assert grammar.surface_spec("custom(formula=x^2 + 3)") == ("custom", {"formula": "x^2 + 3"})
    assert grammar.surface_spec("mlp:hidden=16,16,lr=1") == ("mlp", {"hidden": "16,16", "lr": 1})


# ---- hostile text: one line, naming the part, carrying the field ------------------------------
HOSTILE = [
    ("deep nesting", "Adam(lr=" + "warmup(after=" * 50 + "1" + ")" * 50 + ")", "nested too deep"),
    ("deep JSON", "Adam:lr=" + "[" * 8 + "]" * 8, "nested too deep"),
    ("huge number", "Adam:lr=" + "9" * 400, "Adam.lr: '999"),
    ("huge exponent", "Adam(lr=1e999)", "'1e999' is not a finite number"),
    ("huge number in JSON", 'Adam:lr={"schedule":"constant","learning_rate":1e999}', "finite"),
    ("NaN", "Adam(lr=nan)", "'nan' is not a finite number"),
    ("NaN, capitals", "Adam(beta_1=NaN)", "beta_1: 'NaN' is not a finite number"),
    ("infinity", "Adam:epsilon=-Infinity", "epsilon: '-Infinity' is not a finite"),
    ("NaN in JSON", 'Adam:lr={"schedule":"constant","learning_rate":NaN}', "NaN is not allowed"),
    ("unbalanced (", "Adam(((", "unbalanced '('"),
    ("unbalanced )", "Adam(lr=1))", "unbalanced ')'"),
    ("unbalanced ) in the : form", "Adam:lr=f(x))", "unbalanced ')'"),
    ("mismatched bracket", "Adam:lr=[1)", "mismatched ')'"),
    ("unterminated quote", 'Adam(name="x)', "unterminated"),
    ("long value", "Adam:name=" + "a" * 5000, "too long"),
    ("junk after the call", "Adam(lr=1)x", "expected NAME(k=v,...)"),
    ("not k=v", "Adam:lr", "'lr' is not k=v"),
    ("given twice", "Adam(lr=1,learning_rate=2)", "'learning_rate' is given twice"),
    ("nothing after :", "Adam:", "nothing after ':'"),
    ("no name", ":lr=1", "expected NAME"),
    ("a schedule's own name", "Adam(lr=constant(schedule=x))", "names its schedule"),
]


@pytest.mark.parametrize(("what", "text", "needle"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_text_is_a_one_line_field_error(what, text, needle):
    with pytest.raises(FieldError) as caught:
        grammar.optimizer_entry(text, "--optimizer", "optimizers[2]")
    message = str(caught.value)
    assert needle in message
    assert "\n" not in message and len(message) < 200
    assert caught.value.field.startswith("optimizers[2]")


def test_a_bad_value_names_its_field():
    with pytest.raises(FieldError) as caught:
        grammar.optimizer_entry("Adam(beta_1=nan)", field="optimizers[1]")
    assert caught.value.field == "optimizers[1].beta_1"
    with pytest.raises(FieldError) as caught:
        grammar.surface_spec("rosenbrock:b=inf")
    assert caught.value.field == "surface_params.b"
    with pytest.raises(FieldError) as caught:
        grammar.parse_point("1,nan", "--start", "starts[3]")
    assert (caught.value.field, str(caught.value)) == (
        "starts[3]",
        "--start '1,nan': expected comma-separated numbers such as -1.5,2",
    )


def test_deep_brackets_in_free_text_are_fine():
    formula = "sin(" * 8 + "x" + ")" * 8  # the formula's own parser bounds its depth (30)
    assert grammar.surface_spec(f"custom:formula={formula}") == ("custom", {"formula": formula})


# ---- writing: what is written reads back equal ----------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_reads_back_in_a_spec(text):
    written = f"Adam(name={grammar.format_text(text)},lr=0.1)"
    spec = grammar.parse_spec(written, flags=grammar.OPTIMIZER_FLAGS)
    assert grammar.parse_text(spec.args["name"]) == text
    assert spec.args["lr"] == "0.1" and spec.flags == ()


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**15), 10**15),
        st.booleans(),
        st.none(),
        st.text(max_size=20),
    )
)
def test_any_value_reads_back_equal(value):
    back = grammar.parse_value(grammar.format_value(value))
    assert back == value or (isinstance(value, float) and value == 0.0 and back == 0)


def test_a_text_that_looks_like_something_else_is_quoted():
    assert grammar.format_value("true") == '"true"' and grammar.format_value("3") == '"3"'
    assert (
        grammar.format_text("a,b") == '"a,b"' and grammar.format_text("plain text") == "plain text"
    )
    assert grammar.format_text("x^2 + (y-1)^2") == "x^2 + (y-1)^2"  # balanced: as it is


def test_a_link_with_a_name_that_needs_quoting_round_trips():
    e = state.DEFAULT.replace(
        optimizers=(OptimizerSpec("Adam", {"learning_rate": 0.05}, name='fast, "small" (1'),)
    )
    qs = share.query_string(share.Scene(e))
    from urllib.parse import parse_qs

    back, warnings = share.decode(parse_qs(qs))
    assert warnings == [] and back.experiment == e


def test_an_mlp_link_keeps_its_layers():
    e = state.DEFAULT.replace(surface="mlp", surface_params={"hidden": "8,8"}, starts=())
    query = {k: v if isinstance(v, list) else [v] for k, v in share.encode(share.Scene(e)).items()}
    assert query["p"] == ['hidden="8,8"']  # quoted: a comma would split it
    back, warnings = share.decode(query)
    assert warnings == [] and back.experiment.surface_params == {"hidden": "8,8"}


# ---- one set of limits: every entrance accepts at the bound and refuses just over -------------
CLI_FLAGS = {"steps": "--steps", "noise": "--noise", "seed": "--seed",
             "tolerance": "--tolerance", "stride": "--stride"}  # fmt: skip
LINK_KEYS = {field: key for key, field in share.SCALAR_KEYS.items()}


def _over(field: str):
    integer, _, high = SCALARS[field]
    return high + 1 if integer else math.nextafter(high, math.inf)


def test_the_noise_cap_is_the_documented_one():
    assert SCALARS["noise"] == (False, 0.0, limits.MAX_NOISE) and limits.MAX_NOISE == 1e6


@pytest.mark.parametrize("field", list(SCALARS))
def test_the_engine_accepts_the_bound_and_refuses_just_over(field):
    high = SCALARS[field][2]
    e = Experiment.from_dict({"optimizers": [{"kind": "SGD"}], field: high})
    assert getattr(e, field) == high
    with pytest.raises(FieldError) as caught:
        Experiment.from_dict({"optimizers": [{"kind": "SGD"}], field: _over(field)})
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize("field", list(SCALARS))
def test_a_link_accepts_the_bound_and_refuses_just_over(field):
    key, high = LINK_KEYS[field], SCALARS[field][2]
    scene, warnings = share.decode({key: [grammar.format_number(high)]})
    assert warnings == [] and getattr(scene.experiment, field) == high
    scene, warnings = share.decode({key: [grammar.format_number(_over(field))]})
    assert getattr(scene.experiment, field) == getattr(state.DEFAULT, field)
    assert (
        len(warnings) == 1 and warnings[0].startswith(f"{key}=") and "out of range" in warnings[0]
    )


@pytest.mark.parametrize("field", list(SCALARS))
def test_the_command_line_accepts_the_bound_and_refuses_just_over(field):
    def build(value):
        argv = ["run", "--optimizer", "SGD", f"{CLI_FLAGS[field]}={value!r}"]
        return cli_scene.build_experiment(cli.build_parser().parse_args(argv))

    high = SCALARS[field][2]
    assert getattr(build(high), field) == high
    with pytest.raises(FieldError) as caught:
        build(_over(field))
    assert caught.value.field == field


def test_the_page_uses_the_same_bounds():
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from app import sidebar

        st.session_state.setdefault("steps", 500)
        sidebar.run_controls({})

    at = AppTest.from_function(page).run()
    assert at.number_input(key="noise").max == limits.MAX_NOISE
    assert at.number_input(key="seed").max == limits.MAX_SEED


# ---- structured errors -------------------------------------------------------------------------
def test_field_error_keeps_its_message_and_field():
    err = FieldError("optimizers[1].beta_1", "optimizers[1] (Adam): Adam: beta_1=2 is out of range")
    assert isinstance(err, ValueError)
    assert str(err) == "optimizers[1] (Adam): Adam: beta_1=2 is out of range"
    again = pickle.loads(pickle.dumps(err))
    assert (again.field, str(again)) == (err.field, str(err))
    limit = LimitError("steps", "steps = 9 is over the limit of 1: fewer")
    assert isinstance(limit, FieldError) and limit.field == "steps"


SGD = {"kind": "SGD"}
FIELDS = [
    ({"steps": 0}, "steps"),
    ({"noise": float("nan")}, "noise"),
    ({"eval": 1}, "eval"),
    ({"surface": "nope"}, "surface"),
    ({"surface": "rosenbrock", "surface_params": {"b": -5}}, "surface_params.b"),
    ({"surface": "custom", "surface_params": {"formula": "x +* y"}}, "surface_params.formula"),
    ({"optimizers": [SGD, {"kind": "Adam", "hyperparams": {"beta_1": 2}}]}, "optimizers[1].beta_1"),
    ({"optimizers": [{"kind": "Adam", "hyperparams": {"beta_1": True}}]}, "optimizers[0].beta_1"),
    ({"optimizers": [{"kind": "WAME", "hyperparams": {"zeta_min": 5, "zeta_max": 1}}]},
     "optimizers[0]"),
    ({"optimizers": [{"kind": "Nope"}]}, "optimizers[0].kind"),
    ({"optimizers": [{"kind": "SGD", "color": "red"}]}, "optimizers[0].color"),
    ({"optimizers": [{"kind": "SGD", "enabled": False}]}, "optimizers"),
    ({"optimizers": [SGD] * (limits.MAX_INSTANCES + 1)}, "optimizers"),
    ({"starts": [[0.0, 1.0], [1.0, 2.0, 3.0]]}, "starts[1]"),
    ({"starts": [[0.0, 1.0]] * (limits.MAX_STARTS + 1)}, "starts"),
    ({"starts": [[0.0, 1e7]]}, "starts[0]"),
    ({"surface": "noisy_quadratic", "surface_params": {"dim": 10_000}, "steps": limits.MAX_STEPS,
      "optimizers": [SGD] * limits.MAX_INSTANCES}, "experiment"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "field"), FIELDS, ids=[f for _, f in FIELDS])
def test_experiment_errors_carry_their_field(data, field):
    with pytest.raises(FieldError) as caught:
        Experiment.from_dict({"optimizers": [SGD], **data})
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


def test_the_page_places_an_error_by_its_field():
    def reading(**changes):
        ss: dict = {}
        state.write(ss, state.DEFAULT)
        ss.update(changes)
        return state.read(ss)

    assert reading().errors == {}
    assert list(reading(steps=limits.MAX_STEPS + 1).errors) == ["run"]
    ss: dict = {}
    state.write(ss, state.DEFAULT)
    points = [[0.1 * i, 1.0] for i in range(limits.MAX_STARTS + 1)]
    assert list(reading(start_points=points).errors) == ["starts"]
    off = {state.opt_key(u, "on"): False for u in range(len(state.DEFAULT.optimizers))}
    r = reading(**off)
    assert list(r.errors) == ["optimizers"] and "choose at least one" in r.errors["optimizers"]
    r = reading(surface="custom", **{state.surface_key("custom", "formula"): "x +* y"})
    assert list(r.errors) == [state.surface_key("custom", "formula")]
    r = reading(surface="rosenbrock", **{state.surface_key("rosenbrock", "b"): -5.0})
    assert list(r.errors) == ["surface"]


@pytest.mark.parametrize(
    ("field", "area"),
    [
        ("surface", "surface"),
        ("surface_params.b", "surface"),
        ("surface_params.formula", "sp.custom.formula"),
        ("optimizers", "optimizers"),
        ("optimizers[3].beta_1", "optimizers"),
        ("starts[0]", "starts"),
        ("steps", "run"),
        ("experiment", "run"),
        ("", "run"),
    ],
)
def test_error_areas(field, area):
    assert state.error_area(field, "custom") == area


# ---- the normal form -------------------------------------------------------------------------
def test_one_normal_form_for_one_run():
    d = state.DEFAULT
    spelled_out = d.replace(
        surface_params={"a": 1.0, "b": 100.0},
        optimizers=tuple(
            OptimizerSpec(
                o.kind, o.values(), name=labels.name_of(d, i), color=labels.color_of(d, i).upper()
            )
            for i, o in enumerate(d.optimizers)
        ),
    )
    assert spelled_out != d and labels.effective(spelled_out) == labels.effective(d)
    changed = d.replace(optimizers=(d.optimizers[0], OptimizerSpec("Momentum", {"momentum": 0.5})))
    assert labels.effective(changed) != labels.effective(d)
    assert labels.effective(d.replace(surface_params={"b": 10.0})) != labels.effective(d)
    # a link leaves the spelled-out defaults out: the link of the default scene is empty
    assert share.encode(share.Scene(spelled_out.replace(surface_params={}))) == {}
