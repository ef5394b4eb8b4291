"""The pytest plugin: cases collected from `cases` folders, outcomes and messages, xdist."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points

import pytest
from click.testing import CliRunner

from autograd_lab.api import check_file
from autograd_lab.cli import main
from autograd_lab.plugin import is_case

from .conftest import CASES, ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

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
    assert [props[f"grad/x/{m}"] for m in ("manual", "sympy", "autograd")] == ["6.0"] * 3
    assert float(props["grad/x/finite_difference"]) == pytest.approx(6.0, rel=1e-6)
    assert (props["status"], props["dtype"], props["worst_gap"]) == ("passed", "float64", "0.0")


def _properties(path) -> dict[str, list[tuple[str, str]]]:
    """classname (the file: two cases may share a name) -> the properties, in order."""
    return {c.get("classname").split(".")[-2]: [(p.get("name"), p.get("value"))
                                                for p in c.iter("property")]
            for c in ET.parse(path).iter("testcase")}


def test_the_plugin_and_the_cli_write_one_junit_scheme(pytester):
    """The same property names, in the same order, for a passing, a failing and a broken
    case, whether pytest or `autograd-lab check` ran them: a dashboard keeps one history."""
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED, "cases/neuron": NEURON,
                                  "cases/wrong_edge": WRONG_EDGE, "cases/invalid": INVALID})
    pytester.runpytest("--junitxml=junit.xml").assert_outcomes(passed=2, failed=1, errors=1)
    done = CliRunner().invoke(main, ["check", "cases", "--out", "out", "--format", "junit"])
    assert done.exit_code == 2, done.output
    by_pytest = _properties(pytester.path / "junit.xml")
    by_cli = _properties(pytester.path / "out" / "junit.xml")
    names = {case: [name for name, _ in props] for case, props in by_cli.items()}
    assert names == {case: [name for name, _ in props] for case, props in by_pytest.items()}
    assert names["invalid"] == ["status"]
    assert names["neuron"][:3] == ["status", "dtype", "worst_gap"]
    assert {"grad/w/manual", "grad/w/sympy", "grad/w/autograd", "grad/b/sympy"} <= set(
        names["neuron"])
    same = ("status", "dtype", "grad/w/manual", "grad/w/sympy")   # seconds and draws aside
    assert [p for p in by_cli["wrong_edge"] if p[0] in same] == [
        p for p in by_pytest["wrong_edge"] if p[0] in same]


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
    result.stdout.fnmatch_lines([   # each problem, then the line and column it is about
        "chain_rule edge a/z: hand-written a*(1 + a), SymPy a*(1 - a); differs at the base "
        "point (x=2, w=0.5, b=0) by 1.06889 (1.265505224 vs 0.1966119332) "
        "(cases/neuron.yaml:10:8)",
        "gradient w: manual gives 2.531010448 where SymPy gives 0.3932238665 at the base point "
        "(x=2, w=0.5, b=0): * (this follows from the wrong chain_rule edge) "
        "(cases/neuron.yaml:10:8)",
        "*",
        "case neuron failed (cases/neuron.yaml:1)",
        "gradients at the base point, by method (the largest difference between two methods, "
        "over every point: 2.14):",
        "  w: manual 2.531010448, sympy 0.3932238665, autograd 0.3932238665, *",
        "FAILED cases/neuron.yaml::neuron - chain_rule edge a/z: hand-written *",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_tb_line_prints_path_line_and_the_first_problem(pytester):
    """--tb=line: a line a case, `path:line: words`, whole, and no diagnosis above it."""
    pytester.makefile(".yaml", **{"cases/neuron": WRONG_EDGE, "cases/bad": INVALID})
    result = pytester.runpytest("--tb=line")
    result.assert_outcomes(failed=1, errors=1)
    path = pytester.path / "cases"
    result.stdout.fnmatch_lines([
        f"{path / 'neuron.yaml'}:10: chain_rule edge a/z: hand-written a*(1 + a), SymPy "
        "a*(1 - a); differs at the base point (x=2, w=0.5, b=0) by 1.06889 (1.265505224 vs "
        "0.1966119332)"])
    result.stdout.no_fnmatch_line("gradient w: manual gives*")
    result.stdout.no_fnmatch_line("case neuron failed*")
    result.stdout.fnmatch_lines(["*ERROR at setup of autograd-lab case bad*",
                                 f"{path / 'bad.yaml'}:4: the attribute .real is not allowed; "
                                 "allowed: *: x.real"])


def test_an_invalid_file_is_an_error_at_file_line(pytester):
    pytester.makefile(".yaml", **{"cases/bad": INVALID})
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at setup of autograd-lab case bad*",
        "the attribute .real is not allowed; allowed: .T, .values, .indices and the methods of "
        "the functions (x.sum(1)): x.real (cases/bad.yaml:4:6)",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_missing_edge_is_an_error_naming_it(pytester):
    pytester.makefile(".yaml", **{"cases/neuron": MISSING_EDGE})
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["missing edge z/b: z = w*x + b uses b, which leads to a "
                                 "parameter; add chain_rule entry 'z/b' (cases/neuron.yaml:9:1)"])


TRAINING_CONFIG = "model: mlp\nlayers: [64, 64]\noptimizer: {name: adam, lr: 0.001}\n"


def test_a_yaml_that_is_not_a_case_is_left_alone(pytester):
    """A training config in a cases folder: not collected under --autograd-lab, the case
    beside it is; named on the command line, it is said once to be no case."""
    ini(pytester, "")
    pytester.makefile(".yaml", **{"tests/cases/train_config": TRAINING_CONFIG,
                                  "tests/cases/x_squared": X_SQUARED,
                                  "tests/cases/no_inputs": "forward:\n  y: x**2\n"})
    result = pytester.runpytest("--autograd-lab")
    assert outcomes(result) == {"tests/cases/x_squared.yaml::x_squared": "passed",
                                "tests/cases/no_inputs.yaml::no_inputs": "error"}
    named = pytester.runpytest("--autograd-lab", "tests/cases/train_config.yaml")
    assert named.ret == pytest.ExitCode.INTERRUPTED
    named.stdout.fnmatch_lines([
        "*ERROR collecting tests/cases/train_config.yaml*",
        "*tests/cases/train_config.yaml:1: not an autograd-lab case: it has none of the keys "
        "forward, chain_rule, steps (case-format.md)"])
    assert named.stdout.str().count("not an autograd-lab case") == 1   # said once
    named.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize("text", [
    X_SQUARED, "{inputs: {x: 1}, forward: {y: x}}", "steps:\n  - x = 1\n",
    '"forward": {y: x}\n', "inputs: {x: 1}\nforward: {y: x.real\n",   # broken, still ours
])
def test_is_case_by_its_top_level_keys(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert is_case(path)


@pytest.mark.parametrize("text", [
    TRAINING_CONFIG, "model:\n  forward: x\n", "- forward\n", "", "forwarding: 1\n",
])
def test_is_not_case_without_them(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert not is_case(path)


def test_a_trailing_slash_takes_the_folder_from_the_rootdir(pytester):
    """`cases/` is <rootdir>/cases alone, as the ini option's help says; `cases` any folder
    so named."""
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED, "tests/cases/neuron": NEURON})
    ini(pytester, "autograd_lab_cases = cases/\n")
    assert set(outcomes(pytester.runpytest())) == {"cases/x_squared.yaml::x_squared"}
    ini(pytester, "autograd_lab_cases = cases\n")
    assert set(outcomes(pytester.runpytest())) == {"cases/x_squared.yaml::x_squared",
                                                   "tests/cases/neuron.yaml::neuron"}


def test_the_entry_point_is_named_autograd_lab():
    """pyproject's pytest11 entry point carries the name users type in -p no:autograd_lab."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert table["project"]["entry-points"]["pytest11"] == {"autograd_lab": "autograd_lab.plugin"}


def test_p_no_autograd_lab_turns_the_plugin_off(pytester):
    """As installed: the same project collects its case, and with -p no:autograd_lab
    nothing (exit 5), the flag unknown."""
    names = {ep.name for ep in entry_points(group="pytest11") if ep.value == "autograd_lab.plugin"}
    if "autograd_lab" not in names:
        pytest.skip(f"the installed metadata names the plugin {sorted(names)}: an install made "
                    "before the entry point was renamed; pip install -e . again")
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    assert pytester.runpytest_subprocess().ret == pytest.ExitCode.OK
    off = pytester.runpytest_subprocess("-p", "no:autograd_lab")
    assert off.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    flag = pytester.runpytest_subprocess("-p", "no:autograd_lab", "--autograd-lab")
    flag.stderr.fnmatch_lines(["*unrecognized arguments: --autograd-lab*"])


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


def test_checking_a_case_loads_neither_the_reports_nor_the_drafter(pytester):
    """A passing case's test records its junit properties without the reports (rich among
    them) and never loads the drafter: what every xdist worker would import again."""
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    pytester.makeconftest("""
        import sys
        def pytest_runtest_logfinish(nodeid):
            unused = ("autograd_lab.reports", "autograd_lab.draft", "rich", "jupytext",
                      "nbformat", "matplotlib")
            print("checker:", "autograd_lab.check" in sys.modules,
                  "unused:", ",".join(sorted(set(unused) & set(sys.modules))) or "none")
    """)
    result = pytester.runpytest_subprocess("-s", "--autograd-lab")
    result.stdout.fnmatch_lines(["*checker: True unused: none*", "*1 passed*"])


def test_a_failure_is_reported_at_the_line_of_its_first_problem(pytester):
    """reportinfo's line and the report's location: the false claim's line, not the file's
    top; with junit_family=xunit1, junit.xml's line attribute too."""
    claimed = X_SQUARED + "expect:\n  grad/x: 7\n"   # the claim's value on line 8
    pytester.makefile(".yaml", **{"cases/claim": claimed})
    pytester.makeini("[pytest]\nautograd_lab_cases = cases\njunit_family = xunit1\n")
    recorded = pytester.inline_run("--junitxml=junit.xml")
    (report,) = [r for r in recorded.getreports("pytest_runtest_logreport") if r.failed]
    assert report.location[1] == 7   # 0-based, as pytest keeps it
    (case,) = ET.parse(pytester.path / "junit.xml").iter("testcase")
    assert case.get("line") == "7"
