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

    @property
    def scale(self) -> ColourScale:
        """The colour scale this picture was drawn with (its log offset from the grid's span)."""
        finite = self.grid[np.isfinite(self.grid)]
        span = float(np.max(finite) - self.floor) if finite.size else 0.0
        return ColourScale(self.vmin, self.vmax, self.log, self.floor, span)


@functools.lru_cache(maxsize=64)
def _grid_fn(fn, layers_key):
    del layers_key
    return jax.jit(jax.vmap(fn, in_axes=(0, None)))


def loss_grid(
    surface: surfaces.Surface, n: int, ny: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss on an ``n x ny`` (default square) grid of the surface's view window:
    ``(xs, ys, values[ny, nx])``."""
    ny = ny or n
    (x0, x1), (y0, y1) = np.asarray(surface.window, np.float64)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, ny)
    xx, yy = np.meshgrid(xs, ys)
    w = surface.lift(np.stack([xx.ravel(), yy.ravel()], axis=1)).astype(np.float32)
    f = _grid_fn(surface.fn, surface.static_key)
    values = np.asarray(f(jnp.asarray(w), surface.theta), np.float64).reshape(ny, n)
    return xs, ys, values


def cheap(surface: surfaces.Surface) -> bool:
    """Whether the loss is cheap enough to evaluate at every pixel of a picture."""
    return surface.dim <= 16 and not surface.layers


def grid_size(surface: surfaces.Surface) -> int:
    """Finer grids where evaluating the loss is cheap."""
    return 256 if cheap(surface) else 96


@dataclasses.dataclass(frozen=True)
class ColourScale:
    """How loss values become colours: a log of ``f - floor`` or the value, clipped to
    ``[vmin, vmax]``, in :data:`BANDS` bands of viridis with darker contour lines."""

    vmin: float
    vmax: float
    log: bool
    floor: float
    span: float  # max - floor of the grid it was fitted on (the log's offset is a fraction)

    @property
    def offset(self) -> float:
        """Added to ``f - floor`` before the log, so the minimum itself has a finite colour."""
        return max(self.span * 1e-6, 1e-12)

    def shown(self, values: np.ndarray) -> np.ndarray:
        if not self.log:
            return values
        return np.log10(values - self.floor + self.offset)

    def bands(self, values: np.ndarray) -> np.ndarray:
        shown = self.shown(values)
        t = np.clip((shown - self.vmin) / (self.vmax - self.vmin), 0.0, 1.0)
        return np.where(np.isfinite(t), np.minimum((t * BANDS).astype(np.int32), BANDS - 1), 0)

    def rgb(self, values: np.ndarray, line: int = 1) -> np.ndarray:
        """Colours ``(ny, nx, 3)`` of a grid, row 0 at the bottom; contour lines ``line``
        pixels wide."""
        finite = np.isfinite(values)
        top = np.max(values[finite]) if finite.any() else 0.0
        band = self.bands(np.where(finite, values, top))
        rgb = VIRIDIS[(band * 255 // (BANDS - 1))].astype(np.float64)
        edge = np.zeros(band.shape, bool)
        edge[:, 1:] |= band[:, 1:] != band[:, :-1]
        edge[1:, :] |= band[1:, :] != band[:-1, :]
        for _ in range(line - 1):  # thicker lines for a larger picture, same look
            edge[:, 1:] |= edge[:, :-1]
            edge[1:, :] |= edge[:-1, :]
        rgb[edge] *= 0.72  # contour lines: a darker edge where the band changes
        return rgb


def colour_scale(surface: surfaces.Surface, values: np.ndarray, log: bool) -> ColourScale:
    """The colour scale of a grid: its 0.5-99.5 percentile range (log of the excess over the
    minimum when ``log``)."""
    finite = np.isfinite(values)
    if not finite.any():
        values, finite = np.zeros_like(values), np.ones_like(finite)
    floor = float(np.min(values[finite]))
    if surface.optimal_value is not None:
        floor = min(floor, float(surface.optimal_value))
    span = float(np.max(values[finite]) - floor)
    scale = ColourScale(0.0, 1.0, bool(log), floor, span)
    shown = scale.shown(values)
    shown = np.where(np.isfinite(shown), shown, np.nanmax(np.where(finite, shown, -np.inf)))
    vmin, vmax = np.percentile(shown, [0.5, 99.5])
    if not vmax > vmin:
        vmax = vmin + 1.0
    return dataclasses.replace(scale, vmin=float(vmin), vmax=float(vmax))


def _png(rgb: np.ndarray) -> bytes:
    image = Image.fromarray(np.flipud(rgb).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def render(
    surface: surfaces.Surface, n: int | None = None, log: bool | None = None
) -> SurfaceImage:
    n = n or grid_size(surface)
    xs, ys, values = loss_grid(surface, n)
    log = surface.log_scale if log is None else log
    scale = colour_scale(surface, values, log)
    return SurfaceImage(
        png=_png(scale.rgb(values)),
        extent=(float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])),
        vmin=scale.vmin,
        vmax=scale.vmax,
        log=scale.log,
        floor=scale.floor,
        grid=values,
    )


def _resample(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear interpolation of a grid ``(ny, nx)`` to ``(height, width)`` (same window)."""
    ny, nx = values.shape
    u, v = np.linspace(0, nx - 1, width), np.linspace(0, ny - 1, height)
    i, j = np.minimum(u.astype(int), nx - 2), np.minimum(v.astype(int), ny - 2)
    fu, fv = (u - i)[None, :], (v - j)[:, None]
    a, b = values[j][:, i], values[j][:, i + 1]
    c, d = values[j + 1][:, i], values[j + 1][:, i + 1]
    return (a * (1 - fu) + b * fu) * (1 - fv) + (c * (1 - fu) + d * fu) * fv


def picture_at(
    surface: surfaces.Surface, width: int, height: int, like: SurfaceImage, line: int = 1
) -> Image.Image:
    """The surface as a ``width x height`` picture of its window, coloured on ``like``'s scale
    (the app's picture: the same colours, finer). A cheap loss is evaluated at every pixel, so
    contour lines are sharp at any size; an expensive one (a learned model) is interpolated
    from its grid."""
    if cheap(surface):
        _, _, values = loss_grid(surface, width, height)
    else:
        values = _resample(like.grid, width, height)
    return Image.fromarray(np.flipud(like.scale.rgb(values, line)).astype(np.uint8), "RGB")
