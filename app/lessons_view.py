"""The classroom: a gallery of lessons, and a lesson's stages with their narration."""

from __future__ import annotations

import streamlit as st

from app import lessons


def load_stage(lesson_id: str, stage: int) -> None:
    """Put a lesson's stage into the page (used as a callback: before widgets are drawn)."""
    ss = st.session_state
    lesson = lessons.get(lesson_id)
    stage = max(0, min(stage, len(lesson.stages) - 1))
    s = lesson.stages[stage]
    ss["pending_experiment"] = s.experiment.to_json()
    ss["lesson"], ss["stage"] = lesson.id, stage
    ss["pending_view"] = s.view
    ss["pending_frame"] = s.frame


def leave_lesson() -> None:
    st.session_state.pop("lesson", None)
    st.session_state["stage"] = 0


def _run_stage_sweep(stage: lessons.Stage) -> None:
    """A stage about a sweep shows it at once, with the size its narration describes."""
    from app import compute, sweeps_view

    ss = st.session_state
    e = stage.experiment.to_json()
    if stage.sweep == "basins":
        ss["basins_result"] = compute.basins(e, 0, stage.sweep_size)
        ss["sweep_tab"] = sweeps_view.SWEEP_TABS[1]
    elif stage.sweep == "ensemble":
        ss["ensemble_result"] = compute.ensemble(e, stage.sweep_size)
        ss["sweep_tab"] = sweeps_view.SWEEP_TABS[2]


def narration(present: bool, scene) -> None:
    """The current lesson's stage: title, narration and stage navigation (above the views)."""
    ss = st.session_state
    lesson_id = ss.get("lesson")
    if not lesson_id or lesson_id not in lessons.LESSONS:
        return
    lesson = lessons.get(lesson_id)
    stage = max(0, min(int(ss.get("stage", 0)), len(lesson.stages) - 1))
    ss["stage"] = stage
    s = lesson.stages[stage]
    if s.sweep and ss.get("sweep_for") != (lesson_id, stage):
        ss["sweep_for"] = (lesson_id, stage)
        _run_stage_sweep(s)
    with st.container(border=True):
        cols = st.columns([6, 1, 1, 1])
        heading = "###" if present else "**"
        title = f"{lesson.title} · stage {stage + 1} of {len(lesson.stages)}: {s.title}"
        cols[0].markdown(f"### {title}" if heading == "###" else f"**{title}**")
        cols[1].button(
            "Back",
            key="stage_prev",
            disabled=stage == 0,
            on_click=load_stage,
            args=(lesson.id, stage - 1),
            icon=":material/arrow_back:",
            width="stretch",
        )
        cols[2].button(
            "Next",
            key="stage_next",
            disabled=stage >= len(lesson.stages) - 1,
            on_click=load_stage,
            args=(lesson.id, stage + 1),
            icon=":material/arrow_forward:",
            width="stretch",
        )
        if not present:
            cols[3].button(
                "Leave",
                key="stage_leave",
                on_click=leave_lesson,
                width="stretch",
                icon=":material/close:",
            )
        st.markdown(s.narration)
        if not lessons.is_as_written(scene):
            c = st.columns([5, 1])
            c[0].caption("Settings changed: the narration describes the stage as written.")
            c[1].button(
                "Reset stage",
                key="stage_reset",
                on_click=load_stage,
                args=(lesson.id, stage),
                icon=":material/restart_alt:",
            )


def gallery() -> None:
    st.caption(
        "Each lesson is a short story in stages. Open one to load its scene; share its "
        "link (Share tab) and every student sees the same run."
    )
    items = list(lessons.LESSONS.values())
    for row in range(0, len(items), 2):
        cols = st.columns(2)
        for col, lesson in zip(cols, items[row : row + 2], strict=False):
            with col.container(border=True):
                st.markdown(f"#### {lesson.title}")
                st.caption(lesson.summary)
                st.markdown(" → ".join(s.title for s in lesson.stages))
                b = st.columns(2)
                b[0].button(
                    "Open",
                    key=f"open_{lesson.id}",
                    on_click=load_stage,
                    args=(lesson.id, 0),
                    icon=":material/school:",
                    width="stretch",
                )
                b[1].link_button(
                    "Present",
                    "?" + lessons.link(lesson.id),
                    icon=":material/slideshow:",
                    width="stretch",
                )
