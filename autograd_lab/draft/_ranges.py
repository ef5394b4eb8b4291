"""Inputs a notebook makes with torch.arange and torch.linspace: `xs = torch.linspace(-2, 2,
5)`, `idx = torch.arange(n)`. Their values are the notebook's own, computed here by torch as
the notebook's run computed them (float32 unless it says otherwise), and written out as a
list. Over a size that stands in they would not be the notebook's: left out, said why."""
from __future__ import annotations

import ast

import torch

from ._held import Unsupported, one
from ._translate import DTYPES, Made, flag

RANGES = ("torch.arange", "torch.linspace")
MAX_LISTED = 10_000     # written out as a list: as many as a tensor literal holds
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def ranged(call: ast.Call, translator, number) -> Made | None:
    """The input torch.arange(...) or torch.linspace(...) makes, or None for another call;
    number reads one argument as (text, value, dims) (Draws.number)."""
    spelled = translator.dotted(call.func)
    if spelled not in RANGES:
        return None
    grad, dtype = False, None
    for keyword in call.keywords:
        if keyword.arg == "requires_grad":
            grad = flag(keyword.value)
        elif keyword.arg == "dtype" and DTYPES.get(translator.dotted(keyword.value) or ""):
            dtype = DTYPES[translator.dotted(keyword.value) or ""]
        else:
            raise Unsupported(f"the keyword {keyword.arg}= of {spelled}()", call)
    read = [number(a) for a in call.args]
    standing = next((d.standing_in for _, _, dims in read for d in dims.values()
                     if d.standing_in), "")
    if standing:
        raise Unsupported(f"{one(call)}: its values would not be the notebook's ({standing})",
                          call)
    values = [v for _, v, _ in read]
    if spelled == "torch.linspace":
        if len(values) != 3 or not float(values[2]).is_integer() or values[2] < 1:
            raise Unsupported(f"{one(call)}: torch.linspace(start, end, steps)", call)
        dtype = dtype or "float32"
        count = int(values[2])
        _bounded(count, call)
        made = torch.linspace(values[0], values[1], count, dtype=TORCH_DTYPES[dtype])
    else:
        if not 1 <= len(values) <= 3:
            raise Unsupported(f"{one(call)}: torch.arange(end), (start, end) or (start, end, "
                              "step)", call)
        whole = dtype is None and all(_whole(a) for a in call.args)
        dtype = "int64" if whole else (dtype or "float32")
        args = [int(v) for v in values] if whole else values
        step = args[2] if len(args) == 3 else 1
        start, end = (0, args[0]) if len(args) == 1 else (args[0], args[1])
        if step == 0:
            raise Unsupported(f"{one(call)}: a step of 0", call)
        _bounded(int((end - start) / step), call)
        made = torch.arange(*args, dtype=torch.int64 if whole else TORCH_DTYPES[dtype])
    if grad and dtype == "int64":
        raise Unsupported("an integer tensor cannot require grad", call)
    if made.numel() == 0:
        raise Unsupported(f"{one(call)}: no values", call)
    return Made(made.tolist(), dtype, grad, tuple(made.shape))


def _bounded(count: int, call: ast.Call) -> None:
    if count > MAX_LISTED:
        raise Unsupported(f"{one(call)}: at most {MAX_LISTED:,} values are written in a case",
                          call)


def _whole(node: ast.expr) -> bool:
    """Whether an argument is written as a whole number (torch.arange's are then int64): no
    float literal in it and no true division."""
    return not any((isinstance(n, ast.Constant) and isinstance(n.value, float))
                   or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div))
                   for n in ast.walk(node))
