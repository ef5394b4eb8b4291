"""Behaviour cases: each step kind, each expectation kind, the lessons in cases/, mistake (b)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch

from autograd_lab.case import Behaviour
from autograd_lab.check import check_case, check_file
from autograd_lab.cli import main
from autograd_lab.reading import load

from .conftest import CASES

MISTAKES = CASES.parent / "examples" / "mistakes"
pytest_plugins = ["pytester"]


def _torch_says(action) -> str:
    """torch's own words for an error, asked of the installed torch: the tests assert what
    the project says around them, not how a release of torch words them."""
    try:
        action()
    except RuntimeError as exc:
        return str(exc)
    raise AssertionError("torch raised nothing")


ELEMENT_0 = _torch_says(lambda: torch.tensor(1.0).backward())


@pytest.fixture
def steps(write_case):
    """steps(text, inputs=...) -> the CaseResult of a behaviour case with those steps."""
    def run(text: str, inputs: str = "x: {value: 2.0, grad: true}"):
        body = textwrap.indent(textwrap.dedent(text).strip(), "  ")
        return check_file(write_case(f"inputs:\n  {inputs}\nsteps:\n{body}\n"))
    return run


def claims(result) -> dict:
    return {c.claim: (c.value, c.status) for c in result.claims}


# --- the lessons in cases/ ----------------------------------------------------------------

LESSONS = ["grad_accumulation", "zero_grad", "zero_grad_vector", "no_grad", "detach",
           "requires_grad_false", "non_leaf_grad", "grad_fn_names", "backward_must_be_called"]


@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_is_a_passing_behaviour_case(name):
    result = check_file(CASES / f"{name}.yaml")
    assert (result.status, result.kind, result.name) == ("passed", "behaviour", name), \
        result.problems
    assert result.points == [] and result.claims
    assert all(c.status == "passed" for c in result.claims)


def test_accumulation_gives_4_then_8():
    got = claims(check_file(CASES / "grad_accumulation.yaml"))
    assert got["step 2 (y.backward()): grad/x"] == (4.0, "passed")
    assert got["step 4 (y.backward()): grad/x"] == (8.0, "passed")


def test_zero_grad_gives_0():
    got = claims(check_file(CASES / "zero_grad.yaml"))
    assert got["step 3 (x.grad.zero_()): grad/x"] == (0.0, "passed")
    vector = claims(check_file(CASES / "zero_grad_vector.yaml"))
    assert vector["step 3 (x.grad.zero_()): grad/x"] == ([0.0, 0.0, 0.0], "passed")


@pytest.mark.parametrize("name, step", [
    ("no_grad", "step 4 (y.backward())"), ("detach", "step 5 (y1.backward())"),
    ("requires_grad_false", "step 5 (y.backward())")])
def test_each_way_of_stopping_tracking_makes_backward_raise(name, step):
    got = claims(check_file(CASES / f"{name}.yaml"))
    assert got[f"{step}: raises"] == (f"RuntimeError: {ELEMENT_0}", "passed")


def test_non_leaf_grad_is_none_with_a_warning_then_a_value_after_retain_grad():
    got = claims(check_file(CASES / "non_leaf_grad.yaml"))
    assert got["step 4 (y.grad): grad/y"] == (None, "passed")
    warning, status = got["step 4 (y.grad): warns"]
    assert status == "passed" and warning.startswith("The .grad attribute of a Tensor that is "
                                                     "not a leaf Tensor is being accessed")
    assert got["step 9 (z.backward()): grad/y"] == (pytest.approx(-0.91113025, abs=1e-7),
                                                    "passed")


def test_grad_fn_names_as_the_tutorials_print_them():
    got = claims(check_file(CASES / "grad_fn_names.yaml"))
    names = {k.rsplit("/", 1)[1]: v for k, (v, _) in got.items() if ": grad_fn/" in k}
    assert names == {"x": None, "y": "PowBackward0", "z": "SinBackward0", "m": "MeanBackward0",
                     "z0": None,
                     "zw": "AddBackward0", "y_pred": "SigmoidBackward0", "loss": "NegBackward0"}


# --- each step kind -----------------------------------------------------------------------

def test_compute_bare_and_explicit_are_the_same(steps):
    bare = steps("- y: x**2\n  expect: {y: 4}")
    explicit = steps("- compute: {y: x**2, z: 3*y}\n  expect: {y: 4, z: 12}")
    assert bare.status == explicit.status == "passed"
    assert list(claims(explicit)) == ["step 1 (y = x**2; z = 3*y): y",
                                      "step 1 (y = x**2; z = 3*y): z"]


def test_compute_reduces_a_whole_vector_as_a_notebook_does(steps):
    result = steps("""
        - s: sum(x**2)
          expect: {s: 14, grad_fn/s: SumBackward0}
        - backward: s
          expect: {grad/x: [2, 4, 6]}
    """, inputs="x: {value: [1.0, 2.0, 3.0], grad: true}")
    assert result.status == "passed", result.problems


def test_a_name_a_step_computes_is_its_own_not_eulers_number(steps):
    # micrograd's lecture: e = (2*n).exp(); o = (e - 1)/(e + 1) is tanh(n)
    result = steps("- e: exp(2*x)\n- o: (e - 1)/(e + 1)\n  expect: {o: 0.9640}")
    assert claims(result)["step 2 (o = (e - 1)/(e + 1)): o"][1] == "passed"


def test_backward_fills_the_leaf_grad(steps):
    result = steps("- y: x**3\n- backward: y\n  expect: {grad/x: 12}")
    assert claims(result)["step 2 (y.backward()): grad/x"] == (12.0, "passed")


def test_zero_grad_before_any_backward_raises_as_in_python(steps):
    result = steps("- zero_grad: x\n  expect: {raises: \"'NoneType' object has no attribute\"}")
    assert result.status == "passed", result.problems
    assert claims(result)["step 1 (x.grad.zero_()): raises"][0] == \
        "AttributeError: 'NoneType' object has no attribute 'zero_'"


def test_no_grad_block_expectations_are_checked_inside_it(steps):
    result = steps("""
        - no_grad:
            - y: x**2
              expect: {requires_grad/y: false}
            - detach: {z: x}
        - w: x**2
          expect: {requires_grad/w: true, requires_grad/z: false}
    """)
    assert result.status == "passed", result.problems
    assert "step 1.1 (y = x**2): requires_grad/y" in claims(result)


def test_detach_shares_the_value_not_the_graph(steps):
    result = steps("- detach: {z: x}\n  expect: {z: 2, requires_grad/z: false, is_leaf/z: true}")
    assert result.status == "passed", result.problems


def test_requires_grad_true_turns_tracking_on(steps):
    result = steps("- requires_grad: {x: true}\n- y: x**2\n  expect: {grad_fn/y: PowBackward0}",
                   inputs="x: 2.0")
    assert result.status == "passed", result.problems


def test_retain_grad_keeps_a_non_leaf_gradient(steps):
    result = steps("- y: x**2\n- retain_grad: y\n- z: 3*y\n- backward: z\n"
                   "  expect: {grad/y: 3, grad/x: 12}")
    assert result.status == "passed", result.problems


def test_a_step_may_only_look(steps):
    result = steps("- expect: {x: 2, requires_grad/x: true, is_leaf/x: true, grad/x: null}")
    assert next(iter(claims(result))) == "step 1 (x, x.requires_grad, x.is_leaf, x.grad): x"
    assert result.status == "passed"


# --- each expectation kind, failing ---------------------------------------------------------

def test_a_false_value(steps):
    result = steps("- y: x**2\n  expect: {y: 5}")
    assert result.problems == ["step 1 (y = x**2, line 4): expected y = 5, but y is 4"]


def test_a_wrong_gradient_value_after_accumulation(steps):
    # the tutorial's lesson forgotten: a second backward() adds, it does not replace
    result = steps("- y: x**2\n- backward: y\n- y: x**2\n- backward: y\n  expect: {grad/x: 4}")
    assert result.status == "failed"
    assert result.problems == ["step 4 (y.backward(), line 7): expected grad/x = 4, "
                               "but x.grad is 8"]


def test_a_gradient_expected_none_that_has_a_value(steps):
    result = steps("- y: x**2\n- backward: y\n  expect: {grad/x: null}")
    assert result.problems == ["step 2 (y.backward(), line 5): expected grad/x = null, "
                               "but x.grad is 4"]


def test_a_non_leaf_gradient_expected_without_retain_grad(steps):
    result = steps("- y: x**2\n- z: 3*y\n- backward: z\n  expect: {grad/y: 3}")
    assert result.problems == [
        "step 3 (z.backward(), line 6): expected grad/y = 3, but y.grad is None: y is not a "
        "leaf (made by PowBackward0), and retain_grad() was not called on it before backward()"]


def test_a_wrong_grad_fn_requires_grad_and_is_leaf(steps):
    result = steps("- y: x**2\n  expect: {grad_fn/y: MulBackward0, requires_grad/y: false, "
                   "is_leaf/y: true}")
    assert result.problems == [
        "step 1 (y = x**2, line 4): expected grad_fn/y = MulBackward0, but y.grad_fn is "
        "PowBackward0",
        "step 1 (y = x**2, line 4): expected requires_grad/y = false, but y.requires_grad is True",
        "step 1 (y = x**2, line 4): expected is_leaf/y = true, but y.is_leaf is False"]


def test_raises_expected_but_nothing_raised(steps):
    result = steps(f"- y: x**2\n- backward: y\n  expect: {{raises: {ELEMENT_0}}}")
    assert result.problems == [f"step 2 (y.backward(), line 5): expected it to raise "
                               f"'{ELEMENT_0}', but it ran without error"]


def test_raises_with_another_message(steps):
    result = steps("- y: x**2\n- requires_grad: {x: false}\n- y: x**2\n- backward: y\n"
                   "  expect: {raises: graph a second time}")
    assert result.problems == [f"step 4 (y.backward(), line 7): expected it to raise 'graph a "
                               f"second time', but it raised RuntimeError: {ELEMENT_0}"]


def test_warns_expected_but_none_given(steps):
    result = steps("- expect: {grad/x: null, warns: not a leaf}")
    assert result.problems == ["step 1 (x.grad, line 4): expected a warning saying 'not a leaf', "
                               "but no warning was given"]


def test_an_unexpected_error_fails_the_case_and_stops_it(steps):
    result = steps("- requires_grad: {x: false}\n- y: x**2\n- backward: y\n- y: x**3")
    assert result.status == "failed"
    assert result.problems == [
        f"step 3 (y.backward(), line 6): raised RuntimeError: {ELEMENT_0} (if the tutorial "
        "shows this error, expect it with raises:)",
        "step 3 (y.backward(), line 6): the steps after it were not run"]


# --- mistake (b): `y.backward` without the call -------------------------------------------

def test_a_gradient_read_before_any_backward_says_no_backward_ran():
    result = check_file(MISTAKES / "backward_not_called.yaml")
    assert (result.status, result.kind) == ("failed", "behaviour")
    assert result.problems == [
        "step 2 (x.grad, line 14): expected grad/x = 6, but x.grad is None: no backward() ran "
        "before this step (writing y.backward without the parentheses does not call it)"]


# --- the format: validated, with file:line and what to write instead ------------------------

@pytest.mark.parametrize("text, message", [
    ("- y: x**2\n- backward: yy", "5:15: undeclared name 'yy'; did you mean 'y'?"),
    ("- y: x**2\n- backwards: y", "5:16: unknown step 'backwards'; did you mean 'backward'? "
                                  "(to compute a node of that name write compute: {backwards:"),
    ("- y: x**2\n  backward: y", "4:5: a step does one thing, like one notebook cell; this one "
                                 "has backward, a computation: give each its own step"),
    ("- y: x.grad", "4:8: the attribute .grad is not allowed; allowed: .T, .values, .indices "
                    "and the methods of the functions (x.sum(1)); x's gradient is claimed "
                    "under expect: as grad/x"),
    ("- y: x**2\n  expect: {grads/y: 1}", "5:23: expect grads/y: write a tensor's name, grad/NAME"),
    ("- expect: {raises: boom}", "4:22: raises: this step only looks"),
    ("- y: x**2\n  expect: {requires_grad/y: 1}", "5:31: expect requires_grad/y: expected true "
                                                  "or false"),
    ("- y: x**2\n  expect: {grad/y: [1, 2]}", "5:14: expect grad/y: (2,) values for a tensor of "
                                              "shape ()"),
    ("- y: x**2\n  expect: {y: true}", "5:17: expect y: expected a number, a list of numbers"),
    ("- y: x**2\n  expect: {grad_fn/y: 3}", "5:25: expect grad_fn/y: expected a name such as "
                                            "PowBackward0, or null"),
    ("- y.backward()", "4:5: steps.0: expected a step: {y: x**2}, {backward: y}"),
    ("- no_grad: {y: x}", "4:5: steps.0.no_grad: expected a list of steps"),
    ("- detach: {z: q}", "4:17: undeclared name 'q'"),
    ("- no_grad:\n    - y: w**2", "5:12: undeclared name 'w'"),
])
def test_a_bad_step_is_an_error_at_its_line(write_case, text, message):
    body = textwrap.indent(text, "  ")
    path = write_case(f"inputs:\n  x: {{value: 2.0, grad: true}}\nsteps:\n{body}\n")
    result = check_file(path)
    assert result.status == "error"
    assert result.problems[0].startswith(f"{path}:{message}"), result.problems[0]


def test_gradient_keys_in_a_behaviour_case_are_named(write_case):
    path = write_case("inputs: {x: 2.0}\nforward: {y: x**2}\nsteps:\n  - y: x**2\n")
    assert check_file(path).problems == [
        f"{path}:2:1: 'forward' belongs to a gradient case, but steps: makes this a behaviour "
        "case; write what it says as steps (- y: x**2)"]


def test_a_case_with_neither_forward_nor_steps_says_both(write_case):
    path = write_case("inputs: {x: 2.0}\n")
    assert check_file(path).problems[0].endswith(
        "missing required key 'forward' (or steps:, for a behaviour case)")


# --- one checking path: API, CLI and report.json --------------------------------------------

def test_the_api_loads_and_checks_a_behaviour_case():
    case = load(CASES / "detach.yaml")
    assert isinstance(case, Behaviour) and case.kind == "behaviour"
    assert [s.text for s in case.steps] == ["z = x.detach()", "y = x**2", "y1 = z**2",
                                            "y.backward()", "y1.backward()"]
    assert check_case(case).status == "passed"


def test_report_json_says_the_kind(tmp_path):
    from click.testing import CliRunner
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("x_squared", "zero_grad"):
        (folder / f"{name}.yaml").write_text((CASES / f"{name}.yaml").read_text())
    (folder / "mistake.yaml").write_text((MISTAKES / "backward_not_called.yaml").read_text())
    result = CliRunner().invoke(main, ["check", str(folder), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "no backward() ran before this step" in result.output
    report = json.loads(Path(tmp_path / "report.json").read_text())
    kinds = {c["name"]: (c["kind"], c["status"]) for c in report["cases"]}
    assert kinds == {"x_squared": ("gradient", "passed"), "zero_grad": ("behaviour", "passed"),
                     "backward_not_called": ("behaviour", "failed")}
    grad = next(c for c in report["cases"] if c["name"] == "zero_grad")["claims"][2]
    assert grad == {"claim": "step 3 (x.grad.zero_()): grad/x", "written": "0", "value": 0.0,
                    "status": "passed", "point": 0}


def test_log_outside_its_domain_in_a_step_is_reported(steps):
    result = steps("- y: log(1 - x)\n- z: sqrt(x - 3)", inputs="x: 2.0")
    assert result.problems == [
        "step 1 (y = log(1 - x), line 4): log(1 - x) (argument ≤ 0) is outside its domain",
        "step 2 (z = sqrt(x - 3), line 5): sqrt(x - 3) (argument < 0) is outside its domain"]


def test_a_bad_behaviour_file_is_an_error_of_kind_behaviour(write_case):
    result = check_file(write_case("inputs: {x: 2.0}\nsteps:\n  - backward: q\n"))
    assert (result.status, result.kind) == ("error", "behaviour")
    assert check_file(write_case("inputs: {x: 2.0}\n", "other")).kind == "gradient"


def test_the_editor_schema_knows_behaviour_cases_and_bare_steps():
    from autograd_lab.reading import json_schema
    schema = json_schema()
    assert [k["$ref"] for k in schema["anyOf"]] == ["#/$defs/CaseModel", "#/$defs/BehaviourModel"]
    step = schema["$defs"]["Step"]
    assert {"backward", "zero_grad", "no_grad", "detach", "requires_grad", "retain_grad",
            "compute", "expect"} == set(step["properties"])
    assert step["additionalProperties"] == {"anyOf": [{"type": "string"}, {"type": "number"}]}


def test_pytest_runs_behaviour_cases_with_the_same_diagnosis(pytester):
    pytester.makeini("[pytest]\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n"
                     "addopts = -p no:unraisableexception -p no:hypothesispytest\n"
                     "autograd_lab_cases = cases\n")
    pytester.makefile(".yaml", **{"cases/zero_grad": (CASES / "zero_grad.yaml").read_text(),
                                  "cases/mistake": (MISTAKES / "backward_not_called.yaml")
                                  .read_text()})
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*step 2 (x.grad, line 14): expected grad/x = 6, but x.grad is "
                                 "None: no backward() ran before this step*"])


def test_explain_shows_a_behaviour_case_as_notebook_cells():
    from click.testing import CliRunner
    result = CliRunner().invoke(main, ["explain", str(MISTAKES / "backward_not_called.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "x = torch.tensor(3.0, requires_grad=True)  # float32",
        "In [1]: y = x**2",
        "    y: 9  ok",
        "    grad_fn/y: PowBackward0  ok",
        "In [2]: x.grad",
        "    grad/x: None  FAILED (expected 6)",
        "FAILED: step 2 (x.grad, line 14): expected grad/x = 6, but x.grad is None: no "
        "backward() ran before this step (writing y.backward without the parentheses does not "
        "call it)",
        "failed: backward_not_called"]


def test_a_backward_of_a_non_scalar_says_the_cause_first(steps):
    """torch's own words ("grad can be implicitly created only for scalar outputs") come after
    the cause, and x.grad is not blamed on a backward written without parentheses."""
    result = steps("- y: x**2\n- backward: y\n  expect: {grad/x: [2.0, 4.0]}",
                   inputs="x: {value: [1.0, 2.0], grad: true}")
    cause = ("y has shape (2,), not a scalar, so y.backward() needs a gradient: write "
             "backward: {tensor: y, gradient: ...} (y.backward(gradient=...) in the notebook)")
    assert result.problems[0] == (f"step 2 (y.backward(), line 5): expected grad/x = [2.0, 4.0], "
                                  f"but x.grad is None: backward() failed: {cause}")
    assert result.problems[1].startswith(f"step 2 (y.backward(), line 5): {cause}; it raised "
                                         "RuntimeError: ")
    given = steps("- y: x**2\n- backward: {tensor: y, gradient: [1.0, 1.0]}\n"
                  "  expect: {grad/x: [2.0, 4.0]}", inputs="x: {value: [1.0, 2.0], grad: true}")
    assert given.status == "passed", given.problems
