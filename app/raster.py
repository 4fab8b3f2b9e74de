"""Still pictures of a run for slides and files: a PNG of one frame, an animated GIF.

Drawn directly with Pillow (about 10 ms a frame at 1x; matplotlib animation takes 15x longer):
the surface picture, axes, every path faint, each optimizer's trail up to the frame, start and
current points, minima and a legend. The background is drawn once and copied per frame.
Pictures are 880 x 620 px times ``scale`` (default 2: 1,760 px wide, for slides), with the
surface rendered at the picture's own resolution (``surface_image.picture_at``), so contour
lines stay sharp; every path has a thin halo (``app/palette.py``).
"""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app import labels, palette, surface_image
from app.surface_image import SurfaceImage
from trajectories import Result

# The layout at scale 1 (pixels); a picture at scale s is s times as large in every length.
WIDTH, HEIGHT = 880, 620
PLOT = (70, 40, 620, 570)  # left, top, right, bottom of the surface panel
LEGEND_X = 640
DEFAULT_SCALE = 2  # 1,760 x 1,240 px: sharp on a slide (at least 1,600 px wide)
MAX_SCALE = 4


def check_scale(scale: float) -> float:
    """``scale`` as a number from 1 to :data:`MAX_SCALE`, or a ValueError saying so."""
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise ValueError(f"scale must be a number from 1 to {MAX_SCALE}, not {scale!r}")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be from 1 to {MAX_SCALE} (the picture is 880 px wide x it)")
    return float(scale)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Every length of the picture at one scale."""

    scale: float = DEFAULT_SCALE

    def n(self, length: float) -> int:
        return max(1, round(length * self.scale))

    @property
    def size(self) -> tuple[int, int]:
        return self.n(WIDTH), self.n(HEIGHT)

    @property
    def plot(self) -> tuple[int, int, int, int]:
        return tuple(self.n(v) for v in PLOT)  # type: ignore[return-value]

    def font(self, size: float):
        return _font(self.n(size))


def _font(size: int):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def _rgb(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    h = color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha


class Canvas:
    """Maps view coordinates to pixels of the surface panel."""

    def __init__(self, extent, layout: Layout):
        self.x0, self.x1, self.y0, self.y1 = extent
        self.l, self.t, self.r, self.b = layout.plot

    def px(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, np.float64)
        u = self.l + (xy[..., 0] - self.x0) / (self.x1 - self.x0) * (self.r - self.l)
        v = self.b - (xy[..., 1] - self.y0) / (self.y1 - self.y0) * (self.b - self.t)
        return np.stack([u, v], -1)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=mag)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]


def _polyline(draw: ImageDraw.ImageDraw, pts: np.ndarray, fill, width: int) -> None:
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) >= 2:
        draw.line([tuple(p) for p in pts.clip(-1e5, 1e5)], fill=fill, width=width, joint="curve")


def _haloed(draw, pts: np.ndarray, color: str, width: int, halo: int, alpha: int = 255) -> None:
    """A path with a thin outline (``halo`` px each side) of the colour that contrasts most
    with it, so that it stands out on any part of the map (``app/palette.py``)."""
    _polyline(draw, pts, _rgb(palette.halo(color), alpha * 3 // 4), width + 2 * halo)
    _polyline(draw, pts, _rgb(color, alpha), width)


def _clipped(target: Image.Image, layer: Image.Image, layout: Layout) -> None:
    """Composite ``layer`` onto ``target`` inside the surface panel only."""
    box = layout.plot
    target.alpha_composite(layer.crop(box), dest=box[:2])


def _star(draw: ImageDraw.ImageDraw, u: float, v: float, r: float, line: int) -> None:
    pts = [
        (
            u + (r if i % 2 == 0 else r * 0.45) * math.sin(i * math.pi / 5),
            v - (r if i % 2 == 0 else r * 0.45) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(pts, fill=(255, 255, 255, 255), outline=(0, 0, 0, 255), width=line)


def background(
    result: Result, image: SurfaceImage, title: str = "", layout: Layout | None = None
) -> Image.Image:
    """Everything that does not move: the surface at the picture's resolution, axes, every
    path faint, the minima and the legend."""
    layout = layout or Layout()
    canvas = Canvas(image.extent, layout)
    n = layout.n
    base = Image.new("RGBA", layout.size, (255, 255, 255, 255))
    w, h = canvas.r - canvas.l, canvas.b - canvas.t
    line = max(1, round(layout.scale / 1.5))  # contour lines as wide, to the eye, as at 1x
    surface = surface_image.picture_at(result.surface, w, h, image, line=line)
    base.paste(surface.convert("RGBA"), (canvas.l, canvas.t))
    draw = ImageDraw.Draw(base, "RGBA")
    small, font = layout.font(12), layout.font(14)
    draw.rectangle(layout.plot, outline=(60, 60, 60, 255), width=n(1))
    for x in _ticks(canvas.x0, canvas.x1):
        u = canvas.px(np.array([x, canvas.y0]))[0]
        draw.line([(u, canvas.b), (u, canvas.b + n(5))], fill=(60, 60, 60, 255), width=n(1))
        draw.text((u, canvas.b + n(8)), f"{x:g}", fill=(40, 40, 40, 255), font=small, anchor="mt")
    for y in _ticks(canvas.y0, canvas.y1):
        v = canvas.px(np.array([canvas.x0, y]))[1]
        draw.line([(canvas.l - n(5), v), (canvas.l, v)], fill=(60, 60, 60, 255), width=n(1))
        draw.text((canvas.l - n(8), v), f"{y:g}", fill=(40, 40, 40, 255), font=small, anchor="rm")
    s = result.surface
    title = title or f"{s.title}"
    draw.text((canvas.l, n(12)), title, fill=(20, 20, 20, 255), font=layout.font(16))
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    paths = ImageDraw.Draw(layer, "RGBA")
    names, colors = labels.of(result)
    for a, color in enumerate(colors):
        for k in range(result.position.shape[1]):
            pts = canvas.px(s.project(result.position[a, k]))
            _haloed(paths, pts, color, n(2), max(1, n(0.5)), alpha=110)
    for m in np.asarray(s.minima).reshape(-1, s.dim):
        _star(paths, *canvas.px(s.project(m)), r=n(9), line=n(1))
    _clipped(base, layer, layout)
    y = canvas.t
    for a, (name, color) in enumerate(zip(names, colors, strict=True)):
        box = (LEGEND_X, y + 3, LEGEND_X + 14, y + 17)
        draw.rectangle(
            tuple(n(v) for v in box), fill=_rgb(color), outline=_rgb(palette.halo(color))
        )
        label = name
        if (result.diverged_step[a] >= 0).any():
            label += f" (diverged at {int(result.diverged_step[a].max())})"
        at = (n(LEGEND_X + 22), n(y + 10))
        draw.text(at, label, fill=(30, 30, 30, 255), font=font, anchor="lm")
        y += 24
    return base


def frame(
    result: Result,
    image: SurfaceImage,
    index: int,
    base: Image.Image | None = None,
    layout: Layout | None = None,
):
    """The picture of frame ``index`` (paths up to it, current points on top)."""
    layout = layout or Layout()
    base = base if base is not None else background(result, image, layout=layout)
    n = layout.n
    out = base.copy()
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer, "RGBA")
    canvas = Canvas(image.extent, layout)
    s = result.surface
    for a, color in enumerate(labels.of(result)[1]):
        edge = _rgb(palette.halo(color))
        for k in range(result.position.shape[1]):
            trail = canvas.px(s.project(result.position[a, k, : index + 1]))
            _haloed(draw, trail, color, n(3), max(1, n(0.75)))
            start = trail[0]
            draw.rectangle(
                (*(start - n(5)), *(start + n(5))),
                fill=(255, 255, 255, 255),
                outline=_rgb(color),
                width=n(2),
            )
            u, v = trail[-1]
            if np.isfinite(u) and np.isfinite(v):
                r = n(7)
                draw.ellipse((u - r - n(1), v - r - n(1), u + r + n(1), v + r + n(1)), fill=edge)
                draw.ellipse(
                    (u - r, v - r, u + r, v + r),
                    fill=_rgb(color),
                    outline=(255, 255, 255, 255),
                    width=n(2),
                )
            if 0 <= result.diverged_step[a, k] <= result.steps[index]:
                r = n(8)
                draw.line((u - r, v - r, u + r, v + r), fill=(214, 39, 40, 255), width=n(3))
                draw.line((u - r, v + r, u + r, v - r), fill=(214, 39, 40, 255), width=n(3))
    _clipped(out, layer, layout)
    draw = ImageDraw.Draw(out, "RGBA")
    draw.text(
        (layout.plot[2], layout.plot[1] - n(8)),
        f"step {int(result.steps[index])}",
        fill=(20, 20, 20, 255),
        font=layout.font(14),
        anchor="rb",
    )
    return out.convert("RGB")


def png(
    result: Result, image: SurfaceImage, index: int = -1, scale: float = DEFAULT_SCALE
) -> bytes:
    """Frame ``index`` (default: the last) as a PNG, 880 x 620 px times ``scale``."""
    layout = Layout(check_scale(scale))
    index = index % len(result.steps)
    buf = io.BytesIO()
    frame(result, image, index, layout=layout).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def gif(
    result: Result,
    image: SurfaceImage,
    frames: int = 100,
    fps: int = 20,
    scale: float = DEFAULT_SCALE,
) -> bytes:
    """An animated GIF of the run with at most ``frames`` frames (evenly spaced, last held),
    880 x 620 px times ``scale``."""
    layout = Layout(check_scale(scale))
    n = len(result.steps)
    picks = np.unique(np.linspace(0, n - 1, min(n, frames)).round().astype(int))
    base = background(result, image, layout=layout)
    # One palette for every frame (from the background plus the optimizer colours), no
    # dithering: frames differ only where the paths move, which GIF stores compactly.
    sample = frame(result, image, int(picks[-1]), base, layout)
    colours = sample.quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    pictures = [
        frame(result, image, int(i), base, layout).quantize(
            palette=colours, dither=Image.Dither.NONE
        )
        for i in picks
    ]
    durations = [int(1000 / fps)] * len(pictures)
    durations[-1] = 1500
    buf = io.BytesIO()
    pictures[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=durations,
        loop=0,
        optimize=True,
        disposal=1,
    )
    return buf.getvalue()
