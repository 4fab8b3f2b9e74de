"""Hostile input, tried at every entrance: the catalogue of what was tried and what happens.

Entrances: the share URL, snapshot uploads, the custom formula, the experiment description
(every numeric control ends up there), optimizer constructors, the command line, and the running
app. Each row says what is tried and what must happen: a clear message naming the problem, no
exception of another kind, the process stays up, and the rest of the input still applies where
that makes sense (links). A final test checks that none of it writes a file.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

import optimizers
import surfaces
from app import share
from trajectories import Experiment, snapshot

ROOT = Path(__file__).resolve().parents[1]
HUGE = "9" * 400
LONG = "a" * 100_000
DEEP_JSON = "[" * 50_000 + "]" * 50_000

# (what is tried, query) -> the link still opens; a warning names what was ignored
URL = [
    ("wrong type for steps", {"n": ["many"]}, "n="),
    ("NaN string", {"noise": ["nan"]}, "noise"),
    ("infinity", {"seed": ["inf"]}, "seed"),
    ("huge number", {"n": [HUGE]}, "n="),
    ("negative steps", {"n": ["-5"]}, "n="),
    ("unknown key", {"__proto__": ["1"]}, "unknown key"),
    ("very long value", {"s": [LONG]}, "long"),
    ("unknown optimizer", {"o": ["Evil()", "Adam()"]}, "o[1]"),
    ("dunder argument", {"o": ["Adam(__class__=1)", "Adam()"]}, "o[1]"),
    ("NaN hyperparameter", {"o": ["Adam(learning_rate=nan)", "Adam()"]}, "o[1]"),
    (
        "deeply nested schedule",
        {"o": ["Adam(learning_rate=" + "warmup(after=" * 50 + "1" + ")" * 50 + ")", "Adam()"]},
        "o[1]",
    ),
    ("unbalanced parentheses", {"o": ["Adam(((", "Adam()"]}, "o[1]"),
    ("formula injection", {"s": ["custom"], "p": ["formula=__import__('os').system('x')"]}, "p:"),
    ("script in a view", {"v": ["<script>alert(1)</script>"]}, "unknown view"),
    ("a link of 1 MB", {"o": ["Adam()"] * 100_000}, "long"),
    ("start out of range", {"x": ["1e300,2"]}, "x "),
]


@pytest.mark.parametrize(("what", "query", "warning"), URL, ids=[u[0] for u in URL])
def test_url(what, query, warning):
    scene, warnings = share.decode(query)
    scene.experiment.validate()  # what opens always runs
    assert any(warning in w for w in warnings), warnings
    assert all("\n" not in w and len(w) < 400 for w in warnings)


def _valid_snapshot() -> str:
    from trajectories import OptimizerSpec, run

    e = Experiment(optimizers=(OptimizerSpec("Adam", {"learning_rate": 0.01}),), steps=20)
    return snapshot.dumps(snapshot.from_result(run(e), e))


def _edit(fn) -> str:
    doc = json.loads(_valid_snapshot())
    fn(doc)
    return json.dumps(doc)


SNAPSHOT = [
    ("a pickle", lambda: pickle.dumps({"__reduce__": 1}, protocol=4), "pickle"),
    ("binary garbage", lambda: bytes(range(256)) * 10, "UTF-8|JSON"),
    ("malformed JSON", lambda: '{"schema": ', "not valid JSON"),
    ("truncated JSON", lambda: _valid_snapshot()[:-500], "not valid JSON"),
    ("deep nesting", lambda: DEEP_JSON, "not valid JSON|top level"),
    ("wrong schema", lambda: json.dumps({"schema": "x"}), "schema"),
    ("unknown version", lambda: _edit(lambda d: d.update(version=99)), "unknown version"),
    (
        "tampered arrays",
        lambda: _edit(
            lambda d: d["result"]["arrays"]["loss"].update(
                data=d["result"]["arrays"]["loss"]["data"][::-1]
            )
        ),
        "checksum",
    ),
    ("NaN constant", lambda: '{"schema": NaN}', "NaN"),
    ("too large", lambda: " " * (snapshot.MAX_BYTES + 1), "over the"),
]


@pytest.mark.parametrize(("what", "make", "reason"), SNAPSHOT, ids=[s[0] for s in SNAPSHOT])
def test_snapshot_upload(what, make, reason):
    with pytest.raises(snapshot.SnapshotError, match=reason) as e:
        snapshot.loads(make())
    assert "\n" not in str(e.value)


FORMULA = [
    "__import__('os')",
    "x.__class__",
    "lambda: 1",
    "9**9**9",
    "(" * 1000 + "x" + ")" * 1000,
    LONG,
    "exec('1')",
    "x; import os",
    "[x for x in y]",
    "x if y else 1",
    "eval",
    "open('f')",
    "x.real",
    "().__class__.__bases__",
    "10**10**10",
    "2^2^2^2^2",
    "x @ y",
    "'a'",
    "",
]


@pytest.mark.parametrize("text", FORMULA, ids=lambda t: t[:30])
def test_custom_formula(text):
    with pytest.raises(ValueError, match="formula") as e:
        surfaces.get("custom", formula=text)
    assert "column" in str(e.value) or "empty" in str(e.value) or "long" in str(e.value)


DESCRIPTION = [
    ("wrong type", {"steps": "500"}, "steps"),
    ("NaN", {"noise": float("nan")}, "noise"),
    ("huge", {"steps": 10**12}, "steps"),
    ("negative", {"seed": -1}, "seed"),
    ("unknown key", {"eval": "os.system"}, "unknown field"),
    ("long text", {"surface": LONG}, "surface"),
    ("nested", {"optimizers": [[[[["Adam"]]]]]}, "optimizers"),
    ("too many instances", {"optimizers": [{"kind": "Adam"}] * 1000}, "limit"),
    ("bad colour", {"optimizers": [{"kind": "Adam", "color": "javascript:1"}]}, "color"),
    ("long name", {"optimizers": [{"kind": "Adam", "name": LONG}]}, "name"),
    (
        "boolean as number",
        {"optimizers": [{"kind": "Adam", "hyperparams": {"beta_1": True}}]},
        "beta_1",
    ),
    (
        "inf hyperparameter",
        {"optimizers": [{"kind": "Adam", "hyperparams": {"epsilon": 1e999}}]},
        "epsilon",
    ),
]


@pytest.mark.parametrize(("what", "data", "field"), DESCRIPTION, ids=[d[0] for d in DESCRIPTION])
def test_experiment_description(what, data, field):
    with pytest.raises(ValueError, match=field):
        Experiment.from_dict({"optimizers": [{"kind": "Adam"}], **data})


def test_experiment_from_hostile_json_text():
    for text in ("", "{", DEEP_JSON, "[" + "1," * 100_000 + "1]", '{"steps": NaN}'):
        with pytest.raises(ValueError):
            Experiment.from_json(text)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"learning_rate": "0.1"}, "learning_rate"),
        ({"learning_rate": float("inf")}, "learning_rate"),
        ({"beta_1": -1e300}, "beta_1"),
        ({"__class__": 1}, "__class__"),
        ({"epsilon": [1]}, "epsilon"),
    ],
)
def test_optimizer_constructors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        optimizers.Adam(**kwargs)


CLI = [
    ["run", "--optimizer", "Adam:learning_rate=nan"],
    ["run", "--optimizer", "Adam", "--steps", HUGE],
    ["run", "--optimizer", "Adam:" + "x=1," * 5000],
    [
        "run",
        "--surface",
        "custom",
        "--formula",
        "__import__('os').system('echo pwned')",
        "--optimizer",
        "Adam",
    ],
    ["replay", "/dev/null"],
    ["replay", str(ROOT)],
    ["sweep", "--optimizer", "Adam", "--grid", "learning_rate=-inf:inf:5"],
]


@pytest.mark.parametrize("argv", CLI, ids=lambda a: " ".join(a)[:40])
def test_command_line(argv, capsys):
    from app.cli import main

    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code == 2 and len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]
    )


def test_the_app_survives_a_hostile_link_and_keeps_running():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=180)
    at.query_params.update(
        {
            "o": ["Adam(learning_rate=nan)", "SGD(learning_rate=0.001)"],
            "n": "1e99",
            "zz": "1",
            "s": "custom",
            "p": "formula=__import__('os')",
            "v": "<b>",
            "x": "nan,1",
        }
    )
    at.run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    for part in ("o[1]", "n=", "unknown key", "p:", "unknown view", "x "):
        assert part in text, part
    # the rest of the link applied: the SGD instance runs
    e = Experiment.from_json(at.session_state["last_good"])
    assert [o.kind for o in e.optimizers] == ["SGD"]


_SKIP = {".git", ".venv", "artifacts", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache"}


def _tree() -> set[str]:
    files = set()
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIP]
        files.update(os.path.join(folder, n) for n in names)
    return files


@pytest.fixture(autouse=True)
def nothing_is_written_in_the_source_tree():
    """Every hostile input above: no file appears in the project's tree (temporary and artifact
    folders aside)."""
    before = _tree()
    yield
    assert _tree() - before == set()
