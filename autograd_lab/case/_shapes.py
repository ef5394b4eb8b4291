"""The shape of an expression's value, from the shapes of the names it uses."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from ..ops import FLAGS, FUNCTIONS, OPERATORS, ShapeError, index_shape, stack_shape, t_shape
from ._parse import constant_value
from ._tree import Attr, BinOp, Call, Const, Expr, Index, Name, Neg, Num, Range, Slice, Stack
from ._visit import Rebuild, Visitor

Shape = tuple[int, ...]


class _Shapes(Visitor[Shape]):
    def __init__(self, shapes: dict[str, Shape], fail: Callable[[str], Exception]):
        self.shapes, self.fail = shapes, fail

    def visit_Num(self, node: Num | Const) -> Shape:
        return ()

    visit_Const = visit_Num

    def visit_Name(self, node: Name) -> Shape:
        return self.shapes[node.id]

    def visit_Neg(self, node: Neg) -> Shape:
        return self(node.operand)

    def visit_BinOp(self, node: BinOp) -> Shape:
        return self._one((node.left, node.right))

    def visit_Call(self, node: Call) -> Shape:
        found = self._one(node.args)
        return () if FUNCTIONS[node.func].reduces else found

    def _one(self, children) -> Shape:
        """A scalar broadcasts against a vector; vectors of different shapes do not meet."""
        found = {self(child) for child in children} - {()}
        if len(found) > 1:
            raise self.fail("mismatched shapes " + " and ".join(map(str, sorted(found))))
        return found.pop() if found else ()


def shape_of(tree: Expr, shapes: dict[str, Shape], fail: Callable[[str], Exception]) -> Shape:
    """The shape of tree's value: () for a scalar, else the one shape of its vectors;
    fail(message) is raised where vectors of different shapes meet."""
    return _Shapes(shapes, fail)(tree)


# --- tensors: any rank, broadcasting, the table's shape rules ------------------------------

@dataclass(frozen=True)
class Kind:
    """What a tensor expression gives: its shape, whether it holds integers (indices, labels:
    never differentiated), and whether it is the (values, indices) pair of a max or min along
    a dim, which must be taken apart with .values or .indices."""

    shape: Shape
    integer: bool = False
    pair: bool = False


SCALAR = Kind(())


def static_value(node: Expr | tuple, dims: dict, fail: Callable[[str], Exception]):
    """A static argument's value: an int (a dim, a size), a tuple of them, True/False, or
    None; anything else fails, naming the argument."""
    if isinstance(node, tuple):
        return tuple(static_value(n, dims, fail) for n in node)
    try:
        value = constant_value(node, dims)
    except (ValueError, OverflowError, ZeroDivisionError):
        raise fail(f"{node} must be an integer, a dim, True or False, known when the case "
                   "is read") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise fail(f"{node} must be a whole number, not {value:g}")
        return int(value)
    return value


def static_args(node: Call, dims: dict, fail) -> dict:
    return {name: static_value(value, dims, fail) for name, value in node.keywords}


class _Bind(Rebuild):
    """max(x, 1) and min(x, d) with a constant or a dim second argument are along that dim,
    as torch reads them: the second argument becomes the keyword dim."""

    def __init__(self, dims: dict):
        self.dims = dims

    def visit_Call(self, node: Call) -> Expr:
        node = cast(Call, super().visit_Call(node))
        if node.func in ("max", "min") and len(node.args) == 2 and self._static(node.args[1]):
            return Call(node.func, node.args[:1], node.col,
                        (("dim", node.args[1]), *node.keywords))
        return node

    def _static(self, node: Expr) -> bool:
        try:
            constant_value(node, self.dims)
        except (ValueError, OverflowError, ZeroDivisionError):
            return False
        return True


def bind(tree: Expr, dims: dict) -> Expr:
    return _Bind(dims)(tree)


class _Kinds(Visitor[Kind]):
    def __init__(self, kinds: dict[str, Kind], dims: dict, fail: Callable[[str], Exception]):
        # a name is its tensor where an input or node has it (the contract's MLP has both a
        # dim h and a node h), else its dim
        self.kinds, self.fail = kinds, fail
        self.dims = {name: size for name, size in dims.items() if name not in kinds}

    def value(self, node: Expr) -> Kind:
        """An operand: a tensor or a number, never a (values, indices) pair."""
        kind = self(node)
        if kind.pair:
            raise self.fail(f"{node} gives values and indices: take .values or .indices")
        return kind

    def visit_Num(self, node: Num) -> Kind:
        return SCALAR

    def visit_Const(self, node: Const) -> Kind:
        if node.name in FLAGS:
            raise self.fail(f"{node.name} is allowed only as a flag such as keepdim={node.name}")
        return SCALAR

    def visit_Name(self, node: Name) -> Kind:
        return self.kinds[node.id] if node.id in self.kinds else Kind((), integer=True)

    def visit_Neg(self, node: Neg) -> Kind:
        return self.value(node.operand)

    def visit_BinOp(self, node: BinOp) -> Kind:
        a, b = self.value(node.left), self.value(node.right)
        op = OPERATORS[node.op]
        shape = self._rule(node, lambda: op.shape_of([a.shape, b.shape], {}))
        return Kind(shape, a.integer and b.integer and node.op in "+-*")

    def visit_Call(self, node: Call) -> Kind:
        op = FUNCTIONS[node.func]
        args = [None if isinstance(a, Const) and a.name == "None" else self.value(a)
                for a in node.args]
        static = static_args(node, self.dims, self.fail)
        shapes = [a.shape for a in args if a is not None]
        if node.func in ("max", "min") and len(args) == 2 and args[1] is not None:
            static["other"] = args[1].shape
            shapes = shapes[:1]
        shape = self._rule(node, lambda: op.shape_of(shapes, static))
        pair = node.func in ("max", "min") and static.get("dim") is not None
        integer = op.integer or (bool(args) and args[0] is not None and args[0].integer
                                 and not op.floating and node.func not in _FLOATING)
        return Kind(shape, integer, pair)

    def visit_Attr(self, node: Attr) -> Kind:
        inner = self(node.value)
        if node.name == "T":
            if inner.pair:
                raise self.fail(f"{node.value} gives values and indices: take .values first")
            return Kind(self._rule(node, lambda: t_shape(inner.shape)), inner.integer)
        if not inner.pair:
            raise self.fail(f".{node.name} belongs to max or min along a dim "
                            f"(x.max(1).{node.name}), not to {node.value}")
        return Kind(inner.shape, integer=node.name == "indices")

    def visit_Index(self, node: Index) -> Kind:
        value = self.value(node.value)
        entries = [self._entry(e) for e in node.index]
        shape = self._rule(node, lambda: index_shape(value.shape, tuple(entries)))
        return Kind(shape, value.integer)

    def _entry(self, node: Expr):
        if isinstance(node, Slice):
            lo, hi = (None if b is None else static_value(b, self.dims, self.fail)
                      for b in (node.lo, node.hi))
            return slice(lo, hi)
        if isinstance(node, Range):
            return ("tensor", (static_value(node.stop, self.dims, self.fail),))
        if not node.names() - set(self.dims):   # a number or dims: known when read
            return static_value(node, self.dims, self.fail)
        kind = self.value(node)
        if not kind.integer:
            raise self.fail(f"an index must be an integer or an integer tensor; {node} is not")
        return ("tensor", kind.shape)

    def visit_Slice(self, node: Slice) -> Kind:
        raise self.fail("a slice a:b is allowed only inside a subscript")

    def visit_Range(self, node: Range) -> Kind:
        raise self.fail("range(n) is allowed only inside a subscript: x[range(n), y]")

    def visit_Stack(self, node: Stack) -> Kind:
        kinds = [self.value(item) for item in node.items]
        shape = self._rule(node, lambda: stack_shape(*(k.shape for k in kinds)))
        return Kind(shape, all(k.integer for k in kinds))

    def _rule(self, node: Expr, rule: Callable[[], Shape]) -> Shape:
        try:
            return rule()
        except ShapeError as exc:
            raise self.fail(f"{node}: {exc}") from None


# torch functions that give floats from integers (the mean of labels is a float)
_FLOATING = {"mean", "var", "std", "softmax", "log_softmax", "logsumexp", "exp", "log",
             "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "softplus", "log1p"}


def kind_of(tree: Expr, kinds: dict[str, Kind], dims: dict,
            fail: Callable[[str], Exception]) -> Kind:
    """What tree gives in a tensor case: its shape, integers or not; fail(message) is raised
    where shapes do not fit, naming the part of the expression."""
    return _Kinds(kinds, dims, fail).value(tree)
