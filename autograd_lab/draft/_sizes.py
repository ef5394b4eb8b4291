"""Sizes named in a notebook (`n = 32`, `n_embd = 10`, `n = batch_size`) as a case's dims.

A name is a size when the notebook uses it as one somewhere: in the shape of a draw or a
fill (torch.randn((n, k), ...)), in view or reshape, as num_classes=, in x[range(n), y], or in
the value of another size. Only those names become dims; any other integer stays a number
written in place, as the scalar lessons have it. Read from the cells' syntax, nothing run."""
from __future__ import annotations

import ast
from collections.abc import Iterable

from ..case import constant_value, parse
from ..errors import CaseError
from ..reading import MAX_ELEMENTS
from ._held import Dim, Translated, Where

SHAPED = {"randn", "rand", "randint", "zeros", "ones", "empty", "full", "randperm", "arange"}
VIEWS = {"view", "reshape"}
SIZE_KEYWORDS = {"num_classes", "size"}
MAX_DIM = MAX_ELEMENTS       # a dim larger than any value a case may hold is not one


def size_names(trees: Iterable[ast.AST]) -> set[str]:
    """The names a notebook uses as sizes, and the names their values are made of."""
    found: set[str] = set()
    values: dict[str, list[ast.expr]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found |= _sized(node)
            elif isinstance(node, ast.Subscript):
                entries = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                for entry in entries:
                    if (isinstance(entry, ast.Call) and isinstance(entry.func, ast.Name)
                            and entry.func.id == "range"):
                        found |= _names(entry.args)
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name)):
                values.setdefault(node.targets[0].id, []).append(node.value)
    grown = True
    while grown:
        more = {n for name in found & set(values) for n in _names(values[name])} - found
        found |= more
        grown = bool(more)
    return found


def _sized(call: ast.Call) -> set[str]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    out: set[str] = set()
    if name in SHAPED or (name in VIEWS and isinstance(func, ast.Attribute)):
        out |= _names(call.args)
    for keyword in call.keywords:
        if keyword.arg in SIZE_KEYWORDS:
            out |= _names([keyword.value])
    return out


def _names(nodes: Iterable[ast.AST]) -> set[str]:
    """The names a size is written with (a tensor whose .shape is taken is among them, and
    harmless: only a name bound to a whole number becomes a dim)."""
    out: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                out.add(sub.id)
    return out


def dim(name: str, translated: Translated, where: Where) -> Dim | None:
    """The dim a size's assignment makes: the same dim for `n = batch_size`, a product of
    dims for `n_in = n_embd * block_size`, a new one for `n = 32`; None when the value is not
    a positive whole number made of numbers and dims."""
    bases = {n: d for n, d in translated.deps.items() if isinstance(d, Dim)}
    if len(bases) != len(translated.deps):
        return None
    try:
        value = constant_value(parse(translated.text), {n: d.value for n, d in bases.items()})
    except (CaseError, ValueError, OverflowError, ZeroDivisionError):
        return None
    if isinstance(value, bool) or not isinstance(value, float) or not value.is_integer() \
            or not 1 <= value <= MAX_DIM:
        return None
    tree = translated.tree
    if isinstance(tree, ast.Name) and tree.id in bases:
        return bases[tree.id]            # another name for the same size
    if not bases:
        return Dim(name, int(value), where)
    return Dim(name, int(value), where, tree, bases)
