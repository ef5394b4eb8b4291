"""report.md and junit.xml from a small fixed set of cases, against golden files.

Run with AUTOGRAD_LAB_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("AUTOGRAD_LAB_UPDATE_GOLDEN") == "1"


def scrub(text: str) -> str:
    """The run's timestamp and durations: the only parts allowed to change."""
    text = re.sub(r"Generated \S+\.", "Generated <timestamp>.", text)
    text = re.sub(r'"generated": "[^"]+"', '"generated": "<timestamp>"', text)
    text = re.sub(r'timestamp="[^"]+"', 'timestamp="<timestamp>"', text)
    return re.sub(r' time="[\d.]+"', ' time="<seconds>"', text)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One `autograd-lab check examples` over the golden set, every format."""
    out = tmp_path_factory.mktemp("reports")
    cwd = os.getcwd()
    os.chdir(GOLDEN)
    try:
        run = CliRunner().invoke(main, ["check", "examples", "--out", str(out)])
    finally:
        os.chdir(cwd)
    assert run.exit_code == 2, run.output  # one case is in error
    return out


@pytest.mark.parametrize("name", ["report.md", "junit.xml"])
def test_matches_golden(reports, name):
    got = scrub((reports / name).read_text(encoding="utf-8"))
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8")


def test_same_cases_give_byte_identical_reports(reports, tmp_path):
    cwd = os.getcwd()
    os.chdir(GOLDEN)
    try:
        CliRunner().invoke(main, ["check", "examples", "--out", str(tmp_path)])
    finally:
        os.chdir(cwd)
    for name in ("report.json", "report.md"):
        a, b = ((d / name).read_text().splitlines() for d in (reports, tmp_path))
        changed = [(x, y) for x, y in zip(a, b) if x != y]
        assert len(a) == len(b) and len(changed) <= 1, changed  # the one timestamp
        assert all("enerated" in x for x, _ in changed)
    assert json.loads((reports / "report.json").read_text())["summary"] == {
        "cases": 5, "passed": 2, "failed": 2, "errors": 1}


def test_plots_are_drawn_and_linked(reports):
    """--plots auto (the default): the cases that did not pass are drawn, the plain passes
    are not, and report.md says why."""
    plots = sorted(p.name for p in (reports / "plots").iterdir())
    assert plots == ["false_claim-x.png", "wrong_edge-x.png"]
    for name in plots:
        data = (reports / "plots" / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    text = (reports / "report.md").read_text()
    assert "![∂y/∂x across x, each method](plots/wrong_edge-x.png)" in text
    assert "plots/x_squared-x.png" not in text
    assert text.count("*No plots: it passed and sits on no kink (this run draws those that "
                      "did not pass or sit on a kink; --plots all draws every case).*") == 2
