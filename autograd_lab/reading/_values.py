"""Values as a case writes them: numbers and generated vectors to arrays, and the digits
each number was written with (a claim holds to the digits it is written with)."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import numpy as np

from ..case import Input
from ._names import check_name
from ._schema import Linspace, Uniform
from ._yaml import Source

MAX_ELEMENTS = 10_000_000  # in one input, and over all points together
# dimensions of a value: numpy holds 64, and each method adds one for the points
MAX_DIMS = 32


def input_of(name: str, spec, where: Source) -> Input:
    check_name(name, ("inputs", name), where)
    grad = getattr(spec, "grad", False)
    value = spec.value if hasattr(spec, "value") else spec
    path = ("inputs", name, "value") if hasattr(spec, "value") else ("inputs", name)
    return Input(name, array(value, path, where), grad)


def array(value, path: tuple, where: Source) -> np.ndarray:
    if isinstance(value, Linspace):
        lo, hi, n = value.linspace
        check_size(n, path, where)
        check_range(lo, hi, path + ("linspace",), where, ordered=False)
        return np.linspace(lo, hi, n)
    if isinstance(value, Uniform):
        if not value.shape or any(n < 1 for n in value.shape):
            raise where.error("shape must list positive sizes", path + ("shape",))
        check_dims(len(value.shape), path + ("shape",), where)
        check_size(math.prod(value.shape), path, where)
        check_range(*value.uniform, path + ("uniform",), where)
        return np.random.default_rng(value.seed).uniform(*value.uniform, size=tuple(value.shape))
    return numbers(value, path, where)


def check_range(lo: float, hi: float, path: tuple, where: Source, ordered: bool = True) -> None:
    """A range to draw from or spread over: [lo, hi] in that order, and no wider than float64
    can hold (from -1e308 to 1e308 the width is inf, and every value drawn with it too)."""
    if ordered and lo > hi:
        raise where.error(f"the range [{lo:g}, {hi:g}] is reversed; write [lo, hi] with "
                          "lo <= hi", path)
    if not math.isfinite(hi - lo):
        raise where.error(f"the range [{lo:g}, {hi:g}] is wider than float64 can hold (its "
                          "width overflows); keep its width under 1.7e308", path)


def check_dims(count: int, path: tuple, where: Source) -> None:
    if count > MAX_DIMS:
        raise where.error(f"a value may have at most {MAX_DIMS} dimensions, not {count}", path)


def numbers(value, path: tuple, where: Source) -> np.ndarray:
    if isinstance(value, list):
        check_size(count_values(value), path, where)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise where.error("expected numbers in a rectangular (nested) list", path) from None
    if array.ndim and 0 in array.shape:
        raise where.error("an empty list is not a value", path)
    check_dims(array.ndim, path, where)
    if not np.all(np.isfinite(array)):
        raise where.error("values must be finite numbers (no NaN or inf)", path)
    return array


def count_values(value) -> int:
    total, stack = 0, [value]
    while stack and total <= MAX_ELEMENTS:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            total += 1
    return total


def check_size(n: int, path: tuple, where: Source) -> None:
    if not 1 <= n <= MAX_ELEMENTS:
        raise where.error(f"a value may have 1 to {MAX_ELEMENTS:,} elements, not {n:,}", path)


def as_written(value, path: tuple, where: Source):
    if isinstance(value, list):
        return [as_written(v, path + (i,), where) for i, v in enumerate(value)]
    return where.texts.get(path, repr(value))


ZERO_SLACK = 0.5    # the most a claim of zero allows: half a unit in the ones place


def half_unit(text: str) -> float:
    """Half a unit in the last digit written: '6.7012' -> 5e-05; an integer is exact.

    Never more than half a unit in the claim's own leading digit: for a number that is not
    0 the last digit's place is never above the leading one's, so this binds only for a
    zero, which has no leading digit and is held to at most ZERO_SLACK ('0.0e+300' claims
    0 within 0.5, not anything under 5e299; '0.0000' still claims within 5e-05)."""
    text = str(text).strip().lower().lstrip("+-")
    try:
        written = Decimal(text.replace("_", ""))
        exponent = written.as_tuple().exponent
    except InvalidOperation:
        return 0.0
    if ("." not in text and "e" not in text) or not isinstance(exponent, int):
        return 0.0
    half = 0.5 * 10.0 ** exponent
    return min(half, ZERO_SLACK) if written.is_zero() else half
