"""The command line: list what there is, run experiments and sweeps, replay snapshots.

    python -m app.cli list [surfaces|optimizers|options] [--json]
    python -m app.cli run      SCENE [--out FILE.json|.csv|.html|.png|.gif] [--scale 2]
    python -m app.cli sweep    SCENE --grid NAME=LOW:HIGH:N[:log] [--grid ...] [--out FILE]
    python -m app.cli basins   SCENE [--n 64] [--out FILE]
    python -m app.cli ensemble SCENE [--seeds 32] [--out FILE]
    python -m app.cli compare  SCENE [--trials 64] [--criterion final_loss] [--out FILE]
    python -m app.cli replay SNAPSHOT.json [--out FILE]

SCENE is ``--surface NAME[:k=v,...]`` (or ``--surface custom --formula '(1-x)^2 + ...'``),
``--optimizer NAME[:k=v,...]`` (repeatable), ``--start X,Y`` (repeatable), ``--steps N``,
``--seed S``, ``--noise SIGMA``, ``--stride K``, ``--tolerance T`` and ``--dtype float32|float64``.

``NAME:k=v,...`` is the scene grammar of :mod:`trajectories.grammar`, the one share links use
(which write ``NAME(k=v,...)``; both forms are accepted here). A value is an integer, a float
(``1e-3``), ``true``/``false``, ``none``/``null``, a schedule
(``lr=cosine_decay(initial_learning_rate=0.01,decay_steps=500)``, or the same as a JSON object
``'lr={"schedule":"cosine_decay","initial_learning_rate":0.01,"decay_steps":500}'``), a quoted
string, or else plain text (``variant=paper_sqrt``); text parameters (a formula, an MLP's
``hidden=16,16``) keep their text. Commas inside brackets or quotes do not split, and a piece
without ``=`` continues the previous value. In an optimizer spec ``name=`` and ``color=`` set the
display name and colour, ``off`` disables it, and ``lr`` is short for ``learning_rate`` (also in
``--grid``). The bounds are those of :mod:`trajectories.limits`, the same as links and the page.

Everything is checked by ``Experiment.from_dict`` before any work starts. Exit status: 0 done;
1 a replay differs from its snapshot; 2 bad input (one line on stderr, ``error: ...``); 3 an
internal error; 130 cancelled (Ctrl-C). File formats: :mod:`app.exports`.

Commands that compute keep their compiled kernels in JAX's persistent compilation cache, in
``$OPTVIZ_CACHE_DIR/jax``, else ``$XDG_CACHE_HOME/optimizer-visualizer/jax``, else
``~/.cache/optimizer-visualizer/jax`` (:mod:`app.jax_cache`): running the same structure again
(other values included) loads them instead of compiling. ``--no-compile-cache`` turns it off.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

PROG = "python -m app.cli"


class UsageError(Exception):
    """Bad command-line syntax (from argparse): exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(f"{message} (see {self.prog} --help)")


# ---- parsing values (the grammar: trajectories.grammar) ---------------------------------------
def surface_spec(text: str, formula: str | None) -> tuple[str, dict[str, Any]]:
    """``--surface NAME[:k=v,...]`` (and ``--formula``) -> (name, params)."""
    from trajectories import FieldError, grammar

    name, params = grammar.surface_spec(text, "--surface")
    if formula is not None:
        if name != "custom":
            message = f"--formula needs --surface custom (got --surface {name})"
            raise FieldError("surface", message)
        if "formula" in params:
            message = "the formula is given twice (in --surface and in --formula)"
            raise FieldError("surface_params.formula", message)
        params["formula"] = formula
    return name, params


def optimizer_spec(text: str, index: int = 0) -> dict[str, Any]:
    """``--optimizer NAME[:k=v,...]`` -> an ``Experiment.from_dict`` optimizer entry."""
    from trajectories import grammar

    return grammar.optimizer_entry(text, "--optimizer", f"optimizers[{index}]")


def build_experiment(args: argparse.Namespace):
    """The scene flags as a validated :class:`~trajectories.experiment.Experiment`."""
    from trajectories import grammar
    from trajectories.experiment import Experiment

    starts = enumerate(args.start or ())
    surface = args.surface
    if surface is None:
        surface = "custom" if args.formula is not None else Experiment.surface
    name, params = surface_spec(surface, args.formula)
    if not args.optimizer:
        raise ValueError("no --optimizer: name at least one, e.g. --optimizer Adam:lr=0.01")
    data: dict[str, Any] = {
        "surface": name,
        "surface_params": params,
        "optimizers": [optimizer_spec(o, i) for i, o in enumerate(args.optimizer)],
        "starts": [grammar.parse_point(s, "--start", f"starts[{j}]") for j, s in starts],
    }
    for field in ("steps", "noise", "seed", "stride", "tolerance", "dtype"):
        value = getattr(args, field)
        if value is not None:
            data[field] = value
    return Experiment.from_dict(data)


# ---- output ---------------------------------------------------------------------------------
def fmt(v: Any) -> str:
    if hasattr(v, "item") and not isinstance(v, str):  # a numpy scalar
        v = v.item()
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned; numbers to the right."""
    rows = [[v.item() if hasattr(v, "item") else v for v in row] for row in rows]
    cells = [[fmt(v) for v in row] for row in rows]
    right = [
        all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in column)
        for column in zip(*rows, strict=True)
    ] or [False] * len(headers)
    widths = [max([len(h)] + [len(r[k]) for r in cells]) for k, h in enumerate(headers)]

    def line(items):
        out = [
            s.rjust(w) if rj else s.ljust(w) for s, w, rj in zip(items, widths, right, strict=True)
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def _never(step: int) -> int | None:
    return None if step < 0 else step


class ProgressBar:
    """A text bar on ``stream``, redrawn in place with ``\\r`` at most every ``interval`` s."""

    def __init__(
        self, label: str, stream: TextIO | None = None, width: int = 30, interval: float = 0.1
    ):
        self.label, self.stream, self.width, self.interval = label, stream, width, interval
        self._last = -math.inf
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = round(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        stream = self.stream or sys.stderr
        stream.write(f"\r{self.label} [{bar}] {done}/{total} {frac:4.0%}")
        stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            (self.stream or sys.stderr).write("\n")
            self._drawn = False


def _progress(args, label: str) -> ProgressBar | None:
    return None if args.no_progress else ProgressBar(label)


def _sweep(fn: Callable, *a, bar: ProgressBar | None, **kw):
    from trajectories import sweeps

    try:
        return fn(*a, progress=bar, **kw)
    except sweeps.Cancelled:
        raise KeyboardInterrupt from None
    finally:
        if bar is not None:
            bar.close()


# ---- commands -------------------------------------------------------------------------------
def _hparam_dict(h) -> dict[str, Any]:
    return {
        "name": h.name,
        "default": h.default,
        "low": h.low,
        "high": h.high,
        "scale": h.scale,
        "kind": h.kind,
        "choices": list(h.choices),
        "static": h.static,
        "help": h.help,
        # optimizer hyperparameters (declared in optimizers/declare.py); surfaces have neither
        **({"live": h.live} if hasattr(h, "live") else {}),
    }


def catalogue() -> dict[str, Any]:
    """Surfaces, optimizers and shared options, as plain data (``list --json``)."""
    import optimizers
    import surfaces

    return {
        "surfaces": [
            {
                "name": f.name,
                "title": f.title,
                "category": f.category,
                "summary": f.summary,
                "params": [_hparam_dict(p) for p in f.params],
            }
            for f in surfaces.families()
        ],
        "optimizers": [
            {
                "name": info.name,
                "title": info.title,
                "summary": info.summary,
                "reference": info.reference,
                "matches": info.matches,
                "group": info.group,
                "fixed": dict(info.fixed),
                "hyperparams": [_hparam_dict(h) for h in info.hyperparams],
            }
            for info in optimizers.OPTIMIZERS.values()
        ],
        "options": [_hparam_dict(h) for h in optimizers.OPTIONS],
    }


def _describe_param(p: dict[str, Any]) -> str:
    if p["kind"] == "bool":
        what = "true/false"
    elif p["kind"] == "choice":
        what = "one of " + ", ".join(p["choices"])
    elif p["kind"] == "str":
        what = "text"
    elif p["low"] is None and p["high"] is None:
        what = p["kind"]
    else:
        low = "-inf" if p["low"] is None else f"{p['low']:g}"
        high = "inf" if p["high"] is None else f"{p['high']:g}"
        what = f"{p['kind']} in [{low}, {high}]" + (", log scale" if p["scale"] == "log" else "")
    default = "none" if p["default"] is None else p["default"]
    static = ", static" if p["static"] else ""
    return f"    {p['name']} = {default}  ({what}{static})  {p['help']}"


def cmd_list(args) -> int:
    doc = catalogue()
    if args.what != "all":
        doc = {args.what: doc[args.what]}
    if args.json:
        print(json.dumps(doc, indent=1, allow_nan=False))
        return 0
    out: list[str] = []
    if "surfaces" in doc:
        out.append("SURFACES  (--surface NAME[:k=v,...])")
        categories = dict.fromkeys(s["category"] for s in doc["surfaces"])
        for cat in categories:
            out.append(f"\n[{cat}]")
            for s in (s for s in doc["surfaces"] if s["category"] == cat):
                out.append(f"  {s['name']}: {s['title']}. {s['summary']}".rstrip())
                out.extend(_describe_param(p) for p in s["params"])
        out.append("")
    if "optimizers" in doc:
        out.append("OPTIMIZERS  (--optimizer NAME[:k=v,...]; also name=..., color=#rrggbb)")
        for o in doc["optimizers"]:
            fixed = ", ".join(f"{k}={v}" for k, v in o["fixed"].items())
            out.append(f"\n  {o['name']}: {o['summary']}" + (f" [fixed: {fixed}]" if fixed else ""))
            out.append(f"    ({o['reference']})")
            out.extend(_describe_param(h) for h in o["hyperparams"])
        out.append("")
    if "options" in doc:
        out.append("OPTIONS every optimizer accepts (none = off)")
        out.extend(_describe_param(h) for h in doc["options"])
    print("\n".join(out).rstrip())
    return 0


def _summary_rows(result) -> list[list[Any]]:
    return [
        [
            r["optimizer"],
            r["start"],
            r["final_loss"],
            r["distance_to_minimum"],
            _never(r["steps_to_target"]),
            _never(r["diverged_at"]),
        ]
        for r in result.summary()
    ]


SUMMARY_HEADERS = (
    "optimizer",
    "start",
    "final loss",
    "distance to minimum",
    "steps to target",
    "diverged at",
)


def _print_result(result) -> None:
    e = result.experiment
    print(f"{e.surface}: {e.steps} steps, seed {e.seed}, recorded every {result.stride} step(s)")
    print(table(SUMMARY_HEADERS, _summary_rows(result)))


def _check_out(args) -> None:
    """``--out`` and ``--scale`` make sense together, before any work (ValueError if not)."""
    from app import exports

    if args.scale is not None and not args.out:
        raise ValueError("--scale sizes a picture written with --out FILE.png or FILE.gif")
    if args.out:
        exports.exporter_for(args.out, args.scale)


def cmd_run(args) -> int:
    from app import exports
    from trajectories import run

    experiment = build_experiment(args)
    _check_out(args)  # a bad file name or scale fails before the work
    from app import labels

    result = labels.attach(run(experiment), experiment)
    _print_result(result)
    if args.out:
        exports.export(result, args.out, args.scale)
        n_i, n_s, n_r = result.loss.shape
        print(f"wrote {args.out} ({n_i} optimizer(s) x {n_s} start(s) x {n_r} records)")
    return 0


def _one_optimizer(args, what: str) -> None:
    if len(args.optimizer or ()) != 1:
        raise ValueError(
            f"{what} needs exactly one --optimizer (the one swept), got {len(args.optimizer or ())}"
        )


def _one_start(args, what: str) -> None:
    if len(args.start or ()) > 1:
        raise ValueError(f"{what} starts from one point: give at most one --start")


def _finish(args, doc_rows, printed: str, what: str) -> int:
    from app import exports

    print(printed)
    if args.out:
        doc, header, rows = doc_rows
        exports.write_doc(args.out, doc, header, rows)
        print(f"wrote {args.out} ({len(rows)} {what})")
    return 0


def cmd_sweep(args) -> int:
    from app import exports, labels
    from trajectories import grammar, sweeps

    _one_optimizer(args, "sweep")
    _one_start(args, "sweep")
    experiment = build_experiment(args)
    axes = []
    for text in args.grid:
        axis = sweeps.Axis.parse(text)
        axes.append(
            sweeps.Axis(
                grammar.ALIASES.get(axis.name, axis.name), axis.low, axis.high, axis.n, axis.log
            )
        )
    if args.out:
        exports.check_table_path(args.out)
    grid = _sweep(sweeps.hyperparameter_grid, experiment, 0, axes, bar=_progress(args, "sweep"))
    doc, header, rows = exports.grid_table(experiment, grid)
    names = [a.name for a in axes]
    lines = [
        f"{labels.name_of(experiment, 0)} on {experiment.surface}: {len(rows)} cells, "
        f"{int(grid.diverged.sum())} diverged"
    ]
    lines.append(
        "best (lowest final loss): "
        + (", ".join(f"{k}={v:.6g}" for k, v in doc["best"].items()) if doc["best"] else "none")
    )
    if not args.out:
        shown = [[*r[: len(names)], r[-5], r[-4], r[-3], r[-1] if r[-2] else None] for r in rows]
        lines.append(
            table([*names, "final loss", "loss auc", "steps to target", "diverged at"], shown)
        )
    return _finish(args, (doc, header, rows), "\n".join(lines), "cells")


def cmd_basins(args) -> int:
    from app import exports, labels
    from trajectories import sweeps

    _one_optimizer(args, "basins")
    if args.start:
        raise ValueError("basins starts from an n x n grid over the view: --start is not used")
    experiment = build_experiment(args)
    if args.out:
        exports.check_table_path(args.out)
    b = _sweep(sweeps.basins, experiment, 0, args.n, bar=_progress(args, "basins"))
    doc, header, rows = exports.basins_table(experiment, b, args.n)
    total = b.labels.size
    counts = []
    for k, m in enumerate(b.minima):
        point = "(" + ", ".join(f"{v:.4g}" for v in m[:4]) + (", ..." if len(m) > 4 else "") + ")"
        counts.append([f"minimum {k} {point}", int((b.labels == k).sum())])
    counts.append(["none reached", int((b.labels == -1).sum())])
    counts.append(["diverged", int((b.labels == -2).sum())])
    shown = [[name, n, 100.0 * n / total] for name, n in counts]
    text = f"{labels.name_of(experiment, 0)} on {experiment.surface}: {args.n} x {args.n} starts\n"
    text += table(["ends at", "starts", "%"], shown)
    return _finish(args, (doc, header, rows), text, "starts")


def cmd_ensemble(args) -> int:
    from app import exports, labels
    from trajectories import sweeps

    _one_start(args, "ensemble")
    experiment = build_experiment(args)
    if args.out:
        exports.check_table_path(args.out)
    e = _sweep(sweeps.seed_ensemble, experiment, args.seeds, bar=_progress(args, "ensemble"))
    doc, header, rows = exports.ensemble_table(experiment, e)
    q = list(e.quantiles)
    shown = [
        [name, *(float(e.loss[a, k, -1]) for k in range(len(q)))]
        for a, name in enumerate(labels.names(experiment))
    ]
    text = f"{experiment.surface}: {e.n_seeds} seeds, final loss quantiles\n"
    text += table(["optimizer", *(f"q{v:g}" for v in q)], shown)
    return _finish(args, (doc, header, rows), text, "records")


def cmd_compare(args) -> int:
    from app import exports
    from trajectories import sweeps

    _one_start(args, "compare")
    experiment = build_experiment(args)
    if args.out:
        exports.check_table_path(args.out)
    result = _sweep(
        sweeps.fair_comparison,
        experiment,
        args.trials,
        args.criterion,
        bar=_progress(args, "compare"),
    )
    doc, header, rows = exports.compare_table(experiment, result, args.criterion, args.trials)
    shown = [
        [
            r.name,
            r.default_score,
            r.lr_only_score,
            r.lr_only_best.get("learning_rate"),
            r.tuned_score,
            ", ".join(f"{k}={v:.4g}" for k, v in r.tuned_best.items()),
            r.tuned_evaluations,
        ]
        for r in result
    ]
    text = f"{experiment.surface}: {args.trials} trials each, criterion {args.criterion} (lower "
    text += "is better)\n"
    text += table(
        ["optimizer", "default", "lr only", "best lr", "all tuned", "best values", "evaluations"],
        shown,
    )
    return _finish(args, (doc, header, rows), text, "optimizers")


def _needs_x64(path: Path) -> bool:
    """Whether a snapshot file asks for float64 (x64 must be on before it is loaded)."""
    from trajectories import snapshot

    try:
        if path.stat().st_size > snapshot.MAX_BYTES:
            return False
        doc = json.loads(path.read_bytes())
        return doc["experiment"]["dtype"] == "float64"
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return False  # snapshot.load says what is wrong


def cmd_replay(args) -> int:
    from app import exports
    from trajectories import snapshot

    path = Path(args.snapshot)
    if _needs_x64(path):
        _enable_x64()
    snap = snapshot.load(path)
    _check_out(args)
    from app import labels

    result, differ = snapshot.replay(snap)
    result = labels.attach(result, snap.experiment)
    if differ:
        _error(f"replay differs from the snapshot in: {', '.join(differ)}")
        return 1
    print(f"replay matches the snapshot ({len(snap.arrays)} arrays identical)")
    if args.out:
        exports.export(result, args.out, args.scale)
        print(f"wrote {args.out}")
    return 0


# ---- the parser -----------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _scene(p: argparse.ArgumentParser, *, starts: bool = True) -> None:
    g = p.add_argument_group("scene")
    g.add_argument(
        "--surface",
        metavar="NAME[:k=v,...]",
        help="surface and parameters (default rosenbrock; see `list surfaces`)",
    )
    g.add_argument(
        "--formula",
        metavar="TEXT",
        help="the formula of --surface custom, in x and y, e.g. '(1-x)^2 + 100*(y-x^2)^2'",
    )
    g.add_argument(
        "--optimizer",
        action="append",
        metavar="NAME[:k=v,...]",
        help="an optimizer instance (repeatable), e.g. Adam:lr=0.01,name=fast",
    )
    if starts:
        g.add_argument(
            "--start",
            action="append",
            metavar="X,Y",
            help="a start point (repeatable): 2 numbers (a point of the 2-D view) or "
            "one per weight; default: the surface's own",
        )
    g.add_argument("--steps", type=int, help="steps per run (default 500)")
    g.add_argument("--seed", type=int, help="random seed (default 0)")
    g.add_argument(
        "--noise",
        type=float,
        metavar="SIGMA",
        help="std of Gaussian noise added to gradients (default 0)",
    )
    g.add_argument(
        "--stride", type=int, metavar="K", help="record every K-th step (default 0: automatic)"
    )
    g.add_argument(
        "--tolerance",
        type=float,
        help="'steps to target' counts until f* + tolerance (default 1e-3)",
    )
    g.add_argument("--dtype", choices=("float32", "float64"), help="default float32")
    _cache_option(p)


def _cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="compile afresh, without the on-disk compilation cache (see app/jax_cache.py)",
    )


def _scale_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scale",
        type=float,
        metavar="S",
        help="a .png or .gif's size: S x 880 x 620 px, S from 1 to 4 (default 2: 1,760 px wide)",
    )


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="surfaces, optimizers, hyperparameters and options")
    p.add_argument(
        "what", nargs="?", default="all", choices=("all", "surfaces", "optimizers", "options")
    )
    p.add_argument("--json", action="store_true", help="as a JSON document")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("run", help="run an experiment; print a summary or write --out")
    _scene(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write the result: .json (snapshot), .csv, .html, .png or .gif",
    )
    _scale_option(p)
    p.set_defaults(handler=cmd_run)

    def sweep_parser(name: str, help: str, *, starts: bool = True):
        p = sub.add_parser(name, help=help)
        _scene(p, starts=starts)
        p.add_argument("--out", metavar="FILE", help="write the table: .json or .csv")
        p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
        return p

    p = sweep_parser("sweep", "one or two hyperparameters of one optimizer over a grid")
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="NAME=LOW:HIGH:N[:log]",
        help="a swept hyperparameter (once or twice)",
    )
    p.set_defaults(handler=cmd_sweep)

    p = sweep_parser(
        "basins", "basins of attraction: one optimizer from an n x n grid of starts", starts=False
    )
    p.add_argument("--start", action="append", help=argparse.SUPPRESS)
    p.add_argument("--n", type=_positive_int, default=64, help="grid side (default 64)")
    p.set_defaults(handler=cmd_basins)

    p = sweep_parser("ensemble", "many seeds of a noisy run: quantiles of the loss")
    p.add_argument("--seeds", type=_positive_int, default=32, help="number of seeds (default 32)")
    p.set_defaults(handler=cmd_ensemble)

    p = sweep_parser("compare", "fair comparison: every optimizer tuned with the same budget")
    p.add_argument(
        "--trials", type=_positive_int, default=64, help="trials per optimizer (default 64)"
    )
    p.add_argument(
        "--criterion", default="final_loss", choices=("final_loss", "loss_auc", "steps_to_target")
    )
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("replay", help="re-run a snapshot; fail if the results differ")
    p.add_argument("snapshot", metavar="SNAPSHOT", help="a .json snapshot written by run --out")
    p.add_argument("--out", metavar="FILE", help="write the replayed result (as run --out)")
    _scale_option(p)
    _cache_option(p)
    p.set_defaults(handler=cmd_replay)
    return parser


_VALUE_OPTIONS = (
    "--start",
    "--formula",
    "--noise",
    "--seed",
    "--steps",
    "--stride",
    "--tolerance",
    "--n",
    "--seeds",
    "--trials",
)
_NEGATIVE = re.compile(r"-[\d.]")


def _join_negative(argv: Sequence[str]) -> list[str]:
    """``--start -1.5,2`` as ``--start=-1.5,2`` (argparse would read -1.5,2 as an option)."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            out.extend(argv[i:])
            break
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if (
            a in _VALUE_OPTIONS
            and nxt is not None
            and (_NEGATIVE.match(nxt) or (a == "--formula" and nxt.startswith("-") and nxt != "-h"))
        ):
            out.append(f"{a}={nxt}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


# ---- entry point ----------------------------------------------------------------------------
def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def _compile_cache(args: argparse.Namespace) -> contextlib.AbstractContextManager:
    """Commands that compute compile through JAX's persistent cache unless told not to: a
    repeated run of the same structure then loads its kernel instead of compiling it."""
    if not hasattr(args, "no_compile_cache") or args.no_compile_cache:
        return contextlib.nullcontext()
    import trajectories  # noqa: F401  (first: its XLA flags are set before JAX starts)
    from app import jax_cache

    return jax_cache.persistent()


def _error(message: str) -> None:
    print("error: " + " ".join(str(message).split()), file=sys.stderr)


def _os_error(err: OSError) -> str:
    if err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return str(err)


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run one command; ``prog`` is the name help and errors give (``optviz`` for the
    installed console script, see optviz/__init__.py)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(prog).parse_args(_join_negative(argv))
        if getattr(args, "dtype", None) == "float64":
            _enable_x64()  # before anything is computed
        with _compile_cache(args):
            return args.handler(args)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except UsageError as e:
        _error(str(e))
        return 2
    except ValueError as e:  # LimitError, SnapshotError, FormulaError, bad values
        _error(str(e))
        return 2
    except BrokenPipeError:  # `... | head`: stop quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:
        _error(_os_error(e))
        return 2
    except Exception as e:  # a bug: still one line, but a distinct status
        _error(f"internal error: {type(e).__name__}: {e}")
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
