"""How the engine's outputs are packed into few arrays, and the size buckets its kernels are
compiled for (``trajectories/kernel.py``): plain functions of arrays and sizes."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

SUMMARY_FLOATS = ("final_position", "final_loss", "loss_sum")
SUMMARY_INTS = ("diverged", "hit", "settled", "evaluations")
VECTOR_FIELDS = frozenset({"position", "grad", "update", "lr", "final_position"})


def pack(fields: dict, names: tuple[str, ...]) -> jax.Array:
    """Join fields along a new last axis: vectors (``VECTOR_FIELDS``) by their width, scalars
    as one column, all in the first field's dtype."""
    dtype = fields[names[0]].dtype
    cols = [fields[n] if n in VECTOR_FIELDS else fields[n][..., None] for n in names]
    return jnp.concatenate([c.astype(dtype) for c in cols], axis=-1)


def unpack(packed: np.ndarray, names: tuple[str, ...], dim: int) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack`, on the host."""
    out, i = {}, 0
    for n in names:
        if n in VECTOR_FIELDS:
            out[n], i = packed[..., i : i + dim], i + dim
        else:
            out[n], i = packed[..., i], i + 1
    return out


# ---- buckets -------------------------------------------------------------------------------
def bucket(n: int) -> int:
    """Round a size up to the bucket ladder 1, 2, 4, ..., 64, then multiples of 64."""
    if n <= 64:
        return 1 << max(0, math.ceil(math.log2(max(n, 1))))
    return 64 * math.ceil(n / 64)


def pow2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def pad_rows(x: np.ndarray, n: int) -> np.ndarray:
    """Pad the leading axis to ``n`` by repeating the last row (padding is computed, then cut)."""
    if x.shape[0] == n:
        return x
    return np.concatenate([x, np.repeat(x[-1:], n - x.shape[0], axis=0)])
