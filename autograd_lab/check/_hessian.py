"""order: 2 cases: the Hessian checked, hand-written entries against SymPy and torch."""
from __future__ import annotations

import itertools

import numpy as np

from ..case import Case
from ..methods import beside, second_autograd, second_manual, second_sympy
from . import _compare as compare
from ._agreement import note_worst
from ._words import problem


def pairs(case: Case) -> dict[str, tuple]:
    """Every pair of parameters, once: the hand-written key where one is given."""
    named = {frozenset((e.p, e.q)): (key, (e.p, e.q)) for key, e in case.hessian.items()}
    out = {}
    for p, q in itertools.combinations_with_replacement(case.params, 2):
        key, pair = named.get(frozenset((p, q)), (f"{p}/{q}", (p, q)))
        out[key] = pair
    return out


def check(case: Case, symbolic, values: dict, survey, result, where) -> tuple[dict, dict]:
    """key -> method -> (P,), and key -> point -> what is known there (differentiable, ...);
    each disagreement with SymPy where the entry exists is a problem naming it."""
    wanted = pairs(case)
    exact = second_sympy(symbolic, list(wanted.values()))
    methods = {"manual": second_manual(case, values),
               "sympy": exact, "autograd": second_autograd(case, list(wanted.values()),
                                                           case.dtype)}
    out = {key: {m: got[pair] for m, got in methods.items() if pair in got}
           for key, pair in wanted.items()}
    details = {}
    for key, by_method in out.items():
        skip, details[key], nearby = _kinks(case, survey, *wanted[key])
        # at a kink SymPy may say 0*DiracDelta(0) = nan where both sides agree: they stand in
        reference = np.where(np.isfinite(by_method["sympy"]), by_method["sympy"], nearby)
        for m, got in by_method.items():
            if m != "sympy":
                _compare(case, key, m, got, reference, skip, result, where)
        missing = sorted(i for i, d in details[key].items() if not d["differentiable"])
        if missing:
            i, d = missing[0], details[key][missing[0]]
            more = f" (and at {len(missing) - 1} more points)" if len(missing) > 1 else ""
            result.notes.append(
                f"hessian {key} does not exist at {where(case, (i,))}{more}: a kink sits on its "
                f"switch point there and the second derivative is {d['one_sided']['left']:.6g} "
                f"just left and {d['one_sided']['right']:.6g} just right")
    return out, details


def _kinks(case: Case, survey, p: str, q: str) -> tuple[np.ndarray, dict, np.ndarray]:
    """Where a kink touches p or q, whether d/dq of d/dp is the same on either side of q."""
    skip = survey.mask(p, case.count) | survey.mask(q, case.count)
    rows = np.array(sorted({i for (r, i) in survey.kinks if r in (p, q)}), dtype=int)
    nearby = np.full(case.count, np.nan)
    if not rows.size:
        return skip, {}, nearby
    near, far = (beside(case, rows, q, times)[0] for times in (1, 2))
    # Richardson: twice the value at d less the value at 2d cancels the O(d) error
    left, right = (2 * second_autograd(a, [(p, q)], "float64")[(p, q)]
                   - second_autograd(b, [(p, q)], "float64")[(p, q)] for a, b in zip(near, far))
    same = np.abs(left - right) <= 1e-5 * (np.abs(left) + np.abs(right)) + 1e-6
    details = {}
    for j, i in enumerate(rows):
        exists = bool(same[j]) and not skip[i]
        skip[i] |= not exists
        nearby[i] = left[j] if exists else np.nan
        details[int(i)] = {"differentiable": exists,
                           "one_sided": {"left": float(left[j]), "right": float(right[j])}}
    return skip, details, nearby


def _compare(case: Case, key: str, method: str, got, exact, skip, result, where) -> None:
    dtype = case.dtype if method == "autograd" else "float64"
    rtol, atol = compare.tolerance(dtype, case.tolerance)
    got, exact = np.where(skip, np.nan, got), np.where(skip, np.nan, exact)
    g = compare.gap(got, exact, rtol, atol, dtype=dtype)
    note_worst(result, g)
    if g.ok:
        return
    hand = f" (hand-written {case.hessian[key].text})" if method == "manual" else ""
    path = ("hessian", key) if key in case.hessian else ("inputs", key.split("/")[0])
    result.problems.append(problem(
        case, f"hessian {key}: {method}{hand} gives {g.a:.10g} where SymPy gives {g.b:.10g} at "
        f"{where(case, g.index)}: off by {g.diff:.3g}, more than {dtype}'s tolerance "
        f"({g.tolerance(rtol, atol)}){g.never}", *path))
