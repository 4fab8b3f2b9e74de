"""The command line's scene: its flags (``--surface``, ``--optimizer``, ``--start`` ...), their
values parsed with the scene grammar (:mod:`trajectories.grammar`) into a validated experiment,
and negative numbers kept as values (``--start -1.5,2``). The commands are in :mod:`app.cli`."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any


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


# ---- the scene's flags and the values they take -------------------------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def scene_options(p: argparse.ArgumentParser, *, starts: bool = True) -> None:
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
    cache_option(p)


def cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="compile afresh, without the on-disk compilation cache (see app/jax_cache.py)",
    )


def scale_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scale",
        type=float,
        metavar="S",
        help="a .png or .gif's size: S x 880 x 620 px, S from 1 to 4 (default 2: 1,760 px wide)",
    )


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


def join_negative(argv: Sequence[str]) -> list[str]:
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
