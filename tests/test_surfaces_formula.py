"""The custom-formula parser: hostile input is rejected with a column, valid input is exact."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import surfaces
from surfaces.formula import MAX_DEPTH, MAX_LENGTH, MAX_NODES, FormulaError, parse

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POINTS = np.random.default_rng(0).uniform(-3, 3, size=(2, 9))
X, Y = np.r_[POINTS[0], 0.0, 1.0], np.r_[POINTS[1], 0.0, -1.0]


def assert_rejected(text: object) -> FormulaError:
    """``parse`` raises FormulaError (never anything else) with a sensible column and message."""
    with pytest.raises(FormulaError) as caught:
        parse(text)
    error = caught.value
    length = len(text) if isinstance(text, str) else 0
    assert isinstance(error, ValueError) and error.reason
    assert 1 <= error.column <= min(length, MAX_LENGTH) + 1
    assert str(error).startswith(f"column {error.column}: ")
    return error


# -- hostile input ---------------------------------------------------------------------------------
HOSTILE = [  # (text, column, fragment of the message)
    ("__import__('os')", 1, "unknown name '__import__' (allowed: x, y, pi, e, sin"),
    ("x.__class__", 2, "unexpected character '.'"),
    ("sin(x).real", 7, "unexpected character '.'"),
    ("lambda: 1", 1, "unknown name 'lambda'"),
    ("9**9**9", 2, "exponent 3.8742e+08 is too large"),
    ("x^25", 2, "exponent 25 is too large"),
    ("x^(y^99)", 5, "exponent 99 is too large"),
    ("2^x^30", 4, "exponent 30 is too large"),
    ("(1e6^20)^20", 9, "constant power"),
    ("0^-1", 2, "constant power"),
    ("(" * 1000 + "x" + ")" * 1000, MAX_LENGTH + 1, "at most 500"),
    ("(" * 40 + "x" + ")" * 40, MAX_DEPTH + 1, "nesting deeper than 30"),
    ("-" * 50 + "x", MAX_DEPTH + 1, "nesting deeper than 30"),
    ("sin(" * 40 + "x" + ")" * 40, 4 * MAX_DEPTH + 4, "nesting deeper than 30"),  # 31st '('
    ("x" * 100_000, MAX_LENGTH + 1, "100000 characters"),
    ("x" + "+x" * 200, MAX_NODES, f"more than {MAX_NODES} parts"),  # the 128th '+'
    ("x; import os", 2, "unexpected character ';'"),
    ("exec('1')", 1, "unknown name 'exec'"),
    ("os.system('ls')", 1, "unknown name 'os'"),
    ("__builtins__", 1, "unknown name '__builtins__'"),
    ("[x for x in y]", 1, "unexpected character '['"),
    ("x if y else 1", 3, "expected an operator, found 'if'"),
    ("x == y", 3, "unexpected character '='"),
    ("x @ y", 3, "unexpected character '@'"),
    ("x[0]", 2, "unexpected character '['"),
    ("{}", 1, "unexpected character '{'"),
    ("'x'", 1, "unexpected character"),
    ("x\x00", 2, "unexpected character '\\x00'"),
    ("\u0445 + y", 1, "U+0445"),  # Cyrillic х
    ("\uff58", 1, "U+FF58"),  # full-width ｘ
    ("x\u00b2", 2, "U+00B2"),  # superscript two
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("x y", 3, "implicit multiplication"),
    ("2x", 2, "implicit multiplication"),
    ("2(x+1)", 2, "implicit multiplication"),
    ("sin", 1, "must be called"),
    ("sin()", 1, "sin takes 1 argument, got 0"),
    ("sin(x, y)", 1, "sin takes 1 argument, got 2"),
    ("min(x)", 1, "min takes 2 arguments, got 1"),
    ("foo(x)", 1, "unknown name 'foo'"),
    ("x +", 4, "found the end of the formula"),
    ("(x", 3, "expected ')' to close the '(' at column 1"),
    ("sin(x", 6, "in the call to sin"),
    ("x)", 2, "expected an operator, found ')'"),
    ("x ** * 2", 6, "found '*'"),
    ("1e7", 1, "the number 1e7 is too large"),
    ("1" + "0" * 400, 1, "too large"),
    ("x^1e400", 3, "too large"),
]


@pytest.mark.parametrize(("text", "column", "fragment"), HOSTILE)
def test_hostile_formulas_are_rejected_with_column_and_reason(text, column, fragment):
    error = assert_rejected(text)
    assert error.column == column
    assert fragment in str(error)


@pytest.mark.parametrize("value", [None, 3, b"x", ["x"]])
def test_non_text_is_rejected(value):
    assert "must be text" in str(assert_rejected(value))


@FUZZ
@given(st.text(max_size=80))
def test_any_text_parses_or_raises_formula_error(text):
    try:
        f = parse(text)
    except FormulaError as error:
        assert 1 <= error.column <= len(text) + 1
    else:
        f(X, Y)  # whatever parses also evaluates


@FUZZ
@given(st.text(alphabet="xyepi0123456789.+-*/^(), sincoqrtabmlgh_", max_size=60))
def test_formula_like_text_parses_or_raises_formula_error(text):
    try:
        f = parse(text)
    except FormulaError as error:
        assert 1 <= error.column <= len(text) + 1
    else:
        assert f(X, Y).shape == X.shape and f.latex


# -- valid formulas agree with hand-written JAX ----------------------------------------------------
ADD, MUL, UNARY, POW, ATOM = 1, 2, 3, 4, 5  # binding strength of what an expression text ends as


@dataclasses.dataclass(frozen=True)
class Expr:
    """A formula text, how tightly it binds, and the same computation written by hand in JAX."""

    text: str
    precedence: int
    fn: Callable
    constant: bool  # no x or y in it


def _const(value: float) -> Callable:
    return lambda x, y: value


LITERALS = {"2.5": 2.5, "0.125": 0.125, ".5": 0.5, "1e-3": 1e-3, "3E2": 300.0, "7.": 7.0}
LITERALS |= {"pi": np.pi, "e": np.e}
VARIABLES = st.sampled_from(
    [Expr("x", ATOM, lambda x, y: x, False), Expr("y", ATOM, lambda x, y: y, False)]
)
NUMBERS = st.one_of(
    st.integers(0, 1000).map(lambda n: Expr(str(n), ATOM, _const(float(n)), True)),
    st.sampled_from(list(LITERALS.items())).map(lambda t: Expr(t[0], ATOM, _const(t[1]), True)),
)
SMALL_EXPONENTS = st.integers(0, 3).map(lambda n: Expr(str(n), ATOM, _const(n), True))
UNARY_FUNCTIONS = {
    **{name: getattr(jnp, name) for name in ["sin", "cos", "tan", "sinh", "cosh", "tanh", "exp"]},
    **{name: getattr(jnp, name) for name in ["arctan", "log", "log10", "sqrt", "abs", "sign"]},
    **{"arcsin": jnp.arcsin, "arccos": jnp.arccos, "asin": jnp.arcsin, "atan": jnp.arctan},
}
BINARY_FUNCTIONS = {"min": jnp.minimum, "max": jnp.maximum, "arctan2": jnp.arctan2}
BINARY_FUNCTIONS["atan2"] = jnp.arctan2
OPERATORS = {"+": (ADD, jnp.add), "-": (ADD, jnp.subtract)}
OPERATORS |= {"*": (MUL, jnp.multiply), "/": (MUL, jnp.divide)}


def _wrap(e: Expr, minimum: int) -> str:
    return e.text if e.precedence >= minimum else f"({e.text})"


def _binary(op: str, a: Expr, b: Expr, space: str) -> Expr:
    precedence, f = OPERATORS[op]
    # Left-associative: the right operand needs parentheses at equal precedence.
    text = f"{_wrap(a, precedence)}{space}{op}{space}{_wrap(b, precedence + 1)}"
    return Expr(text, precedence, lambda x, y: f(a.fn(x, y), b.fn(x, y)), a.constant and b.constant)


def _sign(sign: str, a: Expr) -> Expr:
    fn = a.fn if sign == "+" else (lambda x, y: jnp.negative(a.fn(x, y)))
    return Expr(sign + _wrap(a, UNARY), UNARY, fn, a.constant)


def _power(a: Expr, exponent: Expr, op: str) -> Expr:
    if exponent.constant:  # small integer literals only: the parser folds them to ints too
        p = int(exponent.text)
        fn = lambda x, y: jnp.power(a.fn(x, y), p)  # noqa: E731
    else:
        fn = lambda x, y: jnp.power(a.fn(x, y), exponent.fn(x, y))  # noqa: E731
    text = f"{_wrap(a, ATOM)}{op}{_wrap(exponent, UNARY)}"
    return Expr(text, POW, fn, a.constant and exponent.constant)


def _call(name: str, args: list[Expr]) -> Expr:
    f = UNARY_FUNCTIONS.get(name) or BINARY_FUNCTIONS[name]
    text = f"{name}({', '.join(a.text for a in args)})"
    constant = all(a.constant for a in args)
    return Expr(text, ATOM, lambda x, y: f(*(a.fn(x, y) for a in args)), constant)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    exponents = st.one_of(SMALL_EXPONENTS, children.filter(lambda e: not e.constant))
    return st.one_of(
        st.builds(
            _binary,
            st.sampled_from(list(OPERATORS)),
            children,
            children,
            st.sampled_from(["", " "]),
        ),
        st.builds(_sign, st.sampled_from("-+"), children),
        st.builds(_power, children, exponents, st.sampled_from(["^", "**"])),
        st.builds(
            _call,
            st.sampled_from(list(UNARY_FUNCTIONS)),
            st.lists(children, min_size=1, max_size=1),
        ),
        st.builds(
            _call,
            st.sampled_from(list(BINARY_FUNCTIONS)),
            st.lists(children, min_size=2, max_size=2),
        ),
        children.map(lambda e: Expr(f"({e.text})", ATOM, e.fn, e.constant)),
    )


EXPRESSIONS = st.recursive(st.one_of(VARIABLES, NUMBERS), _extend, max_leaves=10)


@FUZZ
@given(EXPRESSIONS)
def test_generated_formulas_agree_with_hand_written_jax(expr):
    try:
        f = parse(expr.text)
    except FormulaError as error:
        # A documented rejection: a constant sub-power such as exp(exp(9))^2 that overflows.
        assume(not error.reason.startswith("the constant power"))
        raise
    expected = np.broadcast_to(np.asarray(expr.fn(X, Y), dtype=float), X.shape)
    np.testing.assert_allclose(f(X, Y), expected, rtol=1e-12, atol=0, equal_nan=True)


PRECEDENCE = [
    ("-x^2", lambda x, y: -(x**2)),
    ("-2^2", lambda x, y: -4.0 + 0 * x),
    ("2^3^2", lambda x, y: 512.0 + 0 * x),
    ("2**-1", lambda x, y: 0.5 + 0 * x),
    ("(-2)^2", lambda x, y: 4.0 + 0 * x),
    ("x - y - 1", lambda x, y: (x - y) - 1),
    ("x / y / 2", lambda x, y: (x / y) / 2),
    ("2*x^2 + 3*y", lambda x, y: 2 * x**2 + 3 * y),
    ("x*-y", lambda x, y: x * -y),
    ("x - -y", lambda x, y: x + y),
    ("+x", lambda x, y: x),
    ("atan2(y, x) + arctan2(x, y)", lambda x, y: jnp.arctan2(y, x) + jnp.arctan2(x, y)),
    ("1e-3*x + .5*y + 2.5E+1", lambda x, y: 1e-3 * x + 0.5 * y + 25.0),
    ("pi*e", lambda x, y: np.pi * np.e + 0 * x),
    ("max(x, y) - min(x, y)", lambda x, y: jnp.abs(x - y)),
    ("sqrt(x^2 + y^2)", lambda x, y: jnp.hypot(x, y)),
    ("\tx\n+\ry ", lambda x, y: x + y),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE)
def test_precedence_and_associativity(text, expected):
    x, y = jnp.asarray(X), jnp.asarray(Y)
    np.testing.assert_allclose(parse(text)(x, y), expected(x, y), rtol=1e-14)


def test_latex_rendering():
    assert parse("(1-x)^2 + 100*(y-x^2)^2").latex == (
        r"\left(1 - x\right)^{2} + 100 \cdot \left(y - x^{2}\right)^{2}"
    )
    assert parse("-x^2 + x/(y+1)").latex == r"-x^{2} + \frac{x}{y + 1}"
    assert parse("abs(x)*sqrt(y) - -pi").latex == (
        r"\left\lvert x \right\rvert \cdot \sqrt{y} - \left(-\pi\right)"
    )
    assert parse("1.5e-3*log(x)").latex == r"1.5 \times 10^{-3} \cdot \ln\left(x\right)"


def test_formula_functions_broadcast_and_keep_the_dtype():
    f = parse("x*y + 1")
    assert f(np.ones(3, np.float32), np.float32(2)).dtype == jnp.float32
    assert f(np.ones((2, 3)), np.ones(3)).shape == (2, 3)
    assert parse("7")(np.zeros(4), np.zeros(4)).shape == (4,)
    assert parse("x")(np.arange(3), 0).dtype == jnp.result_type(float)


# -- the custom surface ----------------------------------------------------------------------------
def test_rosenbrock_formula_equals_the_rosenbrock_surface():
    typed = surfaces.get("custom", formula="(1-x)^2 + 100*(y-x^2)^2")
    rosenbrock = surfaces.get("rosenbrock")
    w = np.random.default_rng(1).uniform(-2, 2, size=(200, 2))
    both = [
        jax.jit(jax.vmap(jax.value_and_grad(s.fn), in_axes=(0, None))) for s in (typed, rosenbrock)
    ]
    (v1, g1), (v2, g2) = (f(w, s.theta) for f, s in zip(both, (typed, rosenbrock), strict=True))
    np.testing.assert_allclose(v1, v2, rtol=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)


def test_custom_surface_code_is_the_formula_text():
    a = surfaces.get("custom", formula="x^2 + y^2", xmin=-1.0)
    b = surfaces.get("custom", formula="x^2 + y^2", ymax=9.0, log_scale=True)
    assert a.static_key == b.static_key and a.fn is b.fn
    assert a.latex == "f(x, y) = x^{2} + y^{2}"
    np.testing.assert_array_equal(a.window, [[-1.0, 5.0], [-5.0, 5.0]])
    assert b.log_scale and not a.log_scale


def test_custom_surface_errors_keep_the_column():
    with pytest.raises(FormulaError) as caught:
        surfaces.get("custom", formula="x + foo(y)")
    assert caught.value.column == 5
    assert str(caught.value).startswith("surface 'custom': parameter formula: column 5: ")
