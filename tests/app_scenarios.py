"""Scenes and readers for the web app's AppTest tests (``tests/test_app.py``).

The page is run headless with :class:`streamlit.testing.v1.AppTest`. What it shows is read back
from the element tree: the animator (a Custom Component v2, an ``UnknownElement``) carries its
payload document as JSON in ``proto.json``; a plotly chart carries its figure in ``proto.spec``
(arrays as ``{"dtype", "bdata", "shape"}``).

AppTest has no API for a component's trigger (a click on the surface) or a plotly selection (a
click on a grid cell): :func:`run_with_widget_states` sends those the way the browser does, as
extra ``WidgetState`` protos with the next run (it replaces the tree's ``get_widget_states`` for
one run: a private hook of AppTest, checked by the tests that use it).
"""

from __future__ import annotations

import ast
import base64
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from app import doc_patch, payload, share
from trajectories import Experiment

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "main.py"
TIMEOUT = 180  # seconds for one script run: a cold run compiles JAX kernels

# A light scene for most tests: two optimizers, 50 steps, the default surface and start.
LIGHT: dict[str, Any] = {
    "o": ["Adam(learning_rate=0.05)", "SGD(learning_rate=0.001)"],
    "n": "50",
}


def _tabs() -> dict[str, str]:
    """The page's TABS (view -> tab label), read from app/main.py without running it."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "TABS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("app/main.py has no TABS")


TABS = _tabs()


# ---- running the page --------------------------------------------------------------------------
def page(
    query: Mapping[str, Any] | None = None, *, run: bool = True, cards: bool = True
) -> AppTest:
    """The app, opened with ``query`` as its URL's query (lists for repeated keys); ``cards``:
    then its optimizer cards opened (one more run: what the first run showed once, such as a
    link's warnings, is gone by then)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = list(value) if isinstance(value, list | tuple) else value
    if run:
        at.run()
        if cards:
            open_controls(at)
    return at


def open_controls(at: AppTest) -> AppTest:
    """Open every optimizer card, its "Schedule & options" popover and the Start points and Run
    sections, as clicking them does (closed, they build no widgets)."""
    cards = at.session_state["instances"]
    keys = [f"o{u}.{part}" for u in cards for part in ("open", "more")]
    keys += ["starts_open", "run_open"]
    closed = [k for k in keys if not (k in at.session_state and at.session_state[k])]  # noqa: RUF019 (AppTest state: no .get)
    for key in closed:
        at.session_state[key] = True
    return at.run() if closed else at


def light(**extra: Any) -> AppTest:
    """The light scene, with ``extra`` query keys added or replaced."""
    return page({**LIGHT, **extra})


def link_query(scene: share.Scene) -> dict[str, Any]:
    """The query parameters of a scene's share link."""
    return dict(share.encode(scene))


def open_view(at: AppTest, view: str) -> AppTest:
    """Open a tab (``paths``, ``inside``, ``3d`` ...), as clicking it does, and rerun."""
    at.session_state["view_tab"] = TABS[view]
    return at.run()


def run_with_widget_states(at: AppTest, *states: WidgetState) -> AppTest:
    """Run once with extra widget states, as the browser sends them for elements AppTest
    cannot drive (component triggers, chart selections, data editors)."""
    tree = at._tree
    original = tree.get_widget_states

    def with_extra():
        ws = original()
        ws.widgets.extend(states)
        return ws

    tree.get_widget_states = with_extra
    try:
        return at.run()
    finally:
        tree.get_widget_states = original


def trigger_state(element_id: str, event: str, value: Any) -> WidgetState:
    """A Custom Component v2 trigger (``on_<event>_change``), as the browser sends it."""
    from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    ws = WidgetState()
    ws.id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{element_id}{EVENT_DELIM}events"
    ws.json_trigger_value = json.dumps([{"event": event, "value": value}])
    return ws


def click_surface(at: AppTest, x: Any, y: Any, *, add: bool = False) -> AppTest:
    """Click (``add``: shift-click) the animator's surface at view point (x, y)."""
    element = animator_element(at)
    return run_with_widget_states(
        at, trigger_state(element.proto.id, "click", {"x": x, "y": y, "add": add})
    )


def select_points(at: AppTest, chart_key: str, points: list[dict]) -> AppTest:
    """Select points of a plotly chart (``on_select``), as a click in the browser does."""
    chart = next(c for c in at.get("plotly_chart") if c.key == chart_key)
    ws = WidgetState()
    ws.id = chart.proto.id
    ws.string_value = json.dumps(
        {
            "selection": {
                "points": points,
                "point_indices": list(range(len(points))),
                "box": [],
                "lasso": [],
            }
        }
    )
    return run_with_widget_states(at, ws)


# ---- reading the page ----------------------------------------------------------------------------
def animator_element(at: AppTest):
    # "animator", or "animator-<lesson>-<stage>" in a lesson (a fresh instance per stage)
    found = [e for e in at.main if str(getattr(e, "key", None) or "").startswith("animator")]
    assert len(found) == 1, f"expected one animator, found {len(found)}"
    return found[0]


def message(at: AppTest) -> dict:
    """What the animator's mount carried: a whole document, or a patch (app/doc_patch.py)."""
    return json.loads(animator_element(at).proto.json)


def doc(at: AppTest) -> dict:
    """The document the animator draws (payload + ``id`` and ``options``): the mount's, or,
    for a patch, the document it patches (read here before, else the one Python remembers
    sending) with the patch applied, as the browser does; both ways must agree."""
    element = animator_element(at)
    sent = json.loads(element.proto.json)
    seen = at.__dict__.setdefault("_animator_documents", {})
    if "patch" in sent:
        held = doc_patch.memory_key(element.key)
        assert held in at.session_state, "a patch, but no document remembered as sent"
        sent_id, body = at.session_state[held]
        assert sent_id == sent["id"], "the patch is not for the document remembered"
        remembered = json.loads(json.dumps({**body, "id": sent_id, "options": sent["options"]}))
        if sent["base"] in seen:
            base = {k: v for k, v in seen[sent["base"]].items() if k not in ("id", "options")}
            patched = {**doc_patch.apply(base, sent["patch"]), "id": sent["id"]}
            patched["options"] = sent["options"]
            assert patched == remembered, "the patch does not rebuild the document sent"
        sent = remembered
    seen[sent["id"]] = sent
    return sent


def names(d: dict) -> list[str]:
    return [o["name"] for o in d["optimizers"]]


def path(d: dict, name: str) -> np.ndarray:
    """An optimizer's path (starts, frames, 2) from a document."""
    (o,) = [o for o in d["optimizers"] if o["name"] == name]
    return payload.decode(o["path"])


def experiment(at: AppTest) -> Experiment:
    """The experiment the page shows (its canonical JSON is ``last_good``)."""
    return Experiment.from_json(at.session_state["last_good"])


def query(at: AppTest) -> dict[str, list[str]]:
    """The page's URL query, every value as a list."""
    return {k: list(v) if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def plotly_spec(at: AppTest, key: str) -> dict:
    charts = [c for c in at.get("plotly_chart") if c.key == key]
    assert len(charts) == 1, f"expected one plotly chart {key!r}, found {len(charts)}"
    return json.loads(charts[0].proto.spec)


def plotly_array(value: Any) -> np.ndarray:
    """A figure array: plain JSON lists, or plotly's typed arrays ``{"dtype", "bdata"}``."""
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            a = a.reshape([int(s) for s in str(shape).split(",")])
        return a
    return np.asarray(value)


def texts(elements: Iterable) -> list[str]:
    return [e.value for e in elements]


def in_order(block) -> list:
    """Every element of a block in page order (depth first)."""
    return [node for node in block if node is not block]


def index_of(nodes: list, key: str) -> int:
    (i,) = [i for i, n in enumerate(nodes) if getattr(n, "key", None) == key]
    return i


def widget_keys(block) -> list[str | None]:
    """The keys of every widget in a block (None for a widget without a user key)."""
    from streamlit.testing.v1.element_tree import Dataframe, Widget

    return [
        n.key
        for n in in_order(block)
        if isinstance(n, Widget) or (isinstance(n, Dataframe) and n.editing_mode != "read_only")
    ]
