"""A tensor case checked: each hand-written backward entry against autograd and SymPy (what a
tutorial's cmp() prints, and which entry is wrong on its own), every parameter's gradient by
every method, the claims; point by point, SymPy at full size or at reduced dims."""
from __future__ import annotations

import collections
import functools
import math
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import torch

from ..case import Case, Expr, Name, Num, walk
from ..errors import CaseError
from ..methods import (
    BUDGET,
    Elements,
    Pass,
    Run,
    adjoint_entries,
    adjoints,
    direction,
    partials,
    project,
    tensor_autograd,
    tensor_chain,
    tensor_forward,
    tensor_leaves,
    tensor_totals,
    tensor_upstream,
    value_at,
)
from ..result import (
    FAILED,
    PASSED,
    BackwardResult,
    CaseResult,
    ClaimResult,
    PointResult,
    Problem,
    place_of,
)
from . import _compare as compare
from ._agreement import NAMES, agree_rounded
from ._domain import watch_domain
from ._pieces import locate
from ._words import false_claim, listed, point_name

SYMPY_POINTS = 10        # points SymPy checks (beyond, the others are compared by torch)
LISTED_POINTS = 100      # points listed in a result
FD_STEP = 1e-6           # gradcheck's step, along a random direction
FD_RTOL, FD_ATOL = 1e-3, 1e-5
SHOWN = 4                # elements of a backward entry shown beside autograd's
SHOWN_TEXT = 120         # characters of an entry's text quoted in a message
CENTRAL_UP_TO = 100_000  # input elements up to which the difference quotient is central


@dataclass
class At:
    """Everything computed at one point."""

    torch64: Pass
    torch: Pass                                   # in the case's dtype
    hand64: dict = field(default_factory=dict)    # backward entries, float64
    hand: dict = field(default_factory=dict)      # backward entries, the case's dtype
    manual: dict = field(default_factory=dict)    # param -> the hand-written gradient
    totals: dict = field(default_factory=dict)    # param -> `gradient:`, when both given
    sympy: Run | None = None                      # SymPy's, where it ran at full size
    fd: dict = field(default_factory=dict)        # param -> the difference quotient
    scale: np.ndarray | None = None               # (1,): _scales, taken once


def check_tensor(case: Case) -> CaseResult:
    result = CaseResult(name=case.name, file=case.file, status=PASSED, dtype=case.dtype,
                        title=case.title, points_total=case.count, line=case.line_of(),
                        notes=list(case.notes))
    small, result.sympy_at, cut = _sympy_sizes(case)
    domain: list[str] = []
    ats = [_at(case, i, domain, sympy=small is None and i < SYMPY_POINTS)
           for i in range(case.count)]
    result.problems += domain or _overflows(case, ats)
    result.problems += [Problem(f"gradient {p}: hand-written {_quoted(text)} {why}", *place)
                        for p, (text, why, place) in case.misshapen.items()]
    reference = "sympy" if small is None else "autograd_float64"
    result.graph = _graph(case, ats[0])
    _scales(ats)
    _idle(case, ats)
    _entries(case, ats, result, reference)
    _hand_written(case, ats)
    _gradients(case, ats, result)
    _claims(case, ats, result)
    if small is not None:
        _reduced(small, result, cast(dict, result.sympy_at))
        result.notes += _cut_note(case, small) if cut else []
    _release(case, ats)
    result.notes += _missing(case) + _finite(case, ats)
    result.points = _points(case, ats)
    if case.count > SYMPY_POINTS and small is None:
        result.notes.append(f"SymPy checked the first {SYMPY_POINTS} of the {case.count} "
                            "points; torch's methods were compared at all of them")
    if result.problems:
        result.status = FAILED
    return result


# --- SymPy's sizes ------------------------------------------------------------------------

def _sympy_sizes(case: Case) -> tuple[Case | None, object, bool]:
    """(None, "full", False) where SymPy can take the case as it is; else the case at reduced
    sizes, what they are (see _where), and whether the inputs without dims were cut. The dims
    are reduced first; where an input keeps its size at other dims (a listed value: a
    tutorial's printed inputs), every axis length of the inputs is cut instead (_cut_sizes).
    A case that cannot be reduced at all is an error saying how to make it so."""
    count = partials(case)
    if count <= BUDGET:
        return None, "full", False
    why = (f"SymPy cannot check this case at its own sizes ({count:,} partial derivatives, "
           f"more than the {BUDGET:,} it takes in time)")
    failed = None
    if case.dims and case.at_dims is not None:
        reduced = _reduced_dims(case.dims)
        try:
            small = case.at_dims(reduced)
        except CaseError as exc:
            failed = CaseError(f"{why}, and at the reduced dims {_dims_text(reduced)} it cannot "
                               f"be read: {exc.message}", case.file, exc.line or case.line_of(),
                               exc.column)
        else:
            if partials(small) > BUDGET:
                raise CaseError(f"{why}, nor at the reduced dims {_dims_text(reduced)} "
                                f"({partials(small):,}): make the case smaller", case.file,
                                case.line_of())
            return small, reduced, False
    return (*_cut(case, why, failed), True)


def _cut(case: Case, why: str, failed: CaseError | None) -> tuple[Case, dict]:
    """The case with every axis length of its inputs cut (listed values sub-selected), the
    lengths written in its expressions kept."""
    sizes = _cut_sizes(case)
    if case.at_dims is None or all(a == b for a, b in sizes.items()):
        if failed is not None:
            raise failed
        raise CaseError(f"{why}, and it has no size to reduce (every length of its inputs is "
                        "written in its expressions, or at most 2): declare the sizes under "
                        "dims: and draw the inputs from them ({randn: [n, k], seed: 1})",
                        case.file, case.line_of())
    dims = {d: sizes.get(n, n) for d, n in case.dims.items()}
    where = _where(case, sizes)
    try:
        small = case.at_dims(dims, sizes)
    except CaseError as exc:
        if failed is not None:
            raise failed from None
        raise CaseError(f"{why}, and at the reduced sizes {_dims_text(where)} it cannot be "
                        f"read: {exc.message}", case.file, exc.line or case.line_of(),
                        exc.column) from None
    if partials(small) > BUDGET:
        raise CaseError(f"{why}, nor at the reduced sizes {_dims_text(where)} "
                        f"({partials(small):,}): make the case smaller", case.file,
                        case.line_of())
    return small, where


def _cut_note(case: Case, small: Case) -> list[str]:
    """Where the inputs without dims were cut: which check ran at which sizes."""
    cut = {n: small.inputs[n].value.shape for n, i in case.inputs.items()
           if small.inputs[n].value.shape != i.value.shape}
    if not cut:
        return []
    kept = sorted(_written(case) & {int(n) for i in case.inputs.values() for n in i.value.shape})
    shapes = ", ".join(f"{n} {'×'.join(map(str, shape))}"
                       for n, shape in cut.items())
    said = (f" (the length{'s' * (len(kept) > 1)} {', '.join(map(str, kept))} kept: the "
            "expressions write them)") if kept else ""
    return [f"SymPy ran at reduced sizes{said}: the inputs at {shapes} (drawn again from the "
            "dims, or, without dims, cut to their leading elements); at the case's own sizes "
            "the hand-written side was checked against autograd in float64, and the claims "
            "against autograd's values"]


def _cut_sizes(case: Case) -> dict[int, int]:
    """{each axis length of the inputs (and each dim's size): the length SymPy takes it at}.
    A length written in an expression as a number (`/ 5`, `num_classes=3`, `range(5)`) is
    kept, since the expression means it; the others become the smallest sizes from 2 up,
    distinct lengths kept distinct (and distinct from the kept ones), none larger than it
    was: an input of shape (5, 4) with 5 written in `/ 5` is taken at (5, 2)."""
    lengths = {int(n) for i in case.inputs.values() for n in i.value.shape}
    lengths |= set(case.dims.values())
    kept = _written(case) & lengths
    out = {n: n for n in kept}
    taken, size = set(kept), 2
    for n in sorted(lengths - kept):
        while size in taken:
            size += 1
        out[n] = min(n, size)
        taken.add(out[n])
        size = max(size, out[n]) + 1
    return out


def _written(case: Case) -> set[int]:
    """The whole numbers written in the case's expressions."""
    trees = [n.expr for n in case.nodes.values()] + [e.expr for e in case.backward.values()]
    trees += [e.expr for e in case.edges.values()] + [t for t, _ in case.gradient.values()]
    trees += [c.expr for c in case.claims if c.expr is not None]
    trees += [case.upstream] if isinstance(case.upstream, Expr) else []
    return {int(n.value) for tree in trees for n in walk(tree) if isinstance(n, Num)
            and not n.real and n.value.denominator == 1}


def _where(case: Case, sizes: dict) -> dict:
    """report.json's sympy_at for cut sizes: each dim by name at its size, then each other
    axis length of the inputs that was cut, by its length ("4": 2: every axis of 4, 2)."""
    out: dict = {d: sizes.get(n, n) for d, n in case.dims.items()}
    named = set(case.dims.values())
    out.update({str(n): m for n, m in sorted(sizes.items()) if n != m and n not in named})
    return out


def _reduced_dims(dims: dict) -> dict:
    """A small size for each dim, distinct dims kept distinct, none larger than it was."""
    out, size = {}, 2
    for name, n in sorted(dims.items(), key=lambda item: (item[1], item[0])):
        out[name] = min(n, size)
        size = max(size, out[name]) + 1
    return {name: out[name] for name in dims}


def _dims_text(dims: dict) -> str:
    """n=2, d=3; an axis length cut without a dim's name: 10→4."""
    return ", ".join(f"{k}→{v}" if k.isdigit() else f"{k}={v}" for k, v in dims.items())


# --- one point ----------------------------------------------------------------------------

def _at(case: Case, point: int, domain: list, sympy: bool) -> At:
    torch64 = tensor_autograd(case, point, "float64", watch_domain(case, domain, point))
    same = case.dtype == "float64"
    at = At(torch64, torch64 if same else tensor_autograd(case, point, case.dtype))
    if sympy:
        at.sympy = Elements(case).run(point)
    return at


def _hand_written(case: Case, ats: list[At]) -> None:
    """Each point's hand-written gradient of every parameter: its backward entry (kept by
    _entries, which evaluated them), the chain_rule composed, the `gradient:` totals."""
    params = _param_entries(case)
    for at in ats:
        at.manual = {p: at.hand64[n] for p, n in params.items()
                     if n in at.hand64}   # an entry of the wrong shape: no value
        if case.edges:
            at.manual = {**tensor_chain(case, at.torch64.values), **at.manual}
        if case.gradient:
            totals = tensor_totals(case, at.torch64.values)
            if case.edges or case.backward:
                at.totals = totals   # both given: the total derivative is checked too
            else:
                at.manual = totals


def _param_entries(case: Case) -> dict[str, str]:
    """{parameter: the checked backward entry of its gradient}."""
    by_target = {e.target: n for n, e in case.backward.items() if e.checked}
    return {p: by_target[p] for p in case.params if p in by_target}


def _idle(case: Case, ats: list[At]) -> None:
    """Let go of the nodes' values nothing reads once the graph is written and the scales
    taken: no backward entry, claim or upstream names them and they are not the output (a
    1000x1000 case's Z, 8 MB held while dH and dZ are made). A case of chain_rule or
    gradient: its edges and totals read the values, all are kept."""
    if case.edges or case.gradient:
        return
    trees = [e.expr for e in case.backward.values()] + [c.expr for c in case.claims
                                                          if c.expr is not None]
    trees += [case.upstream] if isinstance(case.upstream, Expr) else []
    read = {case.output} | {c.target for c in case.claims} | {
        n.id for tree in trees for n in walk(tree) if isinstance(n, Name)}
    for at in ats:
        for run in (at.torch64, at.torch):
            run.values = {n: v for n, v in run.values.items()
                          if n not in case.nodes or n in read}


def _release(case: Case, ats: list[At]) -> None:
    """Once every entry and claim is judged, what is left to do (the finite difference, the
    points and the graph in the report) reads the parameters' gradients and the values
    alone: the entries and the other names' gradients go (a 1000x1000 case's dH, dZ and
    autograd's gradient of Z, 24 MB, would be held through the finite difference's pass)."""
    for at in ats:
        for run in (at.torch64, at.torch):
            run.grads = {p: g for p, g in run.grads.items() if p in case.params}
        at.hand64, at.hand = {}, {}


def _overflows(case: Case, ats: list[At]) -> list[str]:
    """A node that overflows float64 makes autograd and SymPy agree on inf, and one that is
    NaN (the mean of no elements, inf - inf) on NaN: that is no check, never a pass."""
    for point, at in enumerate(ats):
        for name, node in case.nodes.items():
            value = at.torch64.values[name]
            if not isinstance(value, torch.Tensor) or not value.is_floating_point():
                continue
            if value.numel() and all(map(math.isfinite, torch.aminmax(value))):
                continue   # its least and greatest finite: no inf, no NaN (and no 8 MB |value|)
            what = ("overflows float64 (inf)" if bool(torch.isinf(value).any()) else
                    "is NaN" if bool(torch.isnan(value).any()) else "")
            if what:
                return [f"{case.file}:{case.line_of('forward', name)}: {name} = {node.text} "
                        f"{what} at {point_name(point)}, so its gradient cannot be checked "
                        "there"]
    return []


# --- the backward entries -----------------------------------------------------------------

def _entries(case: Case, ats: list[At], result: CaseResult, reference: str) -> None:
    """Each entry against the reference (SymPy's gradient at full size, else autograd's in
    float64), at every point; a wrong entry named, those that use it said to follow."""
    rtol, atol = compare.tolerance("float64", case.tolerance)
    scale = _scales(ats)   # before any gradient goes
    wrong: dict[str, str | None] = {}   # entry -> the root entry it follows from (None: own)
    hand = _Hand(case, ats) if case.backward else None
    for name, entry in case.backward.items():
        assert hand is not None
        hand.take(name)
        if not entry.checked:       # a block's helper or earlier version: no gradient
            hand.judged(name, None)
            continue
        if name not in ats[0].hand64:   # no value: of the wrong shape, or using one that is
            _valueless(case, ats[0], name, result, wrong)
            hand.judged(name, None)
            continue
        # no name keeps the reference: judged() lets it go once the entry passed
        gap = compare.gap(_stacked([at.hand64[name] for at in ats]),
                          _stacked([_reference(at, entry.target, reference) for at in ats]),
                          rtol, atol, scale)
        exact, agreed, diff = _cmp(case, ats[0], name, entry.target)
        ok = gap.ok
        follows = None
        located = None
        if not ok:
            follows = _follows(case, ats, name, reference, wrong)
            if follows is None:   # its own: which of its statements, where a block builds it
                point = gap.index[0] if gap.index else 0
                located = locate(case, name, *hand.whole(point), set(wrong),
                                 float(scale[point]))
            wrong[name] = follows
        result.backward.append(BackwardResult(
            name, PASSED if ok else FAILED, exact, agreed, diff, entry.text,
            follows if not ok else None, case.line_of("backward", name),
            list(case.shape_of(entry.target)), _few(ats[0].hand64[name]),
            _few(ats[0].torch64.grads[entry.target]),
            diff <= compare.NOISE_ULPS * compare.EPS[case.dtype] * float(scale[0]),
            located.record() if located else None))
        if not ok and follows is None:
            result.problems.append(Problem(
                f"backward {name}: "
                f"{located.subject(name, entry.text) if located else 'hand-written ' + entry.text}"
                f" differs from the gradient "
                f"of {entry.target} ({'SymPy' if reference == 'sympy' else 'autograd'}) by "
                f"{gap.diff:.3g} at {_element(case, gap.index)} ({gap.a:.10g} vs "
                f"{gap.b:.10g}){gap.never}; its own formula is wrong"
                + (f": every d-name it uses ({', '.join(entry.uses)}) is right"
                   if entry.uses else "") + (located.words if located else ""),
                *(located.place if located else case.place_of("backward", name))))
        hand.judged(name, ok)
    followers = {n: root for n, root in wrong.items() if root}
    for name, root in followers.items():
        result.notes.append(f"backward {name} is wrong only because it uses {root}, "
                            "which is wrong: it follows from it")


class _Hand:
    """Each backward entry evaluated at every point as _entries comes to it (into
    at.hand64, and at the first point in the case's dtype into at.hand, what cmp() prints);
    once it is judged, what nothing later reads goes: the entry unless it is a parameter's
    (the parameters' gradients are compared after), autograd's gradient of its target once
    the entry passed and no later entry, claim or parameter needs it. So a 1000x1000 case
    holds dH, its gradient and dZ only while they are compared."""

    def __init__(self, case: Case, ats: list[At]):
        self.case, self.ats = case, ats
        for at in ats:
            at.hand64 = {}
            at.hand = at.hand64 if case.dtype == "float64" else {}
        self.passes = [adjoint_entries(case, at.torch64.values, "float64") for at in ats]
        self.stores = [at.hand64 for at in ats]
        if case.dtype != "float64":
            self.passes.append(adjoint_entries(case, ats[0].torch.values, case.dtype))
            self.stores.append(ats[0].hand)
        for entries in self.passes:
            next(entries)   # d<output>, the seed
        self.kept = set(_param_entries(case).values())
        self.needed = set(case.params) | {c.target for c in case.claims if c.kind == "grad"}
        self.later = collections.Counter(e.target for e in case.backward.values()
                                         if e.checked)
        # an entry, a gradient or a value let go (_idle)
        self.dropped = any(n not in ats[0].torch64.values for n in case.nodes)

    def take(self, name: str) -> None:
        for store, entries in zip(self.stores, self.passes):
            got, value = next(entries)
            assert got == name, (got, name)   # both in the order of case.backward
            if value is not None:
                store[name] = value

    def whole(self, point: int) -> tuple[Pass, dict]:
        """Autograd's pass and every entry at a point, as they were before any was let go:
        what locating a wrong entry's statement reads (its pieces, the gradients it is made
        of). Made again where something went (a failure's cost, not a pass's)."""
        at = self.ats[point]
        if not self.dropped:
            return at.torch64, at.hand64
        run = tensor_autograd(self.case, point, "float64")
        return run, adjoints(self.case, run.values, "float64")

    def judged(self, name: str, passed: bool | None) -> None:
        """passed: None where the entry was not compared (a helper, one without a value)."""
        entry = self.case.backward[name]
        if entry.checked:
            self.later[entry.target] -= 1
        if name not in self.kept:
            for store in self.stores:
                self.dropped |= store.pop(name, None) is not None
        if passed and not self.later[entry.target] and entry.target not in self.needed:
            for at in self.ats:
                self.dropped |= at.torch64.grads.pop(entry.target, None) is not None
                at.torch.grads.pop(entry.target, None)


def _valueless(case: Case, at: At, name: str, result: CaseResult, wrong: dict) -> None:
    """An entry without a value: its shape is not its target's (a wrong entry, named with
    both shapes), or it uses such an entry (it follows from it)."""
    entry = case.backward[name]
    root = next((wrong[u] or u for u in entry.uses if u in wrong), None)
    wrong[name] = None if entry.misshapen else root
    result.backward.append(BackwardResult(
        name, FAILED, False, False, float("nan"), entry.text, wrong[name],
        case.line_of("backward", name), list(case.shape_of(entry.target)), None,
        _few(at.torch64.grads[entry.target])))
    if entry.misshapen:
        result.problems.append(Problem(f"backward {name}: hand-written {_quoted(entry.text)} "
                                       f"{entry.misshapen}", *entry.misshapen_at))


def _quoted(text: str) -> str:
    """An entry's text as a message quotes it: a stacked list of thousands cut short."""
    return text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT] + " ..."


def _scales(ats: list[At]) -> np.ndarray:
    """(P,): the magnitude of every value and gradient at each point: what flows into an
    entry, the scale of the comparison rule (docs/how-it-checks.md). Taken once, before any
    gradient or value is let go (_Hand, _idle), and kept."""
    for at in ats:
        if at.scale is None:
            at.scale = compare.scales(
                *(_array(v.detach())[None] for v in at.torch64.values.values()
                  if isinstance(v, torch.Tensor) and v.is_floating_point()),  # no indices
                *(np.asarray(g)[None] for g in at.torch64.grads.values()))
    return np.concatenate([at.scale for at in ats])


def _stacked(arrays: list) -> np.ndarray:
    """The points' arrays as one (P, ...) array: a view of the one array a single point has
    (np.stack would copy it, 8 MB a 1000x1000 entry)."""
    return np.asarray(arrays[0])[None] if len(arrays) == 1 else np.stack(arrays)


def _reference(at: At, target: str, reference: str) -> np.ndarray:
    if reference == "sympy" and at.sympy is not None:
        return at.sympy.grads[target]
    return at.torch64.grads[target]


def _cmp(case: Case, at: At, name: str, target: str) -> tuple[bool, bool, float]:
    """What a tutorial's cmp() prints, in the case's dtype: exact, approximate, max diff."""
    hand, auto = at.hand[name], at.torch.grads[target]
    hand = hand.reshape(auto.shape) if hand.size == auto.size else hand
    rtol, atol = compare.tolerance(case.dtype, case.tolerance)
    if hand.shape != auto.shape or hand.ndim == 0:
        return _cmp_whole(hand, auto, rtol, atol)
    # a block of rows at a time: the differences of a 1000x1000 entry are not 16 MB at once
    step = max(1, compare.CHUNK // max(1, hand.size // len(hand)))
    parts = [_cmp_whole(hand[i:i + step], auto[i:i + step], rtol, atol)
             for i in range(0, len(hand), step)]
    diffs = np.array([diff for _, _, diff in parts])
    return (all(exact for exact, _, _ in parts), all(agreed for _, agreed, _ in parts),
            float(np.max(diffs)) if hand.size else 0.0)


def _cmp_whole(hand: np.ndarray, auto: np.ndarray, rtol: float,
               atol: float) -> tuple[bool, bool, float]:
    with np.errstate(invalid="ignore"):
        diff = float(np.max(np.abs(hand - auto))) if hand.size else 0.0
        agreed = bool(np.allclose(hand, auto, rtol=rtol, atol=atol))
    return bool(np.array_equal(hand, auto)), agreed, diff


def _follows(case: Case, ats: list[At], name: str, reference: str,
             wrong: dict) -> str | None:
    """The wrong entry this one follows from, or None when its own formula is wrong: it is
    evaluated again with the right values of the d-names it uses."""
    used_wrong = [u for u in case.backward[name].uses if u in wrong]
    if not used_wrong:
        return None
    rtol, atol = compare.tolerance("float64", case.tolerance)
    at = ats[0]
    right = {u: _reference(at, case.backward[u].target, reference) for u in used_wrong}
    again = adjoints(case, at.torch64.values, "float64", given=right).get(name)
    ok = again is not None and compare.gap(
        again, _reference(at, case.backward[name].target, reference), rtol, atol,
        _scales([at])).ok
    if not ok:
        return None
    root = used_wrong[0]
    return wrong[root] or root


def _element(case: Case, index: tuple) -> str:
    point, element = (index[0], index[1:]) if index else (0, ())
    return point_name(point) + (f" element {list(element)}" if element else "")


def _few(v: np.ndarray):
    flat = np.asarray(v, dtype=float).reshape(-1)
    return [float(x) for x in flat[:SHOWN]] if flat.size > 1 else float(flat[0])


# --- the parameters' gradients, the claims ----------------------------------------------

def _methods(case: Case, ats: list[At]) -> dict:
    methods: dict = {"manual": {}, "sympy": {}, "autograd": {}, "autograd_float64": {}}
    for p in case.params:
        if all(p in at.manual for at in ats):
            methods["manual"][p] = _stacked([at.manual[p] for at in ats])
        runs = [at.sympy for at in ats]
        if all(run is not None for run in runs):
            methods["sympy"][p] = _stacked([run.grads[p] for run in runs if run is not None])
        methods["autograd"][p] = _stacked([at.torch.grads[p] for at in ats])
    if any(at.totals for at in ats):
        methods["manual_total"] = {p: _stacked([at.totals[p] for at in ats])
                                   for p in case.gradient}
    if case.dtype != "float64" or not methods["sympy"]:   # the reference where SymPy is not
        methods["autograd_float64"] = {p: _stacked([at.torch64.grads[p] for at in ats])
                                       for p in case.params}
    return {m: g for m, g in methods.items() if g}


def _gradients(case: Case, ats: list[At], result: CaseResult) -> None:
    """Every method against the others. autograd in a float32 case's own dtype is torch's own
    graph rounded to float32: where it misses the reference while autograd in float64 agrees,
    that is float32's rounding (the tutorial's dtype, at these sizes), said in a note and never
    a failure; the derivatives are judged in float64."""
    methods = _methods(case, ats)
    where = functools.partial(_element, case)
    rounded = agree_rounded(case, methods, result, quiet=False, where=where,
                            scale=_scales(ats))
    if rounded is not None:
        result.notes += _rounding(case, methods, rounded, where)


def _rounding(case: Case, methods: dict, rounded: dict, where) -> list[str]:
    reference = "sympy" if "sympy" in methods else "autograd_float64"
    notes = []
    for p, value in rounded.items():
        exact = methods[reference][p]
        rtol, atol = compare.tolerance(case.dtype, case.tolerance)
        g = compare.gap(value, exact, rtol, atol)
        if g.ok:
            continue
        if reference == "sympy" and not compare.gap(methods["autograd_float64"][p], exact,
                                                   *compare.tolerance("float64",
                                                                      case.tolerance)).ok:
            continue   # float64 autograd misses it too: not rounding, and said as a problem
        notes.append(f"gradient {p}: {case.dtype} autograd gives {g.a:.10g} where "
                     f"{NAMES[reference]} gives {g.b:.10g} at {where(g.index)} (off by "
                     f"{g.diff:.3g}, past {case.dtype}'s tolerance) while float64 autograd "
                     f"agrees with it: {case.dtype}'s rounding, not a wrong derivative")
    return notes


def _claims(case: Case, ats: list[At], result: CaseResult) -> None:
    rtol, atol = compare.tolerance(case.dtype, case.tolerance)
    scale = _scales(ats)
    for claim in case.claims:
        at = ats[claim.point]
        source = at.sympy if at.sympy is not None else None
        if claim.kind == "grad":
            value = source.grads[claim.target] if source else at.torch64.grads[claim.target]
        else:
            value = source.values[claim.target] if source else _array(
                at.torch64.values[claim.target])
        if claim.expr is not None:
            want = value_at(claim.expr, at.torch64.values)
            if want.size == np.size(value):   # (h,) claimed by an expression of shape (1, h)
                want = want.reshape(np.shape(value))
            ok = compare.gap(np.broadcast_to(want, np.shape(value)), value, rtol, atol,
                             scale[claim.point], case.dtype).ok
        else:
            ok = compare.as_written(claim.value, value, claim.slack, rtol, atol,
                                    scale[claim.point], case.dtype)
        result.claims.append(ClaimResult(claim.key, claim.written, listed(value),
                                         PASSED if ok else FAILED, claim.point))
        if not ok:
            result.problems.append(false_claim(case, claim, value))


def _array(v) -> np.ndarray:
    return v.to(torch.float64).numpy() if isinstance(v, torch.Tensor) else np.asarray(v, float)


def _missing(case: Case) -> list[str]:
    """Parameters a backward pass leaves out: compared SymPy against autograd, said so."""
    if not case.backward or case.edges or case.gradient:
        return []
    return [f"no hand-written gradient of {p} was given (backward has no d{p}): SymPy and "
            "autograd are compared for it" for p in case.params
            if p not in {e.target for e in case.backward.values() if e.checked}]


# --- reduced dims ------------------------------------------------------------------------

def _reduced(small: Case, result: CaseResult, sizes: dict) -> None:
    """At the reduced dims: every method against SymPy, entry by entry."""
    where = ("dims " if set(sizes) <= set(small.dims) else "sizes ") + _dims_text(sizes)
    at = _at(small, 0, [], sympy=True)
    sub = CaseResult(name=small.name, file=small.file, status=PASSED)
    _entries(small, [at], sub, "sympy")
    _hand_written(small, [at])
    _gradients(small, [at], sub)
    result.problems += [Problem(f"at the reduced {where}: {p}", *place_of(p))
                        for p in sub.problems]
    result.notes += [f"at the reduced {where}: {n}" for n in sub.notes]
    for entry, there in zip(result.backward, sub.backward):
        if there.status == FAILED and entry.status == PASSED:
            entry.status = FAILED
            entry.follows_from = there.follows_from
            entry.piece = there.piece


# --- finite differences: an opinion ------------------------------------------------------

def _finite(case: Case, ats: list[At]) -> list[str]:
    """The output's difference quotient along a random direction of each parameter at the
    base point, beside autograd's: kept in the point's details, a note where it disagrees,
    never a verdict."""
    notes = []
    env = tensor_leaves(case, 0, "float64")
    central = sum(i.value.size for i in case.inputs.values()) <= CENTRAL_UP_TO
    base = None if central else _output(case, ats[0].torch64.values)
    for p in case.params:
        u = direction(case, p)
        quotient = _quotient(case, env, p, u, base)
        along = float(project(ats[0].torch64.grads[p][None], u)[0])
        run = ats[0].sympy
        ats[0].fd[p] = {"along": str(u) if u is not None else p, "value": quotient,
                        "sympy": None if run is None else float(project(run.grads[p][None],
                                                                          u)[0]),
                        "autograd": along, "central": central}
        if not abs(quotient - along) <= FD_ATOL + FD_RTOL * abs(along):
            how = "" if u is None else f" along {u}"
            notes.append(f"finite difference for {p}{how} disagrees with autograd at the base "
                         f"point: {quotient:.10g} where autograd gives {along:.10g}; it is an "
                         "opinion and does not decide the verdict")
    return notes


def _quotient(case: Case, env: dict, param: str, u, base: float | None) -> float:
    """(f(p + h u) - f(p - h u)) / 2h, gradcheck's central difference; past CENTRAL_UP_TO
    elements, (f(p + h u) - f(p)) / h with f(p) from the pass already made: one forward pass
    of a large case instead of two, and still far inside the quotient's tolerance."""
    signs = (1, -1) if base is None else (1,)
    sides = [_moved(case, env, param, u, sign * FD_STEP) for sign in signs]
    if base is None:
        return (sides[0] - sides[1]) / (2 * FD_STEP)
    return (sides[0] - base) / FD_STEP


def _moved(case: Case, env: dict, param: str, u, step: float) -> float:
    """The output with param moved by step along u. A direction over a sample of a large
    parameter's elements moves those alone, in place, and puts them back exactly (as the
    scalar lessons' vectors are moved): no copy and no dense step as large as the parameter
    (three arrays of 8 MB for a 1000x1000 weight)."""
    value = env[param]
    if u is not None and u.index is not None and value.is_contiguous():
        flat, index = value.view(-1), torch.as_tensor(u.index)
        kept = flat[index].clone()
        flat[index] = kept + torch.as_tensor(step * u.weights, dtype=value.dtype)
        try:
            with torch.no_grad():
                return _output(case, tensor_forward(case, env))
        finally:
            flat[index] = kept
    shift = step if u is None else torch.as_tensor(step * u.dense(), dtype=value.dtype)
    with torch.no_grad():
        return _output(case, tensor_forward(case, dict(env, **{param: value + shift})))


def _output(case: Case, values: dict) -> float:
    """The output, weighted by the upstream gradient where there is one."""
    given = tensor_upstream(case, values, "float64")
    return float((values[case.output] * (given if given is not None else 1.0)).sum())


# --- what the reports show ------------------------------------------------------------

def _points(case: Case, ats: list[At]) -> list[PointResult]:
    methods = _methods(case, ats)
    out = []
    for i, _ in enumerate(ats[:LISTED_POINTS]):
        at_i = {n: listed(np.asarray(case.points[n][i], dtype=float)) for n in case.inputs}
        grads = {p: {m: listed(g[p][i]) for m, g in methods.items() if p in g}
                 for p in case.params}
        details = {p: {"finite_difference": fd} for p, fd in ats[i].fd.items()}
        out.append(PointResult(at_i, grads, details))
    return out


def _graph(case: Case, at: At) -> dict:
    values = at.torch64.values

    def value(name):
        return listed(_array(values[name]))
    inputs = {n: {"value": value(n), "grad": i.grad, "shape": list(i.value.shape)}
              for n, i in case.inputs.items()}
    nodes = {n: {"expr": node.text, "value": value(n), "shape": list(node.shape),
                 "uses": list(dict.fromkeys(t.id for t in walk(node.expr) if isinstance(t, Name)
                                            and (t.id in case.inputs or t.id in case.nodes)))}
             for n, node in case.nodes.items()}
    return {"output": case.output, "inputs": inputs, "nodes": nodes}

