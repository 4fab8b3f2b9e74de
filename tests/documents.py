"""The animator's document of an experiment, built the way the page builds it: the engine's
result with the names and colours the page shows (``labels.attach``), the surface picture, and
``payload.build`` of the two. Shared by the tests that read or mount a document."""

from __future__ import annotations

from app import labels, payload, surface_image
from app.surface_image import SurfaceImage
from trajectories import Experiment, Result, run


def built(e: Experiment) -> tuple[Result, SurfaceImage, dict]:
    """``(result, picture, document)`` of ``e``."""
    r = labels.attach(run(e), e)
    image = surface_image.render(r.surface)
    return r, image, payload.build(r, image)


def document(e: Experiment) -> dict:
    return built(e)[2]
