"""`autograd-lab check`: a line a case, report.json, and the contract's exit codes."""
from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from autograd_lab.cli import main

from .conftest import CASES


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_all_seed_cases_pass(tmp_path):
    result = run("check", str(CASES), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["format_version"] == 1
    names = {c["name"] for c in report["cases"]}
    assert {"x_squared", "sin_x_squared", "perceptron_bce", "vector_mean_square"} <= names
    assert report["summary"]["failed"] == report["summary"]["errors"] == 0
    assert "PASS  x_squared" in result.output


def test_a_failure_exits_1_and_says_what_to_fix(tmp_path):
    case = tmp_path / "wrong.yaml"
    case.write_text((CASES / "x_squared.yaml").read_text().replace("y/x: 2*x", "y/x: 3*x"))
    result = run("check", str(case), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "FAIL  x_squared" in result.output
    assert "chain_rule edge y/x: hand-written 3*x, SymPy 2*x" in result.output


def test_an_error_exits_2_and_the_other_cases_are_still_reported(tmp_path):
    folder = tmp_path / "cases"
    shutil.copytree(CASES, folder)
    (folder / "broken.yaml").write_text(
        "inputs:\n  x: {value: 1, grad: true}\nforward:\n  y: x.y\n")
    result = run("check", str(folder), "--out", str(tmp_path))
    assert result.exit_code == 2
    where = folder / "broken.yaml"
    assert (f"{where}:4:6: the attribute .y is not allowed; allowed: .T, .values, .indices "
            "and the methods of the functions (x.sum(1)): x.y") in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    statuses = {c["name"]: c["status"] for c in report["cases"]}
    assert statuses.pop("broken") == "error"
    assert set(statuses.values()) == {"passed"}
    assert "Traceback" not in result.output


def test_wrong_usage_exits_2(tmp_path):
    assert run("check", str(tmp_path / "nowhere")).exit_code == 2
    assert run("check", "-k", "a and").exit_code == 2


def test_nothing_to_check_exits_5(tmp_path, monkeypatch):
    """As pytest and nbval do when they collect nothing: no case files, no cases/ folder,
    or a -k that chooses none."""
    (tmp_path / "notes.txt").write_text("no case here\n")
    done = run("check", str(tmp_path))
    assert (done.exit_code, done.output) == (5, f"error: no case files (*.yaml) under {tmp_path}\n")
    monkeypatch.chdir(tmp_path)
    done = run("check")
    assert done.exit_code == 5 and done.output.startswith("error: no cases/ folder here")
    done = run("check", str(CASES), "-k", "no_such_case", "--out", str(tmp_path / "r"))
    assert done.exit_code == 5
    assert done.output.startswith("error: no case selected: ")
