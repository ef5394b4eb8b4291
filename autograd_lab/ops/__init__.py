"""The operations of the expression language: one table that every method reads."""
from ._elements import array as object_array
from ._rules import MAX_RANK, ShapeError
from ._rules import broadcast as broadcast_shape
from ._rules import index as index_shape
from ._rules import stacked as stack_shape
from ._rules import t as t_shape
from ._sympy import Abs, sigmoid, sign
from ._table import (
                     ATTRIBUTES,
                     COMPARED,
                     CONSTANTS,
                     FLAGS,
                     FUNCTIONS,
                     KEYWORDS,
                     KINKS,
                     MODULES,
                     NUMPY,
                     OPERATORS,
                     REDUCTIONS,
                     Op,
)

__all__ = [
                     "ATTRIBUTES",
                     "COMPARED",
                     "CONSTANTS",
                     "FLAGS",
                     "FUNCTIONS",
                     "KEYWORDS",
                     "KINKS",
                     "MAX_RANK",
                     "MODULES",
                     "NUMPY",
                     "OPERATORS",
                     "REDUCTIONS",
                     "Abs",
                     "Op",
                     "ShapeError",
                     "broadcast_shape",
                     "index_shape",
                     "object_array",
                     "sigmoid",
                     "sign",
                     "stack_shape",
                     "t_shape",
]
