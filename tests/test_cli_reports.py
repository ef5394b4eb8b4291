"""The CLI's reports: --format, $GITHUB_STEP_SUMMARY, and the explain command."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

from autograd_lab.cli import main

from .conftest import CASES


def test_format_picks_the_reports(tmp_path):
    run = CliRunner().invoke(main, ["check", str(CASES / "x_squared.yaml"), "--out",
                                    str(tmp_path), "--format", "junit", "--format", "md"])
    assert run.exit_code == 0, run.output
    # and no lock file: a run removes .autograd-lab.lock when it ends
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml",
                                                           "report.md"]
    assert "### Plots" not in (tmp_path / "report.md").read_text()


def test_unknown_format_is_a_usage_error(tmp_path):
    run = CliRunner().invoke(main, ["check", str(CASES), "--out", str(tmp_path),
                                    "--format", "json,html"])
    assert run.exit_code == 2
    assert "html; choose from json, md, junit, plots" in run.output
    assert not list(tmp_path.iterdir())


def test_step_summary_is_appended(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = CliRunner().invoke(main, ["check", str(CASES / "x_squared.yaml"), "--out",
                                    str(tmp_path / "out"), "--format", "json"])
    assert run.exit_code == 0, run.output
    assert "| x\\_squared | y = x² at x = 3 | ✅ passed | 0 |" in summary.read_text()


def test_explain_by_name_and_a_bad_case(tmp_path, monkeypatch):
    shutil.copy(CASES / "x_squared.yaml", tmp_path / "x_squared.yaml")
    (tmp_path / "cases").mkdir()
    shutil.copy(CASES / "sin_x_squared.yaml", tmp_path / "cases")
    (tmp_path / "bad.yaml").write_text("inputs: {x: 1}\nforward: {y: exec(x)}\n")
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["explain", "sin_x_squared"])
    assert run.exit_code == 0, run.output
    assert "= -0.9111302619 × 6 = -5.466781571" in run.output
    assert "SinBackward0" in run.output and "PowBackward0" in run.output
    run = CliRunner().invoke(main, ["explain", "x_squared.yaml"])
    assert "∂y/∂x = 2*x" in run.output
    run = CliRunner().invoke(main, ["explain", "bad.yaml"])
    assert run.exit_code == 2 and "bad.yaml:2" in run.output and "Traceback" not in run.output
    run = CliRunner().invoke(main, ["explain", "missing"])
    assert run.exit_code == 2 and "no case file 'missing'" in run.output
