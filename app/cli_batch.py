"""``python -m app.cli batch-scaling``: steps to a target loss against batch size on the noisy
quadratic model, each optimizer at its best learning rate per batch size
(:mod:`trajectories.batch_scaling`). Written as CSV (or JSON) with the columns
``optimizer, batch_size, learning_rate, steps_to_target`` (empty where the target is never
reached)."""

from __future__ import annotations

import argparse
import math

from app.cli_output import ProgressBar, table

COLUMNS = ("optimizer", "batch_size", "learning_rate", "steps_to_target")


def batch_sizes(text: str) -> list[float]:
    """``1,2,4,...`` -> numbers (argparse type: a bad list is refused in one line)."""
    out = []
    for piece in str(text).split(","):
        try:
            value = float(piece)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"batch size {piece.strip()!r} is not a number (expected e.g. 1,2,4,8)"
            ) from None
        if not (math.isfinite(value) and 1 <= value <= 1e6):
            raise argparse.ArgumentTypeError(f"batch size {piece.strip()} must be from 1 to 1e6")
        out.append(value)
    return out


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def add_parser(sub) -> None:
    from trajectories import batch_scaling as bs

    p = sub.add_parser(
        "batch-scaling",
        help="steps to a target loss against batch size on the noisy quadratic model",
    )
    p.add_argument(
        "--surface",
        default="noisy_quadratic",
        metavar="noisy_quadratic[:k=v,...]",
        help="the NQM and its parameters (dim, spectrum, condition, noise_scale); its "
        "batch_size is set by --batch-sizes",
    )
    p.add_argument(
        "--optimizer",
        action="append",
        choices=tuple(bs.OPTIMIZER_SPECS),
        help=f"repeatable (default: all of {', '.join(bs.OPTIMIZER_SPECS)})",
    )
    p.add_argument(
        "--batch-sizes",
        type=batch_sizes,
        default=list(bs.DEFAULT_BATCH_SIZES),
        metavar="B1,B2,...",
        help=f"default {','.join(map(str, bs.DEFAULT_BATCH_SIZES))}",
    )
    p.add_argument(
        "--target",
        type=positive_float,
        default=bs.DEFAULT_TARGET,
        help="target loss (default %(default)s)",
    )
    p.add_argument("--out", metavar="FILE", help="write the rows: .csv or .json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=cmd_batch_scaling)


def _cell(v: float):
    return None if isinstance(v, float) and math.isnan(v) else v


def cmd_batch_scaling(args) -> int:
    from app import exports
    from trajectories import batch_scaling as bs
    from trajectories import grammar, sweeps

    name, params = grammar.surface_spec(args.surface)
    if name != bs.SURFACE:
        raise ValueError(f"batch scaling runs on the noisy quadratic model, not {name!r}")
    if "batch_size" in params:
        raise ValueError("batch scaling: set the batch sizes with --batch-sizes, not batch_size=")
    if args.out:
        exports.check_table_path(args.out)
    bar = None if args.no_progress else ProgressBar("batch scaling")
    try:
        rows = bs.batch_scaling(
            args.optimizer or bs.DEFAULT_OPTIMIZERS,
            args.batch_sizes,
            surface_params=params,
            target=args.target,
            progress=bar,
        )
    except sweeps.Cancelled:
        raise KeyboardInterrupt from None
    finally:
        if bar is not None:
            bar.close()
    cells = [
        [r.optimizer, r.batch_size, _cell(r.learning_rate), _cell(r.steps_to_target)] for r in rows
    ]
    print(f"steps to loss {args.target:g} at each optimizer's best learning rate")
    print(table(list(COLUMNS), cells))
    if args.out:
        doc = {
            "target": args.target,
            "surface": args.surface,
            "rows": [dict(zip(COLUMNS, c, strict=True)) for c in cells],
        }
        exports.write_doc(args.out, doc, COLUMNS, cells)
        print(f"wrote {args.out} ({len(rows)} rows)")
    return 0
