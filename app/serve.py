"""Start the web app with the engine warmed up: ``python -m app.serve [streamlit options]``.

``streamlit run app/main.py`` works too; this launcher first computes the default scene in
the server's own process (imports, tracing, compiling: a few seconds), so the first visitor
does not wait for them, starts a background thread that compiles the kernels most visitors
need next (every optimizer kind on the default surface, the lessons' scenes: ``app.warmup``,
its time and memory budget there), and hands over to Streamlit's command line in the same
process, which answers at once.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parent / "main.py"


def warm() -> float:
    """Run the default scene through the engine, the surface picture and the payload; then the
    classics' switch (``app.warmup.switched_classic``), so that a visitor's first pick of a
    classic surface, the sidebar's first box, compiles nothing."""
    start = time.perf_counter()
    import trajectories  # first: XLA flags before JAX starts
    from app import jax_cache, payload, state, surface_image, warmup

    with jax_cache.persistent():
        r = trajectories.run(state.DEFAULT)
        picture = surface_image.render(r.surface)
        warmup.switched_classic()
    payload.build(r, picture)
    return time.perf_counter() - start


def prepare() -> float:
    """Warm up, then move everything alive (modules, JAX's traced programs) out of the garbage
    collector's sight: a full collection holds the GIL while it walks every tracked object,
    which stalled all sessions for up to 1.5 s under load (benchmarks/RESULTS.md)."""
    seconds = warm()
    gc.collect()
    gc.freeze()
    return seconds


def main(argv: list[str] | None = None) -> None:
    seconds = prepare()
    print(f"Engine warmed up in {seconds:.1f} s; starting the app.", flush=True)
    from app import compute, warmup

    warmup.start(compute._ENGINE)  # one engine computation at a time
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
