"""The one checking path: a case file in, a CaseResult out, every method compared."""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from ..case import Behaviour, Case, Name, walk
from ..errors import CaseError
from ..methods import (
    Recorder,
    Symbolic,
    Unevaluated,
    autograd_gradients,
    finite_opinion,
    forward,
    leaves,
    manual_gradients,
    manual_totals,
    survey_kinks,
)
from ..reading import load
from ..result import (
    ERROR,
    FAILED,
    PASSED,
    CaseResult,
    ClaimResult,
    EdgeResult,
    PointResult,
    Problem,
    error,
)
from ..text import one_line
from . import _compare as compare
from . import _deadline as guard
from . import _formulas as formulas
from . import _hessian as hessian
from . import _honesty as honesty
from . import _lint as lint
from ._agreement import agree_rounded
from ._behaviour import run as run_behaviour
from ._domain import watch_domain
from ._hints import copied_inputs
from ._readable import Readable
from ._rounding import Rounding
from ._sweep import sweeps
from ._tensor import check_tensor
from ._words import about, at_point, false_claim, listed, problem

LISTED_POINTS = 100        # points written out in a result; the rest are checked, not listed


def check_paths(paths) -> list[CaseResult]:
    """Check every case file under paths (files or folders), each on its own."""
    return [check_file(p) for p in case_files(paths)]


SUFFIXES = (".yaml", ".yml")


def case_files(paths) -> list[Path]:
    """The case files named, and those under the folders named (sorted, folder by folder)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(_under(path)) if path.is_dir() else [path]
    return files


def _under(folder: Path):
    """Every entry named *.yaml or *.yml below folder, at any depth, as Path.rglob finds them
    (a folder or a link so named too: checking it says what it is), without following links
    to folders; walked with a list, not recursion, so no depth of folders (990 had raised
    RecursionError in rglob) can stop it."""
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:   # unreadable, or gone meanwhile: what it holds cannot be listed
            continue
        for entry in entries:
            if Path(entry.name).suffix in SUFFIXES:
                yield Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))


SWEEPS = (None, "always", "unless passed", "where telling")


def check_file(path, sweep: str | None = None) -> CaseResult:
    """A case file (or an already loaded case) in, a CaseResult out.

    Never raises for a bad case: problems become an `error` result naming file:line.
    sweep: when to add each scalar parameter's derivative across a range (for a plot):
    never (None), "always", "unless passed", or "where telling" (unless passed, or on a
    kink: CaseResult.telling)."""
    start = time.perf_counter()
    loaded = not isinstance(path, (str, os.PathLike))
    name, file = (path.name, path.file) if loaded else (Path(path).stem, str(path))
    case = path if loaded else None
    begun: list[CaseResult] = []   # the result as it is built, kept if time runs out
    try:
        with guard.deadline():
            if case is None:
                case = load(path)
            result = check_case(case, begun)
            # a curve sweeps a scalar parameter of the scalar lessons; a tensor case has bars
            if isinstance(case, Case) and not case.tensor and _sweeping(sweep, result):
                result.sweeps = sweeps(case, result, gradients)
    except guard.TooSlow as exc:
        line = case.line_of() if isinstance(case, Case) else None
        said = f"{file}: {guard.message(exc.args[0], case)}"
        result = _stopped(begun[0], said) if begun and begun[0].problems else \
            error(name, file, said, line)
    except CaseError as exc:
        exc.file = exc.file or file   # found while evaluating, where no place was known
        result = error(name, file, str(exc), exc.line, exc.column)
        result.kind = getattr(exc, "kind", result.kind)
    except Unevaluated as exc:
        result = error(name, file, f"{file}: {exc}; this case cannot be checked against SymPy",
                       case.line_of() if isinstance(case, Case) else None)
    except Exception as exc:  # a bug of ours must not end the run or lose other cases
        result = error(name, file,
                       f"{file}: internal error while checking: {type(exc).__name__}: {exc}")
    # one line each, whatever case text a message quotes (an expression may hold a newline)
    result.problems = [p.retold(one_line(p)) if isinstance(p, Problem) else one_line(p)
                       for p in result.problems]
    result.notes = [one_line(n) for n in result.notes]
    result.seconds = time.perf_counter() - start
    return result


def _stopped(result: CaseResult, said: str) -> CaseResult:
    """A case whose time ran out after a problem was found: failed, as it is, whatever the
    rest would have found; a timeout never takes the place of a failure."""
    result.status = FAILED
    result.notes.append(f"{said}; the problems above were found before it, the rest of the "
                        "case was not checked")
    return result


def _sweeping(sweep: str | None, result: CaseResult) -> bool:
    if sweep not in SWEEPS:
        raise ValueError(f"sweep must be one of {SWEEPS}, not {sweep!r}")
    wanted = sweep == "always" or (sweep == "unless passed" and result.status != PASSED) \
        or (sweep == "where telling" and result.telling)
    return wanted and result.status != ERROR


def check_case(case: Case | Behaviour, begun: list | None = None) -> CaseResult:
    """One case checked; begun, if given, receives the result as soon as it is made."""
    if isinstance(case, Behaviour):
        return run_behaviour(case)
    if case.tensor:
        return check_tensor(case)
    result = CaseResult(name=case.name, file=case.file, status=PASSED, dtype=case.dtype,
                        title=case.title, points_total=case.count, line=case.line_of(),
                        notes=list(case.notes))
    if begun is not None:
        begun.append(result)
    symbolic = Symbolic(case)
    domain: list[str] = []
    seen = {dtype: Recorder() for dtype in dict.fromkeys(("float64", case.dtype))}
    # one float64 pass: its values are the hand-written method's forward, its .grad autograd's
    grads64, values = autograd_gradients(case, "float64", _both(watch_domain(case, domain),
                                                                seen["float64"]))
    values = {name: v.detach() for name, v in values.items()}
    domain += _overflows(case, values, bool(domain))
    result.problems += domain + lint.problems(case, values, lambda i: at_point(case, i))
    result.graph = _graph(case, values)
    grads, traced = autograd_gradients(case, "float32", seen["float32"]) \
        if case.dtype == "float32" else (grads64, None)  # traced: kept only for Rounding
    methods = _methods(case, values, symbolic, grads, grads64)
    survey = survey_kinks(case, seen)  # no derivative to agree on at a kink
    # the case at random points near its own, where a right-valued formula is checked as one
    there = formulas.elsewhere(case, symbolic.derivatives) if case.edges or case.gradient \
        else None
    result.formulas_at = formulas.moved_inputs(case, there)
    scale = _scales(values, methods)   # what flows into each entry, a number a point
    _check_edges(case, symbolic, result, survey, there, scale)
    beside = honesty.beside_kinks(case, methods, survey)  # what is compared where SymPy is nan
    # float32 autograd's rounding is a note (float32_notes), never the verdict
    agree_rounded(case, honesty.without_kinks(case, beside, survey), result, quiet=bool(domain),
                  scale=scale)
    if not domain:  # nothing said yet why a gradient could have no value
        result.problems += _unchecked(case, beside, survey)
    _check_totals(case, methods, result, there, scale)
    fd = finite_opinion(case)
    result.notes += honesty.kink_notes(case, survey, at_point)
    result.notes += honesty.finite_notes(case, methods, fd, survey, at_point)
    _check_claims(case, symbolic, honesty.claimed(case, beside, survey, result.notes), result,
                  scale)
    rounding = Rounding(case, symbolic, methods, traced, LISTED_POINTS) \
        if traced is not None else None   # a float32 case
    result.notes += honesty.float32_notes(case, methods, rounding, at_point)
    hessians = hessian.check(case, symbolic, values, survey, result, at_point) \
        if case.order == 2 else ({}, {})
    result.points = _points(case, methods, fd, survey, rounding, hessians)
    if result.problems:
        result.status = FAILED
    return result


def gradients(case: Case) -> dict[str, dict]:
    """Each method's gradients at every point of case (method -> parameter -> array),
    unchecked: for a report that draws them over a range."""
    with torch.no_grad():
        values = forward(case, leaves(case))
    return _methods(case, values, Symbolic(case))


def _methods(case: Case, values: dict, symbolic: Symbolic, grads: dict | None = None,
             grads64: dict | None = None) -> dict:
    """Each method's gradients: parameter -> array over points (grads, grads64: autograd's in
    the case's dtype and in float64, if run)."""
    methods = {"manual": manual_gradients(case, values), "sympy": symbolic.gradients()}
    if case.gradient and case.edges:  # both given: the total derivative is checked too
        methods["manual_total"] = manual_totals(case, values)
    methods["autograd"] = grads if grads is not None else autograd_gradients(case, case.dtype)[0]
    if case.dtype != "float64":
        methods["autograd_float64"] = grads64 if grads64 is not None \
            else autograd_gradients(case, "float64")[0]
    return methods


# --- the checks ---------------------------------------------------------------------------

def _scales(values: dict, methods: dict) -> np.ndarray:
    """(P,): the magnitude of the values and of SymPy's gradients at each point, the scale on
    which "near" is measured (docs/how-it-checks.md, the comparison rule)."""
    return compare.scales(*(v.numpy() for v in values.values()), *methods["sympy"].values())


def _check_edges(case: Case, symbolic: Symbolic, result: CaseResult, survey,
                 there: formulas.Elsewhere | None, scale: np.ndarray) -> None:
    rtol, atol = compare.tolerance("float64", case.tolerance)
    readable = Readable()   # a wrong edge's formula simplified within a budget
    for edge in case.edges.values():
        hand, exact = symbolic.edge_pair(edge.expr, edge.node, edge.parent)
        kinked = survey.nodes.get(edge.node)
        if kinked is None:
            g = compare.gap(hand, exact, rtol, atol, scale)
        else:  # on a switch point the local derivative need not exist: compared elsewhere
            shape = (len(kinked),) + (1,) * (np.ndim(hand) - 1)
            off = kinked.reshape(shape)
            g = compare.gap(np.where(off, np.nan, hand), np.where(off, np.nan, exact), rtol, atol,
                            scale)
        # SymPy's own expression is right as a formula too: nothing to evaluate elsewhere
        wrong = formulas.wrong_edge(case, there, edge) if g.ok and there is not None \
            and not symbolic.own(edge.expr, edge.node, edge.parent) else None
        differs = "" if g.ok else \
            f"differs at {at_point(case, g.index)} by {g.diff:.6g} ({g.a:.10g} vs {g.b:.10g})"
        if not g.ok:  # said before its formula is made, so the verdict stands if time runs out
            result.problems.append(problem(
                case, f"chain_rule edge {edge.key}: hand-written {edge.text} {differs} from "
                "SymPy's", "chain_rule", edge.key))
        form = readable.form(symbolic, edge.node, edge.parent) if not g.ok or wrong is not None \
            else symbolic.form(edge.node, edge.parent, simplify=False)
        status = PASSED if g.ok and wrong is None else FAILED
        result.edges.append(EdgeResult(edge.key, status, edge.text, form,
                                       case.line_of("chain_rule", edge.key),
                                       _base(hand, case), _base(exact, case)))
        if not g.ok:
            result.problems[-1] = problem(
                case, f"chain_rule edge {edge.key}: hand-written {edge.text}, SymPy {form}; "
                f"{differs}{g.never}", "chain_rule", edge.key)
        elif wrong is not None and there is not None:
            index, hand, exact = wrong
            result.problems.append(problem(
                case, f"chain_rule edge {edge.key}: hand-written {edge.text}, SymPy {form}; "
                f"right at the case's points, wrong as a formula: at "
                f"{formulas.place(there.case, index)} it gives {hand:.10g} and SymPy "
                f"{exact:.10g}", "chain_rule", edge.key))


def _check_totals(case: Case, methods: dict, result: CaseResult,
                  there: formulas.Elsewhere | None, scale: np.ndarray) -> None:
    """A hand-written total derivative that agrees with SymPy at the case's points, checked as
    a formula too (one that disagrees there is already a problem)."""
    if there is None or not case.gradient:
        return
    rtol, atol = compare.tolerance("float64", case.tolerance)
    hand = methods.get("manual_total", methods["manual"])
    right_here = {p for p in case.gradient
                  if compare.gap(hand[p], methods["sympy"][p], rtol, atol, scale).ok}
    for param, (index, value, exact) in formulas.wrong_totals(case, there).items():
        if param in right_here:
            result.problems.append(problem(
                case, f"gradient {param}: the hand-written total {case.gradient[param][1]} is "
                f"right at the case's points, wrong as a formula: at "
                f"{formulas.place(there.case, index)} it gives {value:.10g} and SymPy "
                f"{exact:.10g}", "gradient", param))


def _unchecked(case: Case, methods: dict, survey) -> list[str]:
    """A gradient that neither SymPy nor autograd gives as a number, at a point where no kink
    and no domain explains it, was never checked: every method agreeing on nan is no pass."""
    problems: list[str] = []
    for p in case.params:
        exact, torch64 = (np.broadcast_to(np.asarray(methods[m][p], dtype=float),
                                          (case.count,) + np.shape(methods[m][p])[1:])
                          .reshape(case.count, -1) for m in ("sympy", "autograd"))
        agreed = (exact == torch64) | (np.isnan(exact) & np.isnan(torch64))  # else: _agree
        none = (~np.isfinite(exact) & agreed).any(axis=1)
        none &= ~survey.mask(p, case.count)
        if none.any():
            i = int(np.flatnonzero(none)[0])
            k = int(np.flatnonzero(~np.isfinite(exact[i]) & agreed[i])[0])
            problems.append(problem(
                case, f"gradient {p} has no value at {at_point(case, (i,))}: SymPy gives "
                f"{exact[i, k]:g} and autograd {torch64[i, k]:g}, so it cannot be checked there",
                *about(case, p)))
    return problems


def _check_claims(case: Case, symbolic: Symbolic, exact: dict, result: CaseResult,
                  scale: np.ndarray) -> None:
    rtol, atol = compare.tolerance(case.dtype, case.tolerance)
    for claim in case.claims:
        full = exact[claim.target] if claim.kind == "grad" else symbolic.value_of(claim.target)
        value = _unpad(full[claim.point], case, claim.target)
        ok = compare.as_written(claim.value, value, claim.slack, rtol, atol,
                                scale[min(claim.point, len(scale) - 1)], case.dtype)
        result.claims.append(ClaimResult(claim.key, claim.written, listed(value),
                                         PASSED if ok else FAILED, claim.point))
        if not ok:
            result.problems.append(false_claim(case, claim, value,
                                               copied_inputs(case, claim, value)))


def _both(*watches):
    """One forward-pass watch that calls each of watches."""
    def watch(tree, args):
        for w in watches:
            w(tree, args)
    return watch


def _overflows(case: Case, values: dict, explained: bool) -> list[str]:
    """A node that overflows float64 makes every method agree on inf: that is no check."""
    if explained:  # a domain problem already says why values are not finite
        return []
    for name, node in case.nodes.items():
        if math.isfinite(values[name].sum()):  # no inf, nor nan: one pass, and no copy
            continue
        bad = torch.isinf(values[name]).reshape(case.count, -1).any(dim=1)
        if bad.any():
            point = int(torch.nonzero(bad)[0][0])
            return [problem(case, f"{case.file}:{case.line_of('forward', name)}: {name} = "
                            f"{node.text} overflows float64 (inf) at {at_point(case, (point,))}, "
                            "so its gradient cannot be checked there", "forward", name)]
    return []


# --- presenting ---------------------------------------------------------------------------

def _points(case: Case, methods: dict, fd, survey, rounding, hessians) -> list[PointResult]:
    n = min(case.count, LISTED_POINTS)
    unpadded = lambda v, p: listed(_unpad(v, case, p))  # noqa: E731
    # whole batches listed at once: a Python loop over values per point was the cost
    at = {name: _rows(v[:n], case, name) for name, v in case.points.items()}
    # a hand-written total may be given for some parameters only (manual_total lacks the rest)
    rows = {p: {m: _rows(g[p][:n], case, p) for m, g in methods.items() if p in g}
            for p in case.params}
    points = []
    for i in range(n):
        grads = {p: {m: by[i] for m, by in rows[p].items()} for p in case.params}
        for p in case.params:
            if fd.directions[p] is None:  # a vector's quotient is along a direction: see details
                grads[p]["finite_difference"] = float(fd.values[p][i])
        details = honesty.entries(case, methods, fd, survey, rounding, i, unpadded)
        second = {k: {m: float(v[i]) for m, v in by.items()} for k, by in hessians[0].items()}
        known = {k: {"differentiable": True, **by.get(i, {})} for k, by in hessians[1].items()}
        points.append(PointResult({name: v[i] for name, v in at.items()}, grads, details,
                                  hessian=second, hessian_details=known,
                                  rounding=rounding.output(i) if rounding else {}))
    return points


def _rows(batch, case: Case, name: str) -> list:
    """listed(_unpad(row)) for each row of a batch; scalars all at once."""
    batch = np.asarray(batch, dtype=float)
    if not _shape(case, name) and batch[0].size == 1:
        return batch.reshape(len(batch)).tolist()
    return [listed(_unpad(row, case, name)) for row in batch]


def _graph(case: Case, values: dict) -> dict:
    """The declared graph with every value at the base point, for the reports to draw."""
    def at_base(name):
        return listed(_unpad(values[name][0].numpy(), case, name))
    inputs = {n: {"value": at_base(n), "grad": i.grad, "shape": list(i.value.shape)}
              for n, i in case.inputs.items()}
    nodes = {n: {"expr": node.text, "value": at_base(n), "shape": list(node.shape),
                 "uses": list(dict.fromkeys(t.id for t in walk(node.expr)
                                            if isinstance(t, Name)))}
             for n, node in case.nodes.items()}
    return {"output": case.output, "inputs": inputs, "nodes": nodes}


def _base(v: np.ndarray, case: Case):
    """An array over points at the base point: a number, or a list in the case's shape."""
    v = np.asarray(v[0], dtype=float)
    if v.size == 1:
        return float(v.reshape(-1)[0])
    return listed(v.reshape(case.shape) if v.size == int(np.prod(case.shape)) else v)


def _unpad(v: np.ndarray, case: Case, name: str) -> np.ndarray:
    shape = _shape(case, name)
    return np.asarray(v).reshape(shape) if np.size(v) == max(math.prod(shape), 1) else v


def _shape(case: Case, name: str) -> tuple:
    return case.inputs[name].value.shape if name in case.inputs else case.nodes[name].shape
