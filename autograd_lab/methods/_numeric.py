"""Evaluate SymPy expressions on arrays: exactly (mpmath, 40 digits) or fast (numpy float64)."""
from __future__ import annotations

import contextlib

import mpmath
import numpy as np
import sympy as sp

# elements times points evaluated with mpmath (about 0.3 ms a value for the perceptron);
# more go vectorised in float64: SymPy's derivative is still exact, only its evaluation rounds,
# a few ulps, far inside every tolerance (longdouble was 2,048 times finer but ten times slower
# and twice the memory, which a million-element vector cannot afford)
EXACT_LIMIT = 64
DIGITS = 40


def _heaviside(x, h0=0.5):
    return np.where(x > 0, 1, np.where(x < 0, 0, h0))


def _dirac(x, k=0):  # k: DiracDelta(x, k) is its k-th derivative, as second derivatives give
    return np.where(x == 0, np.nan, 0)


class Unevaluated(ValueError):
    """SymPy gave a form that cannot be evaluated on the reals."""


class Backend:
    """A table of functions over arrays, and how numbers enter and leave it."""

    def __init__(self, name: str, functions: dict, number, array, floats, precision):
        self.name, self.functions = name, functions
        self.number, self.array, self.floats = number, array, floats
        self.precision = precision  # a context in which its arithmetic runs
        self.zero = number(0, 1)

    def value(self, expr: sp.Expr, env: dict, cache: dict | None = None):
        """expr's value with its symbols looked up in env; shared subtrees computed once."""
        cache = {} if cache is None else cache
        if expr in cache:
            return cache[expr]
        if expr.is_Symbol:
            result = env[expr]
        elif expr.is_Rational:
            result = self.number(int(expr.p), int(expr.q))
        elif expr is sp.nan or expr.is_Derivative:
            # 0/0 folded by SymPy, or what it could not differentiate (sign(x/w)): no value
            result = self.functions["ComplexInfinity"]()
        elif expr.is_Number or expr.is_NumberSymbol:
            result = self.number(expr, None)
        elif isinstance(expr, sp.Derivative):
            raise Unevaluated(f"SymPy left the derivative {expr} unevaluated")
        else:
            args = [self.value(a, env, cache) for a in expr.args]
            result = self._apply(expr, args)
        cache[expr] = result
        return result

    def _apply(self, expr, args):
        # the ufuncs, not + and *: SymPy puts a number first (2*x, 1 + x), and mpf + array
        # first fails inside mpmath, which builds the array's repr for its error message
        if expr.is_Add:
            return _fold(args, np.add)
        if expr.is_Mul:
            return _fold(args, np.multiply)
        if expr.is_Pow:
            n = int(expr.exp) if expr.exp.is_Integer else 0
            if 0 < abs(n) <= 64:
                power = _integer_power(args[0], abs(n))
                return power if n > 0 else self.functions["reciprocal"](power)
            return self.functions["pow"](*args)
        function = self.functions.get(type(expr).__name__)
        if function is None:
            raise Unevaluated(f"SymPy's result holds {type(expr).__name__}(...), "
                              "which has no real value to compare")
        return function(*args)


def _integer_power(base, n: int):
    """base**n (n > 0) by repeated squaring: exact multiplications where np.power calls pow
    element by element."""
    result, square = None, base
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    return result


def _fold(args, op):
    result = args[0]
    for a in args[1:]:
        result = op(result, a)
    return result


# --- fast: numpy float64, vectorised --------------------------------------------------------

def _f64_number(value, q):
    if q is not None:
        try:
            return np.float64(value / q)  # int / int: Python rounds the exact quotient once
        except OverflowError:
            return np.float64(np.inf if value > 0 else -np.inf)
    return np.float64(sp.Float(value, 20))


def _f64_pow(a, b):
    with np.errstate(all="ignore"):
        return np.power(a, b)


def _quiet(f):
    def apply(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return apply


FAST = Backend(
    "numpy float64",
    {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": _quiet(np.exp), "log": _quiet(np.log),
     "tanh": np.tanh, "Abs": np.abs, "sign": np.sign, "pow": _f64_pow,
     "reciprocal": _quiet(lambda u: 1 / u),
     "sigmoid": _quiet(lambda u: 1 / (1 + np.exp(-u))),
     "Max": lambda *a: _fold(list(a), np.maximum), "Min": lambda *a: _fold(list(a), np.minimum),
     "Heaviside": _heaviside, "DiracDelta": _dirac,
     "ComplexInfinity": lambda: np.float64(np.nan),  # tan(pi/2), log(-1): no real value
     "ImaginaryUnit": lambda: np.float64(np.nan)},
    _f64_number,
    lambda v: np.asarray(v, dtype=np.float64),
    lambda v: np.asarray(v, dtype=np.float64),
    contextlib.nullcontext,
)


# --- exact: mpmath at 40 digits, elementwise ---------------------------------------------

def _safe(f):
    def safe(*args):
        try:
            return f(*args)
        # 0**-1, complex comparisons: no real value
        except (ArithmeticError, ValueError, TypeError):
            return mpmath.nan
    return safe


def _mp(f, nin: int = 1):
    # frompyfunc: element by element like np.vectorize, without its per-call overhead
    return np.frompyfunc(_safe(f), nin, 1)


def _mp_fold(f):
    pair = _mp(f, 2)
    return lambda *a: _fold(list(a), pair)


def _mp_heavisides():
    one, two = _mp(_mp_heaviside, 1), _mp(_mp_heaviside, 2)
    return lambda *a: (one if len(a) == 1 else two)(*a)


def _mp_diracs():
    # DiracDelta(x) and its k-th derivative DiracDelta(x, k): 0 off the switch point, nan on it
    def delta(x, k=0):
        return mpmath.mpf(0) if x != 0 else mpmath.nan
    one, two = _mp(delta, 1), _mp(delta, 2)
    return lambda *a: (one if len(a) == 1 else two)(*a)


def _mp_number(value, q):
    return mpmath.mpf(value) / q if q is not None else mpmath.mpf(sp.Float(value, DIGITS)._mpf_)


def _mp_float(v) -> float:
    return float(v) if isinstance(v, (mpmath.mpf, int, float)) else float("nan")


_to_floats = np.frompyfunc(_mp_float, 1, 1)  # np.vectorize costs 30 µs a call more


def _mp_floats(v: np.ndarray) -> np.ndarray:
    # float(mpmath.nan) raises the invalid flag, and a value past float64 the overflow one;
    # both become nan and inf, which the checks name
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(_to_floats(v), dtype=np.float64)


_to_mpf = np.frompyfunc(lambda v: mpmath.mpf(float(v)), 1, 1)


def _mp_heaviside(x, h0=0.5):
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(h0)


EXACT = Backend(
    "mpmath, 40 digits",
    {"sin": _mp(mpmath.sin), "cos": _mp(mpmath.cos), "tan": _mp(mpmath.tan),
     "exp": _mp(mpmath.exp), "log": _mp(mpmath.log), "tanh": _mp(mpmath.tanh),
     "Abs": _mp(abs), "sign": _mp(mpmath.sign), "pow": _mp(lambda a, b: a ** b, 2),
     "reciprocal": _mp(lambda u: 1 / u),
     "sigmoid": _mp(lambda u: 1 / (1 + mpmath.exp(-u))),
     "Max": _mp_fold(max), "Min": _mp_fold(min),
     "Heaviside": _mp_heavisides(),
     "DiracDelta": _mp_diracs(),
     "ComplexInfinity": lambda: mpmath.nan, "ImaginaryUnit": lambda: mpmath.nan},
    _mp_number,
    lambda v: np.asarray(_to_mpf(v), dtype=object),
    lambda v: _mp_floats(np.asarray(v, dtype=object)),
    lambda: mpmath.workdps(DIGITS),
)


def choose(size: int) -> Backend:
    """Exact for what is small enough, vectorised beyond."""
    return EXACT if size <= EXACT_LIMIT else FAST
