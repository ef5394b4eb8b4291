"""Python source (a script, or one cell of a notebook) -> the cases of the derivatives it
states, and the derivatives it states that could not be read.

    cases, unchecked = cases_from_source(text, "lecture.ipynb", line=120)

`line` is the line of the file on which `text` begins (a cell's first line), so every place
said is the file's own. Nothing in the text runs: it is parsed with `ast` and read."""
from __future__ import annotations

import ast
from typing import NamedTuple

from ..case import Case
from ._functions import is_autograd_function, read_autograd_function, read_gradient_calls
from ._micrograd import is_value_class, read_class
from ._python import Unchecked, read_cases

MAX_SOURCE = 1_000_000     # characters: a script or a cell, not a data set


class FromSource(NamedTuple):
    """The cases read from a source, and what was found there but not checked."""

    cases: list[Case]
    unchecked: list[Unchecked]

    def counts(self) -> dict[str, int]:
        """The honest count of hand-written derivatives: {found, checked, unchecked}."""
        checked = sum(_derivatives(c) for c in self.cases)
        return {"found": checked + len(self.unchecked), "checked": checked,
                "unchecked": len(self.unchecked)}


def _derivatives(case: Case) -> int:
    # a delegated operator's edges are its operators' rules, counted where they are written
    return len(case.gradient) + len(case.backward)


def cases_from_source(text: str, path: str, line: int = 1) -> FromSource:
    """Every derivative the source states that this reading understands, as a Case: the
    backward rules of micrograd-style Value classes, torch.autograd.Function's backward,
    functions returning a gradient where the source calls them beside autograd."""
    if len(text) > MAX_SOURCE:
        return FromSource([], [Unchecked(path, line, 1, "the source",
                                         f"longer than {MAX_SOURCE:,} characters")])
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        where = getattr(exc, "lineno", None) or 1
        return FromSource([], [Unchecked(path, where + line - 1, 1, "the source",
                                         "not valid Python, so nothing in it was read")])
    found, unchecked = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and is_autograd_function(node):
            more, left = read_autograd_function(node, path, line)
        elif isinstance(node, ast.ClassDef) and is_value_class(node):
            more, left = read_class(node, path, line)
        else:
            continue
        found += more
        unchecked += left
    more, left = read_gradient_calls(tree, path, line)
    cases, refused = read_cases(found + more, path)
    return FromSource(cases, unchecked + left + refused)
