"""Snapshots: an experiment, the library versions and its results, in one JSON file.

Schema ``optimizer-visualizer.snapshot``, version 1::

    {
      "schema": "optimizer-visualizer.snapshot",
      "version": 1,
      "versions": {"app": ..., "python": ..., "jax": ..., "optax": ..., "numpy": ...},
      "experiment": {... Experiment.to_dict() ...},
      "result": {
        "stride": 1,
        "arrays": {NAME: {"dtype": "float32", "shape": [..], "data": BASE64}, ...}
      },
      "sha256": HEX
    }

A run with an optimizer made in Python (``optimizers.from_optax``) also has ``"python_only":
[NAME, ...]``: its name and arguments are in ``experiment`` but its code is in no file, so
:func:`replay` refuses it and a process that does not define it cannot load the file.

Arrays are little-endian, C order, base64-encoded. NAME is one of ``steps``, ``position``,
``loss``, ``grad``, ``update``, ``lr``, ``diverged_step``, ``hit_step``, ``final_loss``,
``loss_auc``, ``settled_step``, ``evaluations`` (optional: older files lack it),
``state/<instance>/<field>`` and ``ema/<instance>``; and, when the run was saved
with its sharpness (``run --sharpness``; all three or none),
``sharpness`` and ``preconditioned_sharpness`` (``[instance, start, record]``, NaN where an
optimizer has no preconditioner) and ``sharpness_threshold`` (``[instance, record]``, NaN where
none is known): see :mod:`trajectories.sharpness`. Files without them load as before. ``sha256``
is the digest of the canonical JSON (sorted keys, no spaces) of everything else: a file edited
by hand is refused as tampered.

``experiment`` is the description, labels included (names, colours, instances switched off);
the arrays are those of its enabled instances, in order (``<instance>`` counts those). Keying
runs by their computation (names and colours apart) left this format as it was: version 1,
read as it always was (``tests/data/snapshot_main_c714740*.json`` were saved before that
change). What a run records of an optimizer's state follows the optimizer's declaration, which
may drop or add a field: :func:`differences` compares the state fields both files have, so a
file need not be migrated for that; a format change would bump ``VERSION`` and convert the
older documents in :func:`loads` before validation.

Loading validates everything (size, JSON, schema, version, experiment, every array's dtype,
shape and byte count against the experiment) and rejects a bad file with a one-line
``SnapshotError`` reason. Never pickle, never eval.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import optimizers
from trajectories import sharpness as sharpness_of
from trajectories.experiment import Experiment
from trajectories.run import Result, run

SCHEMA = "optimizer-visualizer.snapshot"
VERSION = 1
MAX_BYTES = 64 * 2**20  # a snapshot file (JSON text) may not exceed this
DTYPES = {"float32", "float64", "int32", "int64"}
_SCALAR_FIELDS = ("position", "loss", "grad", "update", "lr")
_SUMMARY_FIELDS = ("diverged_step", "hit_step", "final_loss", "loss_auc", "settled_step")
# optional: a run saved with its sharpness (trajectories/sharpness.py) has all three
SHARPNESS_FIELDS = ("sharpness", "preconditioned_sharpness", "sharpness_threshold")

# Newer summaries, absent from files saved before them: read when present, compared when both
# files have them (loss-and-gradient evaluations, more than the steps with a line search)
_OPTIONAL_SUMMARY = ("evaluations",)


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded; the message is the one-line reason."""


def library_versions() -> dict[str, str]:
    out = {"app": "0.1.0", "python": platform.python_version()}
    for pkg in ("jax", "jaxlib", "optax", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "unknown"
    return out


def python_only(experiment: Experiment) -> list[str]:
    """The optimizers of ``experiment`` made in Python (``optimizers.from_optax``), by name."""
    return sorted({o.kind for o in experiment.optimizers if o.info.python_only})


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@dataclasses.dataclass
class Snapshot:
    experiment: Experiment
    versions: dict[str, str]
    stride: int
    arrays: dict[str, np.ndarray]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return (
            self.experiment.to_dict() == other.experiment.to_dict()
            and self.versions == other.versions
            and self.stride == other.stride
            and self.arrays.keys() == other.arrays.keys()
            and all(_same_array(a, other.arrays[k]) for k, a in self.arrays.items())
        )

    def to_result(self) -> Result:
        """The stored results as a :class:`Result` of the experiment's computation (no
        re-computation)."""
        e = self.experiment
        a = self.arrays
        n = len(e.active())
        state = [
            {k.split("/")[2]: v for k, v in a.items() if k.startswith(f"state/{i}/")}
            for i in range(n)
        ]
        ema = {int(k.split("/")[1]): v for k, v in a.items() if k.startswith("ema/")}
        return Result(
            computation=e.computation(),
            surface=e.build_surface(),
            steps=a["steps"],
            **{k: a[k] for k in _SCALAR_FIELDS + _SUMMARY_FIELDS},
            state=state,
            ema=ema,
            stride=self.stride,
            **{k: a.get(k) for k in _OPTIONAL_SUMMARY},
        )

    def sharpness(self) -> sharpness_of.Sharpness | None:
        """The stored sharpness (None: saved without it)."""
        a = self.arrays
        if "sharpness" not in a:
            return None
        specs = self.experiment.computation().experiment.optimizers
        return sharpness_of.Sharpness(
            a["sharpness"],
            a["preconditioned_sharpness"],
            a["sharpness_threshold"],
            tuple(sharpness_of.bound_of(spec) for spec in specs),
        )


def from_result(
    result: Result, experiment: Experiment, sharpness: sharpness_of.Sharpness | None = None
) -> Snapshot:
    """A snapshot of ``result``, recording ``experiment``: the description it is a run of, with
    its names and colours (``result.experiment``, the computation, has none); and the run's
    ``sharpness`` when given."""
    if experiment.computation() != result.computation:
        raise ValueError("snapshot: the result is not a run of this experiment")
    arrays = {"steps": np.asarray(result.steps, np.int64)}
    if sharpness is not None:
        arrays["sharpness"] = np.asarray(sharpness.sharpness, np.float64)
        arrays["preconditioned_sharpness"] = np.asarray(sharpness.preconditioned, np.float64)
        arrays["sharpness_threshold"] = np.asarray(sharpness.threshold, np.float64)
    for k in _SCALAR_FIELDS + _SUMMARY_FIELDS:
        arrays[k] = np.asarray(getattr(result, k))
    for k in _OPTIONAL_SUMMARY:
        if getattr(result, k) is not None:
            arrays[k] = np.asarray(getattr(result, k))
    for i, fields in enumerate(result.state):
        for f, v in fields.items():
            arrays[f"state/{i}/{f}"] = np.asarray(v)
    for i, v in result.ema.items():
        arrays[f"ema/{i}"] = np.asarray(v)
    return Snapshot(experiment, library_versions(), result.stride, arrays)


# ---- encoding ----------------------------------------------------------------------------------
def _encode(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a)
    dtype = a.dtype.newbyteorder("<")
    return {
        "dtype": a.dtype.name,
        "shape": list(a.shape),
        "data": base64.b64encode(a.astype(dtype).tobytes()).decode("ascii"),
    }


def _canonical(doc: dict) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def dumps(snapshot: Snapshot) -> str:
    doc = {
        "schema": SCHEMA,
        "version": VERSION,
        "versions": snapshot.versions,
        "experiment": snapshot.experiment.to_dict(),
        "result": {
            "stride": snapshot.stride,
            "arrays": {k: _encode(v) for k, v in sorted(snapshot.arrays.items())},
        },
    }
    made_in_python = python_only(snapshot.experiment)
    if made_in_python:  # recorded as such: replay refuses, another process cannot load it
        doc["python_only"] = made_in_python
    doc["sha256"] = hashlib.sha256(_canonical(doc)).hexdigest()
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)


def save(
    result_or_snapshot: Result | Snapshot,
    path: str | Path,
    experiment: Experiment | None = None,
    sharpness: sharpness_of.Sharpness | None = None,
) -> Path:
    """Write a snapshot; a result is recorded with ``experiment`` (see :func:`from_result`),
    which it needs, and its ``sharpness`` when given."""
    snap = result_or_snapshot
    if isinstance(snap, Result):
        if experiment is None:
            raise TypeError("snapshot.save: a result needs the experiment it is a run of")
        snap = from_result(snap, experiment, sharpness)
    path = Path(path)
    path.write_text(dumps(snap))
    return path


# ---- decoding and validation --------------------------------------------------------------------
def _fail(reason: str) -> SnapshotError:
    return SnapshotError(f"snapshot rejected: {reason}")


def _decode(name: str, spec: Any) -> np.ndarray:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise _fail(f"array {name!r} must have exactly dtype, shape and data")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if dtype not in DTYPES:
        raise _fail(f"array {name!r} has unsupported dtype {dtype!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > 6
        or not all(type(d) is int and 0 <= d <= 10**8 for d in shape)
    ):
        raise _fail(f"array {name!r} has an invalid shape {shape!r}")
    if not isinstance(data, str):
        raise _fail(f"array {name!r}: data must be base64 text")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    expected = count * np.dtype(dtype).itemsize
    if expected > MAX_BYTES:
        raise _fail(f"array {name!r} is too large")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _fail(f"array {name!r}: data is not valid base64") from None
    if len(raw) != expected:
        raise _fail(f"array {name!r}: {len(raw)} bytes for shape {shape} ({expected} expected)")
    return np.frombuffer(raw, np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)


def _check_shapes(e: Experiment, dim: int, arrays: dict[str, np.ndarray]) -> None:
    n_inst, n_starts = len(e.active()), max(1, len(e.starts))
    required = {"steps", *_SCALAR_FIELDS, *_SUMMARY_FIELDS}
    missing = sorted(required - set(arrays))
    if missing:
        raise _fail(f"array {missing[0]!r} is missing")
    n_rec = arrays["steps"].shape[0] if arrays["steps"].ndim == 1 else -1
    if n_rec < 1:
        raise _fail("array 'steps' must be one-dimensional and non-empty")
    want = {k: (n_inst, n_starts, n_rec, dim) for k in ("position", "grad", "update", "lr")}
    want["loss"] = (n_inst, n_starts, n_rec)
    want.update({k: (n_inst, n_starts) for k in _SUMMARY_FIELDS})
    present = [k for k in SHARPNESS_FIELDS if k in arrays]
    if present and len(present) < len(SHARPNESS_FIELDS):
        missing = next(k for k in SHARPNESS_FIELDS if k not in arrays)
        raise _fail(f"array {missing!r} is missing (the sharpness arrays come together)")
    if present:
        want["sharpness"] = want["preconditioned_sharpness"] = (n_inst, n_starts, n_rec)
        want["sharpness_threshold"] = (n_inst, n_rec)
    want.update({k: (n_inst, n_starts) for k in _OPTIONAL_SUMMARY if k in arrays})
    for k, shape in want.items():
        if arrays[k].shape != shape:
            raise _fail(f"array {k!r} has shape {list(arrays[k].shape)}, expected {list(shape)}")
    for k, v in arrays.items():
        if k in want or k == "steps":
            continue
        parts = k.split("/")
        ok = (parts[0] == "state" and len(parts) == 3) or (parts[0] == "ema" and len(parts) == 2)
        if not ok or not parts[1].isdigit() or int(parts[1]) >= n_inst:
            raise _fail(f"unknown array {k!r}")
        if v.shape != (n_starts, n_rec, dim):
            raise _fail(f"array {k!r} has shape {list(v.shape)}, expected {[n_starts, n_rec, dim]}")


def loads(text: str | bytes, max_bytes: int = MAX_BYTES) -> Snapshot:
    """Parse and validate a snapshot; any problem is a one-line ``SnapshotError``."""
    if len(text) > max_bytes:
        raise _fail(f"file is {len(text):,} bytes, over the {max_bytes:,}-byte limit")
    if isinstance(text, bytes):
        if text[:2] in (b"\x80\x03", b"\x80\x04", b"\x80\x05"):
            raise _fail("this is a Python pickle; only JSON snapshots are accepted")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("not UTF-8 text (a snapshot is a JSON file)") from None
    try:
        doc = json.loads(text, parse_constant=_no_constants)
    except SnapshotError:
        raise
    except (json.JSONDecodeError, RecursionError, ValueError) as err:
        raise _fail(f"not valid JSON ({str(err).splitlines()[0][:120]})") from None
    if not isinstance(doc, dict):
        raise _fail("the top level must be a JSON object")
    if doc.get("schema") != SCHEMA:
        raise _fail(f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    version = doc.get("version")
    if version != VERSION:
        raise _fail(f"unknown version {version!r} (this app reads version {VERSION})")
    expected_keys = {"schema", "version", "versions", "experiment", "result", "sha256"}
    if "python_only" in doc:  # written only for a run with an optimizer made in Python
        expected_keys.add("python_only")
    if set(doc) != expected_keys:
        extra = sorted(set(doc) ^ expected_keys)
        raise _fail(f"unexpected or missing field {extra[0]!r}")
    digest = doc.pop("sha256")
    if not isinstance(digest, str) or hashlib.sha256(_canonical(doc)).hexdigest() != digest:
        raise _fail("checksum mismatch: the file was modified after it was saved")
    versions = doc["versions"]
    if not isinstance(versions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) < 64 for k, v in versions.items()
    ):
        raise _fail("versions must map names to version strings")
    made_in_python = doc.get("python_only", [])
    if not isinstance(made_in_python, list) or not all(isinstance(k, str) for k in made_in_python):
        raise _fail("python_only must be a list of optimizer names")
    missing = [k for k in made_in_python if k not in optimizers.registry.PYTHON_ONLY]
    if missing:
        raise _fail(
            f"it uses {missing[0]}, an optimizer made in Python (optimizers.from_optax) that "
            "this process does not define; a snapshot carries no code"
        )
    try:
        experiment = Experiment.from_dict(doc["experiment"])
        dim = experiment.build_surface().dim
    except ValueError as err:
        raise _fail(f"experiment: {err}") from None
    res = doc["result"]
    if not isinstance(res, dict) or set(res) != {"stride", "arrays"}:
        raise _fail("result must have exactly stride and arrays")
    stride = res["stride"]
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
        raise _fail("result.stride must be a positive integer")
    if not isinstance(res["arrays"], dict):
        raise _fail("result.arrays must be an object")
    arrays = {str(k): _decode(str(k), v) for k, v in res["arrays"].items()}
    _check_shapes(experiment, dim, arrays)
    return Snapshot(experiment, dict(versions), stride, arrays)


def _no_constants(name: str):
    raise _fail(f"JSON constant {name} is not allowed")


def load(path: str | Path, max_bytes: int = MAX_BYTES) -> Snapshot:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise _fail(f"cannot read {path} ({err.strerror})") from None
    if size > max_bytes:
        raise _fail(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    try:
        data = path.read_bytes()
    except OSError as err:  # a directory, a permission problem...
        raise _fail(f"cannot read {path} ({err.strerror})") from None
    return loads(data, max_bytes)


def differences(a: Snapshot, b: Snapshot) -> list[str]:
    """The names of the arrays that are not identical (missing, other shape, dtype or values).

    An optimizer's state fields are compared where both snapshots record them: what a run
    records of the state follows the optimizer's declaration, which may record a field no
    more (plain Adam's AMSGrad maximum, recorded by older versions) or one more. Every other
    array (positions, losses, gradients, updates, learning rates, EMA weights, summaries) must
    be in both."""

    def compared(k: str) -> bool:
        optional = k.startswith("state/") or k in _OPTIONAL_SUMMARY
        return not optional or (k in a.arrays and k in b.arrays)

    return [
        k
        for k in sorted(set(a.arrays) | set(b.arrays))
        if compared(k)
        and (k not in a.arrays or k not in b.arrays or not _same_array(a.arrays[k], b.arrays[k]))
    ]


def replay(snapshot: Snapshot, result: Result | None = None) -> tuple[Result, list[str]]:
    """Re-run a snapshot's experiment (or take ``result``, a run of it); return the result and
    the arrays that differ from the snapshot's (see :func:`differences`)."""
    e = snapshot.experiment
    made_in_python = python_only(e)
    if made_in_python:
        raise ValueError(
            f"replay: {made_in_python[0]} was made in Python (optimizers.from_optax); a "
            "snapshot records its name and arguments but not its code, so the run cannot be "
            "reproduced from the file"
        )
    result = result if result is not None else run(e)
    # a snapshot saved with its sharpness is compared on it too
    sharp = sharpness_of.of(result) if snapshot.sharpness() is not None else None
    fresh = from_result(result, e, sharp)
    return fresh.to_result(), differences(snapshot, fresh)
