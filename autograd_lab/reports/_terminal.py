"""The terminal: a line a case, and for a failure what to fix."""
from __future__ import annotations

import contextlib
import os
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from ..result import ERROR, FAILED, PASSED, CaseResult
from ..text import terminal

STYLE = {PASSED: "green", FAILED: "red", ERROR: "bold red"}
WORD = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR"}
PROGRESS_FROM = 20   # cases from which a terminal shows a progress bar instead of every pass


def console():
    """The terminal: no colour under NO_COLOR or into a pipe; never an emoji made of case text
    (:smile:), nor a number or path highlighted; case text is escaped (text.terminal)."""
    plain = bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()
    return Console(no_color=plain, highlight=False, soft_wrap=True, emoji=False)


def line(result: CaseResult) -> str:
    word = WORD[result.status]
    where = f"{result.file}" + (f":{result.line}" if result.line else "")
    detail = f"  worst gap {result.worst:.2g}" if result.status != ERROR and result.worst else ""
    name = terminal(f"{terminal(result.name, markup=False):<28}")   # padded as shown
    return f"[{STYLE[result.status]}]{word:5}[/] {name} {terminal(where)}{detail}"


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
    if total < PROGRESS_FROM or not out.is_terminal:
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
            out.print(f"      [dim]-[/] {_escape(problem)}")
    for note in result.notes:
        out.print(f"      [dim]note: {_escape(note)}[/]")


def summary(results: list[CaseResult], out, report_dir=None) -> None:
    counts = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, ERROR)}
    if len(results) > 1:
        out.print(table(results))
    said = (f"{len(results)} cases: {counts[PASSED]} passed, {counts[FAILED]} failed, "
            f"{counts[ERROR]} errors")
    out.print(said + (f"  (reports in {terminal(str(report_dir))})" if report_dir else ""))


def table(results: list[CaseResult]):
    """Verdicts counted, the worst disagreement, and the names of what did not pass."""
    grid = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("verdict", "cases", "worst gap", "which"):
        grid.add_column(column, justify="right" if column in ("cases", "worst gap") else "left")
    for status in (PASSED, FAILED, ERROR):
        chosen = [r for r in results if r.status == status]
        if not chosen:
            continue
        worst = max((r.worst for r in chosen), default=0.0)
        names = "" if status == PASSED else ", ".join(r.name for r in chosen[:8]) + (
            f", … {len(chosen) - 8} more" if len(chosen) > 8 else "")
        grid.add_row(f"[{STYLE[status]}]{WORD[status]}[/]", str(len(chosen)),
                     "" if status == ERROR else f"{worst:.2g}", _escape(names))
    return grid


def _escape(text: str) -> str:
    return terminal(text)
