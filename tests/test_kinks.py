"""Kinks: a parameter on relu's, abs's or sign's switch point is reported as not differentiable."""
from __future__ import annotations

import pytest

from autograd_lab.check import check_file

RELU = """
    name: relu_at_zero
    inputs:
      x: 2.0
      w: {value: 0.0, grad: true}
      b: {value: 0.0, grad: true}
    forward:
      z: w*x + b
      a: relu(z)
      loss: 3*a
    chain_rule:
      loss/a: 3
      a/z: STEP
      z/w: x
      z/b: 1
    points:
      - at: {w: 0.5}
      - at: {w: -0.5}
"""


def entry(result, param, point=0):
    return result.to_dict()["points"][point]["gradients"][param]


def test_relu_at_zero_is_not_differentiable_and_does_not_fail(write_case):
    result = check_file(write_case(RELU.replace("STEP", "step(z)")))
    assert result.status == "passed", result.problems
    w = entry(result, "w")
    assert w["differentiable"] is False
    assert w["one_sided"] == {"left": 0.0, "right": pytest.approx(6.0, rel=1e-6)}
    assert w["torch_convention"] == {"value": 0.0, "rule": "relu'(0) = 0"}
    assert (w["sympy"], w["autograd"]) == (3.0, 0.0)   # SymPy's Heaviside(0) = 1/2, torch's 0
    assert "relu(z) sits on its switch point" in w["kink"]
    assert entry(result, "b")["one_sided"]["right"] == pytest.approx(3.0, rel=1e-6)


def test_relu_neighbours_are_differentiable(write_case):
    result = check_file(write_case(RELU.replace("STEP", "step(z)")))
    for point, slope in ((1, 6.0), (2, 0.0)):
        w = entry(result, "w", point)
        assert w["differentiable"] is True and "kink" not in w
        assert w["sympy"] == w["manual"] == w["autograd"] == slope


def test_a_wrong_edge_still_fails_beside_a_kink(write_case):
    result = check_file(write_case(RELU.replace("STEP", "2*step(z)")))
    assert result.status == "failed"
    assert result.problems[0].startswith("chain_rule edge a/z: hand-written 2*step(z)")
    assert "point 1 (x=2, w=0.5, b=0)" in result.problems[0]


def test_abs_at_zero_and_beside_it(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 0.0, grad: true}
        forward:
          y: abs(x)
        gradient:
          x: sign(x)
        points:
          - at: {x: 1.0}
    """))
    assert result.status == "passed", result.problems
    at_zero = entry(result, "x")
    assert at_zero["differentiable"] is False
    assert at_zero["one_sided"] == {"left": -1.0, "right": 1.0}
    assert at_zero["torch_convention"]["rule"] == "abs'(0) = 0"
    assert entry(result, "x", 1)["differentiable"] is True


def test_a_jump_has_no_one_sided_derivative(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 0.0, grad: true}
        forward:
          y: sign(x) + x**2
        gradient:
          x: 2*x
    """))
    x = entry(result, "x")
    assert result.status == "passed", result.problems
    assert x["differentiable"] is False and x["jump"] == 2.0
    assert x["one_sided"] == {"left": None, "right": None}
    assert "jumps there by 2" in x["kink"]


def test_a_kink_whose_sides_agree_is_differentiable(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 0.0, grad: true}
        forward:
          y: abs(x)**2
        gradient:
          x: 2*x
    """))
    x = entry(result, "x")
    assert x["differentiable"] is True
    assert "the one-sided derivatives agree" in x["kink"]


def test_a_vector_names_the_element_on_the_kink(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: [-1.0, 0.0, 2.0], grad: true}
        forward:
          y: mean(relu(x))
        gradient:
          x: step(x)/3
    """))
    x = entry(result, "x")
    assert result.status == "passed", result.problems
    assert x["differentiable"] is False and x["kink_elements"] == [1]
    assert x["one_sided"]["left"] == [0.0, 0.0, pytest.approx(1 / 3)]
    assert x["one_sided"]["right"] == [0.0, pytest.approx(1 / 3), pytest.approx(1 / 3)]


def test_a_claim_at_a_kink_is_held_to_torchs_convention(write_case):
    text = RELU.replace("STEP", "step(z)") + "    expect: {grad/w: 0, grad/b: 0}\n"
    result = check_file(write_case(text))
    assert result.status == "passed", result.problems
    assert [(c.claim, c.value, c.status) for c in result.claims] == [
        ("grad/w", 0.0, "passed"), ("grad/b", 0.0, "passed")]
    assert "claim grad/w (the base point) is held to torch's convention: w is not " \
           "differentiable there" in result.notes


def test_kinks_at_many_points_are_weighed_in_one_batch(write_case):
    result = check_file(write_case("""
        inputs:
          x: 2.0
          w: {value: 0.0, grad: true}
        forward:
          y: relu(w*0) + relu(w)*x
        gradient:
          w: step(w)*x
        sample: {count: 200, seed: 0, ranges: {x: [-1, 1]}}
    """))
    assert result.status == "passed", result.problems
    assert result.notes[0].startswith(
        "w is not differentiable at the base point (x=2, w=0) (and at 200 more points): "
        "relu(w*0) and relu(w) sit on their switch points")
    for _point, listed in enumerate(result.to_dict()["points"]):
        w = listed["gradients"]["w"]
        assert w["one_sided"] == {"left": 0.0, "right": pytest.approx(listed["at"]["x"])}


def test_report_json_carries_the_kink_without_nan(write_case, tmp_path):
    import json

    from autograd_lab.reports import _json as json_report

    result = check_file(write_case("""
        inputs:
          x: {value: 0.0, grad: true}
        forward:
          y: sign(x) + x**2
        gradient:
          x: 2*x
    """))
    path = json_report.write([result], tmp_path / "out")
    x = json.loads(path.read_text())["cases"][0]["points"][0]["gradients"]["x"]
    assert x["differentiable"] is False and x["sympy"] is None   # SymPy's DiracDelta(0)
    assert x["jump"] == 2.0 and x["finite_difference"] == pytest.approx(1e6)


def test_a_differentiable_kink_stands_in_for_sympys_nan(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 0.0, grad: true}
        forward:
          y: sign(x)*x**2
        gradient:
          x: 2*abs(x)
    """))
    assert result.status == "passed", result.problems   # SymPy: 0*DiracDelta(0) = nan
    x = entry(result, "x")
    assert x["differentiable"] is True
    assert x["one_sided"] == {"left": 0.0, "right": 0.0}   # Richardson: exact here


def test_the_relu_neuron_case_passes_and_says_why():
    from .conftest import CASES

    result = check_file(CASES / "relu_neuron_at_its_kink.yaml")
    assert result.status == "passed", result.problems
    points = result.to_dict()["points"]
    assert [p["gradients"]["w"]["differentiable"] for p in points] == [False, True, True]
    assert points[0]["gradients"]["w"]["one_sided"] == {"left": 0.0, "right": -12.0}
    assert (points[0]["gradients"]["w"]["sympy"], points[0]["gradients"]["w"]["autograd"]) \
        == (-6.0, 0.0)
