"""The Sweeps view's "Batch-size scaling" section: steps to a target loss against batch size on
the noisy quadratic model, log-log, one line per optimizer at its best learning rate per batch
size (:mod:`trajectories.batch_scaling`), computed when the button is pressed."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st

from app import compute
from app.palette import PALETTE
from app.sweeps_view import _progress_bar
from trajectories import batch_scaling as bs

CHART_KEY = "batch_scaling_chart"
# EMA variants dashed in their base optimizer's colour
_BASE = {"sgd": 0, "momentum": 1, "adam": 2}


def figure(rows: list[bs.Row], target: float) -> go.Figure:
    fig = go.Figure()
    for name in dict.fromkeys(r.optimizer for r in rows):
        mine = [r for r in rows if r.optimizer == name and not math.isnan(r.steps_to_target)]
        base = name.removesuffix("+ema")
        fig.add_trace(
            go.Scatter(
                x=[r.batch_size for r in mine],
                y=[max(r.steps_to_target, 1.0) for r in mine],  # 0 steps: drawn at 1 (log axis)
                customdata=[r.learning_rate for r in mine],
                name=name,
                mode="lines+markers",
                line={
                    "color": PALETTE[_BASE.get(base, 3) % len(PALETTE)],
                    "dash": "dash" if name.endswith("+ema") else "solid",
                },
                hovertemplate="B=%{x:g}: %{y:g} steps at lr %{customdata:.3g}"
                "<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_xaxes(type="log", title="batch size B")
    fig.update_yaxes(type="log", title=f"steps to loss {target:g} (best learning rate)")
    fig.update_layout(height=440, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def _rows(names: tuple[str, ...], sizes: tuple[float, ...], target: float, progress) -> list:
    return compute._sweep(
        ("batch_scaling", names, sizes, target),
        lambda: bs.batch_scaling(names, sizes, target=target, progress=progress),
    )


def batch_scaling_section() -> None:
    st.caption(
        "Zhang et al. (2019) on the noisy quadratic model (10 weights, curvatures 1 to 1/100, "
        "gradient noise covariance H / B): the learning rate (and momentum's coefficient) is "
        "tuned per batch size over a log grid, 16 seeds each; +ema: the loss of the weights' "
        "moving average. Steps fall as 1/B up to a critical batch size, then flatten."
    )
    c = st.columns([3, 1])
    names = c[0].multiselect(
        "Optimizers", list(bs.OPTIMIZER_SPECS), ["sgd", "momentum", "adam"], key="bs_optimizers"
    )
    target = c[1].number_input(
        "Target loss", 1e-4, 1.0, bs.DEFAULT_TARGET, format="%.3g", key="bs_target"
    )
    if st.button("Scale the batch", key="bs_run", icon=":material/trending_down:", type="primary"):
        try:
            with _progress_bar("Batch sizes") as report:
                rows = _rows(tuple(names), bs.DEFAULT_BATCH_SIZES, float(target), report)
        except ValueError as err:
            st.error(str(err), icon=":material/error:")
            return
        st.session_state["bs_result"] = (float(target), rows)
    stored = st.session_state.get("bs_result")
    if not stored:
        return
    target, rows = stored
    st.plotly_chart(figure(rows, target), key=CHART_KEY, config={"displaylogo": False})
    missing = sorted(
        {f"{r.optimizer} at B={r.batch_size:g}" for r in rows if math.isnan(r.steps_to_target)}
    )
    if missing:
        st.caption("Not reached within the steps at any rate: " + ", ".join(missing))
