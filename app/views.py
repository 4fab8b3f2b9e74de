"""The views of one run: animated paths, inside an optimizer, 3-D surface, summary table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import compute, drag, live, share, state, tex_text
from trajectories import Experiment, Result, limits


def animator_key() -> str:
    """The animator's widget key: one per lesson stage, so a stage starts afresh (its own frame
    and playing state) rather than inheriting the previous stage's."""
    ss = st.session_state
    lesson = ss.get("lesson")
    return f"animator-{lesson}-{ss.get('stage', 0)}" if lesson else "animator"


def _on_click() -> None:
    """A click on the surface moves the first start point there (shift-click adds one)."""
    ss = st.session_state
    value = ss.get(animator_key())
    click = getattr(value, "click", None) if value is not None else None
    if not click:
        return
    try:
        point = [float(click["x"]), float(click["y"])]
    except (KeyError, TypeError, ValueError):
        return
    points = [list(p) for p in state.start_points(ss)]
    if click.get("add") or not points:
        points.append(point)
    else:
        points[0] = point
    state.set_start_points(ss, points[: limits.MAX_STARTS])


def _on_live() -> None:
    """A live slider released: its value becomes the instance's hyperparameter (the sidebar's
    widget, hence the scene and the link)."""
    ss = st.session_state
    value = ss.get(animator_key())
    released = getattr(value, "live", None) if value is not None else None
    if not isinstance(released, dict) or "last_good" not in ss:
        return
    e = compute.experiment(ss["last_good"])
    uids = state.instances(ss)
    active = e.active()
    try:
        a, name, v = int(released["optimizer"]), str(released["name"]), float(released["value"])
    except (KeyError, TypeError, ValueError):
        return
    if not 0 <= a < len(active) or len(uids) != len(e.optimizers):
        return  # the scene changed under the slider (or a card has an error): ignore it
    spec = active[a][1]
    names = {p["name"] for p in live.live_params(spec.info, spec.values())}
    if name not in names or not np.isfinite(v):
        return
    ss[state.hp_key(uids[active[a][0]], name)] = v


def inspected() -> tuple[int, str | None]:
    """The optimizer (index among the enabled ones) and hyperparameter chosen in the animator
    for inspection (its ``inspect`` state), else the first and its learning rate."""
    value = st.session_state.get(animator_key())
    chosen = getattr(value, "inspect", None) if value is not None else None
    if not isinstance(chosen, dict):
        return 0, None
    a = chosen.get("optimizer")
    name = chosen.get("param")
    return (a if isinstance(a, int) else 0), (name if isinstance(name, str) else None)


# Session key: this page's document went out without its live family or minibatch fans
# (other visitors were waiting for the engine: app.compute.live_document); the page runs
# again at once for them.
_REST_FOLLOWS = "document_rest_follows"


def _rest_follows() -> None:
    """At the end of a view with the animator: the run that brings what the chart left out."""
    if st.session_state.get(_REST_FOLLOWS):
        st.rerun()


# Session key: an animator event that the whole page must see (a new start, a released live
# slider, a paused frame, another optimizer inspected), so the fragment reruns the app.
_WHOLE_PAGE = "animator_needs_page"


def _page_event(handler=None):
    """A callback that runs ``handler`` and marks the event as one for the whole page."""

    def callback() -> None:
        if handler is not None:
            handler()
        st.session_state[_WHOLE_PAGE] = True

    return callback


def _on_drag() -> None:
    """The start marker dragged: the new paths for the fragment's next mount (app.drag)."""
    ss = st.session_state
    moved = drag.read(ss.get(animator_key()))
    if moved is None or "last_good" not in ss:
        return
    try:
        ss[drag.ANSWER] = drag.answer(compute.experiment(ss["last_good"]), *moved)
    except ValueError:  # a start the scene refuses: answered empty (the release's or click's
        ss[drag.ANSWER] = drag.refused(moved[2])  # commit shows the message)


@st.fragment
def _animator(e: Experiment, options: dict) -> None:
    """The animator in a fragment: a drag's trigger reruns only this (its mount then carries
    only the new paths); every other event of the animator reruns the whole page, as before."""
    from app import animator

    ss = st.session_state
    if ss.pop(_WHOLE_PAGE, False):
        ss.pop(drag.ANSWER, None)
        st.rerun(scope="app")
    a, name = inspected()
    later = ss.pop(_REST_FOLLOWS, False)
    doc = compute.live_document(e, a, name, "later" if later else "if idle")
    if doc.get("pending"):
        ss[_REST_FOLLOWS] = True  # the chart first; the page's next run brings the rest
    answer = ss.pop(drag.ANSWER, None)
    if answer is not None:
        doc = animator.Ready(id=doc["id"], drag=answer)
    section = doc.get("live")
    options = {**options, "optimizer": section["optimizer"] if section else 0}
    animator.animator(
        doc,
        key=animator_key(),
        options=options,
        on_click_change=_page_event(_on_click),
        on_live_change=_page_event(_on_live),
        on_inspect_change=_page_event(),
        on_frame_change=_page_event(),
        on_drag_change=_on_drag,
    )


def paths(e: Experiment, options: dict | None = None) -> None:
    _animator(e, options or {})
    r = compute.shown(e)
    unbounded = r.surface.optimal_value is None and not r.surface.layers
    for a, name in enumerate(r.names):
        for s, step in enumerate(r.diverged_step[a]):
            if step >= 0 and unbounded:  # a saddle: leaving is the point, not a failure
                st.info(
                    f"**{name}** left the surface's domain at step {int(step)}.",
                    icon=":material/open_in_full:",
                )
            elif step >= 0:
                where = f" from start {s + 1}" if r.position.shape[1] > 1 else ""
                st.warning(
                    f"**{name}** diverged at step {int(step)}{where}: the path stops at "
                    "its last finite point. Try a smaller learning rate.",
                    icon=":material/warning:",
                )
    from app import sharpness_view

    sharpness_view.panel(e)
    _rest_follows()


def paused_frame() -> int | None:
    """The frame the animation was paused or scrubbed at (the animator reports only those)."""
    value = st.session_state.get(animator_key())
    frame = getattr(value, "frame", None) if value is not None else None
    return int(frame) if isinstance(frame, int) and frame >= 0 else None


def animator_options(present: bool, hide: tuple[str, ...], frame: int | None) -> dict:
    """How the animation starts: a linked frame opens paused there; presentation enlarges it."""
    # the page lists divergences itself (with wording for surfaces that have no minimum)
    options = {
        "presentation": present,
        "hide": ["events", *(h for h in hide if h in share.ANIMATOR_PANELS)],
    }
    if frame is not None:
        options.update(frame=int(frame), autoplay=False)
    return options


def current_frame(r: Result) -> int:
    """The paused frame, else the frame a link or lesson named, else the last one."""
    n = len(r.steps)
    for frame in (paused_frame(), st.session_state.get("link_frame")):
        if isinstance(frame, int) and 0 <= frame < n:
            return frame
    return n - 1


def _value_table(r: Result, a: int, frame: int) -> pd.DataFrame:
    names = list(r.surface.weight_names) or (
        ["x", "y"] if r.surface.dim == 2 else [f"w{i + 1}" for i in range(r.surface.dim)]
    )
    info = r.experiment.optimizers[a].info
    symbols = dict(info.state_symbols)
    columns = {"gradient g": r.grad[a, 0, frame]}
    for field, values in r.state[a].items():
        # a dataframe header cannot typeset: the declared LaTeX symbol as Unicode text
        columns[tex_text.plain(symbols[field]) if field in symbols else field] = values[0, frame]
    columns["learning rate"] = r.lr[a, 0, frame]
    columns["update Δw"] = r.update[a, 0, frame]
    columns["ratio -Δw/g"] = r.ratio[a, 0, frame]
    # + 0.0 turns -0.0 into 0.0, so that no cell reads "-0"
    values = {k: np.asarray(v, np.float64) + 0.0 for k, v in columns.items()}
    if frame >= len(r.steps) - 1:
        # The update and the ratio are those of the step from this frame to the next: after
        # the last frame there is none (the run records zeros), so they read NO_STEP there.
        for k in ("update Δw", "ratio -Δw/g"):
            values[k] = np.full(r.surface.dim, NO_STEP, dtype=object)
    return pd.DataFrame(values, index=names[: r.surface.dim])


NO_STEP = "–"


NO_STEP_NOTE = (
    "No step follows the last frame: the update Δw and the ratio are those of the step from a "
    "frame to the next, so there are none here."
)


def inside(e: Experiment) -> None:
    r = compute.shown(e)
    n = len(r.steps)
    default = current_frame(r)
    key = "inside_frame"
    ss = st.session_state
    # Follow the animation (a new paused frame, a new run) but leave the slider where the
    # user put it while that stays the same.
    if ss.get("inside_default") != (default, n) or key not in ss or ss[key] >= n:
        ss[key] = default
        ss["inside_default"] = (default, n)
    frame = st.slider(
        "Step",
        0,
        n - 1,
        key=key,
        format="frame %d",
        help="Pausing the animation brings this to the paused step.",
    )
    last = " " + NO_STEP_NOTE if frame >= n - 1 else ""
    st.caption(f"Values after step {int(r.steps[frame])} (start point 1).{last}")
    for a, name in enumerate(r.names):
        info = r.experiment.optimizers[a].info
        with st.container(border=True):
            st.markdown(f"**{name}** · {info.title} · matches {info.matches}")
            st.latex(info.update_latex)
            st.latex(r"\text{per-weight learning rate} = " + info.learning_rate_latex)
            if r.surface.dim <= 16:
                table = _value_table(r, a, frame)
                numbers = table.select_dtypes("number").columns
                st.dataframe(table.style.format("{:.4g}", subset=numbers), width="stretch")
            else:
                lr = r.lr[a, 0, frame]
                st.caption(
                    f"{r.surface.dim} weights: learning rate from {np.nanmin(lr):.3g} to "
                    f"{np.nanmax(lr):.3g} (median {np.nanmedian(lr):.3g}); see the layer "
                    "heatmaps in Paths."
                )


# The 3-D view: the animator's surface in perspective beside the 2-D one (same clock, controls
# and document); the panels about the numbers (rates, loss, fit, equations) stay in Paths.
THREE_D_HIDDEN = ("lr", "loss", "schedule", "fit", "inside")


def three_d(e: Experiment, options: dict | None = None) -> None:
    """The 3-D tab: the animator with its ``surface3d`` panel shown (app/animator/three.js),
    ``options`` as for :func:`paths` (a link's frame, presentation, hidden panels)."""
    options = dict(options or {})
    options["show"] = ["surface3d"]
    options["hide"] = list(dict.fromkeys([*options.get("hide", ()), *THREE_D_HIDDEN]))
    _animator(e, options)
    _rest_follows()


def summary(e: Experiment) -> None:
    r = compute.shown(e)
    rows = pd.DataFrame(r.summary())
    rows["start"] += 1
    rows["steps_to_target"] = rows["steps_to_target"].where(rows["steps_to_target"] >= 0)
    rows["diverged_at"] = rows["diverged_at"].where(rows["diverged_at"] >= 0)
    st.dataframe(
        rows,
        width="stretch",
        hide_index=True,
        column_config={
            "final_loss": st.column_config.NumberColumn(format="%.3e"),
            "distance_to_minimum": st.column_config.NumberColumn(format="%.3g"),
        },
    )
    target = r.surface.optimal_value
    if target is not None:
        st.caption(
            f"Steps to target: first step with f ≤ f* + {e.tolerance:g} (f* = {target:.6g})."
        )


def banner_if_stale(reading: state.Reading) -> None:
    if reading.experiment is None and "last_good" in st.session_state:
        st.info(
            "Showing the last run that could be computed; fix the highlighted setting "
            "to update it.",
            icon=":material/info:",
        )
