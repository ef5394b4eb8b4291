"""The operations on arrays of SymPy expressions, element by element: SymPy's view of a tensor.

Each function takes numpy object arrays (0-d for a scalar) whose entries are SymPy
expressions or numbers, and the operation's static arguments, and returns such an array.
Where torch has a function built from others (softmax, the losses), it is written here by
its definition, so that SymPy differentiates the mathematics, not torch's implementation."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from . import _sympy as S
from ._rules import dim_of, viewed

Array = np.ndarray


def array(v) -> Array:
    return np.asarray(v, dtype=object) if not isinstance(v, np.ndarray) else v


def elementwise(f: Callable, nargs: int) -> Callable:
    """A scalar SymPy function applied to each element, arguments broadcast as torch does."""
    ufunc = np.frompyfunc(f, nargs, 1)

    def apply(*args):
        return array(ufunc(*(array(a) for a in args)))
    return apply


def _axes(x: Array, dim) -> tuple | None:
    if dim is None:
        return None
    dims = dim if isinstance(dim, tuple) else (dim,)
    return tuple(dim_of(d, x.ndim) for d in dims)


def total(x, dim=None, keepdim: bool = False) -> Array:
    x = array(x)
    if x.ndim == 0:
        return x
    return array(np.sum(x, axis=_axes(x, dim), keepdims=keepdim))


def count(x: Array, dim=None) -> int:
    axes = _axes(x, dim)
    if axes is None:
        return max(x.size, 1)
    return int(np.prod([x.shape[a] for a in axes]))


def mean(x, dim=None, keepdim: bool = False) -> Array:
    x = array(x)
    return array(total(x, dim, keepdim) / sp.Integer(count(x, dim)))


_MAX = np.frompyfunc(S.maximum, 2, 1)
_MIN = np.frompyfunc(S.minimum, 2, 1)


def extreme(ufunc) -> Callable:
    """max and min: of every element, along dim (its values; .indices are found from the
    values), or of two tensors element by element."""
    def apply(x, other=None, dim=None, keepdim: bool = False):
        x = array(x)
        if other is not None:
            return array(ufunc(x, array(other)))
        if x.ndim == 0:
            return x
        if dim is None:
            return array(ufunc.reduce(x.reshape(-1)))
        return array(ufunc.reduce(x, axis=dim_of(dim, x.ndim), keepdims=keepdim))
    return apply


def variance(x, dim=None, unbiased: bool = True, keepdim: bool = False) -> Array:
    # (sum of squares - square of the sum / n) / (n - 1): exact in SymPy, and each element
    # an expression of n terms, where the mean written inside every term would make n**2
    x = array(x)
    n = count(x, dim)
    spread = total(x ** 2, dim, keepdim) - total(x, dim, keepdim) ** 2 / sp.Integer(n)
    return array(spread / sp.Integer(n - 1 if unbiased else n))


def deviation(x, dim=None, unbiased: bool = True, keepdim: bool = False) -> Array:
    return elementwise(sp.sqrt, 1)(variance(x, dim, unbiased, keepdim))


_EXP, _LOG = elementwise(sp.exp, 1), elementwise(sp.log, 1)


def softmax(x, dim: int) -> Array:
    e = _EXP(x)
    return array(e / total(e, dim, keepdim=True))


def log_softmax(x, dim: int) -> Array:
    return array(array(x) - _LOG(total(_EXP(x), dim, keepdim=True)))


def logsumexp(x, dim, keepdim: bool = False) -> Array:
    return _LOG(total(_EXP(x), dim, keepdim))


def one_hot(index, num_classes: int) -> Array:
    rows = np.asarray(index, dtype=np.int64)
    out = np.zeros(rows.shape + (num_classes,), dtype=object)
    out[...] = sp.Integer(0)
    np.put_along_axis(out, rows[..., None], sp.Integer(1), axis=-1)
    return out


def cross_entropy(logits, target) -> Array:
    """The mean over rows of -log softmax at each row's class."""
    logits, target = array(logits), np.asarray(target, dtype=np.int64)
    picked = log_softmax(logits, -1)
    if logits.ndim == 1:
        return array(-picked[int(target)])
    return mean(-picked[np.arange(len(target)), target])


def binary_cross_entropy(p, t) -> Array:
    p, t = array(p), array(t)
    return mean(-(t * _LOG(p) + (1 - t) * _LOG(1 - p)))


def binary_cross_entropy_with_logits(z, t) -> Array:
    # -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))), written without its cancellations
    z, t = array(z), array(t)
    return mean((1 - t) * z + _LOG(1 + _EXP(-z)))


def mse_loss(a, b) -> Array:
    return mean((array(a) - array(b)) ** 2)


def like(value: int) -> Callable:
    def apply(x) -> Array:
        out = np.empty(array(x).shape, dtype=object)
        out[...] = sp.Integer(value)
        return out
    return apply


def view(x, size: tuple) -> Array:
    x = array(x)
    return x.reshape(viewed(x.shape, size))


def transpose(x, dim0: int = 0, dim1: int = 1) -> Array:
    x = array(x)
    return x if x.ndim < 2 else np.swapaxes(x, dim_of(dim0, x.ndim), dim_of(dim1, x.ndim))


def matmul(a, b) -> Array:
    return array(np.matmul(array(a), array(b)))


def dot(a, b) -> Array:
    """numpy's dot: an inner product of vectors, a matrix product, or a number times."""
    a, b = array(a), array(b)
    if a.ndim == 0 or b.ndim == 0:
        return array(a * b)
    return array(np.dot(a, b))


def outer(a, b) -> Array:
    return array(np.multiply.outer(array(a).reshape(-1), array(b).reshape(-1)))


def filled(value: int) -> Callable:
    def apply(size) -> Array:
        out = np.empty(tuple(size), dtype=object)
        out[...] = sp.Integer(value)
        return out
    return apply


def where(condition, a, b) -> Array:
    """np.where on a mask (numbers: a comparison is decided at the point, never symbolic)."""
    return array(np.where(np.asarray(condition, dtype=bool), array(a), array(b)))


def compared(form: Callable) -> Callable:
    """A comparison of numbers (the method gives each side's values at the point): a mask
    of integers 0 and 1."""
    def apply(a, b) -> Array:
        return np.asarray(form(np.asarray(a, dtype=float), np.asarray(b, dtype=float)),
                          dtype=np.int64)
    return apply


def same(x) -> Array:
    return array(x)


def clamp(u, lo=None, hi=None) -> Array:
    return elementwise(S.clamp, 3)(u, lo, hi)


Form = Callable[..., Any]
MAXIMUM, MINIMUM = extreme(_MAX), extreme(_MIN)
