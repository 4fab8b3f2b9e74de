"""The command line: list what there is, run experiments and sweeps, replay snapshots.

    python -m app.cli list [surfaces|optimizers|options] [--json]
    python -m app.cli run      SCENE [--out FILE.json|.csv|.html|.png|.gif] [--scale 2]
    python -m app.cli sweep    SCENE --grid NAME=LOW:HIGH:N[:log] [--grid ...] [--out FILE]
    python -m app.cli basins   SCENE [--n 64] [--out FILE]
    python -m app.cli ensemble SCENE [--seeds 32] [--out FILE]
    python -m app.cli compare  SCENE [--trials 64] [--criterion final_loss] [--out FILE]
    python -m app.cli replay SNAPSHOT.json [--out FILE]
    python -m app.cli batch-scaling [--surface noisy_quadratic:k=v,...] [--optimizer NAME ...]
        [--batch-sizes 1,4,16,...] [--target X] [--out FILE.csv]   (app/cli_batch.py)

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
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.cli_output import ProgressBar, table
from app.cli_scene import (
    build_experiment,
    cache_option,
    join_negative,
    positive_int,
    scale_option,
    scene_options,
)

PROG = "python -m app.cli"


class UsageError(Exception):
    """Bad command-line syntax (from argparse): exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(f"{message} (see {self.prog} --help)")


# ---- progress -------------------------------------------------------------------------------
def _never(step: int) -> int | None:
    return None if step < 0 else step


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
    """``--out``, ``--scale`` and ``--sharpness`` make sense together, before any work
    (ValueError if not)."""
    from app import exports

    if args.scale is not None and not args.out:
        raise ValueError("--scale sizes a picture written with --out FILE.png or FILE.gif")
    if args.out:
        exports.exporter_for(args.out, args.scale, getattr(args, "sharpness", False))


SHARPNESS_HEADERS = (
    "optimizer",
    "start",
    "sharpness at start",
    "max sharpness",
    "final sharpness",
    "final preconditioned",
    "threshold",
)


def _sharpness_rows(result, sharp) -> list[list[Any]]:
    """Per (instance, start): the sharpness at the start, its largest and last values, the
    last preconditioned sharpness and the last threshold ("-": none)."""
    import numpy as np

    rows = []
    for a, name in enumerate(result.names):
        for s in range(result.loss.shape[1]):
            values = sharp.sharpness[a, s]
            pre, threshold = sharp.preconditioned[a, s, -1], sharp.threshold[a, -1]
            rows.append(
                [
                    name,
                    s,
                    values[0],
                    np.nanmax(values) if np.isfinite(values).any() else np.nan,
                    values[-1],
                    "-" if np.isnan(pre) else pre,
                    "-" if np.isnan(threshold) else f"{threshold:.6g} ({sharp.bounds[a]})",
                ]
            )
    return rows


def cmd_run(args) -> int:
    from app import exports
    from trajectories import run, sharpness

    experiment = build_experiment(args)
    _check_out(args)  # a bad file name or scale fails before the work
    from app import labels

    result = labels.attach(run(experiment), experiment)
    _print_result(result)
    sharp = None
    if args.sharpness:
        sharp = sharpness.compute(result)
        print("sharpness: the loss Hessian's largest eigenvalue (negative where it curves down)")
        print(table(SHARPNESS_HEADERS, _sharpness_rows(result, sharp)))
    if args.out:
        exports.export(result, args.out, args.scale, sharp)
        n_i, n_s, n_r = result.loss.shape
        print(f"wrote {args.out} ({n_i} optimizer(s) x {n_s} start(s) x {n_r} records)")
    return 0


def cmd_code(args) -> int:
    """The scene as a runnable Python script (``trajectories/as_code.py``): to stdout or
    ``--out FILE.py``."""
    from app import labels
    from trajectories import as_code

    if args.out and not args.out.endswith(".py"):
        raise ValueError(f"--out: a script ends in .py (got {args.out})")
    experiment = build_experiment(args)
    text = as_code.script(experiment, labels.names(experiment))
    if not args.out:
        sys.stdout.write(text)
        return 0
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: run it with python {args.out} (--json, --plot)")
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
    scene_options(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write the result: .json (snapshot), .csv, .html, .png or .gif",
    )
    scale_option(p)
    p.add_argument(
        "--sharpness",
        action="store_true",
        help="also the loss Hessian's largest eigenvalue at every record (and the "
        "preconditioned one for adaptive optimizers): printed, and in .csv or .json output",
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("code", help="the scene as a runnable Python script (Copy as Python)")
    scene_options(p)
    p.add_argument("--out", metavar="FILE.py", help="write the script there (default: stdout)")
    p.set_defaults(handler=cmd_code)

    def sweep_parser(name: str, help: str, *, starts: bool = True):
        p = sub.add_parser(name, help=help)
        scene_options(p, starts=starts)
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
    p.add_argument("--n", type=positive_int, default=64, help="grid side (default 64)")
    p.set_defaults(handler=cmd_basins)

    p = sweep_parser("ensemble", "many seeds of a noisy run: quantiles of the loss")
    p.add_argument("--seeds", type=positive_int, default=32, help="number of seeds (default 32)")
    p.set_defaults(handler=cmd_ensemble)

    p = sweep_parser("compare", "fair comparison: every optimizer tuned with the same budget")
    p.add_argument(
        "--trials", type=positive_int, default=64, help="trials per optimizer (default 64)"
    )
    p.add_argument(
        "--criterion", default="final_loss", choices=("final_loss", "loss_auc", "steps_to_target")
    )
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("replay", help="re-run a snapshot; fail if the results differ")
    p.add_argument("snapshot", metavar="SNAPSHOT", help="a .json snapshot written by run --out")
    p.add_argument("--out", metavar="FILE", help="write the replayed result (as run --out)")
    scale_option(p)
    cache_option(p)
    p.set_defaults(handler=cmd_replay)

    from app import cli_batch

    cli_batch.add_parser(sub)
    return parser


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
        args = build_parser(prog).parse_args(join_negative(argv))
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
