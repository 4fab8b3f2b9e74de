"""The animator's Python side (no browser): the document it sends, the offline page, and
mounting the component in Streamlit's AppTest."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from app import animator


def build_doc(surface: str = "linear_regression", steps: int = 30, **kw) -> dict:
    """A real payload, built the way the app builds one (run, render, payload.build)."""
    from app import payload, surface_image
    from trajectories import Experiment, OptimizerSpec, run

    specs = kw.pop(
        "optimizers",
        (
            OptimizerSpec("SGD", {"learning_rate": 0.1}, name="SGD"),
            OptimizerSpec("Adam", {"learning_rate": 0.05}),
        ),
    )
    r = run(Experiment(surface=surface, optimizers=specs, steps=steps, **kw))
    return payload.build(r, surface_image.render(r.surface))


@pytest.fixture(scope="module")
def doc() -> dict:
    return build_doc()


def data_of(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="optviz-data">(.*?)</script>', page, re.S)
    assert m, "no data script"
    return json.loads(m.group(1))


def test_prepare_adds_id_and_options_without_touching_the_doc(doc):
    before = copy.deepcopy(doc)
    data = animator.prepare(doc, {"autoplay": False, "speed": 2}, height=500)
    assert doc == before
    assert re.fullmatch(r"[0-9a-f]{20}", data["id"])
    assert data["options"] == {"autoplay": False, "speed": 2, "height": 500}
    assert {k: v for k, v in data.items() if k not in ("id", "options")} == json.loads(
        json.dumps(doc)
    )


def test_same_document_same_id(doc):
    shuffled = dict(reversed(list(copy.deepcopy(doc).items())))
    assert animator.prepare(doc)["id"] == animator.prepare(shuffled)["id"]
    assert animator.prepare(doc, {"speed": 4})["id"] == animator.prepare(doc)["id"]
    # an id already there (a prepared document) does not change it
    assert animator.prepare(animator.prepare(doc))["id"] == animator.prepare(doc)["id"]
    other = copy.deepcopy(doc)
    other["optimizers"][0]["name"] = "renamed"
    assert animator.prepare(other)["id"] != animator.prepare(doc)["id"]


def test_a_ready_document_is_not_cleaned_or_hashed_again(doc, monkeypatch):
    ready = animator.ready(doc)
    assert ready["id"] == animator.prepare(doc)["id"]

    clean = animator._clean

    def walked(value):  # the options are cleaned (small); the document must not be
        assert not (isinstance(value, dict) and "optimizers" in value), "walked again"
        return clean(value)

    monkeypatch.setattr(animator, "document_id", lambda _: pytest.fail("hashed again"))
    monkeypatch.setattr(animator, "_clean", walked)
    data = animator.prepare(ready, {"speed": 2})  # options only: a rerun's whole cost
    assert data["id"] == ready["id"] and data["options"] == {"speed": 2}
    assert animator.ready(ready) is ready
    monkeypatch.undo()
    # a plain dict is never trusted: its id is the hash of what it holds now
    edited = dict(ready, surface={**ready["surface"], "title": "edited"})
    assert animator.prepare(edited)["id"] != ready["id"]


def test_non_finite_numbers_become_null(doc):
    bad = copy.deepcopy(doc)
    bad["surface"]["vmin"] = float("nan")
    bad["optimizers"][0]["final_loss"] = [float("inf")]
    data = animator.prepare(bad)
    assert data["surface"]["vmin"] is None and data["optimizers"][0]["final_loss"] == [None]
    json.dumps(data, allow_nan=False)


def test_unknown_panel_names_are_refused(doc):
    with pytest.raises(ValueError, match="unknown panels"):
        animator.prepare(doc, {"hide": ["surfaces"]})
    assert animator.prepare(doc, {"hide": "loss"})["options"]["hide"] == ["loss"]
    hide = animator.prepare(doc, {"hide": ["heatmap", "lr", "inside"]})["options"]["hide"]
    assert hide == ["lr", "inside"]  # "heatmap" is the app's name for the lr panel


def test_standalone_page_is_self_contained(doc):
    page = animator.standalone_html(doc, title="Test <run>", options={"autoplay": False})
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Test &lt;run&gt;</title>" in page
    data = data_of(page)
    assert data == animator.prepare(doc, {"autoplay": False})
    outside = page.replace(re.search(r'id="optviz-data">(.*?)</script>', page, re.S).group(1), "")
    for ref in ("http://", "https://", "//cdn", "@import", "url("):
        assert ref not in outside, ref
    assert not re.search(
        r"<(script|link|img|iframe|object|embed|source)\b[^>]*\b(src|href)\s*=", outside
    )
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "export default" not in page and "import(" not in outside
    assert page.count("<script") == 2


def test_standalone_page_escapes_script_endings(doc):
    evil = copy.deepcopy(doc)
    title = "</script><script>alert(1)</script><!-- & -->"
    evil["surface"]["title"] = title
    evil["weights"] = ["</SCRIPT>", "y"]
    page = animator.standalone_html(evil)
    assert page.lower().count("</script>") == 2  # the data's and the code's own
    assert "<!--" not in page
    data = data_of(page)
    assert data["surface"]["title"] == title and data["weights"][0] == "</SCRIPT>"


def test_assets_are_plain_and_offline():
    js, css = animator._assets()
    assert js.count("export default function") == 1
    assert not re.search(r"^\s*import\s", js, re.M)
    for text in (js, css):
        assert "http://" not in text and "https://" not in text


def test_script_is_its_modules_in_order():
    """The script is every module under app/animator/, each once, in SCRIPT_MODULES order;
    each is small, and only the last has the default export (they share one scope)."""
    on_disk = {p.name for p in animator.ASSETS.glob("*.js")}
    assert set(animator.SCRIPT_MODULES) == on_disk
    assert len(animator.SCRIPT_MODULES) == len(on_disk)
    js, _ = animator._assets()
    starts = [js.index(f"// ==== app/animator/{name}\n") for name in animator.SCRIPT_MODULES]
    assert starts == sorted(starts)
    for name in animator.SCRIPT_MODULES:
        text = (animator.ASSETS / name).read_text(encoding="utf-8")
        assert text in js, name
        assert len(text.splitlines()) <= 700, f"{name}: {len(text.splitlines())} lines"
        exports = len(re.findall(r"^\s*export\b", text, re.M))
        assert exports == (1 if name == animator.SCRIPT_MODULES[-1] else 0), name


def test_mounting_in_apptest(doc, tmp_path: Path):
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    script = f"""
import json
import streamlit as st
from app.animator import animator

doc = json.loads(open({str(path)!r}).read())
result = animator(doc, key="anim", options={{"autoplay": False}}, on_click_change=lambda: None)
st.session_state["seen"] = (type(result).__name__, result.click, result.frame)
"""
    at = AppTest.from_string(script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["seen"] == ("ComponentResult", None, None)
    at.run()  # a rerun mounts it again with the same document
    assert not at.exception
    assert at.session_state["seen"] == ("ComponentResult", None, None)


def test_unknown_callbacks_are_refused(doc):
    with pytest.raises(TypeError, match="unknown arguments"):
        animator.animator(doc, key="x", on_hover_change=lambda: None)
