"""Methods against each other: every pair, every parameter, at the looser tolerance."""
from __future__ import annotations

import itertools

import numpy as np

from ..case import Case
from ..result import FAILED, CaseResult
from . import _compare as compare
from ._words import about, at_point, problem


def dtype_of(method: str, case: Case) -> str:
    return case.dtype if method == "autograd" else "float64"


NAMES = {"sympy": "SymPy", "autograd_float64": "autograd in float64"}


def agree(case: Case, methods: dict, result: CaseResult, quiet: bool, where=None,
          scale=None) -> None:
    """Every pair of methods, for every parameter, at the looser of their tolerances.

    A method that misses the reference (SymPy, exact; where SymPy ran only at reduced sizes,
    autograd in float64) is reported against it; a pair that misses each other while both
    match it is reported as a pair. A method without a value for a parameter (a backward
    pass that leaves it out) is left out of its pairs; where(index) names a place (the
    case's points, by default); scale: what flows into the gradients, a number a point (the
    comparison rule's)."""
    where = where or (lambda index: at_point(case, index))
    reference = "sympy" if "sympy" in methods else "autograd_float64"
    edge_wrong = next((("chain_rule", e.edge) for e in result.edges if e.status == FAILED), None)
    entry_wrong = next((b.name for b in result.backward
                        if b.status == FAILED and b.follows_from is None), None)
    pairs = sorted(itertools.combinations(methods, 2), key=lambda pair: reference not in pair)
    for p in case.params:
        off_reference = set()
        for m1, m2 in pairs:
            if p not in methods[m1] or p not in methods[m2]:
                continue
            dtype = compare.looser(dtype_of(m1, case), dtype_of(m2, case))
            rtol, atol = compare.tolerance(dtype, case.tolerance)
            g = compare.gap(methods[m1][p], methods[m2][p], rtol, atol, scale, dtype)
            if not case.shape_of(p):   # a scalar parameter has no element to name
                g.index = g.index[:1]
            note_worst(result, g)
            if g.ok or (quiet and not np.isfinite(g.diff)):
                continue
            if reference in (m1, m2):
                m, value, exact = (m2, g.b, g.a) if m1 == reference else (m1, g.a, g.b)
                off_reference.add(m)
                why, path = "", about(case, p)
                if m == "manual" and edge_wrong:   # placed where the fix is: the edge
                    why, path = " (this follows from the wrong chain_rule edge)", edge_wrong
                elif m == "manual" and entry_wrong:
                    why = f" (this follows from the wrong backward entry {entry_wrong})"
                    path = ("backward", entry_wrong)
                lead = f"{case.leads[p]}: " if m == "manual" and p in case.leads else ""
                result.problems.append(problem(
                    case, f"{lead}gradient {p}: {m} gives {value:.10g} where {NAMES[reference]} "
                    f"gives {exact:.10g} at {where(g.index)}: off by {g.diff:.3g}, more than "
                    f"{dtype}'s tolerance ({g.tolerance(rtol, atol)}){g.never}{why}", *path))
            elif not off_reference & {m1, m2}:
                result.problems.append(problem(
                    case, f"gradient {p}: {m1} {g.a:.10g} and {m2} {g.b:.10g} differ at "
                    f"{where(g.index)} by {g.diff:.3g} ({g.tolerance(rtol, atol)})",
                    *about(case, p)))


def agree_rounded(case: Case, methods: dict, result: CaseResult, quiet: bool,
                  where=None, scale=None) -> dict | None:
    """agree, the verdict taken in float64: a float32 case's own autograd is torch's graph
    rounded to float32, never the derivative under test, so it is left out of the verdict
    (its gaps still count in the worst gap, and the caller says in a note where it misses
    the reference while float64 autograd agrees). Returns its gradients (None in float64)."""
    if case.dtype == "float64" or "autograd" not in methods:
        agree(case, methods, result, quiet, where, scale)
        return None
    judged = {m: g for m, g in methods.items() if m != "autograd"}
    rounded = methods["autograd"]
    agree(case, judged, result, quiet, where, scale)
    rtol, atol = compare.tolerance(case.dtype, case.tolerance)
    for g in judged.values():
        for p in rounded:
            if p in g:
                gap = compare.gap(rounded[p], g[p], rtol, atol, scale, case.dtype)
                if np.isfinite(gap.diff):
                    note_worst(result, gap)
    return rounded


def note_worst(result: CaseResult, g: compare.Gap) -> None:
    """The largest disagreement so far, and whether every one so far is at rounding level
    (whose digits depend on the CPU's kernels: shown as such, never as digits)."""
    result.worst = max(result.worst, g.diff)
    result.worst_at_rounding = g.rounding and result.worst_at_rounding is not False
