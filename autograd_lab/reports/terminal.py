"""The terminal: a line a case, and for a failure what to fix."""
from __future__ import annotations

import os
import sys

from ..result import ERROR, FAILED, PASSED, CaseResult

STYLE = {PASSED: "green", FAILED: "red", ERROR: "bold red"}
WORD = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR"}


def console():
    from rich.console import Console
    plain = bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()
    return Console(no_color=plain, highlight=False, soft_wrap=True)


def line(result: CaseResult) -> str:
    word = WORD[result.status]
    where = f"{result.file}" + (f":{result.line}" if result.line else "")
    detail = f"  worst gap {result.worst:.2g}" if result.status != ERROR and result.worst else ""
    return f"[{STYLE[result.status]}]{word:5}[/] {result.name:<28} {where}{detail}"


def show(result: CaseResult, out) -> None:
    out.print(line(result))
    if result.status != PASSED:
        for problem in result.problems:
            out.print(f"      [dim]-[/] {_escape(problem)}")
    for note in result.notes:
        out.print(f"      [dim]note: {_escape(note)}[/]")


def summary(results: list[CaseResult], out, report_dir=None) -> None:
    counts = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, ERROR)}
    text = (f"{len(results)} cases: {counts[PASSED]} passed, {counts[FAILED]} failed, "
            f"{counts[ERROR]} errors")
    out.print(text + (f"  (reports in {report_dir})" if report_dir else ""))


def _escape(text: str) -> str:
    from rich.markup import escape
    return escape(text)
