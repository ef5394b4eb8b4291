"""The operations of the expression language: one table that every method reads."""
from ._elements import array as object_array
from ._rules import ShapeError
from ._rules import index as index_shape
from ._rules import stacked as stack_shape
from ._rules import t as t_shape
from ._sympy import Abs, sigmoid, sign
from ._table import (
                     ATTRIBUTES,
                     CONSTANTS,
                     FLAGS,
                     FUNCTIONS,
                     KEYWORDS,
                     KINKS,
                     MODULES,
                     OPERATORS,
                     REDUCTIONS,
                     Op,
)

__all__ = [
                     "ATTRIBUTES",
                     "CONSTANTS",
                     "FLAGS",
                     "FUNCTIONS",
                     "KEYWORDS",
                     "KINKS",
                     "MODULES",
                     "OPERATORS",
                     "REDUCTIONS",
                     "Abs",
                     "Op",
                     "ShapeError",
                     "index_shape",
                     "object_array",
                     "sigmoid",
                     "sign",
                     "stack_shape",
                     "t_shape",
]
