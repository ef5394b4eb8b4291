"""The SymPy method: expressions built from the tree, sympy.diff, evaluated exactly or
vectorised."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp
from sympy.core.cache import cacheit
from sympy.core.function import ArgumentIndexError

from ..case import BinOp, Call, Case, Const, Expr, Name, Neg, Num, Visitor, shape_of
from ..ops import CONSTANTS, FUNCTIONS, OPERATORS
from . import _numeric as numeric

SIMPLIFY_OPS = 1_000   # operations in a formula past which it is printed unsimplified


@dataclass
class Reduction:
    """sum or mean over the elements of `arg`, stood in for by a scalar symbol."""

    symbol: sp.Symbol
    kind: str
    arg: sp.Expr
    shape: tuple      # the shape of arg's value, () for a scalar

    def reduce(self, v: np.ndarray, batch_shape: tuple) -> np.ndarray:
        if not self.shape:     # the sum of a scalar is itself (exact values are mpf, no shape)
            return v
        v = np.broadcast_to(v, batch_shape)
        total = v.sum(axis=tuple(range(1, v.ndim)), keepdims=True)
        return total / self.count if self.kind == "mean" else total

    @property
    def count(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass
class Built:
    """An expression in SymPy, with the reductions its symbols stand for."""

    expr: sp.Expr
    reductions: list[Reduction] = field(default_factory=list)


class Builder(Visitor[sp.Expr]):
    """Tree -> SymPy by the table's SymPy forms, names looked up in `names` (symbols, or whole
    expressions to inline); a sum or mean becomes a scalar symbol standing for it."""

    def __init__(self, names: dict[str, sp.Expr], shapes: dict[str, tuple]):
        self.names, self.shapes = names, shapes
        self.reductions: dict[tuple, Reduction] = {}

    def build(self, tree: Expr) -> Built:
        return Built(self(tree), list(self.reductions.values()))

    def visit_Name(self, node: Name) -> sp.Expr:
        return self.names[node.id]

    def visit_Num(self, node: Num) -> sp.Expr:
        return sp.Rational(node.value.numerator, node.value.denominator)

    def visit_Const(self, node: Const) -> sp.Expr:
        return CONSTANTS[node.name][1]

    def visit_Neg(self, node: Neg) -> sp.Expr:
        return -self(node.operand)

    def visit_BinOp(self, node: BinOp) -> sp.Expr:
        form = OPERATORS[node.op].sympy
        assert form is not None
        return form(self(node.left), self(node.right))

    def visit_Call(self, node: Call) -> sp.Expr:
        op = FUNCTIONS[node.func]
        args = [self(a) for a in node.args]
        if op.reduces:
            return self._reduction(node, args[0])
        assert op.sympy is not None
        return op.sympy(*args)

    def _reduction(self, tree: Call, arg: sp.Expr) -> sp.Symbol:
        key = (tree.func, arg)
        if key not in self.reductions:
            shape = shape_of(tree.args[0], self.shapes, ValueError)
            symbol = sp.Symbol(f"{tree.func}({tree.args[0]})#{len(self.reductions)}", real=True)
            self.reductions[key] = Reduction(symbol, tree.func, arg, shape)
        return self.reductions[key].symbol


class Symbolic:
    """SymPy's view of a case: each node's own expression, and the output fully expanded."""

    def __init__(self, case: Case, derivatives: dict | None = None, fast: bool = False):
        """derivatives: another Symbolic's (its `derivatives`) for the same case at other
        points, shared: a derivative is the same expression wherever it is evaluated (a
        small case's edges cost 1 ms more without it). fast:
        evaluate in float64 however few the values (else at 40 digits up to EXACT_LIMIT)."""
        self.case = case
        self.symbols = {n: sp.Symbol(n, real=True) for n in [*case.inputs, *case.nodes]}
        shapes = {n: i.value.shape for n, i in case.inputs.items()}
        shapes.update({n: node.shape for n, node in case.nodes.items()})
        self.shapes = shapes
        self.backend = numeric.FAST if fast else \
            numeric.choose(case.count * max(int(np.prod(case.shape)), 1))
        self._values: dict | None = None
        # every value this case's expressions reach, shared by all evaluations: the env only
        # ever grows by symbols whose values are fixed (inputs, nodes, reductions). Only for
        # the exact backend: there it saves most of the work, while for big arrays it would
        # keep every intermediate of a million-element array alive
        self._cache: dict | None = {} if self.backend is numeric.EXACT else None
        self._known: dict = {}  # for the fast backend: each node's value, by its expression
        self._output: Built | None = None
        self._diffs: dict = {} if derivatives is None else derivatives
        self._hands: dict = {}   # a hand-written tree -> its SymPy expression

    @property
    def derivatives(self) -> dict:
        """(expression, symbol) -> its derivative: what this case has differentiated so far."""
        return self._diffs

    @cached_property
    def local(self) -> dict[str, Built]:
        """Each node's own expression, in its parents' symbols: built when first needed (a case
        with only total derivatives and no claims never needs them)."""
        return {n: Builder(self.symbols, self.shapes).build(node.expr)
                for n, node in self.case.nodes.items()}

    # --- forward values -------------------------------------------------------------
    def values(self) -> dict[str, np.ndarray]:
        """Every input and node at every point, at the backend's precision."""
        if self._values is None:
            with self.backend.precision():
                self._values = self._forward()
        return self._values

    @cached_property
    def _inputs(self) -> dict:
        return {self.symbols[n]: self.backend.array(v) for n, v in self.case.points.items()}

    def _forward(self) -> dict:
        env = dict(self._inputs)
        inputs = {self.symbols[n] for n in self.case.inputs}
        for name in self.case.nodes:
            built = self.local[name]
            env[self.symbols[name]] = value = self._evaluate(built, env)
            if not built.reductions and built.expr.free_symbols <= inputs:
                # inlined in the output the same expression appears: known, not recomputed
                self._known[built.expr] = value
        return env

    def _memo(self) -> dict:
        """The cache for one evaluation: the exact backend's, shared by all; else the nodes'
        values and, for this evaluation only, its intermediates (big arrays are not kept)."""
        return self._cache if self._cache is not None else dict(self._known)

    def _evaluate(self, built: Built, env: dict) -> np.ndarray:
        env = self.with_reductions(built, env)
        return self.full(self.backend.value(built.expr, env, self._memo()))

    def with_reductions(self, built: Built, env: dict) -> dict:
        env = dict(env)
        for r in built.reductions:
            env[r.symbol] = r.reduce(self.backend.value(r.arg, env, self._memo()),
                                     self._batch(r.shape))
        return env

    def _batch(self, shape: tuple) -> tuple:
        return (self.case.count,) + (shape or (1,) * len(self.case.shape))

    def full(self, v) -> np.ndarray:
        return np.broadcast_to(v, self._batch(()) if np.ndim(v) == 0 else np.shape(v))

    # --- derivatives ------------------------------------------------------------------
    def output(self) -> Built:
        """The output with every node inlined: one expression in the inputs."""
        if self._output is None:
            self._output = self._inline()
        return self._output

    def diff(self, expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
        """sp.diff, once per expression and symbol: an edge's partial serves its check and
        its printed form. Kept for the case whatever SymPy's cache (derivative's, bounded)
        lets go."""
        key = (expr, x)
        if key not in self._diffs:
            self._diffs[key] = derivative(expr, x)
        return self._diffs[key]

    def _inline(self) -> Built:
        names = dict(self.symbols)
        builder = Builder(names, self.shapes)
        for name, node in self.case.nodes.items():
            names[name] = builder(node.expr)
        return Built(names[self.case.output], list(builder.reductions.values()))

    def gradients(self) -> dict[str, np.ndarray]:
        """d output / d parameter at every point, from sympy.diff of the expanded output."""
        built = self.output()
        # the output is in the inputs alone; the nodes' values serve the fast backend only,
        # which reuses them where the output repeats a node's expression
        values = self.values() if self._cache is None else self._inputs
        with self.backend.precision():
            env = self.with_reductions(built, values)
            return {p: self.backend.floats(self.derivative(built, p, env))
                    for p in self.case.params}

    def derivative(self, built: Built, wrt: str, env: dict, shape: tuple | None = None):
        """d built.expr / d wrt, elementwise; reductions enter through reverse accumulation."""
        x = self.symbols[wrt]
        shape = shape or self._batch(self.shapes[wrt])
        value = self._term(self.diff(built.expr, x), env, shape)
        adjoint: dict[int, np.ndarray] = {}
        for k in reversed(range(len(built.reductions))):
            r = built.reductions[k]
            a = self._term(self.diff(built.expr, r.symbol), env, None)
            for m in range(k + 1, len(built.reductions)):
                later = built.reductions[m]
                d = self.diff(later.arg, r.symbol)
                if d != 0:
                    spread = later.reduce(self._term(d, env, None), self._batch(later.shape))
                    a = a + adjoint[m] * spread
            adjoint[k] = a
            d = self.diff(r.arg, x)
            if d != 0:
                if self.shapes[wrt]:  # mean's 1/n joins SymPy's expression: one pass, not two
                    local = self._term(d * (sp.Rational(1, r.count) if r.kind == "mean" else 1),
                                       env, None)
                else:
                    local = r.reduce(self._term(d, env, None), self._batch(r.shape))
                value = _sum_product(value, a, local)
        return np.broadcast_to(value, shape)

    def _term(self, expr: sp.Expr, env: dict, shape):
        if expr == 0:
            return self.backend.zero
        v = self.backend.value(expr, env, self._memo())
        return v if shape is None else np.broadcast_to(v, shape) if np.ndim(v) else v

    def edge(self, node: str, parent: str) -> np.ndarray:
        """SymPy's partial derivative of node's own expression by parent, at every point."""
        built, values = self.local[node], self.values()
        with self.backend.precision():
            env = self.with_reductions(built, values)
            # a vector node's local derivative by a scalar parent is one per element
            shape = self._batch(self.shapes[node] or self.shapes[parent])
            return self.backend.floats(self.full(self.derivative(built, parent, env, shape)))

    def hand(self, tree: Expr) -> np.ndarray:
        """A hand-written expression evaluated at SymPy's precision."""
        return self._hand(self._built(tree))

    def _hand(self, built: Built) -> np.ndarray:
        values = self.values()
        with self.backend.precision():
            return self.backend.floats(self._evaluate(built, values))

    def edge_pair(self, tree: Expr, node: str, parent: str) -> tuple[np.ndarray, np.ndarray]:
        """(the hand-written local derivative, SymPy's) at every point. A hand-written formula
        that is SymPy's own expression equals it by construction, so it is evaluated once:
        the usual right edge, and a pass over a million elements saved."""
        built = self._built(tree)
        hand = self._hand(built)
        shape = self._batch(self.shapes[node] or self.shapes[parent])
        try:
            if self.own(tree, node, parent) and \
                    np.broadcast_shapes(np.shape(hand), shape) == shape:
                return hand, np.broadcast_to(hand, shape)
        except ValueError:  # shapes that do not broadcast: evaluated apart, as any edge
            pass
        return hand, self.edge(node, parent)

    def own(self, tree: Expr, node: str, parent: str) -> bool:
        """The hand-written formula is SymPy's partial derivative itself, the same expression:
        equal to it at every point, so nothing need be evaluated to know it right there."""
        built, local = self._built(tree), self.local[node]
        return not built.reductions and not local.reductions \
            and built.expr == self.diff(local.expr, self.symbols[parent])

    def _built(self, tree: Expr) -> Built:
        if tree not in self._hands:
            self._hands[tree] = Builder(self.symbols, self.shapes).build(tree)
        return self._hands[tree]

    def form(self, node: str, parent: str, simplify: bool = True) -> str:
        """SymPy's partial derivative as a formula, written in the node's own names.

        simplify tries factor and together for the shortest form: readable, but slow
        (most of a small case's time), so it is kept for the formulas a person reads, and
        for formulas of at most SIMPLIFY_OPS operations (its time is bounded by the caller)."""
        built, x = self.local[node], self.symbols[parent]
        d = self.diff(built.expr, x)
        for r in built.reductions:
            scale = sp.Rational(1, r.count) if r.kind == "mean" else 1
            d += self.diff(built.expr, r.symbol) * self.diff(r.arg, x) * scale
        simplify = simplify and sp.count_ops(d) <= SIMPLIFY_OPS
        if not built.expr.is_Symbol:  # xreplace: only where the node stands whole, but cheap
            own = {built.expr: self.symbols[node]}
            d = d.subs(own) if simplify else d.xreplace(own)
        if not simplify:
            return printed(d, order="none")
        return printed(min((d, sp.factor(d), sp.together(d)), key=lambda e: len(str(e))))

    def value_of(self, name: str) -> np.ndarray:
        return self.backend.floats(self.values()[self.symbols[name]])


@cacheit
def derivative(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """sp.diff(expr, x), the same expression: a sum, a product, a power and a function of
    SymPy's (sin, exp, sigmoid, ...) differentiated by SymPy's own rule for it (Add's,
    Mul's Leibniz rule at order 1, Pow's, Function's), the recursion kept here. sympy.diff
    makes a Derivative at every level of an expression, then asks whether the result is
    zero and walks it for Derivatives left inside: a third of a small case's time went
    there. Anything else (Abs, Max, a Piecewise) is sympy.diff's.

    In SymPy's own cache (cacheit, as SymPy's constructors are; cleared by clear_cache):
    cases in one run share their derivatives, at every level of the recursion (sigmoid's
    y*(1 - y), a layer's w*x + b), as they share SymPy's expressions."""
    if x not in expr.free_symbols:
        return sp.S.Zero
    if expr == x:
        return sp.S.One
    kind = type(expr)
    if kind is sp.Add:
        return sp.Add(*[derivative(a, x) for a in expr.args])
    if kind is sp.Mul:
        args = expr.args
        return sp.Add(*[sp.Mul(*args[:i], derivative(a, x), *args[i + 1:])
                        for i, a in enumerate(args)])
    if kind is sp.Pow:
        base, exp = expr.args
        return expr * (derivative(exp, x) * sp.log(base) + derivative(base, x) * exp / base)
    if isinstance(expr, sp.Function) and _rule_of_functions(kind):
        terms = []
        for i, a in enumerate(expr.args, 1):
            da = derivative(a, x)
            if da.is_zero:
                continue
            try:
                df = expr.fdiff(i)
            except ArgumentIndexError:
                df = sp.Function.fdiff(expr, i)
            terms.append(df * da)
        return sp.Add(*terms)
    return sp.diff(expr, x)


def _rule_of_functions(kind: type) -> bool:
    """kind differentiates by Function's own rule: f'(a) times a's derivative, by argument."""
    return getattr(kind, "_eval_derivative", None) is sp.Function._eval_derivative and \
        getattr(kind, "_eval_derivative_n_times", None) is sp.Basic._eval_derivative_n_times


def _sum_product(value, a, local):
    """value + a*local, without the million-element temporaries of adding 0 or scaling by 1."""
    term = local if np.ndim(a) == 0 and a == 1 else a * local
    return term if np.ndim(value) == 0 and value == 0 else value + term


@cacheit
def printed(expr: sp.Expr, order: str | None = None) -> str:
    """SymPy's formula in the case language: a reduction by its written name.

    order="none" prints terms in SymPy's stored order, skipping a slow sort. In SymPy's
    cache, as derivative is: the same formula is printed once a run."""
    return re.sub(r"#\d+", "", sp.sstr(expr, order=order))
