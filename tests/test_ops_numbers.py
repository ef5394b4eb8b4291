"""Every operation of the table with a Python number on either side: torch's value, or an
error at the file:line:column of the case, never an internal error (`max(0, u)`, the ReLU
idiom, had been `internal error while checking: TypeError: maximum(): ...`).

HYPOTHESIS_PROFILE=deep (tests/test_properties.py) runs a thousand examples."""
from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autograd_lab.check import check_file
from autograd_lab.ops import FUNCTIONS, OPERATORS

from . import test_properties  # noqa: F401  (its hypothesis profiles: ci, deep)

# the case's tensors: x a float vector (a parameter), X a matrix of logits, p probabilities,
# t class indices; each slot of an operation is one of these or a number
VALUES = {"x": [0.5, -1.5, 2.0], "X": [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [0.0, 2.0, -2.0]],
          "p": [0.2, 0.5, 0.9], "t": [1, 0, 2]}
CASE = """\
inputs:
  x: {value: [0.5, -1.5, 2.0], grad: true}
  X: {value: [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [0.0, 2.0, -2.0]], grad: true}
  p: {value: [0.2, 0.5, 0.9], grad: true}
  t: {value: [1, 0, 2], dtype: int64}
forward:
  y: %s
  loss: (y*y).sum() + (x*x).sum() + (X*X).sum() + (p*p).sum()
backward:
  dy: 2*y
"""


def _t(v):
    """A slot's value as torch sees it: a number a 0-d tensor (float64, but a class index)."""
    if isinstance(v, torch.Tensor):
        return v
    if isinstance(v, str):
        return torch.tensor(VALUES[v], dtype=torch.int64 if v == "t" else torch.float64)
    return torch.tensor(v, dtype=torch.int64 if isinstance(v, int) else torch.float64)


def _float(v):
    return _t(v).double()


def _numpy_dot(a, b):
    """numpy's dot, which the table's dot is: a number times a tensor, the inner product of
    vectors, else the matrix product."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.dot(a, b) if a.ndim == b.ndim == 1 else torch.matmul(a, b)


# name -> (the text with slots {a} {b} {c}, what each slot may be, torch's value)
FLOATS = ("x",)
UNARY = {name: (f"{name}({{a}})", [FLOATS], getattr(torch, name)) for name in
         ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "log1p", "relu", "abs",
          "sign", "clone")}
TEMPLATES: dict = {
    **{op: (f"{{a}} {op} {{b}}", [FLOATS, FLOATS], f) for op, f in [
        ("+", torch.add), ("-", torch.sub), ("*", torch.mul), ("/", torch.div),
        ("**", torch.pow), ("@", torch.matmul)]},
    **{name: (text, [FLOATS if s == FLOATS else s for s in slots], f)
       for name, (text, slots, f) in UNARY.items()},
    "softplus": ("softplus({a})", [FLOATS], lambda a: F.softplus(_float(a))),
    "step": ("step({a})", [FLOATS], lambda a: (_float(a) > 0).double()),
    "float": ("float({a})", [FLOATS], _float),
    "double": ("double({a})", [FLOATS], _float),
    "clamp": ("clamp({a}, {b}, {c})", [FLOATS, FLOATS, FLOATS], torch.clamp),
    "pow": ("pow({a}, {b})", [FLOATS, FLOATS], torch.pow),
    "sum": ("sum({a})", [FLOATS], torch.sum),
    "mean": ("mean({a})", [FLOATS], lambda a: torch.mean(_float(a))),
    "max": ("max({a}, {b})", [FLOATS, FLOATS], torch.maximum),
    "min": ("min({a}, {b})", [FLOATS, FLOATS], torch.minimum),
    "var": ("var({a})", [FLOATS], lambda a: torch.var(_float(a))),
    "std": ("std({a})", [FLOATS], lambda a: torch.std(_float(a))),
    "logsumexp": ("logsumexp({a}, 0)", [FLOATS], lambda a: torch.logsumexp(_float(a), 0)),
    "softmax": ("softmax({a}, 0)", [FLOATS], lambda a: F.softmax(_float(a), 0)),
    "log_softmax": ("log_softmax({a}, 0)", [FLOATS], lambda a: F.log_softmax(_float(a), 0)),
    "matmul": ("matmul({a}, {b})", [FLOATS, FLOATS], torch.matmul),
    "dot": ("dot({a}, {b})", [FLOATS, FLOATS], lambda a, b: _numpy_dot(_float(a), _float(b))),
    "transpose": ("transpose({a}, 0, 0)", [FLOATS], lambda a: torch.transpose(a, 0, 0)),
    "view": ("view({a}, -1)", [FLOATS], lambda a: a.view(-1)),
    "reshape": ("reshape({a}, -1)", [FLOATS], lambda a: a.reshape(-1)),
    "zeros_like": ("zeros_like({a})", [FLOATS], lambda a: torch.zeros_like(_float(a))),
    "ones_like": ("ones_like({a})", [FLOATS], lambda a: torch.ones_like(_float(a))),
    "one_hot": ("one_hot({a}, num_classes=3)", [("t",)],
                lambda a: F.one_hot(a, num_classes=3).double()),
    "cross_entropy": ("cross_entropy({a}, {b})", [("X",), ("t",)], F.cross_entropy),
    "binary_cross_entropy": ("binary_cross_entropy({a}, {b})", [("p",), ("p",)],
                             F.binary_cross_entropy),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy_with_logits({a}, {b})",
                                         [FLOATS, ("p",)], F.binary_cross_entropy_with_logits),
    "mse_loss": ("mse_loss({a}, {b})", [FLOATS, FLOATS], F.mse_loss),
    # numpy's spellings, and comparisons (a mask: never differentiated, so dy is refused)
    **{op: (f"{{a}} {op} {{b}}", [FLOATS, FLOATS], lambda a, b, op=op: {
        "<": torch.lt, "<=": torch.le, ">": torch.gt, ">=": torch.ge, "==": torch.eq,
        "!=": torch.ne}[op](_float(a), _float(b))) for op in ("<", "<=", ">", ">=", "==", "!=")},
    "square": ("square({a})", [FLOATS], lambda a: torch.square(_float(a))),
    "maximum": ("maximum({a}, {b})", [FLOATS, FLOATS],
                lambda a, b: torch.maximum(_float(a), _float(b))),
    "minimum": ("minimum({a}, {b})", [FLOATS, FLOATS],
                lambda a, b: torch.minimum(_float(a), _float(b))),
    "where": ("where({a} > 0, {b}, {c})", [FLOATS, FLOATS, FLOATS],
              lambda a, b, c: torch.where(_float(a) > 0, _float(b), _float(c))),
    "outer": ("outer({a}, {b})", [FLOATS, FLOATS],
              lambda a, b: torch.outer(_float(a).reshape(-1), _float(b).reshape(-1))),
    "zeros": ("zeros({a})", [("size",)], lambda a: torch.zeros(int(a), dtype=torch.float64)),
    "ones": ("ones({a})", [("size",)], lambda a: torch.ones(int(a), dtype=torch.float64)),
}
# a number a slot may hold instead of its tensor: as written, and its value
NUMBERS = {"x": ["0", "2", "-1", "0.5", "-2.5", "1.0"], "X": ["1.5", "0"],
           "p": ["0.25", "0.75", "1"], "t": ["1", "0"], "size": ["3", "2", "0", "-1"]}
LOCATED = re.compile(r"case\.yaml:\d+(:\d+)?: ")


def test_every_operation_of_the_table_has_a_template():
    assert set(TEMPLATES) == set(FUNCTIONS) | set(OPERATORS)


@st.composite
def calls(draw):
    """(the operation, the expression text, the slots' values) with at least one number."""
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    text, slots, _ = TEMPLATES[name]
    numbered = draw(st.lists(st.booleans(), min_size=len(slots), max_size=len(slots)))
    if not any(numbered):
        numbered[draw(st.integers(0, len(slots) - 1))] = True
    written, values = [], []
    for kinds, number in zip(slots, numbered):
        tensor = draw(st.sampled_from(kinds))
        if number:
            shown = draw(st.sampled_from(NUMBERS[tensor]))
            written.append(f"({shown})" if shown.startswith("-") else shown)  # -1 ** x: -(1**x)
            values.append(int(shown) if tensor == "t" else float(shown))
        else:
            written.append(tensor)
            values.append(tensor)
    return name, text.format(**dict(zip("abc", written))), values


def _torch_value(name: str, values: list):
    """torch's own value, each number a 0-d tensor; None where torch refuses the arguments."""
    f = TEMPLATES[name][2]
    try:
        with np.errstate(all="ignore"):
            return f(*map(_t, values)).double()
    except (RuntimeError, TypeError, ValueError, IndexError):
        return None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # var(2.0): nan, as torch gives it
@pytest.mark.filterwarnings("ignore::UserWarning")      # torch's own warning on the same
@given(calls())
@example(("max", "max(0, x)", [0.0, "x"]))
@example(("min", "min(x, 1.0)", ["x", 1.0]))
@example(("max", "max(0.5, x)", [0.5, "x"]))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_number_on_either_side_gives_torchs_value_or_a_located_error(tmp_path_factory, call):
    name, text, values = call
    path = tmp_path_factory.mktemp("ops") / "case.yaml"
    path.write_text(CASE % text, encoding="utf-8")
    result = check_file(path)
    problems = " | ".join(map(str, result.problems))
    assert "internal error" not in problems, (text, problems)
    if result.status == "error":
        assert LOCATED.match(problems) or getattr(result.problems[0], "line", None), (
            text, problems)
        return
    expected = _torch_value(name, values)
    assert expected is not None, (text, "torch refuses these arguments; the check did not")
    got = np.asarray(result.graph["nodes"]["y"]["value"], dtype=float)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-12, equal_nan=True,
                               err_msg=text)


@pytest.mark.parametrize("text, value", [
    ("max(0, x)", [0.5, 0.0, 2.0]),            # the ReLU idiom, a Python number first
    ("min(x, 1.0)", [0.5, -1.5, 1.0]),         # a float second is no dim: element by element
    ("max(x, 0.5)", [0.5, 0.5, 2.0]),
    ("min(2, x)", [0.5, -1.5, 2.0]),
])
def test_max_and_min_of_a_number_and_a_tensor(write_case, text, value):
    result = check_file(write_case(CASE % text))
    assert result.status == "passed", result.problems
    assert result.graph["nodes"]["y"]["value"] == value


def test_max_with_an_integer_second_is_still_along_that_dim(write_case):
    """As in torch: max(X, 1) is along dim 1 (values and indices), min(u, 1.0) is not."""
    result = check_file(write_case(CASE % "max(X, 1).values"))
    assert result.status == "passed", result.problems
    assert result.graph["nodes"]["y"]["value"] == [0.3, 1.0, 2.0]


def test_the_template_case_is_a_valid_case(write_case):
    """The property's case, with tensors in every slot, passes: its failures are the numbers'."""
    result = check_file(write_case(textwrap.dedent(CASE % "x * x")))
    assert result.status == "passed", result.problems
