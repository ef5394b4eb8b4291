"""The Python API for users' own tests: load a case, check it, read or assert the result."""
from __future__ import annotations

from pathlib import Path

from .case import Behaviour, Case
from .check import case_files, check_file, check_paths
from .errors import CaseError
from .reading import load
from .result import ERROR, FAILED, PASSED, UNCHECKED, CaseResult, Problem, split_place
from .text import terminal

__all__ = [
    "ERROR",
    "FAILED",
    "PASSED",
    "UNCHECKED",
    "Case",
    "CaseError",
    "CaseResult",
    "Problem",
    "assert_passes",
    "case_files",
    "check_file",
    "check_paths",
    "diagnosis",
    "load_case",
]

SHOWN_ELEMENTS = 8     # elements of a vector gradient shown in a diagnosis


def load_case(path: str | Path) -> Case | Behaviour:
    """Read, validate and resolve one case file; a bad file raises CaseError naming file:line."""
    return load(path)


def assert_passes(path_or_case) -> CaseResult:
    """Check a case and return its result; unless it passed, raise AssertionError(diagnosis)
    (a case that compared nothing, `unchecked`, did not pass)."""
    result = check_file(path_or_case)
    if result.status in (FAILED, ERROR, UNCHECKED):
        raise AssertionError(diagnosis(result))
    return result


def diagnosis(result: CaseResult) -> str:
    """What a student reads for a case that did not pass: where, what is wrong, what to write.

    A line a statement: every piece of case text in it (names, paths, formulas, messages)
    has its control characters and line breaks shown as escapes (text.terminal), for the
    terminal or log that shows it."""
    # each problem's words first, then the file:line:column of what it is about, as pytest
    # puts an error's place after it: pytest's short summary shows the first line, cut to
    # the terminal's width, and the words are what it must not cut
    lines = [_shown(_place_last(problem, result.file)) for problem in result.problems]
    if result.status == ERROR:
        return "\n".join(lines)
    lines.append(f"case {_shown(result.name)} {result.status} "
                 f"({_where(result.file, result.line)})")
    lines += [f"  note: {_shown(note)}" for note in result.notes]
    return "\n".join(lines + _gradients(result))


def _place_last(problem: str, file: str) -> str:
    words, place = split_place(problem, file)
    return f"{words} ({place})" if place else words


def _shown(text: str) -> str:
    return terminal(str(text), markup=False)


def _gradients(result: CaseResult) -> list[str]:
    if not result.points:
        return []
    lines = [f"gradients at the base point, by method (the largest difference between two "
             f"methods, over every point: {result.worst:.3g}):"]
    for param, by_method in result.points[0].gradients.items():
        shown = ", ".join(f"{m} {_value(v)}" for m, v in by_method.items())
        lines.append(f"  {_shown(param)}: {shown}")
    return lines


def _value(v) -> str:
    if isinstance(v, list):
        more = ", ..." if len(v) > SHOWN_ELEMENTS else ""
        return "[" + ", ".join(_value(x) for x in v[:SHOWN_ELEMENTS]) + more + "]"
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def _where(file: str, line: int | None) -> str:
    return _shown(f"{file}:{line}" if line else file)
