"""The Python API for users' own tests: load a case, check it, read or assert the result."""
from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .case import Behaviour, Case
from .check import case_files, check_file, check_paths
from .errors import CaseError
from .reading import (
    FromSource,
    cases_from_source,
    from_dict,
    function_pair,
    load,
    read_autograd_function,
)
from .result import ERROR, FAILED, PASSED, UNCHECKED, CaseResult, Problem, error, split_place
from .text import terminal

__all__ = [
    "ERROR",
    "FAILED",
    "PASSED",
    "UNCHECKED",
    "Case",
    "CaseError",
    "CaseResult",
    "FromSource",
    "Problem",
    "assert_passes",
    "case_files",
    "case_from_dict",
    "cases_from_source",
    "check_autograd_function",
    "check_file",
    "check_function",
    "check_paths",
    "diagnosis",
    "load_case",
]

SHOWN_ELEMENTS = 8     # elements of a vector gradient shown in a diagnosis


def load_case(path: str | Path) -> Case | Behaviour:
    """Read, validate and resolve one case file; a bad file raises CaseError naming file:line."""
    return load(path)


def case_from_dict(data: Mapping, file: str = "<dict>") -> Case | Behaviour:
    """A case from a dict with a case file's keys, read as a case file is; a bad one raises
    CaseError (at `file`: a dict has no lines)."""
    return from_dict(dict(data), file)


Point = Mapping[str, float]


def check_function(forward: Callable, gradient: Callable, at: Point | Sequence[Point],
                   wrt: Sequence[str] | None = None) -> CaseResult:
    """Check that `gradient` is the derivative of `forward`, at the point(s) `at`, against
    SymPy's exact derivative of forward, autograd and finite differences.

    Both are read from their source (inspect.getsource), statically, as a case's expressions
    are read: assignments then one `return expression`, in the operations of the case
    language; nothing is called or traced. gradient takes forward's inputs (by position) and
    returns the derivative by each input in wrt (default: every input; a tuple for several).
    A function that cannot be read gives an `error` result naming its file:line."""
    points = [dict(at)] if isinstance(at, Mapping) else [dict(p) for p in at]
    try:
        pieces = {"forward": _source_of(forward), "gradient": _source_of(gradient)}
        defs = {k: _definition(tree, f.__name__, ast.FunctionDef)
                for (k, (tree, _, _)), f in zip(pieces.items(), (forward, gradient))}
        places = {k: (file, line) for k, (_, file, line) in pieces.items()}
        case = function_pair(defs["forward"], defs["gradient"], places, points,
                             list(wrt) if wrt is not None else None)
    except CaseError as exc:
        return error(getattr(gradient, "__name__", "gradient"), exc.file, str(exc), exc.line,
                     exc.column)
    return check_file(case)


def check_autograd_function(function: type, at: Point | None = None) -> CaseResult:
    """Check a torch.autograd.Function subclass's backward against SymPy's derivative of its
    forward (and autograd's), read from the class's source as check_function reads; at a
    point (`at`: forward's inputs by name) or, without one, at sampled points."""
    name = getattr(function, "__name__", "Function")
    try:
        tree, file, line = _source_of(function)
        cls = _definition(tree, name, ast.ClassDef)
        found, unchecked = read_autograd_function(cls, file, line, dict(at) if at else None)
        if unchecked:
            raise CaseError(unchecked[0].reason, file, unchecked[0].line, unchecked[0].column)
        case = found[0][0].case(file)
    except CaseError as exc:
        return error(f"{name}-backward", exc.file, str(exc), exc.line, exc.column)
    return check_file(case)


def _source_of(obj) -> tuple[ast.Module, str, int]:
    """The parsed source of a function or class, its file and first line."""
    name = getattr(obj, "__name__", "?")
    try:
        lines, first = inspect.getsourcelines(obj)
        file = inspect.getsourcefile(obj) or "<unknown>"
    except (OSError, TypeError):
        return _class_by_its_methods(obj, name)
    try:
        return ast.parse(textwrap.dedent("".join(lines))), file, first
    except SyntaxError:
        raise CaseError(f"{name}'s source does not parse on its own (a lambda?): define it "
                        "with def", file, first) from None


def _class_by_its_methods(cls, name: str) -> tuple[ast.Module, str, int]:
    """A class inspect cannot find (its module is not in sys.modules): the file its methods
    were compiled from, read whole (_definition then finds the class in it)."""
    code = getattr(getattr(cls, "forward", None), "__code__", None)
    if not isinstance(cls, type) or code is None:
        raise CaseError(f"the source of {name} cannot be read: define it in a file")
    try:
        with open(code.co_filename, encoding="utf-8") as f:
            return ast.parse(f.read()), code.co_filename, 1
    except (OSError, SyntaxError, ValueError):
        raise CaseError(f"the source of {name} cannot be read: define it in a file") from None


def _definition(tree: ast.Module, name: str, kind: type):
    """The one definition of name in the source (one nested in a function too)."""
    for node in ast.walk(tree):
        if isinstance(node, kind) and node.name == name:   # type: ignore[attr-defined]
            return node
    raise CaseError(f"{name} is not defined by a `{'class' if kind is ast.ClassDef else 'def'}"
                    f"` statement in its source")


def assert_passes(path_or_case) -> CaseResult:
    """Check a case (a path, a loaded case, or a CaseResult already checked) and return its
    result; unless it passed, raise AssertionError(diagnosis) (a case that compared nothing,
    `unchecked`, did not pass)."""
    result = path_or_case if isinstance(path_or_case, CaseResult) else \
        check_file(path_or_case)
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
             f"methods, over every point: {_worst(result)}):"]
    for param, by_method in result.points[0].gradients.items():
        shown = ", ".join(f"{m} {_value(v)}" for m, v in by_method.items())
        lines.append(f"  {_shown(param)}: {shown}")
    return lines


def _worst(result: CaseResult) -> str:
    """Its digits, unless every disagreement is at rounding level (digits of the CPU's)."""
    return "at rounding level" if result.worst and result.worst_at_rounding \
        else f"{result.worst:.3g}"


def _value(v) -> str:
    if isinstance(v, list):
        more = ", ..." if len(v) > SHOWN_ELEMENTS else ""
        return "[" + ", ".join(_value(x) for x in v[:SHOWN_ELEMENTS]) + more + "]"
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def _where(file: str, line: int | None) -> str:
    return _shown(f"{file}:{line}" if line else file)
