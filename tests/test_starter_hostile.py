"""Issue 27, init: a file where init makes a folder, a folder it cannot write, and a name
made to forge terminal output; each one line, exit 2, nothing left half done."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main


def init(*args):
    return CliRunner().invoke(main, ["init", *map(str, args)])


def one_error(run) -> str:
    assert run.exit_code == 2, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    lines = run.output.splitlines()
    assert len(lines) == 1 and "Traceback" not in run.output, run.output
    return lines[0]


def everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_cases_being_a_file_is_one_line(tmp_path):
    (tmp_path / "cases").write_text("mine")
    assert one_error(init(tmp_path)) == (
        f"error: {tmp_path / 'cases'} is a file, where init makes a folder; nothing was "
        "written (move it away, or start in another folder)")
    assert everything(tmp_path) == ["cases"] and (tmp_path / "cases").read_text() == "mine"


def test_github_being_a_file_refuses_before_the_case_is_written(tmp_path):
    (tmp_path / ".github").write_text("mine")
    assert one_error(init(tmp_path, "--ci")).startswith(
        f"error: {tmp_path / '.github'} is a file, where init makes a folder; nothing was "
        "written")
    assert everything(tmp_path) == [".github"]   # no cases/example.yaml: nothing half done


def test_a_folder_that_cannot_be_written_takes_back_what_was_written(tmp_path, monkeypatch):
    """The workflow fails (a read-only .github, a full disk) after the case was written: the
    case and the folders made for it go again."""
    real = Path.open

    def refusing(self, mode="r", *args, **kwargs):
        if self.name == "autograd-lab.yml":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing)
    target = tmp_path / "start"
    line = one_error(init(target, "--ci"))
    assert line == (f"error: cannot write {target / '.github/workflows/autograd-lab.yml'} "
                    "(Permission denied); nothing was written")
    assert everything(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_line(tmp_path):
    tmp_path.chmod(0o555)
    try:
        assert one_error(init(tmp_path)).startswith(f"error: cannot write {tmp_path / 'cases'}")
    finally:
        tmp_path.chmod(0o755)


def test_a_folder_name_reaches_the_terminal_escaped(tmp_path):
    name = tmp_path / "x\x1b[2J\nwrote evil"
    run = init(name)
    assert run.exit_code == 0, run.output
    assert "\x1b" not in run.output and len(run.output.splitlines()) == 2
    assert "x\\x1b[2J\\nwrote evil/cases/example.yaml" in run.output
    assert (name / "cases" / "example.yaml").is_file()
