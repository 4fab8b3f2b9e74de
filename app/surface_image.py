"""The loss surface as a picture: filled contour bands with darker contour lines, as a PNG.

The browser animates paths over this still image (the layout that keeps every panel visible
while animating; plotly.js#4491), so the surface is rendered once per surface, here, from
the engine's own loss function evaluated on a grid of the surface's 2-D view.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

import surfaces

# Viridis, sampled at 9 points (matplotlib's table), interpolated to 256 colours.
_VIRIDIS_KNOTS = np.array(
    [
        [68, 1, 84],
        [71, 44, 122],
        [59, 81, 139],
        [44, 113, 142],
        [33, 144, 141],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ],
    dtype=np.float64,
)
VIRIDIS = np.stack(
    [np.interp(np.linspace(0, 8, 256), np.arange(9), _VIRIDIS_KNOTS[:, c]) for c in range(3)], 1
).astype(np.uint8)
BANDS = 24


@dataclasses.dataclass(frozen=True)
class SurfaceImage:
    png: bytes  # the picture, row 0 at the top (largest y)
    extent: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax of the view
    vmin: float  # colour scale ends, in the shown units (log10 of f - f_floor when log)
    vmax: float
    log: bool
    floor: float  # the value subtracted before the log
    grid: np.ndarray  # the loss values (ny, nx), y increasing with the row

    @property
    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@functools.lru_cache(maxsize=64)
def _grid_fn(fn, layers_key):
    del layers_key
    return jax.jit(jax.vmap(fn, in_axes=(0, None)))


def loss_grid(surface: surfaces.Surface, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss on an ``n x n`` grid of the surface's view window: ``(xs, ys, values[ny, nx])``."""
    (x0, x1), (y0, y1) = np.asarray(surface.window, np.float64)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    xx, yy = np.meshgrid(xs, ys)
    w = surface.lift(np.stack([xx.ravel(), yy.ravel()], axis=1)).astype(np.float32)
    f = _grid_fn(surface.fn, surface.static_key)
    values = np.asarray(f(jnp.asarray(w), surface.theta), np.float64).reshape(n, n)
    return xs, ys, values


def grid_size(surface: surfaces.Surface) -> int:
    """Finer grids where evaluating the loss is cheap."""
    return 256 if surface.dim <= 16 and not surface.layers else 96


def render(
    surface: surfaces.Surface, n: int | None = None, log: bool | None = None
) -> SurfaceImage:
    n = n or grid_size(surface)
    xs, ys, values = loss_grid(surface, n)
    log = surface.log_scale if log is None else log
    finite = np.isfinite(values)
    if not finite.any():
        values = np.zeros_like(values)
        finite = np.ones_like(finite)
    floor = float(np.min(values[finite]))
    if surface.optimal_value is not None:
        floor = min(floor, float(surface.optimal_value))
    if log:
        span = float(np.max(values[finite]) - floor)
        shown = np.log10(values - floor + max(span * 1e-6, 1e-12))
    else:
        shown = values
    shown = np.where(np.isfinite(shown), shown, np.nanmax(np.where(finite, shown, -np.inf)))
    vmin, vmax = np.percentile(shown, [0.5, 99.5])
    if not vmax > vmin:
        vmax = vmin + 1.0
    t = np.clip((shown - vmin) / (vmax - vmin), 0.0, 1.0)
    band = np.minimum((t * BANDS).astype(np.int32), BANDS - 1)
    rgb = VIRIDIS[(band * 255 // (BANDS - 1))].astype(np.float64)
    edge = np.zeros(band.shape, bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    rgb[edge] *= 0.72  # contour lines: a darker edge where the band changes
    image = Image.fromarray(np.flipud(rgb).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return SurfaceImage(
        png=buf.getvalue(),
        extent=(float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])),
        vmin=float(vmin),
        vmax=float(vmax),
        log=bool(log),
        floor=floor,
        grid=values,
    )
