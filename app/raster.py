"""Still pictures of a run for slides and files: a PNG of one frame, an animated GIF.

Drawn directly with Pillow (about 10 ms a frame; matplotlib animation takes 15x longer): the
surface picture, axes, every path faint, each optimizer's trail up to the frame, start and
current points, minima and a legend. The background is drawn once and copied per frame.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app import labels
from app.surface_image import SurfaceImage
from trajectories import Result

WIDTH, HEIGHT = 880, 620
PLOT = (70, 40, 620, 570)  # left, top, right, bottom of the surface panel
LEGEND_X = 640


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

    def __init__(self, extent):
        self.x0, self.x1, self.y0, self.y1 = extent
        self.l, self.t, self.r, self.b = PLOT

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


def _clipped(target: Image.Image, layer: Image.Image) -> None:
    """Composite ``layer`` onto ``target`` inside the surface panel only."""
    box = PLOT
    target.alpha_composite(layer.crop(box), dest=box[:2])


def _star(draw: ImageDraw.ImageDraw, u: float, v: float, r: float = 9) -> None:
    pts = [
        (
            u + (r if i % 2 == 0 else r * 0.45) * math.sin(i * math.pi / 5),
            v - (r if i % 2 == 0 else r * 0.45) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(pts, fill=(255, 255, 255, 255), outline=(0, 0, 0, 255))


def background(result: Result, image: SurfaceImage, title: str = "") -> Image.Image:
    canvas = Canvas(image.extent)
    base = Image.new("RGBA", (WIDTH, HEIGHT), (255, 255, 255, 255))
    surface = Image.open(io.BytesIO(image.png)).convert("RGBA")
    base.paste(surface.resize((canvas.r - canvas.l, canvas.b - canvas.t)), (canvas.l, canvas.t))
    draw = ImageDraw.Draw(base, "RGBA")
    small, font = _font(12), _font(14)
    draw.rectangle(PLOT, outline=(60, 60, 60, 255))
    for x in _ticks(canvas.x0, canvas.x1):
        u = canvas.px(np.array([x, canvas.y0]))[0]
        draw.line([(u, canvas.b), (u, canvas.b + 5)], fill=(60, 60, 60, 255))
        draw.text((u, canvas.b + 8), f"{x:g}", fill=(40, 40, 40, 255), font=small, anchor="mt")
    for y in _ticks(canvas.y0, canvas.y1):
        v = canvas.px(np.array([canvas.x0, y]))[1]
        draw.line([(canvas.l - 5, v), (canvas.l, v)], fill=(60, 60, 60, 255))
        draw.text((canvas.l - 8, v), f"{y:g}", fill=(40, 40, 40, 255), font=small, anchor="rm")
    s = result.surface
    draw.text((canvas.l, 12), title or f"{s.title}", fill=(20, 20, 20, 255), font=_font(16))
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    paths = ImageDraw.Draw(layer, "RGBA")
    names, colors = labels.of(result)
    for a, color in enumerate(colors):
        for k in range(result.position.shape[1]):
            _polyline(paths, canvas.px(s.project(result.position[a, k])), _rgb(color, 90), 2)
    for m in np.asarray(s.minima).reshape(-1, s.dim):
        _star(paths, *canvas.px(s.project(m)))
    _clipped(base, layer)
    y = canvas.t
    for a, (name, color) in enumerate(zip(names, colors, strict=True)):
        draw.rectangle((LEGEND_X, y + 3, LEGEND_X + 14, y + 17), fill=_rgb(color))
        label = name
        if (result.diverged_step[a] >= 0).any():
            label += f" (diverged at {int(result.diverged_step[a].max())})"
        draw.text((LEGEND_X + 22, y + 10), label, fill=(30, 30, 30, 255), font=font, anchor="lm")
        y += 24
    return base


def frame(result: Result, image: SurfaceImage, index: int, base: Image.Image | None = None):
    """The picture of frame ``index`` (paths up to it, current points on top)."""
    base = base if base is not None else background(result, image)
    out = base.copy()
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer, "RGBA")
    canvas = Canvas(image.extent)
    s = result.surface
    for a, color in enumerate(labels.of(result)[1]):
        for k in range(result.position.shape[1]):
            trail = canvas.px(s.project(result.position[a, k, : index + 1]))
            _polyline(draw, trail, _rgb(color), 3)
            start = trail[0]
            draw.rectangle(
                (*(start - 5), *(start + 5)),
                fill=(255, 255, 255, 255),
                outline=_rgb(color),
                width=2,
            )
            u, v = trail[-1]
            if np.isfinite(u) and np.isfinite(v):
                draw.ellipse(
                    (u - 7, v - 7, u + 7, v + 7),
                    fill=_rgb(color),
                    outline=(255, 255, 255, 255),
                    width=2,
                )
            if 0 <= result.diverged_step[a, k] <= result.steps[index]:
                draw.line((u - 8, v - 8, u + 8, v + 8), fill=(214, 39, 40, 255), width=3)
                draw.line((u - 8, v + 8, u + 8, v - 8), fill=(214, 39, 40, 255), width=3)
    _clipped(out, layer)
    draw = ImageDraw.Draw(out, "RGBA")
    draw.text(
        (PLOT[2], PLOT[1] - 8),
        f"step {int(result.steps[index])}",
        fill=(20, 20, 20, 255),
        font=_font(14),
        anchor="rb",
    )
    return out.convert("RGB")


def png(result: Result, image: SurfaceImage, index: int = -1) -> bytes:
    index = index % len(result.steps)
    buf = io.BytesIO()
    frame(result, image, index).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def gif(result: Result, image: SurfaceImage, frames: int = 100, fps: int = 20) -> bytes:
    """An animated GIF of the run with at most ``frames`` frames (evenly spaced, last held)."""
    n = len(result.steps)
    picks = np.unique(np.linspace(0, n - 1, min(n, frames)).round().astype(int))
    base = background(result, image)
    # One palette for every frame (from the background plus the optimizer colours), no
    # dithering: frames differ only where the paths move, which GIF stores compactly.
    sample = frame(result, image, int(picks[-1]), base)
    palette = sample.quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    pictures = [
        frame(result, image, int(i), base).quantize(palette=palette, dither=Image.Dither.NONE)
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
