"""The expression tree: one node class per form of the language, printed as it is written."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


class Expr:
    """A node of the expression tree; `col` is its 0-based offset in the text."""

    _names: frozenset[str] = frozenset()  # not a field: set once as the node is built
    col: int                              # each node class's field

    def names(self) -> frozenset[str]:
        return self._names

    def children(self) -> tuple[Expr, ...]:
        return ()


def _gather_names(node: Expr) -> None:
    # the names under a node, found once as it is built: asking at every level of the
    # parse had walked the whole subtree each time, quadratic in its depth. A child's set
    # is shared when it holds them all, as it mostly does: fewer objects for the collector
    names: frozenset[str] = frozenset()
    for child in node.children():
        if not child._names <= names:
            names = child._names if names <= child._names else names | child._names
    object.__setattr__(node, "_names", names)


@dataclass(frozen=True)
class Num(Expr):
    value: Fraction
    col: int = field(default=0, compare=False)
    # written with a point or an exponent (1.0, 1e-3): a float to Python and to torch, never a
    # dim, so min(u, 1.0) is element by element where min(u, 1) is along dim 1
    real: bool = field(default=False, compare=False)

    def __str__(self):
        v = self.value
        return str(v.numerator) if v.denominator == 1 else repr(float(v))


@dataclass(frozen=True)
class Const(Expr):
    name: str
    col: int = field(default=0, compare=False)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Name(Expr):
    id: str
    col: int = field(default=0, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_names", frozenset((self.id,)))

    def __str__(self):
        return self.id.partition("#")[0]    # a block's earlier version, as written


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"-{_wrap(self.operand, 3)}"


@dataclass(frozen=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        p = _PRECEDENCE[self.op]
        if self.op == "**":
            return f"{_wrap(self.left, p + 1)}**{_wrap(self.right, p)}"
        right_p = p + 1 if self.op in "-/" else p
        gap = " " if self.op in ("+", "-", "@") or p == 0 else ""  # as SymPy prints: x*y + z
        return f"{_wrap(self.left, p)}{gap}{self.op}{gap}{_wrap(self.right, right_p)}"


@dataclass(frozen=True)
class Call(Expr):
    """f(args, name=value): a function, or a method written x.f(...) (x is then args[0]).
    keywords hold the static arguments (a dim, keepdim, a view's sizes) once bound by name."""

    func: str
    args: tuple[Expr, ...]
    col: int = field(default=0, compare=False)
    keywords: tuple[tuple[str, Expr | tuple[Expr, ...]], ...] = ()

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return self.args + tuple(v for _, value in self.keywords
                                 for v in (value if isinstance(value, tuple) else (value,)))

    def __str__(self):
        named = [f"{k}={_sizes(v)}" for k, v in self.keywords]
        return f"{self.func}({', '.join([*map(str, self.args), *named])})"


def _sizes(value) -> str:
    return "(" + ", ".join(map(str, value)) + ")" if isinstance(value, tuple) else str(value)


@dataclass(frozen=True)
class Attr(Expr):
    """x.T, or .values and .indices of a max or min along a dim."""

    value: Expr
    name: str
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return (self.value,)

    def __str__(self):
        return f"{_wrap(self.value, 5)}.{self.name}"


@dataclass(frozen=True)
class Slice(Expr):
    """lo:hi inside a subscript, either bound left out."""

    lo: Expr | None
    hi: Expr | None
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return tuple(b for b in (self.lo, self.hi) if b is not None)

    def __str__(self):
        return f"{'' if self.lo is None else self.lo}:{'' if self.hi is None else self.hi}"


@dataclass(frozen=True)
class Range(Expr):
    """range(n) inside a subscript: 0, 1, ..., n - 1 (x[range(n), y] picks one a row)."""

    stop: Expr
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return (self.stop,)

    def __str__(self):
        return f"range({self.stop})"


@dataclass(frozen=True)
class Index(Expr):
    """x[i], x[i, j], x[:, j], x[a:b], x[idx] (an integer tensor), x[range(n), idx]."""

    value: Expr
    index: tuple[Expr, ...]
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return (self.value, *self.index)

    def __str__(self):
        return f"{_wrap(self.value, 5)}[{', '.join(map(str, self.index))}]"


@dataclass(frozen=True)
class Stack(Expr):
    """A YAML list of expressions: the tensor stacked from them, one a row."""

    items: tuple[Expr, ...]
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return self.items

    def __str__(self):
        return f"[{', '.join(map(str, self.items))}]"


@dataclass(frozen=True)
class Put(Expr):
    """A statement of a block, `x[...] = v` or `x[...] += v` (op "+", "-", "*", "/"): the
    value of x with those elements replaced, x itself unchanged (a block works on values)."""

    target: Index
    value: Expr
    op: str = ""
    col: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _gather_names(self)

    def children(self):
        return (self.target, self.value)

    def __str__(self):
        return f"{self.target} {self.op}= {self.value}"


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4,
               "<": 0, "<=": 0, ">": 0, ">=": 0, "==": 0, "!=": 0}


def _wrap(node: Expr, minimum: int) -> str:
    if isinstance(node, BinOp):
        p = _PRECEDENCE.get(node.op, 5)
    else:
        p = 3 if isinstance(node, Neg) else 5
    return f"({node})" if p < minimum else str(node)
