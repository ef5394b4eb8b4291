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


SQRT = """
inputs:
  x: {value: %s, grad: true}
forward:
  y: %s
gradient:
  x: 0.5/sqrt(x)
"""


@pytest.mark.parametrize("at, formula, why", [
    ("-4.0", "x**0.5", "x**0.5 (a negative base to a power that is not a whole number, or 0 "
                       "to a negative power) is outside its domain at the base point (x=-4)"),
    ("-8.0", "x**(1/3)", "x**(1/3) (a negative base to a power that is not a whole number, "
                         "or 0 to a negative power) is outside its domain at the base point "
                         "(x=-8)"),
    ("0.0", "x**-1", "x**(-1) (a negative base to a power that is not a whole number, or 0 to "
                     "a negative power) is outside its domain at the base point (x=0)"),
    ("-4.0", "sqrt(x)", "sqrt(x) (argument < 0) is outside its domain at the base point (x=-4)"),
    ("0.0", "sqrt(x)", "sqrt(x) (argument 0) has an infinite derivative at the base point "
                       "(x=0), so no gradient through it can be checked there"),
    ("0.0", "x**0.5", "x**0.5 (0 to a power between 0 and 1) has an infinite derivative at the "
                      "base point (x=0), so no gradient through it can be checked there"),
])
def test_a_power_outside_its_domain_fails_as_sqrt_does(write_case, at, formula, why):
    """Every gradient null had passed without a word: no method has a value to agree on."""
    result = check_text(write_case, SQRT % (at, formula))
    assert result.status == "failed"
    assert result.problems == [f"{result.file}:4:6: {why}"]


def test_a_sqrt_of_a_constant_at_0_is_no_problem(write_case):
    """Only a slope that a gradient passes through counts: sqrt(c) of a constant input is 0."""
    result = check_text(write_case, """
        inputs:
          x: {value: 2.0, grad: true}
          c: 0.0
        forward:
          y: x**2 + sqrt(c)
        gradient:
          x: 2*x
        """)
    assert result.status == "passed" and result.problems == []


def test_a_gradient_no_method_gives_is_never_a_pass(write_case, monkeypatch):
    """With no table entry to say why (here: the power's domain taken out of the table),
    a gradient that SymPy and autograd both give as nan is still no agreement."""
    import dataclasses

    from autograd_lab.ops import OPERATORS
    monkeypatch.setitem(OPERATORS, "**", dataclasses.replace(OPERATORS["**"], outside=None))
    result = check_text(write_case, SQRT % ("-4.0", "x**0.5"))
    assert result.status == "failed"
    assert result.problems == ["gradient x has no value at the base point (x=-4): SymPy gives "
                               "nan and autograd nan, so it cannot be checked there"]


def test_inf_where_sympy_says_nan_is_a_disagreement(write_case, monkeypatch):
    """sqrt at 0 without its steepness in the table: inf by hand and by autograd, nan by
    SymPy, which had counted as agreement."""
    import dataclasses

    from autograd_lab.ops import FUNCTIONS
    monkeypatch.setitem(FUNCTIONS, "sqrt", dataclasses.replace(FUNCTIONS["sqrt"], steep=None))
    result = check_text(write_case, SQRT % ("0.0", "sqrt(x)"))
    assert result.status == "failed"
    assert result.problems[0] == ("gradient x: manual gives inf where SymPy gives nan at the "
                                  "base point (x=0): off by inf, more than float64's tolerance "
                                  "(rtol 1e-07, atol 1e-07)")


def test_each_problem_carries_the_place_of_what_it_is_about(write_case):
    """Issue 15, point 3: every failure had been printed at file:1."""
    path = write_case("""
        inputs:
          x: {value: 2.0, grad: true}
          w: {value: 3.0, grad: true}
        forward:
          y: w*x
          z: y**2
        chain_rule:
          z/y: -2*y
          y/x: w
          y/w: x
        gradient:
          x: 2*y*w + 1
        expect:
          z: 36
          grad/w: 5
        """)
    result = check_file(path)
    assert [(p.split(":")[0][:22], p.line, p.column) for p in result.problems] == [
        ("chain_rule edge z/y", 8, 8),          # the edge's formula
        ("gradient x", 8, 8),                   # follows from the edge: placed where the fix is
        ("gradient x", 12, 6),                  # the hand-written total, wrong by its + 1
        ("gradient w", 8, 8),
        ("claim grad/w = 5 is fa", 15, 11)]     # the claim's value
    assert result.to_dict()["problem_places"][0] == {"line": 8, "column": 8}


def test_a_total_given_for_some_parameters_only_is_checked_for_those(write_case):
    """gradient: for x alone beside a chain_rule for x and w had been an internal error."""
    result = check_file(write_case("""
        inputs:
          x: {value: 2.0, grad: true}
          w: {value: 3.0, grad: true}
        forward:
          y: w*x
        chain_rule:
          y/x: w
          y/w: x
        gradient:
          x: w
        """))
    assert result.status == "passed", result.problems
    assert set(result.points[0].gradients["w"]) >= {"manual", "sympy", "autograd"}
    assert "manual_total" in result.points[0].gradients["x"]


# --- the comparison rule: a derivative's correctness does not depend on its size -----------
# Each of these passed while atol was compared with the absolute difference (issue 22).

TINY_GRADIENT = """
    name: tiny_gradient
    inputs:
      x: 0.001
      w: {value: 0.5, grad: true}
    forward:
      u: w*x
      loss: 0.000005*u
    gradient:
      w: -0.000005*x
    """


def test_a_tiny_gradient_of_the_wrong_sign_fails_at_the_default_atol(write_case):
    """The true gradient is 5e-09, far below atol 1e-07: written as its negative it passed."""
    result = check_text(write_case, TINY_GRADIENT)
    assert result.status == "failed"
    assert result.problems == [
        "gradient w: manual gives -5e-09 where SymPy gives 5e-09 at the base point (x=0.001, "
        "w=0.5): off by 1e-08, more than float64's tolerance (rtol 1e-07, atol 1e-07 at the "
        "scale 0.5); the opposite sign, which is never within tolerance"]
    assert (result.problems[0].line, result.problems[0].column) == (9, 6)   # gradient: w


def test_a_gradient_of_the_wrong_sign_fails_within_a_cases_loose_atol(write_case):
    result = check_text(write_case, """
        name: loose_atol
        tolerance: {rtol: 0.001, atol: 0.01}
        inputs:
          x: 0.01
          w: {value: 2.0, grad: true}
        forward:
          y: 0.01*w*x
        chain_rule:
          y/w: -0.01*x
        """)
    assert result.status == "failed"
    assert [e.edge for e in result.edges if e.status == "failed"] == ["y/w"]
    assert result.problems[0] == (
        "chain_rule edge y/w: hand-written -0.01*x, SymPy x/100; differs at the base point "
        "(x=0.01, w=2) by 0.0002 (-0.0001 vs 0.0001); the opposite sign, which is never within "
        "tolerance")


@pytest.mark.parametrize("c, node, said", [
    ("1.0", "c*x**2", "SymPy 2*c*x; differs at the base point (x=0.001, c=1) by 0.002 (0 vs "
                      "0.002); a zero where the reference is not, which is never within tolerance"),
    ("0.001", "x**2", "SymPy 2*x; differs at the base point (x=0.001, c=0.001) by 0.002 (0 vs "
                      "0.002)"),
])
def test_an_edge_written_0_against_sympys_0_002_fails(write_case, c, node, said):
    """On the scale of order one the guard decides; where everything that flows into the
    edge is small (x**2 at x=0.001), atol shrinks with it and the tolerance decides."""
    result = check_text(write_case, f"""
        name: zero_edge
        tolerance: {{rtol: 0.001, atol: 0.01}}
        inputs:
          x: {{value: 0.001, grad: true}}
          c: {c}
        forward:
          y: {node}
        chain_rule:
          y/x: 0
        """)
    assert result.status == "failed"
    assert [e.edge for e in result.edges if e.status == "failed"] == ["y/x"]
    assert result.problems[0] == f"chain_rule edge y/x: hand-written 0, {said}"


def test_an_edge_exactly_zero_agrees_with_rounding_noise(write_case):
    """SymPy's 0 where the hand-written value is rounding noise of what flows in: near."""
    result = check_text(write_case, """
        name: cancelling
        inputs:
          x: {value: 0.1, grad: true}
          w: 3.0
        forward:
          y: (x + w)*(x + w) - (x*x + 2*x*w + w*w) + x
        chain_rule:
          y/x: (2*(x + w) - (2*x + 2*w)) + 1
        """)
    assert result.status == "passed", result.problems
    assert result.worst_at_rounding   # whatever digits this CPU left


def test_a_factor_of_2_fails_whatever_the_tolerance(write_case):
    result = check_text(write_case, """
        name: doubled
        tolerance: {rtol: 0.01, atol: 0.01}
        inputs:
          x: {value: 0.001, grad: true}
          c: 1.0
        forward:
          y: c*x**2
        chain_rule:
          y/x: 4*c*x
        """)
    assert result.status == "failed"
    assert result.problems[0].endswith("(0.004 vs 0.002); a factor of 2, which is never within "
                                       "tolerance")


def test_a_printed_claim_keeps_half_a_unit_but_not_a_sign_that_atol_swallowed(write_case):
    case = """
        name: claims
        tolerance: {rtol: 0.001, atol: 0.01}
        inputs:
          x: 0.01
          w: {value: 2.0, grad: true}
        forward:
          y: 0.01*w*x
        gradient:
          w: 0.01*x
        expect:
          grad/w: %s
        """
    assert check_text(write_case, case % "0.000", "printed").status == "passed"   # 4 digits
    wrong = check_text(write_case, case % "-0.0001", "wrong")
    assert wrong.status == "failed"
    assert wrong.problems == ["claim grad/w = -0.0001 is false: the value is 0.0001 (the base "
                              "point)"]
