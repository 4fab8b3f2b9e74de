"""Load and isolation, small: the checks of ``benchmarks/load.py`` at a size the suite can run.

One app server on 127.0.0.1 for the module. Four browser contexts open at once, each on the
share link of a different scene; every one must plot exactly its own scene's engine result (the
scenes come in pairs that share a surface and a compiled kernel but differ in learning rates,
start points and seeds, so a result served from the wrong cache entry or session would show).
Then one session reruns 30 times (the Seed input, from the keyboard) and the server's RSS must
not grow beyond ``load.SOAK_MARGIN_MIB`` after the first reruns. The full figures (20 sessions,
500 reruns, responsiveness, memory after the load) are in ``benchmarks/LOAD_RESULTS.md``.
"""

from __future__ import annotations

import time

import pytest

from benchmarks import load
from trajectories import Experiment, OptimizerSpec

pytestmark = pytest.mark.slow

RERUNS = 30
WARMUP_RERUNS = 10


def _pair(surface: str, starts: tuple, first: int) -> list[Experiment]:
    """Two scenes on one surface with the same optimizer kinds (one compiled kernel) and
    different learning rates, start points, seeds and names."""
    out = []
    for k, (lr_adam, lr_sgd) in enumerate(((0.05, 0.02), (0.2, 0.002))):
        i = first + k
        out.append(
            Experiment(
                surface=surface,
                optimizers=(
                    OptimizerSpec("Adam", {"learning_rate": lr_adam}, name=f"Adam #{i}"),
                    OptimizerSpec("SGD", {"learning_rate": lr_sgd}, name=f"SGD #{i}"),
                ),
                starts=(starts[k],),
                steps=200,
                noise=0.1,
                seed=10 + i,
            )
        )
    return out


SCENES = [
    *_pair("himmelblau", ((1.0, -2.0), (-3.0, 3.5)), 0),
    *_pair("booth", ((-5.0, -5.0), (6.0, -7.5)), 2),
]


@pytest.fixture(scope="module")
def server():
    with load.Server(probe=False) as s:
        yield s


def test_concurrent_sessions_each_get_their_own_result(browser, server):
    for e in SCENES:
        assert load.decoded(load.link(e)).to_json() == e.to_json()
    refs = [load.reference(e) for e in SCENES]
    for i, a in enumerate(refs):
        for b in refs[i + 1 :]:
            assert a.differs_from(b)  # so a path from another session cannot pass
    results = load.run_concurrent(browser, server.url, SCENES, refs, timeout=75)
    spread = max(r.started for r in results) - min(r.started for r in results)
    assert spread < 10, f"the sessions did not overlap: opened over {spread:.1f} s"
    for r in results:
        assert r.ok, f"session {r.index}: {r.why} (errors: {r.errors[:3]})"
        assert r.url_kept and not r.foreign
    assert len({r.doc_id for r in results}) == len(SCENES)
    assert server.alive() and load.health_ms(server.url) is not None


def test_reruns_do_not_grow_the_server(browser, server):
    refs = {seed: load.reference(load.soak_scene(seed)) for seed in load.SOAK_SEEDS}
    soak = load.run_soak(
        browser, server, RERUNS, refs, every=WARMUP_RERUNS, deadline=time.monotonic() + 75
    )
    assert not soak.error, soak.error
    assert soak.reruns == RERUNS and not soak.foreign
    assert all(ok for _, ok, _, _ in soak.checks), soak.checks
    growth, _ = load.soak_growth(soak.samples, WARMUP_RERUNS)
    print(f"server RSS (rerun, MiB): {[(k, round(m, 1)) for k, m in soak.samples]}")
    assert growth <= load.SOAK_MARGIN_MIB, f"RSS grew {growth:.1f} MiB: {soak.samples}"
