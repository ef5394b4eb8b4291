"""What the CLI says: `autograd-lab draft`, and the tutorials given to `autograd-lab check`."""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..api import ERROR, FAILED, PASSED, UNCHECKED, CaseResult
from ..result import Problem, derivatives_line, located, places
from . import _write
from ._coded import Coded, read_coded
from ._draft import Drafted, Written, draft
from ._notebook import MAX_BYTES, NotebookError
from ._sources import TUTORIALS, is_tutorial, text_source
from ._text import one_line
from ._walk import UNPARSED

MAX_TUTORIALS = 2_000    # tutorials read from the folders given to check
SKIPPED = (".git", ".venv", "venv", "node_modules", "__pycache__", ".ipynb_checkpoints",
           "site-packages", "_build", "build", "dist")


def run_draft(notebook: Path, out: Path | None, echo: Callable[..., None],
              force: bool = False, timeout: float | None = None, blocks: bool = False) -> int:
    """Draft one notebook, saying what was written and what was left out; the exit code."""
    try:
        drafted = draft(notebook, out, force=force, timeout=timeout, blocks=blocks)
    except NotebookError as exc:
        echo(f"error: {one_line(str(exc), 300)}", err=True)
        return 2
    except Exception as exc:  # a bug of ours: one line, not a traceback
        echo(f"error: {one_line(str(notebook), 200)}: internal error while drafting: "
             f"{type(exc).__name__}: {one_line(str(exc), 200)}; please report it", err=True)
        return 2
    for line in said(drafted):
        echo(line if not text_source(notebook) else lines_of_file(line))
    for problem in drafted.problems:
        echo(f"error: {one_line(problem, 400)}", err=True)
    return 2 if drafted.problems or any(n.internal for n in drafted.notes) else 0


def said(drafted: Drafted) -> list[str]:
    name = one_line(drafted.notebook, 200)
    lines = [_wrote(w) for w in drafted.files]
    lines += [f"{name}: {note}" for note in drafted.notes]
    count = drafted.derivatives()
    if count["found"]:   # what check will count, said before anything is checked
        lines += [f"{name}: {derivatives_line(count).replace(' checked', ' in a drafted case')}"]
        lines += [f"{name}: not in a case: {_unchecked(u)}" for u in count["unchecked"]]
    finish = len(drafted.files) - len(drafted.cases)
    lines.append(f"drafted {len(drafted.cases)} case{'s' * (len(drafted.cases) != 1)}"
                 + (f" and {finish} to finish" if finish else "")
                 + f" from {name} into {one_line(str(drafted.folder), 200)}"
                 + (f"; {len(drafted.notes)} thing{'s' * (len(drafted.notes) != 1)} left out "
                    "or not checked (above)" if drafted.notes else ""))
    return lines


def _wrote(w: Written) -> str:
    cells = _cells(w.cells)
    if w.to_write:   # the count below lists the derivatives found and matched to no graph
        them = "them" if len(w.to_write) > 1 else "it"
        return (f"wrote {w.path}  {w.kind}, {cells}: no hand-written derivative for "
                f"{', '.join(w.to_write)}; write {them}, then rename the file to .yaml")
    return f"wrote {w.path}  {w.kind} case, {cells}, {w.claims} claim{'s' * (w.claims != 1)}"


def _unchecked(u: dict) -> str:
    return f"{u['cell']}, line {u['line']}: `{u['text']}`: {u['reason']}"


def lines_of_file(text: str) -> str:
    """A script's or a page's places: its cells keep the file's line numbers, so `cell 3,
    line 42` is said `line 42`."""
    return re.sub(r"\bcell \d+, (lines? \d)", r"\1", text)


def _cells(cells: tuple[str, str]) -> str:
    return cells[0] if cells[0] == cells[1] else f"{cells[0]} to {cells[1]}"


# --- `autograd-lab check TUTORIAL` ---------------------------------------------------------

@dataclass
class Source:
    """A tutorial drafted for checking: its drafts' results come in one by one, and then its
    own result, the count of its hand-written derivatives."""

    name: str                     # the path, as shown
    drafted: Drafted
    results: dict = field(default_factory=dict)   # str(draft path) -> CaseResult
    coded: Coded | None = None    # its classes' and functions' derivatives, read beside

    def result(self) -> CaseResult:
        compared = [w for w in self.drafted.cases
                    if getattr(self.results.get(str(w.path)), "status", None) in (PASSED, FAILED)]
        failed: dict = {}
        for w in self.drafted.cases:
            got = self.results.get(str(w.path))
            if got is not None and got.status not in (PASSED, FAILED):
                why = got.problems[0] if got.problems else got.status
                failed |= dict.fromkeys(w.covers, f"its case {w.name} is {got.status}: {why}")
        count = self.drafted.derivatives(compared, failed, kept=False)
        coded = self.coded.results.values() if self.coded else ()
        if self.coded:
            count = self.coded.count(count, self.drafted)
        if text_source(self.name):
            for u in count["unchecked"]:
                u["cell"], u["reason"] = "", lines_of_file(u["reason"])
        result = CaseResult(name=Path(self.name).name, file=self.name, status=PASSED,
                            kind="source", derivatives=count, title="the tutorial as a whole: "
                            "its hand-written derivatives, found and checked")
        if not compared and not any(r.status in (PASSED, FAILED) for r in coded):
            result.status = UNCHECKED
            result.problems.append(Problem(self._nothing(count)))
        wrong = [r.name for r in [*self.results.values(), *coded] if r.status == FAILED]
        if wrong:   # a tutorial with a wrong derivative has not passed, whatever else did
            result.status = FAILED
            result.problems.append(Problem(
                f"{len(wrong)} of its cases failed: {', '.join(wrong[:3])}"
                + (f" and {len(wrong) - 3} more" if len(wrong) > 3 else "")))
        return result

    def _nothing(self, count: dict) -> str:
        cases = self.drafted.cases + (self.coded.cases if self.coded else [])
        if not cases:
            why = "no cell of it makes a case"
        else:
            why = (f"none of its {len(cases)} drafted case{'s' * (len(cases) != 1)} compared "
                   "anything (each is unchecked or in error)")
        found = count["found"]
        unparsed = [n for n in self.drafted.notes if n.text.startswith(UNPARSED)]
        if not found and unparsed:   # what it holds is not known: not "computes none"
            first = lines_of_file(str(unparsed[0])) if text_source(self.name) \
                else str(unparsed[0])
            cells = f"{len(unparsed)} of its cells" if len(unparsed) > 1 else "a cell of it"
            return (f"nothing compared: {why}; {cells} could not be parsed, so what it "
                    f"computes is not known ({first.replace('left out: ', '')})")
        return (f"nothing compared: {why}; " + (
            f"its {found} hand-written derivative{'s are' if found != 1 else ' is'} listed as "
            "not checked" if found else "it computes no derivative by hand and shows no "
            "printed number the draft could claim"))


@dataclass
class Checked:
    """The paths to check with each tutorial replaced by its drafts, the errors of tutorials
    that could not be drafted, and relabel, which names a drafted case's cells in its result;
    then sources(), a result a tutorial counting its hand-written derivatives."""

    paths: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    drafts: dict = field(default_factory=dict)    # str(case path) -> (notebook, Written)
    tutorials: list = field(default_factory=list)  # Source, a tutorial drafted
    owner: dict = field(default_factory=dict)     # str(case path) -> its Source
    coded: list = field(default_factory=list)     # (Source, i): its Coded's case i, to check

    def relabel(self, result):
        found = self.drafts.get(str(result.file))
        if found is None:
            return result
        source = self.owner.get(str(result.file))
        if source is not None:
            source.results[str(result.file)] = result
        notebook, written = found
        label = f"{notebook} {_cells(written.cells)}"
        result.inputs_from = dict(written.inputs_from)

        def place(line: str) -> str:
            return written.origins.get(int(line), _cells(written.cells))
        file = re.escape(str(result.file))
        result.problems = [
            Problem(_shown_in(notebook, _in_cells(written.origins, re.sub(
                r", line (\d+)\)", lambda m: f", {place(m[1])})",
                re.sub(file + r":(\d+)(?::\d+)?", lambda m: f"{notebook} {place(m[1])}",
                       re.sub(file + r"(?!:\d)", lambda m: notebook,   # nb\9.txt: text,
                              located(problem, str(result.file))))))))  # not a template
            for problem in result.problems]
        for entry in result.backward:
            entry.line, entry.cell = _entry_in_cells(entry.line, written.origins,
                                                     text_source(notebook))
            if entry.piece:
                entry.piece = _piece_in_cells(entry.piece, written.origins,
                                              text_source(notebook))
        result.file, result.line = _shown_in(notebook, label), None
        return result

    def check_coded(self, source: Source, index: int) -> CaseResult:
        """A case read from a tutorial's classes and functions (not a drafted file), checked
        here, in this process, once; named by the tutorial's places."""
        assert source.coded is not None
        return source.coded.check(index)

    def coded_results(self):
        """Each tutorial's cases read from its classes and functions, checked (a generator:
        chained after the drafted cases, before the tutorials' own results)."""
        for source, index in self.coded:
            yield self.check_coded(source, index)

    def sources(self):
        """Each tutorial's own result, once its drafts' results have all been relabelled (a
        generator: chained after the cases, it runs when they are done)."""
        for source in self.tutorials:
            yield source.result()


# the draft's own lines a message names (a wrong statement's, "lines 79, 81", "(line 68)"),
# not the places already named in the notebook's words ("In [210], line 11")
DRAFT_LINES = re.compile(r"(?<!, )\blines? (\d+(?:, \d+)*)\b")


def _origin(origins: dict[int, str], line) -> tuple[str, int] | None:
    """The tutorial's (cell, line) the drafted file's line was written from, from its origin
    comment (`# In [210], line 11`); None where it has none."""
    found = _write.ORIGIN_PARTS.match(origins.get(line, "")) if isinstance(line, int) else None
    return (found[1], int(found[2])) if found else None


def _in_cells(origins: dict[int, str], text: str) -> str:
    """The drafted case's lines a message names, as the notebook's: "the statement at line
    81" is "the statement at In [210], line 11", "lines 79, 81" "In [210], lines 9, 11"."""
    def said(m: re.Match) -> str:
        found = [_origin(origins, int(n)) for n in m[1].split(", ")]
        if not all(found):   # a line the draft wrote without an origin: as it is
            return m[0]
        return places([f[1] for f in found if f], [f[0] for f in found if f])
    # a statement quoted (`dcounts += ...  # see line 3`) is the notebook's text: kept
    return "".join(part if i % 2 else DRAFT_LINES.sub(said, part)
                   for i, part in enumerate(re.split(r"(`[^`\n]*`)", text)))


def _entry_in_cells(line: int | None, origins: dict[int, str], script: bool):
    """A drafted entry's line as the tutorial's (a notebook's with its cell); None where the
    draft wrote it from no line of the tutorial: the drafted file's own line means nothing
    to a reader, who never saw that file."""
    found = _origin(origins, line)
    if found is None:
        return None, ""
    return found[1], "" if script else found[0]


def _piece_in_cells(piece: dict, origins: dict[int, str], script: bool) -> dict:
    """report.json's piece of a drafted case's entry at the notebook's lines: a notebook's
    with each line's cell (`cell`, `cells`), a script's or a page's at the file's lines; the
    column, the block's less its indent (a block's lines are the notebook's, indented 2)."""
    found = [_origin(origins, n) for n in [piece.get("line"), *piece.get("lines", [])]]
    if not all(found):
        return piece
    cells, lines = [f[0] for f in found if f], [f[1] for f in found if f]
    out = dict(piece, line=lines[0], column=max(1, int(piece.get("column", 3)) - 2),
               lines=lines[1:])
    if not script:
        out |= {"cell": cells[0], "cells": cells[1:]}
    return out


def _shown_in(notebook: str, text: str) -> str:
    return lines_of_file(text) if text_source(notebook) else text


@contextlib.contextmanager
def checked_notebooks(paths, echo: Callable[..., None]):
    """Draft each tutorial among paths (and in the folders among them) into a temporary
    folder, for checking in one step."""
    checked = Checked()
    with tempfile.TemporaryDirectory(prefix="autograd-lab-draft-") as tmp:
        n = 0
        for path in paths:
            tutorials = _in_folder(Path(path), echo) if Path(path).is_dir() else (
                [Path(path)] if is_tutorial(path) and Path(path).is_file() else [])
            if Path(path).is_dir() or not tutorials:
                checked.paths.append(path)   # a folder's cases, or a case file
            for tutorial in tutorials:
                n += 1
                folder = Path(tmp) / str(n)
                error = _draft_for_check(tutorial, folder, checked, echo)
                if error:
                    checked.errors.append(_error(tutorial, error))
                else:
                    checked.paths.append(folder)
        yield checked


def draft_one(path: Path, folder: Path, echo: Callable[..., None] | None = None
              ) -> tuple[Checked, CaseResult | None]:
    """One tutorial drafted into folder for checking (the pytest plugin's item a tutorial):
    its Checked (drafts, relabel, and the tutorial's own result, sources()), or the error
    result of a tutorial that cannot be read."""
    checked = Checked()
    error = _draft_for_check(path, folder, checked, echo or (lambda *a, **k: None))
    return checked, (_error(path, error) if error else None)


def tutorial_files(folder: Path) -> list[Path]:
    """The tutorials check reads in a folder (those that mention torch)."""
    return _in_folder(folder, lambda *a, **k: None)


def _in_folder(folder: Path, echo) -> list[Path]:
    """The tutorials under a folder: regular files of a tutorial's kind that mention torch (a
    page or a script about something else is no tutorial of autograd), at most MAX_TUTORIALS;
    walked with a list, not recursion (as check.case_files is), links to folders not followed,
    tools' folders (.git, .venv, build, ...) skipped."""
    found: list[Path] = []
    pending = [folder]
    while pending and len(found) < MAX_TUTORIALS:
        here = pending.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:   # unreadable, or gone meanwhile
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED:
                    pending.append(Path(entry.path))
            elif (Path(entry.name).suffix.lower() in TUTORIALS
                  and entry.is_file(follow_symlinks=False) and _mentions_torch(entry.path)):
                found.append(Path(entry.path))
    if len(found) >= MAX_TUTORIALS:
        echo(f"note: {one_line(str(folder), 200)}: only the first {MAX_TUTORIALS:,} "
             "tutorials are read", err=True)
    return sorted(found[:MAX_TUTORIALS])


def _mentions_torch(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return b"torch" in f.read(MAX_BYTES)
    except OSError:
        return False


def _draft_for_check(path: Path, folder: Path, checked: Checked, echo) -> str | None:
    name = one_line(str(path), 200)
    try:
        drafted = draft(path, folder, verify=False, backward_blocks=True)
    except NotebookError as exc:
        return one_line(str(exc), 300)
    except Exception as exc:  # a bug of ours: this tutorial is an error, the rest go on
        return f"{name}: internal error while drafting: {type(exc).__name__}; please report it"
    source = Source(name, drafted)
    checked.tutorials.append(source)
    assert drafted.parsed is not None   # draft() read it: its cells, not the file again
    try:   # the derivatives in its classes and functions, which the draft does not read
        source.coded = read_coded(drafted.parsed, name, drafted, text_source(path))
    except Exception as exc:  # a bug of ours: this tutorial is an error, the rest go on
        checked.errors.append(_error(path, f"{name}: internal error while reading its classes "
                                     f"and functions: {type(exc).__name__}; please report it"))
    else:
        checked.coded += [(source, i) for i in range(len(source.coded.cases))]
    for note in drafted.notes:
        if note.internal:   # a bug of ours left part of it unchecked: an error, not a pass
            checked.errors.append(_error(path, f"{name}: {note}"))
        else:
            echo(_shown_in(name, f"note: {name}: {note}"), err=True)
    unmatched = _unmatched(drafted)
    for w in drafted.files:
        if w.to_write:
            echo(_shown_in(name, f"note: {name} {_cells(w.cells)}: not checked: the graph has "
                           f"no hand-written derivative for {', '.join(w.to_write)} "
                           "(autograd-lab draft writes it for you to fill in)" + unmatched),
                 err=True)
        else:
            checked.drafts[str(w.path)] = (name, w)
            checked.owner[str(w.path)] = source
    return None


def _unmatched(drafted: Drafted) -> str:
    """The hand-written derivatives the draft found but matched to no graph, for a note that
    says a graph has none: they may be its own, under a name or in a form not followed."""
    drafted_in = set().union(*(w.covers for w in drafted.files if w.to_write))  # in the draft
    places = [f"{u['cell']}, line {u['line']}" for u in drafted.derivatives()["unchecked"]
              if (u["cell"], u["line"]) not in drafted_in]
    if not places:
        return ""
    more = f" and {len(places) - 3} more" if len(places) > 3 else ""
    return (f"; the tutorial writes derivatives by hand the draft matched to no graph "
            f"({'; '.join(places[:3])}{more}): see its count")


def _error(path, message: str) -> CaseResult:
    return CaseResult(name=Path(path).stem, file=str(path), status=ERROR, problems=[message])
