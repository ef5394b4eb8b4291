"""The terminal: a line a case, and for a failure what to fix."""
from __future__ import annotations

import contextlib
import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..result import (
    ERROR,
    FAILED,
    PASSED,
    UNCHECKED,
    CaseResult,
    derivatives_line,
    located,
    split_place,
    tally,
)
from ..text import terminal

STYLE = {PASSED: "green", FAILED: "red", ERROR: "bold red", UNCHECKED: "yellow"}
WORD = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", UNCHECKED: "UNCHECKED"}
PROGRESS_AFTER = 20   # more cases than this: a terminal shows a progress bar, not every pass
INDENT = 6            # a problem's bullet under its case's line


def console():
    """The terminal, as rich detects it: colour on a terminal, none into a pipe, and
    FORCE_COLOR honoured; with NO_COLOR set, no escape code at all (rich's NO_COLOR drops
    colours but keeps bold and dim); never an emoji made of case text (:smile:), nor a
    number or path highlighted; case text is escaped (text.terminal). On a terminal long
    lines wrap between words, under their bullet; into a pipe (coloured by FORCE_COLOR or
    not) a line stays one line."""
    plain = bool(os.environ.get("NO_COLOR"))   # no-color.org: set and not empty
    out = Console(highlight=False, emoji=False, color_system=None if plain else "auto")
    out.soft_wrap = not wraps(out)   # a log or a pipe keeps each line whole
    return out


def wraps(out) -> bool:
    """Whether out is a terminal a person reads, as wide as rich measured it: a terminal
    forced on a pipe (FORCE_COLOR) has colour but no width, so its lines are not wrapped."""
    if not out.is_terminal:
        return False
    try:
        return out.file.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def line(result: CaseResult) -> str:
    """The case's verdict and its file:line, whatever the verdict (a log searched for FAIL
    finds the place on the same line): the first problem's line, else the case's."""
    word = WORD[result.status]
    detail = f"  worst gap {worst(result)}" if result.status != ERROR and result.worst else ""
    name = terminal(f"{terminal(result.name, markup=False):<28}")   # padded as shown
    if result.derivatives is not None:   # a tutorial's source: its count
        detail = f"  {derivatives_line(result.derivatives)}"
    return (f"[{STYLE[result.status]}]{word:5}[/] {name} {terminal(where(result))}"
            f"{detail}").rstrip()


def where(result: CaseResult) -> str:
    """file:line of the first problem that names its line, else of the case."""
    for problem in result.problems:
        place = split_place(problem, result.file)[1]   # file:line[:column]
        if place:
            return place[:len(result.file)] + ":" + place[len(result.file) + 1:].split(":")[0]
    return f"{result.file}" + (f":{result.line}" if result.line else "")


class _Advance:
    """Called once a case; `shown` says whether a progress bar stands in for passing lines."""

    def __init__(self, progress=None, task=None):
        self.progress, self.task = progress, task
        self.shown = progress is not None

    def __call__(self):
        if self.progress is not None:
            self.progress.advance(self.task)


@contextlib.contextmanager
def progress(out, total: int):
    """A transient progress bar on a terminal when there are many cases; else nothing."""
    if total <= PROGRESS_AFTER or not wraps(out):
        yield _Advance()
        return
    with Progress("checking", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=out, transient=True) as bar:
        yield _Advance(bar, bar.add_task("checking", total=total))


def show(result: CaseResult, out, quiet: bool = False) -> None:
    """A line a case (passes left out when quiet), and for a failure each problem."""
    if quiet and result.status == PASSED:
        return
    out.print(line(result))
    if result.status != PASSED:
        for problem in result.problems:
            _bullet(out, "- ", _escape(located(problem, result.file)))
    for entry in (result.derivatives or {}).get("unchecked", []):
        where = f"{entry.get('cell')}, line {entry.get('line')}" if entry.get("cell") \
            else f"{result.file}:{entry.get('line')}"
        _bullet(out, "not checked: ", _escape(f"{where}: `{entry.get('text', '')}`: "
                                              f"{entry.get('reason', '')}"), "yellow")
    for note in result.notes:
        _bullet(out, "note: ", _escape(note), "dim")


def _bullet(out, mark: str, markup: str, style: str = "") -> None:
    """An indented line; on a terminal wrapped between words, each further line under the
    text (rich breaks a word only when it is longer than the line)."""
    text = Text.from_markup(markup, style=style, emoji=False)
    head = Text.assemble(" " * INDENT, (mark, "dim"))
    if not wraps(out):
        out.print(head + text)
        return
    for i, piece in enumerate(text.wrap(out, max(out.width - len(head), 20))):
        piece.rstrip()
        out.print(Text.assemble(head if i == 0 else " " * len(head), piece))


def summary(results: list[CaseResult], out, report_dir=None, table_shown: bool = True) -> None:
    """The table of verdicts (unless asked not to, -q), then the tally."""
    if len(results) > 1 and table_shown:
        out.print(table(results))
    out.print(tally(results)
              + (f"  (reports in {terminal(str(report_dir))})" if report_dir else ""))


def table(results: list[CaseResult]):
    """Verdicts counted, the worst disagreement, and the names of what did not pass."""
    grid = Table(box=None, pad_edge=False, show_edge=False)
    clean = all(r.status == PASSED for r in results)   # nothing to name: no "which" column
    for column in ("verdict", "cases", "worst gap") + (() if clean else ("which",)):
        grid.add_column(column, justify="right" if column in ("cases", "worst gap") else "left")
    for status in (PASSED, FAILED, ERROR, UNCHECKED):
        chosen = [r for r in results if r.status == status]
        if not chosen:
            continue
        top = max(chosen, key=lambda r: r.worst)
        names = "" if status == PASSED else ", ".join(r.name for r in chosen[:8]) + (
            f", … {len(chosen) - 8} more" if len(chosen) > 8 else "")
        row = [f"[{STYLE[status]}]{WORD[status]}[/]", str(len(chosen)),
               "" if status in (ERROR, UNCHECKED) else worst(top) if top.worst else "0",
               _escape(names)]
        grid.add_row(*row[:len(grid.columns)])
    return grid


def worst(result: CaseResult) -> str:
    """The worst disagreement: its digits, or "at rounding level" where every disagreement
    is (those digits are the CPU's: its kernels' vector width and order of summation)."""
    return "at rounding level" if result.worst_at_rounding else f"{result.worst:.2g}"


def _escape(text: str) -> str:
    return terminal(text)
