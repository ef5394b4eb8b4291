"""Where an operation leaves its domain (log of 0, a division by zero), from the table."""
from __future__ import annotations

import numpy as np
import torch

from ..case import BinOp, Call, Expr
from ..ops import FUNCTIONS, OPERATORS


def _op(node: Expr):
    if isinstance(node, BinOp):
        return OPERATORS[node.op]
    if isinstance(node, Call):
        return FUNCTIONS[node.func]
    return None


def outside(node: Expr, args: list) -> np.ndarray | None:
    """Where the operation at node has no real value for these arguments (an array of
    booleans), or None when it has no domain to leave or the argument is a constant
    (constants were checked when the case was read)."""
    op = _op(node)
    if op is None or op.outside is None:
        return None
    index, test = op.outside
    if not isinstance(args[index], torch.Tensor):
        return None
    return np.atleast_1d(test(args[index]).numpy())


def describe(node: Expr) -> str:
    """The operation, as written, with what its domain excludes: `log(u) (argument ≤ 0)`."""
    op = _op(node)
    assert op is not None
    return op.domain.format(call=node)


def domain_watch(found: list[str]):
    """A forward-pass watch that notes each operation outside its domain, once."""
    def watch(node, args):
        bad = outside(node, args)
        said = bad is not None and bad.any() and f"{describe(node)} is outside its domain"
        if said and said not in found:
            found.append(said)
    return watch
