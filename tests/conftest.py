"""Test-wide JAX settings: float64 available, and two CPU devices so sharded sweeps are tested."""

import os
import tempfile

# Must be set before JAX initialises its backends.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The command line's compilation cache (app/jax_cache.py) goes to a scratch folder, not ~/.cache.
os.environ.setdefault("OPTVIZ_CACHE_DIR", tempfile.mkdtemp(prefix="optviz-cache-"))

import jax

jax.config.update("jax_enable_x64", True)

# The real-browser fixture, registered once for the whole session (a fixture imported into
# several test modules would be a separate instance per module: two Playwright drivers in one
# process).
from tests.browser import browser, close_pages  # noqa: E402, F401
