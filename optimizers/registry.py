"""The index of the optimizer declarations: what the app, the command line and the tests read.

Each optimizer is declared once, next to its update rule (``OptimizerInfo`` in
``optimizers/declare.py``); this module only lists them, in the picker's order, and writes the
README's optimizer table from them.
"""

from __future__ import annotations

from optimizers import adadelta, adagrad, adam, lars, rmsprop, sgd, wame
from optimizers.declare import GROUPS, OPTIONS, HParam, OptimizerInfo

__all__ = ["GROUPS", "OPTIMIZERS", "OPTIONS", "HParam", "OptimizerInfo", "get", "readme_table"]

OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in (
        sgd.SGD_INFO,
        sgd.MOMENTUM_INFO,
        sgd.NESTEROV_INFO,
        adagrad.ADAGRAD_INFO,
        rmsprop.RMSPROP_INFO,
        adadelta.ADADELTA_INFO,
        adam.ADAM_INFO,
        adam.AMSGRAD_INFO,
        adam.ADAMW_INFO,
        adam.ADAMAX_INFO,
        adam.NADAM_INFO,
        lars.LARS_INFO,
        wame.WAME_INFO,
    )
}


def get(name: str) -> OptimizerInfo:
    """The declaration of an optimizer, by name (case-insensitive)."""
    if isinstance(name, str) and name in OPTIMIZERS:  # the usual case, on every run's hot path
        return OPTIMIZERS[name]
    for key, info in OPTIMIZERS.items():
        if key.lower() == str(name).lower():
            return info
    raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")


def _signature(info: OptimizerInfo) -> str:
    if info.parent is not None:
        fixed = ", ".join(f"{k}={v!r}" for k, v in info.fixed.items())
        return f"`{info.parent.name}({fixed})`"
    return "`" + ", ".join(f"{h.name}={h.default!r}" for h in info.hyperparams) + "`"


def readme_table() -> str:
    """The README's optimizer table (Markdown), written from the declarations.

    ``tests/test_readme.py`` fails when README.md holds another one: regenerate it with
    ``python -c "import optimizers; print(optimizers.readme_table())"``.
    """
    rows = [
        "| optimizer | group | signature (defaults) | matches exactly | per-weight learning rate |",
        "|---|---|---|---|---|",
    ]
    for info in OPTIMIZERS.values():
        cells = [
            f"`{info.name}`" if info.parent is None else info.name,
            info.group,
            _signature(info),
            info.matches,
            f"${info.learning_rate_latex}$",
        ]
        rows.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
