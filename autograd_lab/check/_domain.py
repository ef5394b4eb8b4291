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
    booleans), or None when it has no domain to leave or its arguments are constants
    (constants were checked when the case was read)."""
    op = _op(node)
    if op is None or op.outside is None:
        return None
    return _where(op.outside, args)


def steep(node: Expr, args: list) -> np.ndarray | None:
    """Where the operation at node has a value but an infinite derivative (sqrt at 0), for
    arguments that carry a gradient (a constant's slope is never asked for); else None."""
    op = _op(node)
    if op is None or op.steep is None:
        return None
    if not any(isinstance(a, torch.Tensor) and a.requires_grad for a in args):
        return None
    return _where(op.steep, args)


def _where(test, args: list) -> np.ndarray | None:
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors:
        return None
    with torch.no_grad():
        found = torch.as_tensor(test(args))
        shape = torch.broadcast_shapes(*(t.shape for t in tensors), found.shape)
        return np.atleast_1d(found.expand(shape).numpy())


def describe(node: Expr) -> str:
    """The operation, as written, with what its domain excludes: `log(u) (argument ≤ 0)`."""
    op = _op(node)
    assert op is not None
    return op.domain.format(call=node)


def describe_steep(node: Expr) -> str:
    """The operation, as written, with where its slope is infinite: `sqrt(u) (argument 0)`."""
    op = _op(node)
    assert op is not None
    return op.steep_text.format(call=node)


def domain_watch(found: list[str]):
    """A forward-pass watch that notes each operation outside its domain, once."""
    def watch(node, args):
        bad = outside(node, args)
        said = bad is not None and bad.any() and f"{describe(node)} is outside its domain"
        if said and said not in found:
            found.append(said)
    return watch
