"""The case: the expression tree (parsed, walked, shaped) and the data model of a case."""
from ._model import (Behaviour, Case, Claim, Edge, Entry, Expectation, Input, Locator, Node,
                     Sample, Step, flat, with_points)
from ._parse import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_LITERAL, constant_value, parse
from ._shapes import Shape, shape_of
from ._tree import BinOp, Call, Const, Expr, Name, Neg, Num
from ._visit import Rebuild, Visitor, swap, walk

__all__ = ["Behaviour", "BinOp", "Call", "Case", "Claim", "Const", "Edge", "Entry",
           "Expectation", "Expr", "Input", "Locator", "MAX_DEPTH", "MAX_EXPONENT", "MAX_LENGTH",
           "MAX_LITERAL", "Name", "Neg", "Node", "Num", "Rebuild", "Sample", "Shape", "Step",
           "Visitor", "constant_value", "flat", "parse", "shape_of", "swap", "walk", "with_points"]
