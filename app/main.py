"""The web app: ``streamlit run app/main.py``.

Pick a surface and optimizers in the sidebar; watch the paths, the per-weight learning rates
and the loss animate; look inside each optimizer; sweep hyperparameters; share the scene as a
link, a snapshot or a file; teach with lessons in presentation mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run app/main.py` puts app/ on sys.path; the packages live one level up.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

import trajectories  # noqa: E402  (sets XLA flags before JAX starts)
from app import (  # noqa: E402
    compute,
    doc_patch,
    icon,
    lessons,
    lessons_view,
    run_timing,
    share,
    share_view,
    sidebar,
    state,
    sweeps_view,
    views,
)
from trajectories import Experiment  # noqa: E402

del trajectories

TABS = {
    "paths": "Paths",
    "inside": "Inside the optimizers",
    "3d": "3-D",
    "sweeps": "Sweeps",
    "summary": "Summary",
    "lessons": "Lessons",
    "share": "Share & export",
}
VIEW_OF = {label: view for view, label in TABS.items()}

st.set_page_config(page_title="Optimizer visualizer", page_icon=icon.favicon(), layout="wide")


def from_link() -> None:
    """First run of a session: the URL's scene (or the default one)."""
    ss = st.session_state
    query = st.query_params.to_dict() | _repeated()
    scene, warnings = share.decode(query)
    scene = lessons.opened(scene, query, warnings)
    state.write(ss, scene.experiment)
    ss["view_tab"] = TABS.get(scene.view, TABS["paths"])
    ss["present"], ss["hide"] = scene.present, scene.hide
    ss["lesson"], ss["stage"] = scene.lesson, scene.stage
    ss["link_frame"] = scene.frame
    ss["link_warnings"] = warnings


def _repeated() -> dict:
    """Repeated keys (o, x) as lists: st.query_params.to_dict keeps only the last value."""
    return {k: st.query_params.get_all(k) for k in ("o", "x") if st.query_params.get_all(k)}


def apply_pending() -> None:
    ss = st.session_state
    pending = ss.pop("pending_experiment", None)
    if pending is not None:
        try:
            state.write(ss, Experiment.from_json(pending))
        except ValueError as err:  # never expected; a bad scene must not break the page
            ss["link_warnings"] = [f"could not load that setting ({err})"]
    view = ss.pop("pending_view", None)
    if view in TABS:
        ss["view_tab"] = TABS[view]
    if "pending_frame" in ss:  # a new scene (a lesson stage): its own frame, or none
        ss["link_frame"] = ss.pop("pending_frame")
        ss.pop("last_frame", None)


def presentation_css(present: bool, hide: tuple[str, ...]) -> None:
    rules = []
    if present:
        rules.append("html { font-size: 20px; } h1, h2, h3 { font-size: 1.6em; }")
    if "sidebar" in hide:
        rules.append(
            '[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], '
            '[data-testid="stExpandSidebarButton"] { display: none !important; }'
        )
    if "tabs" in hide:
        rules.append('.st-key-view_tab [role="tablist"] { display: none !important; }')
    if rules:
        st.html(f"<style>{' '.join(rules)}</style>")


def sync_url(scene: share.Scene) -> None:
    """Keep the address bar equal to the scene, so the page's URL is always its share link."""
    wanted = share.encode(scene)
    current = st.query_params.to_dict() | _repeated()
    if {k: v if isinstance(v, list) else [v] for k, v in wanted.items()} != {
        k: v if isinstance(v, list) else [v] for k, v in current.items()
    }:
        st.query_params.from_dict(wanted)


def main() -> None:
    ss = st.session_state
    if "instances" not in ss:
        from_link()
    apply_pending()
    state.keep_widget_values(ss)
    present, hide = bool(ss.get("present")), tuple(ss.get("hide", ()))
    presentation_css(present, hide)
    errors = ss.get("errors", {})
    if "sidebar" not in hide:
        with run_timing.phase("sidebar"), st.sidebar:
            st.title("Optimizer visualizer", anchor=False)
            if "surface" not in hide:
                with st.expander("Surface", expanded=True, icon=":material/landscape:"):
                    sidebar.surface_controls(errors)
            if "optimizers" not in hide:
                with st.expander("Optimizers", expanded=True, icon=":material/tune:"):
                    sidebar.optimizer_controls(errors)
            if "starts" not in hide:
                sidebar.section("Start points", "starts", ":material/place:", errors)
            if "run" not in hide:
                sidebar.section("Run", "run", ":material/settings:", errors)
    with run_timing.phase("read"):
        reading = state.read(ss)
    if reading.errors != errors:  # errors are drawn next to their control: draw them again
        ss["errors"] = reading.errors
        st.rerun()
    if reading.experiment is not None:
        ss["last_good"] = reading.experiment.to_json()  # links, tests and the next runs read it
    for warning in ss.pop("link_warnings", []):
        st.warning(
            f"Part of the link was ignored: {warning}. The rest applies.",
            icon=":material/link_off:",
        )
    if "last_good" not in ss:
        st.error("Nothing to show yet: fix the settings marked in the sidebar.")
        return
    # one experiment for the whole run (its computation keys every cached result), in its
    # canonical form (links list hyperparameters in its order)
    e = compute.experiment(ss["last_good"])
    views.banner_if_stale(reading)
    labels = list(TABS.values())
    active = ss.get("view_tab") if ss.get("view_tab") in VIEW_OF else labels[0]
    view = VIEW_OF[active]
    if view == "paths":
        paused = views.paused_frame()
        if paused is not None:
            ss["last_frame"] = paused
    if view != ss.get("animator_view"):  # Paths and 3-D each mount their own instance, which
        doc_patch.forget(ss)  # starts from the whole document (a patch needs its base)
    ss["animator_view"] = view
    if view != "share":
        ss["last_view"] = view
    frame = ss.get("last_frame", ss.get("link_frame"))
    scene = share.Scene(
        e,
        view=view if view != "share" else ss.get("last_view", "paths"),  # share what was seen
        frame=frame,
        present=present,
        hide=hide,
        lesson=ss.get("lesson"),
        stage=int(ss.get("stage", 0)),
    )
    sync_url(scene)
    lessons_view.narration(present, scene)
    tabs = st.tabs(labels, key="view_tab", default=active, on_change="rerun")
    renderers = {
        "paths": lambda: views.paths(e, views.animator_options(present, hide, frame)),
        "inside": lambda: views.inside(e),
        "3d": lambda: views.three_d(e, views.animator_options(present, hide, frame)),
        "sweeps": lambda: sweeps_view.sweeps_tab(e),
        "summary": lambda: views.summary(e),
        "lessons": lessons_view.gallery,
        "share": lambda: share_view.share_tab(e, scene),
    }
    for label, tab in zip(labels, tabs, strict=True):
        if label == active:  # only the open view computes
            with run_timing.phase(VIEW_OF[label]), tab:
                renderers[VIEW_OF[label]]()


with run_timing.run():
    main()
