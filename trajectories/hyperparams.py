"""Hyperparameters as the compiled kernels see them: static (part of a program's structure) or
traced (an input, so changing it never recompiles), as each optimizer's declaration says
(``HParam.traced``). A schedule's numeric fields are traced under ``"name/field"`` paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optimizers

TRACED_SEP = "/"  # "learning_rate/decay_steps": a traced field of a schedule


def _flatten_schedule(prefix: str, config: Mapping[str, Any], traced: dict, static: list) -> None:
    for key, value in sorted(config.items()):
        path = f"{prefix}{TRACED_SEP}{key}"
        if isinstance(value, Mapping):
            _flatten_schedule(path, value, traced, static)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            traced[path] = float(value)
        else:
            static.append((path, value))


def split_hyperparams(
    info: optimizers.OptimizerInfo, values: Mapping[str, Any]
) -> tuple[tuple, dict[str, float]]:
    """``(static items, traced floats)``, as the declaration says (``HParam.traced``).

    A value is traced when its hyperparameter or option is declared traced and the value is a
    number; flags, choices, integer options (accumulation steps, overwrite frequency), ``None``
    (an option that is off: whether it is set is structural) and a schedule's kind are static.
    A schedule's numeric fields are traced.
    """
    static: list = []
    traced: dict[str, float] = {}
    for name, value in sorted(values.items()):
        if isinstance(value, Mapping):
            _flatten_schedule(name, value, traced, static)
        elif info.traced(name) and isinstance(value, int | float) and not isinstance(value, bool):
            traced[name] = float(value)
        else:
            static.append((name, int(value) if _is_int(info, name, value) else value))
    return tuple(static), traced


def _is_int(info: optimizers.OptimizerInfo, name: str, value: Any) -> bool:
    kinds = {h.name: h.kind for h in (*info.hyperparams, *optimizers.OPTIONS)}
    return (
        kinds.get(name) == "int" and isinstance(value, int | float) and not isinstance(value, bool)
    )


def unflatten(static: tuple, traced: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in [*static, *traced.items()]:
        *parents, leaf = path.split(TRACED_SEP)
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out
