""".pre-commit-hooks.yaml: other repositories' pre-commit runs a real command on their cases."""
from __future__ import annotations

import re
import shutil
from importlib import metadata

import yaml
from click.testing import CliRunner

from autograd_lab.cli import main

from .conftest import CASES

HOOKS = CASES.parent / ".pre-commit-hooks.yaml"


def hook() -> dict:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["autograd-lab"]
    return hooks[0]


def test_the_hook_names_the_installed_check_command():
    found = hook()
    assert (found["language"], found["pass_filenames"], found["require_serial"]) == (
        "python", True, True)
    script, command = found["entry"].split()
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    assert scripts[script] == "autograd_lab.cli:main"
    assert command in main.commands


def test_the_hook_takes_yaml_under_a_cases_folder_only():
    files = re.compile(hook()["files"])
    taken = ["cases/x.yaml", "cases/deep/x.yml", "lessons/cases/x.yaml"]
    left = ["cases/x.json", "showcases/x.yaml", "x.yaml", ".github/workflows/ci.yml"]
    assert [f for f in taken + left if files.search(f)] == taken


def test_the_hook_checks_the_files_pre_commit_hands_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CASES, "cases")
    wrong = (CASES / "x_squared.yaml").read_text().replace("y/x: 2*x", "y/x: 3*x")
    (tmp_path / "cases" / "x_squared.yaml").write_text(wrong)
    args = hook()["entry"].split()[1:] + ["--format", "json"]
    good = CliRunner().invoke(main, args + ["cases/sin_x_squared.yaml", "cases/detach.yaml"])
    assert good.exit_code == 0, good.output
    bad = CliRunner().invoke(main, args + ["cases/sin_x_squared.yaml", "cases/x_squared.yaml"])
    assert bad.exit_code == 1
    assert "chain_rule edge y/x: hand-written 3*x, SymPy 2*x" in bad.output
