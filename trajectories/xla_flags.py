"""XLA settings the engine relies on, applied before JAX creates its backend.

On CPU, XLA runs each fused kernel of a while-loop body as a separate "thunk" (about a
microsecond each) unless the whole loop is small enough to be compiled into one native function.
The default threshold (1 KiB of estimated memory traffic) excludes our trajectory loops, which
carry the optimizer state, divergence bookkeeping and records: they ran 30x slower than a bare
optax scan. Raising it to 1 MiB compiles them as one function (measured: 8 optimizers x 1000
steps with full recording, 32 ms -> 1 ms; compile time also drops). Loops with matrix products
(the MLP surface) are never hoisted by XLA and are unaffected. See benchmarks/RESULTS.md.

XLA's CPU backend compiles every fused kernel of a loop that is not hoisted that way as a module
of its own, and its newer MLIR fusion emitters add a fixed lowering cost to each (about 25 ms
a kernel on the shared 2-core machine). The classic elemental emitters
(``xla_cpu_use_fusion_emitters=false``) skip that: a recording MLP piece (337 weights) compiles
in about 35% less CPU time and a 2-D one in about 25% less, and the warm runs measured were no
slower (S4 faster). See benchmarks/RESULTS.md, "Cold compile (2026-12-02)".

The flags are read once, when JAX initialises its backend: ``apply()`` must run before the first
computation, which importing :mod:`trajectories` does. It appends to ``XLA_FLAGS`` and leaves each
explicit user setting alone.
"""

from __future__ import annotations

import os

SMALL_LOOP_BYTES = 1 << 20
_OPTION = "xla_cpu_small_while_loop_byte_threshold"


_EMITTERS = "xla_cpu_use_fusion_emitters"


def apply() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if _OPTION not in flags:
        flags = f"{flags} --xla_backend_extra_options={_OPTION}={SMALL_LOOP_BYTES}"
    if _EMITTERS not in flags:
        flags = f"{flags} --{_EMITTERS}=false"
    os.environ["XLA_FLAGS"] = flags.strip()
