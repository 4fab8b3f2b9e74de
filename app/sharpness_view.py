"""The sharpness panel of the Paths view: loss, sharpness and preconditioned sharpness over the
steps, each optimizer's stability threshold dashed (trajectories/sharpness.py computes them).

A Plotly chart under the animator rather than an animator panel: the edge of stability is read
off the whole run (sharpening, then hovering at the line), which a static chart shows at once;
the paused frame is marked on it. It is computed on demand (a toggle; on by default in the
edge-of-stability lesson): Lanczos at every recorded step costs seconds on the larger models.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from trajectories import Experiment, sharpness

# Lessons whose stages open with the panel shown.
LESSONS_WITH_SHARPNESS = ("edge-of-stability",)

EXPLANATION = (
    "Sharpness is the largest eigenvalue of the loss's Hessian at each recorded point (the "
    "algebraically largest: negative where the loss curves down in every direction, as near a "
    "maximum; at a saddle it is the upward curvature), found by Lanczos iteration on "
    "Hessian-vector products. The preconditioned sharpness is the top eigenvalue of P⁻¹H, P "
    "the optimizer's per-weight preconditioner (Cohen et al. 2022). Dashed: each optimizer's "
    "stability threshold — 2/η for gradient descent, (2 + 2μ)/η with heavy-ball momentum, "
    "(2 + 2β₁)/((1 − β₁)η) for Adam's preconditioned sharpness; no line where the literature "
    "gives none."
)

THRESHOLD_TEXT = {
    "SGD": "2/η",
    "Momentum": "(2+2μ)/η",
    "Nesterov": "(2+2μ)/((1+2μ)η)",
    "Adam": "(2+2β₁)/((1−β₁)η)",
    "AdamW": "(2+2β₁)/((1−β₁)η)",
    "AMSGrad": "(2+2β₁)/((1−β₁)η)",
    "RMSprop": "(2+2μ)/η",
}


def _threshold_label(spec, threshold: float) -> str:
    values = spec.values()
    text = THRESHOLD_TEXT.get(spec.kind, "threshold")
    if spec.kind == "SGD" and values.get("momentum"):
        text = "(2+2μ)/((1+2μ)η)" if values.get("nesterov") else "(2+2μ)/η"
    return f"{text} = {threshold:.4g}"


def figure(r, sharp: sharpness.Sharpness, frame: int | None = None) -> go.Figure:
    """Rows: the loss (log scale), the sharpness, and the preconditioned sharpness when some
    instance has a preconditioner; one colour per instance, later starts dotted."""
    with_pre = any(sharp.has_preconditioned(a) for a in range(len(r.names)))
    rows = 3 if with_pre else 2
    titles = ["loss", "sharpness λ₁(H)"]
    if with_pre:
        titles.append("preconditioned sharpness λ₁(P⁻¹H)")
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.07, subplot_titles=titles
    )
    steps = np.asarray(r.steps)
    specs = r.experiment.optimizers
    for a, (name, color) in enumerate(zip(r.names, r.colors, strict=True)):
        for s in range(r.loss.shape[1]):
            style = {"color": color, "width": 1.6, "dash": "solid" if s == 0 else "dot"}
            label = name if s == 0 else f"{name} (start {s + 1})"
            common = {"x": steps, "mode": "lines", "line": style, "legendgroup": name}
            fig.add_trace(go.Scatter(y=r.loss[a, s], name=label, **common), row=1, col=1)
            fig.add_trace(
                go.Scatter(y=sharp.sharpness[a, s], name=label, showlegend=False, **common),
                row=2,
                col=1,
            )
            if with_pre and sharp.has_preconditioned(a):
                pre = sharp.preconditioned[a, s]
                fig.add_trace(
                    go.Scatter(y=pre, name=label, showlegend=False, **common),
                    row=3,
                    col=1,
                )
        bound = sharp.bounds[a]
        if bound:
            row = 3 if bound == "preconditioned_sharpness" else 2
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=sharp.threshold[a],
                    mode="lines",
                    line={"color": color, "width": 1.4, "dash": "dash"},
                    name=f"{name}: {_threshold_label(specs[a], float(sharp.threshold[a, 0]))}",
                    legendgroup=name,
                ),
                row=row,
                col=1,
            )
    if frame is not None and 0 <= frame < len(steps):
        fig.add_vline(x=float(steps[frame]), line={"color": "#888", "width": 1})
    fig.update_yaxes(type="log", dtick="D2", row=1, col=1)  # labels at 1, 2 and 5 per decade
    fig.update_xaxes(title_text="step", row=rows, col=1)
    fig.update_layout(
        height=260 + 170 * rows,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.12},
        hovermode="x unified",
    )
    return fig


def summary_line(r, sharp: sharpness.Sharpness) -> str:
    """One sentence per instance with a threshold: where its sharpness ended against it."""
    parts = []
    for a, name in enumerate(r.names):
        bound = sharp.bounds[a]
        if not bound:
            continue
        pre = bound == "preconditioned_sharpness"
        values = sharp.preconditioned[a, 0] if pre else sharp.sharpness[a, 0]
        ratio = float(values[-1] / sharp.threshold[a, -1])
        what = "preconditioned sharpness" if pre else "sharpness"
        parts.append(f"**{name}** ends with {what} at {ratio:.2f} × its threshold")
    return "; ".join(parts) + "." if parts else ""


def panel(e: Experiment) -> None:
    """The toggle and, when on, the chart (the paused frame marked)."""
    import streamlit as st

    from app import compute, views

    ss = st.session_state
    default = ss.get("lesson") in LESSONS_WITH_SHARPNESS
    shown = st.toggle(
        "Sharpness and the edge of stability",
        value=default,
        key=f"show-sharpness-{views.animator_key()}",
        help="The loss Hessian's largest eigenvalue at every recorded step, with each "
        "optimizer's stability threshold (computed on demand: seconds on the larger models).",
    )
    if not shown:
        return
    r = compute.shown(e)
    with st.spinner("Top Hessian eigenvalue at every recorded step…"):
        sharp = sharpness.of(r)
    st.plotly_chart(
        figure(r, sharp, views.paused_frame()),
        key="sharpness_chart",
        config={"displaylogo": False},
    )
    line = summary_line(r, sharp)
    st.caption((line + " " if line else "") + EXPLANATION)
