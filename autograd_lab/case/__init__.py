"""The case: the expression tree (parsed, walked, shaped) and the data model of a case."""
from ._model import (
                     Adjoint,
                     Behaviour,
                     Case,
                     Claim,
                     Edge,
                     Entry,
                     Expectation,
                     Input,
                     Locator,
                     Node,
                     Sample,
                     Step,
                     flat,
                     with_points,
)
from ._parse import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_LITERAL, constant_value, parse
from ._shapes import (
                     SCALAR,
                     Kind,
                     Shape,
                     bind,
                     kind_and_parts,
                     kind_of,
                     shape_of,
                     static_args,
                     static_value,
)
from ._statements import MAX_STATEMENTS, Assignment, Block, Reader
from ._tree import Attr, BinOp, Call, Const, Expr, Index, Name, Neg, Num, Put, Range, Slice, Stack
from ._visit import Rebuild, Visitor, declared, swap, walk

__all__ = [
    "MAX_DEPTH", "MAX_EXPONENT", "MAX_LENGTH", "MAX_LITERAL", "MAX_STATEMENTS", "SCALAR",
    "Adjoint", "Assignment", "Attr", "Block", "Reader",
    "Behaviour", "BinOp", "Call", "Case", "Claim", "Const", "Edge", "Entry", "Expectation",
    "Expr", "Index", "Input", "Kind", "Locator", "Name", "Neg", "Node", "Num", "Put", "Range",
    "Rebuild", "Sample", "Shape", "Slice", "Stack", "Step", "Visitor", "bind",
    "constant_value", "declared", "flat", "kind_and_parts", "kind_of", "parse", "shape_of",
    "static_args", "static_value", "swap", "walk", "with_points",
]
