"""Each method alone on known derivatives, and the chain rule's bookkeeping."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from autograd_lab.errors import CaseError
from autograd_lab.methods import Symbolic
from autograd_lab.methods import _autograd as autograd
from autograd_lab.methods import _manual as manual
from autograd_lab.methods import _numeric as numeric
from autograd_lab.reading import load

TWO_PATHS = """
inputs:
  x: {value: 2.0, grad: true}
forward:
  a: x**2
  b: 3*x
  y: a*b
chain_rule:
  y/a: b
  y/b: a
  a/x: 2*x
  b/x: 3
"""

BROADCAST = """
inputs:
  x: [1.0, 2.0, 3.0]
  w: {value: 0.5, grad: true}
  v: {value: [1.0, 1.0, 1.0], grad: true}
forward:
  z: w*x*v
  y: sum(z)
chain_rule:
  y/z: 1
  z/w: x*v
  z/v: w*x
"""


def all_three(case):
    return {"manual": manual.gradients(case), "sympy": Symbolic(case).gradients(),
            "autograd": autograd.gradients(case, "float64")[0]}


def test_a_name_reached_by_two_paths_gets_both(write_case):
    case = load(write_case(TWO_PATHS))
    for method, grads in all_three(case).items():
        assert grads["x"] == pytest.approx([36.0]), method  # d(3x^3)/dx = 9x^2


def test_a_scalar_broadcast_over_a_vector_is_summed_down(write_case):
    case = load(write_case(BROADCAST))
    for method, grads in all_three(case).items():
        assert grads["w"].reshape(-1) == pytest.approx([6.0]), method       # sum(x*v)
        assert grads["v"].reshape(-1) == pytest.approx([0.5, 1.0, 1.5]), method  # w*x


def test_a_per_element_local_derivative_is_spread_over_the_vector(write_case):
    case = load(write_case("""
        inputs:
          x: {value: [1.0, 2.0, 3.0], grad: true}
        forward:
          sq: x**2
          y: mean(sq)
        chain_rule:
          y/sq: 1/3
          sq/x: 2*x
    """))
    assert manual.gradients(case)["x"].reshape(-1) == pytest.approx([2 / 3, 4 / 3, 2.0])


def test_a_missing_edge_is_named(write_case):
    with pytest.raises(CaseError) as caught:
        load(write_case(TWO_PATHS.replace("  b/x: 3\n", "")))
    assert caught.value.message.startswith("missing edge b/x: b = 3*x uses x")
    assert caught.value.line == 7  # the chain_rule key


def test_an_edge_to_a_constant_is_not_required(write_case):
    case = load(write_case("""
        inputs:
          c: 4.0
          x: {value: 1.0, grad: true}
        forward:
          y: c*x**2
        chain_rule:
          y/x: 2*c*x
    """))
    assert manual.gradients(case)["x"] == pytest.approx([8.0])


def test_sympy_differentiates_through_a_reduction_inside_an_expression(write_case):
    # variance: dv/dx_i = 2 (x_i - mean(x)) / n, the cross term through mean(x) sums to zero
    case = load(write_case("""
        inputs:
          x: {value: [1.0, 2.0, 4.0], grad: true}
        forward:
          v: mean((x - mean(x))**2)
        gradient:
          x: 2*(x - mean(x))/3
    """))
    expected = [2 * (1 - 7 / 3) / 3, 2 * (2 - 7 / 3) / 3, 2 * (4 - 7 / 3) / 3]
    for method, grads in all_three(case).items():
        assert grads["x"].reshape(-1) == pytest.approx(expected, rel=1e-12), method


def test_a_reduction_counts_elements_the_expression_no_longer_shows(write_case):
    # x*0 vanishes symbolically, but sum() still runs over x's three elements
    case = load(write_case("""
        inputs:
          x: [1.0, 2.0, 3.0]
          w: {value: 2.0, grad: true}
        forward:
          y: sum(x*0 + w)
        gradient:
          w: 3
    """))
    for method, grads in all_three(case).items():
        assert grads["w"].reshape(-1) == pytest.approx([3.0]), method


@pytest.mark.parametrize("function, at, derivative", [
    ("sin", 0.5, np.cos(0.5)), ("cos", 0.5, -np.sin(0.5)), ("tan", 0.5, 1 / np.cos(0.5) ** 2),
    ("exp", 0.5, np.exp(0.5)), ("log", 0.5, 2.0), ("sqrt", 0.25, 1.0),
    ("tanh", 0.5, 1 - np.tanh(0.5) ** 2),
    ("sigmoid", 0.5, 1 / (1 + np.exp(-0.5)) * (1 - 1 / (1 + np.exp(-0.5)))),
    ("relu", 0.5, 1.0), ("relu", -0.5, 0.0), ("abs", -0.5, -1.0), ("sign", 0.5, 0.0),
    ("step", 0.5, 0.0),
])
def test_sympy_and_autograd_know_each_function(write_case, function, at, derivative):
    case = load(write_case(f"""
        inputs:
          x: {{value: {at}, grad: true}}
        forward:
          y: {function}(x)
        gradient:
          x: 0
    """))
    assert Symbolic(case).gradients()["x"] == pytest.approx([derivative], rel=1e-12)
    assert autograd.gradients(case, "float64")[0]["x"] == pytest.approx([derivative], rel=1e-12)


def test_all_points_go_through_a_method_as_one_batch(write_case):
    case = load(write_case("""
        inputs:
          x: {value: 1.0, grad: true}
        forward:
          y: x**3
        gradient:
          x: 3*x**2
        points:
          - at: {x: 2.0}
        sample: {count: 5, seed: 1, ranges: {x: [-1, 1]}}
    """))
    xs = case.points["x"]
    assert xs.shape == (7,) and xs[:2].tolist() == [1.0, 2.0]
    for method, grads in all_three(case).items():
        assert grads["x"] == pytest.approx(3 * xs ** 2, rel=1e-12), method


def test_float32_autograd_runs_in_float32(write_case):
    case = load(write_case("""
        dtype: float32
        inputs:
          x: {value: 0.1, grad: true}
        forward:
          y: x**2
        gradient:
          x: 2*x
    """))
    grads, values = autograd.gradients(case, "float32")
    assert values["y"].dtype.is_floating_point and str(values["y"].dtype) == "torch.float32"
    assert grads["x"][0] == np.float32(2) * np.float32(0.1)


def test_sympy_edge_form_is_written_in_the_node_names(write_case):
    case = load(write_case("""
        inputs:
          z: {value: 0.3, grad: true}
        forward:
          y_pred: sigmoid(z)
        chain_rule:
          y_pred/z: y_pred*(1 - y_pred)
    """))
    symbolic = Symbolic(case)
    assert symbolic.form("y_pred", "z") == "y_pred*(1 - y_pred)"
    s = 1 / (1 + np.exp(-0.3))
    assert symbolic.edge("y_pred", "z") == pytest.approx([s * (1 - s)], rel=1e-14)


def test_a_vector_nodes_edge_to_a_scalar_parent_is_one_per_element(write_case):
    from autograd_lab.check import check_file
    path = write_case("""
        inputs:
          x: [1.0, 2.0, 3.0]
          w: {value: 0.5, grad: true}
        forward:
          sq: w*x**2
          y: mean(sq)
        chain_rule:
          y/sq: 1/3
          sq/w: x**2
    """)
    assert Symbolic(load(path)).edge("sq", "w").reshape(-1) == pytest.approx([1.0, 4.0, 9.0])
    result = check_file(path)
    assert result.status == "passed", result.problems
    assert result.points[0].gradients["w"]["sympy"] == pytest.approx(14 / 3)


@pytest.mark.parametrize("expression, derivative", [
    ("sign(sqrt(x))", 0.0),                       # SymPy's own sign leaves this unevaluated
    ("abs(sqrt(x))", 0.5 / np.sqrt(0.7)),         # SymPy's own Abs goes through re() and im()
    ("abs(log(x))", -1 / 0.7),
    ("abs(x)**3", 3 * 0.7 ** 2),
])
def test_sympy_treats_abs_and_sign_as_real_functions(write_case, expression, derivative):
    case = load(write_case(f"""
        inputs:
          x: {{value: 0.7, grad: true}}
        forward:
          y: {expression}
        gradient:
          x: 0
    """))
    assert Symbolic(case).gradients()["x"] == pytest.approx([derivative], rel=1e-12)


def test_exact_evaluation_keeps_40_digits_with_the_number_first():
    x = sp.Symbol("x", real=True)
    env = {x: numeric.EXACT.array(np.array([[0.5], [3.0]]))}
    with numeric.EXACT.precision():
        value = numeric.EXACT.value(2 * x + sp.Rational(1, 3) / x**3, env)  # SymPy puts 2 first
        assert str(value[0, 0]).startswith("3." + "6" * 38)  # float64 holds 16 of them
    assert numeric.EXACT.floats(value).tolist() == [[1 + 8 / 3], [6 + 1 / 81]]


def test_a_hand_edge_that_is_sympys_own_expression_is_evaluated_once(write_case):
    case = load(write_case("""
        inputs:
          x: {value: [1.0, 2.0, 3.0], grad: true}
          w: {value: 2.0, grad: true}
        forward:
          sq: x**2
          y: w*sum(sq)
        chain_rule:
          sq/x: 2*x
          y/sq: w
          y/w: sum(sq)
    """))
    symbolic, edges = Symbolic(case), case.edges
    hand, exact = symbolic.edge_pair(edges["sq/x"].expr, "sq", "x")
    assert np.shares_memory(hand, exact) and exact.tolist() == [[2.0, 4.0, 6.0]]
    # SymPy's own expression is right at any point: the formula check evaluates nothing
    assert symbolic.own(edges["sq/x"].expr, "sq", "x")
    assert not symbolic.own(edges["y/sq"].expr, "y", "sq")
    hand, exact = symbolic.edge_pair(edges["y/sq"].expr, "y", "sq")  # a reduction: apart
    assert not np.shares_memory(hand, exact)
    assert np.broadcast_to(hand, exact.shape).tolist() == exact.tolist() == [[2.0, 2.0, 2.0]]
    wrong = load(write_case("""
        inputs:
          x: {value: 3.0, grad: true}
        forward:
          y: x**3
        chain_rule:
          y/x: 3*x
    """))
    hand, exact = Symbolic(wrong).edge_pair(wrong.edges["y/x"].expr, "y", "x")
    assert float(hand[0]) == 9.0 and float(exact[0]) == 27.0
    assert not Symbolic(wrong).own(wrong.edges["y/x"].expr, "y", "x")
