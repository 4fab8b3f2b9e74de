"""The app server as ``python -m app.serve`` starts it, plus a heap probe for benchmarks/load.py.

    BENCH_HEAP_FILE=PATH python -m benchmarks.heap_probe [streamlit options]

On ``SIGUSR1`` the server runs ``gc.collect()`` and glibc's ``malloc_trim(0)`` and appends one
JSON line to ``$BENCH_HEAP_FILE``: the heap in use and the freed memory glibc still keeps
(``mallinfo2``), in MiB. The RSS alone cannot tell memory in use from memory freed but kept.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal

from app import serve


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]  # fmt: skip


def heap() -> dict[str, float]:
    """glibc's view of this process's heap, MiB: in use, and free but kept."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    m = libc.mallinfo2()
    return {"heap_used": (m.uordblks + m.hblkhd) / 2**20, "heap_free": m.fordblks / 2**20}


def collect_and_trim() -> dict[str, float]:
    collected = gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return {**heap(), "collected": collected}


def report(signum, frame) -> None:  # runs in the main thread, between two bytecodes
    with open(os.environ["BENCH_HEAP_FILE"], "a") as out:
        out.write(json.dumps(collect_and_trim()) + "\n")


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, report)
    serve.main()
