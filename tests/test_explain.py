"""`autograd-lab explain`: every step of the perceptron's derivation, as the tutorials print it."""
from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from autograd_lab import explain
from autograd_lab.reading import load

from .conftest import CASES


@pytest.fixture(scope="module")
def perceptron():
    return explain.derive(load(CASES / "perceptron_bce.yaml"))


def printed(derivation) -> str:
    out = Console(file=io.StringIO(), width=200, no_color=True)
    explain.show(derivation, out)
    return out.file.getvalue()


def test_forward_values_and_local_derivatives(perceptron):
    assert [(n, round(v, 6)) for n, _, v in perceptron.forward] == [
        ("z", 6.7), ("y_pred", 0.998771), ("p", 0.998771), ("loss", 6.70123)]
    steps = {s.edge: s for s in perceptron.steps}
    assert steps["loss/p"].value == pytest.approx(813.4058252, rel=1e-9)
    assert steps["y_pred/z"].value == pytest.approx(0.0012278872, rel=1e-8)
    assert steps["y_pred/z"].sympy == "y_pred*(1 - y_pred)"
    assert all(s.ok for s in perceptron.steps)


def test_product_along_each_path(perceptron):
    w, b = perceptron.gradients
    assert [p.edges for p in w.paths] == [["loss/p", "p/y_pred", "y_pred/z", "z/w"]]
    assert w.paths[0].product == pytest.approx(6.691763029, rel=1e-9)
    assert b.paths[0].product == pytest.approx(0.9987706014, rel=1e-9)
    assert w.sympy_value == pytest.approx(6.691763029, rel=1e-9)
    assert w.methods["autograd"] == pytest.approx(6.6917619705, rel=1e-8)


def test_printed_derivation_holds_every_step(perceptron):
    text = printed(perceptron)
    for expected in [
        "at the base point x = 6.7, y = 0, w = 1, b = 0",
        "1. Forward pass", "y_pred   sigmoid(z)", "0.9987706014", "6.701230155",
        "2. Local derivatives", "∂loss/∂p     (p - y)/(p*(1 - p))", "= 813.4058252",
        "∂loss/∂w = ∂loss/∂p · ∂p/∂y_pred · ∂y_pred/∂z · ∂z/∂w",
        "= 813.4058252 × 1 × 0.0012278872 × 6.7 = 6.691763029",
        "= 813.4058252 × 1 × 0.0012278872 × 1 = 0.9987706014",
        "4. SymPy's derivative of the output", "sigmoid(b + w*x)",
        "5. Each method at the base point", "6.691761971",
    ]:
        assert expected in text, expected


def test_backward_graph_beside_the_declared_nodes(perceptron):
    rows = [(name, declared) for _, name, declared in perceptron.backward]
    assert rows[0] == ("NegBackward0", "loss = -(y*log(p) + (1 - y)*log(1 - p))")
    assert ("SigmoidBackward0", "y_pred = sigmoid(z)") in rows
    assert ("AddBackward0", "z = w*x + b") in rows
    assert ("AccumulateGrad", "w (leaf: .grad)") in rows
    assert ("AccumulateGrad", "b (leaf: .grad)") in rows
    text = printed(perceptron)
    assert "└─ SigmoidBackward0" in text and "y_pred = sigmoid(z)" in text


def test_sympy_through_a_mean_and_the_hand_total():
    vector = explain.derive(load(CASES / "vector_mean_square.yaml"))
    assert vector.gradients[0].sympy == "2*x/3"
    assert [(n, d) for _, n, d in vector.backward][:2] == [
        ("MeanBackward1", "y = mean(sq)"), ("PowBackward0", "sq = x**2")]
    sin = explain.derive(load(CASES / "sin_x_squared.yaml"))
    g = sin.gradients[0]
    assert (g.sympy, g.sympy_named, g.total) == ("2*x*cos(x**2)", "2*x*cos(y)", "2*x*cos(x**2)")
    assert g.total_value == pytest.approx(-5.466781571308061, rel=1e-12)


def test_a_formula_too_long_to_simplify_has_each_nodes_name_put_back(write_case):
    """n7 = sin(n6)*n6, ... from n0 = x: SymPy's derivative has 5,248 operations, past what
    is simplified; each node stands whole in it and its name is put back there."""
    nodes = ", ".join(f"n{i}: sin(n{i - 1})*n{i - 1}" for i in range(1, 8))
    case = load(write_case(f"""
        inputs: {{x: {{value: 0.5, grad: true}}}}
        forward: {{n0: x, {nodes}}}
        gradient: {{x: 1}}
        """))
    g = explain.derive(case).gradients[0]
    assert g.sympy_named.startswith(
        "x*(x*cos(x) + sin(x))*sin(n2)*sin(n3)*sin(n4)*sin(n5)*sin(n6)*sin(x)*cos(n1) + ")
    assert "sin(x*sin(x))" in g.sympy and "sin(x*sin(x))" not in g.sympy_named


def test_two_paths_are_summed(write_case):
    case = load(write_case("""
        inputs: {x: {value: 2.0, grad: true}}
        forward: {a: x**2, b: 3*x, y: a*b}
        chain_rule: {y/a: b, y/b: a, a/x: 2*x, b/x: 3}
        """))
    g = explain.derive(case).gradients[0]
    assert [p.product for p in g.paths] == [24.0, 12.0]   # b*2x and a*3
    assert "(the sum over 2 paths)" in printed(explain.derive(case))


def test_find_by_name_or_file(tmp_path):
    assert explain.find("x_squared", CASES) == CASES / "x_squared.yaml"
    assert explain.find(str(CASES / "x_squared.yaml")) == CASES / "x_squared.yaml"
    with pytest.raises(Exception, match="no case file 'nope'"):
        explain.find("nope", tmp_path)


def test_a_behaviour_case_is_explained_by_its_steps():
    out = Console(file=io.StringIO(), width=200, no_color=True)
    explain.explain(str(CASES / "grad_accumulation.yaml"), out)
    text = out.file.getvalue()
    assert "In [2]: y.backward()\n    grad/x: 4" in text and "In [4]: y.backward()" in text


SOFTMAX = """\
inputs:
  z: {value: [1.0, 2.0, 3.0], grad: true}
  t: [1.0, 0.0, 0.0]
forward:
  ez: exp(z)
  se: sum(ez)
  p: ez/se
  lp: log(p)
  loss: -sum(t*lp)
chain_rule:
  loss/lp: -t
  lp/p: 1/p
  p/ez: 1/se
  p/se: -ez/se**2
  se/ez: 1
  ez/z: exp(z)
"""
# batchnorm written out: a mean, a variance through it, and a scalar gain broadcast
BATCHNORM = """\
inputs:
  x: {value: [0.5, -1.0, 2.0, 1.5], grad: true}
  g: {value: 1.5, grad: true}
forward:
  mu: mean(x)
  d: x - mu
  v: mean(d**2)
  xhat: d/sqrt(v + 0.00001)
  y: g*xhat
  loss: sum(y*y*x)
chain_rule:
  loss/y: 2*y*x
  loss/x: y*y
  y/g: xhat
  y/xhat: g
  xhat/d: 1/sqrt(v + 0.00001)
  xhat/v: -d/(2*(v + 0.00001)**1.5)
  v/d: 2*d/4
  d/x: 1
  d/mu: -1
  mu/x: 1/4
"""


@pytest.mark.parametrize("text, param", [(SOFTMAX, "z"), (BATCHNORM, "x"), (BATCHNORM, "g")])
def test_the_sum_over_paths_through_sums_means_and_broadcasts_is_every_methods(
        write_case, text, param):
    """Each path's share is composed as the check composes the chain rule (summed down at a
    sum or mean, spread back), so the sum over the paths is the gradient, to every digit."""
    d = explain.derive(load(write_case(text)))
    (g,) = [g for g in d.gradients if g.param == param]
    shown = g.path_sum if len(g.paths) > 1 else g.paths[0].product   # one path: g broadcast
    for method in ("manual", "sympy", "autograd"):
        assert shown == pytest.approx(g.methods[method], rel=1e-9, abs=1e-12)


def test_the_softmax_paths_print_the_methods_value(write_case):
    text = printed(explain.derive(load(write_case(SOFTMAX))))
    assert "= [-0.909969, 0.244728, 0.665241]   (the sum over 2 paths)" in text


# --- issue 22: explain says the verdict, the wrong step, and lines that multiply ----------

def explained(path) -> str:
    out = Console(file=io.StringIO(), width=400, no_color=True)
    explain.explain(str(path), out)
    return out.file.getvalue()


def test_a_failing_case_is_explained_with_its_verdict_and_its_wrong_step(write_case):
    text = explained(write_case(BATCHNORM.replace("mu/x: 1/4", "mu/x: 1/3"), "bn"))
    wrong = [line for line in text.splitlines() if "✗ wrong" in line]
    assert len(wrong) == 1 and wrong[0].lstrip().startswith("∂mu/∂x")
    assert ("FAILED: chain_rule edge mu/x: hand-written 1/3, SymPy 1/4; differs at the base "
            "point (g=1.5) element [0] by 0.0833333 (0.3333333333 vs 0.25)") in text
    assert text.rstrip().endswith("failed: bn")


def test_a_step_right_at_the_point_but_wrong_as_a_formula_is_marked_wrong(write_case):
    """At x = 2, x + 2 is 2*x's value: only the check's formula test finds it wrong."""
    text = explained(write_case("""
        inputs:
          x: {value: 2.0, grad: true}
        forward:
          y: x**2
        chain_rule:
          y/x: x + 2
        """, "lucky"))
    assert "✗ wrong" in text and "✓" not in text.split("3. The chain rule")[0]
    assert "wrong as a formula" in text and text.rstrip().endswith("failed: lucky")


def test_a_passing_case_is_explained_with_its_verdict(write_case):
    text = explained(write_case(BATCHNORM, "bn"))
    assert "✗" not in text and "FAILED" not in text
    assert text.rstrip().endswith("passed: bn")


def test_a_path_through_a_mean_shows_the_sum_its_product_takes(write_case):
    """mu = mean(x): the product along a path through mu is summed there (to mu's scalar)
    and spread back to x; the line says Σ(...) so its factors multiply to its value."""
    d = explain.derive(load(write_case(BATCHNORM)))
    (g,) = [g for g in d.gradients if g.param == "x"]
    via_mu = next(p for p in g.paths if p.edges[-2:] == ["d/mu", "mu/x"] and len(p.edges) == 5)
    assert via_mu.summed == [False, False, False, True, False]
    inner = np.sum(np.prod(np.broadcast_arrays(*via_mu.values[:4]), axis=0))
    assert np.allclose(via_mu.product, inner * via_mu.values[4])
    assert ("= Σ([-0.327326, 4.58256, 6.54651, 2.94593] × 1.5 × 0.8728682357 × -1) × 0.25 = "
            "[-4.49997, -4.49997, -4.49997, -4.49997]") in printed(d)
