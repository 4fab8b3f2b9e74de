"""The custom surface: a formula in ``x`` and ``y`` typed by the user (see :mod:`surfaces.formula`).

The formula text is static (it is the code: it goes into ``static_key``); the window and the
colour scale are description only. Nothing is known about minima.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from surfaces import formula
from surfaces.base import Family, LossFn, Param, Surface
from surfaces.losses import loss_function
from surfaces.params import static_key

NAME = "custom"
_EDGE = 1e4
PARAMS = (
    Param(
        "formula",
        "sin(x)*cos(y) + (x^2 + y^2)/10",
        kind="str",
        static=True,
        help="a formula in x and y, e.g. (1-x)^2 + 100*(y-x^2)^2",
    ),
    Param("xmin", -5.0, -_EDGE, _EDGE, help="left edge of the window"),
    Param("xmax", 5.0, -_EDGE, _EDGE, help="right edge of the window"),
    Param("ymin", -5.0, -_EDGE, _EDGE, help="bottom edge of the window"),
    Param("ymax", 5.0, -_EDGE, _EDGE, help="top edge of the window"),
    Param("log_scale", False, kind="bool", help="colour by log(f - min f)"),
)


@functools.lru_cache(maxsize=256)
def compiled(text: str) -> tuple[LossFn, str]:
    """``(fn, latex)`` for a formula; cached so that one text gives one function object."""
    parsed = formula.parse(text)

    @loss_function
    def fn(w, theta):
        return parsed(w[..., 0], w[..., 1])

    return fn, parsed.latex


def build(**values: Any) -> Surface:
    try:
        fn, latex = compiled(values["formula"])
    except formula.FormulaError as error:
        context = f"surface {NAME!r}: parameter formula"
        raise formula.FormulaError(error.reason, error.column, context) from None
    window = np.array([[values["xmin"], values["xmax"]], [values["ymin"], values["ymax"]]])
    for axis, (low, high) in zip("xy", window, strict=True):
        if not low < high:
            raise ValueError(
                f"surface {NAME!r}: the window needs {axis}min < {axis}max, got "
                f"{axis}min={low!r}, {axis}max={high!r}"
            )
    span = window[:, 1] - window[:, 0]
    return Surface(
        name=NAME,
        title="Custom formula",
        latex=f"f(x, y) = {latex}",
        reference="Typed by the user",
        dim=2,
        fn=fn,
        theta={},
        static_key=static_key(NAME, PARAMS, values),
        bounds=window + np.outer(span, [-1.0, 1.0]),  # the window widened by its size each side
        window=window,
        minima=np.zeros((0, 2)),
        optimal_value=None,
        starts=(window[:, 0] + np.array([0.2, 0.8]) * span)[None, :],  # upper-left area
        log_scale=values["log_scale"],
        params=values,
        notes=f"f(x, y) = {values['formula']}",
    )


FAMILY = Family(
    name=NAME,
    title="Custom formula",
    category="custom",
    params=PARAMS,
    build=build,
    summary="Any formula in x and y, parsed safely.",
)
FAMILIES = (FAMILY,)
