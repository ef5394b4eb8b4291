"""order: 2: the Hessian checked three ways (hand entries, SymPy, torch double backward)."""
from __future__ import annotations

import math

import pytest

from autograd_lab.check import check_file
from autograd_lab.errors import CaseError
from autograd_lab.reading import load

from .conftest import CASES

LINEAR = """
    inputs:
      x: [1.0, 2.0, 4.0]
      t: [1.0, 3.0, 2.0]
      w: {value: 0.5, grad: true}
      b: {value: 0.1, grad: true}
    forward:
      r: w*x + b - t
      loss: mean(r**2) + mean(x*w)**2
    gradient:
      w: mean(2*r*x) + 2*mean(x*w)*mean(x)
      b: mean(2*r)
    order: 2
    hessian:
      w/w: 2*mean(x**2) + 2*mean(x)**2
      w/b: WB
      b/b: 2
"""


def test_the_order_2_perceptron_passes_with_its_hessian():
    result = check_file(CASES / "perceptron_bce_order2.yaml")
    assert result.status == "passed", result.problems
    base = result.to_dict()["points"][0]["hessian"]
    assert set(base) == {"w/w", "w/b", "b/b"}
    s = 0.0012278872003074   # y_pred*(1 - y_pred) at z = 6.7
    for key, value in {"w/w": 6.7 ** 2 * s, "w/b": 6.7 * s, "b/b": s}.items():
        assert base[key].pop("differentiable") is True
        assert set(base[key]) == {"manual", "sympy", "autograd"}
        for got in base[key].values():
            assert got == pytest.approx(value, rel=1e-9)


def test_a_wrong_hand_entry_fails_naming_it(write_case):
    wrong = (CASES / "perceptron_bce_order2.yaml").read_text().replace(
        "b/b: y_pred*(1 - y_pred)", "b/b: y_pred*(1 + y_pred)")
    result = check_file(write_case(wrong))
    assert result.status == "failed"
    assert result.problems == [
        "hessian b/b: manual (hand-written y_pred*(1 + y_pred)) gives 1.996313316 where SymPy "
        "gives 0.0012278872 at the base point (x=6.7, y=0, w=1, b=0): off by 2, more than "
        "float64's tolerance (rtol 1e-07, atol 1e-07)"]


def test_sums_and_means_are_differentiated_twice(write_case):
    result = check_file(write_case(LINEAR.replace("WB", "2*mean(x)")))
    assert result.status == "passed", result.problems
    h = result.points[0].hessian
    assert h["w/w"]["sympy"] == pytest.approx(2 * 7 + 2 * (7 / 3) ** 2, rel=1e-12)
    assert h["w/b"]["autograd"] == pytest.approx(14 / 3, rel=1e-12)


@pytest.mark.parametrize("change, message", [
    ("order: 2\n", "hessian entries are checked only with order: 2"),
    ("w/w: 2*mean", "hessian w/q: 'q' is not an input with grad: true (write entries as p/q)"),
    ("WB", "hessian w/b: a second derivative by scalar parameters is a scalar; reduce the "
           "expression with sum() or mean()"),
])
def test_bad_hessian_entries_are_refused(write_case, change, message):
    text = LINEAR.replace("WB", "2*mean(x)")
    text = {"order: 2\n": text.replace("    order: 2\n", ""),
            "w/w: 2*mean": text.replace("w/w: 2*mean", "w/q: 2*mean"),
            "WB": LINEAR.replace("WB", "2*x")}[change]
    with pytest.raises(CaseError, match="^.*" + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("*", r"\*")):
        load(write_case(text))


def test_order_2_needs_scalar_parameters(write_case):
    with pytest.raises(CaseError, match=r"order: 2 checks scalar parameters only; x has shape"):
        load(write_case("""
            inputs:
              x: {value: [1.0, 2.0], grad: true}
            forward:
              y: sum(x**2)
            gradient:
              x: 2*x
            order: 2
        """))


def test_kinks_in_an_order_2_case(write_case):
    result = check_file(write_case("""
        inputs:
          w: {value: 1.5, grad: true}
          b: {value: 0.5, grad: true}
        forward:
          y: clamp(w, 0, b)**2 + relu(w - b)**3*step(1 - b)
        gradient:
          w: 3*relu(w - b)**2*step(1 - b)
          b: 2*b - 3*relu(w - b)**2*step(1 - b)
        order: 2
        points:
          - at: {w: 0.5}
    """))
    assert result.status == "passed", result.problems
    h = result.points[0].hessian   # y = b**2 + (w - b)**3 here
    assert h["w/w"] == {"sympy": 6.0, "autograd": 6.0}
    assert h["w/b"] == {"sympy": -6.0, "autograd": -6.0}
    assert h["b/b"]["sympy"] == pytest.approx(8.0)
    assert result.to_dict()["points"][1]["gradients"]["w"]["differentiable"] is False


def test_a_parameter_the_output_does_not_use(write_case):
    result = check_file(write_case("""
        inputs:
          w: {value: 0.5, grad: true}
          b: {value: 1.0, grad: true}
        forward:
          y: b**3
        gradient:
          w: 0
          b: 3*b**2
        order: 2
        hessian:
          b/b: 6*b
    """))
    assert result.status == "passed", result.problems
    h = result.points[0].hessian
    assert h["w/w"] == h["w/b"] == {"sympy": 0.0, "autograd": 0.0}
    assert h["b/b"] == {"manual": 6.0, "sympy": 6.0, "autograd": 6.0}


def test_a_second_derivative_that_does_not_exist_at_a_kink(write_case):
    result = check_file(write_case("""
        inputs:
          w: {value: 0.0, grad: true}
        forward:
          y: relu(w)**2
        gradient:
          w: 2*relu(w)
        order: 2
        hessian:
          w/w: 2*step(w)
    """))
    assert result.status == "passed", result.problems
    ww = result.to_dict()["points"][0]["hessian"]["w/w"]
    assert ww["differentiable"] is False
    assert ww["one_sided"] == {"left": 0.0, "right": 2.0}
    assert result.notes == [
        "hessian w/w does not exist at the base point (w=0): a kink sits on its switch point "
        "there and the second derivative is 0 just left and 2 just right"]
    assert result.to_dict()["points"][0]["gradients"]["w"]["differentiable"] is True


def test_where_both_sides_agree_they_stand_in_for_sympys_nan(write_case):
    result = check_file(write_case("""
        inputs:
          w: {value: 0.0, grad: true}
        forward:
          y: relu(w)**3
        gradient:
          w: 3*relu(w)**2
        order: 2
        hessian:
          w/w: 6*relu(w)
        points:
          - at: {w: 1.0}
    """))
    assert result.status == "passed", result.problems
    base, one = (p["hessian"]["w/w"] for p in result.to_dict()["points"])
    assert base["differentiable"] is True and math.isnan(base["sympy"])   # 0*DiracDelta(0)
    assert one == {"manual": 6.0, "sympy": 6.0, "autograd": 6.0, "differentiable": True}
