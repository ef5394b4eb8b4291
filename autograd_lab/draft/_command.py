"""What the CLI says: `autograd-lab draft`, and the notebooks given to `autograd-lab check`."""
from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..api import ERROR, CaseResult
from ..result import located
from ._draft import Drafted, Written, draft
from ._notebook import NotebookError, looks_like_notebook
from ._text import one_line


def run_draft(notebook: Path, out: Path | None, echo: Callable[..., None],
              force: bool = False, timeout: float | None = None) -> int:
    """Draft one notebook, saying what was written and what was left out; the exit code."""
    try:
        drafted = draft(notebook, out, force=force, timeout=timeout)
    except NotebookError as exc:
        echo(f"error: {one_line(str(exc), 300)}", err=True)
        return 2
    except Exception as exc:  # a bug of ours: one line, not a traceback
        echo(f"error: {one_line(str(notebook), 200)}: internal error while drafting: "
             f"{type(exc).__name__}: {one_line(str(exc), 200)}; please report it", err=True)
        return 2
    for line in said(drafted):
        echo(line)
    for problem in drafted.problems:
        echo(f"error: {one_line(problem, 400)}", err=True)
    return 2 if drafted.problems or any(n.internal for n in drafted.notes) else 0


def said(drafted: Drafted) -> list[str]:
    name = one_line(drafted.notebook, 200)
    lines = [_wrote(w) for w in drafted.files]
    lines += [f"{name}: {note}" for note in drafted.notes]
    finish = len(drafted.files) - len(drafted.cases)
    lines.append(f"drafted {len(drafted.cases)} case{'s' * (len(drafted.cases) != 1)}"
                 + (f" and {finish} to finish" if finish else "")
                 + f" from {name} into {one_line(str(drafted.folder), 200)}"
                 + (f"; {len(drafted.notes)} thing{'s' * (len(drafted.notes) != 1)} left out "
                    "or not checked (above)" if drafted.notes else ""))
    return lines


def _wrote(w: Written) -> str:
    cells = _cells(w.cells)
    if w.to_write:
        them = "them" if len(w.to_write) > 1 else "it"
        return (f"wrote {w.path}  {w.kind}, {cells}: no hand-written derivative for "
                f"{', '.join(w.to_write)}; write {them}, then rename the file to .yaml")
    return f"wrote {w.path}  {w.kind} case, {cells}, {w.claims} claim{'s' * (w.claims != 1)}"


def _cells(cells: tuple[str, str]) -> str:
    return cells[0] if cells[0] == cells[1] else f"{cells[0]} to {cells[1]}"


# --- `autograd-lab check NOTEBOOK` ----------------------------------------------------------

@dataclass
class Checked:
    """The paths to check with each notebook replaced by its drafts, the errors of notebooks
    that could not be drafted, and relabel, which names a drafted case's cells in its result."""

    paths: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    drafts: dict = field(default_factory=dict)    # str(case path) -> (notebook, Written)

    def relabel(self, result):
        found = self.drafts.get(str(result.file))
        if found is None:
            return result
        notebook, written = found
        label = f"{notebook} {_cells(written.cells)}"

        def place(line: str) -> str:
            return written.origins.get(int(line), _cells(written.cells))
        file = re.escape(str(result.file))
        result.problems = [
            re.sub(r", line (\d+)\)", lambda m: f", {place(m[1])})",
                   re.sub(file + r":(\d+)(?::\d+)?", lambda m: f"{notebook} {place(m[1])}",
                          re.sub(file + r"(?!:\d)", lambda m: notebook,   # nb\9.txt: text,
                                 located(problem, str(result.file)))))  # not a template
            for problem in result.problems]
        result.file, result.line = label, None
        return result


@contextlib.contextmanager
def checked_notebooks(paths, echo: Callable[..., None]):
    """Draft each notebook among paths into a temporary folder, for checking in one step."""
    checked = Checked()
    with tempfile.TemporaryDirectory(prefix="autograd-lab-draft-") as tmp:
        for n, path in enumerate(paths):
            if not looks_like_notebook(path):
                checked.paths.append(path)
                continue
            folder = Path(tmp) / str(n)
            error = _draft_for_check(Path(path), folder, checked, echo)
            if error:
                checked.errors.append(_error(path, error))
            else:
                checked.paths.append(folder)
        yield checked


def _draft_for_check(path: Path, folder: Path, checked: Checked, echo) -> str | None:
    name = one_line(str(path), 200)
    try:
        drafted = draft(path, folder, verify=False)
    except NotebookError as exc:
        return one_line(str(exc), 300)
    except Exception as exc:  # a bug of ours: this notebook is an error, the rest go on
        return f"{name}: internal error while drafting: {type(exc).__name__}; please report it"
    for note in drafted.notes:
        if note.internal:   # a bug of ours left part of it unchecked: an error, not a pass
            checked.errors.append(_error(path, f"{name}: {note}"))
        else:
            echo(f"note: {name}: {note}", err=True)
    for w in drafted.files:
        if w.to_write:
            echo(f"note: {name} {_cells(w.cells)}: not checked: the graph has no hand-written "
                 f"derivative for {', '.join(w.to_write)} (autograd-lab draft writes it for you "
                 "to fill in)", err=True)
        else:
            checked.drafts[str(w.path)] = (name, w)
    if not drafted.cases:
        return f"{name}: nothing to check: no cell of the notebook makes a case"
    return None


def _error(path, message: str) -> CaseResult:
    return CaseResult(name=Path(path).stem, file=str(path), status=ERROR, problems=[message])
