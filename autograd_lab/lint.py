"""Lints over the expression tree: the shapes a tutorial gets wrong, checked at every point."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np
import torch

from . import expr as E
from .methods.tensors import evaluate

ONE = E.Num(Fraction(1))


@dataclass(frozen=True)
class CrossEntropy:
    """-(t*log(p) + (1 - t)*log(1 - p)) found in a tree: its target t and prediction p."""

    target: E.Expr
    prediction: E.Expr


def cross_entropies(tree: E.Expr) -> list[CrossEntropy]:
    """Every binary cross-entropy in the tree, written as the tutorials write it.

    The two terms may come in either order, with their factors either way round, negated
    as a whole or term by term; they must carry the same sign."""
    found: list[CrossEntropy] = []
    for sub in E.walk(tree):
        if isinstance(sub, E.BinOp) and sub.op in "+-":
            for match in _matches(_terms(sub, 1)):
                if match not in found:
                    found.append(match)
    return found


def _terms(tree: E.Expr, sign: int) -> list[tuple[int, E.Expr]]:
    if isinstance(tree, E.BinOp) and tree.op in "+-":
        return _terms(tree.left, sign) + _terms(tree.right, sign if tree.op == "+" else -sign)
    if isinstance(tree, E.Neg):
        return _terms(tree.operand, -sign)
    return [(sign, tree)]


def _factors(tree: E.Expr, sign: int = 1) -> tuple[int, list[E.Expr]]:
    if isinstance(tree, E.Neg):
        return _factors(tree.operand, -sign)
    if isinstance(tree, E.BinOp) and tree.op == "*":
        sign, left = _factors(tree.left, sign)
        sign, right = _factors(tree.right, sign)
        return sign, left + right
    return sign, [tree]


def _weighted_log(sign: int, term: E.Expr):
    """(sign, weight, argument) for a term weight*log(argument), else None."""
    sign, factors = _factors(term, sign)
    logs = [f for f in factors if isinstance(f, E.Call) and f.func == "log"]
    if len(factors) != 2 or not logs:
        return None
    weight = factors[1] if factors[0] is logs[0] else factors[0]
    return sign, weight, logs[0].args[0]


def _one_minus(tree: E.Expr):
    if isinstance(tree, E.BinOp) and tree.op == "-" and tree.left == ONE:
        return tree.right
    return None


def _matches(terms: list) -> list[CrossEntropy]:
    logs = [w for w in (_weighted_log(s, t) for s, t in terms) if w]
    out = []
    for sign, target, prediction in logs:
        for other_sign, weight, argument in logs:
            if (other_sign == sign and _one_minus(weight) == target
                    and _one_minus(argument) == prediction):
                out.append(CrossEntropy(target, prediction))
    return out


def target_problems(node: str, text: str, tree: E.Expr, env: dict,
                    where: Callable[[tuple], str], functions: dict | None = None) -> list[str]:
    """A problem for each cross-entropy in tree whose target leaves [0, 1] somewhere."""
    problems = []
    for found in cross_entropies(tree):
        with torch.no_grad():
            target = _array(evaluate(found.target, env, functions=functions))
        bad = (target < 0) | (target > 1)
        if not bad.any():
            continue
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        value = float(target[index])
        loss = _scalar_at(env.get(node), index)
        problems.append(
            f"binary cross-entropy in {node} = {text}: its target {found.target} is {value:g}"
            f"{' at ' + where(index) if where(index) else ''}, outside [0, 1]; a cross-entropy "
            "target is a probability (a label, 0 or 1), so this loss means nothing"
            + (f" (here it comes out {loss:.5g})" if loss is not None else ""))
    return problems


def problems(case, values: dict, where: Callable[[tuple], str]) -> list[str]:
    """The lints over every node of a gradient case, at every point (values batched)."""
    out: list[str] = []
    for name, node in case.nodes.items():
        out += target_problems(name, node.text, node.expr, values, where)
    return out


def _array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64).numpy()
    return np.asarray(value, dtype=float)


def _scalar_at(value, index: tuple):
    """The node's value where the target is bad, when that is one number."""
    if value is None:
        return None
    array = _array(value)
    if array.size == 1:
        return float(array.reshape(-1)[0])
    if index and array.ndim and array[index[0]].size == 1:
        return float(array[index[0]].reshape(-1)[0])
    return None
