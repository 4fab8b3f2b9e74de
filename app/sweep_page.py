"""Sweep results as one self-contained HTML page: an SVG heatmap, no script, no request.

:func:`grid_page` draws a :class:`~trajectories.sweeps.GridResult` (one or two swept
hyperparameters; a one-axis sweep is a strip, with a table of its cells below) coloured by a
metric, and :func:`basins_page` a :class:`~trajectories.sweeps.BasinsResult` (which minimum
each start reaches). Colours are the surface pictures' viridis (``app/surface_image.py``);
every cell carries a tooltip with its values. The page is what ``app.notebook.html`` returns
for a sweep.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np

from app.palette import PALETTE
from app.surface_image import VIRIDIS

if TYPE_CHECKING:
    from trajectories.sweeps import BasinsResult, GridResult

METRICS = ("final_loss", "loss_auc", "steps_to_target")
PLOT = 560  # the longer side of the heatmap, in pixels
MARGIN = {"left": 90, "top": 20, "right": 20, "bottom": 60}
DIVERGED = "#9a9a9a"  # grey: no value (a diverged run, or a target never reached)
_STYLE = (
    "body{margin:0;padding:16px 20px;font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
    "Arial,sans-serif;color:#262730;background:#fff}h1{font-size:18px;margin:0 0 4px}"
    "p{margin:4px 0 12px;font-size:14px}svg text{font-size:12px;fill:#262730}"
    "table{border-collapse:collapse;font-size:13px;margin-top:12px}"
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
)


def _fmt(v: float) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.4g}"


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def _colours(values: np.ndarray, log: bool) -> tuple[list[str], float, float]:
    """A viridis colour per value (grey where not finite) and the scale's ends."""
    finite = np.isfinite(values) & ((values > 0) if log else True)
    shown = np.where(finite, np.log10(np.where(finite, values, 1.0)) if log else values, np.nan)
    lo = float(np.nanmin(shown)) if finite.any() else 0.0
    hi = float(np.nanmax(shown)) if finite.any() else 1.0
    span = hi - lo if hi > lo else 1.0
    colours = [
        _hex(VIRIDIS[int((s - lo) / span * 255 + 0.5)]) if np.isfinite(s) else DIVERGED
        for s in shown.ravel()
    ]
    return colours, lo, hi


def _page(title: str, intro: str, body: str) -> str:
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{intro}</p>\n{body}\n</body>\n</html>\n"
    )


def _ticks(values: np.ndarray, most: int = 8) -> list[int]:
    n = len(values)
    return sorted(set(np.linspace(0, n - 1, max(2, min(n, most))).round().astype(int).tolist()))


def _colour_bar(x: float, y: float, height: float, lo: float, hi: float, label: str) -> str:
    stops = "".join(
        f'<stop offset="{t:.2f}" stop-color="{_hex(VIRIDIS[int(255 * (1 - t))])}"/>'
        for t in np.linspace(0, 1, 9)
    )
    return (
        f'<defs><linearGradient id="bar" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>'
        f'</defs><rect x="{x}" y="{y}" width="14" height="{height}" fill="url(#bar)"/>'
        f'<text x="{x + 20}" y="{y + 10}">{_fmt(hi)}</text>'
        f'<text x="{x + 20}" y="{y + height}">{_fmt(lo)}</text>'
        f'<text x="{x + 20}" y="{y + height / 2}">{html.escape(label)}</text>'
    )


def grid_page(grid: GridResult, *, metric: str = "final_loss", title: str | None = None) -> str:
    """The grid's cells coloured by ``metric`` (log10 for the losses), the best cell outlined."""
    if metric not in METRICS:
        raise ValueError(f"grid page: unknown metric {metric!r}; choose one of {METRICS}")
    if getattr(grid, metric) is None:
        raise ValueError(
            f"grid page: {metric} was not computed for this grid (it has "
            f"{', '.join(grid.metrics)}: run hyperparameter_grid with metrics including it)"
        )
    values = np.asarray(getattr(grid, metric), np.float64)
    if values.ndim == 1:
        values = values[None, :]  # a strip: the one axis across
    rows, cols = values.shape
    names = [a.name for a in grid.axes]
    x_values = grid.values[-1]
    y_values = grid.values[0] if len(grid.axes) == 2 else None
    side = PLOT / max(rows, cols)
    cell_w, cell_h = side, (side if y_values is not None else min(60.0, PLOT / 6))
    log = metric != "steps_to_target"
    colours, lo, hi = _colours(values, log)
    try:
        best = grid.best(metric)
    except ValueError:  # every cell diverged
        best = None
    left, top = MARGIN["left"], MARGIN["top"]
    parts = []
    for i in range(rows):
        for j in range(cols):
            r = rows - 1 - i  # the first value of the row axis at the bottom
            x, y = left + j * cell_w, top + r * cell_h
            here = {names[-1]: float(x_values[j])}
            if y_values is not None:
                here[names[0]] = float(y_values[i])
            tip = ", ".join(f"{k} = {v:.4g}" for k, v in here.items())
            tip += f": {metric} {_fmt(float(values[i, j]))}"
            outline = ' stroke="#e23633" stroke-width="3"' if here == best else ""
            parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{cell_w:.2f}" height="{cell_h:.2f}" '
                f'fill="{colours[i * cols + j]}"{outline}><title>{html.escape(tip)}</title></rect>'
            )
    width, height = cols * cell_w, rows * cell_h
    frame = f'<rect x="{left}" y="{top}" width="{width:.2f}" height="{height:.2f}" '
    parts.append(frame + 'fill="none" stroke="#999"/>')  # over the cells: white ones show
    for j in _ticks(x_values, int(width // 90)):  # labels up to ~60 px wide
        cx = left + (j + 0.5) * cell_w
        parts.append(
            f'<text x="{cx:.1f}" y="{top + height + 16}" text-anchor="middle">'
            f"{float(x_values[j]):.3g}</text>"
        )
    parts.append(
        f'<text x="{left + width / 2:.1f}" y="{top + height + 40}" text-anchor="middle">'
        f"{html.escape(names[-1])}{' (log)' if grid.axes[-1].log else ''}</text>"
    )
    if y_values is not None:
        for i in _ticks(y_values, int(height // 24)):
            cy = top + (rows - 1 - i + 0.5) * cell_h
            parts.append(
                f'<text x="{left - 6}" y="{cy + 4:.1f}" text-anchor="end">'
                f"{float(y_values[i]):.3g}</text>"
            )
        parts.append(
            f'<text x="16" y="{top + height / 2:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 16 {top + height / 2:.1f})">{html.escape(names[0])}</text>'
        )
    label = f"log10 {metric}" if log else metric
    parts.append(_colour_bar(left + width + 16, top, max(height, 120), lo, hi, label))
    svg_w, svg_h = left + width + 160, top + max(height, 120) + MARGIN["bottom"]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg_w:.0f}" height="{svg_h:.0f}" '
        f'role="img" aria-label="{html.escape(metric)} heatmap">{"".join(parts)}</svg>'
    )
    body = svg + (_grid_table(grid, metric) if y_values is None else "")
    where = (
        "no cell has a finite value"
        if best is None
        else "best cell (outlined): " + (", ".join(f"{k} = {v:.4g}" for k, v in best.items()))
    )
    swept = " and ".join(names)
    intro = html.escape(f"{metric} over {swept}; grey: diverged or never reached; {where}.")
    return _page(title or f"Sweep of {swept}", intro, body)


def _grid_table(grid: GridResult, metric: str) -> str:
    name = grid.axes[0].name
    shown = [m for m in METRICS if getattr(grid, m) is not None]  # the metrics computed
    head = f"<tr><th>{html.escape(name)}</th>" + "".join(f"<th>{m}</th>" for m in shown)
    rows = "".join(
        f"<tr><td>{float(v):.4g}</td>"
        + "".join(f"<td>{_fmt(float(getattr(grid, m)[k]))}</td>" for m in shown)
        + "</tr>"
        for k, v in enumerate(grid.values[0])
    )
    return f'<table data-metric="{html.escape(metric)}">{head}</tr>{rows}</table>'


def basins_page(b: BasinsResult, *, title: str | None = None) -> str:
    """Each start of the grid coloured by the minimum it reached (white: none, dark: diverged)."""
    ny, nx = b.labels.shape
    cell = PLOT / max(nx, ny)
    left, top = MARGIN["left"], MARGIN["top"]
    names = {-2: "diverged", -1: "no minimum"} | {k: f"min {k + 1}" for k in range(len(b.minima))}
    fill = {-2: "#444444", -1: "#ffffff"} | {
        k: PALETTE[k % len(PALETTE)] for k in range(len(b.minima))
    }
    parts = []
    for j in range(ny):
        for i in range(nx):
            label = int(b.labels[j, i])
            tip = f"x = {b.x[i]:.3g}, y = {b.y[j]:.3g}: {names[label]}"
            y = top + (ny - 1 - j) * cell  # y increases upwards
            parts.append(
                f'<rect x="{left + i * cell:.2f}" y="{y:.2f}" width="{cell:.2f}" '
                f'height="{cell:.2f}" fill="{fill[label]}"><title>{html.escape(tip)}</title></rect>'
            )
    parts.append(  # a frame over the cells: white ones (no minimum) show on the page
        f'<rect x="{left}" y="{top}" width="{nx * cell:.2f}" height="{ny * cell:.2f}" '
        'fill="none" stroke="#999"/>'
    )
    for k in _ticks(b.x, 5):
        parts.append(
            f'<text x="{left + (k + 0.5) * cell:.1f}" y="{top + ny * cell + 16}" '
            f'text-anchor="middle">{b.x[k]:.3g}</text>'
        )
    for k in _ticks(b.y, 5):
        parts.append(
            f'<text x="{left - 6}" y="{top + (ny - k - 0.5) * cell + 4:.1f}" text-anchor="end">'
            f"{b.y[k]:.3g}</text>"
        )
    counts = {int(k): int(c) for k, c in zip(*np.unique(b.labels, return_counts=True), strict=True)}
    key_x = left + nx * cell + 16
    legend = "".join(
        f'<rect x="{key_x}" y="{top + 20 * r}" width="12" height="12" fill="{fill[k]}" '
        f'stroke="#999"/><text x="{key_x + 18}" y="{top + 20 * r + 11}">'
        f"{names[k]}: {100 * c / b.labels.size:.1f}%</text>"
        for r, (k, c) in enumerate(sorted(counts.items(), key=lambda kc: -kc[1]))
    )
    svg_w, svg_h = left + nx * cell + 200, top + ny * cell + MARGIN["bottom"]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg_w:.0f}" height="{svg_h:.0f}" '
        f'role="img" aria-label="basins of attraction">{"".join(parts)}{legend}</svg>'
    )
    intro = html.escape(f"Which minimum each of the {nx} x {ny} starts reaches.")
    return _page(title or "Basins of attraction", intro, svg)
