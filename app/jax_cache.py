"""JAX's persistent compilation cache, in the app's own cache folder.

Compiled trajectory kernels are written to disk and reused by the next server process, so a
restarted server does not compile the scenes it has seen before (measured: a cold run of the
default scene 2.7 s -> 0.75 s; benchmarks/RESULTS.md). Folder: ``$OPTVIZ_CACHE_DIR`` or
``~/.cache/optimizer-visualizer/jax``. The engine itself never writes to disk: the app turns
this on.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax


def folder() -> Path:
    base = os.environ.get("OPTVIZ_CACHE_DIR") or Path.home() / ".cache" / "optimizer-visualizer"
    return Path(base) / "jax"


def enable() -> None:
    path = folder()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: run without the cache
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
