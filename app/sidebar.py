"""The controls: surface and its parameters, run settings, start points, optimizer instances."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

import optimizers
import surfaces
from app import starts, state, widgets
from optimizers import HParam
from surfaces import formula
from trajectories import OptimizerSpec, limits

CATEGORY_TITLES = {
    "classic": "Classic 2-D",
    "noisy": "Noisy quadratic",
    "high-dimensional": "High-dimensional",
    "learned": "Learned models",
    "custom": "Your formula",
}


def _surface_label(name: str) -> str:
    f = surfaces.FAMILIES[name]
    return f"{f.title} · {CATEGORY_TITLES.get(f.category, f.category)}"


def _switch_surface(previous: str) -> None:
    state.switch_surface(st.session_state, previous)


def surface_controls(errors: dict[str, str]) -> None:
    ss = st.session_state
    st.selectbox(
        "Loss surface",
        list(surfaces.FAMILIES),
        key="surface",
        format_func=_surface_label,
        help="Pick the landscape the optimizers walk on.",
        on_change=_switch_surface,
        args=(ss.get("surface", state.DEFAULT.surface),),
    )
    note = starts.current_note(ss)
    if note:
        st.info(note, icon=":material/place:")
    family = surfaces.FAMILIES[ss["surface"]]
    if family.summary:
        st.caption(family.summary)
    for p in family.params:
        key = state.surface_key(family.name, p.name)
        if family.name == "custom" and p.name == "formula":
            ss.setdefault(key, p.default)
            st.text_input(
                "f(x, y) =",
                key=key,
                help="Numbers, x, y, pi, e, + - * / ^, and "
                "sin cos tan exp log sqrt abs tanh ... (no other names)",
            )
            try:
                st.latex(formula.parse(ss[key]).latex)
            except formula.FormulaError as err:
                st.error(f"Formula: {err}", icon=":material/error:")
            continue
        widgets.param(p, key)
    if "surface" in errors:
        st.error(errors["surface"], icon=":material/error:")


def section(label: str, name: str, icon: str, errors: dict[str, str]) -> None:
    """A closable section (``starts``, ``run``), built only while open like the optimizer
    cards (on a warm load, their widgets cost the page about 0.26 s; benchmarks/RESULTS.md).
    Closed, its error shows below it."""
    ss = st.session_state
    key = f"{name}_open"
    box = st.expander(label, expanded=bool(ss.get(key)), key=key, icon=icon, on_change="rerun")
    draw = {"starts": start_controls, "run": run_controls}[name]
    with box:
        if box.open:
            draw(errors)
    if not box.open:
        if name == "starts":
            state.fold_start_edits(ss)
        if name in errors:
            st.error(errors[name], icon=":material/error:")


def run_controls(errors: dict[str, str]) -> None:
    ss = st.session_state
    ss.setdefault("steps", state.DEFAULT.steps)
    options = sorted(set(state.STEPS_CHOICES) | {int(ss["steps"])})
    st.select_slider(
        "Steps",
        options=options,
        key="steps",
        help=f"Updates per path (at most {limits.MAX_STEPS:,}).",
    )
    col1, col2 = st.columns(2)
    ss.setdefault("noise", 0.0)
    col1.number_input(
        "Gradient noise σ",
        min_value=0.0,
        max_value=limits.MAX_NOISE,
        step=0.1,
        key="noise",
        help="Standard deviation of Gaussian noise added to every gradient; "
        "every optimizer sees the same noise (same seed).",
    )
    ss.setdefault("seed", 0)
    col2.number_input("Seed", min_value=0, max_value=limits.MAX_SEED, step=1, key="seed")
    if "run" in errors:
        st.error(errors["run"], icon=":material/error:")


def start_controls(errors: dict[str, str] | None = None) -> None:
    ss = st.session_state
    ss.setdefault("start_points", [list(p) for p in state.DEFAULT.starts])
    state.follow_surface(ss)
    frame = pd.DataFrame(ss["start_points"] or [], columns=["x", "y"], dtype=float)
    edited = st.data_editor(
        frame,
        key="starts_editor",
        num_rows="dynamic",
        width="stretch",
        column_config={
            "x": st.column_config.NumberColumn("x", format="%.4g"),
            "y": st.column_config.NumberColumn("y", format="%.4g"),
        },
    )
    points = [
        [float(r.x), float(r.y)] for r in edited.itertuples() if pd.notna(r.x) and pd.notna(r.y)
    ]
    ss["start_points_read"] = points
    st.caption(
        "Click on the surface to move the first start point; shift-click adds one. "
        "Empty: the surface's own start. Points you did not set follow the surface."
    )
    if errors and "starts" in errors:
        st.error(errors["starts"], icon=":material/error:")


# ---- optimizer instances ---------------------------------------------------------------------
def _add(kind: str) -> None:
    ss = st.session_state
    uid = state.new_uid(ss)
    state.write_instance(ss, uid, OptimizerSpec(kind), color=state.color_for(ss))
    ss[state.opt_key(uid, "open")] = True  # a new card opens: its settings come next
    ss["instances"] = [*state.instances(ss), uid]


def _duplicate(uid: int) -> None:
    ss = st.session_state
    spec = state.read_instance(ss, uid, int(ss.get("steps", 500)))
    new = state.new_uid(ss)
    name = (spec.name or spec.kind) + " (copy)"
    state.write_instance(
        ss, new, OptimizerSpec(spec.kind, spec.hyperparams, name=name), color=state.color_for(ss)
    )
    ss[state.opt_key(new, "open")] = True
    order = state.instances(ss)
    order.insert(order.index(uid) + 1, new)
    ss["instances"] = order


def _remove(uid: int) -> None:
    ss = st.session_state
    ss["instances"] = [u for u in state.instances(ss) if u != uid]


def _change_kind(uid: int) -> None:
    """Switching an instance's optimizer keeps its name, colour and learning rate."""
    ss = st.session_state
    kind = ss[state.opt_key(uid, "kind")]
    lr = ss.get(state.hp_key(uid, "learning_rate"))
    color = ss.get(state.opt_key(uid, "color"))
    name = ss.get(state.opt_key(uid, "name"), "")
    for key in [k for k in ss if isinstance(k, str) and k.startswith(f"o{uid}.hp.")]:
        del ss[key]
    state.write_instance(
        ss, uid, OptimizerSpec(kind, {"learning_rate": lr} if lr else {}, name=name), color=color
    )


def instance_card(uid: int, errors: dict[str, str]) -> None:
    ss = st.session_state
    kind = ss[state.opt_key(uid, "kind")]
    info = optimizers.get(kind)
    title = ss.get(state.opt_key(uid, "name")) or kind
    lr = ss.get(state.hp_key(uid, "learning_rate"))
    on = ss.get(state.opt_key(uid, "on"), True)
    label = f"{'●' if on else '○'} {title}" + (f" · lr {widgets.fmt(lr)}" if lr else "")
    # A card's widgets are built only while it is open (six closed cards cost the page 0.7 s
    # to draw; benchmarks/RESULTS.md): ``on_change="rerun"`` tracks the open state, and
    # state.keep_widget_values keeps what the closed cards' widgets held. The expander's
    # identity includes its label (which shows the learning rate), so it starts from the open
    # state it had: a card stays open while its values change.
    key = state.opt_key(uid, "open")
    card = st.expander(label, expanded=bool(ss.get(key)), key=key, on_change="rerun")
    with card:
        if card.open:
            card_controls(uid, info)
    message = errors.get(state.opt_key(uid, "card"))
    if message:
        st.error(message, icon=":material/error:")


def _with_group(name: str) -> str:
    """A picker entry: the optimizer and its group (the registry lists them group by group)."""
    return f"{name} · {optimizers.get(name).group}"


def card_controls(uid: int, info: optimizers.OptimizerInfo) -> None:
    """What an open card holds: the instance's optimizer, name, colour, hyperparameters."""
    kind = st.session_state[state.opt_key(uid, "kind")]
    top = st.columns([3, 1])
    top[0].selectbox(
        "Optimizer",
        list(optimizers.OPTIMIZERS),
        key=state.opt_key(uid, "kind"),
        on_change=_change_kind,
        args=(uid,),
        format_func=_with_group,
        help=info.summary,
    )
    top[1].color_picker("Colour", key=state.opt_key(uid, "color"))
    row = st.columns([3, 1])
    row[0].text_input(
        "Name", key=state.opt_key(uid, "name"), placeholder=kind, max_chars=limits.MAX_NAME_CHARS
    )
    row[1].toggle("On", key=state.opt_key(uid, "on"))
    for h in info.hyperparams:
        if h.name in info.fixed:
            continue
        widgets.param(h, state.hp_key(uid, h.name))
    # Built only while open, like the cards: closed, its widgets are not sent and drawn again
    # on every rerun of an open card, a notch among them (7 messages per open card;
    # benchmarks/RESULTS.md). state.keep_widget_values keeps their values meanwhile; opening it
    # takes a rerun.
    more = st.popover(
        "Schedule & options", width="stretch", key=state.opt_key(uid, "more"), on_change="rerun"
    )
    with more:
        if more.open:
            schedule_controls(uid)
            option_controls(uid, info)
    cols = st.columns(2)
    cols[0].button(
        "Duplicate",
        key=state.opt_key(uid, "dup"),
        on_click=_duplicate,
        args=(uid,),
        icon=":material/content_copy:",
        width="stretch",
    )
    cols[1].button(
        "Remove",
        key=state.opt_key(uid, "rm"),
        on_click=_remove,
        args=(uid,),
        icon=":material/delete:",
        width="stretch",
    )
    st.caption(f"Matches {info.matches}. {info.reference}.")


def schedule_controls(uid: int) -> None:
    ss = st.session_state
    key = state.opt_key(uid, "sched")
    ss.setdefault(key, "constant")
    kind = st.selectbox(
        "Learning-rate schedule",
        state.SCHEDULES,
        key=key,
        format_func=lambda s: s.replace("_", " "),
    )
    steps = int(ss.get("steps", 500))
    fields = {
        "exponential_decay": [
            ("decay_steps", max(1, steps // 5), 1.0, float(steps), "linear"),
            ("decay_rate", 0.5, 0.01, 0.99, "linear"),
        ],
        "cosine_decay": [("alpha", 0.0, 0.0, 1.0, "linear")],
        "polynomial_decay": [
            ("end_learning_rate", 0.0, 0.0, 1.0, "linear"),
            ("power", 2.0, 0.5, 4.0, "linear"),
        ],
        "warmup": [("warmup_steps", max(1, steps // 10), 1.0, float(steps), "linear")],
    }.get(kind, [])
    for name, default, low, high, scale in fields:
        widgets.param(
            HParam(name=name, default=float(default), low=low, high=high, scale=scale),
            state.opt_key(uid, f"sched.{name}"),
        )


def option_controls(uid: int, info: optimizers.OptimizerInfo) -> None:
    ss = st.session_state
    if not info.shared_options:  # L-BFGS: its line search takes none of them
        st.caption(f"{info.title} takes none of the shared options.")
        return
    for o in optimizers.OPTIONS:
        if o.name not in state.OPTION_KEYS or o.name in info.defaults():
            continue
        key = state.opt_key(uid, f"opt.{o.name}")
        if o.kind == "bool":
            ss.setdefault(key, False)
            st.toggle(o.name.replace("_", " "), key=key, help=o.help)
            continue
        enable = state.opt_key(uid, f"opt.{o.name}.on")
        ss.setdefault(enable, ss.get(key) is not None and o.name != "ema_momentum")
        if o.name == "ema_momentum":
            if not ss.get(state.opt_key(uid, "opt.use_ema")):
                continue
            ss.setdefault(key, o.default)
            widgets.param(dataclasses.replace(o, low=0.5, high=0.999), key)
            continue
        on = st.checkbox(o.name.replace("_", " "), key=enable, help=o.help)
        if on:
            if ss.get(key) is None:
                ss[key] = {"gradient_accumulation_steps": 2}.get(
                    o.name, 0.01 if "decay" in o.name else 1.0
                )
            widgets.param(dataclasses.replace(o, default=ss[key]), key)
        else:
            ss[key] = None


def optimizer_controls(errors: dict[str, str]) -> None:
    ss = st.session_state
    for uid in state.instances(ss):
        instance_card(uid, errors)
    cols = st.columns([3, 2])
    cols[0].selectbox(
        "Add",
        list(optimizers.OPTIMIZERS),
        key="add_kind",
        label_visibility="collapsed",
        format_func=_with_group,
        help="The registry's optimizers by group: "
        + "; ".join(f"{g}: {text}" for g, text in optimizers.GROUPS.items()),
    )
    cols[1].button(
        "Add",
        key="add_button",
        on_click=lambda: _add(ss["add_kind"]),
        icon=":material/add:",
        width="stretch",
    )
    if "optimizers" in errors:
        st.error(errors["optimizers"], icon=":material/error:")
