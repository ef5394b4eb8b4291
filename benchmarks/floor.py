"""The floor for many cases: a bare loop that only differentiates, evaluates and backpropagates.

Written the fast way, as the issue asks: the inputs stay SymPy symbols and their values are
substituted only to evaluate (xreplace, then float)."""
from __future__ import annotations

import sympy as sp
import torch

from autograd_lab.ops import sigmoid

PARAMS = ("x", "w")

TORCH = {sp.sin: torch.sin, sp.cos: torch.cos, sp.tan: torch.tan, sp.exp: torch.exp,
         sp.log: torch.log, sp.tanh: torch.tanh, sigmoid: torch.sigmoid, sp.Abs: torch.abs,
         sp.sign: torch.sign}


def bare(cases) -> list[dict]:
    """SymPy's and torch's gradient of each generated case at its point."""
    return [_one(case) for case in cases]


def _one(case) -> dict:
    point = {case.symbols[n]: sp.Float(v) for n, v in case.values.items()}
    sympy = {p: float(sp.diff(case.output, case.symbols[p]).xreplace(point)) for p in PARAMS}
    leaves = {case.symbols[n]: torch.tensor(v, dtype=torch.float64, requires_grad=n in PARAMS)
              for n, v in case.values.items()}
    torch_value(case.output, leaves).backward()
    return {"sympy": sympy, "torch": {p: float(leaves[case.symbols[p]].grad) for p in PARAMS}}


def torch_value(expr: sp.Expr, leaves: dict) -> torch.Tensor:
    """A SymPy expression computed with torch operations on the leaves."""
    if expr.is_Symbol:
        return leaves[expr]
    if expr.is_Number:
        return torch.tensor(float(expr), dtype=torch.float64)
    args = [torch_value(a, leaves) for a in expr.args]
    if expr.is_Add:
        return sum(args[1:], args[0])
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if expr.is_Pow:
        return args[0] ** args[1]
    if isinstance(expr, sp.Max):
        return torch.maximum(*args)
    return TORCH[expr.func](*args)
