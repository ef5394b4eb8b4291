"""The one table of operations: each entry serves every method, and a new element-wise
operation (softplus, log1p) is an entry and these tests, nothing else."""
from __future__ import annotations

import math

import pytest
import torch

from autograd_lab.check import check_file
from autograd_lab.ops import FUNCTIONS, OPERATORS

SOFTPLUS = """\
inputs:
  x: {value: [-2.0, 0.5, 3.0], grad: true}
forward:
  y: softplus(x)
  loss: sum(y)
chain_rule:
  loss/y: 1
  y/x: sigmoid(x)
expect:
  grad/x: [0.11920292202, 0.62245933120, 0.95257412682]
"""
LOG1P = """\
inputs:
  x: {value: 0.5, grad: true}
forward:
  y: log1p(x)
gradient:
  x: 1/(1 + x)
expect:
  y: 0.4054651081
  grad/x: 0.6666666667
"""


def test_softplus_is_checked_by_every_method(write_case):
    result = check_file(write_case(SOFTPLUS))
    assert result.status == "passed", result.problems
    by_method = result.points[0].gradients["x"]
    sigmoid = [1 / (1 + math.exp(-v)) for v in (-2.0, 0.5, 3.0)]
    for method in ("manual", "sympy", "autograd"):
        assert by_method[method] == pytest.approx(sigmoid, rel=1e-12)


def test_log1p_is_checked_and_its_domain_known(write_case):
    result = check_file(write_case(LOG1P))
    assert result.status == "passed", result.problems
    assert result.points[0].gradients["x"]["sympy"] == pytest.approx(2 / 3, rel=1e-15)
    outside = check_file(write_case(LOG1P.replace("value: 0.5", "value: -2.0")
                                    .replace("expect:\n  y: 0.4054651081\n  grad/x: "
                                             "0.6666666667\n", ""), "outside"))
    assert any("log1p(x) (argument ≤ -1) is outside its domain" in p
               for p in outside.problems), outside.problems


def test_a_wrong_softplus_edge_is_named(write_case):
    result = check_file(write_case(SOFTPLUS.replace("y/x: sigmoid(x)", "y/x: exp(x)")))
    assert result.status == "failed"
    assert result.problems[0].startswith("chain_rule edge y/x: hand-written exp(x), SymPy ")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_a_form_for_each_method(name):
    op = FUNCTIONS[name]
    assert callable(op.torch)
    assert op.sympy is not None or op.elements is not None or op.reduces
    assert callable(op.array()) or op.reduces


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_every_operator_folds_constants_or_is_a_tensor_form(name):
    op = OPERATORS[name]
    if name == "@":
        assert op.torch(torch.eye(2), torch.ones(2)).tolist() == [1.0, 1.0]
    else:
        assert op.python is not None and op.python(6.0, 2.0) == {
            "+": 8.0, "-": 4.0, "*": 12.0, "/": 3.0, "**": 36.0, "<": 0.0, "<=": 0.0,
            ">": 1.0, ">=": 1.0, "==": 0.0, "!=": 1.0}[name]
