"""The one table of operations: each declared once, with every form a method needs.

An operation's entry says how many arguments it takes, what it is in torch (the autograd
method and the hand-written method's arithmetic), in SymPy (the exact reference), on Python
floats (constants folded when a case is read), where it may have no derivative (its switch
points, and torch's convention there) and where it has no value (its domain). Every method
reads this table; adding an element-wise operation is one entry here, and its tests."""
from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
import torch

from . import _sympy as S

Form = Callable[..., Any]


@dataclass(frozen=True)
class Op:
    """One operation of the expression language (a function, or an operator such as `+`)."""

    name: str
    arity: int
    torch: Form                       # on tensors, element by element (a float may stand in)
    sympy: Form | None = None         # on SymPy expressions; None: built by its method
    python: Form | None = None        # on two Python floats, as IEEE does it
    reduces: bool = False             # a vector to a scalar (sum, mean)
    switches: Form | None = None      # args -> each switch point's offset (0: on it)
    convention: str = ""              # torch's derivative on a switch point
    # args -> True where there is no real value (on floats or tensors, as evaluated)
    outside: Form | None = None
    domain: str = ""                  # what `outside` means, of the written call: "{call} ..."
    # args -> True where the value exists but the derivative is infinite (sqrt at 0)
    steep: Form | None = None
    steep_text: str = ""              # what `steep` means, of the written call


def _first(args) -> list:
    return [args[0]]


def _step(u):
    # 1 for u > 0, else 0; sign(relu(u)) keeps a grad_fn, so autograd sees slope 0
    return torch.sign(torch.relu(u))


def _clamp(u, lo, hi):
    if not isinstance(u, torch.Tensor):  # clamp(1, lo, x): a constant between tensor bounds
        like = lo if isinstance(lo, torch.Tensor) else hi
        u = torch.full_like(like, u, requires_grad=False)
    return torch.clamp(u, _like(lo, u), _like(hi, u))


def _like(bound, u):
    return bound if isinstance(bound, torch.Tensor) else torch.tensor(bound, dtype=u.dtype)


def _whole(e):
    return e == torch.floor(e) if isinstance(e, torch.Tensor) else float(e).is_integer()


def _no_power(args):
    """Where base**exponent has no real value: a negative base to a power that is not a whole
    number ((-8)**(1/3): torch and Python's float give nan), or 0 to a negative power."""
    base, exponent = args
    return ((base < 0) & ~_whole(exponent)) | ((base == 0) & (exponent < 0))


def _steep_power(args):
    """Where base**exponent has a value but an infinite slope: 0 to a power between 0 and 1
    (x**0.5 at 0, as sqrt)."""
    base, exponent = args
    return (base == 0) & (exponent > 0) & (exponent < 1)


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


OPERATORS: dict[str, Op] = {op.name: op for op in [
    Op("+", 2, operator.add, sp.Add, _ieee(operator.add)),
    Op("-", 2, operator.sub, operator.sub, _ieee(operator.sub)),
    Op("*", 2, operator.mul, sp.Mul, _ieee(operator.mul)),
    Op("/", 2, operator.truediv, operator.truediv, _ieee(operator.truediv),
       outside=lambda a: a[1] == 0, domain="division by zero in {call}"),
    Op("**", 2, operator.pow, sp.Pow, _ieee(operator.pow), outside=_no_power,
       domain="{call} (a negative base to a power that is not a whole number, or 0 to a "
              "negative power)",
       steep=_steep_power, steep_text="{call} (0 to a power between 0 and 1)"),
]}

FUNCTIONS: dict[str, Op] = {op.name: op for op in [
    Op("sin", 1, torch.sin, sp.sin),
    Op("cos", 1, torch.cos, sp.cos),
    Op("tan", 1, torch.tan, sp.tan),
    Op("exp", 1, torch.exp, sp.exp),
    Op("log", 1, torch.log, sp.log, outside=lambda a: a[0] <= 0,
       domain="{call} (argument ≤ 0)"),
    Op("sqrt", 1, torch.sqrt, sp.sqrt, outside=lambda a: a[0] < 0,
       domain="{call} (argument < 0)", steep=lambda a: a[0] == 0,
       steep_text="{call} (argument 0)"),
    Op("tanh", 1, torch.tanh, sp.tanh),
    Op("sigmoid", 1, torch.sigmoid, S.sigmoid),
    Op("softplus", 1, torch.nn.functional.softplus, lambda u: sp.log(1 + sp.exp(u))),
    Op("log1p", 1, torch.log1p, lambda u: sp.log(1 + u), outside=lambda a: a[0] <= -1,
       domain="{call} (argument ≤ -1)"),
    Op("relu", 1, torch.relu, lambda u: S.maximum(0, u), switches=_first,
       convention="relu'(0) = 0"),
    Op("abs", 1, torch.abs, S.Abs, switches=_first, convention="abs'(0) = 0"),
    Op("sign", 1, torch.sign, S.sign, switches=_first, convention="sign'(0) = 0"),
    Op("step", 1, _step, lambda u: sp.Heaviside(u, 0), switches=_first,
       convention="step'(0) = 0"),
    Op("sum", 1, torch.sum, reduces=True),
    Op("mean", 1, torch.mean, reduces=True),
    Op("clamp", 3, _clamp, lambda u, lo, hi: S.minimum(S.maximum(u, lo), hi),
       switches=lambda a: [a[0] - a[1], a[0] - a[2]],
       convention="clamp passes the gradient at lo and at hi"),
]}

CONSTANTS = {"pi": (math.pi, sp.pi), "e": (math.e, sp.E)}
REDUCTIONS = frozenset(name for name, op in FUNCTIONS.items() if op.reduces)
KINKS = frozenset(name for name, op in FUNCTIONS.items() if op.switches)
