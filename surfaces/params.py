"""Checking user-given surface parameters against their :class:`~surfaces.base.Param` declarations.

Every error is a ``ValueError`` whose message names the surface, the parameter, the value and
what is allowed, e.g. ``surface 'rosenbrock': parameter b=-1.0 is out of range [0.0, 10000.0]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from surfaces.base import Param

_REAL_TYPES = (int, float, np.integer, np.floating)
_BOOL_TYPES = (bool, np.bool_)


def resolve(surface: str, declared: tuple[Param, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    """The full parameter dict of a surface: ``given`` checked, defaults filled in, in order."""
    by_name = {p.name: p for p in declared}
    for name in given:
        if name not in by_name:
            valid = ", ".join(by_name) if by_name else "none"
            raise ValueError(f"surface {surface!r}: unknown parameter {name!r} (valid: {valid})")
    return {p.name: check(surface, p, given.get(p.name, p.default)) for p in declared}


def static_key(surface: str, declared: tuple[Param, ...], values: Mapping[str, Any]) -> tuple:
    """``(surface, (name, value), ...)`` for the static parameters: what fixes the code."""
    return (surface, *((p.name, values[p.name]) for p in declared if p.static))


def check(surface: str, param: Param, value: Any) -> Any:
    """``value`` converted to the parameter's kind, or a ValueError that says what is wrong."""
    where = f"surface {surface!r}: parameter {param.name}"
    if param.kind in ("float", "int"):
        return _check_number(where, param, value)
    if param.kind == "bool":
        if not isinstance(value, _BOOL_TYPES):
            raise ValueError(f"{where} must be true or false, got {_show(value)}")
        return bool(value)
    if param.kind == "choice":
        if not isinstance(value, str) or value not in param.choices:
            allowed = ", ".join(repr(c) for c in param.choices)
            raise ValueError(f"{where}={_show(value)} is not one of {allowed}")
        return value
    if param.kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, got {_show(value)}")
        return value
    raise TypeError(f"{where}: unknown parameter kind {param.kind!r}")  # a bug in a family


def _check_number(where: str, param: Param, value: Any) -> float | int:
    if isinstance(value, _BOOL_TYPES) or not isinstance(value, _REAL_TYPES):
        raise ValueError(f"{where} must be a number, got {_show(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where}={number!r} is not a finite number")
    if param.kind == "int":
        if not number.is_integer():
            raise ValueError(f"{where}={number!r} must be a whole number")
        number = int(value)
    low = -math.inf if param.low is None else param.low
    high = math.inf if param.high is None else param.high
    if not low <= number <= high:
        raise ValueError(f"{where}={number!r} is out of range [{low!r}, {high!r}]")
    return number


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"
