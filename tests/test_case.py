"""Reading a case: positions, names, shapes, generated values, points and claims."""
from __future__ import annotations

import numpy as np
import pytest

from autograd_lab.errors import CaseError
from autograd_lab.reading import load
from autograd_lab.reading._values import half_unit as _half_unit

GOOD = """
inputs:
  x: {value: 3.0, grad: true}
forward:
  y: x**2
chain_rule:
  y/x: 2*x
"""


def error_of(write_case, text):
    with pytest.raises(CaseError) as caught:
        load(write_case(text))
    return caught.value


def test_a_good_case_resolves(write_case):
    case = load(write_case(GOOD, "squares"))
    assert case.name == "squares" and case.output == "y" and case.params == ["x"]
    assert case.edges["y/x"].text == "2*x"
    assert case.dtype == "float64" and case.shape == ()


@pytest.mark.parametrize("text, half", [
    ("6.7012", 5e-05), ("2.0000", 5e-05), ("6.691762447357178", 5e-16), ("6", 0.0),
    ("-5.4668", 5e-05), ("1.5e-3", 5e-05), ("1e-8", 5e-09),
])
def test_a_claim_holds_to_the_digits_written(text, half):
    assert _half_unit(text) == pytest.approx(half)


@pytest.mark.parametrize("text, half", [
    ("0.0e+300", 0.5), ("-0.0e10", 0.5), ("0e5", 0.5),   # a zero: at most half a unit in ones
    ("0.0000", 5e-05), ("0.0", 0.05), ("0e-3", 5e-04),   # a zero's own digits still count
    ("9.0e0", 0.05), ("1e5", 5e4), ("1.5E+3", 50.0),      # a number: its last digit, as ever
])
def test_a_claims_slack_never_exceeds_half_a_unit_of_its_leading_digit(text, half):
    assert _half_unit(text) == pytest.approx(half)


def test_claim_texts_are_kept_as_written(write_case):
    case = load(write_case(GOOD + "expect:\n  grad/x: [6.0000]\n  y: 9\n"))
    grad, value = case.claims
    assert (grad.key, grad.written, grad.slack.tolist()) == ("grad/x", ["6.0000"], [5e-05])
    assert (value.kind, value.target, value.written) == ("value", "y", "9")


def test_generated_values(write_case):
    case = load(write_case("""
        inputs:
          x: {value: {linspace: [-3, 3, 7]}, grad: true}
          u: {value: {uniform: [0, 1], shape: [7], seed: 3}}
        forward:
          y: mean(x*u)
        gradient:
          x: u/7
    """))
    assert case.inputs["x"].value.tolist() == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    u = case.inputs["u"].value
    assert u.shape == (7,) and np.all((u >= 0) & (u < 1))
    assert u.tolist() == np.random.default_rng(3).uniform(0, 1, 7).tolist()
    assert case.points["x"].shape == (1, 7)


@pytest.mark.parametrize("text, message, line", [
    ("inputs: {x: 1}\nforward: {y: x**2}\n", "no input has grad: true", 1),
    (GOOD.replace("y: x**2", "y: x**2 + q"), "undeclared name 'q'", 4),
    (GOOD.replace("y: x**2", "y: x**2 + zz\n  zz: x"),
     "the node 'zz' is used before it is defined", 4),
    (GOOD.replace("y: x**2", "y: x*exp"), "exp is a function; call it as exp(...)", 4),
    (GOOD.replace("y: x**2", "x: x**2"), "the node 'x' has the name of an input", 4),
    (GOOD.replace("y/x", "y/w"), "edge y/w: 'w' does not appear in y = x**2", 6),
    (GOOD.replace("y/x", "q/x"), "edge q/x: 'q' is not a node of forward", 6),
    (GOOD.replace("value: 3.0", "value: [1.0, 2.0]"),
     "the output 'y' must be a scalar, but its shape is (2,); reduce it with sum() or mean()",
     None),
    (GOOD.replace("inputs:", "inputz:"), "unknown key 'inputz'; did you mean 'inputs'?", 1),
    (GOOD.replace("inputs:\n  x: {value: 3.0, grad: true}\n", ""),
     "missing required key 'inputs'", None),
    (GOOD.replace("3.0", ".nan"),
     "inputs.x.value: values must be finite numbers (no NaN or inf)", 2),
    (GOOD + "expect:\n  grad/q: 1\n", "claim grad/q: 'q' is not an input with grad: true", 8),
    ("- 1\n- 2\n", "a case file must be a mapping of keys", None),
    (GOOD.replace("y: x**2", "y: x**2\n  y: x"), "duplicate key 'y'", 5),
    (GOOD.replace("{value: 3.0, grad: true}", "!!python/object/apply:os.system ['true']"),
     "the YAML tag !!python/object/apply:os.system is not allowed", 2),
])
def test_bad_cases_name_the_line(write_case, text, message, line):
    error = error_of(write_case, text)
    assert error.message.startswith(message)
    if line:
        assert error.line == line


def test_mismatched_vector_shapes(write_case):
    error = error_of(write_case, """
        inputs:
          a: {value: [1.0, 2.0], grad: true}
          b: [1.0, 2.0, 3.0]
        forward:
          y: sum(a*b)
        gradient:
          a: b
    """)
    assert error.message == "a*b: shapes (2,) and (3,) do not broadcast"
    assert (error.line, error.column) == (5, 10)   # at a*b, inside sum(...)


def test_an_expression_error_points_at_its_column(write_case):
    error = error_of(write_case, GOOD.replace("y: x**2", "y: x**2 + x.real"))
    assert str(error).endswith(":4:13: the attribute .real is not allowed; allowed: .T, "
                               ".values, .indices and the methods of the functions (x.sum(1)): "
                               "x.real")


def test_a_vector_node_that_reduces_over_its_parent_needs_its_own_node(write_case):
    error = error_of(write_case, """
        inputs:
          x: {value: [1.0, 2.0], grad: true}
        forward:
          c: x - mean(x)
          y: sum(c**2)
        chain_rule:
          y/c: 2*c
          c/x: 1
    """)
    assert "give the reduction its own node" in error.message


def test_sizes_are_bounded(write_case):
    huge = GOOD.replace("value: 3.0", "value: {linspace: [0, 1, 1000000000]}")
    error = error_of(write_case, huge)
    assert error.message == "a value may have 1 to 10,000,000 elements, not 1,000,000,000"
