"""The default colours of optimizer instances, chosen to stand out on the surface's colour map.

Paths are drawn over viridis (``app/surface_image.py``), which runs from dark purple
(#440154) to light yellow (#fde725). WCAG 2's contrast ratio between colours of relative
luminance L1 >= L2 is (L1 + 0.05) / (L2 + 0.05); a ratio of at least 3 against both ends of the
map (the level WCAG asks of graphics) leaves relative luminance between about 0.157 and 0.227.
The ten colours are the hues of matplotlib's "tab10" (blue, orange, green, red, purple, brown,
pink, grey, olive, cyan, in that order, which lessons use as roles) moved to luminance 0.19 in
the Oklab space (same hue, the most chroma that stays in sRGB): every one has a ratio of about
3.5 against both ends.

What no palette can do: a colour of mid luminance has little contrast with the *middle* of the
map (viridis's teal has luminance ~0.2), and ten hues at one luminance are closer to each other
than tab10's (Oklab distance at least 0.075 against 0.113; brown and grey, blue and cyan are
the closest pairs). Static pictures (PNG, GIF) therefore also draw every path with a thin
halo of the more contrasting of black and white (:func:`halo`).

The app's alone: the engine computes without colours (``app/labels.py`` attaches them).
"""

from __future__ import annotations

PALETTE = (
    "#297ebc",  # blue
    "#c05d03",  # orange
    "#098d11",  # green
    "#e23633",  # red
    "#9265bb",  # purple
    "#a36b5f",  # brown
    "#bb529d",  # pink
    "#797979",  # grey
    "#7c7d07",  # olive
    "#068592",  # cyan
)


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb`` (sRGB, linearised)."""
    h = color.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def halo(color: str) -> str:
    """The outline that sets a path of ``color`` apart: black or white, whichever contrasts
    more with it."""
    return "#000000" if contrast(color, "#000000") >= contrast(color, "#ffffff") else "#ffffff"
