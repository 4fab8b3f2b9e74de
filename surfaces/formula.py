r"""A safe parser for formulas typed by users in ``x`` and ``y``, compiled to a JAX function.

The text is never given to ``eval``, ``exec`` or ``compile``: a tokenizer and a recursive-descent
parser build a small syntax tree from a whitelist, and the tree is turned into ``jax.numpy``
calls. Grammar (lowest binding first)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-") unary | power
    power      := atom (("^" | "**") unary)?       # right-associative: 2^3^2 = 2^9
    atom       := number | x | y | pi | e | function "(" arguments ")" | "(" expression ")"

so ``-x^2 = -(x^2)`` and ``x^-2`` is allowed. Numbers: ``3``, ``2.5``, ``.5``, ``1e-3``. Functions:
see :data:`FUNCTIONS` (plus the aliases ``asin``, ``acos``, ``atan``, ``atan2``). Implicit
multiplication (``2x``) is rejected. Limits, all checked before anything is evaluated:

* at most :data:`MAX_LENGTH` characters and :data:`MAX_NODES` tree nodes;
* nesting (parentheses, calls, signs, exponents) at most :data:`MAX_DEPTH` deep;
* numeric literals at most :data:`MAX_LITERAL` in absolute value;
* a constant exponent (one without ``x`` or ``y``, folded in float64) at most
  :data:`MAX_EXPONENT` in absolute value, and a constant power must be finite: ``9**9**9`` fails.

Every problem raises :class:`FormulaError` (a ``ValueError``) with the 1-based ``column`` and a
message saying what is wrong, e.g. ``column 1: unknown name '__import__' (allowed: x, y, ...)``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

MAX_LENGTH = 500
MAX_DEPTH = 30
MAX_NODES = 256
MAX_LITERAL = 1e6
MAX_EXPONENT = 20


class FormulaError(ValueError):
    """A formula that cannot be accepted: ``column`` (1-based) and ``reason`` say where and why."""

    def __init__(self, reason: str, column: int, context: str = ""):
        self.reason, self.column, self.context = reason, column, context
        message = f"column {column}: {reason}"
        super().__init__(f"{context}: {message}" if context else message)


# -- the whitelist ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MathFunction:
    arity: int
    jax: Callable[..., Any]
    numpy: Callable[..., Any]  # for folding constant sub-expressions in float64
    latex: Callable[[list[str]], str]


def _applied(command: str) -> Callable[[list[str]], str]:
    return lambda args: rf"{command}\left({', '.join(args)}\right)"


FUNCTIONS = {
    "sin": MathFunction(1, jnp.sin, np.sin, _applied(r"\sin")),
    "cos": MathFunction(1, jnp.cos, np.cos, _applied(r"\cos")),
    "tan": MathFunction(1, jnp.tan, np.tan, _applied(r"\tan")),
    "sinh": MathFunction(1, jnp.sinh, np.sinh, _applied(r"\sinh")),
    "cosh": MathFunction(1, jnp.cosh, np.cosh, _applied(r"\cosh")),
    "tanh": MathFunction(1, jnp.tanh, np.tanh, _applied(r"\tanh")),
    "arcsin": MathFunction(1, jnp.arcsin, np.arcsin, _applied(r"\arcsin")),
    "arccos": MathFunction(1, jnp.arccos, np.arccos, _applied(r"\arccos")),
    "arctan": MathFunction(1, jnp.arctan, np.arctan, _applied(r"\arctan")),
    "arctan2": MathFunction(2, jnp.arctan2, np.arctan2, _applied(r"\operatorname{arctan2}")),
    "exp": MathFunction(1, jnp.exp, np.exp, _applied(r"\exp")),
    "log": MathFunction(1, jnp.log, np.log, _applied(r"\ln")),
    "log10": MathFunction(1, jnp.log10, np.log10, _applied(r"\log_{10}")),
    "sqrt": MathFunction(1, jnp.sqrt, np.sqrt, lambda a: rf"\sqrt{{{a[0]}}}"),
    "abs": MathFunction(1, jnp.abs, np.abs, lambda a: rf"\left\lvert {a[0]} \right\rvert"),
    "sign": MathFunction(1, jnp.sign, np.sign, _applied(r"\operatorname{sign}")),
    "min": MathFunction(2, jnp.minimum, np.minimum, _applied(r"\min")),
    "max": MathFunction(2, jnp.maximum, np.maximum, _applied(r"\max")),
}
ALIASES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2"}
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")
ALLOWED_NAMES = (*VARIABLES, *CONSTANTS, *FUNCTIONS, *ALIASES)

_BINARY = {  # operator: (jax, numpy)
    "+": (jnp.add, np.add),
    "-": (jnp.subtract, np.subtract),
    "*": (jnp.multiply, np.multiply),
    "/": (jnp.divide, np.divide),
    "^": (jnp.power, np.power),
}


# -- syntax tree -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Number:
    value: float
    text: str
    column: int


@dataclasses.dataclass(frozen=True)
class Name:
    """``x``, ``y`` or a constant."""

    name: str
    column: int


@dataclasses.dataclass(frozen=True)
class Negate:
    operand: Node
    column: int


@dataclasses.dataclass(frozen=True)
class Binary:
    op: str  # "+", "-", "*", "/" or "^"
    left: Node
    right: Node
    column: int


@dataclasses.dataclass(frozen=True)
class Call:
    function: str  # canonical name, a key of FUNCTIONS
    args: tuple[Node, ...]
    column: int


Node = Number | Name | Negate | Binary | Call


# -- tokens ----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op", "bad" (a character outside the grammar) or "end"
    text: str
    column: int


_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
)


def tokenize(text: str) -> list[Token]:
    """Tokens up to the first character outside the grammar (a "bad" token), then "end".

    Errors are raised by the parser when it reaches a token, so they come in reading order.
    """
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            tokens.append(Token("bad", text[pos], pos + 1))
            break
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the formula"
    if token.kind == "bad":
        code = "" if token.text.isascii() else f" (U+{ord(token.text):04X})"
        return f"character {token.text!r}{code}"
    return repr(token.text)


# -- parser ----------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens, self.i, self.depth, self.nodes = tokens, 0, 0, 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)  # "end" repeats
        return token

    def at(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"the formula has more than {MAX_NODES} parts", node.column)
        return node

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"nesting deeper than {MAX_DEPTH} levels", token.column)

    def leave(self) -> None:
        self.depth -= 1

    def unexpected(self, token: Token, expected: str) -> FormulaError:
        if token.kind == "bad":
            return FormulaError(f"unexpected {_describe(token)}", token.column)
        hint = ""
        operand = token.kind == "number" or token.text in ALLOWED_NAMES or token.text == "("
        if expected == "an operator" and operand:
            hint = " (implicit multiplication is not allowed: write 2*x, not 2x)"
        return FormulaError(f"expected {expected}, found {_describe(token)}{hint}", token.column)

    def formula(self) -> Node:
        if self.peek().kind == "end":
            raise FormulaError("the formula is empty", 1)
        tree = self.expression()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek(), "an operator")
        return tree

    def expression(self) -> Node:
        left = self.term()
        while self.at("+", "-"):
            op = self.take()
            left = self.node(Binary(op.text, left, self.term(), op.column))
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.at("*", "/"):
            op = self.take()
            left = self.node(Binary(op.text, left, self.unary(), op.column))
        return left

    def unary(self) -> Node:
        if not self.at("+", "-"):
            return self.power()
        sign = self.take()
        self.enter(sign)
        operand = self.unary()
        self.leave()
        return operand if sign.text == "+" else self.node(Negate(operand, sign.column))

    def power(self) -> Node:
        base = self.atom()
        if not self.at("^", "**"):
            return base
        op = self.take()
        self.enter(op)
        exponent = self.unary()
        self.leave()
        return self.node(Binary("^", base, exponent, op.column))

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            value = float(token.text)  # the regex admits only plain decimal literals
            if not abs(value) <= MAX_LITERAL:
                raise FormulaError(
                    f"the number {token.text} is too large (at most {MAX_LITERAL:,.0f})",
                    token.column,
                )
            return self.node(Number(value, token.text, token.column))
        if token.kind == "name":
            if token.text in VARIABLES or token.text in CONSTANTS:
                return self.node(Name(token.text, token.column))
            function = ALIASES.get(token.text, token.text)
            if function in FUNCTIONS:
                return self.call(token, function)
            allowed = ", ".join(ALLOWED_NAMES)
            raise FormulaError(f"unknown name {token.text!r} (allowed: {allowed})", token.column)
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            inner = self.expression()
            self.leave()
            close = self.take()
            if close.text != ")" or close.kind != "op":
                raise self.unexpected(close, f"')' to close the '(' at column {token.column}")
            return inner
        raise self.unexpected(token, "a number, x, y, pi, e, a function or '('")

    def call(self, name: Token, function: str) -> Node:
        arity = FUNCTIONS[function].arity
        usage = f"{name.text}({', '.join('xy'[:arity])})"
        if not self.at("("):
            raise FormulaError(f"function {name.text!r} must be called, e.g. {usage}", name.column)
        opening = self.take()
        self.enter(opening)
        args = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.take()
                args.append(self.expression())
        self.leave()
        close = self.take()
        if close.text != ")" or close.kind != "op":
            raise self.unexpected(close, f"',' or ')' in the call to {name.text}")
        if len(args) != arity:
            plural = "s" if arity > 1 else ""
            raise FormulaError(
                f"{name.text} takes {arity} argument{plural}, got {len(args)}: write {usage}",
                name.column,
            )
        return self.node(Call(function, tuple(args), name.column))


# -- checks on constants ---------------------------------------------------------------------------
def constant_value(node: Node) -> float | None:
    """The float64 value of a sub-tree without ``x`` or ``y`` (``None`` when it has them).

    Visits every node and raises :class:`FormulaError` for a constant exponent above
    :data:`MAX_EXPONENT` or a constant power that overflows or is undefined.
    """
    with np.errstate(all="ignore"):
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Name):
            return CONSTANTS.get(node.name)
        if isinstance(node, Negate):
            value = constant_value(node.operand)
            return None if value is None else -value
        if isinstance(node, Call):
            values = [constant_value(a) for a in node.args]
            if any(v is None for v in values):
                return None
            return float(FUNCTIONS[node.function].numpy(*values))
        left, right = constant_value(node.left), constant_value(node.right)
        if node.op == "^" and right is not None and not abs(right) <= MAX_EXPONENT:
            raise FormulaError(
                f"the exponent {right:g} is too large: a constant exponent must be at most "
                f"{MAX_EXPONENT} in absolute value",
                node.column,
            )
        if left is None or right is None:
            return None
        value = float(_BINARY[node.op][1](left, right))
        if node.op == "^" and not math.isfinite(value):
            raise FormulaError(
                f"the constant power {_show(left)}^{_show(right)} overflows or is undefined",
                node.column,
            )
        return value


def _show(value: float) -> str:
    return f"({value:g})" if value < 0 else f"{value:g}"


# -- compilation to JAX and rendering to LaTeX -----------------------------------------------------
def _compile(node: Node) -> Callable[[Any, Any], Any]:
    """A function of ``(x, y)`` built from ``jax.numpy`` calls, one closure per node."""
    if isinstance(node, Number):
        value = node.value
        return lambda x, y: value
    if isinstance(node, Name):
        if node.name == "x":
            return lambda x, y: x
        if node.name == "y":
            return lambda x, y: y
        constant = CONSTANTS[node.name]
        return lambda x, y: constant
    if isinstance(node, Negate):
        operand = _compile(node.operand)
        return lambda x, y: jnp.negative(operand(x, y))
    if isinstance(node, Call):
        function, args = FUNCTIONS[node.function].jax, [_compile(a) for a in node.args]
        return lambda x, y: function(*(a(x, y) for a in args))
    left, op = _compile(node.left), _BINARY[node.op][0]
    exponent = constant_value(node.right) if node.op == "^" else None
    if exponent is not None:  # integer exponents use lax.integer_pow: exact, and sane gradients
        exponent = int(exponent) if float(exponent).is_integer() else exponent
        return lambda x, y: jnp.power(left(x, y), exponent)
    right = _compile(node.right)
    return lambda x, y: op(left(x, y), right(x, y))


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def to_latex(node: Node) -> str:
    """LaTeX for the tree, with the parentheses its structure needs (``/`` becomes ``\\frac``)."""
    return _latex(node)[0]


def _paren(text: str) -> str:
    return rf"\left({text}\right)"


def _latex(node: Node) -> tuple[str, int]:
    """``(latex, precedence)``: 1 for + -, 2 for *, 3 for a sign, 4 for ^, 5 for atoms."""
    if isinstance(node, Number):
        mantissa, _, exponent = node.text.lower().partition("e")
        mantissa = ("0" + mantissa if mantissa.startswith(".") else mantissa).rstrip(".")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa
        return text, 5
    if isinstance(node, Name):
        return (r"\pi" if node.name == "pi" else node.name), 5
    if isinstance(node, Negate):
        text, precedence = _latex(node.operand)
        return "-" + (_paren(text) if precedence <= 1 else text), 3
    if isinstance(node, Call):
        return FUNCTIONS[node.function].latex([to_latex(a) for a in node.args]), 5
    (left, lp), (right, rp) = _latex(node.left), _latex(node.right)
    if node.op == "^":
        simple_base = isinstance(node.left, Number | Name)
        return f"{left if simple_base else _paren(left)}^{{{right}}}", 4
    if node.op == "/":
        return rf"\frac{{{left}}}{{{right}}}", 5
    precedence = _PRECEDENCE[node.op]
    if lp < precedence:
        left = _paren(left)
    right_needs = rp < precedence or (rp == precedence and node.op == "-") or rp == 3
    if right_needs:
        right = _paren(right)
    symbol = r" \cdot " if node.op == "*" else f" {node.op} "
    return left + symbol + right, precedence


# -- public entry point ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class FormulaFunction:
    """A parsed formula: call it as ``f(x, y)``; arrays broadcast, the dtype of ``x, y`` is kept."""

    text: str
    tree: Node
    latex: str
    evaluate: Callable[[Any, Any], Any]

    def __call__(self, x: Any, y: Any) -> jax.Array:
        x, y = jnp.asarray(x), jnp.asarray(y)
        dtype = jnp.result_type(x, y)
        if not jnp.issubdtype(dtype, jnp.floating):
            dtype = jnp.result_type(float)
        out = self.evaluate(x.astype(dtype), y.astype(dtype))
        return jnp.broadcast_to(jnp.asarray(out, dtype), jnp.broadcast_shapes(x.shape, y.shape))


def parse(text: str) -> FormulaFunction:
    """Check ``text`` and compile it; :class:`FormulaError` says what is wrong, and where."""
    if not isinstance(text, str):
        raise FormulaError(f"the formula must be text, got {type(text).__name__}", 1)
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"the formula is {len(text)} characters long (at most {MAX_LENGTH})", MAX_LENGTH + 1
        )
    tree = _Parser(tokenize(text)).formula()
    constant_value(tree)  # exponent limits, before anything is compiled or evaluated
    return FormulaFunction(text=text, tree=tree, latex=to_latex(tree), evaluate=_compile(tree))
