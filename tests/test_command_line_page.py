"""docs/command-line.md against the command itself: every command and every option its --help
lists is on the page, so the two cannot drift apart; explain's CASE is completed."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main

from .conftest import ROOT

PAGE = (ROOT / "docs" / "command-line.md").read_text(encoding="utf-8")
HELP = ("-h", "--help")


def _help(*args: str) -> str:
    done = CliRunner().invoke(main, [*args, "--help"], terminal_width=200)
    assert done.exit_code == 0, done.output
    return done.output


def _commands() -> list[str]:
    """The commands `autograd-lab --help` lists."""
    listed = _help().split("Commands:\n", 1)[1]
    return [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]


def _options(command: str) -> list[str]:
    """Each option `autograd-lab COMMAND --help` lists, each of its spellings."""
    listed = _help(command).split("Options:\n", 1)[1]
    found = []
    for line in listed.splitlines():
        head = re.match(r"  ((?:-{1,2}[\w-]+(?:, )?)+)", line)
        if head:
            found += [o for o in head[1].split(", ") if o not in HELP]
    return found


def _section(command: str) -> str:
    """The page's section on a command: from its heading to the next of its level."""
    found = re.search(rf"^## {command}\n(.*?)(?=^## |\Z)", PAGE, re.MULTILINE | re.DOTALL)
    assert found, f"docs/command-line.md has no section '## {command}'"
    return found[1]


def test_the_page_names_every_command():
    commands = _commands()
    assert sorted(commands) == ["check", "draft", "explain", "init", "merge", "schema"]
    first = PAGE.split("\n\n", 2)[1]
    assert f"`autograd-lab` has {len(commands)} commands" in first.replace("six", "6")
    assert [c for c in commands if f"`{c}`" not in first] == []


@pytest.mark.parametrize("command", ["check", "draft", "explain", "init", "merge", "schema"])
def test_the_page_gives_every_option_of_each_command(command):
    spans = " ".join(re.findall(r"`[^`\n]+`", _section(command)))   # the page's code spans
    missing = [o for o in _options(command)
               if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", spans)]
    assert missing == [], f"docs/command-line.md's {command} section lacks {missing}"


def test_check_has_the_options_ci_uses():
    """The ones the table had missed (the sharding) and the ones pytest users expect."""
    assert {"--shard", "--durations", "--store-durations", "-k", "-x", "--lf", "-q",
            "-v"} <= set(_options("check"))


def test_explain_completes_case_names_and_files(tmp_path, monkeypatch):
    (tmp_path / "cases" / "deep").mkdir(parents=True)
    for name in ("x_squared.yaml", "x_cubed.yml", "deep/x_sines.yaml", "y_other.yaml"):
        (tmp_path / "cases" / name).write_text("forward: {}\n")
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, [], prog_name="autograd-lab", env={
        "_AUTOGRAD_LAB_COMPLETE": "bash_complete", "COMP_WORDS": "autograd-lab explain x_",
        "COMP_CWORD": "2"})
    assert done.output.splitlines() == ["plain,x_cubed", "plain,x_sines", "plain,x_squared",
                                        "file,x_"]
