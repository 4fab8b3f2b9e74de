"""Files out of the engine: a run's :class:`~trajectories.run.Result` and the sweeps' results.

Results go through :func:`export` (``export(result, path)``), which picks the writer from the
file's suffix in :data:`EXPORTERS`: one function per suffix, each taking ``(result, path)``
(pictures also ``scale=``). Adding a format is adding an entry.

``.json``
    A versioned snapshot (:mod:`trajectories.snapshot`): the experiment, the library versions and
    every recorded array; ``python -m app.cli replay FILE`` re-runs it.
``.html``
    The browser animation (the app's own player) as one self-contained page that plays offline
    from ``file://``.
``.png``
    The last frame as a picture: the surface, every path (with a thin halo), start and end
    points, a legend; 880 x 620 px times ``scale`` (default 2: 1,760 x 1,240 px), the surface
    rendered at that resolution.
``.gif``
    The run as an animated GIF (at most 100 frames) for slides, at the same size.

The run's sharpness (``sharpness=``, a :class:`trajectories.sharpness.Sharpness`) goes into
the tables (``.csv`` columns, ``.json`` snapshot arrays); :data:`WITH_SHARPNESS` lists them.
``.csv``
    One row per (optimizer instance, start point, record), in that order, with the columns
    ``optimizer`` (display name), ``kind`` (registry name), ``start`` (0-based start index),
    ``step``, ``loss``, ``w0..w{d-1}`` (position), ``grad0..``, ``update0..``, ``lr0..`` (the
    optimizer's own per-weight learning rate); with the run's sharpness (``run --sharpness``),
    ``sharpness`` (the loss Hessian's largest eigenvalue there) and, when some instance has a
    preconditioner, ``preconditioned_sharpness`` (empty for the others): see
    :mod:`trajectories.sharpness`. Numbers are written with the shortest text that reads back
    to the same value in the array's dtype (``inf`` and ``nan`` as such).

Sweeps are tables rather than trajectories; :func:`write_doc` writes one as ``.json`` (a
document, below) or ``.csv`` (one row per cell, start or record). Every document is valid JSON:
``inf`` and ``NaN`` are written as ``null``; every one carries ``kind`` and ``experiment``
(``Experiment.to_dict()``, the scene that was swept). By kind:

``grid`` (:func:`grid_table`)
    ``optimizer`` (the swept instance's name), ``axes`` (``[{name, low, high, n, log}]``),
    ``values`` (per axis, its grid coordinates), then arrays shaped like the grid (``[n0]`` or
    ``[n0][n1]``, indexed by axis 0 then axis 1): ``final_loss`` (null where diverged),
    ``loss_auc`` (mean loss over the steps taken), ``steps_to_target`` (first step within
    ``tolerance`` of the optimum; null if never or unknown), ``diverged`` (booleans),
    ``diverged_step`` (-1: never), ``evaluations`` (loss-and-gradient evaluations: the steps
    taken, more with a line search; -1 where a line-search run diverged); and ``best``
    (``{axis name: value}`` of the lowest final loss, null if every cell diverged). CSV
    columns: one per axis, ``final_loss``, ``loss_auc``,
    ``steps_to_target`` (empty if never), ``diverged``, ``diverged_step``, ``evaluations``.
``basins`` (:func:`basins_table`)
    ``optimizer``, ``n``, ``x`` and ``y`` (view coordinates of the start grid), ``minima``
    (weights of the global then local minima), ``labels`` (``[ny][nx]``: index into ``minima``
    of the minimum reached, -1 none, -2 diverged), ``settled_step`` and ``final_loss``
    (``[ny][nx]``). CSV: ``x, y, label, settled_step, final_loss``, one row per start.
``ensemble`` (:func:`ensemble_table`)
    ``n_seeds``, ``quantiles``, ``steps`` (the recorded steps) and ``optimizers``: per instance
    ``{name, color, loss: [quantile][record], position: [quantile][record][weight]}``.
    CSV: ``optimizer, step, loss_q0.05, ...``, one row per (instance, record).
``compare`` (:func:`compare_table`)
    ``criterion``, ``trials`` and ``rows``: per instance ``{name, kind, trials, default_score,
    lr_only_score, lr_only_best, tuned_score, tuned_best, evaluations: {default, lr_only,
    tuned}}`` (scores: lower is better; null where every trial diverged; evaluations: of the
    default run and of each best run). CSV: ``optimizer, kind, trials, default_score,
    lr_only_score, lr_only_learning_rate, tuned_score, tuned_<hyperparameter>...`` (empty where
    not tuned), ``default_evaluations, lr_only_evaluations, tuned_evaluations``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the engine is imported where it is used: keeps ``import app.exports`` light
    from trajectories.experiment import Experiment
    from trajectories.run import Result
    from trajectories.sharpness import Sharpness

Exporter = Callable[..., None]  # (result, path), and scale= for pictures
PICTURES = (".png", ".gif")


# ---- results --------------------------------------------------------------------------------
def export_json(result: Result, path: Path, sharpness: Sharpness | None = None) -> None:
    """A snapshot: the experiment, library versions and every recorded array."""
    from app import labels
    from trajectories import snapshot

    # an engine result has no labels: it is recorded as its computation
    e = result.description if isinstance(result, labels.Shown) else result.experiment
    snapshot.save(result, path, e, sharpness)


def _sharpness_columns(sharpness: Sharpness | None) -> list[tuple[str, np.ndarray]]:
    """``(column, (I, S, R) values)``: sharpness, and the preconditioned where some has it."""
    if sharpness is None:
        return []
    columns = [("sharpness", sharpness.sharpness)]
    pre = np.asarray(sharpness.preconditioned)
    if np.isfinite(pre).any():
        columns.append(("preconditioned_sharpness", pre))
    return columns


def _cells(values: np.ndarray, dtype) -> np.ndarray:
    """Numbers as text in the run's dtype, NaN (not defined for this optimizer) as empty."""
    return np.where(np.isnan(values), "", values.astype(dtype).astype(str))


def result_rows(
    result: Result, sharpness: Sharpness | None = None
) -> tuple[list[str], Iterable[list[str]]]:
    """The CSV header and rows of a result (see the module docstring)."""
    dim = result.position.shape[-1]
    header = ["optimizer", "kind", "start", "step", "loss"]
    for prefix in ("w", "grad", "update", "lr"):
        header += [f"{prefix}{k}" for k in range(dim)]
    extra = _sharpness_columns(sharpness)
    header += [name for name, _ in extra]

    def rows():
        steps = np.asarray(result.steps).astype(str)
        from app import labels

        names = labels.of(result)[0]
        for a, (name, kind) in enumerate(zip(names, result.kinds, strict=True)):
            for s in range(result.position.shape[1]):
                block = [
                    np.asarray(getattr(result, f)[a, s]).astype(str)
                    for f in ("position", "grad", "update", "lr")
                ]
                loss = np.asarray(result.loss[a, s]).astype(str)
                more = [_cells(np.asarray(v[a, s]), result.loss.dtype) for _, v in extra]
                for r in range(len(steps)):
                    row = [name, kind, str(s), steps[r], loss[r]]
                    for b in block:
                        row.extend(b[r])
                    row.extend(m[r] for m in more)
                    yield row

    return header, rows()


def export_csv(result: Result, path: Path, sharpness: Sharpness | None = None) -> None:
    """One row per (instance, start, record)."""
    header, rows = result_rows(result, sharpness)
    _write_csv(path, header, rows)


def _picture(result: Result):
    from app import surface_image

    return surface_image.render(result.surface)


def export_png(result: Result, path: Path, scale: float | None = None) -> None:
    """The last frame: the surface, every path and where each optimizer ended."""
    from app import raster

    scale = raster.DEFAULT_SCALE if scale is None else scale
    path.write_bytes(raster.png(result, _picture(result), scale=scale))


def export_gif(result: Result, path: Path, scale: float | None = None) -> None:
    """An animated GIF of the run (at most 100 frames), for slides."""
    from app import raster

    scale = raster.DEFAULT_SCALE if scale is None else scale
    path.write_bytes(raster.gif(result, _picture(result), scale=scale))


def export_html(result: Result, path: Path) -> None:
    """The browser animation as one offline page: plays from file:// with no outside request."""
    from app import animator, payload

    doc = payload.build(result, _picture(result))
    path.write_text(animator.standalone_html(doc, title=result.surface.title), encoding="utf-8")


EXPORTERS: dict[str, Exporter] = {
    ".json": export_json,
    ".csv": export_csv,
    ".html": export_html,
    ".png": export_png,
    ".gif": export_gif,
}


WITH_SHARPNESS = (".json", ".csv")  # the formats that carry a run's sharpness


def exporter_for(path: str | Path, scale: float | None = None, sharpness: bool = False) -> Exporter:
    """The exporter for ``path``'s suffix; a ``ValueError`` for an unknown one, an output
    folder that does not exist, a ``scale`` that is out of range or not for this file type, or
    ``sharpness`` asked of a format without it (so that a command can check before it
    computes)."""
    path = Path(path)
    fn = EXPORTERS.get(path.suffix.lower())
    if fn is None:
        raise ValueError(
            f"cannot write {path}: unknown file type {path.suffix or '(no suffix)'}; "
            f"supported: {', '.join(EXPORTERS)}"
        )
    if sharpness and path.suffix.lower() not in WITH_SHARPNESS:
        raise ValueError(
            f"--sharpness goes into {' or '.join(WITH_SHARPNESS)} files, not {path.name}: "
            "write a table or a snapshot"
        )
    if scale is not None:
        if path.suffix.lower() not in PICTURES:
            raise ValueError(f"scale applies to pictures ({', '.join(PICTURES)}), not {path}")
        from app.raster import check_scale

        check_scale(scale)
    check_folder(path)
    return fn


def export(
    result: Result,
    path: str | Path,
    scale: float | None = None,
    sharpness: Sharpness | None = None,
) -> Path:
    """Write ``result`` to ``path`` in the format its suffix names; ``scale``: the size of a
    picture (.png, .gif) as a multiple of 880 x 620 px (default ``raster.DEFAULT_SCALE``);
    ``sharpness``: the run's, for the tables (:data:`WITH_SHARPNESS`)."""
    path = Path(path)
    fn = exporter_for(path, scale, sharpness is not None)
    if sharpness is not None:
        fn(result, path, sharpness=sharpness)
    else:
        fn(result, path) if scale is None else fn(result, path, scale=scale)
    return path


def check_folder(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: folder {folder} does not exist")


# ---- sweeps ---------------------------------------------------------------------------------
TABLE_SUFFIXES = (".json", ".csv")


def check_table_path(path: str | Path) -> Path:
    """``path`` if a sweep can be written there (``.json`` or ``.csv``), else ``ValueError``."""
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(
            f"cannot write {path}: a sweep is written as {' or '.join(TABLE_SUFFIXES)}, "
            f"not {path.suffix or '(no suffix)'}"
        )
    check_folder(path)
    return path


def write_doc(
    path: str | Path, doc: dict[str, Any], header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Path:
    """Write a sweep as the JSON document ``doc`` or as the CSV ``header`` + ``rows``."""
    path = check_table_path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(jsonable(doc), allow_nan=False) + "\n")
    else:
        _write_csv(path, header, ([cell(v) for v in row] for row in rows))
    return path


def jsonable(x: Any) -> Any:
    """Plain JSON values: arrays to lists, numpy scalars to Python, inf and NaN to ``None``."""
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    return x


def cell(v: Any) -> str:
    """A CSV cell: shortest round-trip text for numbers (in their own dtype), '' for None."""
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, np.generic):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _best(values: list[np.ndarray], names: list[str], score: np.ndarray) -> dict | None:
    score = np.where(np.isfinite(score), score, np.inf)
    if not np.isfinite(score).any():
        return None
    idx = np.unravel_index(int(np.argmin(score)), score.shape)
    return {n: float(v[i]) for n, v, i in zip(names, values, idx, strict=True)}


def grid_table(experiment: Experiment, grid) -> tuple[dict, list[str], list[list]]:
    from app import labels

    """A :class:`~trajectories.sweeps.GridResult` as (document, CSV header, CSV rows)."""
    names = [a.name for a in grid.axes]
    hit = np.where(np.isnan(grid.steps_to_target), -1, grid.steps_to_target).astype(np.int64)
    doc = {
        "kind": "grid",
        "experiment": experiment.to_dict(),
        "optimizer": labels.name_of(experiment, 0),
        "axes": [
            {"name": a.name, "low": a.low, "high": a.high, "n": a.n, "log": a.log}
            for a in grid.axes
        ],
        "values": [np.asarray(v, np.float64) for v in grid.values],
        "final_loss": grid.final_loss,
        "loss_auc": grid.loss_auc,
        "steps_to_target": np.where(hit >= 0, hit, None).tolist(),
        "diverged": np.asarray(grid.diverged, bool),
        "diverged_step": np.asarray(grid.diverged_step, np.int64),
        "evaluations": np.asarray(grid.evaluations, np.int64),
        "best": _best(list(grid.values), names, np.asarray(grid.final_loss, np.float64)),
    }
    header = [
        *names, "final_loss", "loss_auc", "steps_to_target", "diverged", "diverged_step",
        "evaluations",
    ]  # fmt: skip
    rows = []
    for idx in np.ndindex(*grid.final_loss.shape):
        coords = [float(v[i]) for v, i in zip(grid.values, idx, strict=True)]
        h = int(hit[idx])
        rows.append(
            [
                *coords,
                grid.final_loss[idx],
                grid.loss_auc[idx],
                h if h >= 0 else None,
                bool(grid.diverged[idx]),
                int(grid.diverged_step[idx]),
                int(grid.evaluations[idx]),
            ]
        )
    return doc, header, rows


def basins_table(experiment: Experiment, b, n: int) -> tuple[dict, list[str], list[list]]:
    from app import labels

    """A :class:`~trajectories.sweeps.BasinsResult` as (document, CSV header, CSV rows)."""
    doc = {
        "kind": "basins",
        "experiment": experiment.to_dict(),
        "optimizer": labels.name_of(experiment, 0),
        "n": n,
        "x": b.x,
        "y": b.y,
        "minima": b.minima,
        "labels": np.asarray(b.labels, np.int64),
        "settled_step": np.asarray(b.settled_step, np.int64),
        "final_loss": b.final_loss,
    }
    header = ["x", "y", "label", "settled_step", "final_loss"]
    rows = [
        [
            float(b.x[i]),
            float(b.y[j]),
            int(b.labels[j, i]),
            int(b.settled_step[j, i]),
            b.final_loss[j, i],
        ]
        for j in range(len(b.y))
        for i in range(len(b.x))
    ]
    return doc, header, rows


def ensemble_table(experiment: Experiment, e) -> tuple[dict, list[str], list[list]]:
    """A :class:`~trajectories.sweeps.EnsembleResult` as (document, CSV header, CSV rows)."""
    from app import labels

    names, colors = labels.names(experiment), labels.colors(experiment)
    doc = {
        "kind": "ensemble",
        "experiment": experiment.to_dict(),
        "n_seeds": e.n_seeds,
        "quantiles": list(e.quantiles),
        "steps": np.asarray(e.steps, np.int64),
        "optimizers": [
            {"name": name, "color": color, "loss": e.loss[a], "position": e.position[a]}
            for a, (name, color) in enumerate(zip(names, colors, strict=True))
        ],
    }
    header = ["optimizer", "step", *(f"loss_q{q:g}" for q in e.quantiles)]
    rows = [
        [name, int(step), *e.loss[a, :, r]]
        for a, name in enumerate(names)
        for r, step in enumerate(e.steps)
    ]
    return doc, header, rows


def compare_table(
    experiment: Experiment, rows_in: list, criterion: str, trials: int
) -> tuple[dict, list[str], list[list]]:
    """The rows of :func:`~trajectories.sweeps.fair_comparison` as (document, header, rows)."""
    doc = {
        "kind": "compare",
        "experiment": experiment.to_dict(),
        "criterion": criterion,
        "trials": trials,
        "rows": [
            {
                "name": r.name,
                "kind": r.kind,
                "trials": r.trials,
                "default_score": r.default_score,
                "lr_only_score": r.lr_only_score,
                "lr_only_best": r.lr_only_best,
                "tuned_score": r.tuned_score,
                "tuned_best": r.tuned_best,
                "evaluations": {
                    "default": r.default_evaluations,
                    "lr_only": r.lr_only_evaluations,
                    "tuned": r.tuned_evaluations,
                },
            }
            for r in rows_in
        ],
    }
    tuned = list(dict.fromkeys(k for r in rows_in for k in r.tuned_best))
    header = [
        "optimizer",
        "kind",
        "trials",
        "default_score",
        "lr_only_score",
        "lr_only_learning_rate",
        "tuned_score",
        *(f"tuned_{k}" for k in tuned),
        "default_evaluations",
        "lr_only_evaluations",
        "tuned_evaluations",
    ]
    rows = [
        [
            r.name,
            r.kind,
            r.trials,
            r.default_score,
            r.lr_only_score,
            r.lr_only_best.get("learning_rate"),
            r.tuned_score,
            *(r.tuned_best.get(k) for k in tuned),
            r.default_evaluations,
            r.lr_only_evaluations,
            r.tuned_evaluations,
        ]
        for r in rows_in
    ]
    return doc, header, rows
