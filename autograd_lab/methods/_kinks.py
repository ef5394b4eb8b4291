"""Kinks: where relu, abs, sign, step or clamp sits on its switch point, no derivative may exist."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..case import Call, Case, walk, with_points
from ..ops import FUNCTIONS, KINKS
from ._autograd import gradients

DELTA = 1e-8                      # how far to either side, relative to the parameter


def offsets(call: Call, args) -> list:
    """How far the argument is from each switch point of the call (0: on it)."""
    switches = FUNCTIONS[call.func].switches
    assert switches is not None
    return switches(args)


class Recorder:
    """A forward-pass watch that keeps each kink call's offsets, pass after pass."""

    def __init__(self):
        self.calls: dict[int, tuple[Call, list]] = {}

    def __call__(self, tree, args) -> None:
        if isinstance(tree, Call) and tree.func in KINKS:
            found = [_rows(o) for o in offsets(tree, args)]
            self.calls.setdefault(id(tree), (tree, []))[1].append(found)

    def on_switch(self, count: int) -> dict[int, np.ndarray]:
        """Per kink call: (P, elements) where some pass put the argument on a switch point."""
        out = {}
        for key, (_, passes) in self.calls.items():
            hits = [o == 0 for found in passes for o in found if o is not None]
            if hits:
                out[key] = np.logical_or.reduce([np.broadcast_to(h, hits[0].shape) for h in hits])
        return out

    def crossed(self, count: int) -> list[str]:
        """Per point, a kink whose switch lies between the first two passes ('' where none)."""
        out = [""] * count
        for call, passes in self.calls.values():
            for a, b in zip(*passes[:2]):
                if a is None or b is None:
                    continue
                across = (np.sign(a) != np.sign(b)) | (a == 0) | (b == 0)
                for point in np.flatnonzero(across.any(axis=1)):
                    out[point] = out[point] or str(call)
        return out


def _rows(offset) -> np.ndarray | None:
    if not isinstance(offset, torch.Tensor) or offset.ndim == 0:
        return None  # a constant: no parameter moves it
    # a copy: gradcheck's difference moves the parameter's tensor in place between passes
    return offset.detach().to(torch.float64).reshape(len(offset), -1).numpy().copy()


@dataclass
class Kink:
    """One point where a parameter's derivative may not exist, and what surrounds it."""

    param: str
    point: int
    calls: list             # the kinks whose switch point this is, as written
    differentiable: bool
    left: Any = None        # the derivative just left of the point (a float or a list)
    right: Any = None
    jump: float = 0.0
    elements: list = field(default_factory=list)
    only: str = ""          # " in float32" where only float32's rounding puts it on the switch

    def entry(self, torch_value) -> dict:
        """The keys added to the report's gradient entry at this point."""
        sides = {"left": self.left, "right": self.right}
        out = {"differentiable": self.differentiable, "kink": self.why(),
               # across a jump the difference quotients diverge: no one-sided derivative
               "one_sided": {"left": None, "right": None} if self.jump else sides,
               "torch_convention": {"value": torch_value, "rule": self.rule()}}
        if self.elements:
            out["kink_elements"] = self.elements
        if self.jump:
            out["jump"] = self.jump
            out["derivative_just_beside"] = sides
        return out

    def rule(self) -> str:
        return "; ".join(dict.fromkeys(FUNCTIONS[c.split("(")[0]].convention for c in self.calls))

    def why(self) -> str:
        where = f" at element {self.elements[0]}" if self.elements else ""
        if len(self.calls) == 1:
            switch = "a bound" if self.calls[0].startswith("clamp") else "0"
            text = f"{self.calls[0]} sits on its switch point{self.only} (argument = {switch})"
        else:
            text = (f"{', '.join(self.calls[:-1])} and {self.calls[-1]} sit on their switch "
                    f"points{self.only}")
        text += where
        if self.jump:
            return (f"{text} and jumps there by {self.jump:.6g}: the output is not continuous in "
                    f"{self.param}, so no derivative exists")
        if not np.all(np.isfinite(self.left)) or not np.all(np.isfinite(self.right)):
            return f"{text}, and the derivative beside it is not finite: no derivative exists"
        if self.differentiable:
            return f"{text}, but the one-sided derivatives agree: differentiable"
        return f"{text}: the one-sided derivatives differ, so no derivative exists"


@dataclass
class Survey:
    """Which (parameter, point) pairs sit on a kink, and which nodes' own edges do."""

    kinks: dict[tuple[str, int], Kink] = field(default_factory=dict)
    nodes: dict[str, np.ndarray] = field(default_factory=dict)   # node -> (P,) on a switch

    def mask(self, param: str, count: int) -> np.ndarray:
        """(P,) True where the derivative by param does not exist."""
        out = np.zeros(count, dtype=bool)
        for (p, point), k in self.kinks.items():
            out[point] |= p == param and not k.differentiable
        return out


def survey(case: Case, seen: dict[str, Recorder]) -> Survey:
    """Look at each kink that leads to the output, as the forward passes in `seen`
    (dtype -> the Recorder that watched that pass; float64 always) found them."""
    result = Survey()
    if not any(isinstance(c, Call) and c.func in KINKS
               for node in case.nodes.values() for c in walk(node.expr)):
        return result  # nothing can bend
    hits = {dtype: recorder.on_switch(case.count) for dtype, recorder in seen.items()}
    depends, useful = _depends(case), _leads_to_output(case)
    found_at: dict[tuple, tuple] = {}   # (param, point) -> the first kink there
    for name, node in case.nodes.items():
        for call in (c for c in walk(node.expr) if isinstance(c, Call) and c.func in KINKS):
            found = {d: h[id(call)] for d, h in hits.items() if id(call) in h}
            if not found or name not in useful:
                continue
            on = np.logical_or.reduce(list(found.values()))
            if "float64" in found:  # the edges are checked in float64 and exactly
                at64 = found["float64"].any(axis=1)
                result.nodes[name] = result.nodes.get(name, np.zeros(case.count, bool)) | at64
            params = set().union(*(depends[n] for n in call.names()))
            for p in sorted(params):
                for point in np.flatnonzero(on.any(axis=1)):
                    dtypes = [d for d, h in found.items() if h[point].any()]
                    calls, row, before = found_at.get((p, int(point)), ([], False, []))
                    found_at[(p, int(point))] = (calls + [call], row | on[point],
                                                 list(dict.fromkeys(before + dtypes)))
    for p in sorted({p for p, _ in found_at}):
        rows = np.array(sorted(point for q, point in found_at if q == p))
        sides = _sides(case, p, rows)  # every point of a parameter in one batch
        for j, point in enumerate(rows):
            result.kinks[(p, int(point))] = _kink(case, p, int(point), *found_at[(p, point)],
                                                  *(side[j] for side in sides))
    return result


def _depends(case: Case) -> dict[str, set]:
    """name -> the parameters its value depends on."""
    out = {n: ({n} if i.grad else set()) for n, i in case.inputs.items()}
    for name, node in case.nodes.items():
        out[name] = set().union(*(out[n] for n in node.expr.names()))
    return out


def _leads_to_output(case: Case) -> set:
    reached = {case.output}
    for name in reversed(case.nodes):
        if name in reached:
            reached |= case.nodes[name].expr.names()
    return reached


def _kink(case: Case, param: str, point: int, calls: list, on: np.ndarray, seen,
          left, right, jump) -> Kink:
    elements = [int(i) for i in np.flatnonzero(on)[:10]] if case.shape else []
    scale = 1e-5 * (np.abs(left) + np.abs(right)) + 1e-6
    same = bool(np.all(np.abs(left - right) <= scale))
    return Kink(param, point, [str(c) for c in calls], same and not jump,
                _listed(left, case, param), _listed(right, case, param), float(jump), elements,
                "" if "float64" in seen else f" in {seen[0]}")


def _sides(case: Case, param: str, rows: np.ndarray):
    """The gradient just left and just right of each point, and any jump of the output.

    Off the switch point every method agrees, so torch's float64 gradient is taken there:
    one batch a side, and nan (not an exception) where a side leaves a function's domain."""
    moved, delta = beside(case, rows, param)
    (left, low), (right, high) = ((g[param], v[case.output].detach().reshape(-1).numpy())
                                  for g, v in (gradients(c, "float64") for c in moved))
    # the gradient at distance d is the one-sided derivative + O(d): Richardson removes that
    far = [gradients(c, "float64")[0][param] for c in beside(case, rows, param, 2)[0]]
    left, right = 2 * left - far[0], 2 * right - far[1]
    per_row = tuple(range(1, np.ndim(left)))
    expected = np.sum(delta * (left + right), axis=per_row)  # a continuous output moves this
    allowed = 100 * np.sum(delta * (1 + np.abs(left) + np.abs(right)), axis=per_row) \
        + 1e-12 * np.maximum(np.abs(low), np.abs(high))
    with np.errstate(invalid="ignore"):  # nan beside the point: no jump is claimed
        jump = np.where(np.abs(high - low - expected) > allowed, high - low, 0.0)
    return left, right, jump


def beside(case: Case, rows: np.ndarray, param: str, times: float = 1) -> tuple[list, np.ndarray]:
    """The case at those points with param moved just left, and just right; and how far."""
    base = case.points[param][rows]
    delta = times * DELTA * np.maximum(1.0, np.abs(base))
    return [_at(case, rows, param, base + s * delta) for s in (-1, 1)], delta


def _at(case: Case, rows: np.ndarray, param: str, value: np.ndarray) -> Case:
    """The case at some of its points, with param moved to value there."""
    points = {n: v[rows].copy() for n, v in case.points.items()}
    points[param] = np.asarray(value, dtype=float)
    return with_points(case, points)


def _listed(v, case: Case, param: str):
    v = np.asarray(v, dtype=float)
    shape = case.inputs[param].value.shape
    return float(v.reshape(-1)[0]) if not shape else [float(x) for x in v.reshape(-1)[:1000]]
