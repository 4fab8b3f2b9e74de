r"""The scene grammar: the text with which share links and the command line name an optimizer
instance, a surface and their values. One parser, so a value means the same at every entrance.

Grammar (spaces around the pieces are ignored)::

    spec   := NAME "(" [args] ")"           Adam(learning_rate=0.05,beta_1=0.8)     (links)
            | NAME [":" args]               Adam:lr=0.05,beta_1=0.8                 (command line)
    args   := piece ("," piece)*            empty pieces are skipped
    piece  := KEY "=" value                 one value
            | FLAG                          a bare word its reader allows (an instance's ``off``)
            | text                          any other piece continues the previous value:
                                            hidden=16,16 is hidden="16,16"
    NAME, KEY := [A-Za-z_][A-Za-z0-9_]*     (the ":" form's NAME is any text before the ":")

Commas split pieces only outside brackets ``( ) [ ] { }`` and outside double-quoted text; the
brackets must balance and match. :func:`parse_value` reads a value's text::

    value  := NAME "(" [KEY "=" value ("," KEY "=" value)*] ")"
                                            a schedule: cosine_decay(decay_steps=500) is
                                            {"schedule": "cosine_decay", "decay_steps": 500}
            | "{" ... "}" | "[" ... "]"     JSON (no NaN, no Infinity)
            | '"' ... '"'                   text, with JSON's escapes: "a,b", "say \"hi\""
            | integer | decimal             3, -2, 1e-3, .5; a number must be finite
            | true | false | none | null    in any case
            | text                          anything else, as written: paper_sqrt

Free text (a formula, an instance's name or colour, a choice such as ``variant``) is read by
:func:`parse_text` instead: as written, or the content of a quoted string, never as a number.
:func:`format_value` and :func:`format_text` write values so that they read back equal: links are
written with them. :func:`optimizer_entry`, :func:`surface_spec` and :func:`surface_param` give
a spec its meaning for :meth:`Experiment.from_dict <trajectories.experiment.Experiment.from_dict>`
(which then checks every value): ``name=`` and ``color=`` (``#`` optional) set the display,
``off`` disables an instance, ``lr`` is short for ``learning_rate``.

Limits (:mod:`trajectories.limits`): a spec or a value is at most ``MAX_SPEC_CHARS`` characters,
and values nest at most ``MAX_NESTING`` deep below the first. Every problem is a one-line
:class:`~trajectories.errors.FieldError` naming the part (the key, the piece) and carrying the
field of the experiment it concerns (``optimizers[1].beta_1``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from trajectories import limits
from trajectories.errors import FieldError

ALIASES = {"lr": "learning_rate"}
OPTIMIZER_FLAGS = ("off",)
TEXT_KINDS = ("str", "choice")  # parameter kinds whose values are free text

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*", re.S)
_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)", re.S)
_INT = re.compile(r"[-+]?\d+")
_DECIMAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_MAX_INT_DIGITS = 18  # longer integers read as decimals (and must be finite)
_PAIRS = {"(": ")", "[": "]", "{": "}"}


class Spec(NamedTuple):
    """A parsed spec: its name, the raw text of each ``KEY=value`` (in order) and its flags."""

    name: str
    args: dict[str, str]
    flags: tuple[str, ...] = ()


def show(text: str, width: int = 40) -> str:
    """Text as messages quote it: never more than ``width`` characters and one line."""
    text = repr(text)
    return text if len(text) <= width else text[: width - 4] + "...'"


def _fail(field: str, message: str) -> FieldError:
    return FieldError(field, " ".join(message.split()))


def _check_length(text: str, where: str, field: str) -> None:
    if len(text) > limits.MAX_SPEC_CHARS:
        raise _fail(
            field,
            f"{where}: {len(text):,} characters is too long "
            f"(at most {limits.MAX_SPEC_CHARS:,}): {show(text, 30)}",
        )


def _scan(text: str, where: str, field: str) -> tuple[list[str], int]:
    """``text`` split on commas outside brackets and quotes, and its deepest bracket nesting."""
    pieces, stack, start, deepest = [], [], 0, 0
    quoted = escaped = False
    for i, ch in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in _PAIRS:
            stack.append(_PAIRS[ch])
            deepest = max(deepest, len(stack))
        elif ch in ")]}":
            if not stack:
                raise _fail(field, f"{where}: unbalanced {ch!r} in {show(text)}")
            if stack.pop() != ch:
                raise _fail(field, f"{where}: mismatched {ch!r} in {show(text)}")
        elif ch == "," and not stack:
            pieces.append(text[start:i])
            start = i + 1
    if quoted:
        raise _fail(field, f"{where}: unterminated '\"' in {show(text)}")
    if stack:
        opener = next(k for k, v in _PAIRS.items() if v == stack[-1])
        raise _fail(field, f"{where}: unbalanced {opener!r} in {show(text)}")
    pieces.append(text[start:])
    return pieces, deepest


def _check_nesting(deepest: int, where: str, field: str) -> None:
    if deepest > limits.MAX_NESTING + 1:
        most = limits.MAX_NESTING + 1
        raise _fail(field, f"{where}: nested too deeply (at most {most} levels of brackets)")


def parse_args(
    text: str, where: str = "args", field: str = "", flags: Sequence[str] = ()
) -> tuple[dict[str, str], tuple[str, ...]]:
    """``k=v,...`` -> (the raw text of each value, the flags); see the module's grammar."""
    _check_length(text, where, field)
    pieces, _ = _scan(text, where, field)  # deep brackets are fine here (a formula's): values
    args: dict[str, str] = {}  # are held to MAX_NESTING when they are read
    found: list[str] = []
    last = None
    for piece in pieces:
        if not piece.strip():
            continue
        m = _KEY.fullmatch(piece)
        if m:
            last = m.group(1)
            if last in args:
                raise _fail(field, f"{where}: {last!r} is given twice")
            args[last] = m.group(2)
        elif piece.strip() in flags:
            found.append(piece.strip())
            last = None
        elif last is None:
            raise _fail(field, f"{where}: {show(piece.strip())} is not k=v")
        else:
            args[last] += "," + piece
    return {k: v.strip() for k, v in args.items()}, tuple(found)


def parse_spec(text: str, what: str = "", field: str = "", flags: Sequence[str] = ()) -> Spec:
    """``NAME(k=v,...)`` or ``NAME[:k=v,...]`` -> :class:`Spec`; ``what`` (``--optimizer``)
    starts every message."""
    text = str(text)
    _check_length(text, what or "spec", field)
    call = _CALL.fullmatch(text)
    if call:
        name, rest = call.group(1), call.group(2)
    elif re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*\(", text):
        _scan(text, what or "spec", field)  # names an unbalanced bracket
        raise _fail(field, f"{what} {show(text)}: expected NAME(k=v,...)".strip())
    else:
        name, sep, rest = text.partition(":")
        name = name.strip()
        if not name:
            raise _fail(field, f"{what} {show(text)}: expected NAME or NAME:k=v,...".strip())
        if sep and not rest.strip():
            raise _fail(field, f"{what} {show(text)}: nothing after ':' (expected k=v,...)".strip())
    args, found = parse_args(rest, f"{what} {name}".strip(), field, flags)
    return Spec(name, args, found)


def _number(t: str, where: str, field: str) -> float:
    v = float(t)
    if not math.isfinite(v):
        raise _fail(field, f"{where}: {show(t)} is not a finite number")
    return v


def _json_int(t: str) -> int | float:
    digits = t.lstrip("+-")
    return int(t) if len(digits) <= _MAX_INT_DIGITS else float(t)


def _no_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def parse_value(text: str, where: str = "value", field: str = "") -> Any:
    """A value's text -> int, float, bool, None, a schedule (dict), JSON or text (the grammar in
    the module's docstring). No eval: every form is matched, nothing is executed."""
    t = str(text).strip()
    _check_length(t, where, field)
    _check_nesting(_scan(t, where, field)[1], where, field)
    return _value(t, where, field)


def _value(t: str, where: str, field: str) -> Any:
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if low.lstrip("+-") in ("nan", "inf", "infinity"):
        raise _fail(field, f"{where}: {show(t)} is not a finite number")
    if _INT.fullmatch(t) and len(t.lstrip("+-")) <= _MAX_INT_DIGITS:
        return int(t)
    if _DECIMAL.fullmatch(t):
        return _number(t, where, field)
    if t[:1] in ("{", "["):
        try:
            return json.loads(
                t,
                parse_constant=_no_constant,
                parse_float=lambda s: _number(s, where, field),
                parse_int=_json_int,
            )
        except FieldError:
            raise
        except ValueError as err:  # JSONDecodeError, or a constant
            reason = getattr(err, "msg", str(err))
            raise _fail(field, f"{where}: {show(t)} is not valid JSON ({reason})") from None
    if t[:1] == '"':
        return parse_text(t, where, field)
    call = _CALL.fullmatch(t)
    if call:
        kind, rest = call.group(1), call.group(2)
        args, _ = parse_args(rest, f"{where} {kind}", field)
        if "schedule" in args:
            raise _fail(field, f"{where}: {kind}(...) names its schedule already")
        out: dict[str, Any] = {"schedule": kind}
        for key, raw in args.items():
            out[key] = _value(raw.strip(), f"{where}.{key}", field)
        return out
    return t


def parse_text(text: str, where: str = "value", field: str = "") -> str:
    """Free text as written (spaces around it dropped), or the content of a quoted string."""
    t = str(text).strip()
    _check_length(t, where, field)
    if t[:1] != '"':
        return t
    try:
        value = json.loads(t)
    except ValueError:
        value = None
    if not isinstance(value, str):
        raise _fail(field, f'{where}: {show(t)} is not a quoted text like "a,b"')
    return value


def parse_point(text: str, what: str = "point", field: str = "") -> tuple[float, ...]:
    """``x,y`` (or one number per weight) -> finite floats."""
    t = str(text)
    message = f"{what} {show(t, 30)}: expected comma-separated numbers such as -1.5,2"
    out = []
    for piece in t.split(","):
        piece = piece.strip()
        if not (_INT.fullmatch(piece) or _DECIMAL.fullmatch(piece)):
            raise _fail(field, message)
        v = float(piece)
        if not math.isfinite(v):
            raise _fail(field, message)
        out.append(v)
    return tuple(out)


# ---- writing ---------------------------------------------------------------------------------
def format_number(v: Any) -> str:
    """A number as the grammar reads it back equal: Python's shortest round-trip ``repr``
    (whole floats without ``.0``), ``true``/``false`` for booleans."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _reads_back(text: str) -> bool:
    """Whether ``text`` written as it is reads back as one piece of the same text."""
    if text != text.strip() or text[:1] == '"':
        return False
    try:
        pieces, _ = _scan(text, "", "")
    except FieldError:
        return False
    return len(pieces) == 1


def format_text(text: str) -> str:
    """Free text as :func:`parse_text` reads it back: as it is, or quoted when it must be."""
    text = str(text)
    return text if _reads_back(text) else json.dumps(text, ensure_ascii=False)


def format_value(v: Any) -> str:
    """A value as :func:`parse_value` reads it back equal: schedules as calls, text quoted when
    it would read as something else."""
    if isinstance(v, Mapping):
        kind = v.get("schedule")
        if isinstance(kind, str) and _NAME.fullmatch(kind):
            args = ",".join(f"{k}={format_value(x)}" for k, x in v.items() if k != "schedule")
            return f"{kind}({args})"
        return json.dumps(v, allow_nan=False, separators=(",", ":"))
    if isinstance(v, list | tuple):
        return json.dumps(list(v), allow_nan=False, separators=(",", ":"))
    if v is None:
        return "none"
    if isinstance(v, str):
        text = format_text(v)
        try:
            same = text != v or parse_value(v) == v
        except FieldError:
            same = False
        return text if same else json.dumps(v, ensure_ascii=False)
    return format_number(v)


# ---- meaning: what a spec says about an experiment -----------------------------------------
def optimizer_entry(text: str, what: str = "", field: str = "optimizers[0]") -> dict[str, Any]:
    """``Kind(k=v,...)`` or ``Kind:k=v,...`` -> an ``Experiment.from_dict`` optimizer entry.

    ``name=`` and ``color=`` set the display name and colour (``#`` optional), the flag ``off``
    disables the instance, ``lr`` is ``learning_rate``; a choice hyperparameter keeps its text.
    """
    import optimizers

    spec = parse_spec(text, what, field, OPTIMIZER_FLAGS)
    try:
        info = optimizers.get(spec.name)
        kinds = {h.name: h.kind for h in (*info.hyperparams, *optimizers.OPTIONS)}
    except ValueError:
        kinds = {}  # the experiment's validation names the unknown optimizer
    entry: dict[str, Any] = {"kind": spec.name, "hyperparams": {}}
    for key, raw in spec.args.items():
        where = f"{spec.name}.{key}"
        if key == "name":
            entry["name"] = parse_text(raw, where, f"{field}.name")
        elif key == "color":
            color = parse_text(raw, where, f"{field}.color")
            entry["color"] = "#" + color.lstrip("#") if color else ""
        else:
            key = ALIASES.get(key, key)
            if key in entry["hyperparams"]:
                raise _fail(f"{field}.{key}", f"{what} {spec.name}: {key!r} is given twice".strip())
            read = parse_text if kinds.get(key) == "choice" else parse_value
            entry["hyperparams"][key] = read(raw, where, f"{field}.{key}")
    if "off" in spec.flags:
        entry["enabled"] = False
    return entry


def surface_param(surface: str, key: str, raw: str) -> Any:
    """One surface parameter's value from its text: free text for a text or choice parameter,
    else a value (the surface's own check comes later)."""
    import surfaces

    family = surfaces.FAMILIES.get(surface)
    kind = next((p.kind for p in family.params if p.name == key), None) if family else None
    where, field = f"surface {surface}.{key}", f"surface_params.{key}"
    return parse_text(raw, where, field) if kind in TEXT_KINDS else parse_value(raw, where, field)


def surface_spec(text: str, what: str = "--surface") -> tuple[str, dict[str, Any]]:
    """``name[:k=v,...]`` (or ``name(k=v,...)``) -> (the surface's name, its parameters)."""
    spec = parse_spec(text, what, "surface")
    return spec.name, {k: surface_param(spec.name, k, v) for k, v in spec.args.items()}
