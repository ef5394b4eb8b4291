"""The shape of an expression's value, from the shapes of the names it uses."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from ..errors import CaseError
from ..ops import (
    COMPARED,
    FLAGS,
    FUNCTIONS,
    MAX_RANK,
    OPERATORS,
    ShapeError,
    broadcast_shape,
    index_shape,
    stack_shape,
    t_shape,
)
from ._parse import constant_value
from ._tree import Attr, BinOp, Call, Const, Expr, Index, Name, Neg, Num, Put, Range, Slice, Stack
from ._visit import Rebuild, Visitor, walk

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
    mask: bool = False     # a comparison's 0s and 1s: a mask where it indexes (dz[z <= 0])


SCALAR = Kind(())


def static_value(node: Expr | tuple, dims: dict, fail: Callable[[str], Exception],
                 shadowed: frozenset = frozenset()):
    """A static argument's value: an int (a dim, a size), a tuple of them, True/False, or
    None; anything else fails, naming the argument. shadowed: dims that a node's or an
    input's name hides (the contract's MLP has a dim h and a node h)."""
    if isinstance(node, tuple):
        return tuple(static_value(n, dims, fail, shadowed) for n in node)
    try:
        value = constant_value(node, dims)
    except (ValueError, OverflowError, ZeroDivisionError):
        hidden = sorted(node.names() & shadowed)
        if hidden:
            name, where = hidden[0], "" if isinstance(node, Name) else f"{node}: "
            raise fail(f"{where}{name} here is the tensor {name}, not the dim {name} (where a "
                       "node or an input has a dim's name, the name means the tensor): write "
                       "this size as a number or another dim") from None
        raise fail(f"{node} must be an integer, a dim, True or False, known when the case "
                   "is read") from None
    if isinstance(value, float):
        if not value.is_integer():
            written = "" if str(node) == f"{value:g}" else f", not {value:g}"
            raise fail(f"{node} must be a whole number{written}")
        return int(value)
    return value


def static_args(node: Call, dims: dict, fail, shadowed: frozenset = frozenset()) -> dict:
    return {name: static_value(value, dims, fail, shadowed) for name, value in node.keywords}


FLAG_ARGUMENTS = frozenset({"keepdim", "unbiased"})


def _check_static(node: Call, static: dict, fail) -> None:
    """keepdim and unbiased are True or False; a dim, a size or num_classes an integer."""
    for name, value in static.items():
        flag = name in FLAG_ARGUMENTS
        values = value if isinstance(value, tuple) else (value,)
        if flag and not isinstance(value, bool):
            raise fail(f"{node}: {name} must be True or False, not {value}", node.col)
        if not flag and value is not None and any(
                isinstance(v, bool) or not isinstance(v, int) for v in values):
            raise fail(f"{node}: {name} must be an integer (or a dim), not {value}", node.col)


class _Bind(Rebuild):
    """max(x, 1) and min(x, d) with an integer constant or a dim second argument are along
    that dim, as torch reads them: the second argument becomes the keyword dim. A float
    (min(u, 1.0), max(u, 0.5)) is no dim: element by element, as Python's min reads it."""

    def __init__(self, dims: dict):
        self.dims = dims

    def visit_Call(self, node: Call) -> Expr:
        node = cast(Call, super().visit_Call(node))
        if node.func in ("max", "min") and len(node.args) == 2 and self._static(node.args[1]):
            return Call(node.func, node.args[:1], node.col,
                        (("dim", node.args[1]), *node.keywords))
        return node

    def _static(self, node: Expr) -> bool:
        if any(isinstance(n, Num) and n.real for n in walk(node)):
            return False
        try:
            value = constant_value(node, self.dims)
        except (ValueError, OverflowError, ZeroDivisionError):
            return False
        return isinstance(value, (int, float)) and float(value).is_integer()


def bind(tree: Expr, dims: dict) -> Expr:
    return _Bind(dims)(tree)


class _Kinds(Visitor[Kind]):
    def __init__(self, kinds: dict[str, Kind], dims: dict, fail: Callable[..., Exception],
                 most: int | None = None):
        # a name is its tensor where an input or node has it (the contract's MLP has both a
        # dim h and a node h), else its dim
        self.kinds, self.fail, self.most = kinds, fail, most
        self.made = 0   # elements of every part computed: what autograd may keep alive
        self.dims = {name: size for name, size in dims.items() if name not in kinds}
        self.shadowed = frozenset(dims) - frozenset(self.dims)

    def value(self, node: Expr) -> Kind:
        """An operand: a tensor or a number, never a (values, indices) pair."""
        kind = self(node)
        if kind.pair:
            raise self.fail(f"{node} gives values and indices: take .values or .indices",
                            node.col)
        return kind

    def visit_Num(self, node: Num) -> Kind:
        return SCALAR

    def visit_Const(self, node: Const) -> Kind:
        if node.name in FLAGS:
            raise self.fail(f"{node.name} is allowed only as a flag such as keepdim={node.name}",
                            node.col)
        return SCALAR

    def visit_Name(self, node: Name) -> Kind:
        return self.kinds[node.id] if node.id in self.kinds else Kind((), integer=True)

    def visit_Neg(self, node: Neg) -> Kind:
        return self.value(node.operand)

    def visit_BinOp(self, node: BinOp) -> Kind:
        a, b = self.value(node.left), self.value(node.right)
        op = OPERATORS[node.op]
        shape = self._rule(node, lambda: op.shape_of([a.shape, b.shape], {}))
        if node.op in COMPARED:
            return Kind(shape, integer=True, mask=True)
        return Kind(shape, a.integer and b.integer and node.op in ("+", "-", "*"))

    def visit_Call(self, node: Call) -> Kind:
        op = FUNCTIONS[node.func]
        args = [None if isinstance(a, Const) and a.name == "None" else self.value(a)
                for a in node.args]
        static = static_args(node, self.dims, self.fail, self.shadowed)
        _check_static(node, static, self.fail)
        shapes = [a.shape for a in args if a is not None]
        if node.func in ("max", "min") and len(args) == 2 and args[1] is not None:
            static["other"] = args[1].shape
            shapes = shapes[:1]
        if node.func in _FLOATS_ONLY and args and args[0] is not None and args[0].integer:
            cast = isinstance(node.args[0], Call) and node.args[0].func in ("float", "double")
            raise self.fail(f"{node}: {node.args[0]} holds integers (an int64 input"
                            + ("; .float() and .double() leave a case's values as they are"
                               if cast else "")
                            + f"), and torch's {node.func} takes floating-point tensors only",
                            node.col)
        shape = self._rule(node, lambda: op.shape_of(shapes, static))
        if op.classes is not None:   # its shapes fit: the class argument is known
            slot = op.classes(*args, **static)[0]
            if args[slot] is not None and not args[slot].integer:
                raise self.fail(f"{node}: {node.args[slot]} must hold integer class indices, "
                                "not floats (an input of indices is written with dtype: "
                                "int64)", node.col)
        pair = node.func in ("max", "min") and static.get("dim") is not None
        integer = op.integer or (bool(args) and args[0] is not None and args[0].integer
                                 and not op.floating and node.func not in _FLOATING)
        return Kind(shape, integer, pair)

    def visit_Attr(self, node: Attr) -> Kind:
        inner = self(node.value)
        if node.name == "T":
            if inner.pair:
                raise self.fail(f"{node.value} gives values and indices: take .values first",
                                node.col)
            return Kind(self._rule(node, lambda: t_shape(inner.shape)), inner.integer)
        if not inner.pair:
            raise self.fail(f".{node.name} belongs to max or min along a dim "
                            f"(x.max(1).{node.name}), not to {node.value}", node.col)
        return Kind(inner.shape, integer=node.name == "indices")

    def visit_Index(self, node: Index) -> Kind:
        value = self.value(node.value)
        entries = [self._entry(e) for e in node.index]
        shape = self._rule(node, lambda: index_shape(value.shape, tuple(entries)))
        return Kind(shape, value.integer)

    def visit_Put(self, node: Put) -> Kind:
        """x[...] = v: x's kind, once the elements picked and v are found to fit."""
        base = self.value(node.target.value)
        index = node.target.index
        if len(index) == 1 and index[0].names() - set(self.dims):
            mask = self.value(index[0])
            if mask.mask:
                if mask.shape != base.shape:
                    raise self.fail(f"the mask {index[0]} has shape {mask.shape}, but "
                                    f"{node.target.value} has shape {base.shape}: a mask "
                                    "picks elements of a value of its own shape",
                                    index[0].col)
                value = self.value(node.value)
                if math.prod(value.shape) != 1:
                    raise self.fail(f"{node}: a mask picks elements known only when the "
                                    "case runs, so the value put there must be one number, "
                                    f"not of shape {value.shape}", node.value.col)
                return Kind(base.shape, base.integer)
        picked = self.visit_Index(node.target)
        value = self.value(node.value)
        fits = self._rule(node, lambda: broadcast_shape(picked.shape, value.shape))
        if fits != picked.shape:
            raise self.fail(f"{node}: a value of shape {value.shape} cannot be put in "
                            f"{node.target}, of shape {picked.shape}", node.value.col)
        return Kind(base.shape, base.integer)

    def _entry(self, node: Expr):
        if isinstance(node, Stack):     # x[[0, 2]]: a list of integers, those rows
            for item in node.items:
                value = static_value(item, self.dims, self.fail, self.shadowed)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise self.fail(f"an index list holds integers, not {item}", item.col)
            return ("tensor", (len(node.items),))
        if isinstance(node, Slice):
            lo, hi = (None if b is None else static_value(b, self.dims, self.fail, self.shadowed)
                      for b in (node.lo, node.hi))
            return slice(lo, hi)
        if isinstance(node, Range):
            return ("range", static_value(node.stop, self.dims, self.fail, self.shadowed))
        if not node.names() - set(self.dims):   # a number or dims: known when read
            return static_value(node, self.dims, self.fail)
        kind = self.value(node)
        if kind.mask:
            raise self.fail(f"x[{node}] picks elements known only when the case runs; write "
                            f"where({node}, x, 0) or x * ({node}) (a mask may pick elements "
                            "to assign: x[mask] = 0)", node.col)
        if not kind.integer:
            raise self.fail(f"an index must be an integer or an integer tensor; {node} holds "
                            "floats (an input of indices is written with dtype: int64)", node.col)
        return ("tensor", kind.shape)

    def visit_Slice(self, node: Slice) -> Kind:
        raise self.fail("a slice a:b is allowed only inside a subscript", node.col)

    def visit_Range(self, node: Range) -> Kind:
        raise self.fail("range(n) is allowed only inside a subscript: x[range(n), y]",
                        node.col)

    def visit_Stack(self, node: Stack) -> Kind:
        kinds = [self.value(item) for item in node.items]
        shape = self._rule(node, lambda: stack_shape(*(k.shape for k in kinds)))
        return Kind(shape, all(k.integer for k in kinds))

    def _rule(self, node: Expr, rule: Callable[[], Shape]) -> Shape:
        """The shape a rule gives node, within the bound on elements (a part of an expression
        is held as much as its result: one_hot(y, num_classes=10**10) is refused here)."""
        try:
            shape = rule()
        except ShapeError as exc:
            error = self.fail(f"{node}: {exc}", node.col)
            # a hand-written gradient so written is a wrong entry, not an unreadable case
            if isinstance(error, CaseError):
                error.shapes = True
            raise error from None
        if len(shape) > MAX_RANK:
            raise self.fail(f"{node}: its value would have {len(shape)} dimensions; at most "
                            f"{MAX_RANK} are allowed", node.col)
        if self.most is not None and math.prod(shape) > self.most:
            raise self.fail(f"{node}: its value would have {math.prod(shape):,} elements "
                            f"(shape {shape}); at most {self.most:,} are allowed", node.col)
        if 0 in shape:   # max() of no elements is torch's internal error, mean() NaN
            raise self.fail(f"{node}: its value would have no elements (shape {shape}); every "
                            "value in a case holds at least one", node.col)
        self.made += math.prod(shape)
        return shape


# torch functions that refuse integers (torch 2: mean(), var() and std() ask for a float
# dtype; softmax, log_softmax and softplus have no integer kernel)
_FLOATS_ONLY = {"mean", "var", "std", "softmax", "log_softmax", "softplus"}
# torch functions that give floats from integers (exp of labels is a float)
_FLOATING = {"mean", "var", "std", "softmax", "log_softmax", "logsumexp", "exp", "log",
             "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "softplus", "log1p"}


def kind_of(tree: Expr, kinds: dict[str, Kind], dims: dict,
            fail: Callable[..., Exception], most: int | None = None) -> Kind:
    """What tree gives in a tensor case: its shape, integers or not; fail(message, col) is
    raised where shapes do not fit or a part would hold more than `most` elements, naming
    the part of the expression and its offset in the text."""
    return kind_and_parts(tree, kinds, dims, fail, most)[0]


def kind_and_parts(tree: Expr, kinds: dict[str, Kind], dims: dict,
                   fail: Callable[..., Exception], most: int | None = None) -> tuple[Kind, int]:
    """kind_of, and the elements of all the parts the expression computes, its own value
    among them: a product of 60 factors makes 59 tensors, which autograd keeps alive for
    the backward pass as long as the result."""
    kinds_of = _Kinds(kinds, dims, fail, most)
    return kinds_of.value(tree), kinds_of.made
