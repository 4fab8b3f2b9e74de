"""JAX's persistent compilation cache, in the app's own cache folder.

Two users: ``app.serve`` compiles the default scene inside :func:`persistent`, so a restarted
server finds that kernel on disk instead of compiling it (measured: a cold run of the default
scene 2.7 s -> 0.75 s; benchmarks/ENGINE_RESULTS.md); and the command line (``app.cli``, off with
``--no-compile-cache``), whose every process starts empty, so a repeated run of one structure
loads its kernel. In the server only the warm-up uses it: an executable loaded from the cache
holds about twice the memory of one compiled in the process (measured: 8 scenes' kernels
+288 MiB loaded against +166 MiB compiled), and a shared server keeps every kernel it runs, so
the scenes visitors ask for are compiled, not loaded; a command-line process is short-lived.
Folder: ``$OPTVIZ_CACHE_DIR/jax``, else ``$XDG_CACHE_HOME/optimizer-visualizer/jax``, else
``~/.cache/optimizer-visualizer/jax``. The engine itself never writes to disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache


def folder() -> Path:
    base = os.environ.get("OPTVIZ_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        base = Path(xdg) / "optimizer-visualizer"
    return Path(base) / "jax"


@contextlib.contextmanager
def persistent() -> Iterator[None]:
    """Compile through the on-disk cache inside the block (without it where it cannot be made)."""
    path = folder()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: compile as usual
        yield
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_enable_compilation_cache", True)
    # JAX decides once per process whether its cache is in use (and then keeps writing to it):
    # reset that decision on the way in and out, or every later kernel of a server went
    # through the cache too (measured: the server's background warm-up wrote its 46 kernels)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", False)
        compilation_cache.reset_cache()
