"""A warm rerun of the default page: the whole rerun (AppTest) and the project's share of it.

usage: python scripts/warm_rerun.py [REPO] [N]

REPO (default: this checkout) is the code measured, so that two versions can be compared in
one sitting (``git archive REV | tar -x -C DIR``, then this script with DIR). It runs the
default page (six optimizers on Rosenbrock), N warm reruns at 500 and at 5,000 steps (median,
minimum, lower quartile: on a busy machine the minimum is the steadier figure), then times the
pieces of the page's compute path a warm rerun calls, each on its own (medians of 20). The
pieces differ by version: before runs were keyed by their computation (c714740 and earlier),
the page parsed its scene again and the animator cleaned and hashed the document on every
rerun; the figures say what that cost and what is left.
"""

import os
import statistics
import sys
import time

repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__) + "/..")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 21
os.chdir(repo)
sys.path.insert(0, repo)
from streamlit.testing.v1 import AppTest  # noqa: E402

at = AppTest.from_file(os.path.join(repo, "app/main.py"), default_timeout=300)
at.run()
assert not at.exception, at.exception


def rerun(label: str) -> None:
    at.run()  # the first run at a new setting computes; the next ones are warm
    assert not at.exception, at.exception
    times = []
    for _ in range(n):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
    q1 = statistics.quantiles(times, n=4)[0]
    print(
        f"{label}: warm rerun median {1000 * statistics.median(times):.1f} ms "
        f"(min {1000 * min(times):.1f}, lower quartile {1000 * q1:.1f}, n={n})"
    )


def median_ms(fn, k: int = 20) -> float:
    times = []
    for _ in range(k):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


rerun("default page (6 optimizers x 500 steps)")
at.session_state["steps"] = 5000
rerun("default page, 5000 steps")

from app import animator, compute, state  # noqa: E402
from trajectories import Experiment  # noqa: E402

last = at.session_state["last_good"]
e = Experiment.from_json(last)
widgets: dict = {}
state.write(widgets, e)
pieces = {"state.read(widgets)": lambda: state.read(widgets)}
if hasattr(compute, "shown"):  # runs keyed by their computation, labels attached after
    doc = compute.document(e)
    pieces |= {
        "compute.experiment(last_good): a cache hit": lambda: compute.experiment(last),
        "compute.document + compute.shown: cache hits": lambda: (
            compute.document(e),
            compute.shown(e),
        ),
        "animator.prepare(doc): options only": lambda: animator.prepare(doc),
        "(on a miss only) Experiment.from_json(...).computation()": lambda: Experiment.from_json(
            last
        ).computation(),
    }
else:  # c714740 and earlier
    doc = compute.document(e.to_json())
    pieces |= {
        "Experiment.from_json(last_good)": lambda: Experiment.from_json(last),
        "e.to_json() x4: the views' cache keys": lambda: [e.to_json() for _ in range(4)],
        "compute.document + compute.result: cache hits": lambda: (
            compute.document(e.to_json()),
            compute.result(e.to_json()),
        ),
        "animator.prepare(doc): clean + hash": lambda: animator.prepare(doc),
    }
size = len(animator.script_json(animator.prepare(doc))) / 1e6
print(f"scene {len(last)} characters of JSON, {e.steps} steps; document {size:.2f} MB")
for label, fn in pieces.items():
    print(f"  {median_ms(fn):7.2f} ms  {label}")
