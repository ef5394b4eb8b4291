"""One way to walk a tree: a Visitor dispatches on the node's class, as SymPy's printers do."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

from ._tree import Attr, BinOp, Call, Const, Expr, Index, Name, Neg, Num, Put, Range, Slice, Stack

T = TypeVar("T")
NODES: tuple[type[Expr], ...] = (Num, Const, Name, Neg, BinOp, Call, Attr, Index, Slice, Range,
                                  Stack, Put)


class Visitor(Generic[T]):
    """`visitor(node)` calls `visit_<NodeClass>(node)`; each method says what one kind of node
    is for the visitor (a value, a SymPy expression, a shape...). The methods are looked up
    once per class, not per node: a tree is walked on every pass over a case."""

    _methods: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._methods = {kind: getattr(cls, f"visit_{kind.__name__}") for kind in NODES
                        if hasattr(cls, f"visit_{kind.__name__}")}

    def __call__(self, node: Expr) -> T:
        try:
            method = self._methods[type(node)]
        except KeyError:
            raise TypeError(f"{type(self).__name__} cannot visit {type(node).__name__}") from None
        return method(self, node)


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents first."""
    yield node
    for child in node.children():
        yield from walk(child)


class Rebuild(Visitor[Expr]):
    """The tree rebuilt node by node: subclasses change the nodes they care about."""

    def visit_Num(self, node: Num) -> Expr:
        return node

    visit_Const = visit_Name = visit_Num

    def visit_Neg(self, node: Neg) -> Expr:
        return Neg(self(node.operand), node.col)

    def visit_BinOp(self, node: BinOp) -> Expr:
        return BinOp(node.op, self(node.left), self(node.right), node.col)

    def visit_Call(self, node: Call) -> Expr:
        keywords = tuple((k, tuple(map(self, v)) if isinstance(v, tuple) else self(v))
                         for k, v in node.keywords)
        return Call(node.func, tuple(self(a) for a in node.args), node.col, keywords)

    def visit_Attr(self, node: Attr) -> Expr:
        return Attr(self(node.value), node.name, node.col)

    def visit_Index(self, node: Index) -> Expr:
        return Index(self(node.value), tuple(self(i) for i in node.index), node.col)

    def visit_Slice(self, node: Slice) -> Expr:
        lo, hi = (None if b is None else self(b) for b in (node.lo, node.hi))
        return Slice(lo, hi, node.col)

    def visit_Range(self, node: Range) -> Expr:
        return Range(self(node.stop), node.col)

    def visit_Stack(self, node: Stack) -> Expr:
        return Stack(tuple(self(i) for i in node.items), node.col)

    def visit_Put(self, node: Put) -> Expr:
        target = self(node.target)
        assert isinstance(target, Index)
        return Put(target, self(node.value), node.op, node.col)


class _Swap(Rebuild):
    def __init__(self, target: Expr, new: Expr):
        self.target, self.new = target, new

    def __call__(self, node: Expr) -> Expr:
        return self.new if node is self.target else super().__call__(node)


def swap(tree: Expr, target: Expr, new: Expr) -> Expr:
    """tree with the subtree `target` (by identity, not equality) replaced by `new`."""
    return _Swap(target, new)(tree)


class _Declared(Rebuild):
    def __init__(self, names: set[str]):
        self.names = names

    def visit_Const(self, node: Num | Const) -> Expr:
        if isinstance(node, Const) and node.name in self.names:
            return Name(node.name, node.col)
        return node


def declared(tree: Expr, names: set[str]) -> Expr:
    """tree with each constant that a case declares as a name (an input, node or dim called
    e, as colah's e = (a + b)(b + 1)) read as that name, as Python would."""
    if not any(isinstance(n, Const) and n.name in names for n in walk(tree)):
        return tree
    return _Declared(names)(tree)
