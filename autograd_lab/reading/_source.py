"""Python source (a script, or a notebook's cells) -> the cases of the derivatives it states,
and the derivatives it states that could not be read.

    cases, unchecked = cases_from_source(text, "lab.py")
    cases, unchecked = cases_from_cells([(cell_text, first_line), ...], "lecture.ipynb")

A cell's `first_line` is the line of the file on which it begins, so that every place said is
the file's own; cells are read in order as one program (a notebook builds its graph in one
cell and sets its gradients in others). Nothing in the text runs: it is parsed with `ast`."""
from __future__ import annotations

import ast
import re
from typing import NamedTuple

from ..case import Behaviour, Case
from ._assignments import read_assignments
from ._functions import is_autograd_function, read_autograd_function, read_gradient_calls
from ._layers import is_layer_class, read_layer
from ._micrograd import is_value_class, read_class
from ._python import Unchecked, read_cases

MAX_SOURCE = 1_000_000     # characters: a script or a notebook's code, not a data set
# IPython's own lines (%matplotlib inline, !pip install): no Python, read as blank
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


class FromSource(NamedTuple):
    """The cases read from a source, and what was found there but not checked."""

    cases: list[Case | Behaviour]   # Behaviour: the claims a picture shows
    unchecked: list[Unchecked]

    def counts(self) -> dict[str, int]:
        """The honest count of hand-written derivatives: {found, checked, unchecked}."""
        checked = sum(_derivatives(c) for c in self.cases)
        return {"found": checked + len(self.unchecked), "checked": checked,
                "unchecked": len(self.unchecked)}


def _derivatives(case: Case | Behaviour) -> int:
    # a delegated operator's edges are its operators' rules, counted where they are written;
    # a picture's claims state no derivative
    return len(case.gradient) + len(case.backward) if isinstance(case, Case) else 0


def cases_from_source(text: str, path: str, line: int = 1) -> FromSource:
    """Every derivative the source states that this reading understands, as a Case: the
    backward rules of micrograd-style Value classes and its `.grad =` assignments,
    torch.autograd.Function's backward, layer classes' backward(self, dout), functions
    returning a gradient called beside autograd. `line`: the file's line on which text begins."""
    return cases_from_cells([(text, line)], path)


def cases_from_cells(cells: list[tuple[str, int]], path: str,
                     pictures: list[list[str]] | None = None) -> FromSource:
    """cases_from_source over a notebook's code cells, read in order as one program.
    `pictures`: each cell's SVG outputs (micrograd's draw_dot), whose gradients are claims."""
    body: list[ast.stmt] = []
    shown: dict[tuple[int, int], list[str]] = {}
    unchecked: list[Unchecked] = []
    if sum(len(text) for text, _ in cells) > MAX_SOURCE:
        return FromSource([], [Unchecked(path, cells[0][1], 1, "the source",
                                         f"longer than {MAX_SOURCE:,} characters")])
    for text, line in cells:
        try:
            tree = ast.parse(_MAGIC.sub("", text))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            where = (getattr(exc, "lineno", None) or 1) + line - 1
            unchecked.append(Unchecked(path, where, 1, "the code",
                                       "not valid Python, so nothing in it was read"))
            continue
        body += ast.increment_lineno(tree, line - 1).body
    for (text, line), svgs in zip(cells, pictures or []):
        if svgs:
            shown[(line, line + text.count("\n"))] = svgs
    return _read(ast.Module(body, []), path, unchecked, shown)


def _read(tree: ast.Module, path: str, unchecked: list[Unchecked],
          shown: dict[tuple[int, int], list[str]] | None = None) -> FromSource:
    try:
        return _readers(tree, path, unchecked, shown or {})
    except RecursionError:     # an expression nested past what Python's own tools walk
        return FromSource([], unchecked + [Unchecked(path, 1, 1, "the code", "nested too "
                                                     "deeply to read")])


def _readers(tree: ast.Module, path: str, unchecked: list[Unchecked],
             shown: dict[tuple[int, int], list[str]]) -> FromSource:
    found: list = []
    classes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and is_autograd_function(node):
            more, left = read_autograd_function(node, path, 1)
        elif isinstance(node, ast.ClassDef) and is_value_class(node):
            classes.add(node.name)
            more, left = read_class(node, path, 1)
        elif isinstance(node, ast.ClassDef) and is_layer_class(node):
            more, left = read_layer(node, path, 1)
        else:
            continue
        found += more
        unchecked += left
    for read in (read_gradient_calls(tree, path, 1),
                 read_assignments(tree.body, classes, path, shown)):
        found += read[0]
        unchecked += read[1]
    cases, refused = read_cases(found, path)
    return FromSource(cases, unchecked + refused)
