"""A scalar parameter's derivative across a range, by every method: what a plot draws.

Computed by the checking layer, from the case it has just checked, when plots are asked for:
a report draws results and never reads a case again."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..case import Case
from ..result import CaseResult, Sweep

CURVE_POINTS = 161          # samples of a scalar parameter's range
CURVE_BUDGET = 400_000      # points times elements evaluated for one curve
MIN_CURVE_POINTS = 21       # fewer than this is no curve


def samples(result: CaseResult) -> int:
    """How many values of a scalar parameter a curve evaluates (0: too many elements)."""
    shapes = [spec["shape"] for spec in result.graph.get("inputs", {}).values()]
    elements = max([math.prod(s) for s in shapes] + [1])
    n = min(CURVE_POINTS, CURVE_BUDGET // elements)
    return n if n >= MIN_CURVE_POINTS else 0


def sweeps(case: Case, result: CaseResult, gradients) -> dict:
    """param -> a Sweep (its values, method -> gradient there) for each scalar parameter, or
    the reason it has none (too many elements to evaluate across a range); gradients
    is the checking path's own (case -> method -> param -> array over points)."""
    n = samples(result)
    out: dict = {}
    for param in case.params:
        if case.inputs[param].value.shape:
            continue
        if not n:
            elements = max(math.prod(s["shape"]) for s in result.graph["inputs"].values())
            out[param] = (f"∂{case.output}/∂{param} is not drawn across a range: each value "
                          f"of {param} evaluates {elements:,} elements.")
            continue
        xs = np.linspace(*span(result, param), n)
        overrides = [{param: np.array(x)} for x in xs]
        # a fresh Case: `points` is cached per instance
        swept = dataclasses.replace(case, overrides=overrides, sample=None, claims=[])
        try:
            by_method = gradients(swept)
        except Exception:  # a range may leave the case's domain: no curve, not a failure
            continue
        # manual_total has only the inputs the case's gradient: section gives (x of several)
        out[param] = Sweep(xs, {m: np.asarray(g[param], float).reshape(len(xs) + 1)[1:]
                                for m, g in by_method.items() if param in g},
                           checked(result, param))
    return out


def checked(result: CaseResult, param: str) -> list[int]:
    """The listed points that differ from the base point in param alone."""
    base = result.points[0].at if result.points else {}
    return [i for i, p in enumerate(result.points)
            if all(v == base.get(n) for n, v in p.at.items() if n != param)]


def span(result: CaseResult, param: str) -> tuple[float, float]:
    values = [result.points[i].at[param] for i in checked(result, param)]
    values = [v for v in values if isinstance(v, (int, float))] or \
        [result.graph["inputs"][param]["value"]]
    lo, hi = min(values), max(values)
    width = max(hi - lo, abs(result.graph["inputs"][param]["value"]), 1.0)
    return lo - width / 2, hi + width / 2
