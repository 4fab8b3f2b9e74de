"""Widgets made from parameter specs (surfaces' ``Param``, the optimizer declarations' ``HParam``:
same fields).

Log-scaled numbers get a log slider (a 1-2-5 series across the range); linear ones a slider;
integers a number input; flags a toggle; choices a select box. A value from a link or a snapshot
that lies outside the offered range is kept, and the range widened, so nothing set is lost.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st


def log_options(low: float, high: float, current: Any = None) -> list[float]:
    """1, 2, 5 and 1.5, 3, 7 per decade between ``low`` and ``high``, plus the current value."""
    low, high = float(low), float(high)
    out = {low, high}
    for d in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for m in (1, 1.5, 2, 3, 5, 7):
            v = float(f"{m * 10.0**d:.6g}")
            if low <= v <= high:
                out.add(v)
    if isinstance(current, int | float) and not isinstance(current, bool) and current > 0:
        out.add(float(current))
    return sorted(out)


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _linear_step(low: float, high: float) -> float:
    span = high - low
    return float(f"{span / 100:.1g}") if span > 0 else 0.01


def param(spec: Any, key: str, *, label: str | None = None, disabled: bool = False) -> Any:
    """Draw the widget for one parameter; its value lives in ``st.session_state[key]``."""
    label = label or spec.name
    state = st.session_state
    if key not in state:
        state[key] = spec.default
    value = state[key]
    kind, help_text = spec.kind, spec.help or None
    if kind == "bool":
        return st.toggle(label, key=key, help=help_text, disabled=disabled)
    if kind == "choice":
        return st.selectbox(label, spec.choices, key=key, help=help_text, disabled=disabled)
    if kind == "str":
        return st.text_input(label, key=key, help=help_text, disabled=disabled)
    if kind == "int":
        low = int(spec.low) if spec.low is not None else None
        high = int(spec.high) if spec.high is not None else None
        if isinstance(value, int) and low is not None and high is not None:
            low, high = min(low, value), max(high, value)
        return st.number_input(
            label, min_value=low, max_value=high, step=1, key=key, help=help_text, disabled=disabled
        )
    if kind == "float" and (spec.default is None or getattr(spec, "can_be_off", False)):
        value = _off_or_on(spec, key, label, help_text, disabled)
        if value is None:
            return None
    # float
    low = spec.low if spec.low is not None else 0.0
    high = spec.high if spec.high is not None else max(1.0, 10 * abs(float(value or 1.0)))
    if spec.scale == "log" and low > 0:
        options = log_options(low, high, value)
        if value not in options:
            state[key] = min(options, key=lambda o: abs(math.log(o) - math.log(max(value, 1e-300))))
        return st.select_slider(
            label, options=options, key=key, format_func=fmt, help=help_text, disabled=disabled
        )
    value = float(value) if isinstance(value, int | float) else float(spec.default)
    low, high = min(float(low), value), max(float(high), value)
    state[key] = value
    return st.slider(
        label,
        min_value=low,
        max_value=high,
        step=_linear_step(low, high),
        key=key,
        help=help_text,
        format="%g",
        disabled=disabled,
    )


def _off_or_on(spec: Any, key: str, label: str, help_text: str | None, disabled: bool) -> Any:
    """A float that may be off (None: Prodigy's beta_3, Muon's rms_rate): a toggle sets it;
    switched on from off, it starts mid-range. Returns its value, None when off."""
    state = st.session_state
    on_key = f"{key}.on"
    if on_key not in state:
        state[on_key] = state[key] is not None
    if not st.toggle(f"set {label}", key=on_key, help=help_text, disabled=disabled):
        state[key] = None
        return None
    if state[key] is None:
        low, high = float(spec.low), float(spec.high)
        state[key] = math.sqrt(low * high) if spec.scale == "log" and low > 0 else (low + high) / 2
    return state[key]
