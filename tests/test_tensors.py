"""Tensor cases, as the contract's "Tensors" part states them: every form of the widened
language gives torch's own value and gradient, a right hand-written backward entry passes and a
wrong one is named; dims, randn, randint, upstream, claims, SymPy's sizes and the reports."""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograd_lab.check import check_file
from autograd_lab.reading import load
from autograd_lab.reports import _markdown as markdown
from autograd_lab.reports import write

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_SEED = 9

# every input a form may use: (its YAML, how torch makes the same value). A float input is
# float64 in the case (the default dtype); a randn is torch's float32 draw, as a tutorial's is.
DIMS = "{n: 2, k: 3, h: 4, v: 4, m: 2}"
INPUTS = {
    "X": ("{value: {randn: [n, k], seed: 1}, grad: true}", ("randn", (2, 3), 1)),
    "Z": ("{value: {randn: [n, k], seed: 2}}", ("randn", (2, 3), 2)),
    "W": ("{value: {randn: [k, h], seed: 3}, grad: true}", ("randn", (3, 4), 3)),
    "a": ("{value: {randn: [k], seed: 4}, grad: true}", ("randn", (3,), 4)),
    "b": ("{value: {randn: [k], seed: 5}}", ("randn", (3,), 5)),
    "C": ("{value: {randn: [v, m], seed: 6}, grad: true}", ("randn", (4, 2), 6)),
    "T": ("[[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]]", ("list", [[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])),
    "S": ("[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]", ("list", [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    "t": ("{value: [2, 0], dtype: int64}", ("int", [2, 0])),
    "r": ("{value: [1], dtype: int64}", ("int", [1])),
    "c": ("{value: [2], dtype: int64}", ("int", [2])),
    "Xb": ("{value: [1, 3, 1], dtype: int64}", ("int", [1, 3, 1])),
}
PARAMS = {"X", "W", "a", "C"}


def drawn(shape, seed: int) -> torch.Tensor:
    """torch.randn(shape, generator=torch.Generator().manual_seed(seed)), as the contract says."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def reference(names) -> dict:
    """The inputs as torch holds them, float ones in float64, parameters requiring grad."""
    env = {}
    for name in names:
        kind, *how = INPUTS[name][1]
        if kind == "randn":
            value = drawn(*how).double()
        elif kind == "list":
            value = torch.tensor(how[0], dtype=torch.float64)
        else:
            env[name] = torch.tensor(how[0], dtype=torch.int64)
            continue
        env[name] = value.requires_grad_(name in PARAMS)
    return env


def expression(value, indent: str) -> str:
    """An expression, or a list of them as a block list (stacked), in YAML."""
    if isinstance(value, list):
        return "".join(f"\n{indent}  - {json.dumps(item)}" for item in value)
    return " " + json.dumps(value)


@dataclass
class Form:
    """One form of the language in a case: y = expr, differentiated with an upstream gradient
    drawn at y's shape; `backward` right, `wrong` one entry replaced by a wrong formula."""

    id: str
    uses: tuple
    expr: str | list
    shape: tuple | None                 # y's shape; None: a scalar (no upstream)
    reference: object                   # env -> torch's y
    backward: dict
    wrong: tuple                        # (entry, a wrong formula)
    before: dict = field(default_factory=dict)   # nodes before y

    def text(self, wrong: bool = False) -> str:
        inputs = "".join(f"  {n}: {INPUTS[n][0]}\n" for n in self.uses)
        nodes = {**self.before, "y": self.expr}
        forward = "".join(f"  {n}:{expression(e, '  ')}\n" for n, e in nodes.items())
        entries = dict(self.backward, **({self.wrong[0]: self.wrong[1]} if wrong else {}))
        backward = "".join(f"  {n}:{expression(e, '  ')}\n" for n, e in entries.items())
        upstream = "" if self.shape is None else \
            f"upstream: {{randn: {list(self.shape)}, seed: {UPSTREAM_SEED}}}\n"
        return (f"dims: {DIMS}\ninputs:\n{inputs}forward:\n{forward}output: y\n{upstream}"
                f"backward:\n{backward}")


def onehot(env, name, classes):
    return F.one_hot(env[name], classes).double()


FORMS = [
    # prefixes and method forms
    Form("torch_prefix", ("X",), "torch.tanh(X)", (2, 3), lambda e: torch.tanh(e["X"]),
         {"dX": "(1 - y**2) * dy"}, ("dX", "(1 - y) * dy")),
    Form("F_prefix", ("X",), "F.sigmoid(X)", (2, 3), lambda e: torch.sigmoid(e["X"]),
         {"dX": "y * (1 - y) * dy"}, ("dX", "y * dy")),
    Form("nn_functional_prefix", ("X",), "torch.nn.functional.relu(X)", (2, 3),
         lambda e: torch.relu(e["X"]), {"dX": "step(X) * dy"}, ("dX", "dy")),
    Form("method", ("X",), "X.exp()", (2, 3), lambda e: e["X"].exp(),
         {"dX": "y * dy"}, ("dX", "X * dy")),
    # keywords
    Form("dim_keepdim_keywords", ("X",), "X.sum(dim=1, keepdim=True)", (2, 1),
         lambda e: e["X"].sum(dim=1, keepdim=True), {"dX": "dy * torch.ones_like(X)"},
         ("dX", "2 * dy * torch.ones_like(X)")),
    Form("keepdims_alias", ("X",), "X.mean(1, keepdims=True)", (2, 1),
         lambda e: e["X"].mean(1, keepdim=True), {"dX": "dy * torch.ones_like(X) / k"},
         ("dX", "dy * torch.ones_like(X) / n")),
    Form("min_max_keywords", ("X",), "X.clamp(min=-0.5, max=0.5)", (2, 3),
         lambda e: e["X"].clamp(min=-0.5, max=0.5),
         {"dX": "dy * step(X + 0.5) * step(0.5 - X)"}, ("dX", "dy * step(X + 0.5)")),
    # linear algebra
    Form("matmul_operator", ("X", "W"), "X @ W", (2, 4), lambda e: e["X"] @ e["W"],
         {"dX": "dy @ W.T", "dW": "X.T @ dy"}, ("dW", "X.T @ dy * 2")),
    Form("matmul_function", ("X", "W"), "torch.matmul(X, W)", (2, 4),
         lambda e: torch.matmul(e["X"], e["W"]), {"dX": "dy @ W.T", "dW": "X.T @ dy"},
         ("dX", "dy @ W.T * 0.5")),
    Form("dot", ("a", "b"), "dot(a, b)", None, lambda e: torch.dot(e["a"], e["b"]),
         {"da": "dy * b"}, ("da", "dy * a")),
    Form("T", ("X",), "X.T", (3, 2), lambda e: e["X"].T, {"dX": "dy.T"}, ("dX", "-dy.T")),
    Form("transpose", ("X",), "transpose(X, 0, 1)", (3, 2),
         lambda e: torch.transpose(e["X"], 0, 1), {"dX": "dy.T"}, ("dX", "2 * dy.T")),
    # reductions over every element and along a dim
    Form("sum_all", ("X",), "X.sum()", None, lambda e: e["X"].sum(),
         {"dX": "torch.ones_like(X)"}, ("dX", "X")),
    Form("sum_along_dim", ("X",), "X.sum(1)", (2,), lambda e: e["X"].sum(1),
         {"dX": "dy.view(n, 1) * torch.ones_like(X)"}, ("dX", "dy.view(n, 1) * X")),
    Form("mean_along_dim", ("X",), "X.mean(0)", (3,), lambda e: e["X"].mean(0),
         {"dX": "dy.view(1, k) * torch.ones_like(X) / n"},
         ("dX", "dy.view(1, k) * torch.ones_like(X) / k")),
    Form("max_along_dim_values", ("X",), "X.max(1).values", (2,),
         lambda e: e["X"].max(1).values,
         {"dX": "F.one_hot(X.max(1).indices, num_classes=k) * dy.view(n, 1)"},
         ("dX", "F.one_hot(X.min(1).indices, num_classes=k) * dy.view(n, 1)")),
    Form("min_along_dim_keepdim", ("X",), "X.min(1, keepdim=True).values", (2, 1),
         lambda e: e["X"].min(1, keepdim=True).values,
         {"dX": "F.one_hot(X.min(1).indices, num_classes=k) * dy"},
         ("dX", "F.one_hot(X.max(1).indices, num_classes=k) * dy")),
    Form("max_all", ("X",), "X.max()", None, lambda e: e["X"].max(),
         {"dX": "F.one_hot(X.view(-1).max(0).indices, num_classes=6).view(n, k)"},
         ("dX", "F.one_hot(X.view(-1).min(0).indices, num_classes=6).view(n, k)")),
    Form("max_of_two_tensors", ("X", "Z"), "torch.max(X, Z)", (2, 3),
         lambda e: torch.maximum(e["X"], e["Z"]), {"dX": "step(X - Z) * dy"},
         ("dX", "step(Z - X) * dy")),
    Form("max_with_an_integer_is_along_a_dim", ("X",), "max(X, 1).values", (2,),
         lambda e: torch.max(e["X"], 1).values,
         {"dX": "F.one_hot(max(X, 1).indices, num_classes=k) * dy.view(n, 1)"},
         ("dX", "F.one_hot(min(X, 1).indices, num_classes=k) * dy.view(n, 1)")),
    Form("var_unbiased", ("X",), "X.var(1)", (2,), lambda e: e["X"].var(1),
         {"dX": "2 * (X - X.mean(1, keepdim=True)) / (k - 1) * dy.view(n, 1)"},
         ("dX", "2 * (X - X.mean(1, keepdim=True)) / k * dy.view(n, 1)")),
    Form("var_biased", ("X",), "X.var(1, unbiased=False)", (2,),
         lambda e: e["X"].var(1, unbiased=False),
         {"dX": "2 * (X - X.mean(1, keepdim=True)) / k * dy.view(n, 1)"},
         ("dX", "2 * (X - X.mean(1, keepdim=True)) / (k - 1) * dy.view(n, 1)")),
    Form("std", ("X",), "X.std(0)", (3,), lambda e: e["X"].std(0),
         {"dX": "(X - X.mean(0, keepdim=True)) / ((n - 1) * y) * dy"},
         ("dX", "(X - X.mean(0, keepdim=True)) / (n * y) * dy")),
    # softmax and its relatives
    Form("softmax", ("X",), "F.softmax(X, 1)", (2, 3), lambda e: F.softmax(e["X"], 1),
         {"dX": "y * (dy - (y * dy).sum(1, keepdim=True))"}, ("dX", "y * dy")),
    Form("log_softmax", ("X",), "F.log_softmax(X, dim=1)", (2, 3),
         lambda e: F.log_softmax(e["X"], dim=1),
         {"dX": "dy - torch.exp(y) * dy.sum(1, keepdim=True)"}, ("dX", "dy")),
    Form("logsumexp", ("X",), "torch.logsumexp(X, 1)", (2,),
         lambda e: torch.logsumexp(e["X"], 1), {"dX": "F.softmax(X, 1) * dy.view(n, 1)"},
         ("dX", "torch.exp(X) * dy.view(n, 1)")),
    # one-hot and the losses
    Form("one_hot", ("X", "t"), "F.one_hot(t, num_classes=k) * X", (2, 3),
         lambda e: onehot(e, "t", 3) * e["X"], {"dX": "F.one_hot(t, num_classes=k) * dy"},
         ("dX", "dy")),
    Form("cross_entropy", ("X", "t"), "F.cross_entropy(X, t)", None,
         lambda e: F.cross_entropy(e["X"], e["t"]),
         {"dX": "(F.softmax(X, 1) - F.one_hot(t, num_classes=k)) / n"},
         ("dX", "F.softmax(X, 1) - F.one_hot(t, num_classes=k)")),
    Form("binary_cross_entropy", ("X", "T"), "F.binary_cross_entropy(p, T)", None,
         lambda e: F.binary_cross_entropy(torch.sigmoid(e["X"]), e["T"]),
         {"dp": "(p - T) / (p * (1 - p)) / (n * k)", "dX": "p * (1 - p) * dp"},
         ("dp", "(p - T) / (n * k)"), {"p": "torch.sigmoid(X)"}),
    Form("binary_cross_entropy_with_logits", ("X", "T"),
         "F.binary_cross_entropy_with_logits(X, T)", None,
         lambda e: F.binary_cross_entropy_with_logits(e["X"], e["T"]),
         {"dX": "(torch.sigmoid(X) - T) / (n * k)"}, ("dX", "(torch.sigmoid(X) - T) / n")),
    Form("mse_loss", ("X", "Z"), "F.mse_loss(X, Z)", None,
         lambda e: F.mse_loss(e["X"], e["Z"]), {"dX": "2 * (X - Z) / (n * k)"},
         ("dX", "(X - Z) / (n * k)")),
    # values made like others, shapes, powers, copies
    Form("zeros_like_ones_like", ("X",), "X * torch.ones_like(X) + torch.zeros_like(X)",
         (2, 3), lambda e: e["X"] * torch.ones_like(e["X"]) + torch.zeros_like(e["X"]),
         {"dX": "dy"}, ("dX", "2 * dy")),
    Form("view_minus_one", ("X",), "X.view(-1)", (6,), lambda e: e["X"].view(-1),
         {"dX": "dy.view(n, k)"}, ("dX", "dy.view(k, n).T")),
    Form("reshape_dims", ("X",), "X.reshape(k, n)", (3, 2), lambda e: e["X"].reshape(3, 2),
         {"dX": "dy.reshape(n, k)"}, ("dX", "dy.T")),
    Form("pow_function", ("X",), "torch.pow(X, 3)", (2, 3), lambda e: torch.pow(e["X"], 3),
         {"dX": "3 * X**2 * dy"}, ("dX", "3 * X * dy")),
    Form("pow_method", ("X",), "X.pow(2)", (2, 3), lambda e: e["X"].pow(2),
         {"dX": "2 * X * dy"}, ("dX", "X * dy")),
    Form("clone_float_double", ("X",), "X.clone() * 2 + X.float() + X.double()", (2, 3),
         lambda e: e["X"].clone() * 2 + e["X"] + e["X"], {"dX": "4 * dy"}, ("dX", "2 * dy")),
    # subscripts
    Form("index_i", ("a",), "a[1] * a[2]", None, lambda e: e["a"][1] * e["a"][2],
         {"da": ["0", "a[2]", "a[1]"]}, ("da", ["a[0]", "a[2]", "a[1]"])),
    Form("index_i_j", ("X", "r", "c"), "X[1, 2] * 3", None, lambda e: e["X"][1, 2] * 3,
         {"dX": "3 * F.one_hot(r, num_classes=n).T @ F.one_hot(c, num_classes=k)"},
         ("dX", "2 * F.one_hot(r, num_classes=n).T @ F.one_hot(c, num_classes=k)")),
    Form("slice", ("X", "S"), "X[:, 1:3]", (2, 2), lambda e: e["X"][:, 1:3],
         {"dX": "dy @ S"}, ("dX", "-(dy @ S)")),
    Form("slice_with_dims", ("X", "S"), "X[0:n, 1:k]", (2, 2), lambda e: e["X"][0:2, 1:3],
         {"dX": "dy @ S"}, ("dX", "dy @ S * 3")),
    Form("rows_by_an_integer_tensor", ("C", "Xb"), "C[Xb]", (3, 2), lambda e: e["C"][e["Xb"]],
         {"dC": "F.one_hot(Xb, num_classes=v).T @ dy"},
         ("dC", "F.one_hot(Xb, num_classes=v).T @ dy * 0.5")),
    Form("one_element_a_row", ("X", "t"), "X[range(n), t]", (2,),
         lambda e: e["X"][range(2), e["t"]],
         {"dX": "F.one_hot(t, num_classes=k) * dy.view(n, 1)"},
         ("dX", "F.one_hot(t, num_classes=k) * 1.0")),
    # a YAML list stacked, in forward and in backward
    Form("stacked_list", ("a",), ["a[0] * 2", "a[1] * a[2]"], (2,),
         lambda e: torch.stack([e["a"][0] * 2, e["a"][1] * e["a"][2]]),
         {"da": ["2 * dy[0]", "dy[1] * a[2]", "dy[1] * a[1]"]},
         ("da", ["dy[0]", "dy[1] * a[2]", "dy[1] * a[1]"])),
]


def check(write_case, text: str, name: str = "case"):
    return check_file(write_case(text, name))


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.id)
def test_each_form_gives_torchs_value_and_gradient_and_a_right_backward_passes(write_case,
                                                                                 form):
    result = check(write_case, form.text())
    assert result.status == "passed", result.problems
    env = reference(form.uses)
    y = form.reference(env)
    assert np.allclose(result.graph["nodes"]["y"]["value"], y.detach().numpy(), rtol=1e-12,
                       atol=1e-15)
    y.backward(None if form.shape is None else drawn(form.shape, UPSTREAM_SEED).double())
    for p in sorted(PARAMS & set(form.uses)):
        got = result.points[0].gradients[p]
        assert np.allclose(got["autograd"], env[p].grad.numpy(), rtol=1e-12, atol=1e-15)
        assert np.allclose(got["sympy"], env[p].grad.numpy(), rtol=1e-9, atol=1e-12)
    assert [(b.name, b.status, b.agree) for b in result.backward] == [
        (name, "passed", True) for name in form.backward]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.id)
def test_a_wrong_entry_of_each_form_is_named(write_case, form):
    result = check(write_case, form.text(wrong=True))
    name, formula = form.wrong
    written = formula if isinstance(formula, str) else "[" + ", ".join(formula) + "]"
    assert result.status == "failed"
    entry = {b.name: b for b in result.backward}[name]
    assert (entry.status, entry.agree, entry.follows_from) == ("failed", False, None)
    assert result.problems[0].startswith(
        f"backward {name}: hand-written {written} differs from the gradient of {name[1:]} "
        "(SymPy) by ")
    assert "its own formula is wrong" in result.problems[0]


def test_values_of_different_shapes_broadcast_as_torch_broadcasts_them(write_case):
    result = check(write_case, f"""
        dims: {DIMS}
        inputs:
          X: {INPUTS['X'][0]}
          a: {INPUTS['a'][0]}
        forward:
          y: (X * a + a).sum()
        backward:
          dX: torch.ones_like(X) * a
          da: X.sum(0) + n
    """)
    env = reference("Xa")
    (env["X"] * env["a"] + env["a"]).sum().backward()
    assert result.status == "passed", result.problems
    assert np.allclose(result.points[0].gradients["a"]["sympy"], env["a"].grad.numpy())
    assert result.graph["inputs"]["a"]["shape"] == [3] and result.graph["nodes"]["y"]["shape"] == []


# --- the keys added ---------------------------------------------------------------------

MLP = ROOT / "cases" / "mlp_manual_backward.yaml"


def test_randn_is_torchs_seeded_draw_times_its_scale_bit_for_bit():
    case = load(MLP)
    for name, shape, seed, scale in [("C", (7, 2), 1, 1.0), ("W1", (6, 5), 2, 0.5),
                                     ("b1", (5,), 3, 0.1), ("W2", (5, 7), 4, 0.1)]:
        want = (drawn(shape, seed) * scale).double().numpy()   # scaled in float32, as torch does
        assert case.inputs[name].value.shape == shape
        assert np.array_equal(case.inputs[name].value, want), name


def test_randint_is_torchs_seeded_draw_an_integer_input():
    case = load(MLP)
    want = torch.randint(0, 7, (4, 3), generator=torch.Generator().manual_seed(6)).numpy()
    xb = case.inputs["Xb"]
    assert (xb.integer, xb.grad, xb.value.dtype) == (True, False, np.int64)
    assert np.array_equal(xb.value, want)
    assert case.inputs["Yb"].integer and case.inputs["Yb"].value.tolist() == [1, 0, 6, 3]


def test_dims_stand_in_shapes_products_and_expressions(write_case):
    path = write_case("""
        dims: {n: 2, k: 3, m: 2}
        inputs:
          W: {value: {randn: [k*m, n + 1], seed: 7}, grad: true}
        forward:
          y: W.sum() / (k*m)
        backward:
          dW: torch.ones_like(W) / (k*m)
    """)
    assert load(path).inputs["W"].value.shape == (6, 3)
    result = check_file(path)
    assert result.status == "passed", result.problems
    assert result.graph["nodes"]["y"]["value"] == pytest.approx(float(drawn((6, 3), 7).sum()) / 6)


def test_where_a_dim_and_a_node_share_a_name_a_size_written_with_it_says_so(write_case):
    path = write_case("""
        dims: {h: 3}
        inputs:
          x: {value: {randn: [h], seed: 1}, grad: true}
        forward:
          h: torch.tanh(x)
          y: h.view(1, h).sum()
        backward:
          dx: 1 - h**2
    """)
    assert check_file(path).problems == [
        f"{path}:6:6: h here is the tensor h, not the dim h (where a node or an input has a dim's "
        "name, the name means the tensor): write this size as a number or another dim: "
        "h.view(1, h).sum()"]


def test_a_dim_and_a_node_may_share_a_name_as_in_the_contracts_mlp(write_case):
    """h is the dim in a shape and the node wherever a node h is defined (tanh's value)."""
    result = check(write_case, """
        dims: {h: 3}
        inputs:
          x: {value: {randn: [h], seed: 1}, grad: true}
        forward:
          h: torch.tanh(x)
          y: h.sum()
        backward:
          dx: 1 - h**2
    """)
    assert result.status == "passed", result.problems
    assert result.graph["inputs"]["x"]["shape"] == [3]
    assert result.graph["nodes"]["y"]["value"] == pytest.approx(
        float(torch.tanh(drawn(3, 1).double()).sum()))


Q = """
    inputs:
      a: {value: [2.0, 3.0], grad: true}
      b: {value: [6.0, 4.0], grad: true}
    forward:
      Q: 3*a**3 - b**2
    upstream: %s
    backward:
      da: 9*a**2 * dQ
      db: -2*b * dQ
"""


@pytest.mark.parametrize("upstream, da, db", [
    ("[1.0, 1.0]", [36.0, 81.0], [-12.0, -8.0]),        # PyTorch's external_grad
    ("[0.5, -2.0]", [18.0, -162.0], [-6.0, 16.0]),
    ('"b"', [216.0, 324.0], [-72.0, -32.0]),             # an expression over the case's names
])
def test_upstream_is_the_gradient_handed_to_backward(write_case, upstream, da, db):
    result = check(write_case, Q % upstream)
    assert result.status == "passed", result.problems
    assert result.points[0].gradients["a"]["autograd"] == da
    assert result.points[0].gradients["b"]["sympy"] == db


def test_an_upstream_of_the_wrong_shape_is_an_error(write_case):
    path = write_case(Q % "[1.0, 1.0, 1.0]")
    assert check_file(path).problems == [
        f"{path}:6:1: upstream has shape (3,); the output Q has shape (2,)"]


def test_an_integer_input_is_never_differentiated(write_case):
    path = write_case("""
        inputs:
          x: {value: [1.0, 2.0, 3.0], grad: true}
          t: {value: [0, 2], dtype: int64, grad: true}
        forward:
          y: x[t].sum()
        backward:
          dx: torch.ones_like(x)
    """)
    assert check_file(path).problems == [
        f"{path}:3:3: t is an integer input (labels, indices): it is never differentiated, so "
        "it cannot have grad: true"]


# --- claims -------------------------------------------------------------------------------

CLAIMS = """
    dims: {n: 2, k: 3}
    inputs:
      X: {value: {randn: [n, k], seed: 1}, grad: true}
      Z: {value: {randn: [n, k], seed: 2}}
    forward:
      h: torch.tanh(X * Z)
      y: (h**2).sum()
    backward:
      dh: 2*h
      dX: (1 - h**2) * dh * Z
    expect:
%s
"""


def test_claims_on_any_names_gradient_and_claims_written_as_expressions(write_case):
    result = check(write_case, CLAIMS % textwrap.indent(
        'grad/h: "2*h"\ngrad/Z: "(1 - h**2) * 2*h * X"\ny: "(torch.tanh(X * Z)**2).sum()"',
        "      "))
    assert result.status == "passed", result.problems
    env = reference("XZ")
    env["Z"].requires_grad_(True)
    h = torch.tanh(env["X"] * env["Z"])
    h.retain_grad()
    (h**2).sum().backward()
    got = {c.claim: c for c in result.claims}
    assert [c.status for c in result.claims] == ["passed"] * 3
    assert np.allclose(got["grad/h"].value, h.grad.numpy(), rtol=1e-12)   # a node's .grad
    assert np.allclose(got["grad/Z"].value, env["Z"].grad.numpy(), rtol=1e-12)   # a constant's


def test_a_false_expression_claim_says_the_value(write_case):
    result = check(write_case, CLAIMS % '      grad/h: "3*h"')
    h = torch.tanh(reference("XZ")["X"] * reference("XZ")["Z"]).detach()
    rows = ", ".join("[" + ", ".join(f"{2 * x:.10g}" for x in row) + "]" for row in h.tolist())
    assert result.status == "failed"
    assert result.problems == [f"claim grad/h = 3*h is false: the value is [{rows}] (the base "
                               "point)"]


# --- how a backward pass is checked -------------------------------------------------------

NET = """
    dims: {n: 3, d: 2, m: 4}
    inputs:
      X: {value: {randn: [n, d], seed: 1}}
      W1: {value: {randn: [d, m], seed: 2}, grad: true}
      W2: {value: {randn: [m], seed: 3}, grad: true}
    forward:
      hpre: X @ W1
      h: torch.tanh(hpre)
      loss: (h @ W2).mean()
    backward:
%s
"""
RIGHT = {"dh": "W2.view(1, m) * torch.ones_like(h) / n", "dhpre": "(1 - h**2) * dh",
         "dW1": "X.T @ dhpre", "dW2": "h.T @ torch.ones_like(h[:, 0]) / n"}


def net(**entries) -> str:
    lines = "".join(f"      {k}: {v}\n" for k, v in entries.items())
    return NET % lines.rstrip("\n")


def test_a_backward_may_cover_only_some_names(write_case):
    result = check(write_case, net(dh=RIGHT["dh"], dhpre=RIGHT["dhpre"], dW1=RIGHT["dW1"]))
    assert result.status == "passed", result.problems
    assert "no hand-written gradient of W2 was given (backward has no dW2): SymPy and autograd " \
           "are compared for it" in result.notes
    assert set(result.points[0].gradients["W2"]) == {"sympy", "autograd"}
    assert set(result.points[0].gradients["W1"]) == {"manual", "sympy", "autograd"}


def test_a_wrong_entry_is_named_and_the_entries_using_it_follow_from_it(write_case):
    result = check(write_case, net(dh=RIGHT["dh"], dhpre="(1 - h) * dh", dW1=RIGHT["dW1"]))
    verdicts = {b.name: (b.status, b.follows_from) for b in result.backward}
    assert verdicts == {"dh": ("passed", None), "dhpre": ("failed", None),
                        "dW1": ("failed", "dhpre")}
    assert result.problems[0].startswith("backward dhpre: hand-written (1 - h) * dh differs from "
                                         "the gradient of hpre (SymPy) by ")
    assert result.problems[0].endswith("; its own formula is wrong: every d-name it uses (dh) is "
                                       "right")
    assert "backward dW1 is wrong only because it uses dhpre, which is wrong: it follows from " \
           "it" in result.notes
    assert not any(p.startswith("backward dW1") for p in result.problems)


def test_an_entry_wrong_on_its_own_is_named_though_it_uses_a_wrong_one(write_case):
    """dW1 wrong twice (a missing transpose and a wrong dhpre): its own formula is named."""
    result = check(write_case, net(dh=RIGHT["dh"], dhpre="(1 - h) * dh",
                                   dW1="X.T @ dhpre * 2"))
    assert {b.name: b.follows_from for b in result.backward if b.status == "failed"} == {
        "dhpre": None, "dW1": None}


def test_cmp_says_exact_agree_and_the_largest_difference_in_the_cases_dtype(write_case):
    """float32: tanh's derivative written by hand agrees with autograd's, not bit for bit
    (autograd's own backward of tanh rounds otherwise), as Karpathy's cmp() shows for dhpre."""
    result = check(write_case, textwrap.dedent(net(
        dh=RIGHT["dh"], dhpre="dh - h**2 * dh", dW1=RIGHT["dW1"])) + "dtype: float32\n")
    dhpre = {b.name: b for b in result.backward}["dhpre"]
    X, W1, W2 = drawn((3, 2), 1), drawn((2, 4), 2).requires_grad_(True), drawn(4, 3)  # noqa: N806 (the case's names)
    hpre = X @ W1
    hpre.retain_grad()
    h = torch.tanh(hpre)
    (h @ W2).mean().backward()
    dh = W2.view(1, 4) * torch.ones_like(h) / 3
    hand = (dh - h**2 * dh).detach()
    assert not torch.equal(hand, hpre.grad)
    assert (dhpre.status, dhpre.exact, dhpre.agree) == ("passed", False, True)
    assert dhpre.max_diff == float((hand - hpre.grad).abs().max()) > 0
    assert result.status == "passed", result.problems


# --- SymPy on tensors: full or reduced dims ----------------------------------------------

BIG = """
    dims: {n: 30, d: 20}
    inputs:
      X: {value: {randn: [n, d], seed: 0}}
      w: {value: {randn: [d], seed: 1, scale: 0.3}, grad: true}
      y: {value: {randn: [n], seed: 2}}
    forward:
      p: torch.tanh(X @ w)
      loss: ((p - y)**2).mean()
    backward:
      dp: 2*(p - y)/n
      dw: X.T @ (%s * dp)
"""


def test_a_small_case_is_checked_by_sympy_at_its_own_sizes(write_case):
    result = check(write_case, net(**RIGHT))
    assert result.status == "passed", result.problems
    assert result.sympy_at == "full"


def test_a_case_past_sympys_budget_runs_it_at_reduced_dims_every_input_drawn_again(write_case):
    path = write_case(BIG % "(1 - p**2)")
    result = check_file(path)
    assert result.status == "passed", result.problems
    assert result.sympy_at == {"n": 3, "d": 2}   # the smaller dim the smaller size
    small = load(path).at_dims(result.sympy_at)
    assert np.array_equal(small.inputs["X"].value, drawn((3, 2), 0).double().numpy())
    assert np.array_equal(small.inputs["w"].value, (drawn(2, 1) * 0.3).double().numpy())
    assert np.array_equal(small.inputs["y"].value, drawn(3, 2).double().numpy())


def test_a_wrong_entry_of_a_reduced_case_fails_at_both_sizes(write_case):
    result = check(write_case, BIG % "(1 - p)")
    X, w, y = drawn((3, 2), 0).double(), (drawn(2, 1) * 0.3).double(), drawn(3, 2).double()  # noqa: N806
    p = torch.tanh(X @ w)
    dp = 2 * (p - y) / 3
    hand, right = X.T @ ((1 - p) * dp), X.T @ ((1 - p**2) * dp)
    i = int((hand - right).abs().argmax())
    assert result.status == "failed"
    assert result.problems[0].startswith("backward dw: hand-written X.T @ ((1 - p) * dp) differs "
                                         "from the gradient of w (autograd) by ")
    assert result.problems[2] == (
        f"at the reduced dims n=3, d=2: backward dw: hand-written X.T @ ((1 - p) * dp) differs "
        f"from the gradient of w (SymPy) by {abs(hand - right)[i]:.3g} at the base point element "
        f"[{i}] ({hand[i]:.10g} vs {right[i]:.10g}); its own formula is wrong: every d-name it "
        "uses (dp) is right")


def test_a_case_too_large_with_a_listed_input_is_checked_at_cut_sizes(write_case):
    """A listed y keeps its 30 elements at other dims: every length is cut instead (y to its
    first 3), SymPy runs there, and a note says which check ran where (issue 22)."""
    listed = [round(0.1 * (i % 7), 1) for i in range(30)]
    path = write_case((BIG % "(1 - p**2)").replace("{value: {randn: [n], seed: 2}}",
                                                   str(listed)))
    result = check_file(path)
    assert result.status == "passed", result.problems
    assert result.sympy_at == {"n": 3, "d": 2}
    assert result.notes[-1].startswith("SymPy ran at reduced sizes: the inputs at X 3×2, w 2, "
                                       "y 3 (drawn again from the dims, or, without dims, cut "
                                       "to their leading elements)")
    wrong = check_file(write_case((BIG % "(1 - p)").replace(
        "{value: {randn: [n], seed: 2}}", str(listed)), "wrong"))
    assert [p.split(":")[0] for p in wrong.problems if "reduced" in p] == [
        "at the reduced dims n=3, d=2", "at the reduced dims n=3, d=2"]


def test_a_case_too_large_whose_lengths_are_all_written_says_how_to_make_it_checkable(
        write_case):
    text = (BIG % "(1 - p**2)").replace("{value: {randn: [n], seed: 2}}",
                                        "[" + ", ".join(["0.5"] * 30) + "]")
    text = text.replace("loss: ((p - y)**2).mean()", "loss: ((p - y)**2).sum()/30 + w.sum()/20")
    text = text.replace("dw: X.T @ ((1 - p**2) * dp)", "dw: X.T @ ((1 - p**2) * dp) + 1/20")
    path = write_case(text)
    result = check_file(path)
    assert result.status == "error"
    assert result.problems[0].startswith(f"{path}:5:3: SymPy cannot check this case at its own "
                                         "sizes (")
    assert result.problems[0].endswith(
        "and at the reduced dims n=3, d=2 it cannot be read: the input y keeps its size 30 (the "
        "dim n) because it is listed, so p - y: shapes (3,) and (30,) do not broadcast. To check "
        "it, draw y from the dims ({randn: [n], seed: 1}) so that it is drawn again at each size, "
        "or make the case small enough for SymPy at its own sizes")


# --- the reports --------------------------------------------------------------------------

MISTAKES = ROOT / "examples" / "mistakes"


def test_report_json_gives_each_backward_entry_and_where_sympy_ran(tmp_path, write_case):
    results = [check_file(MISTAKES / "tanh_derivative_one_minus_h.yaml"),
               check(write_case, BIG % "(1 - p**2)")]
    write(results, tmp_path, ("json",))
    cases = json.loads((tmp_path / "report.json").read_text())["cases"]
    assert [c["sympy_at"] for c in cases] == ["full", {"n": 3, "d": 2}]
    entries = {b["name"]: b for b in cases[0]["backward"]}
    assert list(entries)[:3] == ["dlogprobs", "dprobs", "dcounts_sum_inv"]
    assert {k: entries["dW2"][k] for k in ("status", "exact", "agree", "max_diff",
                                           "follows_from", "hand")} == {
        "status": "passed", "exact": True, "agree": True, "max_diff": 0.0, "follows_from": None,
        "hand": "h.T @ dlogits"}
    dhpre, dw1 = entries["dhpre"], entries["dW1"]
    assert (dhpre["status"], dhpre["exact"], dhpre["agree"], dhpre["follows_from"]) == \
        ("failed", False, False, None)
    assert dhpre["hand"] == "(1.0 - h) * dh" and dhpre["max_diff"] == pytest.approx(0.0199, 1e-2)
    assert (dw1["status"], dw1["follows_from"]) == ("failed", "dhpre")


def test_report_md_gives_the_backward_table(tmp_path):
    write([check_file(MISTAKES / "tanh_derivative_one_minus_h.yaml")], tmp_path, ("md",))
    text = (tmp_path / "report.md").read_text()
    assert "SymPy checked every element at the case's own sizes. Exact: equal to autograd's " \
           "gradient bit for bit in float32; agrees: within float32's tolerance of it." in text
    assert "| Entry | Hand-written | Shape | Exact | Agrees | Max difference | Verdict |" in text
    assert "| `dW2` | `h.T @ dlogits` | 5×7 | yes | yes | 0 | ✅ passed |" in text
    assert "| `dhpre` | `(1.0 - h) * dh` | 4×5 | no | no | 0.02 | ❌ failed |" in text
    assert "| `dW1` | `embcat.T @ dhpre` | 6×5 | no | no | 0.031 | ❌ failed (follows from " \
           "`dhpre`) |" in text


# --- the lessons in cases/, and the mistakes in examples/mistakes ------------------------

@pytest.mark.parametrize("name, sympy_at", [
    ("mlp_manual_backward", "full"), ("softmax_cross_entropy_by_indexing", "full"),
    ("pytorch_q_upstream", "full"), ("linear_bce_with_logits", "full"),
    ("linear_regression_matrix", "full"), ("batchnorm_backward_one_line", {"n": 2, "h": 3}),
])
def test_each_lesson_passes(name, sympy_at):
    result = check_file(ROOT / "cases" / f"{name}.yaml")
    assert result.status == "passed", result.problems
    assert result.sympy_at == sympy_at
    assert all(c.status == "passed" for c in result.claims)


def test_the_contracts_mlp_is_what_the_exercise_prints():
    """Karpathy's cmp(): every entry agrees; above tanh exact, from dhpre on approximate."""
    result = check_file(MLP)
    cmp = {b.name: (b.exact, b.agree) for b in result.backward}
    names = list(cmp)
    assert names[0] == "dlogprobs" and names[-1] == "dC" and len(names) == 17
    assert all(cmp[n] == (True, True) for n in names[:names.index("dhpre")])
    assert cmp["dhpre"][1] and all(agree for _, agree in cmp.values())
    assert [(c.claim, c.status) for c in result.claims] == [("grad/logits", "passed")]


@pytest.mark.parametrize("name, entry, followers", [
    ("missing_transpose", "dW", []),
    ("tanh_derivative_one_minus_h", "dhpre", ["dembcat", "dW1", "db1", "demb", "dC"]),
    ("batchnorm_divides_by_n", "dhprebn", []),
])
def test_each_mistake_fails_naming_its_entry(name, entry, followers):
    result = check_file(MISTAKES / f"{name}.yaml")
    assert result.status == "failed"
    assert result.problems[0].startswith(f"backward {entry}: hand-written ")
    assert "its own formula is wrong" in result.problems[0]
    assert {b.name: b.follows_from for b in result.backward if b.status == "failed"} == {
        entry: None, **dict.fromkeys(followers, entry)}


def test_backward_and_gradient_given_together_are_each_checked(write_case):
    result = check(write_case, """
        inputs:
          a: {value: [2.0, 3.0], grad: true}
        forward:
          Q: (3*a**3).sum()
        gradient:
          a: 9*a
        backward:
          da: 9*a**2
    """)
    assert [(b.name, b.status) for b in result.backward] == [("da", "passed")]
    assert result.problems == [
        "gradient a: manual_total gives 27 where SymPy gives 81 at the base point element [1]: "
        "off by 54, more than float64's tolerance (rtol 1e-07, atol 1e-07)"]


def test_a_node_that_overflows_is_said_so_not_passed_on_inf(write_case):
    """Every method agrees on inf where x**1000 overflows: that is no check, and is said so."""
    path = write_case("""
        inputs:
          x: {value: [1.0, 2.0, 3.0], grad: true}
        forward:
          y: (x**1000).sum()
        backward:
          dx: 1000*x**999
    """)
    result = check_file(path)
    assert result.status == "failed"
    assert result.problems == [f"{path}:4: y = (x**1000).sum() overflows float64 (inf) at the "
                               "base point, so its gradient cannot be checked there"]


def test_a_large_parameters_finite_difference_moves_a_sample_and_puts_it_back(write_case):
    """Past 1,024 elements the quotient moves a random sample of them, in place: it still
    agrees with autograd along that direction, and the inputs are the case's own after."""
    path = write_case(textwrap.dedent("""\
        dims: {n: 40}
        inputs:
          X: {value: {randn: [n, n], seed: 0}}
          W: {value: {randn: [n, n], seed: 1, scale: 0.1}, grad: true}
        forward:
          H: torch.tanh(X @ W)
          loss: H.mean()
        backward:
          dH: torch.ones_like(H) / (n*n)
          dW: X.T @ ((1 - H**2) * dH)
        """), "sampled")
    result = check_file(path)
    assert result.status == "passed", result.problems
    fd = result.points[0].details["W"]["finite_difference"]
    assert fd["along"] == "a random unit direction over 1,024 of its 1,600 elements (seed 0)"
    assert abs(fd["value"] - fd["autograd"]) <= 1e-5 + 1e-3 * abs(fd["autograd"])
    assert fd["autograd"] != 0
    assert result.points[0].at["W"] == [float(v) for v in
                                         (drawn((40, 40), 1) * 0.1).double().reshape(-1)[:1000]]
    assert not any("finite difference" in note for note in result.notes)


# --- issue 22: a wrong entry of any size or shape is a named wrong entry --------------------

def test_a_tiny_backward_entry_of_the_wrong_sign_is_named(write_case):
    """The true dx is of order 1e-8, below atol 1e-7: written with the wrong sign it passed."""
    result = check(write_case, """
        dims: {n: 3}
        inputs:
          x: {value: [0.001, 0.002, -0.003], grad: true}
          w: {value: [2.0e-8, -1.0e-8, 3.0e-8], grad: true}
        forward:
          p: x * w
          loss: p.sum()
        backward:
          dp: torch.ones_like(p)
          dx: -dp * w
          dw: dp * x
        """)
    assert {b.name: b.status for b in result.backward} == {
        "dp": "passed", "dx": "failed", "dw": "passed"}
    assert result.problems[0] == (
        "backward dx: hand-written -dp * w differs from the gradient of x (SymPy) by 6e-08 at "
        "the base point element [2] (-3e-08 vs 3e-08); the opposite sign, which is never within "
        "tolerance; its own formula is wrong: every d-name it uses (dp) is right")
    assert (result.problems[0].line, result.problems[0].column) == (10, 7)


@pytest.mark.parametrize("entry, said", [
    ("dhpre @ X", "cannot be computed: dhpre @ X: shapes (3, 4) and (3, 2) cannot be "
                  "multiplied (4 columns against 3 rows); autograd's gradient has shape (2, 4)"),
    ("dhpre.T @ X", "has shape (4, 2) where autograd's gradient has shape (2, 4): a transpose?"),
])
def test_an_entry_of_the_wrong_shape_fails_naming_both_shapes(write_case, entry, said):
    """The most common mistake in matrix backprop, a missing transpose: a wrong entry (FAIL),
    not a case that cannot be read (ERROR); placed at the entry's file:line:column."""
    path = write_case(net(dh=RIGHT["dh"], dhpre=RIGHT["dhpre"], dW1=entry))
    result = check_file(path)
    assert result.status == "failed"
    assert {b.name: (b.status, b.follows_from) for b in result.backward} == {
        "dh": ("passed", None), "dhpre": ("passed", None), "dW1": ("failed", None)}
    assert result.problems == [f"backward dW1: hand-written {entry} {said}"]
    assert (result.problems[0].line, result.problems[0].column) == (13, 8)


def test_an_entry_using_one_of_the_wrong_shape_follows_from_it(write_case):
    result = check(write_case, net(dh=RIGHT["dh"], dhpre="(1 - h**2).T * dh",
                                   dW1=RIGHT["dW1"]))
    assert {b.name: (b.status, b.follows_from) for b in result.backward} == {
        "dh": ("passed", None), "dhpre": ("failed", None), "dW1": ("failed", "dhpre")}
    assert result.problems[0].startswith("backward dhpre: hand-written (1 - h**2).T * dh cannot "
                                         "be computed: ")
    assert result.problems[0].endswith("; autograd's gradient has shape (3, 4)")
    assert not any(p.startswith("backward dW1") for p in result.problems)


def test_a_gradient_entry_of_the_wrong_shape_fails_naming_both_shapes(write_case):
    result = check(write_case, """
        dims: {n: 3, d: 4, h: 2}
        inputs:
          X: {value: {randn: [n, d], seed: 1}}
          W: {value: {randn: [d, h], seed: 2}, grad: true}
        forward:
          D: X @ W
          loss: (D**2).sum()
        gradient:
          W: (2*D).T @ X
        """)
    assert result.status == "failed"
    assert result.problems == ["gradient W: hand-written (2*D).T @ X has shape (2, 4) where "
                               "autograd's gradient has shape (4, 2): a transpose?"]
    assert (result.problems[0].line, result.problems[0].column) == (9, 6)


def test_a_right_entrys_difference_from_autograd_is_at_rounding_level_and_said_so(write_case):
    """float64's last digits are the CPU's: a right entry's max_diff is never shown in them."""
    result = check(write_case, net(**RIGHT))
    assert all(b.max_diff_at_rounding for b in result.backward)
    table = markdown.render([result], generated="T").split("### Backward pass")[1]
    for b in result.backward:
        row = next(line for line in table.splitlines() if line.startswith(f"| `{b.name}`"))
        assert ("rounding level" in row) == (b.max_diff > 0)


def test_a_backward_entry_computed_in_its_own_temporaries_is_torchs_value_bit_for_bit(
        write_case):
    """Under no_grad an entry's temporaries take the results of the operations on them (1 -
    H**2 into H**2's array, c / t as torch's own t.reciprocal() * c): the same numbers as
    torch's operators give, and the names' own values untouched."""
    from autograd_lab.methods import adjoints, tensor_autograd
    case = load(write_case("""\
        name: in_place
        inputs:
          X: {value: {randn: [4, 3], seed: 0}}
          W: {value: {randn: [3, 5], seed: 1}, grad: true}
        forward:
          Z: X @ W
          H: torch.tanh(Z)
          loss: H.mean()
        backward:
          dH: torch.ones_like(H) / 20
          dZ: -(-(1 - H**2)) * dH * 2.0 / 2.0 - (0.5 / (H + 3)) * 0 + 0
          dW: X.T @ dZ
        """))
    values = tensor_autograd(case, 0, "float64").values
    h, x = values["H"].clone(), values["X"].clone()
    got = adjoints(case, values, "float64")
    dh = torch.ones_like(h) / 20
    dz = torch.neg(torch.neg(1 - h**2)) * dh * 2.0 / 2.0 - (0.5 / (h + 3)) * 0 + 0
    assert torch.equal(values["H"], h) and torch.equal(values["X"], x)
    assert np.array_equal(got["dH"], dh.numpy()) and np.array_equal(got["dZ"], dz.numpy())
    assert np.array_equal(got["dW"], (x.T @ dz).numpy())
    result = check_file(case)
    assert result.status == "passed"
    assert [(b.name, b.status) for b in result.backward] == [
        ("dH", "passed"), ("dZ", "passed"), ("dW", "passed")]
