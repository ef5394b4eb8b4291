"""`autograd-lab check` with pytest's habits: -k, -x, --lf, -q/-v, and a project's defaults
in pyproject.toml's [tool.autograd-lab]."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main
from autograd_lab.selection import BadExpression, Keywords, names

from .conftest import CASES

SQUARE = (CASES / "x_squared.yaml").read_text()
WRONG = SQUARE.replace("y/x: 2*x", "y/x: 3*x")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder, the current one: cases/ with two passing cases and a failing one."""
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "a_square.yaml").write_text(SQUARE.replace("name: x_squared", "name: a_square"))
    (cases / "b_wrong.yaml").write_text(WRONG.replace("name: x_squared", "name: b_wrong"))
    (cases / "c_square.yaml").write_text(SQUARE.replace("name: x_squared", "name: c_square"))
    monkeypatch.chdir(tmp_path)
    # set by check --tolerance for its workers: undone after the test
    monkeypatch.setenv("AUTOGRAD_LAB_TOLERANCE", "")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args))


def checked(out="reports") -> list[tuple[str, str]]:
    with open(os.path.join(out, "report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    return [(c["name"], c["status"]) for c in report["cases"]]


def test_k_selects_by_pytests_keyword_expressions(project):
    done = run("check", "-k", "square and not c_", "--format", "json")
    assert done.exit_code == 0, done.output
    assert checked() == [("a_square", "passed")]
    done = run("check", "-k", "(c_square or WRONG)", "--format", "json")
    assert done.exit_code == 1   # case-insensitive substrings, as pytest's -k
    assert checked() == [("b_wrong", "failed"), ("c_square", "passed")]


def test_k_matches_the_names_pytest_knows_a_case_by():
    path = CASES / "perceptron_bce.yaml"
    assert {"perceptron_bce", "perceptron_bce.yaml"} <= names(path)
    assert Keywords("cases and bce").matches(names(path))   # a folder's name counts
    assert not Keywords("not perceptron").matches(names(path))


@pytest.mark.parametrize(("text", "said"), [
    ("a and", "-k 'a and': it ends where a name or '(' was expected"),
    ("(a or b", "-k '(a or b': a '(' is not closed"),
    ("a b", "-k 'a b': unexpected 'b'"),
    ("or a", "-k 'or a': 'or' where a name or '(' was expected"),
])
def test_a_bad_k_expression_is_said_in_one_line(text, said):
    with pytest.raises(BadExpression) as caught:
        Keywords(text)
    assert str(caught.value) == said


def test_x_stops_at_the_first_case_that_does_not_pass(project):
    done = run("check", "-x", "--format", "json")
    assert done.exit_code == 1
    assert checked() == [("a_square", "passed"), ("b_wrong", "failed")]
    assert "stopped at the first case that did not pass (-x): 2 of 3 checked" in done.output


def test_lf_checks_what_failed_last_time(project):
    assert run("check", "--format", "json").exit_code == 1
    done = run("check", "--lf", "--format", "json")
    assert done.exit_code == 1
    assert checked() == [("b_wrong", "failed")]
    other = run("check", "--lf", "cases/a_square.yaml", "--format", "json")   # not among them
    assert other.exit_code == 0 and checked() == [("a_square", "passed")]
    assert "note: --lf: no case that failed last time is among these paths" in other.output
    assert run("check", "--format", "json").exit_code == 1
    (project / "cases" / "b_wrong.yaml").write_text(SQUARE.replace("name: x_squared",
                                                                   "name: b_wrong"))
    assert run("check", "--lf", "--format", "json").exit_code == 0
    assert checked() == [("b_wrong", "passed")]
    done = run("check", "--lf", "--format", "json")   # nothing failed: every case, said
    assert done.exit_code == 0 and len(checked()) == 3
    assert "note: --lf: no failed case in reports/report.json; checking every case" in done.output


def test_q_leaves_out_passes_and_v_shows_them(project):
    quiet = run("check", "-q", "--format", "json").output
    assert "PASS" not in quiet and "FAIL  b_wrong" in quiet
    assert quiet.splitlines()[-1].startswith("3 cases: 2 passed, 1 failed, 0 errors")
    assert "verdict" not in quiet   # no table
    loud = run("check", "-v", "--format", "json").output
    assert "PASS  a_square" in loud and "verdict" in loud


def test_pyproject_sets_the_defaults_and_flags_win(project):
    (project / "lessons").mkdir()
    (project / "lessons" / "d_square.yaml").write_text(
        SQUARE.replace("name: x_squared", "name: d_square"))
    (project / "pyproject.toml").write_text(
        '[project]\nname = "course"\n\n[tool.autograd-lab]\npaths = ["lessons"]\n'
        'out = "build/checks"\nformat = ["json"]\ntimeout = 30\n')
    done = run("check")
    assert done.exit_code == 0, done.output
    assert checked("build/checks") == [("d_square", "passed")]
    assert sorted(os.listdir("build/checks")) == ["report.json"]   # format: json alone
    done = run("check", "cases/a_square.yaml", "--out", "here", "--format", "json,junit")
    assert done.exit_code == 0, done.output
    assert checked("here") == [("a_square", "passed")]
    assert sorted(os.listdir("here")) == ["junit.xml", "report.json"]


def test_pyproject_sets_which_plots_and_the_flag_wins(project):
    """Every case passes on no kink: auto (the default) draws none, the table's all draws
    each, and --plots auto wins over it."""
    done = run("check", "-k", "a_square", "--out", "auto")
    assert done.exit_code == 0, done.output
    assert not os.path.exists("auto/plots")
    (project / "pyproject.toml").write_text('[tool.autograd-lab]\nplots = "all"\n')
    done = run("check", "-k", "a_square", "--out", "all")
    assert done.exit_code == 0, done.output
    assert os.listdir("all/plots") == ["a_square-x.png"]
    done = run("check", "-k", "a_square", "--out", "flag", "--plots", "auto")
    assert done.exit_code == 0, done.output
    assert not os.path.exists("flag/plots")


def test_pyproject_is_found_from_a_subfolder_and_its_paths_are_its_own(project):
    (project / "pyproject.toml").write_text('[tool.autograd-lab]\npaths = ["cases"]\n'
                                            'format = "json"\nout = "r"\n')
    (project / "sub").mkdir()
    os.chdir(project / "sub")
    done = run("check", "-k", "a_square")
    assert done.exit_code == 0, done.output
    assert checked("../r") == [("a_square", "passed")]


@pytest.mark.parametrize(("table", "said"), [
    ("jobs = -1", "jobs takes a whole number, 0 or more, not -1"),
    ("paths = 'cases'", "paths takes a list of files or folders, not 'cases'"),
    ("tolerance = {rtol = 1e-3, btol = 1}", "tolerance takes a table {rtol = ..., atol = ...}"),
    ("colour = true", "unknown key 'colour'; the keys are paths, out, format, plots, jobs, "
                      "timeout, tolerance"),
    ("plots = 'some'", "plots takes \"auto\", \"all\" or \"none\", not 'some'"),
])
def test_a_bad_table_is_a_usage_error_naming_the_key(project, table, said):
    (project / "pyproject.toml").write_text(f"[tool.autograd-lab]\n{table}\n")
    done = run("check")
    assert done.exit_code == 2
    assert f"{project / 'pyproject.toml'}: [tool.autograd-lab]: {said}" in done.output
    assert run("schema").exit_code == 0   # other commands do not read it


def test_tolerance_from_pyproject_for_cases_that_set_none(project):
    """b_wrong's edge is off by 3 at 6: a tolerance of 60% lets it through, and a flag of
    none-but-the-dtype's (1e-7) wins over the table."""
    (project / "pyproject.toml").write_text(
        '[tool.autograd-lab]\nformat = "json"\ntolerance = {rtol = 0.6, atol = 0}\n')
    assert run("check", "-k", "b_wrong").exit_code == 0
    assert checked() == [("b_wrong", "passed")]
    assert run("check", "-k", "b_wrong", "--tolerance", "1e-7,1e-7").exit_code == 1
