"""The pytest plugin: cases collected from `cases` folders, outcomes and messages, xdist."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from autograd_lab.api import check_file
from autograd_lab.cli import main

from .conftest import CASES

pytest_plugins = ["pytester"]

NEURON = """\
name: neuron
inputs:
  x: 2.0
  w: {value: 0.5, grad: true}
  b: {value: 0.0, grad: true}
forward:
  z: w*x + b
  a: sigmoid(z)
chain_rule:
  a/z: a*(1 - a)
  z/w: x
  z/b: 1
"""
X_SQUARED = "inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x**2\nchain_rule:\n  y/x: 2*x\n"
WRONG_EDGE = NEURON.replace("a/z: a*(1 - a)", "a/z: a*(1 + a)")
MISSING_EDGE = NEURON.replace("  z/b: 1\n", "")
INVALID = "inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x.real\nchain_rule:\n  y/x: 1\n"


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    """pytester's in-process runs unload every module they import: load torch's and SymPy's
    lazy imports once, before them, or each run pays for them again."""
    check_file(CASES / "perceptron_bce.yaml")
    check_file(CASES / "vector_mean_square.yaml")


@pytest.fixture
def pytester(pytester):
    """The plugin is imported before an in-process run (pytest warns of it; expected), and the
    collection of unraisable exceptions (a full gc.collect per run) is not needed here."""
    ini(pytester)
    return pytester


def ini(pytester, extra: str = "autograd_lab_cases = cases\n") -> None:
    """A project's ini; by default it opts in to the plugin for its cases/ folders."""
    pytester.makeini("[pytest]\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n"
                     f"addopts = -p no:unraisableexception -p no:hypothesispytest\n{extra}")


def outcomes(result) -> dict[str, str]:
    """nodeid -> passed, failed or error, from the reports the run logged."""
    found = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        if report.when != "call" and report.failed:
            found[report.nodeid] = "error"
        elif report.when == "call":
            found[report.nodeid] = report.outcome
    return found


def test_a_passing_case_records_its_gradients_for_junitxml(pytester):
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    result = pytester.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    case = ET.parse(pytester.path / "junit.xml").find(".//testcase")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert case.get("name") == "x_squared"
    by_method = json.loads(props["grad/x"])
    assert [by_method[m] for m in ("manual", "sympy", "autograd")] == [6.0, 6.0, 6.0]
    assert by_method["finite_difference"] == pytest.approx(6.0, rel=1e-6)
    assert props["status"] == "passed" and props["worst_difference"] == "0"


def test_the_plugin_and_the_cli_give_a_case_one_junit_classname(pytester):
    """pytest's junitxml names a testcase by its node id; `autograd-lab check`, run from the
    same folder, names it the same way."""
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED, "unit/cases/neuron": NEURON})
    pytester.runpytest("--junitxml=junit.xml").assert_outcomes(passed=2)
    by_pytest = {c.get("name"): c.get("classname")
                 for c in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    done = CliRunner().invoke(main, ["check", "cases", "unit/cases", "--out", "out",
                                     "--format", "junit"])
    assert done.exit_code == 0, done.output
    by_cli = {c.get("name"): c.get("classname")
              for c in ET.parse(pytester.path / "out" / "junit.xml").iter("testcase")}
    assert by_pytest == by_cli == {"x_squared": "cases.x_squared.yaml",
                                   "neuron": "unit.cases.neuron.yaml"}


def test_a_wrong_edge_fails_naming_the_edge_and_sympys_form(pytester):
    pytester.makefile(".yaml", **{"cases/neuron": WRONG_EDGE})
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "cases/neuron.yaml:10: chain_rule a/z is wrong: you wrote a*(1 + a), "
        "SymPy's derivative is a*(1 - a)",
        "cases/neuron.yaml:1: case neuron failed:",
        "  - gradient w: manual gives 2.531010448 where SymPy gives 0.3932238665 at the base "
        "point (x=2, w=0.5, b=0): *",
        "gradients at the base point, by method (the largest difference between two methods, "
        "over every point: 2.14):",
        "  w: manual 2.531010448, sympy 0.3932238665, autograd 0.3932238665, *",
        "FAILED cases/neuron.yaml::neuron - cases/neuron.yaml:10: chain_rule a/z*",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_an_invalid_file_is_an_error_at_file_line(pytester):
    pytester.makefile(".yaml", **{"cases/bad": INVALID})
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at setup of autograd-lab case bad*",
        "cases/bad.yaml:4:6: the attribute .real is not allowed; allowed: .T, .values, "
        ".indices and the methods of the functions (x.sum(1)): x.real",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_missing_edge_is_an_error_naming_it(pytester):
    pytester.makefile(".yaml", **{"cases/neuron": MISSING_EDGE})
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["cases/neuron.yaml:9:1: missing edge z/b: z = w*x + b uses b, "
                                 "which leads to a parameter; add chain_rule entry 'z/b'"])


def test_only_yaml_under_cases_or_named_is_collected(pytester):
    pytester.makefile(".yaml", **{"cases/sub/x_squared": X_SQUARED, "other/bad": INVALID,
                                  "tests/corpus/bad": INVALID})
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["cases/sub/x_squared.yaml::x_squared", "1 test collected*"])
    named = pytester.runpytest("other/bad.yaml")
    named.assert_outcomes(errors=1)
    pytester.makepyfile(test_other="def test_other(): pass")
    unmarked = pytester.runpytest("-m", "not autograd_lab", "--collect-only", "-q")
    unmarked.stdout.fnmatch_lines(["test_other.py::test_other", "1/2 tests collected*"])


def test_the_ini_option_names_the_folders(pytester):
    ini(pytester, "autograd_lab_cases = examples docs/lessons\n")
    pytester.makefile(".yaml", **{"examples/x_squared": X_SQUARED, "cases/bad": INVALID,
                                  "docs/lessons/a/square": X_SQUARED, "lessons/bad": INVALID})
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["docs/lessons/a/square.yaml::square",
                                 "examples/x_squared.yaml::x_squared", "2 tests collected*"])


def test_a_project_that_did_not_opt_in_is_untouched(pytester):
    """An unrelated project's tests/cases/*.yaml (not case files) beside an ordinary test:
    with neither the ini option nor the flag, nothing is collected from them."""
    ini(pytester, "")
    pytester.makefile(".yaml", **{"tests/cases/upper": "input: abc\nexpected: ABC\n"})
    pytester.makepyfile(**{"tests/test_upper":
                           "def test_upper():\n    assert 'abc'.upper() == 'ABC'\n"})
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "autograd_lab" not in result.stdout.str()


def test_the_flag_opts_in_with_the_default_cases_folders(pytester):
    ini(pytester, "")
    pytester.makefile(".yaml", **{"tests/cases/x_squared": X_SQUARED, "other/x": X_SQUARED})
    assert outcomes(pytester.runpytest()) == {}
    result = pytester.runpytest("--autograd-lab")
    assert outcomes(result) == {"tests/cases/x_squared.yaml::x_squared": "passed"}


def test_without_opting_in_a_named_yaml_file_is_not_collected(pytester):
    ini(pytester, "")
    pytester.makefile(".yaml", **{"other/x_squared": X_SQUARED})
    assert outcomes(pytester.runpytest("other/x_squared.yaml")) == {}
    assert outcomes(pytester.runpytest("--autograd-lab", "other/x_squared.yaml")) == {
        "other/x_squared.yaml::x_squared": "passed"}


def test_a_rootdir_named_cases_counts_as_a_cases_folder(pytester):
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    result = pytester.runpytest("--collect-only", "-q", "--rootdir=cases", "cases")
    result.stdout.fnmatch_lines(["x_squared.yaml::x_squared", "1 test collected*"])


def test_xdist_gives_the_serial_outcomes(pytester):
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED, "cases/neuron": NEURON,
                                  "cases/wrong_edge": WRONG_EDGE, "cases/missing": MISSING_EDGE,
                                  "cases/invalid": INVALID})
    serial = outcomes(pytester.runpytest())
    assert serial == {"cases/x_squared.yaml::x_squared": "passed",
                      "cases/neuron.yaml::neuron": "passed",
                      "cases/wrong_edge.yaml::wrong_edge": "failed",
                      "cases/missing.yaml::missing": "error",
                      "cases/invalid.yaml::invalid": "error"}
    assert outcomes(pytester.runpytest("-n", "2")) == serial


def test_collecting_cases_imports_neither_torch_nor_sympy(pytester):
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    pytester.makeconftest("""
        import sys
        def pytest_collection_finish(session):
            print("heavy:", sorted({"torch", "sympy"} & set(sys.modules)))
    """)
    result = pytester.runpytest_subprocess("--collect-only", "-s")
    result.stdout.fnmatch_lines(["heavy: []", "*1 test collected*"])
