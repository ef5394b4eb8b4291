"""The docs: the site builds strictly, and every example in the docs and the README runs.

Every fenced block of YAML, shell, Python or JSON in docs/*.md and README.md says what it
is in an HTML comment on the line above it (readers do not see it):

    <!-- run -->                 a console block: each `$ ` line is run, and the lines after it
                                 are its output, each matched whole ("..." inside a line
                                 stands for any text, a line "..." for any lines); a sh block:
                                 each line is run; a python block: its test_ functions are called
    <!-- run exit=1 -->          the same, and the last command exits 1 (the others 0)
    <!-- case passed -->         a whole case, checked: its status is passed (or failed, or
                                 error); `file=x.yaml` names the file it is written to, for
                                 the commands after it (default: the case's name)
    <!-- report -->              a JSON block: a report.json, valid under report.schema.json
    <!-- show -->                shown, not run (a YAML or JSON one must still parse)
    <!-- ci:check -->            README only: a command .ci/run takes from the README

The blocks of a page run in order, in a folder of the page's own that holds a copy of the
repository's cases/ and examples/; `in=empty` on a marker moves that block and the ones after
it to a second folder, which starts empty (`in=clone` moves back).
A snippet line (`--8<-- "path"`) stands for that file of the repository, as MkDocs shows it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from autograd_lab.api import check_file
from autograd_lab.cli import main
from autograd_lab.reports import report_schema

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
MARKED = {"yaml", "yml", "sh", "console", "python", "json"}   # languages that need a marker
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<lang>[\w-]*)")
MARKER = re.compile(r"^ *<!-- (?P<kind>run|case|report|show|ci:\w+)(?P<args>[^>]*?) *-->$")
SNIPPET = re.compile(r'^ *--8<-- "(?P<path>[^"]+)"$')
BIN = Path(sys.executable).parent   # the environment's autograd-lab, python and pytest
# commands run as a user's shell runs them: this environment first on PATH, no colour, an
# 80-column terminal, not inside a CI service (pytest prints whole summary lines there) nor
# GitHub Actions nor this pytest's options
ENV = {**{k: v for k, v in os.environ.items()
          if k not in ("CI", "BUILD_NUMBER", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY",
                       "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")},
       "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1",
       "COLUMNS": "80", "NO_MKDOCS_2_WARNING": "1"}
IN_PROCESS = re.compile(r"autograd-lab( [\w./=,-]+)*")   # no shell syntax in it


@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str
    kind: str = ""
    args: dict = field(default_factory=dict)

    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, each with the marker on the line above it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        start = FENCE.match(lines[i])
        if not start:
            i += 1
            continue
        indent, fence = start["indent"], start["fence"]
        end = next(j for j in range(i + 1, len(lines))
                   if lines[j].strip() == fence and lines[j].startswith(indent))
        body = [_snippet(line[len(indent):]) for line in lines[i + 1:end]]
        block = Block(page.name, i + 1, start["lang"], "\n".join(body) + "\n")
        above = MARKER.match(lines[i - 1]) if i else None
        if above:
            block.kind = above["kind"]
            block.args = dict(a.split("=", 1) if "=" in a else (a, True)
                              for a in above["args"].split())
        found.append(block)
        i = end + 1
    return found


def _snippet(line: str) -> str:
    include = SNIPPET.match(line)
    return (ROOT / include["path"]).read_text(encoding="utf-8").rstrip("\n") if include else line


def test_every_block_says_what_it_is():
    unmarked = [b.where() for page in PAGES for b in blocks(page)
                if b.lang in MARKED and not b.kind]
    assert unmarked == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_example_on_the_page_runs(page, tmp_path):
    folder = _folder(tmp_path, "clone")
    for block in blocks(page):
        if "in" in block.args:
            folder = _folder(tmp_path, block.args["in"])
        if block.kind == "run":
            {"console": run_console, "sh": run_sh, "python": run_python}[block.lang](block, folder)
        elif block.kind == "case":
            run_case(block, folder)
        elif block.kind == "report":
            errors = [e.message for e in jsonschema.Draft202012Validator(
                report_schema()).iter_errors(json.loads(block.text))]
            assert errors == [], block.where()
        elif block.kind == "show" and block.lang in ("yaml", "yml"):
            yaml.safe_load(block.text)
        elif block.kind == "show" and block.lang == "json":
            json.loads(block.text)


def test_the_readme_keeps_the_commands_ci_runs():
    """.ci/run executes the README's two ci blocks: a new user's commands, exactly."""
    found = {b.kind: b.text for b in blocks(ROOT / "README.md") if b.kind.startswith("ci:")}
    assert found == {
        "ci:check": "python -m venv .venv && . .venv/bin/activate && pip install -c "
                    "constraints.txt -e . && autograd-lab check cases/\n",
        "ci:test": "python -m venv .venv && . .venv/bin/activate && pip install -c "
                   "constraints.txt -e \".[test]\" && pytest -n auto\n"}


def _folder(tmp_path: Path, kind: str) -> Path:
    """The page's folder of that kind: "clone" holds a copy of cases/ and examples/, "empty"
    starts empty; each is made once a page, and the blocks after share it."""
    assert kind in ("clone", "empty"), kind
    folder = tmp_path / kind
    if not folder.exists():
        folder.mkdir()
        if kind == "clone":
            shutil.copytree(ROOT / "cases", folder / "cases")
            shutil.copytree(ROOT / "examples", folder / "examples")
    return folder


def execute(command: str, folder: Path) -> tuple[int, str]:
    """The exit code and the output (stdout and stderr as they came) of a command."""
    if IN_PROCESS.fullmatch(command):
        return in_process(shlex.split(command)[1:], folder)
    done = subprocess.run(["bash", "-c", command], cwd=folder, env=ENV, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240)
    return done.returncode, done.stdout


def in_process(args: list[str], folder: Path) -> tuple[int, str]:
    """`autograd-lab ARGS` through click's runner, in this process: torch and SymPy are loaded
    once, not by every command (the installed script itself is run by test_starter.py)."""
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, args, prog_name="autograd-lab",
                                    env={"NO_COLOR": "1", "COLUMNS": "80"})
    finally:
        os.chdir(here)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _exits(block: Block, last: bool) -> int:
    return int(block.args.get("exit", 0)) if last else 0


def run_console(block: Block, folder: Path) -> None:
    sessions = []   # (command, expected output lines)
    for line in block.text.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        elif sessions and sessions[-1][0].endswith("\\") and not sessions[-1][1]:
            sessions[-1] = (sessions[-1][0][:-1] + line.strip(), [])
        else:
            assert sessions, f"{block.where()}: output before any command"
            sessions[-1][1].append(line)
    for n, (command, shown) in enumerate(sessions):
        code, output = execute(command, folder)
        assert code == _exits(block, n == len(sessions) - 1), (
            f"{block.where()}: `{command}` exited {code}:\n{output}")
        assert_shown(shown, output.splitlines(), f"{block.where()}: `{command}`")


def run_sh(block: Block, folder: Path) -> None:
    commands = [c for c in block.text.replace("\\\n", "").splitlines()
                if c.strip() and not c.lstrip().startswith("#")]
    for n, command in enumerate(commands):
        code, output = execute(command, folder)
        assert code == _exits(block, n == len(commands) - 1), (
            f"{block.where()}: `{command}` exited {code}:\n{output}")


def run_python(block: Block, folder: Path) -> None:
    """A block of tests: written to a file, imported as a module, each test_ function called
    in the page's folder (in this process, where torch is loaded already)."""
    path = folder / f"test_docs_{block.line}.py"
    path.write_text(block.text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [f for name, f in vars(module).items() if name.startswith("test_") and callable(f)]
    assert tests, f"{block.where()}: no test_ function"
    here = os.getcwd()
    os.chdir(folder)
    try:
        for test in tests:
            test()
    finally:
        os.chdir(here)


def run_case(block: Block, folder: Path) -> None:
    text = block.text
    name = block.args.get("file") or f"{(yaml.safe_load(text) or {}).get('name', 'case')}.yaml"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result = check_file(path)
    said = block.args.get("case") or next(a for a in block.args if a in (
        "passed", "failed", "error"))
    assert result.status == said, f"{block.where()}: {result.problems}"


def assert_shown(shown: list[str], got: list[str], where: str) -> None:
    """Each shown line matches the next output line whole (spaces runs counting as one);
    a shown line "..." skips any number of output lines."""
    flat = [" ".join(line.split()) for line in got]
    at, skipping = 0, False
    for want in shown:
        if want.strip() == "...":
            skipping = True
            continue
        pattern = re.compile(".*".join(re.escape(" ".join(part.split()))
                                       for part in want.split("...")))
        while at < len(flat) and not pattern.fullmatch(flat[at]):
            assert skipping, f"{where}: shown {want!r}, printed {got[at]!r}\n" + "\n".join(got)
            at += 1
        assert at < len(flat), f"{where}: shown {want!r}, not printed:\n" + "\n".join(got)
        at, skipping = at + 1, False
    assert skipping or at == len(flat), f"{where}: printed more:\n" + "\n".join(got[at:])


def test_the_site_builds_strictly(tmp_path):
    done = build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stdout
    assert [line for line in done.stdout.splitlines() if not line.startswith("INFO")] == []
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    built = {p.parent.name for p in (tmp_path / "site").glob("*/index.html")}
    assert built == pages - {"index"}
    assert (tmp_path / "site" / "index.html").exists()


def test_a_broken_link_or_a_page_left_out_fails_the_build(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy)
    shutil.copytree(ROOT / "autograd_lab", copy / "autograd_lab")   # the snippets' sources
    with (copy / "docs" / "index.md").open("a", encoding="utf-8") as page:
        page.write("\nSee [the missing page](missing.md).\n")
    (copy / "docs" / "orphan.md").write_text("# Left out of the nav\n")
    done = build(copy, tmp_path / "site")
    assert done.returncode == 1
    assert "'missing.md'" in done.stdout and "orphan.md" in done.stdout


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "-f",
                           str(root / "mkdocs.yml"), "-d", str(site)], cwd=root, env=ENV, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240)
