"""`autograd-lab init`: from an empty folder, a case that passes; never over a file; the CI
workflow it writes; and `check` with nothing to check says how to start."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from autograd_lab import starter
from autograd_lab.cli import main

CONSOLE_SCRIPT = Path(sys.executable).with_name("autograd-lab")   # the installed command


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_init_then_check_passes_in_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = run("init")
    assert (made.exit_code, made.output) == (
        0, "wrote cases/example.yaml\nnext: autograd-lab check\n")
    checked = run("check", "--format", "json")
    assert checked.exit_code == 0, checked.output
    report = json.loads(Path("reports", "report.json").read_text())
    assert report["summary"] == {"cases": 1, "passed": 1, "failed": 0, "errors": 0}
    case = report["cases"][0]
    assert (case["name"], case["file"]) == ("example", "cases/example.yaml")
    assert case["points"][0]["gradients"]["x"]["sympy"] == pytest.approx(6 * math.cos(9),
                                                                          rel=1e-15)
    assert {c["claim"]: c["status"] for c in case["claims"]} == {
        "z": "passed", "grad/x": "passed"}
    assert [e["edge"] for e in case["edges"]] == ["z/y", "y/x"]


def test_init_into_a_folder_names_it_in_the_next_step(tmp_path):
    made = run("init", str(tmp_path / "lab"))
    assert made.output.splitlines() == [f"wrote {tmp_path / 'lab' / 'cases' / 'example.yaml'}",
                                        f"next: cd {tmp_path / 'lab'} && autograd-lab check"]
    assert (tmp_path / "lab" / "cases" / "example.yaml").read_text() == starter.template(
        starter.CASE)


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path):
    case = tmp_path / "cases" / "example.yaml"
    case.parent.mkdir()
    case.write_text("mine\n")
    again = run("init", "--ci", str(tmp_path))
    assert again.exit_code == 2
    assert again.stderr == (f"error: {case} exists already; init writes only new files "
                            "(move it away, or start in another folder)\n")
    assert case.read_text() == "mine\n"
    assert not (tmp_path / ".github").exists()   # the workflow was not written either


def test_init_ci_writes_a_workflow_with_torchs_cpu_build(tmp_path):
    made = run("init", "--ci", str(tmp_path))
    assert made.exit_code == 0
    workflow = yaml.safe_load((tmp_path / ".github/workflows/autograd-lab.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))   # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    steps = workflow["jobs"]["check"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == ["pip install torch --index-url https://download.pytorch.org/whl/cpu",
                    # from the repository until a release is on PyPI
                    'pip install "autograd-lab @ git+https://github.com/autograd-lab/autograd-lab"',
                    "autograd-lab check"]
    upload = steps[-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert (upload["if"], upload["with"]["path"]) == ("always()", "reports/")


def test_check_with_nothing_to_check_says_how_to_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("check")
    assert result.exit_code == 5   # nothing collected, as pytest says it
    assert result.stderr == (
        "error: no cases/ folder here: name the case files or folders to check, "
        "or start one with `autograd-lab init`\n")


@pytest.mark.slow   # the installed command end to end
def test_the_installed_command_inits_and_checks(tmp_path):
    """As a user types it: the console script, in a subprocess, with every report."""
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    for args in (["init"], ["check"]):
        done = subprocess.run([str(CONSOLE_SCRIPT), *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        "1 case: 1 passed, 0 failed, 0 errors  (reports in reports)")
    # the starter case passes on no kink: --plots auto draws nothing, and report.md says why
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "junit.xml", "report.json", "report.md"]
    assert "*No plots: it passed and sits on no kink" in (tmp_path / "reports" / "report.md"
                                                         ).read_text()
