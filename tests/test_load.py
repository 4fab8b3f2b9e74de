"""Load and isolation, small: the checks of ``benchmarks/load.py`` at a size the suite can run.

One app server on 127.0.0.1 for the module. Four browser contexts open at once, each on the
share link of a different scene; every one must plot exactly its own scene's engine result (the
scenes come in pairs that share a surface and a compiled kernel but differ in learning rates,
start points and seeds, so a result served from the wrong cache entry or session would show).
Then one session reruns 30 times (the Seed input, from the keyboard) and the server's RSS must
not grow beyond ``sessions.SOAK_MARGIN_MIB`` after the first reruns. The checking is
``benchmarks/sessions.py``; the full figures are in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import time
import urllib.request

import pytest

from benchmarks import sessions
from tests.browser import streamlit_process
from trajectories import Experiment, OptimizerSpec

pytestmark = pytest.mark.slow

RERUNS = 30
WARMUP_RERUNS = 10


def _pair(surface: str, starts: tuple, first: int) -> list[Experiment]:
    """Two scenes on one surface with the same optimizer kinds (one compiled kernel) and
    different learning rates, start points and seeds."""
    return [
        Experiment(
            surface=surface,
            optimizers=(
                OptimizerSpec("Adam", {"learning_rate": lr_adam}),
                OptimizerSpec("SGD", {"learning_rate": lr_sgd}),
            ),
            starts=(starts[k],),
            steps=200,
            noise=0.1,
            seed=10 + first + k,
        )
        for k, (lr_adam, lr_sgd) in enumerate(((0.05, 0.02), (0.2, 0.002)))
    ]


SCENES = [
    *_pair("himmelblau", ((1.0, -2.0), (-3.0, 3.5)), 0),
    *_pair("booth", ((-5.0, -5.0), (6.0, -7.5)), 2),
]


@pytest.fixture(scope="module")
def server():
    with streamlit_process(("-m", "streamlit", "run", "app/main.py"), log_name="load") as s:
        yield s


def test_concurrent_sessions_each_get_their_own_result(browser, server):
    for e in SCENES:
        assert sessions.decoded(sessions.link(e)).to_json() == e.to_json()
    refs = [sessions.reference(e) for e in SCENES]
    for i, a in enumerate(refs):
        for b in refs[i + 1 :]:
            assert sessions.differ(a, b)  # so a path from another session cannot pass
    results = sessions.concurrent(browser, server.url, SCENES, refs, timeout=75)
    spread = max(r["started"] for r in results) - min(r["started"] for r in results)
    assert spread < 10, f"the sessions did not overlap: opened over {spread:.1f} s"
    for i, r in enumerate(results):
        assert r["ok"], f"session {i}: {r['why']} (errors: {r['errors'][:3]})"
        assert not r["foreign"]
    assert len({r["doc_id"] for r in results}) == len(SCENES)
    assert server.proc.poll() is None
    with urllib.request.urlopen(server.url + "_stcore/health", timeout=5) as answer:
        assert answer.status == 200


def test_reruns_do_not_grow_the_server(browser, server):
    refs = {seed: sessions.reference(sessions.soak_scene(seed)) for seed in sessions.SOAK_SEEDS}
    soak = sessions.soak(
        browser,
        server.url,
        server.proc.pid,
        RERUNS,
        refs,
        WARMUP_RERUNS,
        deadline=time.monotonic() + 75,
    )
    assert not soak["error"], soak["error"]
    assert soak["reruns"] == RERUNS and not soak["foreign"]
    assert all(soak["checks"]) and len(soak["checks"]) == RERUNS // WARMUP_RERUNS + 1
    growth = sessions.growth(soak["samples"], WARMUP_RERUNS)
    print(f"server RSS (rerun, MiB): {[(k, round(m, 1)) for k, m in soak['samples']]}")
    assert growth <= sessions.SOAK_MARGIN_MIB, f"RSS grew {growth:.1f} MiB: {soak['samples']}"
