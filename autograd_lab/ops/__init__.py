"""The operations of the expression language: one table that every method reads."""
from ._sympy import Abs, sigmoid, sign
from ._table import CONSTANTS, FUNCTIONS, KINKS, OPERATORS, REDUCTIONS, Op

__all__ = [
           "CONSTANTS",
           "FUNCTIONS",
           "KINKS",
           "OPERATORS",
           "REDUCTIONS",
           "Abs",
           "Op",
           "sigmoid",
           "sign",
]
