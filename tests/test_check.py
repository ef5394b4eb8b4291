"""The checking path: wrong edges named with SymPy's form, false claims caught, statuses."""
from __future__ import annotations

import pytest

from autograd_lab.check import check_file, check_paths

from .conftest import CASES

PERCEPTRON = (CASES / "perceptron_bce.yaml").read_text()


def check_text(write_case, text, name="case"):
    return check_file(write_case(text, name))


@pytest.mark.parametrize("edge, wrong, right", [
    ("loss/p", "(p - y)/(p*(1 - p))", "(y - p)/(p*(1 - p))"),
    ("p/y_pred", "1", "0"),
    ("y_pred/z", "y_pred*(1 - y_pred)", "y_pred*(1 + y_pred)"),
    ("z/w", "x", "w"),
    ("z/b", "1", "2"),
])
def test_each_wrong_perceptron_edge_is_named_with_sympy_form(write_case, edge, wrong, right):
    line = next(text for text in PERCEPTRON.splitlines()
                if text.strip().startswith(edge + ":"))
    broken = PERCEPTRON.replace(line, line.replace(wrong, right, 1))
    result = check_text(write_case, broken)
    assert result.status == "failed"
    failed = [e for e in result.edges if e.status == "failed"]
    assert [e.edge for e in failed] == [edge]
    assert failed[0].hand == right
    assert result.problems[0].startswith(f"chain_rule edge {edge}: hand-written {right}, SymPy ")


def test_the_sigmoid_edge_shows_sympys_form(write_case):
    broken = PERCEPTRON.replace("y_pred/z: y_pred*(1 - y_pred)", "y_pred/z: y_pred*(1 + y_pred)")
    result = check_text(write_case, broken)
    assert result.problems[0].startswith(
        "chain_rule edge y_pred/z: hand-written y_pred*(1 + y_pred), SymPy y_pred*(1 - y_pred); "
        "differs at the base point (x=6.7, y=0, w=1, b=0) by 1.99509")
    assert "manual gives 10879.54" in result.problems[1]
    assert result.problems[1].endswith("(this follows from the wrong chain_rule edge)")


def test_a_false_claim_is_caught(write_case):
    result = check_text(write_case, PERCEPTRON.replace("loss: 6.7012 ", "loss: 6.7013 "))
    assert result.status == "failed"
    claim = next(c for c in result.claims if c.claim == "loss")
    assert (claim.status, claim.written) == ("failed", "6.7013")
    assert claim.value == pytest.approx(6.701230, abs=1e-6)
    assert "claim loss = 6.7013 is false: the value is 6.70123" in result.problems[0]


def test_a_float32_claim_holds_to_float32_precision(write_case):
    # the tutorial's 6.691762447357178 is float32 arithmetic; exact is 6.69176303...
    result = check_text(write_case, PERCEPTRON)
    claim = next(c for c in result.claims if c.written == "6.691762447357178")
    assert claim.status == "passed"
    assert claim.value == pytest.approx(6.691763029, abs=1e-9)


def test_a_hand_written_total_derivative_is_checked(write_case):
    text = (CASES / "sin_x_squared.yaml").read_text().replace("x: 2*x*cos(x**2)", "x: 2*cos(x**2)")
    result = check_text(write_case, text)
    assert result.status == "failed"
    assert result.problems == [
        "gradient x: manual_total gives -1.915318961 where SymPy gives -7.661275843 at point 2 "
        "(x=4): off by 5.75, more than float64's tolerance (rtol 1e-07, atol 1e-07)"]


def test_log_outside_its_domain_is_reported(write_case):
    result = check_text(write_case, """
        inputs:
          x: {value: -1.0, grad: true}
        forward:
          y: log(x)
        gradient:
          x: 1/x
    """)
    assert result.status == "failed"
    assert result.problems[0] == (f"{result.file}:4:6: log(x) (argument ≤ 0) is outside its "
                                  "domain at the base point (x=-1)")


def test_division_by_zero_at_a_point_is_reported(write_case):
    result = check_text(write_case, """
        inputs:
          x: {value: 1.0, grad: true}
        forward:
          y: 1/x
        gradient:
          x: -1/x**2
        points:
          - at: {x: 0.0}
    """)
    assert result.status == "failed"
    assert result.problems[0] == (f"{result.file}:4:6: division by zero in 1/x is outside its "
                                  "domain at point 1 (x=0)")


def test_a_bad_case_never_stops_the_others(tmp_path):
    (tmp_path / "a_bad.yaml").write_text("inputs: [1\n")
    (tmp_path / "b_good.yaml").write_text((CASES / "x_squared.yaml").read_text())
    results = check_paths([tmp_path])
    assert [(r.name, r.status) for r in results] == [("a_bad", "error"), ("x_squared", "passed")]
    assert results[0].problems[0].startswith(f"{tmp_path / 'a_bad.yaml'}:2:1: invalid YAML")


def test_the_result_follows_the_report_contract():
    result = check_file(CASES / "perceptron_bce.yaml").to_dict()
    assert {"name", "file", "status", "problems", "edges", "points", "claims"} <= set(result)
    assert result["points"][0]["at"] == {"x": 6.7, "y": 0.0, "w": 1.0, "b": 0.0}
    assert set(result["points"][0]["gradients"]["w"]) >= {"manual", "sympy", "autograd"}
    assert result["edges"][2] == {"edge": "y_pred/z", "status": "passed", "line": 18,
                                  "hand": "y_pred*(1 - y_pred)", "sympy": "y_pred*(1 - y_pred)",
                                  "value": pytest.approx(0.0012278872, rel=1e-8),
                                  "sympy_value": pytest.approx(0.0012278872, rel=1e-8)}


def test_an_overflow_to_inf_is_not_a_pass(write_case):
    result = check_text(write_case, """
        inputs:
          x: {value: 1000.0, grad: true}
        forward:
          y: exp(exp(x))
        gradient:
          x: exp(exp(x))*exp(x)
    """)
    assert result.status == "failed"
    assert result.problems[0].endswith(
        "case.yaml:4: y = exp(exp(x)) overflows float64 (inf) at the base point (x=1000), "
        "so its gradient cannot be checked there")


FQ = """\
inputs:
  x: {value: -2.0, grad: true}
  y: {value: 5.0, grad: true}
  z: {value: -4.0, grad: true}
forward:
  q: x + y
  f: q * z
chain_rule:
  f/q: -4
  f/z: q
  q/x: 1
  q/y: 1
"""


def test_an_edge_right_only_at_the_point_is_wrong_as_a_formula(write_case):
    """f/q: -4 equals z at the base point (cs231n's f = (x + y)z at x=-2, y=5, z=-4), but it is
    not SymPy's derivative z: checked as a formula, at random points near the case's."""
    result = check_file(write_case(FQ))
    assert result.status == "failed"
    (problem,) = result.problems
    assert problem.startswith("chain_rule edge f/q: hand-written -4, SymPy z; right at the "
                              "case's points, wrong as a formula: at x=")
    assert "it gives -4 and SymPy -" in problem
    assert check_file(write_case(FQ.replace("f/q: -4", "f/q: z"), "right")).status == "passed"


def test_a_total_right_only_at_the_point_is_wrong_as_a_formula(write_case):
    text = FQ.replace("chain_rule:\n  f/q: -4\n  f/z: q\n  q/x: 1\n  q/y: 1\n",
                      "gradient:\n  x: -4\n  y: z\n  z: x + y\n")
    result = check_file(write_case(text))
    assert [p.split(":")[0] for p in result.problems] == ["gradient x"]
    assert result.problems[0].startswith("gradient x: the hand-written total -4 is right at the "
                                         "case's points, wrong as a formula: at x=")


def test_a_scalar_parameter_is_named_without_an_element(write_case):
    path = write_case("""
        inputs:
          x: [1.0, 2.0, 3.0]
          m: {value: 0.9, grad: true}
          b: {value: 0.1, grad: true}
        forward:
          y: m*x + b
          loss: mean(y**2)
        gradient:
          m: mean(2*y)
          b: mean(2*y)
        """)
    problem = check_file(path).problems[0]
    assert problem.startswith("gradient m: manual gives 3.8 where SymPy gives 8.8 at the base "
                              "point (m=0.9, b=0.1): off by 5,")
    assert "element" not in problem


def test_a_node_named_e_shadows_the_constant_with_a_note(write_case):
    """colah's e = (a + b)(b + 1): the node e is the case's own, not Euler's number."""
    path = write_case("""
        inputs:
          a: {value: 2.0, grad: true}
          b: {value: 1.0, grad: true}
        forward:
          c: a + b
          d: b + 1
          e: c*d
        chain_rule:
          e/c: d
          e/d: c
          c/a: 1
          c/b: 1
          d/b: 1
        expect:
          e: 6
          grad/b: 5
        """)
    result = check_file(path)
    assert result.status == "passed", result.problems
    assert result.notes == ["the node e is the case's own e, not the constant e = 2.71828: "
                            "wherever e is written it means the node"]


def test_a_claim_missed_by_inputs_copied_to_printed_digits_says_so(write_case):
    """x and w copied from a tutorial's 4-digit printout; z claimed from its full run."""
    path = write_case("""
        inputs:
          x: {value: 1.2346, grad: true}
          w: -2.1073
        forward:
          z: w*x
          y: sin(z)
        gradient:
          x: w*cos(z)
        expect:
          z: -2.6018
        """)
    (problem,) = check_file(path).problems
    assert problem == ("claim z = -2.6018 is false: the value is -2.60167258 (the base point); "
                       "it would hold if the inputs moved within the digits they are written "
                       "with (x, w: up to 0.00017 on z): they may be values the tutorial "
                       "printed, not the ones it ran with; write them with every digit")
    far = check_file(write_case(path.read_text().replace("-2.6018", "-2.7"), "far"))
    assert far.problems[0].endswith("(the base point)")
