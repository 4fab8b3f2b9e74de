"""A class opening new scenes at once: the chart goes first, the live family and the
minibatch fans right after.

While other visitors wait for the engine, a page whose live family and fans are not made yet
gets its document without them (listed in its ``pending``) and runs again by itself for them
(app/compute.py ``live_document``, app/views.py): their own kernels no longer hold up the
chart. On a quiet server nothing changes: the first document carries them. AppTest runs the
page; each document the animator is given is recorded.
"""

from __future__ import annotations

import numpy as np
import pytest

from app import compute, share
from tests import app_scenarios as sc
from trajectories import Experiment, OptimizerSpec


def _scene(learning_rate: float) -> Experiment:
    """A scene whose family no other test makes (its own learning rate)."""
    return Experiment(
        surface="booth",
        optimizers=(OptimizerSpec("Adam", {"learning_rate": learning_rate}),),
        starts=((1.0, -2.0),),
        steps=120,
        noise=0.1,  # a stochastic gradient: the document draws each optimizer's fan
    )


@pytest.fixture
def documents(monkeypatch):
    """``(family_when, document)`` for every document the page builds."""
    built, real = [], compute.live_document

    def recording(e, a, name, when="now"):
        doc = real(e, a, name, when)
        built.append((when, doc))
        return doc

    monkeypatch.setattr(compute, "live_document", recording)
    return built


def _open(e: Experiment):
    at = sc.page(sc.link_query(share.Scene(e)), cards=False)
    assert not at.exception, [x.value for x in at.exception]
    return at


def test_while_others_wait_for_the_engine_the_chart_goes_first_and_the_family_follows(
    documents, monkeypatch
):
    monkeypatch.setattr(compute._ENGINE, "visitors", lambda: 1)  # another page is computing
    at = _open(_scene(0.0123))
    (when, first), (again, second), *more = documents
    assert when == "if idle" and sorted(first["pending"]) == ["family", "fans"]
    assert first["live"]["family"] is None and first["live"]["note"] == compute.FAMILY_PENDING_NOTE
    assert "fan" not in first["optimizers"][0]
    assert again == "later" and "pending" not in second and not more  # one follow-up
    family = second["live"]["family"]
    assert family is not None and 0.0123 in family["values"]
    assert second["optimizers"][0]["fan"]["shape"][1:] == [16, 2]  # (records, K, 2)
    # the first document already held the whole chart: the same paths the second one shows
    for a, b in zip(first["optimizers"], second["optimizers"], strict=True):
        assert a["path"] == b["path"] and a["loss"] == b["loss"]
    assert first["id"] != second["id"]  # the browser takes the second as new
    shown = sc.doc(at)["live"]  # what the page holds at the end: the family, its sliders
    assert np.allclose(shown["family"]["values"], family["values"])


def test_on_a_quiet_server_the_first_document_carries_the_family(documents):
    _open(_scene(0.0234))
    ((when, doc),) = documents  # no second run
    assert when == "if idle" and "pending" not in doc and "fan" in doc["optimizers"][0]
    assert doc["live"]["family"] is not None and 0.0234 in doc["live"]["family"]["values"]


def test_the_fans_added_to_a_chart_make_the_document_built_whole():
    from app import animator, payload, surface_image
    from trajectories import run

    r = run(_scene(0.05).replace(optimizers=(OptimizerSpec("Adam"), OptimizerSpec("SGD"))))
    picture = surface_image.render(r.surface)
    chart = payload.build(r, picture, fans=False)
    assert payload.has_fans(r) and not any("fan" in o for o in chart["optimizers"])
    whole = animator.ready(payload.build(r, picture))
    assert animator.ready(payload.with_fans(chart, r)) == whole  # same content, same id
    quiet = run(_scene(0.05).replace(noise=0.0))  # no stochastic gradient: nothing to add
    assert not payload.has_fans(quiet)
    built = payload.build(quiet, surface_image.render(quiet.surface), fans=False)
    assert payload.with_fans(built, quiet) is built
