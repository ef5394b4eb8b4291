"""The pytest plugin: each case file in the folders a project names is a test, on the one
checking path.

Modelled on pytest's example for non-Python tests (doc/en/example/nonpython). Registered through
the pytest11 entry point, so it is imported at every pytest start-up wherever autograd-lab is
installed; it is opt-in, as nbval's --nbval is: a project that neither sets the ini option
`autograd_lab_cases` nor passes `--autograd-lab` has nothing collected and nothing changed.
Only pytest and pathlib are imported here; the checker (torch, SymPy) loads when the first case
runs."""
from __future__ import annotations

import fnmatch
import functools
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionChainRepr, ReprEntryNative, ReprFileLocation, ReprTraceback

from .result import ERROR, FAILED, PASSED, UNCHECKED, derivatives_line, junit_properties
from .text import terminal

INI = "autograd_lab_cases"
INI_TUTORIALS = "autograd_lab_tutorials"
# draft.TUTORIALS, kept here so that pytest's start-up imports nothing heavy
TUTORIAL_SUFFIXES = (".ipynb", ".py", ".md", ".markdown", ".myst", ".qmd")
FLAG = "--autograd-lab"
DEFAULT_FOLDERS = ["cases"]   # what --autograd-lab collects when the ini option is not set
MARK = "autograd_lab"
SUFFIXES = (".yaml", ".yml")
# the top-level keys that make a YAML file a case (case-format.md), each a case's own word: a
# scalar or tensor case has forward (and chain_rule), a behaviour case steps. One is enough,
# so that a case missing another required key (inputs) is still collected and its mistake
# said; any other YAML (a training config beside the cases) is not ours
CASE_KEYS = frozenset({"forward", "chain_rule", "steps"})
SNIFF_BYTES = 1 << 20   # of a file read to find its top-level keys (a case is far smaller)
TOP_KEY = re.compile(r"""^(["']?)([A-Za-z_][\w-]*)\1[ \t]*:(?:[ \t]|$)""", re.MULTILINE)
FLOW_KEY = re.compile(r"""[{,][ \t\r\n]*(["']?)([A-Za-z_][\w-]*)\1[ \t]*:""")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI, type="args", default=[],
                  help="autograd-lab: folders whose case files (*.yaml with a key "
                       "forward, chain_rule or steps) are collected (a name matches any "
                       "folder of that name; a path with '/', such as cases/ or "
                       "docs/lessons, is taken from the rootdir). Setting it turns the "
                       "plugin on.")
    parser.addini(INI_TUTORIALS, type="args", default=[],
                  help="autograd-lab: globs, from the rootdir, of tutorials (notebooks, .py "
                       "scripts, Markdown/MyST/Quarto pages) drafted and checked in place: a "
                       "test a drafted case, and one a tutorial for its count of hand-written "
                       "derivatives. Setting it turns the plugin on for them.")
    parser.getgroup("autograd-lab").addoption(
        FLAG, action="store_true", dest="autograd_lab",
        help="collect autograd-lab case files: the *.yaml cases under the folders of the ini "
             "option "
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
    if file_path.suffix.lower() in TUTORIAL_SUFFIXES and _tutorial(file_path, parent):
        return TutorialFile.from_parent(parent, path=file_path,
                                        **_shown_id(file_path, parent.config))
    if file_path.suffix not in SUFFIXES:
        return None
    folders = _folders(parent.config)
    if not folders:
        return None
    named = parent.session.isinitpath(file_path)
    if not (named or _under_cases(file_path, parent.config, folders)):
        return None
    if is_case(file_path):
        return CaseFile.from_parent(parent, path=file_path, **_shown_id(file_path, parent.config))
    if named:   # asked for by name: said once, as a collection error, rather than ignored
        return NotACase.from_parent(parent, path=file_path, **_shown_id(file_path, parent.config))
    return None   # a training config or a fixture beside the cases: not ours, left alone


def is_case(path: Path) -> bool:
    """Whether a YAML file is a case: one of its top-level keys is forward, chain_rule or
    steps. Read as text, not parsed (collection stays fast and imports nothing heavy), so a
    case with a YAML mistake is still collected and its mistake reported; a file that cannot
    be read is collected too, for the check to say why, as is one that is no regular file (a
    FIFO would never end: it is not opened here)."""
    if not path.is_file():
        return True
    try:
        with open(path, "rb") as handle:
            text = handle.read(SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return True
    keys = {m[2] for m in TOP_KEY.finditer(text)}
    if text.lstrip().startswith("{"):   # a case written as one flow mapping
        keys |= {m[2] for m in FLOW_KEY.finditer(text)}
    return bool(keys & CASE_KEYS)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """A FIFO, a device or a dangling link named *.yaml: pytest lists only regular files and
    folders, so they would not be collected at all, where `check` says what each is. Added
    to their folder's items here, so checking them is an error naming them, as in check."""
    report = yield
    if isinstance(collector, pytest.Directory) and report.passed \
            and _folders(collector.config):
        report.result.extend(_special_files(collector))
    return report


def _special_files(folder: pytest.Directory) -> list[CaseFile]:
    """What in folder is named as a case file but is neither a file nor a folder."""
    config, found = folder.config, []
    try:
        entries = sorted(os.scandir(folder.path), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        if path.suffix not in SUFFIXES or entry.is_dir() or entry.is_file():
            continue
        if folder.ihook.pytest_ignore_collect(collection_path=path, config=config):
            continue
        if folder.session.isinitpath(path) or _under_cases(path, config, _folders(config)):
            found.append(CaseFile.from_parent(folder, path=path, **_shown_id(path, config)))
    return found


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
        if "/" in entry:   # cases/, ./cases, docs/lessons: a folder from the rootdir
            if path.is_relative_to((root / entry).resolve()):
                return True
        elif entry in folders:   # cases: any folder so named
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
        report.location = item.reportinfo()   # now at the first problem's line
    report.keywords = {terminal(k, markup=False): v for k, v in report.keywords.items()}


class CaseProblem(Exception):
    """A case that did not pass; carries its CaseResult."""

    def __init__(self, result):
        super().__init__(result.status)
        self.result = result


class NotACase(pytest.File):
    """A YAML file named on the command line that is no case: one collection error saying so."""

    def collect(self):
        raise pytest.Collector.CollectError(
            f"{terminal(str(self.path), markup=False)}:1: not an autograd-lab case: it has "
            "none of the keys forward, chain_rule, steps (case-format.md)")


class CaseFile(pytest.File):
    """One case file: one case, so one item, named by the file (no parsing at collection)."""

    def collect(self):
        item = CaseItem.from_parent(self, name=terminal(self.path.stem, markup=False))
        item.add_marker(MARK)
        yield item


class CaseItem(pytest.Item):
    """Checked in setup, so that a case that cannot be checked is a pytest error, not a failure."""

    result: Any = None    # its CaseResult, once checked

    def setup(self) -> None:
        self.result = self._checked()
        self._record(self.result)
        if self.result.notes and self.result.status == PASSED:  # a failure shows them itself
            self.add_report_section("setup", "autograd-lab notes",
                                    "\n".join(terminal(n, markup=False) for n in self.result.notes))
        if self.result.status in (ERROR, UNCHECKED):   # nothing compared is never a pass
            raise CaseProblem(self.result)

    def _checked(self):
        return _check_file()(self._shown_path())

    def runtest(self) -> None:
        if self.result.status == FAILED:
            raise CaseProblem(self.result)

    def repr_failure(self, excinfo, style=None):
        """The diagnosis, and as pytest's crash line (what --tb=line prints, and the short
        summary) `path:line: the first problem`. With --tb=line that line alone: the one
        line is what was asked for."""
        if not isinstance(excinfo.value, CaseProblem):
            return super().repr_failure(excinfo, style)
        from .api import diagnosis
        result = excinfo.value.result
        path, line, _ = self.reportinfo()
        first = result.problems[0] if result.problems else f"case {result.name} {result.status}"
        crash = ReprFileLocation(path, line + 1, _words(first, result.file))
        shown = diagnosis(result)
        if self.config.getoption("tbstyle", "auto") == "line":
            # a failure's crash line is printed after this repr; an error's is not: its own
            shown = str(crash) if result.status in (ERROR, UNCHECKED) else ""
        # an exception's repr, so that pytest-xdist sends it whole and --tb=line finds its crash
        entries = [ReprEntryNative([shown + "\n"])] if shown else []
        return ExceptionChainRepr([(ReprTraceback(entries, None, "native"), crash, None)])

    def reportinfo(self):
        """The path as the node id shows it (escaped where it must be), and once checked, the
        0-based line of the first problem's place (before: the file's top)."""
        return (terminal(str(self.path), markup=False), self._first_line(),
                f"autograd-lab case {self.name}")

    def _first_line(self) -> int:
        for problem in self.result.problems if self.result is not None else ():
            line = getattr(problem, "line", None)
            if line:
                return line - 1
        return 0

    def _shown_path(self) -> Path:
        """The path as messages show it: relative to the directory pytest was started in."""
        try:
            return self.path.relative_to(self.config.invocation_params.dir)
        except ValueError:
            return self.path

    def _record(self, result) -> None:
        """The result as user properties, which `pytest --junitxml` writes per testcase: the
        very properties of the CLI's junit.xml (one scheme, one history a case); taken from
        the result's module, so that a worker does not load the reports (rich among them)."""
        self.user_properties += junit_properties(result)


@functools.cache
def _check_file():
    """check.check_file, imported at the first case: torch and SymPy, frozen (startup.py)."""
    from .startup import frozen_imports
    with frozen_imports():
        from .check import check_file
    return check_file


def _words(problem, file: str) -> str:
    """A problem's words without the place it opens with (the crash line puts its own), on
    one line, escaped for the terminal."""
    from .result import split_place
    return terminal(split_place(problem, file)[0], markup=False)


# --- tutorials: drafted in place, a test a drafted case and one for the tutorial's count -------

def _tutorial(path: Path, parent: pytest.Collector) -> bool:
    """A tutorial to collect: matched by the ini option's globs, or, with --autograd-lab, named
    on the command line or under a folder named there (there: not a Python test module, and
    mentioning torch, as `autograd-lab check FOLDER` reads a folder)."""
    config = parent.config
    try:
        relative = path.relative_to(config.rootpath).as_posix()
    except ValueError:
        relative = None
    globs = config.getini(INI_TUTORIALS)
    if relative is not None and any(fnmatch.fnmatch(relative, g) for g in globs):
        return True
    if not config.getoption("autograd_lab", False) or _test_module(path, config):
        return False
    if parent.session.isinitpath(path):
        return True
    named = [Path(config.invocation_params.dir, a.split("::")[0]).resolve()
             for a in config.invocation_params.args if not a.startswith("-")]
    if not any(n.is_dir() and path.resolve().is_relative_to(n) for n in named):
        return False
    try:
        with open(path, "rb") as f:
            return b"torch" in f.read(1_000_000)
    except OSError:
        return False


def _test_module(path: Path, config: pytest.Config) -> bool:
    return path.suffix == ".py" and (path.name == "conftest.py" or any(
        fnmatch.fnmatch(path.name, p) for p in config.getini("python_files")))


class TutorialFile(pytest.File):
    """A tutorial, drafted (read statically, nothing run) when collected: a test a drafted
    case, then its count of hand-written derivatives."""

    def collect(self):
        # the drafter loads the checker: imported for tutorials alone
        from .draft import draft_one
        folder = Path(tempfile.mkdtemp(prefix="autograd-lab-tutorial-"))
        self.config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        try:   # named as messages name a file: from where pytest was started
            shown = self.path.relative_to(self.config.invocation_params.dir)
        except ValueError:
            shown = self.path
        checked, error = draft_one(shown, folder)
        for path, (_, written) in checked.drafts.items():
            item = TutorialCaseItem.from_parent(self, name=terminal(written.name, markup=False))
            item.draft, item.checked = Path(path), checked
            item.add_marker(MARK)
            yield item
        for source, index in checked.coded:   # read from its classes and functions
            coded = CodedCaseItem.from_parent(
                self, name=terminal(source.coded.cases[index].name, markup=False))
            coded.checked, coded.key = checked, (source, index)
            coded.add_marker(MARK)
            yield coded
        whole = SourceItem.from_parent(self, name="derivatives")
        whole.checked, whole.error = checked, error
        whole.add_marker(MARK)
        yield whole


class TutorialCaseItem(CaseItem):
    """A drafted case, named in its result by the tutorial's cells and lines."""

    draft: Path
    checked: Any = None     # draft.Checked: its tutorial's drafts

    def _checked(self):
        result = _check_file()(self.draft)
        return self.checked.relabel(result)


class CodedCaseItem(CaseItem):
    """A case read from a tutorial's classes and functions (a micrograd rule, an
    autograd.Function's backward, `.grad =` set by hand): no file, checked in this process."""

    checked: Any = None     # draft.Checked: its tutorial's
    key: Any = None         # (its Source, its index)

    def _checked(self):
        return self.checked.check_coded(*self.key)


class SourceItem(CaseItem):
    """The tutorial as a whole: its hand-written derivatives found and checked; unchecked (an
    error) when nothing of it was compared. Its cases' results are those of this process's
    run, and a case checked elsewhere (another xdist worker) is checked again here."""

    checked: Any = None     # draft.Checked
    error: Any = None       # the result of a tutorial that cannot be read

    def _checked(self):
        if self.error is not None:
            return self.error
        for path in self.checked.drafts:
            source = self.checked.owner[path]
            if path not in source.results:
                self.checked.relabel(_check_file()(Path(path)))
        for _ in self.checked.coded_results():   # those checked here already are not again
            pass
        [result] = self.checked.sources()
        if result.derivatives:
            self.add_report_section("setup", "autograd-lab derivatives",
                                    _count_text(result))
        return result


def _count_text(result) -> str:
    lines = [derivatives_line(result.derivatives)]
    lines += [terminal(f"not checked: line {u['line']}"
                       + (f" of {u['cell']}" if u.get("cell") else "")
                       + f": {u['text']}: {u['reason']}", markup=False)
              for u in result.derivatives["unchecked"]]
    return "\n".join(lines)
