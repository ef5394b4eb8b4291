"""Second derivatives three ways: hand-written entries, SymPy, and torch's double backward."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from ..case import Case
from ._autograd import DTYPES
from ._manual import forward, full, leaves, to_numpy
from ._symbolic import Built, Reduction, Symbolic
from ._torch import evaluate


def manual(case: Case, values: dict) -> dict[tuple, np.ndarray]:
    """Each hand-written entry evaluated on the float64 forward values: (p, q) -> (P,)."""
    with torch.no_grad():
        return {(e.p, e.q): _per_point(full(evaluate(e.expr, values), case, values), case)
                for e in case.hessian.values()}


def autograd(case: Case, pairs: list[tuple], dtype: str) -> dict[tuple, np.ndarray]:
    """torch: the gradient with create_graph=True, then backward through it again."""
    env = leaves(case, DTYPES[dtype], grad=True)
    output = forward(case, env)[case.output]
    params = [env[p] for p in case.params]
    if not output.requires_grad:
        return {pair: np.zeros(case.count) for pair in pairs}
    # points are independent, so each sum's gradient is each point's own
    first = dict(zip(case.params, torch.autograd.grad(output.sum(), params, create_graph=True,
                                                      allow_unused=True)))
    out = {}
    for p, q in pairs:
        g = first[p]  # None where the output does not depend on p
        second = torch.autograd.grad(g.sum(), env[q], retain_graph=True, allow_unused=True)[0] \
            if g is not None and g.requires_grad else None
        out[(p, q)] = _per_point(second if second is not None else torch.zeros_like(env[q]), case)
    return out


def sympy(symbolic: Symbolic, pairs: list[tuple]) -> dict[tuple, np.ndarray]:
    """d/dq d/dp of the expanded output; a sum or mean is differentiated as one too."""
    built = symbolic.output()
    reductions = list(built.reductions)
    cache: dict = {}
    exprs = {(p, q): _total(_total(built.expr, p, symbolic, reductions, cache), q, symbolic,
                            reductions, cache) for p, q in pairs}
    values = symbolic.values()
    with symbolic.backend.precision():
        env = symbolic.with_reductions(Built(sp.Integer(0), reductions), values)
        return {pair: _per_point(symbolic.backend.floats(
                    symbolic.full(symbolic.backend.value(e, env))), symbolic.case)
                for pair, e in exprs.items()}


def _total(e: sp.Expr, wrt: str, symbolic: Symbolic, reductions: list, cache: dict) -> sp.Expr:
    """d e / d wrt, where a reduction's symbol moves as its argument does.

    d mean(u)/dq is mean(du/dq): a new reduction over the derivative of the argument, so the
    result is again an expression over symbols and can be differentiated once more."""
    out = sp.diff(e, symbolic.symbols[wrt])
    for r in [r for r in reductions if r.symbol in e.free_symbols]:
        key = (r.symbol, wrt)
        if key not in cache:
            d = _total(r.arg, wrt, symbolic, reductions, cache)
            cache[key] = sp.Integer(0) if d == 0 else _new(r, wrt, d, reductions)
        out += sp.diff(e, r.symbol) * cache[key]
    return out


def _new(r: Reduction, wrt: str, d: sp.Expr, reductions: list) -> sp.Symbol:
    symbol = sp.Symbol(f"d{r.symbol.name}/d{wrt}#{len(reductions)}", real=True)
    reductions.append(Reduction(symbol, r.kind, d, r.shape))
    return symbol


def _per_point(v, case: Case) -> np.ndarray:
    if isinstance(v, torch.Tensor) and v._is_zerotensor():  # what backward gives for 0*u
        v = torch.zeros(v.shape, dtype=torch.float64)
    v = to_numpy(v) if isinstance(v, torch.Tensor) else np.asarray(v, dtype=float)
    return np.broadcast_to(v, (case.count,) + v.shape[1:]).reshape(case.count, -1)[:, 0]
