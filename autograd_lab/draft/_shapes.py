"""Sizes a notebook says by printing a shape: a cell showing `logits.shape, Yb.shape` printed
`(torch.Size([32, 27]), torch.Size([32]))`. Where the draft holds a stand-in size (vocab_size
= len(itos) reads a file, so 65 stood in) and the notebook printed another at that axis, the
printed one is the notebook's: the draft walks again with it. Each stand-in size is held by
one dim only (see _sizes.stand_in), so the axis names the dim."""
from __future__ import annotations

import ast
import re

from ._held import Dim, Unsupported, one
from ._notebook import Cell
from ._tensorforms import kind

SIZE = re.compile(r"torch\.Size\(\[([0-9,\s]*)\]\)")


def shown_shapes(tree: ast.Module) -> list[ast.expr] | None:
    """The tensors whose shapes a cell shows, when that is all it does: `logits.shape,
    Yb.shape`, `print(x.shape)`, `x.size()`; else None."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    value = tree.body[0].value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id == "print" and not value.keywords:
        items = list(value.args)
    else:
        items = list(value.elts) if isinstance(value, ast.Tuple) else [value]
    owners = [_owner(item) for item in items]
    if not owners or any(o is None for o in owners):
        return None
    return [o for o in owners if o is not None]


def _owner(node: ast.expr) -> ast.expr | None:
    if isinstance(node, ast.Attribute) and node.attr == "shape":
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "size" and not node.args and not node.keywords:
        return node.func.value
    return None


def printed_sizes(text: str, count: int) -> list[tuple[int, ...]] | None:
    """The count torch.Size([...]) a cell printed, when its output is only those."""
    found = SIZE.findall(text)
    if len(found) != count or SIZE.sub("", text).strip(" \t\n(),"):
        return None
    return [tuple(int(n) for n in f.split(",") if n.strip()) for f in found]


def sizes_said(cell: Cell, tree: ast.Module, translator, env: dict
               ) -> dict[str, tuple[int, str]] | None:
    """stand-in dim's name -> (the size the notebook printed, where and how it printed it),
    for a cell that only shows shapes; None for any other cell (it is walked as usual)."""
    owners = shown_shapes(tree)
    if owners is None:
        return None
    text = "".join(o.text for o in cell.outputs if o.kind == "text")
    printed = printed_sizes(text, len(owners))
    if printed is None:
        return None
    try:
        held = [tuple(kind(translator.expression(o)).shape) for o in owners]
    except Unsupported:
        return None
    standing = {d.value: d for d in env.values() if isinstance(d, Dim) and d.stand_in}
    said: dict[str, tuple[int, str]] = {}
    for owner, got, want in zip(owners, held, printed):
        if len(got) != len(want):
            return None
        for size, printed_size in zip(got, want):
            if size != printed_size and size not in standing:
                return None   # not a size that stands in: the cell is read as any other
            if size != printed_size:
                said[standing[size].name] = (printed_size, (
                    f"{one(owner, 40)}.shape printed torch.Size({list(want)}) "
                    f"({cell.label}, line {tree.body[0].lineno})"))
    return said
