"""The shape of an expression's value, from the shapes of the names it uses."""
from __future__ import annotations

from collections.abc import Callable

from ..ops import FUNCTIONS
from ._tree import BinOp, Call, Const, Expr, Name, Neg, Num
from ._visit import Visitor

Shape = tuple[int, ...]


class _Shapes(Visitor[Shape]):
    def __init__(self, shapes: dict[str, Shape], fail: Callable[[str], Exception]):
        self.shapes, self.fail = shapes, fail

    def visit_Num(self, node: Num | Const) -> Shape:
        return ()

    visit_Const = visit_Num

    def visit_Name(self, node: Name) -> Shape:
        return self.shapes[node.id]

    def visit_Neg(self, node: Neg) -> Shape:
        return self(node.operand)

    def visit_BinOp(self, node: BinOp) -> Shape:
        return self._one((node.left, node.right))

    def visit_Call(self, node: Call) -> Shape:
        found = self._one(node.args)
        return () if FUNCTIONS[node.func].reduces else found

    def _one(self, children) -> Shape:
        """A scalar broadcasts against a vector; vectors of different shapes do not meet."""
        found = {self(child) for child in children} - {()}
        if len(found) > 1:
            raise self.fail("mismatched shapes " + " and ".join(map(str, sorted(found))))
        return found.pop() if found else ()


def shape_of(tree: Expr, shapes: dict[str, Shape], fail: Callable[[str], Exception]) -> Shape:
    """The shape of tree's value: () for a scalar, else the one shape of its vectors;
    fail(message) is raised where vectors of different shapes meet."""
    return _Shapes(shapes, fail)(tree)
