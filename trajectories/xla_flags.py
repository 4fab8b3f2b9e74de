"""XLA settings the engine relies on, applied before JAX creates its backend.

On CPU, XLA runs each fused kernel of a while-loop body as a separate "thunk" (about a
microsecond each) unless the whole loop is small enough to be compiled into one native function.
The default threshold (1 KiB of estimated memory traffic) excludes our trajectory loops, which
carry the optimizer state, divergence bookkeeping and records: they ran 30x slower than a bare
optax scan. Raising it to 1 MiB compiles them as one function (measured: 8 optimizers x 1000
steps with full recording, 32 ms -> 1 ms; compile time also drops). Loops with matrix products
(the MLP surface) are never hoisted by XLA and are unaffected. See benchmarks/RESULTS.md.

The flag is read once, when JAX initialises its backend: ``apply()`` must run before the first
computation, which importing :mod:`trajectories` does. It appends to ``XLA_FLAGS`` and leaves an
explicit user setting alone.
"""

from __future__ import annotations

import os

SMALL_LOOP_BYTES = 1 << 20
_OPTION = "xla_cpu_small_while_loop_byte_threshold"


def apply() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if _OPTION in flags:
        return
    os.environ["XLA_FLAGS"] = (
        f"{flags} --xla_backend_extra_options={_OPTION}={SMALL_LOOP_BYTES}".strip()
    )
