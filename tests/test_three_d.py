"""The 3-D panel's data in the document (app/payload.py ``height_grid`` / ``heights``): a
height mesh of the 2-D picture's own grid, on its colour scale, and the rule that lifts the
paths from their loss. Checked against Rosenbrock's formula written out here, not the engine's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app import payload
from tests.documents import built
from trajectories import Experiment, OptimizerSpec


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


@pytest.fixture(scope="module")
def scene():
    e = Experiment(
        surface="rosenbrock",
        optimizers=(
            OptimizerSpec("Adam", {"learning_rate": 0.05}),
            OptimizerSpec("SGD", {"learning_rate": 1e-3}),
        ),
        steps=120,
        starts=((-1.5, 2.0), (1.5, -0.5)),
    )
    return built(e)


def node_grid(doc):
    h = doc["surface"]["height"]
    xs, ys = np.asarray(h["x"]), np.asarray(h["y"])
    return xs, ys, payload.decode(h["z"]).astype(np.float64)


def log_height(f, image):
    """The picture's log colour coordinate, as app/surface_image.py colours it."""
    return np.log10(f - image.floor + image.scale.offset)


def test_the_height_grid_is_a_compact_finite_mesh_of_the_pictures_window(scene):
    _, image, doc = scene
    xs, ys, z = node_grid(doc)
    assert z.shape == (len(ys), len(xs)) and 48 <= len(xs) <= 64 and 48 <= len(ys) <= 64
    assert np.isfinite(z).all()
    x0, x1, y0, y1 = image.extent
    assert (xs[0], xs[-1], ys[0], ys[-1]) == pytest.approx((x0, x1, y0, y1))
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)
    # the nodes are points of the picture's grid: no second evaluation of the loss
    grid_x = np.linspace(x0, x1, image.grid.shape[1])
    assert np.abs(grid_x[:, None] - xs[None, :]).min(0).max() < 1e-6
    # on the colour scale: clipped to the colour bar's range
    assert image.log and z.min() >= image.vmin - 1e-3 and z.max() <= image.vmax + 1e-3
    assert len(json.dumps(doc["surface"]["height"])) < 30_000  # the 3-D panel's bytes


def test_a_higher_loss_is_a_higher_node(scene):
    _, image, doc = scene
    xs, ys, z = node_grid(doc)
    xx, yy = np.meshgrid(xs, ys)
    f = rosenbrock(xx, yy)
    shown = np.clip(log_height(f, image), image.vmin, image.vmax)
    # each node stands for its block and takes its lowest value: never above the formula there
    assert np.all(z <= shown + 2e-3)
    # ...nor below the formula's lowest value on the picture's grid points within one node
    # spacing of it (the block a node stands for lies inside)
    x0, x1, y0, y1 = image.extent
    gy, gx = (
        np.linspace(lo, hi, n)
        for lo, hi, n in ((y0, y1, image.grid.shape[0]), (x0, x1, image.grid.shape[1]))
    )
    fine = rosenbrock(*np.meshgrid(gx, gy))
    dx, dy = np.diff(xs).max() + 1e-9, np.diff(ys).max() + 1e-9
    lowest = np.array(
        [[fine[np.abs(gy - y) <= dy][:, np.abs(gx - x) <= dx].min() for x in xs] for y in ys]
    )
    assert np.all(z >= np.clip(log_height(lowest, image), image.vmin, image.vmax) - 2e-3)
    # a point with a higher loss is a higher point: ranks agree over the whole mesh
    rank = lambda v: np.argsort(np.argsort(v.ravel()))  # noqa: E731
    inside = (shown > image.vmin + 0.05) & (shown < image.vmax - 0.05)
    assert np.corrcoef(rank(f[inside]), rank(z[inside]))[0, 1] > 0.98
    low, high = np.unravel_index(np.argmin(f), f.shape), np.unravel_index(np.argmax(f), f.shape)
    assert z[low] < z[high]


def test_heights_are_strictly_monotone_in_the_colour_range_and_clipped_outside(scene):
    _, image, _ = scene
    f = image.floor + np.logspace(-1, 3, 30)
    h = payload.heights(f, image)
    assert np.all(np.diff(h) >= 0)
    inside = (h > image.vmin) & (h < image.vmax)
    assert inside.sum() > 20 and np.all(np.diff(h[inside]) > 0)
    assert payload.heights(np.array([np.nan, np.inf, 1e30]), image).tolist() == [image.vmax] * 3


def test_path_heights_follow_the_grids_rule_at_the_path_points(scene):
    _, image, doc = scene
    for o in doc["optimizers"]:
        pos = payload.decode(o["path"]).astype(np.float64)  # (S, R, 2)
        loss = payload.decode(o["loss"]).astype(np.float64)
        from_doc = payload.heights(loss, image)  # what the browser computes from the loss
        from_formula = np.clip(
            log_height(rosenbrock(pos[..., 0], pos[..., 1]), image), image.vmin, image.vmax
        )
        np.testing.assert_allclose(from_doc, from_formula, atol=2e-3)


def test_the_html_export_shared_from_the_3d_view_plays_its_3d_panel():
    import re

    from app import share_view

    e = Experiment(
        surface="rosenbrock", optimizers=(OptimizerSpec("Adam", {"learning_rate": 0.05}),), steps=40
    )

    def data(page: str) -> dict:
        (text,) = re.findall(r'id="optviz-data">(.*?)</script>', page)
        return json.loads(text)

    shared = data(share_view._html(e, three_d=True))
    assert shared["options"]["show"] == ["surface3d"] and "height" in shared["surface"]
    assert "show" not in data(share_view._html(e))["options"]  # from Paths: as before
