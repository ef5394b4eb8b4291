"""Properties over random input: expressions from the grammar never crash the checker and the
methods agree where a derivative exists; mangled case files raise only the tool's own errors.

HYPOTHESIS_PROFILE=deep runs a thousand examples a property instead of the suite's few dozen."""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autograd_lab.check import check_file
from autograd_lab.errors import CaseError
from autograd_lab.reading import load

from .conftest import CASES

settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SMOOTH = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid"]
KINKED = ["relu", "abs", "sign", "step"]
STATUSES = {"passed", "failed", "error"}


def expressions(functions: list[str], constants=("1", "2", "3", "0.5"), clamp=False):
    """Expression text from the grammar, a few operations deep, over the scalars x and w."""
    leaves = st.sampled_from(["x", "w", *constants])

    def extend(inner):
        clamped = [st.builds(lambda a, b: f"clamp({a}, -1, {b})", inner, inner)] if clamp else []
        return st.one_of(*clamped,
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(functions), inner),
            st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner,
                      st.sampled_from(["+", "-", "*", "/"]), inner),
            st.builds(lambda a, k: f"({a})**{k}", inner, st.sampled_from(["2", "3", "-1"])),
            st.builds(lambda a: f"-({a})", inner))
    return st.recursive(leaves, extend, max_leaves=6)


values = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))


def case_text(expression: str, x: float, w: float) -> str:
    return (f"inputs:\n  x: {{value: {x!r}, grad: true}}\n  w: {{value: {w!r}, grad: true}}\n"
            f"forward:\n  y: '{expression}'\ngradient:\n  x: '0'\n  w: '0'\n")


def checked(text: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        return path, check_file(path)


def assert_own_words(path: Path, result) -> None:
    """A verdict the tool gives, in one line each, never an internal error."""
    assert result.status in STATUSES
    for problem in result.problems:
        assert "internal error" not in problem and "\n" not in problem, problem
    if result.status == "error":
        assert result.problems[0].startswith(str(path))


@given(expressions(SMOOTH + KINKED, clamp=True), values, values)
@example("log(-(1))", 0.0, 0.0)              # each of these once ended in an internal error
@example("clamp(-1, 1, x)", 0.0, 0.0)
@example("sign((x) / (w))", 0.5, 2.0)
@example("(log(1)) / (log(1))", 0.0, 0.0)
@example("clamp((1) - (clamp(1, -1, 1)), -1, x)", 0.0, 0.0)
def test_any_expression_gets_a_verdict(expression, x, w):
    path, result = checked(case_text(expression, x, w))
    assert_own_words(path, result)


@given(expressions(SMOOTH, constants=("1", "2", "3")), values, values)
def test_sympy_and_autograd_agree_where_the_derivative_exists(expression, x, w):
    path, result = checked(case_text(expression, x, w))
    assert_own_words(path, result)
    if result.status == "error" or any("outside its domain" in p for p in result.problems):
        return  # refused up front, or log/sqrt/division outside its domain: no derivative
    for param, by_method in result.points[0].gradients.items():
        exact, torch_value = by_method["sympy"], by_method["autograd"]
        if math.isfinite(exact) and math.isfinite(torch_value) and abs(exact) < 1e8:
            assert torch_value == pytest.approx(exact, rel=1e-6, abs=1e-9), (param, expression)


TOKENS = [":", "-", "- ", "[", "]", "{", "}", "&a ", "*a", "<<: *a", "!!python/name:os.system ",
          "!expr ", "\t", "\n", "'", '"', "**", "__", "lambda: ", "x.y", "1e999", ".nan", "#",
          ",", "  ", "\x00", "é", "\udcff", "?", "|", "%YAML 1.1\n", "---\n", "9**9**9", "x[0]"]


@st.composite
def mangled(draw):
    """A valid case file with one to three random edits: a cut, an insertion, a moved line."""
    path = draw(st.sampled_from(["x_squared", "sin_x_squared", "vector_mean_square",
                                 "zero_grad", "perceptron_bce"]))
    text = (CASES / f"{path}.yaml").read_text()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["cut", "insert", "line"]))
        if kind == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines[i])
            text = "\n".join(lines)
    return text


@given(mangled())
def test_a_mangled_file_raises_only_the_tools_own_errors(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.yaml"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        try:
            load(path)
        except CaseError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        assert_own_words(path, check_file(path))


@given(expressions(SMOOTH + KINKED + ["softplus", "log1p"], clamp=True))
def test_the_symbolic_derivative_is_sympy_diffs_own_expression(expression):
    """methods' derivative() keeps sympy.diff's recursion out of its Derivative objects, for
    speed; SymPy stays the reference only if it gives sympy.diff's expression, not just an
    equal one, for every operation of the language."""
    import sympy as sp

    from autograd_lab.case import parse
    from autograd_lab.methods import Builder
    from autograd_lab.methods._symbolic import derivative

    try:
        tree = parse(expression)
    except CaseError:
        return  # refused up front (a constant divisor of 0, log(-1)): nothing to differentiate
    x, w = sp.symbols("x w", real=True)
    built = Builder({"x": x, "w": w}, {"x": (), "w": ()}).build(tree).expr
    for symbol in (x, w):
        assert derivative(built, symbol) == sp.diff(built, symbol), (expression, symbol)
