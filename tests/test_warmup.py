"""The server's background warm-up: the kernels it compiles are the ones visitors' scenes use."""

from __future__ import annotations

import itertools

import numpy as np

import surfaces.classic
from app import lessons, live, state, surface_image, warmup
from app.engine_lock import VisitorsFirst
from trajectories import OptimizerSpec, pieces, run
from trajectories.family import family


def test_warmed_kernels_serve_an_added_optimizer_and_a_lesson_without_compiling(monkeypatch):
    chosen = list(itertools.islice(warmup.scenes(), 2))  # the first kinds, on the default surface
    stage = lessons.LESSONS["momentum"].stages[0].experiment
    monkeypatch.setattr(warmup, "scenes", lambda: iter([*chosen, stage]))
    lock = VisitorsFirst(quiet=0.0)
    report = warmup.warm(lock, log=lambda *a, **k: None)
    assert report["scenes"] == 3 and not report["failed"]
    assert not lock.locked()
    run(state.DEFAULT)
    before = pieces.compile_count()
    added = chosen[1].optimizers[0].kind  # a visitor adds it to the default scene
    run(state.DEFAULT.replace(optimizers=(*state.DEFAULT.optimizers, OptimizerSpec(added))))
    run(stage)
    assert pieces.compile_count() == before


def test_every_kind_is_warmed_and_the_budget_stops_it(monkeypatch):
    kinds = {o.kind for e in warmup.scenes() for o in e.optimizers}
    import optimizers

    assert set(optimizers.OPTIMIZERS) <= kinds
    ran = []
    monkeypatch.setattr(warmup, "run", ran.append)
    report = warmup.warm(VisitorsFirst(), budget=-1.0, log=lambda *a, **k: None)
    assert ran == [] and report["scenes"] == 0  # past its budget: nothing more is compiled


def test_after_the_switched_classic_a_page_on_any_other_classic_compiles_nothing():
    """Its scene, picture and live family (``app.serve.warm`` computes them before the server
    answers): what a visitor who picks a new surface would wait for."""
    warmup.switched_classic()
    switched = [n for n in surfaces.classic.SWITCH.names if n != warmup.SWITCHED_CLASSIC]
    assert len(switched) >= 10
    before, grids = pieces.compile_count(), surface_image._grid_fn.cache_info().currsize
    for name in switched[:4]:  # the new-surface benchmark's first picks among them
        e = state.DEFAULT.replace(surface=name)
        r = run(e)
        grid_fn = surface_image._grid_fn(r.surface.fn, r.surface.static_key)
        compiled = grid_fn._cache_size()
        surface_image.render(r.surface)
        assert grid_fn._cache_size() == compiled >= 1  # the warm-up compiled it
        spec = e.optimizers[0]
        name_ = live.live_params(spec.info, spec.values())[0]["name"]
        fam = family(e.replace(optimizers=(spec,)), 0, name_, stride=int(r.stride))
        assert np.isfinite(fam.loss[fam.current, :, 0]).all()
    assert surface_image._grid_fn.cache_info().currsize == grids
    assert pieces.compile_count() == before


def test_the_warmup_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("OPTVIZ_BACKGROUND_WARMUP", "0")
    assert warmup.start(VisitorsFirst()) is None


def test_the_persistent_cache_is_used_inside_its_block_only(monkeypatch, tmp_path):
    """A server's visitors' kernels are compiled, not loaded (an executable loaded from the
    cache holds about twice the memory): only the block's compiles reach the folder."""
    import jax
    import jax.numpy as jnp

    from app import jax_cache

    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path))

    def entries() -> int:
        return len(list((tmp_path / "jax").glob("*-cache")))

    with jax_cache.persistent():
        jax.jit(lambda x: x * 2.5 + 1.25)(jnp.ones(3))
    inside = entries()
    assert inside >= 1
    jax.jit(lambda x: x * 3.5 - 7.25)(jnp.ones(5))  # after the block: not written
    assert entries() == inside
    with jax_cache.persistent():  # and a second block writes again
        jax.jit(lambda x: x * 9.5 - 7.75)(jnp.ones(5))
    assert entries() > inside
