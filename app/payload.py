"""What the browser animator receives: one JSON document per run, sent once (after a
session's first mount, only the parts that changed: app/doc_patch.py).

The animator (``app/animator/``) draws every panel from this document and animates them
in sync in the browser; nothing is re-sent while it plays. Arrays travel as little-endian
float32 (or uint8) in base64, ``{"b64": ..., "shape": [...], "dtype": "f4"|"u1"}``, which is
about 5 bytes a number and decodes into a typed array without parsing; the live family uses
float16 too (``"f2"``, and ``"l2"``: float16 of ``log10(value - offset)``, see :func:`array`).

Schema (version 1)::

    {
      "version": 1,
      "steps": [0, 1, ...],               # the step of each frame (R frames)
      "stride": 1,
      "surface": {
        "name", "title", "dim", "image" (PNG data URL), "extent": [x0, x1, y0, y1],
        "log": bool, "vmin", "vmax", "floor",  # colour scale of the image
        "minima": [[x, y], ...], "local_minima": [[x, y], ...],   # in view coordinates
        "axes": ["x", "y"],                 # axis titles of the view
        "projected": bool,                  # the view is a 2-D projection of more weights
        "learned": bool,
        "height": {                         # the 3-D panel's mesh (see height_grid)
          "x": [...], "y": [...],           # the nodes: G points of the picture's grid each
          "z": A(G, G) as f2,               # heights[j, i] at (x[i], y[j])
          "offset": float                   # height(f) = clip(log10(f - floor + offset) if log
        }                                   #   else f, vmin, vmax); paths' from their loss
      },
      "weights": ["x", "y"] or ["W1[0,0]", ...],   # names of the weights (dim)
      "optimizers": [{
        "name", "kind", "color",
        "path": A(S, R, 2),                 # positions in the view, per start
        "loss": A(S, R),
        "diverged": [step or -1 per start],
        "hit": [step or -1 per start],      # first step within tolerance of f*
        "final_loss": [...], "ema_path": A(S, R, 2) (when use_ema),
        "average_path": A(S, R, 2), "average_label": "average x",
                                            # a declared second sequence (schedule-free's x)
        "schedule": A(R) or a number or null,  # the schedule's eta_t at each frame's step;
                                            # a number: a constant rate; null: no rate
        "lr_map": "log" or "diverging",     # diverging: the rates are the signed realised
                                            # -update/g (no diagonal rate: Muon's matrices)
        "arrows": {"grad": A(S, R, 2), "update": A(S, R, 2), "momentum": A(S, R, 2)?},
                                            # at frame r: the gradient at the current point and
                                            # the step taken from it (zero at the last frame);
                                            # "momentum" only for an optimizer that declares a
                                            # momentum buffer, already signed: how the buffer
                                            # moves the weights (optimizers.momentum_arrow)
        "fan": A(R, K, 2),                  # stochastic surfaces (dim <= INLINE_DIM): K
                                            # minibatch gradients at each frame's point of
                                            # the first start (trajectories.drawn)
        "lr": A(S, R, dim)                  # per-weight learning rate (dim <= INLINE_DIM)
        "inside": {                          # live values for the equations (dim <= INLINE_DIM)
          "g": A(S, R, dim), "update": A(S, R, dim),
          "<state symbol>": A(S, R, dim), ...
        },
        "symbols": {"<state field>": "<LaTeX symbol>"},
        "equations": "<LaTeX update rule>", "lr_equation": "<LaTeX>"
      }],
      "lr_layers": null or {                 # dim > INLINE_DIM: one heatmap per layer
        "frames": [frame index, ...],        # the frames sampled (F <= LAYER_FRAMES)
        "vmin", "vmax",                      # log10 learning-rate scale of the bytes
        "scales": [{"map": "log"|"diverging", "vmin", "vmax"} per optimizer],
                                             # diverging: a signed log scale, 0 in the middle
                                             # (byte 128), |v| from 10^vmin (white) to 10^vmax
                                             # (full colour), blue below 0, red above
        "layers": [{"name", "rows", "cols"}],
        "values": [A(F, dim) as u1 per optimizer]   # first start; 0..255 over vmin..vmax
      },
      "live": null or {...},                 # live scrubbing: app/live.py (added by
                                            # app.compute.live_document)
      "fit": null or {"kind": "line", "x": [...], "y": [...]}                  # regression
             or {"kind": "boundary", "x": [...], "y": [...], "label": [...],  # classifiers
                 "extent": [x0, x1, y0, y1], "grid": G, "frames": [...],
                 "values": [A(F, G, G) as u1 per optimizer]}  # p(class 1) * 255
    }
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

import optimizers
import trajectories
from app import labels
from app.surface_image import SurfaceImage
from trajectories import Result, drawn

VERSION = 1
INLINE_DIM = 16  # per-weight values travel for every frame up to this many weights
LAYER_FRAMES = 100  # frames sampled for per-layer heatmaps of larger models
FIT_FRAMES = 30  # frames sampled for decision boundaries
FIT_GRID = 32
HEIGHT_GRID = 64  # nodes a side of the 3-D panel's mesh: 64 x 64 float16, about 11 KB of base64


# Wire dtypes: f4 float32; u1 bytes; f2 float16 (half the bytes, 3 significant digits: enough
# for a path drawn in pixels); l2 float16 of log10(value - offset) (positive values over many
# decades, a learning rate or a loss above its floor, to about 0.5%).
_WIRE = {"f4": "<f4", "u1": np.uint8, "f2": "<f2", "l2": "<f2"}


def array(a: np.ndarray, dtype: str = "f4", *, offset: float = 0.0) -> dict[str, Any]:
    a = np.asarray(a)
    if dtype == "l2":
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.log10(np.asarray(a, np.float64) - offset)  # 0 -> -inf, below 0 -> NaN
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.ascontiguousarray(np.asarray(a, dtype=_WIRE[dtype]))
    out = {
        "b64": base64.b64encode(a.tobytes()).decode("ascii"),
        "shape": list(a.shape),
        "dtype": dtype,
    }
    if dtype == "l2" and offset:
        out["offset"] = float(offset)
    return out


def decode(spec: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`array` (tests and exports)."""
    raw = np.frombuffer(base64.b64decode(spec["b64"]), _WIRE[spec["dtype"]])
    a = raw.reshape(spec["shape"])
    if spec["dtype"] == "l2":
        return 10.0 ** a.astype(np.float64) + spec.get("offset", 0.0)
    return a


def _sample(n: int, most: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int))


def _weight_names(result: Result) -> list[str]:
    s = result.surface
    if s.weight_names:
        return list(s.weight_names)
    if s.layers:
        names = []
        for name, shape in s.layers:
            for idx in np.ndindex(*shape):
                names.append(f"{name}[{','.join(map(str, idx))}]")
        return names
    if s.dim == 2:
        return ["x", "y"]
    return [f"w{i + 1}" for i in range(s.dim)]


def _view_vectors(result: Result, vectors: np.ndarray) -> np.ndarray:
    """Directions (..., dim) in the 2-D view: the projection's linear part."""
    p = result.surface.projection
    return vectors if p is None else vectors @ np.asarray(p.basis).T


def _layers(result: Result) -> list[dict[str, Any]]:
    s = result.surface
    if s.layers:
        out = []
        for name, shape in s.layers:
            rows, cols = (shape[0], int(np.prod(shape[1:]))) if len(shape) > 1 else (1, shape[0])
            out.append({"name": name, "rows": int(rows), "cols": int(cols)})
        return out
    cols = math.ceil(math.sqrt(s.dim))
    return [{"name": "weights", "rows": math.ceil(s.dim / cols), "cols": cols}]


def lr_map(result: Result, a: int) -> str:
    """How instance ``a``'s per-weight rates are coloured: ``"diverging"`` where its declaration
    says some recorded rates are the signed realised -update/gradient for these weights (no
    diagonal rate exists: Muon's matrices), else ``"log"``."""
    s = result.surface
    shapes = tuple(tuple(shape) for _, shape in s.layers) if s.layers else ((s.dim,),)
    realised = result.experiment.optimizers[a].info.rate_is_realised(shapes)
    return "diverging" if realised else "log"


def signed_log_limits(values: np.ndarray) -> tuple[float, float]:
    """log10 of the 5th and 99th percentiles of the finite nonzero |values|: a realised ratio
    spans decades (a tiny gradient gives a huge one), so its diverging scale is logarithmic in
    the size, signed in colour."""
    size = np.abs(values[np.isfinite(values) & (values != 0)])
    lo, hi = np.log10(np.percentile(size, [5, 99])) if size.size else (-3.0, 0.0)
    return float(lo), float(hi if hi > lo else lo + 1)


def signed_log_bytes(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0..255 on the signed log scale: 128 for 0 (and below 10^lo), 0 / 255 from -/+10^hi."""
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.clip((np.log10(np.abs(values)) - lo) / (hi - lo), 0, 1)
    u = np.where(np.isfinite(values) & (values != 0), np.sign(values) * size, 0.0)
    return np.floor((u + 1) / 2 * 255 + 0.5)


def _lr_layers(result: Result) -> dict[str, Any]:
    frames = _sample(len(result.steps), LAYER_FRAMES)
    rates = result.lr[:, 0, frames]  # (I, F, dim)
    maps = [lr_map(result, a) for a in range(len(rates))]
    logs = np.log10(np.maximum(rates[np.asarray(maps) == "log"], 1e-30))  # the shared log scale
    finite = logs[np.isfinite(logs) & (logs > -29)]
    vmin, vmax = np.percentile(finite, [1, 99]) if finite.size else (-6.0, 0.0)
    vmax = vmax if vmax > vmin else vmin + 1
    values, scales = [], []
    for r, m in zip(rates, maps, strict=True):
        if m == "diverging":  # signed, 0 in the middle
            lo, hi = signed_log_limits(r)
            q = signed_log_bytes(r, lo, hi)
            scales.append({"map": m, "vmin": lo, "vmax": hi})
        else:
            q = (np.log10(np.maximum(r, 1e-30)) - vmin) / (vmax - vmin) * 255
            scales.append({"map": m, "vmin": float(vmin), "vmax": float(vmax)})
        values.append(array(np.clip(np.nan_to_num(q, nan=0.0), 0, 255).round(), "u1"))
    return {
        "frames": frames.tolist(),
        "vmin": float(vmin),
        "vmax": float(vmax),
        "scales": scales,
        "layers": _layers(result),
        "values": values,
    }


def _fit(result: Result) -> dict[str, Any] | None:
    s = result.surface
    if s.predict_fn is None or not s.data:
        return None
    x = np.asarray(s.data["x"], np.float64)
    y = np.asarray(s.data["y"], np.float64)
    if x.ndim == 1:  # a regression of y on x: the line is drawn from the path itself
        return {"kind": "line", "x": x.tolist(), "y": y.tolist()}
    pad = 0.1 * (x.max(0) - x.min(0))
    lo, hi = x.min(0) - pad, x.max(0) + pad
    gx, gy = np.linspace(lo[0], hi[0], FIT_GRID), np.linspace(lo[1], hi[1], FIT_GRID)
    grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2).astype(np.float32)
    frames = _sample(len(result.steps), FIT_FRAMES)
    p = trajectories.predictions(result, grid, frames)
    p = p.reshape(len(p), len(frames), FIT_GRID, FIT_GRID)
    p = np.where(np.isfinite(p), p, 0.5)
    return {
        "kind": "boundary",
        "x": x[:, 0].tolist(),
        "y": x[:, 1].tolist(),
        "label": y.astype(int).tolist(),
        "extent": [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])],
        "grid": FIT_GRID,
        "frames": frames.tolist(),
        "values": [array(np.clip(p[i] * 255, 0, 255).round(), "u1") for i in range(len(p))],
    }


def heights(values: np.ndarray, image: SurfaceImage) -> np.ndarray:
    """Loss values as heights of the 3-D panel: the 2-D picture's colour coordinate (the log of
    the excess over its floor when the picture is log-coloured), clipped to its colour range,
    so a height and a colour say the same thing. Not finite (outside the domain): the top."""
    scale = image.scale
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = scale.shown(np.asarray(values, np.float64))
    return np.clip(np.where(np.isfinite(shown), shown, scale.vmax), scale.vmin, scale.vmax)


def _nodes(n_grid: int, n: int) -> tuple[np.ndarray, int]:
    """``n`` indices spread over a grid axis of ``n_grid`` points, and the half-width of the
    block of grid points each one stands for."""
    idx = np.unique(np.linspace(0, n_grid - 1, min(n, n_grid)).round().astype(int))
    return idx, int(np.ceil((n_grid - 1) / max(1, len(idx) - 1) / 2))


def _block_min(values: np.ndarray, half: int, axis: int) -> np.ndarray:
    """The lowest value within ``half`` points either side, along ``axis``."""
    if half <= 0:
        return values
    pad = [(0, 0), (0, 0)]
    pad[axis] = (half, half)
    padded = np.pad(values, pad, constant_values=np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=axis)
    return windows.min(-1)


def height_grid(image: SurfaceImage, n: int = HEIGHT_GRID) -> dict[str, Any]:
    """The 3-D panel's height mesh: ``n x n`` nodes over the picture's own grid (the values
    the 2-D image was coloured from, not a second evaluation), as :func:`heights`. Each node
    takes the lowest value of the block of grid points it stands for, so a valley narrower than
    a mesh cell (Rosenbrock's, in log colour) stays one continuous trench instead of a row of
    teeth where nodes happen to fall in it. The browser lifts the paths with the same rule
    from their loss (app/animator/three.js), so a live or dragged path, whose loss changes in
    the browser, stays on the surface."""
    ny, nx = image.grid.shape
    cols, hx = _nodes(nx, n)
    rows, hy = _nodes(ny, n)
    grid = np.where(np.isfinite(image.grid), image.grid, np.inf)  # outside the domain: the top
    low = _block_min(_block_min(grid, hx, 1), hy, 0)[np.ix_(rows, cols)]
    x0, x1, y0, y1 = image.extent
    xs, ys = np.linspace(x0, x1, nx)[cols], np.linspace(y0, y1, ny)[rows]
    return {
        "x": [float(f"{v:.7g}") for v in xs],
        "y": [float(f"{v:.7g}") for v in ys],
        "z": array(heights(low, image), "f2"),
        "offset": image.scale.offset,
    }


def has_fans(result: Result) -> bool:
    """A stochastic surface the document draws inline: each optimizer has its minibatch fan."""
    return result.surface.dim <= INLINE_DIM and result.surface.grad_estimate_fn is not None


def fan(result: Result, a: int) -> dict[str, Any]:
    """Instance ``a``'s minibatch-gradient fan at its first start's recorded points (a kernel
    of the surface's own: compiled once per surface and record count)."""
    s = result.surface
    fans = drawn.gradient_fans(s, result.position[a, 0], result.steps, result.experiment.seed)
    return array(_view_vectors(result, fans))


def with_fans(doc: dict[str, Any], result: Result) -> dict[str, Any]:
    """``doc`` built with ``fans=False``, with the fans added (a shallow copy)."""
    if not has_fans(result):
        return doc
    out = dict(doc)
    out["optimizers"] = [{**o, "fan": fan(result, a)} for a, o in enumerate(doc["optimizers"])]
    return out


def _optimizer(result: Result, a: int, inline: bool, fans: bool = True) -> dict[str, Any]:
    s = result.surface
    info = result.experiment.optimizers[a].info
    pos = result.position[a]  # (S, R, dim)
    out: dict[str, Any] = {  # "name" and "color": with_labels
        "kind": result.kinds[a],
        "path": array(s.project(pos)),
        "loss": array(result.loss[a]),
        "diverged": result.diverged_step[a].tolist(),
        "hit": result.hit_step[a].tolist(),
        "final_loss": [float(v) if np.isfinite(v) else None for v in result.final_loss[a]],
        "arrows": {
            "grad": array(_view_vectors(result, result.grad[a])),
            "update": array(_view_vectors(result, result.update[a])),
        },
        "symbols": dict(info.state_symbols),
        "equations": info.update_latex,
        "lr_equation": info.learning_rate_latex,
    }
    if result.ema.get(a) is not None:
        out["ema_path"] = array(s.project(result.ema[a]))
    state = result.state[a]
    spec = result.experiment.optimizers[a]
    average = info.average
    if average is not None and all(f in state for f in average.fields):
        after = result.position[a] + result.update[a]  # the weights after each record's step
        out["average_path"] = array(s.project(average.of(spec.values(), after, state)))
        out["average_label"] = average.label
    out["lr_map"] = lr_map(result, a)
    schedule = drawn.schedule_values(spec, result.steps)
    # a constant rate travels as one number (a flat line), a schedule as one value per frame
    out["schedule"] = (
        schedule if schedule is None or isinstance(schedule, float) else array(schedule)
    )
    momentum = optimizers.momentum_arrow(info, spec.values(), state, result.steps)
    if momentum is not None:  # the declared buffer, signed and in weight units (no guessing)
        out["arrows"]["momentum"] = array(_view_vectors(result, momentum))
    if fans and has_fans(result):
        out["fan"] = fan(result, a)
    if inline:
        out["lr"] = array(result.lr[a])
        # lr travels once (above) and the ratio -update/g is computed in the browser
        inside = {"g": array(result.grad[a]), "update": array(result.update[a])}
        inside.update({field: array(v) for field, v in state.items()})
        out["inside"] = inside
    return out


def with_labels(doc: dict[str, Any], names: list[str], colors: list[str]) -> dict[str, Any]:
    """``doc`` with its optimizers named and coloured (a shallow copy: the arrays are shared)."""
    out = dict(doc)
    out["optimizers"] = [
        {**o, "name": name, "color": color}
        for o, name, color in zip(doc["optimizers"], names, colors, strict=True)
    ]
    return out


def build(result: Result, image: SurfaceImage, fans: bool = True) -> dict[str, Any]:
    """The whole document for one run, labelled as :func:`app.labels.of` says (a
    :class:`~app.labels.Shown` result its names and colours; an engine result its kinds).
    ``fans=False``: without the minibatch fans (:func:`with_fans` adds them)."""
    s = result.surface
    inline = s.dim <= INLINE_DIM

    def view(points):
        pts = np.asarray(points, np.float64).reshape(-1, s.dim)
        return s.project(pts).tolist() if len(pts) else []

    local = s.local_minima if s.local_minima is not None else np.zeros((0, s.dim))
    doc = {
        "version": VERSION,
        "steps": np.asarray(result.steps).tolist(),
        "stride": int(result.stride),
        "surface": {
            "name": s.name,
            "title": s.title,
            "dim": int(s.dim),
            "image": image.data_url,
            "extent": list(image.extent),
            "log": image.log,
            "vmin": image.vmin,
            "vmax": image.vmax,
            "floor": image.floor,
            "minima": view(s.minima),
            "local_minima": view(local),
            "axes": (list(s.weight_names) if s.weight_names and s.dim == 2 else ["x", "y"])
            if s.projection is None
            else ["direction 1", "direction 2"],
            "projected": s.projection is not None,
            "learned": s.predict_fn is not None,
            "height": height_grid(image),
        },
        "weights": _weight_names(result),
        "optimizers": [_optimizer(result, a, inline, fans) for a in range(len(result.kinds))],
        "lr_layers": None if inline else _lr_layers(result),
        "fit": _fit(result),
    }
    return with_labels(doc, *labels.of(result))
