"""The sweeps tab: hyperparameter grid (click a cell to load it), basins, seed bands, fairness."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import compute
from app import labels as app_labels
from app.palette import PALETTE
from trajectories import Experiment, OptimizerSpec, sweeps

GRID_KEY = "grid_chart"
SWEEP_TABS = [
    "Hyperparameter grid",
    "Basins of attraction",
    "Seed ensemble",
    "Fair comparison",
    "Batch-size scaling",
]


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with a Cancel button while the ``with`` block runs (clicking Cancel, or
    anything else, reruns the page, which stops the sweep at its next progress report); both go
    when the block ends, so the finished result shows without a bar stuck at its end."""
    slot = st.empty()
    with slot.container():
        cols = st.columns([5, 1])
        bar = cols[0].progress(0.0, text=label)
        cols[1].button("Cancel", key=f"cancel_{label}", icon=":material/stop:", width="stretch")

    def report(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done:,} / {total:,}")

    try:
        yield report
    finally:
        slot.empty()


def _instance_picker(e: Experiment, key: str) -> int:
    active = e.active()
    labels = {i: app_labels.name_of(e, i) for i, _ in active}
    return st.selectbox("Optimizer", list(labels), format_func=labels.get, key=key)


def _numeric_hparams(spec: OptimizerSpec) -> list:
    return [h for h in spec.info.hyperparams if h.kind == "float" and h.name not in spec.info.fixed]


def _load_cell(e: Experiment, instance: int) -> None:
    """A click on a grid cell loads its setting into the instance (applied before widgets)."""
    selection = st.session_state.get(GRID_KEY)
    points = (selection or {}).get("selection", {}).get("points", []) if selection else []
    if not points:
        return
    custom = points[0].get("customdata")
    if isinstance(custom, dict):  # a typed array from the browser arrives as {"0": v, ...}
        custom = [custom[k] for k in sorted(custom, key=int)]
    if not isinstance(custom, list | tuple) or not custom:
        return
    grid = st.session_state.get("grid_result")
    if grid is None:
        return
    spec = e.optimizers[instance]
    values = dict(spec.hyperparams)
    for (name, _), v in zip(grid["axes"], custom, strict=False):
        values[name] = float(v)
    updated = list(e.optimizers)
    updated[instance] = OptimizerSpec(spec.kind, values, name=spec.name, color=spec.color)
    st.session_state["pending_experiment"] = e.replace(optimizers=tuple(updated)).to_json()


def grid_section(e: Experiment) -> None:
    instance = _instance_picker(e, "grid_instance")
    spec = e.optimizers[instance]
    numeric = _numeric_hparams(spec)
    names = [h.name for h in numeric]
    c = st.columns(2)
    first = c[0].selectbox("Hyperparameter 1", names, key="grid_p1")
    second = c[1].selectbox(
        "Hyperparameter 2", ["(none)", *[n for n in names if n != first]], key="grid_p2"
    )
    axes = []
    for name, col in ((first, c[0]), (second, c[1])):
        if name == "(none)":
            continue
        h = spec.info.hparam(name)
        log = h.scale == "log"
        with col:
            lo = st.number_input(
                f"{name} from", value=float(h.low), key=f"grid_lo_{name}", format="%g"
            )
            hi = st.number_input(
                f"{name} to", value=float(h.high), key=f"grid_hi_{name}", format="%g"
            )
            n = st.slider(f"{name} points", 2, 128, 32, key=f"grid_n_{name}")
        axes.append((name, float(lo), float(hi), int(n), log))
    metric = st.radio(
        "Colour by",
        ["final_loss", "steps_to_target", "loss_auc"],
        horizontal=True,
        key="grid_metric",
        format_func=lambda m: m.replace("_", " "),
    )
    if st.button("Run grid", key="grid_run", icon=":material/grid_on:", type="primary"):
        try:
            with _progress_bar("Sweeping") as report:
                g = compute.grid(e.to_json(), instance, tuple(axes), report, metric)
        except ValueError as err:
            st.error(str(err), icon=":material/error:")
            return
        st.session_state["grid_result"] = {
            "axes": [(a[0], a[4]) for a in axes],
            "swept": tuple(axes),
            "result": g,
            "instance": instance,
            "experiment": e.to_json(),
        }
    stored = st.session_state.get("grid_result")
    if not stored:
        st.caption(
            "Sweeps one or two hyperparameters of one optimizer in a single vmapped run; "
            "click a cell to load that setting into the animation."
        )
        return
    g: sweeps.GridResult = stored["result"]
    if metric not in g.metrics:  # the grid ran for another metric: compute this one
        try:
            with _progress_bar("Sweeping") as report:
                g = compute.grid(
                    stored["experiment"], stored["instance"], stored["swept"], report, metric
                )
        except ValueError as err:
            st.error(str(err), icon=":material/error:")
            return
        stored["result"] = g
    values = np.asarray(getattr(g, metric), np.float64)
    shown = np.where(np.isfinite(values), values, np.nan)
    if metric != "steps_to_target":
        shown = np.log10(np.maximum(shown, 1e-300))
    fig = go.Figure()
    if len(g.axes) == 1:
        xs = g.values[0]
        fig.add_trace(
            go.Scatter(
                x=xs, y=values, mode="lines+markers", customdata=xs[:, None].tolist(), name=metric
            )
        )
        fig.update_yaxes(type="log" if metric != "steps_to_target" else "linear", title=metric)
        fig.update_xaxes(type="log" if stored["axes"][0][1] else "linear", title=g.axes[0].name)
    else:
        xx, yy = np.meshgrid(g.values[0], g.values[1], indexing="ij")
        size = max(4, 360 // max(len(g.values[0]), len(g.values[1])))
        fig.add_trace(
            go.Scatter(
                x=xx.ravel(),
                y=yy.ravel(),
                mode="markers",
                marker={
                    "symbol": "square",
                    "size": size,
                    "color": shown.ravel(),
                    "colorscale": "Viridis",
                    "colorbar": {
                        "title": ("log10 " if metric != "steps_to_target" else "") + metric
                    },
                },
                customdata=np.stack([xx.ravel(), yy.ravel()], 1).tolist(),
                hovertemplate=f"{g.axes[0].name}=%{{customdata[0]:.4g}}<br>{g.axes[1].name}=%{{customdata[1]:.4g}}<br>value=%{{marker.color:.4g}}<extra></extra>",
            )
        )
        div = g.diverged.ravel()
        if div.any():
            fig.add_trace(
                go.Scatter(
                    x=xx.ravel()[div],
                    y=yy.ravel()[div],
                    mode="markers",
                    marker={"symbol": "x", "color": "#d62728", "size": size // 2},
                    name="diverged",
                    hoverinfo="skip",
                )
            )
        fig.update_xaxes(type="log" if stored["axes"][0][1] else "linear", title=g.axes[0].name)
        fig.update_yaxes(type="log" if stored["axes"][1][1] else "linear", title=g.axes[1].name)
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
    st.plotly_chart(
        fig,
        key=GRID_KEY,
        on_select=lambda: _load_cell(e, stored["instance"]),
        selection_mode="points",
        config={"displaylogo": False},
    )
    try:
        best = g.best(metric)
        st.caption(
            "Best cell: "
            + ", ".join(f"{k} = {v:.4g}" for k, v in best.items())
            + " · click any cell to load it into the animation."
        )
    except ValueError as err:
        st.warning(str(err))


def basins_section(e: Experiment) -> None:
    instance = _instance_picker(e, "basins_instance")
    n = st.slider("Grid side", 8, 128, 48, key="basins_n")
    if st.button("Map the basins", key="basins_run", icon=":material/map:", type="primary"):
        try:
            with _progress_bar("Starting everywhere") as report:
                b = compute.basins(e.to_json(), instance, n, report)
        except ValueError as err:
            st.error(str(err), icon=":material/error:")
            return
        st.session_state["basins_result"] = b
    b = st.session_state.get("basins_result")
    if b is None:
        st.caption(
            "Starts the optimizer from every point of a grid: which minimum does each "
            "start reach, and how fast?"
        )
        return
    k = len(b.minima)
    colors = ["#ffffff", "#444444"] + [PALETTE[i % len(PALETTE)] for i in range(k)]
    scale = [[i / (k + 1), c] for i, c in enumerate(colors)] + [[1.0, colors[-1]]]
    fig = go.Figure(
        go.Heatmap(
            x=b.x,
            y=b.y,
            z=b.labels + 2,
            zmin=0,
            zmax=k + 1,
            colorscale=scale,
            showscale=False,
            hovertemplate="x=%{x:.3g}<br>y=%{y:.3g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=b.minima[:, 0],
            y=b.minima[:, 1],
            mode="markers+text",
            text=[f"min {i + 1}" for i in range(k)],
            textposition="top center",
            marker={
                "symbol": "star",
                "size": 14,
                "color": "white",
                "line": {"color": "black", "width": 1},
            },
        )
    )
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
    st.plotly_chart(fig, key="basins_chart", config={"displaylogo": False})
    counts = pd.Series(b.labels.ravel()).value_counts()
    rows = [
        {
            "basin": ("diverged" if i == -2 else "no minimum" if i == -1 else f"min {i + 1}"),
            "share of starts": f"{100 * c / b.labels.size:.1f}%",
            "median steps to settle": int(np.median(b.settled_step[b.labels == i])),
        }
        for i, c in counts.items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def ensemble_section(e: Experiment) -> None:
    n = st.slider("Seeds", 4, 256, 32, key="ensemble_n")
    if st.button(
        "Run the seeds", key="ensemble_run", icon=":material/stacked_line_chart:", type="primary"
    ):
        try:
            with _progress_bar("Seeds") as report:
                st.session_state["ensemble_result"] = compute.ensemble(e.to_json(), n, report)
        except ValueError as err:
            st.error(str(err), icon=":material/error:")
            return
    en = st.session_state.get("ensemble_result")
    if en is None:
        st.caption(
            "With gradient noise or a minibatch surface: how much does the path depend on "
            "the seed? Bands are the 5-95% and 25-75% quantiles of the loss."
        )
        return
    fig = go.Figure()
    names, colors = app_labels.names(e), app_labels.colors(e)
    for a, (name, color) in enumerate(zip(names, colors, strict=True)):
        q = en.loss[a]
        for lo, hi, alpha in ((0, 4, 0.15), (1, 3, 0.3)):
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([en.steps, en.steps[::-1]]),
                    y=np.concatenate([q[lo], q[hi][::-1]]),
                    fill="toself",
                    fillcolor=_rgba(color, alpha),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(x=en.steps, y=q[2], name=f"{name} (median)", line={"color": color})
        )
    fig.update_yaxes(type="log", title="loss")
    fig.update_xaxes(title="step")
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(fig, key="ensemble_chart", config={"displaylogo": False})


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def fair_section(e: Experiment) -> None:
    c = st.columns(2)
    trials = c[0].select_slider(
        "Trials per optimizer", [8, 16, 32, 64, 128, 256], 64, key="fair_trials"
    )
    criterion = c[1].selectbox(
        "Criterion",
        sweeps.CRITERIA,
        key="fair_criterion",
        format_func=lambda s: s.replace("_", " "),
    )
    if st.button("Compare fairly", key="fair_run", icon=":material/balance:", type="primary"):
        try:
            with _progress_bar("Tuning") as report:
                rows = compute.fair(e.to_json(), trials, criterion, report)
        except ValueError as err:
            st.error(str(err), icon=":material/error:")
            return
        st.session_state["fair_result"] = (criterion, rows)
    stored = st.session_state.get("fair_result")
    if not stored:
        st.caption(
            "Every optimizer gets the same budget of runs, tuned over all its "
            "hyperparameters (Sobol samples of the registry ranges), and, for contrast, "
            "over its learning rate only. Lower is better."
        )
        return
    criterion, rows = stored
    table = pd.DataFrame(
        [
            {
                "optimizer": r.name,
                "as set": r.default_score,
                "lr tuned": r.lr_only_score,
                "all tuned": r.tuned_score,
                "best setting": ", ".join(f"{k}={v:.3g}" for k, v in r.tuned_best.items()),
                "evaluations": r.tuned_evaluations,
            }
            for r in rows
        ]
    ).sort_values("all tuned")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            k: st.column_config.NumberColumn(format="%.3e")
            for k in ("as set", "lr tuned", "all tuned")
        },
    )
    st.caption(
        f"Criterion: {criterion.replace('_', ' ')}, {rows[0].trials} trials each. "
        "Evaluations: loss-and-gradient evaluations of the best run (one a step; more for "
        "L-BFGS, whose line search evaluates the loss too)."
    )


def sweeps_tab(e: Experiment) -> None:
    from app.batch_scaling_view import batch_scaling_section  # it imports this module

    grid, basins, seeds, fair, batch = st.tabs(SWEEP_TABS, key="sweep_tab")
    with grid:
        grid_section(e)
    with basins:
        basins_section(e)
    with seeds:
        ensemble_section(e)
    with fair:
        fair_section(e)
    with batch:
        batch_scaling_section()
