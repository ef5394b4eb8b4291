"""The pytest plugin: each case file in the folders a project names is a test, on the one
checking path.

Modelled on pytest's example for non-Python tests (doc/en/example/nonpython). Registered through
the pytest11 entry point, so it is imported at every pytest start-up wherever autograd-lab is
installed; it is opt-in, as nbval's --nbval is: a project that neither sets the ini option
`autograd_lab_cases` nor passes `--autograd-lab` has nothing collected and nothing changed.
Only pytest and pathlib are imported here; the checker (torch, SymPy) loads when the first case
runs."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from .result import ERROR, FAILED, PASSED
from .text import terminal

INI = "autograd_lab_cases"
FLAG = "--autograd-lab"
DEFAULT_FOLDERS = ["cases"]   # what --autograd-lab collects when the ini option is not set
MARK = "autograd_lab"
SUFFIXES = (".yaml", ".yml")
PROPERTY_ELEMENTS = 20   # elements of a vector gradient written into a user property


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI, type="args", default=[],
                  help="autograd-lab: folders whose *.yaml files are collected as cases "
                       "(a name matches any folder of that name; a path with '/' is taken "
                       "from the rootdir). Setting it turns the plugin on.")
    parser.getgroup("autograd-lab").addoption(
        FLAG, action="store_true", dest="autograd_lab",
        help="collect autograd-lab case files: *.yaml under the folders of the ini option "
             f"{INI} (default: {' '.join(DEFAULT_FOLDERS)}) and those named on the command line")


def _folders(config: pytest.Config) -> list[str]:
    """The folders to collect from; none when the project has not opted in."""
    chosen = config.getini(INI)
    if chosen:
        return chosen
    return list(DEFAULT_FOLDERS) if config.getoption("autograd_lab", False) else []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}: an autograd-lab case file (select with -m {MARK})")


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    if file_path.suffix not in SUFFIXES:
        return None
    folders = _folders(parent.config)
    if folders and (parent.session.isinitpath(file_path)
                    or _under_cases(file_path, parent.config, folders)):
        return CaseFile.from_parent(parent, path=file_path, **_shown_id(file_path, parent.config))
    return None


def _shown_id(path: Path, config: pytest.Config) -> dict:
    """The name and node id pytest makes of a case file's path, with control characters and
    bytes that were not UTF-8 shown as escapes (text.terminal): pytest prints node ids raw,
    and pytest-xdist cannot send a lone surrogate between processes. Only what needs
    escaping is given; the rest is pytest's own."""
    shown = {}
    name = terminal(path.name, markup=False)
    if name != path.name:
        shown["name"] = name
    try:
        made = path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return shown
    if terminal(made, markup=False) != made:
        shown["nodeid"] = terminal(made, markup=False)
    return shown


def _under_cases(path: Path, config: pytest.Config, chosen: list[str]) -> bool:
    root = config.rootpath
    # only folders from the rootdir's own down count, so a project that happens to live
    # under some /home/me/cases/ does not turn all its YAML into cases
    folders = ((root.name,) + path.relative_to(root).parent.parts if path.is_relative_to(root)
               else path.parts)
    for entry in chosen:
        if "/" in entry.strip("/"):
            if path.is_relative_to((root / entry).resolve()):
                return True
        elif entry.strip("/") in folders:
            return True
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A case in error is reported at setup; show its message there, not a traceback of ours.
    A case's report names its folders (keywords hold every parent's name): escaped, as the
    node id is, so that a folder's name reaches no terminal raw and pytest-xdist can send it."""
    outcome = yield
    if not isinstance(item, CaseItem):
        return
    report = outcome.get_result()
    if call.excinfo and call.excinfo.errisinstance(CaseProblem):
        report.longrepr = item.repr_failure(call.excinfo)
    report.keywords = {terminal(k, markup=False): v for k, v in report.keywords.items()}


class CaseProblem(Exception):
    """A case that did not pass; carries its CaseResult."""

    def __init__(self, result):
        super().__init__(result.status)
        self.result = result


class CaseFile(pytest.File):
    """One case file: one case, so one item, named by the file (no parsing at collection)."""

    def collect(self):
        item = CaseItem.from_parent(self, name=terminal(self.path.stem, markup=False))
        item.add_marker(MARK)
        yield item


class CaseItem(pytest.Item):
    """Checked in setup, so that a case that cannot be checked is a pytest error, not a failure."""

    result = None

    def setup(self) -> None:
        self.result = _check_file()(self._shown_path())
        self._record(self.result)
        if self.result.notes and self.result.status == PASSED:  # a failure shows them itself
            self.add_report_section("setup", "autograd-lab notes",
                                    "\n".join(terminal(n, markup=False) for n in self.result.notes))
        if self.result.status == ERROR:
            raise CaseProblem(self.result)

    def runtest(self) -> None:
        if self.result.status == FAILED:
            raise CaseProblem(self.result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseProblem):
            from .api import diagnosis
            return diagnosis(excinfo.value.result)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        # a case is its whole file; the path as the node id shows it (escaped where it must be)
        return terminal(str(self.path), markup=False), 0, f"autograd-lab case {self.name}"

    def _shown_path(self) -> Path:
        """The path as messages show it: relative to the directory pytest was started in."""
        try:
            return self.path.relative_to(self.config.invocation_params.dir)
        except ValueError:
            return self.path

    def _record(self, result) -> None:
        """The result as user properties, which `pytest --junitxml` writes per testcase."""
        self.user_properties += [("case", terminal(result.name, markup=False)),
                                 ("kind", result.kind), ("status", result.status)]
        self.user_properties += [("note", terminal(note, markup=False)) for note in result.notes]
        if not result.points:  # an error, or a behaviour case: no gradients to compare
            return
        base = result.points[0]
        self.user_properties.append(("worst_difference", f"{result.worst:.6g}"))
        self.user_properties += [(f"grad/{param}", _json(by_method))
                                 for param, by_method in base.gradients.items()]
        self.user_properties += [(f"hessian/{entry}", _json(by_method))
                                 for entry, by_method in base.hessian.items()]


@functools.cache
def _check_file():
    """check.check_file, imported at the first case: torch and SymPy, frozen (startup.py)."""
    from .startup import frozen_imports
    with frozen_imports():
        from .check import check_file
    return check_file


def _json(by_method: dict) -> str:
    trimmed = {m: v[:PROPERTY_ELEMENTS] + ["..."] if isinstance(v, list)
               and len(v) > PROPERTY_ELEMENTS else v for m, v in by_method.items()}
    return json.dumps(trimmed)
