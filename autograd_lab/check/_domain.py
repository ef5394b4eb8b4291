"""Where an operation leaves its domain (log of 0, a division by zero), from the table."""
from __future__ import annotations

import numpy as np
import torch

from ..case import BinOp, Call, Case, Expr, walk
from ..errors import CaseError
from ..ops import FUNCTIONS, OPERATORS
from ..reading import located
from ._words import at_point


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


def watch_domain(case: Case, found: list[str], point: int | None = None):
    """Note an operation outside its domain (log, sqrt, division, a power) and one whose
    derivative is infinite there (sqrt at 0), once per place in a formula, at the
    file:line:column of that place: no method has a gradient to agree on there.
    point: the one point a tensor case's pass is at (the scalar lessons' passes carry every
    point, in dim 0)."""
    seen: set[int] = set()
    owner = {id(t): name for name, node in case.nodes.items() for t in walk(node.expr)}

    def watch(tree, args):
        if id(tree) in seen:
            return
        for test, said in ((outside, _outside_text), (steep, _steep_text)):
            bad = test(tree, args)
            if bad is None or not bad.any():
                continue
            seen.add(id(tree))
            at = point if point is not None else \
                int(np.argwhere(bad.reshape(len(bad), -1).any(axis=1))[0][0])
            found.append(f"{_place(case, owner.get(id(tree)), tree)}"
                         f"{said(tree, at_point(case, (at,)))}")
            return
    return watch


def _outside_text(tree, where: str) -> str:
    return f"{describe(tree)} is outside its domain at {where}"


def _steep_text(tree, where: str) -> str:
    return (f"{describe_steep(tree)} has an infinite derivative at {where}, so no gradient "
            "through it can be checked there")


def _place(case: Case, node: str | None, tree) -> str:
    """'file:line:column: ' of a part of a node's formula, as an error in it would say."""
    if node is None or case.where is None:
        return ""
    path = ("forward", node)
    found = located(CaseError("", column=tree.col + 1), path, case.where, case.nodes[node].text)
    return f"{found.where}: "
