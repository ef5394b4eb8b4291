"""Values as a case writes them: numbers and generated vectors to arrays, and the digits
each number was written with (a claim holds to the digits it is written with)."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import numpy as np
import torch

from ..case import Input, constant_value, declared, parse
from ..errors import CaseError
from ._names import check_name
from ._schema import Linspace, Randint, Randn, Uniform
from ._yaml import Source

MAX_ELEMENTS = 10_000_000  # in one input, and over all points together


def input_of(name: str, spec, where: Source, dims: dict | None = None) -> Input:
    check_name(name, ("inputs", name), where)
    grad = getattr(spec, "grad", False)
    value = spec.value if hasattr(spec, "value") else spec
    path = ("inputs", name, "value") if hasattr(spec, "value") else ("inputs", name)
    integer = getattr(spec, "dtype", None) == "int64" or isinstance(value, Randint)
    if integer and grad:
        raise where.error(f"{name} is an integer input (labels, indices): it is never "
                          "differentiated, so it cannot have grad: true", ("inputs", name))
    values = array(value, path, where, dims or {})
    if integer:
        values = integers(values, path, where)
    return Input(name, values, grad, integer)


def array(value, path: tuple, where: Source, dims: dict | None = None) -> np.ndarray:
    dims = dims or {}
    if isinstance(value, Linspace):
        lo, hi, n = value.linspace
        check_size(n, path, where)
        return np.linspace(lo, hi, n)
    if isinstance(value, Uniform):
        shape = shape_of(value.shape, path + ("shape",), where, dims)
        return np.random.default_rng(value.seed).uniform(*value.uniform, size=shape)
    if isinstance(value, Randn):
        return randn(value, path, where, dims)
    if isinstance(value, Randint):
        return randint(value, path, where, dims)
    return numbers(value, path, where)


def randn(value: Randn, path: tuple, where: Source, dims: dict) -> np.ndarray:
    """torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale: torch's
    float32 draw, the numbers a tutorial with that seed gets, scaled in float32 as it does."""
    shape = shape_of(value.randn, path + ("randn",), where, dims)
    drawn = torch.randn(shape, generator=_generator(value.seed, path, where)) * value.scale
    return drawn.numpy().astype(np.float64)


def randint(value: Randint, path: tuple, where: Source, dims: dict) -> np.ndarray:
    lo, hi = (size(entry, path + ("randint", i), where, dims, least=None)
              for i, entry in enumerate(value.randint))
    if not lo < hi:
        raise where.error(f"randint: [lo, hi) must hold a value; [{lo}, {hi}) holds none",
                          path + ("randint",))
    shape = shape_of(value.shape, path + ("shape",), where, dims)
    return torch.randint(lo, hi, shape, generator=_generator(value.seed, path, where)).numpy()


def _generator(seed: int, path: tuple, where: Source) -> torch.Generator:
    if not 0 <= seed < 2**63:
        raise where.error(f"seed must be a whole number from 0 to 2**63 - 1, not {seed}",
                          path + ("seed",))
    return torch.Generator().manual_seed(seed)


def shape_of(entries: list, path: tuple, where: Source, dims: dict) -> tuple[int, ...]:
    """A generated value's shape: each entry an integer, a dim, or a product or sum of dims."""
    if not entries:
        raise where.error("shape must list positive sizes", path)
    shape = tuple(size(e, path + (i,), where, dims) for i, e in enumerate(entries))
    check_size(math.prod(shape), path, where)
    return shape


def size(entry, path: tuple, where: Source, dims: dict, least: int | None = 1) -> int:
    """One size: 32, n, or k*e (dims by name)."""
    if isinstance(entry, str):
        try:
            value = constant_value(declared(parse(entry), set(dims)), dims)
        except CaseError as exc:
            raise where.error(exc.message, path) from None
        except (ValueError, OverflowError, ZeroDivisionError):
            known = ", ".join(dims) or "none are declared under dims:"
            raise where.error(f"{entry!r} is not a size: write an integer, or dims and their "
                              f"products (dims: {known})", path) from None
    else:
        value = entry
    if not float(value).is_integer() or (least is not None and value < least):
        raise where.error(f"a size must be a whole number{' of at least 1' if least else ''}, "
                          f"not {value:g}", path)
    return int(value)


def integers(values: np.ndarray, path: tuple, where: Source) -> np.ndarray:
    """An integer input's values as int64; each must be a whole number."""
    if not np.all(np.mod(values, 1) == 0):
        raise where.error("an int64 input holds whole numbers only", path)
    return values.astype(np.int64)


def numbers(value, path: tuple, where: Source) -> np.ndarray:
    if isinstance(value, list):
        check_size(count_values(value), path, where)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise where.error("expected numbers in a rectangular (nested) list", path) from None
    if array.ndim and 0 in array.shape:
        raise where.error("an empty list is not a value", path)
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


def half_unit(text: str) -> float:
    """Half a unit in the last digit written: '6.7012' -> 5e-05; an integer is exact."""
    text = str(text).strip().lower().lstrip("+-")
    try:
        exponent = Decimal(text.replace("_", "")).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    if ("." not in text and "e" not in text) or not isinstance(exponent, int):
        return 0.0
    return 0.5 * 10.0 ** exponent
