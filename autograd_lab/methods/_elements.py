"""The SymPy method for tensors: each element of each value a SymPy expression.

Every element of a float input is a symbol. Each node's elements are built from its
parents' element symbols by the table's forms on arrays (a node's element of `h @ W2 + b2`
is the sum of h[i, j]*W2[j, k] over j, plus b2[k]), and each gets a symbol of its own.
sympy.diff then gives every local partial derivative exactly, evaluated at the point
(mpmath, 40 digits, or float64 past a size), and the gradient of every name is accumulated
from the output back, over every path: the chain rule with SymPy's own derivatives."""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..case import (
    Attr,
    BinOp,
    Call,
    Case,
    Const,
    Expr,
    Index,
    Name,
    Neg,
    Num,
    Put,
    Range,
    Slice,
    Stack,
    Visitor,
    static_args,
    walk,
)
from ..errors import CaseError
from ..ops import COMPARED, CONSTANTS, FLAGS, FUNCTIONS, OPERATORS, object_array
from . import _numeric as numeric
from ._symbolic import derivative

BUDGET = 30_000           # SymPy's work at full size (see partials); beyond, reduced dims
EXACT_PARTIALS = 5_000    # up to this much, evaluated with mpmath at 40 digits


@dataclass
class Run:
    """SymPy's view of one point: every name's value and the output's gradient by it."""

    values: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    partials: int


def partials(case: Case) -> int:
    """What SymPy's work on the case would be, from the shapes alone: for each node, its
    elements times the partial derivatives of each times the size of each (a partial of an
    element built from k others walks an expression of about k terms)."""
    shapes = {n: i.value.shape for n, i in case.inputs.items()}
    shapes.update({n: node.shape for n, node in case.nodes.items()})
    return sum(math.prod(node.shape) * _work(node.expr, shapes, case.dims)
               for node in case.nodes.values())


def _work(tree: Expr, shapes: dict, dims: dict) -> int:
    """One element's work: the largest fan-in of an operation in it, squared (its partials,
    each an expression of about that many terms), times the names it uses."""
    most = 1
    for node in walk(tree):
        fanin = FUNCTIONS[node.func].fanin if isinstance(node, Call) else None
        if isinstance(node, Call) and fanin is not None:
            args = [_shape(a, shapes) for a in node.args
                    if not (isinstance(a, Const) and a.name == "None")]
            try:
                fan = fanin(*args, **static_args(node, dims, CaseError))
            except (CaseError, TypeError, ValueError, IndexError):
                fan = max((math.prod(s) for s in args), default=1)
            # a variance's partials go through the square of a sum: SymPy's nested rules
            most = max(most, fan * fan if node.func in ("var", "std") else fan)
        elif isinstance(node, BinOp) and node.op == "@":
            most = max(most, 2 * (_shape(node.left, shapes) or (1,))[-1])
    return most * most * max(len(tree.names()), 1)


def _shape(tree: Expr, shapes: dict) -> tuple:
    """A cheap upper bound of a subexpression's shape: its largest named value's."""
    named = [shapes[n] for n in tree.names() if n in shapes]
    return max(named, key=math.prod, default=())


class _Elements(Visitor[np.ndarray]):
    """The tree on arrays of SymPy expressions; names look up arrays of element symbols."""

    def __init__(self, env: dict, numbers):
        self.env, self.numbers = env, numbers   # numbers(array) -> its values, for indices

    def visit_Name(self, node: Name):
        return self.env[node.id]

    def visit_Num(self, node: Num):
        return object_array(sp.Rational(node.value.numerator, node.value.denominator))

    def visit_Const(self, node: Const):
        return FLAGS[node.name] if node.name in FLAGS else object_array(CONSTANTS[node.name][1])

    def visit_Neg(self, node: Neg):
        return object_array(-_counted(self(node.operand)))

    def visit_BinOp(self, node: BinOp):
        op = OPERATORS[node.op]
        if node.op in COMPARED:    # a mask: decided by the numbers at the point
            left, right = (self.numbers(object_array(self(side)))
                           for side in (node.left, node.right))
            return np.asarray(COMPARED[node.op](left, right), dtype=bool)
        return op.array()(_counted(self(node.left)), _counted(self(node.right)))

    def visit_Put(self, node: Put):
        """x[...] = v on a copy of x's elements."""
        new = np.array(self(node.target.value), copy=True)
        entries = tuple(self._entry(e) for e in node.target.index)
        value = _counted(self(node.value))
        if node.op:
            value = OPERATORS[node.op].array()(object_array(new[entries]), value)
        if new.dtype != object:
            new = new.astype(object)
        value, picked = object_array(value), np.shape(new[entries])
        # an element of an object array takes the expression, not a 0-d array holding it
        new[entries] = value.reshape(())[()] if not picked else np.broadcast_to(value, picked)
        return new

    def visit_Call(self, node: Call):
        op = FUNCTIONS[node.func]
        args = [_counted(self(a)) for a in node.args]
        return object_array(op.array()(*args, **static_args(node, self.env, CaseError)))

    def visit_Attr(self, node: Attr):
        if node.name == "T":
            value = self(node.value)
            return value.T if value.ndim <= 2 else np.swapaxes(value, -1, -2)
        call = node.value
        assert isinstance(call, Call)
        if node.name == "values":
            return self(call)
        # .indices: where the values are largest (smallest), from the numbers at the point
        inner = self.numbers(self(call.args[0]))
        dim = static_args(call, self.env, CaseError)["dim"]
        found = (np.argmax if call.func == "max" else np.argmin)(inner, axis=dim)
        keep = static_args(call, self.env, CaseError).get("keepdim")
        return np.expand_dims(found, dim) if keep else found

    def visit_Index(self, node: Index):
        return object_array(self(node.value)[tuple(self._entry(e) for e in node.index)])

    def _entry(self, node: Expr):
        if isinstance(node, Slice):
            return slice(*(None if b is None else self._integer(b) for b in (node.lo, node.hi)))
        if isinstance(node, Range):
            return np.arange(self._integer(node.stop))
        if isinstance(node, Stack):
            return np.array([self._integer(item) for item in node.items], dtype=np.int64)
        value = self(node)
        if value is None:
            return None
        return value if isinstance(value, np.ndarray) and value.dtype != object else \
            self._integer(node)

    def _integer(self, node: Expr) -> int:
        value = self(node)
        return int(value) if not isinstance(value, np.ndarray) else int(value.item())

    def visit_Stack(self, node: Stack):
        return np.stack([object_array(self(item)) for item in node.items])


class Elements:
    """SymPy's gradient of every name of a tensor case at one point."""

    def __init__(self, case: Case):
        self.case = case
        self.count = partials(case)
        self.backend = numeric.EXACT if self.count <= EXACT_PARTIALS else numeric.FAST

    def run(self, point: int = 0) -> Run:
        case, backend = self.case, self.backend
        env: dict = dict(case.dims)
        numbers: dict = {}         # symbol -> its value at the point
        owner: dict = {}           # symbol -> (name, flat index)
        local: dict = {}           # node -> its elements in its parents' symbols
        values: dict = {}
        with backend.precision():
            for name, spec in case.inputs.items():
                given = np.asarray(case.points[name][point])
                if spec.integer:
                    env[name] = values[name] = given.astype(np.int64)
                    continue
                env[name] = self._symbols(name, given, numbers, owner)
                values[name] = given.astype(float)
            for name, node in case.nodes.items():
                built = _Elements(env, lambda a: self._numbers(a, numbers))(node.expr)
                if isinstance(built, np.ndarray) and built.dtype != object:
                    env[name] = values[name] = built            # integers (indices)
                    continue
                built = np.broadcast_to(object_array(built), node.shape)
                local[name] = built
                computed = self._numbers(built, numbers)
                values[name] = computed
                env[name] = self._symbols(name, computed, numbers, owner)
            grads = self._backward(env, local, numbers, owner, self._seed(env, numbers))
        return Run(values, grads, self.count)

    def _symbols(self, name: str, value: np.ndarray, numbers: dict, owner: dict) -> np.ndarray:
        symbols = np.empty(value.shape, dtype=object)
        for i, index in enumerate(np.ndindex(value.shape)):
            s = sp.Symbol(f"{name}{list(index) if index else ''}", real=True)
            symbols[index] = s
            numbers[s] = self.backend.number(float(value[index]), None) \
                if self.backend is numeric.FAST else _mpf(value[index])
            owner[s] = (name, i)
        return symbols

    def _numbers(self, elements: np.ndarray, numbers: dict) -> np.ndarray:
        out = np.empty(np.shape(elements), dtype=float)
        for index in np.ndindex(out.shape):
            out[index] = _float(self.backend.value(sp.sympify(elements[index]), numbers))
        return out

    def _backward(self, env: dict, local: dict, numbers: dict, owner: dict,
                  seed: np.ndarray) -> dict:
        case = self.case
        grads = {n: np.zeros(np.shape(env[n]), dtype=object) for n in [*case.inputs, *local]
                 if n in local or not case.inputs[n].integer}
        for g in grads.values():
            g.fill(self.backend.zero)
        grads[case.output] = seed
        for name in reversed(list(local)):
            adjoint, elements = grads[name], local[name]
            for index in np.ndindex(elements.shape):
                a = adjoint[index]
                if a == 0:
                    continue
                expr = sp.sympify(elements[index])
                for s in expr.free_symbols:
                    parent, flat = owner[s]
                    d = self.backend.value(_partial(expr, s), numbers)
                    target = grads[parent].reshape(-1)
                    target[flat] = target[flat] + a * d
        with np.errstate(over="ignore"):   # past float64 is inf, which the check says in words
            return {n: np.vectorize(_float, otypes=[float])(g) for n, g in grads.items()}

    def _seed(self, env: dict, numbers: dict) -> np.ndarray:
        """The output's own gradient: 1 for a scalar, else the upstream gradient given."""
        shape = self.case.nodes[self.case.output].shape
        given = self.case.upstream
        if given is None:
            seed = np.empty(shape, dtype=object)
            seed.fill(self.backend.number(1, 1))
            return seed
        built = given if isinstance(given, np.ndarray) else _Elements(
            env, lambda a: self._numbers(a, numbers))(given)
        values = np.broadcast_to(self._numbers(object_array(built), numbers), shape)
        seed = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            seed[index] = _mpf(values[index]) if self.backend is numeric.EXACT else \
                float(values[index])
        return seed


def _counted(value):
    """A mask where it meets numbers: its 0s and 1s as integers (SymPy takes no booleans)."""
    if isinstance(value, np.ndarray) and value.dtype == bool:
        return value.astype(np.int64)
    return value


def _partial(expr: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """d expr / d s: sympy.diff's expression, without its overhead of building and resolving
    a Derivative at every level of every one of many small partials (_symbolic.derivative)."""
    return derivative(expr, s)


def _mpf(value):
    return mpmath.mpf(float(value))


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
