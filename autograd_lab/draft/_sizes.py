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
# the sizes that stand in for sizes the notebook reads from data (`vocab_size = len(itos)`),
# one after the other: small, so a case stays readable, and distinct, so that a formula that
# mixes up two dims fails on its shapes instead of passing by coincidence
STAND_IN_SIZES = (5, 4, 3, 6, 7, 8, 9, 10, 11, 12)


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


def stand_in(name: str, why: str, where: Where, taken: set[int], least: int) -> Dim:
    """A free dim for a size the notebook does not say (`vocab_size = len(itos)`): the first
    stand-in size no other dim holds (so that each dim is written by its name) and large
    enough for the integers the notebook lists (labels it writes out index up to them)."""
    size = next((n for n in STAND_IN_SIZES if n not in taken and n >= least), least)
    while size in taken:
        size += 1
    return Dim(name, size, where, stand_in=f"{why}: {size} stands in")


def counted(value: ast.expr) -> bool:
    """Whether an expression reads as a whole number the draft cannot know (len(itos),
    Xtr.shape[0], x.size(0), int(...), sums of them): a size that may stand in. A list or a
    string (chars = sorted(set(text))) is not one."""
    plain = (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp)
    return _counts(value) and any(isinstance(n, ast.expr) and not isinstance(n, plain)
                                  and _counts(n) for n in ast.walk(value))


def _counts(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return type(value.value) is int
    if isinstance(value, ast.Name):
        return True
    if isinstance(value, ast.BinOp):
        return isinstance(value.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)) \
            and _counts(value.left) and _counts(value.right)
    if isinstance(value, ast.UnaryOp):
        return _counts(value.operand)
    if isinstance(value, ast.Subscript):   # Xtr.shape[0]
        return isinstance(value.value, ast.Attribute) and value.value.attr == "shape"
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else "")
        return name in {"len", "int", "size", "numel", "max", "min", "round"}
    return False


def largest_listed(trees: Iterable[ast.AST], sizes: set[str]) -> int:
    """The largest whole number in a list the notebook writes out (`torch.tensor([0, 2, 4])`)
    or gives a size (`n_hidden = 64`), 0 if none: a size standing in is larger, so such labels
    stay within their classes, and the sizes sort as data's do (a vocabulary, a dataset: larger
    than the notebook's own), so that SymPy's reduced dims are those the notebook would get."""
    given: dict[str, int] = {}   # a size's first value (a later experiment's n_hidden = 200 aside)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and type(node.value.value) is int and node.value.value < MAX_DIM:
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in sizes:
                        given.setdefault(target.id, node.value.value)
    found = max(given.values(), default=0)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.List, ast.Tuple)):
                for item in node.elts:
                    if isinstance(item, ast.Constant) and type(item.value) is int \
                            and item.value < MAX_DIM:
                        found = max(found, item.value)
    return found
