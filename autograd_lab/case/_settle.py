"""A block's names settled in an expression's syntax tree before the one allow-list converter
reads it: a loop's counters and the sizes a statement takes (`x.shape[0]`, `len(x)`,
`x.size`) as numbers, each name as the key of its current version, `x.grad` as a name."""
from __future__ import annotations

import ast
import math
from typing import Protocol

from ..errors import CaseError


class Settling(Protocol):
    """What settling asks of the block's reader (_block.Reader)."""

    loops: dict[str, int]
    versions: dict[str, int]
    grad_attribute: bool
    lines: list[str]

    def error(self, node, message: str) -> CaseError: ...

    def shape(self, name_node, attribute: str) -> tuple[int, ...]: ...

    def _key(self, name: str, version: int) -> str: ...


class Settle(ast.NodeTransformer):
    """The block's names in an expression's syntax tree: loop counters as numbers, sizes as
    numbers, each name as its current version's key, x.grad as the name `x.grad`."""

    def __init__(self, reader: Settling):
        self.reader = reader

    def _number(self, value: int, like) -> ast.expr:
        return ast.copy_location(ast.Constant(value), like)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        r = self.reader
        if node.id in r.loops:
            return self._number(r.loops[node.id], node)
        if node.id in r.versions:
            return ast.copy_location(ast.Name(r._key(node.id, r.versions[node.id]), node.ctx),
                                     node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        r = self.reader
        if node.attr == "grad" and r.grad_attribute and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.grad"
            if name not in r.versions:
                raise r.error(node, f"{name} is used before it is assigned")
            return ast.copy_location(ast.Name(r._key(name, r.versions[name]), ast.Load()), node)
        if node.attr in ("size", "ndim") and isinstance(node.value, ast.Name) and (
                node.value.id not in ("np", "numpy", "torch")):
            shape = r.shape(node.value, node.attr)
            return self._number(math.prod(shape) if node.attr == "size" else len(shape), node)
        if node.attr == "shape" and isinstance(node.value, ast.Name):
            shape = r.shape(node.value, "shape")
            return ast.copy_location(ast.Tuple([self._number(n, node) for n in shape],
                                               ast.Load()), node)
        return self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        # x.shape[k]: one size
        value = node.value
        if (isinstance(value, ast.Attribute) and value.attr == "shape"
                and isinstance(value.value, ast.Name)):
            shape = self.reader.shape(value.value, "shape")
            k = node.slice
            settled = self.visit(k)
            if isinstance(settled, ast.Constant) and isinstance(settled.value, int) and \
                    -len(shape) <= settled.value < len(shape):
                return self._number(shape[settled.value], node)
            raise self.reader.error(node, f"{source(self.reader.lines, node)}: take one size "
                                    f"of the {len(shape)} in {shape} by a number")
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        r = self.reader
        if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1 \
                and not node.keywords and isinstance(node.args[0], ast.Name):
            shape = r.shape(node.args[0], "shape")
            if not shape:
                raise r.error(node, f"len() of {node.args[0].id}, a scalar")
            return self._number(shape[0], node)
        if (isinstance(func, ast.Attribute) and func.attr in ("size", "numel", "dim")
                and isinstance(func.value, ast.Name)
                and func.value.id not in ("np", "numpy", "torch")):
            shape = r.shape(func.value, func.attr)
            if func.attr == "numel":
                return self._number(math.prod(shape), node)
            if func.attr == "dim":
                return self._number(len(shape), node)
            if not node.args:
                return ast.copy_location(ast.Tuple([self._number(n, node) for n in shape],
                                                   ast.Load()), node)
            k = self.visit(node.args[0])
            if isinstance(k, ast.Constant) and isinstance(k.value, int) and \
                    -len(shape) <= k.value < len(shape):
                return self._number(shape[k.value], node)
            raise r.error(node, f"{source(r.lines, node)}: take one size by a number")
        if (isinstance(func, ast.Attribute) and func.attr in ("view", "reshape")
                and len(node.args) == 1):
            called = self.generic_visit(node)      # x.view(emb.shape): the sizes one by one
            assert isinstance(called, ast.Call)
            if isinstance(called.args[0], ast.Tuple):
                called.args = list(called.args[0].elts)
            return called
        return self.generic_visit(node)


def source(lines: list[str], node) -> str:
    """The text of node as written (its first line, for a statement over several)."""
    line = lines[min(node.lineno, len(lines)) - 1]
    end = getattr(node, "end_col_offset", None)
    if getattr(node, "end_lineno", node.lineno) != node.lineno:
        end = None
    if line.isascii():
        return line[node.col_offset:end].strip()
    raw = line.encode("utf-8")
    return raw[node.col_offset:end].decode("utf-8", "replace").strip()


__all__ = ["Settle", "source"]
