"""PNG and GIF exports: slide-sized, the surface drawn at the picture's resolution, and paths
that stand out (default colours with WCAG contrast >= 3 against both ends of the colour map,
and a halo).

The contrast is computed here from WCAG 2's definitions (relative luminance of linearised
sRGB, ratio (L1 + 0.05) / (L2 + 0.05)), checked on known values, not with the app's helper.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from app import palette, raster, surface_image
from trajectories import Experiment, OptimizerSpec, run


def luminance(hex_color: str) -> float:
    """WCAG 2.x relative luminance (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance)."""
    c = np.array([int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]) / 255.0
    lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def ratio(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hex_of(rgb) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def test_the_contrast_formula_on_known_values():
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WCAG's 4.5 example
    assert luminance("#808080") == pytest.approx(0.2159, abs=1e-4)


def test_every_default_colour_stands_out_on_both_ends_of_the_map():
    darkest, lightest = hex_of(surface_image.VIRIDIS[0]), hex_of(surface_image.VIRIDIS[-1])
    assert (darkest, lightest) == ("#440154", "#fde725")  # viridis, as the surface is drawn
    assert len(palette.PALETTE) == 10 and len(set(palette.PALETTE)) == 10
    for color in palette.PALETTE:
        assert ratio(color, darkest) >= 3, (color, ratio(color, darkest))
        assert ratio(color, lightest) >= 3, (color, ratio(color, lightest))


def test_default_colours_are_told_apart():
    """At one luminance hues come closer: still at least 0.07 apart in Oklab (a just noticeable
    difference is about 0.02), every pair."""

    def oklab(hex_color: str) -> np.ndarray:
        c = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
        lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        lms = np.cbrt(
            np.array(
                [
                    [0.4122214708, 0.5363325363, 0.0514459929],
                    [0.2119034982, 0.6806995451, 0.1073969566],
                    [0.0883024619, 0.2817188376, 0.6299787005],
                ]
            )
            @ lin
        )
        return (
            np.array(
                [
                    [0.2104542553, 0.7936177850, -0.0040720468],
                    [1.9779984951, -2.4285922050, 0.4505937099],
                    [0.0259040371, 0.7827717662, -0.8086757660],
                ]
            )
            @ lms
        )

    for a, b in itertools.combinations(palette.PALETTE, 2):
        assert np.linalg.norm(oklab(a) - oklab(b)) > 0.07, (a, b)


def test_the_halo_contrasts_with_its_path():
    for color in (*palette.PALETTE, "#000080", "#ffff00", "#1f77b4"):
        halo = palette.halo(color)
        assert halo in ("#000000", "#ffffff")
        assert ratio(color, halo) >= max(ratio(color, "#000000"), ratio(color, "#ffffff")) - 1e-9


# ---- the pictures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def still():
    """A run that barely moves (its marks cover a few hundred pixels): the rest of the panel
    is the surface alone."""
    e = Experiment(
        surface="rosenbrock",
        optimizers=(OptimizerSpec("SGD", {"learning_rate": 1e-9}),),
        starts=((-1.5, 2.0),),
        steps=3,
    )
    r = run(e)
    return r, surface_image.render(r.surface)


def _panel(png: bytes, scale: float) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        rgb = np.asarray(im.convert("RGB"), np.int32)
    left, top, right, bottom = (round(v * scale) for v in raster.PLOT)
    return rgb[top + 2 : bottom - 1, left + 2 : right - 1]  # inside the frame line


def _classify(panel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: the nearest of the bands' colours (0-23) and their contour-line colours
    (24-47), and how far from it (largest channel difference)."""
    bands = surface_image.VIRIDIS[np.arange(surface_image.BANDS) * 255 // (surface_image.BANDS - 1)]
    colours = np.concatenate([bands, (bands * 0.72).astype(np.uint8)]).astype(np.int32)
    d = np.abs(panel.reshape(-1, 3)[:, None, :] - colours[None]).max(-1)
    return d.argmin(1), d.min(1)


@pytest.mark.parametrize(
    ("scale", "size"), [(None, (1760, 1240)), (1, (880, 620)), (3, (2640, 1860))]
)
def test_png_size_and_sharp_contours(still, scale, size):
    r, picture = still
    png = raster.png(r, picture) if scale is None else raster.png(r, picture, scale=scale)
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == size
    nearest, distance = _classify(_panel(png, size[0] / raster.WIDTH))
    # drawn at this resolution: every pixel a band or a contour line (a picture resized from
    # the app's 256 x 256 one blends bands at every contour: 43% of the pixels at 2x)
    assert np.mean(distance > 2) < 0.01
    # contour lines thin (1 px at 2x, 2 px at 3x): 6-9% of the panel; the app's picture
    # enlarged pixel by pixel has blocks of lines over 23% of it
    lines = np.mean((nearest >= surface_image.BANDS) & (distance <= 2))
    assert 0.02 < lines < (0.10 if size[0] > 1600 else 0.15)


def test_a_bad_scale_is_named(still):
    r, picture = still
    for bad in (0.5, 5, float("nan"), True):
        with pytest.raises(ValueError, match="scale must be"):
            raster.png(r, picture, scale=bad)


def test_paths_have_a_halo(still):
    """Beside a drawn trail, the halo colour (black for the default blue) edges the path."""
    e = Experiment(
        surface="rosenbrock",
        optimizers=(OptimizerSpec("Adam", {"learning_rate": 0.05}),),
        starts=((-1.5, 2.0),),
        steps=60,
    )
    r = run(e)
    png = raster.png(r, still[1], scale=2)
    panel = _panel(png, 2)
    blue = np.array([int(palette.PALETTE[0][i : i + 2], 16) for i in (1, 3, 5)])
    on_path = np.all(np.abs(panel - blue) <= 2, axis=-1)
    assert on_path.sum() > 200
    ys, xs = np.nonzero(on_path)
    # around the path, within the halo's width: pixels much darker than any viridis band
    near = panel[np.clip(ys + 4, 0, panel.shape[0] - 1), xs]
    halo = np.all(near < 60, axis=-1) | np.all(np.abs(near - blue) <= 2, axis=-1)
    assert halo.mean() > 0.5


def test_gif_is_slide_sized(still):
    r, picture = still
    gif = raster.gif(r, picture, frames=3)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.size == (1760, 1240) and im.n_frames == 3
