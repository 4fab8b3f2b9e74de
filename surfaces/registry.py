"""Every surface family by name: ``get(name, **params)`` checks the parameters and builds it."""

from __future__ import annotations

from typing import Any

import numpy as np

from surfaces import classic, custom, high_dim, learned, noisy_quadratic
from surfaces.base import Family, Surface
from surfaces.noise import with_gradient_noise
from surfaces.params import resolve

__all__ = ["FAMILIES", "catalogue_markdown", "families", "get", "with_gradient_noise"]

FAMILIES: dict[str, Family] = {
    family.name: family
    for module in (classic, noisy_quadratic, high_dim, learned, custom)
    for family in module.FAMILIES
}


def families() -> list[Family]:
    """All families, in catalogue order (classic, noisy, high-dimensional, learned, custom)."""
    return list(FAMILIES.values())


def get(name: str, **params: Any) -> Surface:
    """The surface ``name`` with ``params`` (defaults for the rest).

    A ValueError names what is wrong: an unknown surface or parameter, a value of the wrong
    type, out of range or not finite, or a formula that does not parse. ``Surface.params`` holds
    the full resolved parameters, so ``get(s.name, **s.params)`` builds the same surface again.
    """
    family = FAMILIES.get(name) if isinstance(name, str) else None
    if family is None:
        raise ValueError(f"unknown surface {name!r} (known: {', '.join(FAMILIES)})")
    return family.build(**resolve(name, family.params, params))


# -- the README table ------------------------------------------------------------------------------
def _number(v: float) -> str:
    return f"{v:.6g}".replace("e-0", "e-").replace("e+0", "e")


def _point(p: np.ndarray) -> str:
    if len(p) > 3 and np.all(p == p[0]):
        return f"({_number(p[0])}, …, {_number(p[0])})"
    if len(p) > 3:
        return f"({', '.join(_number(v) for v in p[:2])}, …)"
    return f"({', '.join(_number(v) for v in p)})"


def _minimum(surface: Surface, family: Family) -> tuple[str, str]:
    if surface.optimal_value is None:
        unbounded = family.category == "classic"
        return ("none (unbounded below)" if unbounded else "unknown"), "—"
    return ", ".join(_point(p) for p in surface.minima), _number(surface.optimal_value)


def catalogue_markdown() -> str:
    """A Markdown table of every family: name, title, formula, defaults, minimum, reference."""
    rows = [
        "| Name | Surface | Formula | Default parameters | Minimum $x^*$ | $f^*$ | Reference |",
        "|---|---|---|---|---|---|---|",
    ]
    for family in families():
        surface = get(family.name)
        defaults = ", ".join(f"{k}={v!r}" for k, v in surface.params.items()) or "—"
        x_star, f_star = _minimum(surface, family)
        cells = [
            f"`{family.name}`",
            family.title,
            f"${surface.latex}$",
            defaults,
            x_star,
            f_star,
            surface.reference,
        ]
        rows.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
