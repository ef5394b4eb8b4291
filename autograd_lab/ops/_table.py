"""The one table of operations: each declared once, with every form a method needs.

An operation's entry says what arguments it takes (tensors, then static integers and flags
known when the case is read: a dim, keepdim, num_classes, a view's sizes), what it is in
torch (the autograd method and the hand-written method's arithmetic), in SymPy (the exact
reference: on scalars, and on arrays of scalars element by element), on Python floats
(constants folded when a case is read), the shape it makes, where it may have no derivative
(its switch points, and torch's convention there) and where it has no value (its domain).
Every method reads this table; adding an element-wise operation is one entry here, and its
tests."""
from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
import torch
import torch.nn.functional as F

from . import _elements as A
from . import _rules as R
from . import _sympy as S

Form = Callable[..., Any]


@dataclass(frozen=True)
class Op:
    """One operation of the expression language (a function, or an operator such as `+`)."""

    name: str
    arity: int                        # tensor arguments it takes at most
    torch: Form                       # on tensors (a float may stand in for a scalar)
    sympy: Form | None = None         # on SymPy scalars (an element-wise operation)
    python: Form | None = None        # on two Python floats, as IEEE does it
    reduces: bool = False             # sum, mean: a vector to a scalar in the scalar language
    switches: Form | None = None      # args -> each switch point's offset (0: on it)
    convention: str = ""              # torch's derivative on a switch point
    # args -> True where there is no real value (on floats or tensors, as evaluated)
    outside: Form | None = None
    domain: str = ""                  # what `outside` means, of the written call: "{call} ..."
    # args -> True where the value exists but the derivative is infinite (sqrt at 0)
    steep: Form | None = None
    steep_text: str = ""              # what `steep` means, of the written call
    # --- tensors --------------------------------------------------------------------------
    required: int | None = None       # tensor arguments that must be given (default: arity)
    static: tuple[str, ...] = ()      # then these, integers or flags known when read
    need: int = 0                     # of static, how many must be given
    aliases: dict = field(default_factory=dict)   # keyword -> its parameter (keepdims)
    varargs: bool = False             # the static sizes given one by one: view(n, -1)
    shape: Form | None = None         # (shapes..., **static) -> shape; None: broadcast
    elements: Form | None = None      # on arrays of SymPy scalars; None: sympy, element-wise
    fanin: Form | None = None         # (shapes..., **static) -> partials of one result element
    method: bool = True               # x.f(...) is f(x, ...)
    scalar: bool = False              # part of the scalar language (no tensor mode needed)
    integer: bool = False             # the result holds integers (indices): not differentiated
    floating: bool = False            # an integer result made a float of the case's dtype
    # (tensors..., **static) -> (i, n): argument i holds class indices, each from 0 to n - 1
    classes: Form | None = None

    @property
    def least(self) -> int:
        return self.arity if self.required is None else self.required

    def shape_of(self, shapes: list, static: dict) -> tuple:
        if self.shape is None:
            return R.broadcast(*shapes)
        return self.shape(*shapes, **static)

    def array(self) -> Form:
        """The form on arrays of SymPy scalars."""
        if self.elements is not None:
            return self.elements
        assert self.sympy is not None
        return A.elementwise(self.sympy, self.arity)


def _step(u):
    # 1 for u > 0, else 0; sign(relu(u)) keeps a grad_fn, so autograd sees slope 0
    return torch.sign(torch.relu(u))


def _clamp(u, lo=None, hi=None):
    if not isinstance(u, torch.Tensor):  # clamp(1, lo, x): a constant between tensor bounds
        like = lo if isinstance(lo, torch.Tensor) else hi
        u = torch.full_like(like, u, requires_grad=False)
    return torch.clamp(u, _like(lo, u), _like(hi, u))


def _like(bound, u):
    if bound is None or isinstance(bound, torch.Tensor):
        return bound
    return torch.tensor(bound, dtype=u.dtype)


def _fractional(e):
    return e != torch.floor(e) if isinstance(e, torch.Tensor) else not float(e).is_integer()


def _no_power(args):
    """Where base**exponent has no real value: a negative base to a power that is not a whole
    number ((-8)**(1/3): torch and Python's float give nan), or 0 to a negative power."""
    base, exponent = args
    return ((base < 0) & _fractional(exponent)) | ((base == 0) & (exponent < 0))


def _steep_power(args):
    """Where base**exponent has a value but an infinite slope: 0 to a power between 0 and 1
    (x**0.5 at 0, as sqrt)."""
    base, exponent = args
    return (base == 0) & (exponent > 0) & (exponent < 1)


# a power's domain and steepness: `x**0.5` and `pow(x, 0.5)` alike
_POWER: dict = {
    "outside": _no_power,
    "domain": "{call} (a negative base to a power that is not a whole number, or 0 to a "
              "negative power)",
    "steep": _steep_power, "steep_text": "{call} (0 to a power between 0 and 1)"}


def _ieee(f: Form) -> Form:
    """Constant arithmetic as IEEE does it: 1/0 is inf, 0/0 and (-8)**(1/3) are nan."""
    def apply(a: float, b: float) -> float:
        try:
            result = f(a, b)
        except ZeroDivisionError:
            return math.copysign(math.inf, a) if a else math.nan
        except OverflowError:
            return math.inf
        return math.nan if isinstance(result, complex) else float(result)
    return apply


def _reduce(torch_form: Form) -> Form:
    """sum, mean: of every element, or along dim."""
    def apply(x, dim=None, keepdim=False):
        return torch_form(x) if dim is None else torch_form(x, dim, keepdim)
    return apply


def _extreme(whole: Form, each: Form) -> Form:
    """max, min: of every element, along dim (values and indices), or of two tensors."""
    def apply(x, other=None, dim=None, keepdim=False):
        if other is not None:
            return each(x, other if isinstance(other, torch.Tensor) else torch.tensor(other))
        return whole(x) if dim is None else whole(x, dim, keepdim)
    return apply


def _spread(statistic: Form) -> Form:
    def apply(x, dim=None, unbiased=True, keepdim=False):
        if dim is None:
            return statistic(x, unbiased=unbiased)
        return statistic(x, dim, unbiased=unbiased, keepdim=keepdim)
    return apply


def _reduced_shape(x, dim=None, keepdim=False, **_):
    return R.reduced(x, dim, keepdim)


def _extreme_shape(x, other=None, dim=None, keepdim=False):
    return R.broadcast(x, other) if other is not None else R.reduced(x, dim, keepdim)


def _reduced_fanin(x, dim=None, **_):
    return math.prod(x) if dim is None else math.prod(x[R.dim_of(d, len(x))] for d in (
        dim if isinstance(dim, tuple) else (dim,))) if x else 1


def _identity(x):
    return x


# --- numpy's spellings: the torch operation with numpy's semantics -------------------------

def _tensor_of(value, like):
    """A Python number beside a tensor (np.maximum(0, z)) as a tensor of the tensor's dtype."""
    if isinstance(value, torch.Tensor):
        return value
    dtype = like.dtype if isinstance(like, torch.Tensor) else torch.float64
    return torch.tensor(value, dtype=dtype)


def _pairwise(form: Form) -> Form:
    def apply(a, b):
        return form(_tensor_of(a, b), _tensor_of(b, a))
    return apply


def _dot(a, b):
    """numpy's dot: the inner product of two vectors, else the matrix product (a number
    times a tensor where one side is a scalar)."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.dot(a, b) if a.ndim == 1 and b.ndim == 1 else torch.matmul(a, b)


def _where(condition, a, b):
    like = a if isinstance(a, torch.Tensor) else b
    condition = _tensor_of(condition, like)
    return torch.where(condition.bool(), _tensor_of(a, like), _tensor_of(b, like))


def _filled(value: float) -> Form:
    # np.zeros(shape), np.ones(shape): float64 here; the case's dtype where evaluated
    def apply(size):
        return torch.full(size, value, dtype=torch.float64)
    return apply


def _compare(form: Form) -> Form:
    """A comparison: a mask (bool; 0/1 where it meets a number), never differentiated."""
    def apply(a, b):
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            return torch.tensor(form(a, b))
        return form(a, b)
    return apply


_DIM_KEEP = {"keepdims": "keepdim", "axis": "dim"}

COMPARED: dict[str, Form] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                             ">=": operator.ge, "==": operator.eq, "!=": operator.ne}

OPERATORS: dict[str, Op] = {op.name: op for op in [
    Op("+", 2, operator.add, sp.Add, _ieee(operator.add), scalar=True),
    Op("-", 2, operator.sub, operator.sub, _ieee(operator.sub), scalar=True),
    Op("*", 2, operator.mul, sp.Mul, _ieee(operator.mul), scalar=True),
    Op("/", 2, operator.truediv, operator.truediv, _ieee(operator.truediv), scalar=True,
       outside=lambda a: a[1] == 0, domain="division by zero in {call}"),
    Op("**", 2, operator.pow, sp.Pow, _ieee(operator.pow), scalar=True, **_POWER),
    Op("@", 2, torch.matmul, elements=A.matmul, shape=R.matmul,
       fanin=lambda a, b: 2 * a[-1]),
    # comparisons give a mask: integers 0 and 1, never differentiated (dz * (z > 0))
    *(Op(symbol, 2, _compare(form), python=lambda a, b, f=form: float(f(a, b)), integer=True,
         elements=A.compared(form))
      for symbol, form in COMPARED.items()),
]}

FUNCTIONS: dict[str, Op] = {op.name: op for op in [
    # --- element by element -----------------------------------------------------------------
    Op("sin", 1, torch.sin, sp.sin, scalar=True),
    Op("cos", 1, torch.cos, sp.cos, scalar=True),
    Op("tan", 1, torch.tan, sp.tan, scalar=True),
    Op("exp", 1, torch.exp, sp.exp, scalar=True),
    Op("log", 1, torch.log, sp.log, outside=lambda a: a[0] <= 0,
       domain="{call} (argument ≤ 0)", scalar=True),
    Op("sqrt", 1, torch.sqrt, sp.sqrt, outside=lambda a: a[0] < 0,
       domain="{call} (argument < 0)", steep=lambda a: a[0] == 0,
       steep_text="{call} (argument 0)", scalar=True),
    Op("tanh", 1, torch.tanh, sp.tanh, scalar=True),
    Op("sigmoid", 1, torch.sigmoid, S.sigmoid, scalar=True),
    Op("softplus", 1, F.softplus, lambda u: sp.log(1 + sp.exp(u)), scalar=True),
    Op("log1p", 1, torch.log1p, lambda u: sp.log(1 + u), outside=lambda a: a[0] <= -1,
       domain="{call} (argument ≤ -1)", scalar=True),
    Op("relu", 1, torch.relu, lambda u: S.maximum(0, u), switches=lambda a: [a[0]],
       convention="relu'(0) = 0", scalar=True),
    Op("abs", 1, torch.abs, S.Abs, switches=lambda a: [a[0]], convention="abs'(0) = 0",
       scalar=True),
    Op("sign", 1, torch.sign, S.sign, switches=lambda a: [a[0]], convention="sign'(0) = 0",
       scalar=True),
    Op("step", 1, _step, lambda u: sp.Heaviside(u, 0), switches=lambda a: [a[0]],
       convention="step'(0) = 0", method=False, scalar=True),
    Op("clamp", 3, _clamp, S.clamp, required=1, elements=A.clamp, scalar=True,
       switches=lambda a: [a[0] - bound for bound in a[1:] if bound is not None],
       aliases={"min": 1, "max": 2}, convention="clamp passes the gradient at lo and at hi"),
    Op("pow", 2, torch.pow, sp.Pow, **_POWER),
    Op("square", 1, torch.square, lambda u: u**2),
    # numpy's element-wise maximum and minimum: a Python number allowed on either side
    Op("maximum", 2, _pairwise(torch.maximum), S.maximum, method=False),
    Op("minimum", 2, _pairwise(torch.minimum), S.minimum, method=False),
    Op("where", 3, _where, elements=A.where, method=False),
    Op("clone", 1, torch.clone, elements=A.same),
    Op("float", 1, _identity, elements=A.same),     # values unchanged, in the case's dtype
    Op("double", 1, _identity, elements=A.same),
    # --- reductions ---------------------------------------------------------------------
    Op("sum", 1, _reduce(torch.sum), reduces=True, static=("dim", "keepdim"), aliases=_DIM_KEEP,
       shape=_reduced_shape, elements=A.total, fanin=_reduced_fanin, scalar=True),
    Op("mean", 1, _reduce(torch.mean), reduces=True, static=("dim", "keepdim"),
       aliases=_DIM_KEEP, shape=_reduced_shape, elements=A.mean, fanin=_reduced_fanin,
       scalar=True),
    Op("max", 2, _extreme(torch.max, torch.maximum), required=1, static=("dim", "keepdim"),
       aliases=_DIM_KEEP, shape=_extreme_shape, elements=A.MAXIMUM, fanin=_reduced_fanin),
    Op("min", 2, _extreme(torch.min, torch.minimum), required=1, static=("dim", "keepdim"),
       aliases=_DIM_KEEP, shape=_extreme_shape, elements=A.MINIMUM, fanin=_reduced_fanin),
    Op("var", 1, _spread(torch.var), static=("dim", "unbiased", "keepdim"), aliases=_DIM_KEEP,
       shape=_reduced_shape, elements=A.variance, fanin=_reduced_fanin),
    Op("std", 1, _spread(torch.std), static=("dim", "unbiased", "keepdim"), aliases=_DIM_KEEP,
       shape=_reduced_shape, elements=A.deviation, fanin=_reduced_fanin),
    Op("logsumexp", 1, torch.logsumexp, static=("dim", "keepdim"), need=1, aliases=_DIM_KEEP,
       shape=_reduced_shape, elements=A.logsumexp, fanin=_reduced_fanin),
    Op("softmax", 1, F.softmax, static=("dim",), need=1, shape=lambda x, dim: R.along(x, dim),
       elements=A.softmax, fanin=lambda x, dim: x[R.dim_of(dim, len(x))]),
    Op("log_softmax", 1, F.log_softmax, static=("dim",), need=1,
       shape=lambda x, dim: R.along(x, dim), elements=A.log_softmax,
       fanin=lambda x, dim: x[R.dim_of(dim, len(x))]),
    # --- linear algebra and shape -------------------------------------------------------
    Op("matmul", 2, torch.matmul, elements=A.matmul, shape=R.matmul,
       fanin=lambda a, b: 2 * a[-1]),
    Op("dot", 2, _dot, elements=A.dot, shape=R.dot,
       fanin=lambda a, b: 2 * (a[-1] if a else 1)),
    Op("outer", 2, lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)), elements=A.outer,
       shape=R.outer, method=False,
       fanin=lambda a, b: 1),
    Op("transpose", 1, torch.transpose, static=("dim0", "dim1"), need=2,
       shape=R.transposed, elements=A.transpose, fanin=lambda x, **_: 1),
    Op("view", 1, lambda x, size: x.view(size), static=("size",), need=1, varargs=True,
       shape=R.viewed, elements=A.view, fanin=lambda x, **_: 1),
    Op("reshape", 1, lambda x, size: x.reshape(size), static=("size",), need=1,
       varargs=True, shape=R.viewed, elements=A.view, fanin=lambda x, **_: 1),
    Op("zeros_like", 1, torch.zeros_like, elements=A.like(0), shape=lambda x: x,
       method=False, fanin=lambda x: 0),
    Op("ones_like", 1, torch.ones_like, elements=A.like(1), shape=lambda x: x, method=False,
       fanin=lambda x: 0),
    Op("zeros", 0, _filled(0.0), static=("size",), need=1, varargs=True, method=False,
       elements=A.filled(0), shape=R.sized, floating=True,
       fanin=lambda **_: 0),
    Op("ones", 0, _filled(1.0), static=("size",), need=1, varargs=True, method=False,
       elements=A.filled(1), shape=R.sized, floating=True,
       fanin=lambda **_: 0),
    Op("one_hot", 1, F.one_hot, static=("num_classes",), need=1, shape=R.one_hot,
       elements=A.one_hot, method=False, floating=True, fanin=lambda x, **_: 0,
       classes=lambda x, num_classes: (0, num_classes)),
    # --- losses, each the mean over its elements, as torch's default reduction ----------
    Op("cross_entropy", 2, F.cross_entropy, shape=R.cross_entropy, elements=A.cross_entropy,
       method=False, fanin=lambda a, b: math.prod(a),
       classes=lambda logits, target: (1, logits.shape[-1])),
    Op("binary_cross_entropy", 2, F.binary_cross_entropy, shape=R.same,
       elements=A.binary_cross_entropy, method=False, fanin=lambda a, b: 2 * math.prod(a)),
    Op("binary_cross_entropy_with_logits", 2, F.binary_cross_entropy_with_logits,
       shape=R.same, elements=A.binary_cross_entropy_with_logits, method=False,
       fanin=lambda a, b: 2 * math.prod(a)),
    Op("mse_loss", 2, F.mse_loss, shape=R.same, elements=A.mse_loss, method=False,
       fanin=lambda a, b: 2 * math.prod(a)),
]}

# torch's attributes: .T, and the two parts of max and min along a dim
ATTRIBUTES = {"T": R.t, "values": None, "indices": None}
# the only keyword arguments, and only where torch takes them (each op's `static`)
KEYWORDS = frozenset({"dim", "keepdim", "keepdims", "num_classes", "unbiased", "min", "max",
                      "axis"})
# the modules a tutorial calls functions from: torch.tanh, F.softmax, torch.nn.functional.relu
MODULES = ("torch", "F", "torch.nn.functional", "nn.functional", "np", "numpy")
# numpy's modules, where a function means what numpy means by it: var and std without
# Bessel's correction (numpy's ddof=0, where torch's default divides by n - 1)
NUMPY = ("np", "numpy")
CONSTANTS = {"pi": (math.pi, sp.pi), "e": (math.e, sp.E)}
FLAGS = {"True": True, "False": False, "None": None}   # None: an argument left out
REDUCTIONS = frozenset(name for name, op in FUNCTIONS.items() if op.reduces)
KINKS = frozenset(name for name, op in FUNCTIONS.items() if op.switches)
