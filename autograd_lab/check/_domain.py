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


def watch_domain(case: Case, found: list[str], point: int | None = None):
    """Note log, sqrt and division outside their domain, once per place in a formula,
    at the file:line:column of that place. point: the one point a tensor case's pass is at
    (the scalar lessons' passes carry every point, in dim 0)."""
    seen: set[int] = set()
    owner = {id(t): name for name, node in case.nodes.items() for t in walk(node.expr)}

    def watch(tree, args):
        bad = outside(tree, args)
        if bad is None or id(tree) in seen or not bad.any():
            return
        seen.add(id(tree))
        if point is None:
            at = int(np.argwhere(bad.reshape(len(bad), -1).any(axis=1))[0][0])
        else:
            at = point
        found.append(f"{_place(case, owner.get(id(tree)), tree)}{describe(tree)} is outside "
                     f"its domain at {at_point(case, (at,))}")
    return watch


def _place(case: Case, node: str | None, tree) -> str:
    """'file:line:column: ' of a part of a node's formula, as an error in it would say."""
    if node is None or case.where is None:
        return ""
    path = ("forward", node)
    found = located(CaseError("", column=tree.col + 1), path, case.where, case.nodes[node].text)
    return f"{found.where}: "
