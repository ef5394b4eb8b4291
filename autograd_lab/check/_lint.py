"""Lints over the expression tree: the shapes a tutorial gets wrong, checked at every point."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from .. import case as E
from ..methods import evaluate
from ._words import problem

ONE = E.Num(Fraction(1))
MAX_TERMS = 256  # of one sum: a cross-entropy is two; beyond, the sum is not searched further


@dataclass(frozen=True)
class CrossEntropy:
    """-(t*log(p) + (1 - t)*log(1 - p)) found in a tree: its target t and prediction p."""

    target: E.Expr
    prediction: E.Expr


def cross_entropies(tree: E.Expr, nodes: dict | None = None) -> list[CrossEntropy]:
    """Every binary cross-entropy in the tree, written as the tutorials write it.

    The two terms may come in either order, with their factors either way round, negated
    as a whole or term by term; they must carry the same sign. A name in nodes (name -> its
    tree) is looked through, so the loss may be split over nodes (a: y*log(p), loss: -(a + b))."""
    shape = _Shape(nodes or {})
    found: list[CrossEntropy] = []
    for root in _sums(tree, False):
        for match in shape.matches(shape.terms(root, 1, 0)[:MAX_TERMS]):
            if match not in found:
                found.append(match)
    return found


def _sums(tree: E.Expr, inside: bool):
    """The outermost sums (+, -, unary -) of a tree, each flattened once: linear in its size."""
    is_sum = isinstance(tree, E.Neg) or (isinstance(tree, E.BinOp) and tree.op in "+-")
    if is_sum and not inside:
        yield tree
    for child in tree.children():
        yield from _sums(child, is_sum)


class _Shape:
    """The cross-entropy's parts, looking through node names up to MAX_DEPTH deep."""

    MAX_DEPTH = 8

    def __init__(self, nodes: dict):
        self.nodes = nodes

    def open(self, tree: E.Expr, depth: int) -> tuple[E.Expr, int]:
        while isinstance(tree, E.Name) and tree.id in self.nodes and depth < self.MAX_DEPTH:
            tree, depth = self.nodes[tree.id], depth + 1
        return tree, depth

    def terms(self, tree: E.Expr, sign: int, depth: int) -> list[tuple[int, E.Expr, int]]:
        opened, deeper = self.open(tree, depth)
        if isinstance(opened, E.BinOp) and opened.op in "+-":
            return (self.terms(opened.left, sign, deeper)
                    + self.terms(opened.right, sign if opened.op == "+" else -sign, deeper))
        if isinstance(opened, E.Neg):
            return self.terms(opened.operand, -sign, deeper)
        return [(sign, tree, depth)]

    def factors(self, tree: E.Expr, sign: int, depth: int) -> tuple[int, list[E.Expr]]:
        opened, deeper = self.open(tree, depth)
        if isinstance(opened, E.Neg):
            return self.factors(opened.operand, -sign, deeper)
        if isinstance(opened, E.BinOp) and opened.op == "*":
            sign, left = self.factors(opened.left, sign, deeper)
            sign, right = self.factors(opened.right, sign, deeper)
            return sign, left + right
        return sign, [tree]

    def weighted_log(self, sign: int, term: E.Expr, depth: int):
        """(sign, weight, argument) for a term weight*log(argument), else None."""
        sign, factors = self.factors(term, sign, depth)
        logs = [f for f in factors if self.log_of(f) is not None]
        if len(factors) != 2 or not logs:
            return None
        weight = factors[1] if factors[0] is logs[0] else factors[0]
        return sign, weight, self.log_of(logs[0])

    def log_of(self, tree: E.Expr):
        opened, _ = self.open(tree, 0)
        return opened.args[0] if isinstance(opened, E.Call) and opened.func == "log" else None

    def one_minus(self, tree: E.Expr):
        opened, _ = self.open(tree, 0)
        if isinstance(opened, E.BinOp) and opened.op == "-" and opened.left == ONE:
            return opened.right
        return None

    def same(self, a, b) -> bool:
        return a is not None and (a == b or self.open(a, 0)[0] == self.open(b, 0)[0])

    def matches(self, terms: list) -> list[CrossEntropy]:
        logs = [w for w in (self.weighted_log(*t) for t in terms) if w]
        out = []
        for sign, target, prediction in logs:
            for other_sign, weight, argument in logs:
                if (other_sign == sign and self.same(self.one_minus(weight), target)
                        and self.same(self.one_minus(argument), prediction)):
                    out.append(CrossEntropy(target, prediction))
        return out


def target_problems(node: str, text: str, tree: E.Expr, env: dict,
                    where: Callable[[tuple], str], batched: bool = True,
                    nodes: dict | None = None) -> list[str]:
    """A problem for each cross-entropy in tree whose target leaves [0, 1] somewhere."""
    problems = []
    for found in cross_entropies(tree, nodes):
        with torch.no_grad():
            target = _array(evaluate(found.target, env, batched=batched))
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
    nodes = {name: node.expr for name, node in case.nodes.items()}
    for name, node in case.nodes.items():
        out += [problem(case, p, "forward", name)
                for p in target_problems(name, node.text, node.expr, values, where, nodes=nodes)
                if p not in out]
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
