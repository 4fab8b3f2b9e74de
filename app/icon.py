"""The page icon, drawn here: a ``:material/...`` icon would be fetched from Google's servers,
and the app makes no request beyond its own host."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from app.surface_image import VIRIDIS


@functools.cache
def favicon() -> Image.Image:
    """A 64 x 64 picture of a bowl's contour bands with a path into its minimum."""
    n = 64
    y, x = np.mgrid[-1 : 1 : n * 1j, -1 : 1 : n * 1j]
    f = 0.6 * x**2 + 1.6 * (y - 0.3 * x**2) ** 2
    band = np.minimum((f / f.max() * 8).astype(int), 7)
    rgb = VIRIDIS[band * 255 // 7].copy()
    t = np.linspace(0, 1, 40)
    px = (-0.8 * (1 - t) ** 2 + 1) * (n - 1) / 2
    py = ((0.8 - 0.8 * t**1.5) + 1) * (n - 1) / 2
    for u, v in zip(px.astype(int), py.astype(int), strict=True):
        rgb[max(v - 1, 0) : v + 2, max(u - 1, 0) : u + 2] = (255, 255, 255)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")
