"""float32 against the exact value: how far off, in ulps, and which operation lost the digits."""
from __future__ import annotations

import copy
import dataclasses
from functools import cached_property

import numpy as np
import torch

from .. import case as E
from ..case import Case, with_points
from ..methods import Symbolic, evaluate, forward, leaves

LARGE_ULPS = 100          # beyond this a float32 error gets its cause explained


def ulps(error, exact) -> np.ndarray:
    """An error in units of float32's last place at the exact value."""
    exact = np.abs(np.asarray(exact, dtype=np.float64)).astype(np.float32)
    unit = np.spacing(np.maximum(exact, np.finfo(np.float32).tiny)).astype(np.float64)
    return np.asarray(error, dtype=np.float64) / unit


class Rounding:
    """A float32 case's errors against SymPy, with float64's beside them."""

    def __init__(self, case: Case, symbolic: Symbolic, methods: dict, values32: dict,
                 listed: int):
        values32 = {n: v.detach().to(torch.float64) if isinstance(v, torch.Tensor) else v
                    for n, v in values32.items()}
        if case.count > listed:  # only the listed points are reported: look at those alone
            case = with_points(case, {n: v[:listed] for n, v in case.points.items()})
            symbolic = Symbolic(case)
            methods = {m: {p: g[:listed] for p, g in gs.items()} for m, gs in methods.items()}
            values32 = {n: v[:listed] if isinstance(v, torch.Tensor) else v
                        for n, v in values32.items()}
        self.case, self.symbolic, self.methods, self.values32 = case, symbolic, methods, values32

    def gradient(self, param: str, point: int) -> dict:
        """float32_error and float64_error (the largest over elements), and float32_ulps."""
        exact = self.methods["sympy"][param][point]
        err32 = _worst(self.methods["autograd"][param][point] - exact)
        err64 = _worst(self.methods["autograd_float64"][param][point] - exact)
        ulps32 = _worst_ulps(self.methods["autograd"][param][point] - exact, exact)
        out: dict[str, object] = {"float32_error": err32, "float64_error": err64,
                                  "float32_ulps": ulps32}
        if not ulps32 <= LARGE_ULPS:  # large, or not finite
            out["float32_cause"] = self.cause(point)
        return out

    def output(self, point: int) -> dict:
        """The output's value in float32 and float64 against the exact one."""
        name = self.case.output
        exact = float(self.symbolic.value_of(name)[point].reshape(-1)[0])
        v32 = float(np.asarray(self.values32[name][point]).reshape(-1)[0])
        v64 = float(np.asarray(self.values64[name][point]).reshape(-1)[0])
        ulps32 = float(ulps(abs(v32 - exact), exact))
        out: dict[str, object] = {"node": name, "exact": exact, "float32": v32, "float64": v64,
                                  "float32_error": abs(v32 - exact),
                                  "float64_error": abs(v64 - exact), "float32_ulps": ulps32}
        if not ulps32 <= LARGE_ULPS:
            out["float32_cause"] = self.cause(point)
        return out

    @cached_property
    def values64(self) -> dict:
        with torch.no_grad():
            return forward(self.case, leaves(self.case))

    def cause(self, point: int) -> str:
        """Where the output's float32 error comes from, and which operation magnifies it.

        Each operation's float32 value is put in place of its exact one in a float64 forward
        pass: of those that alone move the output by at least half the most, the one with the
        largest relative error magnifies, and the innermost is where the rounding starts."""
        ops = self._operations
        if not ops:
            return ("float32 holds the inputs themselves only to 7 digits; no operation "
                    "magnifies that. This is float32 rounding, not a wrong derivative")
        top = max(op.effect[point] for op in ops)
        big = [op for op in ops if op.effect[point] >= 0.5 * top]
        most = max(op.relative[point] for op in big)
        worst = _innermost([op for op in big if op.relative[point] >= 0.5 * most])
        start = _innermost(big)
        return _explain(worst, start, point, self.case.output)

    @cached_property
    def _operations(self) -> list:
        ops = []
        for name, node in self.case.nodes.items():
            for tree in E.walk(node.expr):
                if isinstance(tree, (E.BinOp, E.Call)) and tree.names():
                    ops.append(self._operation(name, tree))
        return ops

    def _operation(self, name: str, tree) -> Operation:
        env32 = {n: v.to(torch.float32) if isinstance(v, torch.Tensor) else v
                 for n, v in self.values32.items()}
        with torch.no_grad():
            got = evaluate(tree, env32)
            args = [_rows(evaluate(a, env32), self.case.count) for a in tree.children()]
            moved = copy.copy(self.case)
            moved.nodes = dict(self.case.nodes)
            swapped = E.swap(moved.nodes[name].expr, tree, E.Name(PLACEHOLDER))
            moved.nodes[name] = dataclasses.replace(moved.nodes[name], expr=swapped)
            env = dict(leaves(self.case), **{PLACEHOLDER: torch.as_tensor(got).to(torch.float64)})
            out = forward(moved, env)[self.case.output]
        with np.errstate(all="ignore"):  # inf - inf: a nan output, taken as infinite below
            effect = np.abs(_rows(out, self.case.count)
                            - _rows(self.values64[self.case.output], self.case.count)).max(axis=1)
        effect = np.nan_to_num(effect, nan=np.inf)  # a float32 value that makes the output nan
        exact = _rows(self.symbolic.hand(tree), self.case.count)
        with np.errstate(all="ignore"):
            rel = np.nan_to_num(np.abs(_rows(got, self.case.count) - exact) / np.abs(exact),
                                nan=0.0, posinf=0.0).max(axis=1)
        return Operation(tree, effect, rel, args)


PLACEHOLDER = "_float32_value"   # case names cannot begin with _, so this clashes with none


@dataclasses.dataclass
class Operation:
    tree: E.Expr
    effect: np.ndarray      # (P,) how far its float32 rounding alone moves the output
    relative: np.ndarray    # (P,) its float32 value's relative error
    args: list              # its operands in float32, (P, elements) each


def _innermost(ops: list) -> Operation:
    """The first operation that contains none of the others (an outer one inherits)."""
    return next(op for op in ops if not any(o is not op and _inside(o.tree, op.tree)
                                            for o in ops))


def _inside(tree, outer) -> bool:
    return any(t is tree for t in E.walk(outer))


def _rows(v, count: int) -> np.ndarray:
    v = v.to(torch.float64).numpy() if isinstance(v, torch.Tensor) else np.asarray(v, float)
    return np.broadcast_to(v, (count,) + np.shape(v)[1:] if np.ndim(v) else (count,)).reshape(
        count, -1)


def _explain(op: Operation, start: Operation, point: int, output: str) -> str:
    rel = float(op.relative[point])
    text = (f"float32's {op.tree} is off by {rel:.2g} relative (about {_units(rel):.0f} float32 "
            f"ulps) and moves {output} by {op.effect[point]:.2g}")
    if isinstance(op.tree, E.BinOp) and op.tree.op == "-":
        a, b = (float(x[point].reshape(-1)[0]) for x in op.args)
        if a == b and a:
            text += (f": it subtracts two numbers that float32 holds as the same {a:.9g}, so "
                     "none of their difference survives")
        elif a - b and max(abs(a), abs(b)) / abs(a - b) > 10:
            digits = np.log10(max(abs(a), abs(b)) / abs(a - b))
            text += (f": it subtracts nearly equal numbers ({a:.9g} and {b:.9g}), losing about "
                     f"{digits:.1f} of float32's 7 significant digits")
    if start is not op:
        text += (f"; the rounding it magnifies starts in {start.tree} "
                 f"({_units(float(start.relative[point])):.2g} ulps off)")
    return text + ". This is float32 rounding, not a wrong derivative"


def _units(rel: float) -> float:
    return rel / float(np.finfo(np.float32).eps)


def _worst(v) -> float:
    return float(np.max(np.abs(v)))


def _worst_ulps(error, exact) -> float:
    return float(np.max(ulps(np.abs(error), exact)))
