"""The expression language: every allowed form parses to the tree, every other form is refused."""
from __future__ import annotations

from fractions import Fraction

import pytest

from autograd_lab import case as E
from autograd_lab.errors import CaseError
from autograd_lab.ops import FUNCTIONS


@pytest.mark.parametrize("text, tree", [
    ("3", E.Num(Fraction(3))),
    ("0.1", E.Num(Fraction(1, 10))),
    ("1e-8", E.Num(Fraction(1, 10**8))),
    ("pi", E.Const("pi")),
    ("e", E.Const("e")),
    ("x", E.Name("x")),
    ("-x", E.Neg(E.Name("x"))),
    ("+x", E.Name("x")),
    ("(x)", E.Name("x")),
    ("x + y", E.BinOp("+", E.Name("x"), E.Name("y"))),
    ("x - y", E.BinOp("-", E.Name("x"), E.Name("y"))),
    ("x * y", E.BinOp("*", E.Name("x"), E.Name("y"))),
    ("x / y", E.BinOp("/", E.Name("x"), E.Name("y"))),
    ("x ** 2", E.BinOp("**", E.Name("x"), E.Num(Fraction(2)))),
    ("clamp(u, 0, 1)", E.Call("clamp", (E.Name("u"), E.Num(Fraction(0)), E.Num(Fraction(1))))),
])
def test_allowed_forms(text, tree):
    assert E.parse(text) == tree


@pytest.mark.parametrize("function", sorted(name for name, op in FUNCTIONS.items()
                                            if op.least == 1 and not op.need))
def test_every_one_argument_function(function):
    assert E.parse(f"{function}(x)") == E.Call(function, (E.Name("x"),))


@pytest.mark.parametrize("text", [
    "-(y*log(y_pred) + (1 - y)*log(1 - y_pred))", "2*x*cos(x**2)", "a - (b - c)",
    "a - b - c", "a/(b*c)", "(-x)**2", "-x**2", "2**(-x)", "sigmoid(w*x + b)",
])
def test_printing_round_trips(text):
    assert E.parse(str(E.parse(text))) == E.parse(text)
    assert str(E.parse(text)) == text


@pytest.mark.parametrize("text, message, column", [
    ("x.real", "the attribute .real is not allowed; allowed: .T, .values, .indices", 1),
    ("x.shape[0]", "the attribute .shape is not allowed; allowed: .T, .values, .indices and "
                   "the methods of the functions (x.sum(1)); write the size as a dim "
                   "(dims: {n: 32}) or a number", 1),
    ("x[::2]", "a slice takes no step (a:b, not a:b:c)", 3),
    ("lambda: 1", "lambda is not allowed", 1),
    ("[i for i in x]", "comprehensions are not allowed", 1),
    ("'a'", "strings are not allowed in an expression", 1),
    ("f'{x}'", "f-strings are not allowed", 1),
    ("(y := 2)", "the walrus operator (:=) is not allowed", 2),
    ("x < 1 < 2", "a chained comparison (a < b < c) is not allowed; write one comparison", 1),
    ("x and y", "and/or are not allowed", 1),
    ("x if y else z", "conditional expressions are not allowed", 1),
    ("x // 2", "the operator // is not allowed; use + - * / ** @", 1),
    ("x % 2", "the operator % is not allowed; use + - * / ** @", 1),
    ("~x", "the operator ~ is not allowed", 1),
    ("[1, 2]", "list literals are not allowed in an expression; give vectors as inputs", 1),
    ("foo(x)", "unknown function foo(); allowed: abs binary_cross_entropy", 1),
    ("exq(x)", "unknown function exq(); did you mean exp()?", 1),
    ("x.one_hot(3)", "one_hot is not a method of a tensor; write one_hot(x, ...)", 1),
    ("F.one_hot(x)", "one_hot() needs its num_classes", 1),
    ("x.sum(foo=1)", "sum() takes no keyword 'foo' (its keyword arguments: dim, keepdim, "
                     "keepdims, axis)", 7),
    ("__import__('os')", "unknown function __import__()", 1),
    ("__class__", "names beginning with an underscore are not allowed: __class__", 1),
    ("sin(x, y)", "sin() takes at most 1 argument, not 2", 1),
    ("clamp()", "clamp() takes 1 argument, not 0", 1),
    ("sin(x=1)", "sin() takes no keyword 'x' (its keyword arguments: none)", 5),
    ("sin(*x)", "sin() takes no *arguments", 1),
    ("x.__class__.__bases__", "the attribute .__bases__ is not allowed", 1),
    ("1j", "complex values are not allowed in an expression", 1),
    ("x y", "not a valid expression: invalid syntax", 3),
    ("sin(x", "not a valid expression: '(' was never closed", 4),
    ("9**9**9**9", "a constant exponent must lie within ±1000", 4),
    ("2**10000", "a constant exponent must lie within ±1000", 1),
    ("x**(1/0)", "division by zero (the divisor is the constant 0)", 5),
    ("x*(2 - 2)**-1", "0 to a negative power is a division by zero", 3),
    ("(" * 65 + "x" + ")" * 65, "brackets are nested more than 64 deep", 65),
    ("x+" * 6000 + "x", "the expression is 12,001 characters long; at most 10,000 are allowed", 1),
])
def test_forbidden_forms_are_refused_with_their_column(text, message, column):
    with pytest.raises(CaseError) as caught:
        E.parse(text)
    assert caught.value.message.startswith(message)
    assert caught.value.column == column


def test_a_refused_call_is_never_run(tmp_path):
    target = tmp_path / "pwned"
    for text in (f"open({str(target)!r}, 'w')",
                 f"__import__('pathlib').Path({str(target)!r}).touch()"):
        with pytest.raises(CaseError):
            E.parse(text)
    assert not target.exists()


def test_deep_but_allowed_nesting_parses():
    text = "(" * 60 + "x" + ")" * 60
    assert E.parse(text) == E.Name("x")


def test_names_and_walk():
    tree = E.parse("w*x + b*mean(x)")
    assert tree.names() == {"w", "x", "b"}
    assert [type(n).__name__ for n in E.walk(tree)][:3] == ["BinOp", "BinOp", "Name"]


def test_names_of_every_subtree():
    tree = E.parse("sin(x*w + 2)/(1 + c**2) - 3")
    below = {str(n): n.names() for n in E.walk(tree)}
    assert below["sin(x*w + 2)/(1 + c**2)"] == {"x", "w", "c"}
    assert below["x*w + 2"] == {"x", "w"}
    assert below["1 + c**2"] == {"c"}
    assert below["3"] == below["2"] == frozenset()
    assert tree.names() == {"x", "w", "c"}


def test_a_functions_name_written_bare_is_a_name():
    """A case may call a node dot or var (the tutorials do): bare, it is a name; called, it is
    the function (an undeclared one is refused where names are resolved)."""
    assert E.parse("var + 1") == E.BinOp("+", E.Name("var"), E.Num(Fraction(1)))
    assert E.parse("dot(a, b) + dot") == E.BinOp(
        "+", E.Call("dot", (E.Name("a"), E.Name("b"))), E.Name("dot"))
