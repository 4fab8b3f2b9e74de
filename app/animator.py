"""The browser animator: one payload document in, every panel animated in sync in the browser.

:func:`animator` mounts it in a Streamlit app (a Custom Component v2, registered once, on the
first mount, from ``app/animator/``: the script modules of :data:`SCRIPT_MODULES`, joined into
one script, and ``animator.css``; served as cached files when the app is installed, see
:mod:`app.build_animator`); :func:`standalone_html` writes the same player as one offline
page (the ``.html`` export). The document is the one
:mod:`app.payload` builds; this module adds ``id`` (a hash of the document: the browser keeps
playing when a rerun sends the same one, and keeps the current step when a new one comes)
and ``options``:

``autoplay`` (bool, True)
    Start playing when first shown.
``frame`` (int, 0)
    The frame shown first (an index into ``steps``).
``speed`` (0.25, 0.5, 1, 2 or 4; 1)
    Playback speed; 1 plays 30 recorded frames a second.
``loop`` (bool, True)
    Start again after the last frame.
``presentation`` (bool, False)
    Larger fonts, markers and lines (for projectors).
``hide`` (list of panel names)
    Panels not shown: ``surface``, ``surface3d``, ``lr`` (the learning-rate heatmaps;
    ``heatmap`` is an alias), ``loss``, ``schedule`` (eta_t over the steps, shown when some
    rate is scheduled), ``fit``, ``inside``, ``controls``, ``tools``, ``events``, ``legend``.
``show`` (list of panel names)
    Panels off unless named here: ``surface3d`` (the loss surface in 3-D, in perspective, with
    the paths and a ball per run on the same clock; needs the document's ``surface.height``).
    ``hide`` wins over ``show``.
``height`` (int, 480)
    Height in pixels of the panels' area (the controls and the inside panel come below).
``hidden`` (list of optimizer names)
    Optimizers hidden at first (the legend toggles them).
``optimizer`` (name or index; the first)
    The optimizer inspected: the inside panel, the arrows, the per-layer heatmaps and the
    decision boundary show this one.
``start`` (int, 0)
    The start point inspected (runs with several starts).
``arrows`` (list; ``["grad", "momentum", "update"]``)
    The arrows drawn at the current points (lilipads style): negative gradient, momentum (the
    way it pushes the weights) and update.
``arrows_all`` (bool, False), ``arrow_scale`` (float, 1)
    Arrows for every optimizer rather than only the inspected one; a length factor.
``theme`` (``"light"`` or ``"dark"``; standalone pages only)
    The page's colours (in Streamlit the app's theme is used).

The component's result has ``click`` (a trigger: ``{"x", "y", "add"}`` in view coordinates
when the surface is clicked; ``add`` is true for a shift-click), ``frame`` (state: the
frame shown when the animation was paused or scrubbed), ``live`` (a trigger: ``{"optimizer",
"name", "value"}`` when a live slider is released, see :mod:`app.live`) and ``inspect``
(state: ``{"optimizer", "param"}``, the optimizer chosen for inspection and the hyperparameter
whose family the next document should carry), ``drag`` (a trigger: ``{"x", "y", "seq"}``
while the first start's marker is dragged, see :mod:`app.drag`; a document ``{"id", "drag"}``
answers it, for the instance drawing that id) and ``resync`` (a trigger: the browser got a
patch for a document it does not hold, so the next mount carries the whole document).

In Streamlit, a mount after the first sends only what changed against the document the
browser holds (a patch, :mod:`app.doc_patch`); the browser rebuilds the whole document from it
(``app/animator/patch.js``) and draws that, keeping its state as for any new document.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).with_name("animator")
# "<project>.<component>", as pyproject.toml declares it ([tool.streamlit.component]).
COMPONENT_NAME = "optviz.animator"
PANELS = (
    "surface", "surface3d", "lr", "loss", "schedule", "fit", "inside", "controls", "tools",
    "events", "legend",
)  # fmt: skip
PANEL_ALIASES = {"heatmap": "lr", "paths": "surface"}
OPTION_KEYS = (
    "autoplay", "frame", "speed", "loop", "presentation", "hide", "height", "hidden",
    "optimizer", "start", "arrows", "arrows_all", "arrow_scale", "theme", "show",
)  # fmt: skip
_ENTRY = "export default function"
# What the component sends back: click, live and drag are triggers, frame and inspect state.
CALLBACKS = (
    "on_click_change", "on_frame_change", "on_live_change", "on_inspect_change", "on_drag_change",
    "on_resync_change",
)  # fmt: skip


# The animator's script, in modules under app/animator/, concatenated in this order into the
# one script a Streamlit v2 component takes (and the offline page inlines). Every module shares
# one scope: a module uses only what an earlier one defines (classes are not hoisted), and
# only the last has the default export. No joined copy is committed (it would be stale after
# every edit of a module): app/build_animator.py writes one where Streamlit serves it from.
SCRIPT_MODULES = (
    "base.js",  # constants, number formatting, colours, DOM helper
    "tex.js",  # the LaTeX subset -> HTML renderer
    "live.js",  # live scrubbing: the family of runs, its sliders
    "model.js",  # payload decoding and validation (the model)
    "draw.js",  # canvas drawing helpers
    "dom.js",  # the page structure and the theme
    "surface.js",  # the panels, one class of methods each
    "fan.js",  # the minibatch-gradient fan on the surface (stochastic surfaces, paused)
    "three.js",  # the 3-D panel: the surface as a shaded mesh in perspective, paths and balls
    "lr.js",
    "loss.js",
    "schedule.js",  # the learning-rate schedule: eta_t over the steps
    "fit.js",
    "inside.js",
    "timeline.js",  # playback: the clock, play/pause/seek, what goes back to Python
    "events.js",  # pointer, keyboard and resize handlers
    "drag.js",  # dragging the start point: throttled drag triggers, the answers swapped in
    "patch.js",  # a patch against the document drawn made whole again (app/doc_patch.py)
    "core.js",  # the Animator class, composed of the method classes above
    "entry.js",  # the component's entry point (the default export)
)


def script() -> str:
    """The animator's script: :data:`SCRIPT_MODULES` joined in order, each after a line naming
    its file (a stack trace's line leads back to its module)."""
    parts = []
    for name in SCRIPT_MODULES:
        text = (ASSETS / name).read_text(encoding="utf-8")
        parts.append(f"// ==== app/animator/{name}\n{text.rstrip()}\n")
    return "\n".join(parts)


@functools.cache
def _assets() -> tuple[str, str]:
    """The component's JavaScript (assembled from its modules) and CSS, read once."""
    css = (ASSETS / "animator.css").read_text(encoding="utf-8")
    return script(), css


@functools.cache
def _mount() -> Callable[..., Any] | None:
    """Register the component with Streamlit, once, on the first mount (inside the server's
    runtime, which knows the installed component's files); None without Streamlit.

    Installed as a package (``pip install .``; pyproject.toml declares the component), the
    script and stylesheet are served as files the browser caches (``app.build_animator``);
    otherwise (a plain checkout, or files that are not this code's) they go inline with the
    component's definition, in every rerun's message."""
    try:
        import streamlit as st
    except ImportError:  # pragma: no cover - Streamlit is a runtime dependency
        return None
    from app import build_animator

    if build_animator.served_from_files(COMPONENT_NAME):
        return st.components.v2.component(
            COMPONENT_NAME, js=build_animator.JS, css=build_animator.CSS
        )
    js, css = _assets()
    return st.components.v2.component(COMPONENT_NAME, css=css, js=js)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (JSON has neither), tuples lists,
    NumPy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return _clean(value.tolist())
    if isinstance(value, int | float):
        return _clean(float(value))
    return value


class Ready(dict):
    """A document already JSON-safe and carrying its ``id`` (made by :func:`ready`, never edited
    afterwards): :func:`prepare` only adds the options, rather than cleaning and hashing it
    again (about a megabyte, on every rerun of the page)."""


def ready(doc: dict[str, Any], doc_id: str | None = None, *, clean: bool = True) -> Ready:
    """``doc`` JSON-safe with its ``id``: :func:`document_id`, or ``doc_id`` when the caller
    derives a document's identity more cheaply (a cached document plus new labels).
    ``clean=False``: the caller knows ``doc`` is JSON-safe already (a ready document with
    strings changed), so it is not walked again."""
    if isinstance(doc, Ready) and doc_id is None:
        return doc
    clean_doc = doc if isinstance(doc, Ready) or not clean else _clean(_body(doc))
    out = Ready(_body(clean_doc))
    out["id"] = doc_id or document_id(clean_doc)
    return out


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("id", "options")}


def document_id(doc: dict[str, Any]) -> str:
    """A stable hash of a document (ignoring ``id`` and ``options``): equal documents, equal
    ids, whatever the order of their keys."""
    text = json.dumps(_clean(_body(doc)), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def _options(options: dict[str, Any] | None, height: int | None) -> dict[str, Any]:
    out = dict(_clean(options or {}))
    if height is not None:
        out["height"] = int(height)
    for key in ("hide", "show"):
        names = out.get(key)
        if names is None:
            continue
        if isinstance(names, str):
            names = [names]
        names = [PANEL_ALIASES.get(h, h) for h in names]
        unknown = sorted(set(names) - set(PANELS))
        if unknown:
            raise ValueError(f"options[{key!r}]: unknown panels {unknown}; known: {list(PANELS)}")
        out[key] = list(dict.fromkeys(names))
    return out


def prepare(
    doc: dict[str, Any], options: dict[str, Any] | None = None, height: int | None = None
) -> dict[str, Any]:
    """The document the browser receives: a JSON-safe copy with ``id`` and ``options``."""
    if not isinstance(doc, dict):
        raise TypeError(f"the animator needs a payload dict, not {type(doc).__name__}")
    out = dict(doc if isinstance(doc, Ready) else ready(doc))
    out["options"] = _options(options, height)
    return out


def animator(
    doc: dict[str, Any],
    *,
    key: str,
    options: dict[str, Any] | None = None,
    height: int | None = None,
    **callbacks: Callable[[], None] | None,
) -> Any:
    """Mount the animator in Streamlit and return its result.

    ``doc`` is :func:`app.payload.build`'s document (it is not modified; the browser gets a
    copy with ``id`` and ``options``, see the module docstring). ``height`` overrides
    ``options["height"]``. ``callbacks`` are ``on_click_change`` and ``on_frame_change``
    (both optional). The result has ``.click`` (``{"x", "y", "add"}`` on the run where the
    surface was clicked, else None) and ``.frame`` (the frame shown when last paused or
    scrubbed; None before that).
    """
    data = prepare(doc, options, height)
    bad = sorted(k for k in callbacks if k not in CALLBACKS)
    if bad:
        raise TypeError(f"animator(): unknown arguments {bad}")
    mount = _mount()
    if mount is None:  # pragma: no cover - Streamlit is a runtime dependency
        raise RuntimeError("Streamlit is not installed")

    import streamlit as st

    from app import doc_patch, run_timing

    def noop() -> None:
        return None

    handlers = {k: callbacks.get(k) or noop for k in CALLBACKS}
    if "drag" not in data:  # a drag's answer is already partial (app.drag)
        with run_timing.phase("patch"):
            data = doc_patch.outgoing(st.session_state, key, data)
    resynced = handlers["on_resync_change"]

    def on_resync() -> None:  # the browser lacks the patch's base: the whole document next
        doc_patch.forget(st.session_state, key)
        resynced()

    handlers["on_resync_change"] = on_resync
    with run_timing.phase("mount"):
        out = mount(key=key, data=data, **handlers)
    run_timing.sent()
    return out


_THEMES = {
    "light": {
        "--st-text-color": "#31333f",
        "--st-background-color": "#ffffff",
        "--st-secondary-background-color": "#f0f2f6",
        "--st-border-color": "rgba(49, 51, 63, 0.18)",
        "--st-primary-color": "#ff4b4b",
    },
    "dark": {
        "--st-text-color": "#fafafa",
        "--st-background-color": "#0e1117",
        "--st-secondary-background-color": "#262730",
        "--st-border-color": "rgba(250, 250, 250, 0.2)",
        "--st-primary-color": "#ff4b4b",
    },
}


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or
    ``&`` (escaped as ``\\u003c`` and so on, which JSON.parse reads back unchanged)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def standalone_html(
    doc: dict[str, Any],
    *,
    title: str = "Optimizer visualizer",
    options: dict[str, Any] | None = None,
) -> str:
    """One complete offline page playing ``doc``: inline CSS and script, the document as JSON
    in a ``<script type="application/json">``, no external request of any kind (a
    Content-Security-Policy forbids them); opens from ``file://``."""
    js, css = _assets()
    if js.count(_ENTRY) != 1:
        raise RuntimeError("the animator script must have exactly one default export")
    for text, tag in ((js, "script"), (css, "style")):
        if f"</{tag}" in text.lower() or "<!--" in text:
            raise RuntimeError(f"animator assets must not contain </{tag} or <!--")
    data = prepare(doc, options)
    theme = _THEMES.get(str(data["options"].get("theme", "light")), _THEMES["light"])
    variables = "".join(f"{k}:{v};" for k, v in theme.items())
    body_js = js.replace(_ENTRY, "const __optvizMount = function", 1)
    boot = (
        "(function () {\n"
        '"use strict";\n'
        f"{body_js}\n;\n"
        'const data = JSON.parse(document.getElementById("optviz-data").textContent);\n'
        "window.__optvizEvents = window.__optvizEvents || [];\n"
        "window.__optvizMount = __optvizMount;\n"
        "__optvizMount({\n"
        '  name: "optviz", key: "standalone", data: data, standalone: true,\n'
        '  parentElement: document.getElementById("optviz-app"),\n'
        "  setStateValue: function () {}, setTriggerValue: function () {},\n"
        "});\n"
        "})();\n"
    )
    csp = (
        "default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; font-src data:; connect-src 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
    name = html.escape(title)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{name}</title>\n"
        "<style>\n"
        f":root{{{variables}color-scheme:{'dark' if theme is _THEMES['dark'] else 'light'};}}\n"
        "html,body{margin:0;background:var(--st-background-color);color:var(--st-text-color);}\n"
        "body{padding:20px 24px 28px;font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
        "'Helvetica Neue',Arial,sans-serif;}\n"
        "#optviz-app{max-width:1400px;margin:0 auto;}\n"
        ".optviz-footer{max-width:1400px;margin:14px auto 0;font-size:12px;opacity:.6;}\n"
        f"{css}\n"
        "</style>\n</head>\n<body>\n"
        '<main id="optviz-app"></main>\n'
        '<footer class="optviz-footer">Optimizer visualizer · offline export · keys: space '
        "play/pause, ← → step, Home/End first/last</footer>\n"
        f'<script type="application/json" id="optviz-data">{script_json(data)}</script>\n'
        f"<script>\n{boot}</script>\n"
        "</body>\n</html>\n"
    )
