"""What agreement alone cannot say: kinks, a finite-difference opinion, float32 rounding,
per entry."""
from __future__ import annotations

import numpy as np

from ..case import Case
from ..methods import FD_ATOL, FD_RTOL, FD_STEP, Opinion, Survey, project
from . import _compare as compare

EXACT = ("manual", "manual_total", "sympy", "autograd", "autograd_float64")


def beside_kinks(case: Case, methods: dict, survey: Survey) -> dict:
    """SymPy's gradients, with the one-sided value where a kink is differentiable after all
    but SymPy's form has no value there (sign(x)*x**2 at 0: 0*DiracDelta(0))."""
    if not survey.kinks:  # nothing to fill in: no copy of every gradient
        return methods
    exact = {p: np.array(g, dtype=float) for p, g in methods["sympy"].items()}
    for (p, point), k in survey.kinks.items():
        row = exact[p][point]
        if k.differentiable and not np.all(np.isfinite(row)):
            exact[p][point] = np.where(np.isfinite(row), row,
                                       np.asarray(k.left, dtype=float).reshape(row.shape))
    return dict(methods, sympy=exact)


def without_kinks(case: Case, methods: dict, survey: Survey) -> dict:
    """Each method with the points where a parameter's derivative does not exist left out (NaN)."""
    out: dict[str, dict] = {}
    for m, grads in methods.items():
        out[m] = {}
        for p, g in grads.items():
            mask = survey.mask(p, case.count)
            g = np.asarray(g, dtype=float)  # copied only where points are blanked out
            if mask.any():
                g = np.array(np.broadcast_to(g, (case.count,) + g.shape[1:]))
                g[mask] = np.nan
            out[m][p] = g
    return out


def kink_notes(case: Case, survey: Survey, where) -> list[str]:
    """One note per parameter that has points where its derivative does not exist."""
    notes = []
    for p in case.params:
        found = [k for (q, _), k in sorted(survey.kinks.items()) if q == p and not k.differentiable]
        if found:
            k = found[0]
            more = f" (and at {len(found) - 1} more points)" if len(found) > 1 else ""
            sides = "" if k.jump else (f"; one-sided derivatives {_short(k.left)} and "
                                       f"{_short(k.right)}")
            notes.append(f"{p} is not differentiable at {where(case, (k.point,))}{more}: {k.why()}"
                         f"{sides}; torch's convention: {k.rule()}")
    return notes


def _short(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else "[" + ", ".join(f"{x:.4g}" for x in v[:6]) + (
        ", ...]" if len(v) > 6 else "]")


def claimed(case: Case, methods: dict, survey: Survey, notes: list) -> dict:
    """What a gradient claim is held to: SymPy's value, or torch's where no derivative exists.

    A tutorial prints what torch computed; where the derivative does not exist, that is a
    convention, and a claim matching it is not a wrong derivative (a note says so)."""
    torch64 = methods.get("autograd_float64", methods["autograd"])
    out = {}
    for p, exact in methods["sympy"].items():
        mask = survey.mask(p, case.count)
        out[p] = exact
        claims = [c for c in case.claims if c.kind == "grad" and c.target == p and mask[c.point]]
        if claims:
            shape = (case.count,) + (1,) * (np.ndim(exact) - 1)
            out[p] = np.where(mask.reshape(shape), torch64[p], exact)
            notes += [f"claim {c.key} ({'the base point' if c.point == 0 else f'point {c.point}'})"
                      f" is held to torch's convention: {p} is not differentiable there"
                      for c in claims]
    return out


def float32_notes(case: Case, methods: dict, rounding, where) -> list[str]:
    """Where float32 autograd misses SymPy but float64 autograd does not: say it is rounding."""
    if rounding is None:
        return []
    notes = []
    for p, exact in methods["sympy"].items():
        off32 = ~_within(methods["autograd"][p], exact, "float32", case)
        fine64 = _within(methods["autograd_float64"][p], exact, "float64", case)
        shown = np.flatnonzero(off32 & fine64 & (np.arange(case.count) < rounding.case.count))
        if shown.size:
            i = int(shown[0])
            notes.append(f"gradient {p}: float32 autograd misses SymPy at {where(case, (i,))} "
                         f"while float64 autograd agrees with it: {rounding.cause(i)}")
    return notes


def _within(a, b, dtype: str, case: Case) -> np.ndarray:
    """(P,): every element of a within dtype's tolerance of b (NaN on both sides agrees)."""
    rtol, atol = compare.tolerance(dtype, case.tolerance)
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    with np.errstate(invalid="ignore"):
        ok = (np.abs(a - b) <= atol + rtol * np.abs(b)) | (np.isnan(a) & np.isnan(b))
    return ok.reshape(len(ok), -1).all(axis=1)


def projections(methods: dict, fd: Opinion) -> dict:
    """method -> param -> (P,): each exact gradient along the finite difference's direction."""
    return {m: {p: project(g[p], fd.directions[p]) for p in fd.values if p in g}
            for m, g in methods.items() if m in EXACT}


def finite_notes(case: Case, methods: dict, fd: Opinion, survey: Survey, where) -> list:
    """A note for each parameter whose difference quotient disagrees with every exact method."""
    notes = []
    along = projections(methods, fd)
    for p, value in fd.values.items():
        agrees = [_close(value, along[m][p]) for m in along if p in along[m]]
        # where SymPy has no finite value the case already says why (a domain problem)
        bad = ~np.logical_or.reduce(agrees) & ~survey.mask(p, case.count) \
            & np.isfinite(along["sympy"][p])
        if not bad.any():
            continue
        i = int(np.flatnonzero(bad)[0])
        how = "" if fd.directions[p] is None else f" along {fd.directions[p]}"
        why = (f"; the step ±{FD_STEP:g} crosses the switch point of {fd.straddles[p][i]}"
               if fd.straddles[p][i] else "")
        more = f" (and at {bad.sum() - 1} more points)" if bad.sum() > 1 else ""
        notes.append(
            f"finite difference for {p}{how} disagrees with every exact method at "
            f"{where(case, (i,))}: {value[i]:.10g} where SymPy gives {along['sympy'][p][i]:.10g} "
            f"(gradcheck's tolerance rtol {FD_RTOL:g}, atol {FD_ATOL:g}){why}{more}; "
            "it is an opinion and does not decide the verdict")
    return notes


def _close(a, b) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) <= FD_ATOL + FD_RTOL * np.abs(b)


def entries(case: Case, methods: dict, fd: Opinion, survey: Survey, rounding,
            point: int, listed) -> dict:
    """param -> the keys set beside the methods' values in this point's gradient entry."""
    out = {}
    for p in case.params:
        extra: dict[str, object] = {"differentiable": True}
        kink = survey.kinks.get((p, point))
        if kink is not None:
            extra.update(kink.entry(listed(methods["autograd"][p][point], p)))
        if fd.directions[p] is not None:
            extra["finite_difference"] = {
                "along": str(fd.directions[p]),
                "value": float(fd.values[p][point]),
                "sympy": float(project(methods["sympy"][p][point:point + 1],
                                              fd.directions[p])[0])}
        if rounding is not None:
            extra.update(rounding.gradient(p, point))
        out[p] = extra
    return out
