"""An expression tree evaluated on torch tensors, each operation as the table's torch form."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..case import (
    Attr,
    BinOp,
    Call,
    Const,
    Expr,
    Index,
    Name,
    Neg,
    Num,
    Put,
    Range,
    Slice,
    Stack,
    Visitor,
    static_args,
)
from ..errors import CaseError
from ..ops import CONSTANTS, FLAGS, FUNCTIONS, OPERATORS

Watch = Callable[[Expr, list], None]


class _Torch(Visitor[Any]):
    """Numbers stay Python floats until they meet a tensor, as in a notebook."""

    def __init__(self, env: dict, watch: Watch | None, batched: bool, dtype: torch.dtype):
        self.env, self.watch, self.batched, self.dtype = env, watch, batched, dtype
        # ids of the tensors this evaluation made and nothing else holds yet: an operation on
        # one may write its result there (no autograd, no watcher seeing the arguments)
        self.fresh: set[int] = set()

    def visit_Name(self, node: Name):
        return self.env[node.id]

    def visit_Num(self, node: Num) -> float:
        return float(node.value)

    def visit_Const(self, node: Const):
        return FLAGS[node.name] if node.name in FLAGS else CONSTANTS[node.name][0]

    def visit_Neg(self, node: Neg):
        value = self(node.operand)
        if self._free(value):
            return self._made(value.neg_())
        return -value

    def visit_BinOp(self, node: BinOp):
        args = [self(node.left), self(node.right)]
        if self.watch:
            self.watch(node, args)
        op = OPERATORS[node.op]
        if not any(isinstance(a, torch.Tensor) for a in args) and op.python is not None:
            return op.python(*args)
        if node.op in _IN_PLACE and not self.watch:
            done = _in_place(node.op, args[0], args[1], self._free)
            if done is not None:
                return self._made(done)
        return self._made(op.torch(*args))

    def _free(self, value) -> bool:
        """value is a tensor this evaluation made, which no name and no autograd graph holds:
        a temporary of the entry being evaluated (`1 - H**2`: H**2), free to be written."""
        return isinstance(value, torch.Tensor) and id(value) in self.fresh \
            and not value.requires_grad

    def _made(self, value):
        if isinstance(value, torch.Tensor):
            self.fresh.add(id(value))
        return value

    def visit_Call(self, node: Call):
        args = [self(a) for a in node.args]
        if self.watch:
            self.watch(node, args)
        like = next((a for a in args if isinstance(a, torch.Tensor)), None)
        if args and not isinstance(args[0], torch.Tensor):   # max(0, u): a tensor first
            dtype = like.dtype if like is not None and like.is_floating_point() else \
                torch.float64 if self.batched else self.dtype
            args[0] = torch.tensor(args[0], dtype=dtype)
        op = FUNCTIONS[node.func]
        if op.sympy is None and args:   # dot, a loss: torch takes tensors only, one dtype
            dtype = args[0].dtype if args[0].is_floating_point() else \
                like.dtype if like is not None and like.is_floating_point() else self.dtype
            args = [torch.tensor(a, dtype=dtype) if isinstance(a, float) else a for a in args]
        if op.reduces and self.batched:
            # values carry the batch of points in dim 0; a reduction acts on the rest
            u = args[0]
            return op.torch(u, dim=tuple(range(1, u.ndim)), keepdim=True) if u.ndim > 1 else u
        static = static_args(node, self.env, _internal)
        if op.classes is not None:
            i, n = op.classes(*args, **static)
            _in_range(node, node.args[i], args[i], 0, n, f"a class is from 0 to {n - 1}")
        result = op.torch(*args, **static)
        result = result.to(self.dtype) if op.floating else result
        return self._made(result) if node.func in _MAKING else result

    def visit_Attr(self, node: Attr):
        value = self(node.value)
        if node.name == "T":
            return value.t() if value.ndim <= 2 else value.mT
        return getattr(value, node.name)          # .values, .indices of max or min along a dim

    def visit_Index(self, node: Index):
        value = self(node.value)
        return value[self._entries(node, value)]

    def visit_Put(self, node: Put):
        """x[...] = v on a copy of x: the block's x is a value, not a reference."""
        base = self(node.target.value)
        entries = self._entries(node.target, base)
        value = self(node.value)
        new = base.clone()
        if node.op:
            value = OPERATORS[node.op].torch(new[entries], value)
        new[entries] = torch.as_tensor(value, dtype=new.dtype)
        return new

    def _entries(self, node: Index, value) -> tuple:
        entries = tuple(self._entry(e) for e in node.index)
        dim = 0
        for entry, tree in zip(entries, node.index):
            if entry is None:
                continue
            if isinstance(entry, torch.Tensor) and entry.dtype != torch.bool:
                size = value.shape[dim]                 # its values are known only now
                _in_range(node, tree, entry, -size, size, f"dimension {dim} of "
                          f"{node.value} has {size} elements, indices {-size} to {size - 1}")
            dim += 1
        return entries

    def _entry(self, node: Expr):
        if isinstance(node, Slice):
            return slice(*(None if b is None else int(self(b)) for b in (node.lo, node.hi)))
        if isinstance(node, Range):
            return torch.arange(int(self(node.stop)))
        if isinstance(node, Stack):     # x[[0, 2]]
            return torch.tensor([int(self(item)) for item in node.items])
        value = self(node)
        if value is None:               # x[:, None]: a new axis
            return None
        return value if isinstance(value, torch.Tensor) else int(value)

    def visit_Stack(self, node: Stack):
        items = [self(item) for item in node.items]
        like = next((i for i in items if isinstance(i, torch.Tensor)), None)
        dtype = like.dtype if like is not None else self.dtype
        return torch.stack([torch.as_tensor(i, dtype=dtype) for i in items])


# functions whose result is always a new tensor (never a view, nor an argument as it is)
_MAKING = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "log1p",
           "relu", "abs", "sign", "square", "ones_like", "zeros_like"}
_IN_PLACE = {"+", "-", "*", "/"}


def _in_place(op: str, a, b, free: Callable[[Any], bool]):
    """a op b written into a temporary operand, which then holds exactly what a op b gives
    (the same kernels: a - b is -b + a, c / t is torch's own t.reciprocal() * c): no new
    array the size of the result (8 MB of a 1000x1000 backward entry). None where neither
    operand is free, or the result's dtype or shape is not that operand's."""
    if free(a) and _fits(a, b):
        return {"+": a.add_, "-": a.sub_, "*": a.mul_, "/": a.div_}[op](b)
    if not (free(b) and _fits(b, a)):
        return None
    if op in "+*":                        # the same sum, the same product
        return b.add_(a) if op == "+" else b.mul_(a)
    if op == "-":
        return b.neg_().add_(a)
    if isinstance(a, torch.Tensor):
        return torch.div(a, b, out=b)
    return b.reciprocal_().mul_(a)        # torch's own c / t


def _fits(t: torch.Tensor, other) -> bool:
    """t can hold t op other: same dtype, same shape as the result."""
    if isinstance(other, torch.Tensor):
        return torch.result_type(t, other) == t.dtype and \
            torch.broadcast_shapes(t.shape, other.shape) == t.shape
    return isinstance(other, (int, float)) and not isinstance(other, bool) and \
        torch.result_type(t, other) == t.dtype


def _in_range(node: Expr, tree: Expr, value, lo: int, hi: int, why: str) -> None:
    """Integer values used as indices or classes must lie in [lo, hi): else a CaseError at
    node's column (the values of an index tensor are known only when it is evaluated)."""
    if not isinstance(value, torch.Tensor) or value.is_floating_point() or not value.numel():
        return
    outside = value[(value < lo) | (value >= hi)]
    if outside.numel():
        raise CaseError(f"{node}: {tree} holds {int(outside[0])}, out of range ({why})",
                        column=node.col + 1)


def _internal(message: str) -> Exception:
    # static arguments were checked when the case was read: this cannot fail on a case file
    return CaseError(f"a static argument could not be read: {message}")


def evaluate(tree: Expr, env: dict, watch: Watch | None = None, batched: bool = True,
             dtype: torch.dtype = torch.float64):
    """The value of tree, names looked up in env; watch(node, args) sees each operation's
    arguments first. batched: the values carry a batch of points in dim 0 (a scalar-lesson
    case); otherwise they are a notebook's own tensors (a tensor or behaviour case), in
    dtype where a number becomes a tensor."""
    return _Torch(env, watch, batched, dtype)(tree)
