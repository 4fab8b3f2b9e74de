"""The index of the optimizer declarations: what the app, the command line and the tests read.

Each optimizer is declared once, next to its update rule (``OptimizerInfo`` in
``optimizers/declare.py``); this module only lists them, in the picker's order (by group, as
``declare.GROUPS``), and writes the README's optimizer table from them.
"""

from __future__ import annotations

from optimizers import (
    adabelief,
    adadelta,
    adafactor,
    adagrad,
    adam,
    adan,
    ademamix,
    adopt,
    ftrl,
    lamb,
    lars,
    lbfgs,
    lion,
    muon,
    novograd,
    prodigy,
    radam,
    rmsprop,
    rprop,
    schedule_free,
    sgd,
    signum,
    wame,
    yogi,
)
from optimizers.declare import GROUPS, OPTIONS, HParam, OptimizerInfo

__all__ = ["GROUPS", "OPTIMIZERS", "OPTIONS", "HParam", "OptimizerInfo", "get", "readme_table"]

OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in (
        sgd.SGD_INFO,
        sgd.MOMENTUM_INFO,
        sgd.NESTEROV_INFO,
        ftrl.FTRL_INFO,
        adagrad.ADAGRAD_INFO,
        rmsprop.RMSPROP_INFO,
        adadelta.ADADELTA_INFO,
        adam.ADAM_INFO,
        adam.AMSGRAD_INFO,
        adam.ADAMW_INFO,
        adam.ADAMAX_INFO,
        adam.NADAM_INFO,
        radam.RADAM_INFO,
        adabelief.ADABELIEF_INFO,
        yogi.YOGI_INFO,
        adopt.ADOPT_INFO,
        ademamix.ADEMAMIX_INFO,
        adan.ADAN_INFO,
        adafactor.ADAFACTOR_INFO,
        lars.LARS_INFO,
        lamb.LAMB_INFO,
        novograd.NOVOGRAD_INFO,
        muon.MUON_INFO,
        lion.LION_INFO,
        signum.SIGNUM_INFO,
        rprop.RPROP_INFO,
        wame.WAME_INFO,
        lbfgs.LBFGS_INFO,
        prodigy.PRODIGY_INFO,
        schedule_free.SCHEDULE_FREE_ADAMW_INFO,
    )
}


# Optimizers made in Python (``optimizers.from_optax``), by name: this process only, never in
# OPTIMIZERS (the app, the links and the command line offer only the declared ones).
PYTHON_ONLY: dict[str, OptimizerInfo] = {}


def get(name: str) -> OptimizerInfo:
    """The declaration of an optimizer, by name (case-insensitive), built-in or made in Python
    in this process (``optimizers.from_optax``)."""
    if isinstance(name, str) and name in OPTIMIZERS:  # the usual case, on every run's hot path
        return OPTIMIZERS[name]
    for key, info in OPTIMIZERS.items():
        if key.lower() == str(name).lower():
            return info
    if isinstance(name, str) and name in PYTHON_ONLY:
        return PYTHON_ONLY[name]
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
