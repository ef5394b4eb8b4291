"""An expression tree evaluated on torch tensors, each operation as the table's torch form."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..case import BinOp, Call, Const, Expr, Name, Neg, Num, Visitor
from ..ops import CONSTANTS, FUNCTIONS, OPERATORS

Watch = Callable[[Expr, list], None]


class _Torch(Visitor[Any]):
    """Numbers stay Python floats until they meet a tensor, as in a notebook."""

    def __init__(self, env: dict, watch: Watch | None, batched: bool):
        self.env, self.watch, self.batched = env, watch, batched

    def visit_Name(self, node: Name):
        return self.env[node.id]

    def visit_Num(self, node: Num) -> float:
        return float(node.value)

    def visit_Const(self, node: Const) -> float:
        return CONSTANTS[node.name][0]

    def visit_Neg(self, node: Neg):
        return -self(node.operand)

    def visit_BinOp(self, node: BinOp):
        args = [self(node.left), self(node.right)]
        if self.watch:
            self.watch(node, args)
        op = OPERATORS[node.op]
        if isinstance(args[0], float) and isinstance(args[1], float):
            assert op.python is not None
            return op.python(*args)
        return op.torch(*args)

    def visit_Call(self, node: Call):
        args = [self(a) for a in node.args]
        if self.watch:
            self.watch(node, args)
        if not any(isinstance(a, torch.Tensor) for a in args):
            args[0] = torch.tensor(args[0], dtype=torch.float64)
        op = FUNCTIONS[node.func]
        if op.reduces and self.batched:
            # values carry the batch of points in dim 0; a reduction acts on the rest
            u = args[0]
            return op.torch(u, dim=tuple(range(1, u.ndim)), keepdim=True) if u.ndim > 1 else u
        return op.torch(*args)


def evaluate(tree: Expr, env: dict, watch: Watch | None = None, batched: bool = True):
    """The value of tree, names looked up in env; watch(node, args) sees each operation's
    arguments first. batched: the values carry a batch of points in dim 0 (a gradient case);
    otherwise they are a notebook's own tensors (a behaviour case)."""
    return _Torch(env, watch, batched)(tree)
