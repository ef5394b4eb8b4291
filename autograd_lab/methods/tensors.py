"""Evaluate an expression tree on torch tensors: one visitor, one table of torch functions."""
from __future__ import annotations

import math
from typing import Callable

import torch

from .. import expr as E


def _reduce(reduce: Callable) -> Callable:
    # values carry the batch of points in dim 0; a reduction acts on the rest
    def apply(u):
        return reduce(u, dim=tuple(range(1, u.ndim)), keepdim=True) if u.ndim > 1 else u
    return apply


def _step(u):
    # 1 for u > 0, else 0; sign(relu(u)) keeps a grad_fn, so autograd sees slope 0
    return torch.sign(torch.relu(u))


FUNCTIONS: dict[str, Callable] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "abs": torch.abs, "sign": torch.sign, "step": _step,
    "sum": _reduce(torch.sum), "mean": _reduce(torch.mean),
    "clamp": lambda u, lo, hi: _clamp(u, lo, hi),
}

OPERATORS: dict[str, Callable] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a ** b,
}


def _clamp(u, lo, hi):
    if not isinstance(u, torch.Tensor):  # clamp(1, lo, x): a constant between tensor bounds
        like = lo if isinstance(lo, torch.Tensor) else hi
        u = torch.full_like(like, u, requires_grad=False)
    return torch.clamp(u, _like(lo, u), _like(hi, u))


def _like(bound, u):
    return bound if isinstance(bound, torch.Tensor) else torch.tensor(bound, dtype=u.dtype)


def evaluate(tree: E.Expr, env: dict, watch: Callable | None = None,
             functions: dict[str, Callable] | None = None):
    """The value of tree, names looked up in env; watch(call, args) sees each call first.

    functions replaces the table (behaviour cases run unbatched tensors, as a notebook does)."""
    kind = type(tree)
    if kind is E.Name:
        return env[tree.id]
    if kind is E.Num:
        return float(tree.value)
    if kind is E.Const:
        return E.CONSTANTS[tree.name]
    if kind is E.Neg:
        return -evaluate(tree.operand, env, watch, functions)
    if kind is E.BinOp:
        a, b = (evaluate(tree.left, env, watch, functions),
                evaluate(tree.right, env, watch, functions))
        if watch:
            watch(tree, (a, b))
        if isinstance(a, float) and isinstance(b, float):
            return _scalar(tree.op, a, b)
        return OPERATORS[tree.op](a, b)
    args = [evaluate(a, env, watch, functions) for a in tree.args]
    if watch:
        watch(tree, args)
    if not any(isinstance(a, torch.Tensor) for a in args):
        args[0] = torch.tensor(args[0], dtype=torch.float64)
    return (functions or FUNCTIONS)[tree.func](*args)


def _scalar(op: str, a: float, b: float) -> float:
    """Constant arithmetic as IEEE does it: 1/0 is inf, (-8)**(1/3) is nan."""
    try:
        result = OPERATORS[op](a, b)
    except ZeroDivisionError:
        return math.copysign(math.inf, a) if a else math.nan
    except OverflowError:
        return math.inf
    return math.nan if isinstance(result, complex) else float(result)
