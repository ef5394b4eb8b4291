"""Values as a case writes them: numbers and generated vectors to arrays, and the digits
each number was written with (a claim holds to the digits it is written with)."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import numpy as np
import torch

from ..case import Const, Input, constant_value, declared, parse, walk
from ..errors import CaseError
from ..ops import MAX_RANK
from ._names import check_name
from ._schema import Linspace, Randint, Randn, Uniform
from ._yaml import Source

MAX_ELEMENTS = 10_000_000  # in one input, and over all points together
INT64 = 2**63              # an int64 lies in [-INT64, INT64)
MAX_DIMS = MAX_RANK        # dimensions of a value, as of any part of an expression


def input_of(name: str, spec, where: Source, dims: dict | None = None,
             generators: dict | None = None) -> Input:
    check_name(name, ("inputs", name), where)
    grad = getattr(spec, "grad", False)
    value = spec.value if hasattr(spec, "value") else spec
    path = ("inputs", name, "value") if hasattr(spec, "value") else ("inputs", name)
    integer = getattr(spec, "dtype", None) == "int64" or isinstance(value, Randint)
    if integer and grad:
        raise where.error(f"{name} is an integer input (labels, indices): it is never "
                          "differentiated, so it cannot have grad: true", ("inputs", name))
    values = array(value, path, where, dims or {}, generators)
    if integer:
        values = integers(values, path, where, value)
    return Input(name, values, grad, integer)


def array(value, path: tuple, where: Source, dims: dict | None = None,
          generators: dict | None = None) -> np.ndarray:
    """A value as written or generated; generators: the case's named generators so far
    (g -> (its seed, the generator)), each drawn from in the order the inputs are read."""
    dims = dims or {}
    if isinstance(value, Linspace):
        lo, hi, n = value.linspace
        check_size(n, path, where)
        check_range(lo, hi, path + ("linspace",), where, ordered=False)
        return np.linspace(lo, hi, n)
    if isinstance(value, Uniform):
        shape = shape_of(value.shape, path + ("shape",), where, dims)
        check_range(*value.uniform, path + ("uniform",), where)
        return np.random.default_rng(value.seed).uniform(*value.uniform, size=shape)
    if isinstance(value, Randn):
        return randn(value, path, where, dims, generators)
    if isinstance(value, Randint):
        return randint(value, path, where, dims, generators)
    return numbers(value, path, where)


def randn(value: Randn, path: tuple, where: Source, dims: dict,
          generators: dict | None = None) -> np.ndarray:
    """torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale + shift:
    torch's float32 draw, the numbers a tutorial with that seed gets, scaled and shifted in
    float32 as it does (each written operation rounded once, as in the notebook)."""
    shape = shape_of(value.randn, path + ("randn",), where, dims)
    drawn = torch.randn(shape, generator=_drawing(value, path, where, generators))
    if value.scale != 1.0:
        drawn = drawn * value.scale
    if value.shift != 0.0:
        drawn = drawn + value.shift
    overflowed = int((~torch.isfinite(drawn)).sum())
    if overflowed:   # a float32 draw times 1e300 is inf: no gradient can be checked there
        raise where.error(f"randn times scale {value.scale:g} overflows float32 in "
                          f"{overflowed:,} of {drawn.numel():,} elements (inf); values must be "
                          "finite: use a smaller scale", path + ("scale",))
    return drawn.numpy().astype(np.float64)


def randint(value: Randint, path: tuple, where: Source, dims: dict,
            generators: dict | None = None) -> np.ndarray:
    lo, hi = (size(entry, path + ("randint", i), where, dims, least=None)
              for i, entry in enumerate(value.randint))
    if not lo < hi:
        raise where.error(f"randint: [lo, hi) must hold a value; [{lo}, {hi}) holds none",
                          path + ("randint",))
    if not (lo >= -INT64 and hi < INT64):
        raise where.error("randint: lo and hi must lie within int64's range, -2**63 to "
                          "2**63 - 1", path + ("randint",))
    shape = shape_of(value.shape, path + ("shape",), where, dims)
    return torch.randint(lo, hi, shape,
                         generator=_drawing(value, path, where, generators)).numpy()


def _drawing(value, path: tuple, where: Source, generators: dict | None) -> torch.Generator:
    """A fresh generator seeded with seed, or the named one the inputs above drew from (a
    notebook's g = torch.Generator().manual_seed(s), then C, W1, ... from g)."""
    name = value.generator
    if name is None or generators is None:
        return _generator(value.seed, path, where)
    if name not in generators:
        generators[name] = (value.seed, _generator(value.seed, path, where))
    seed, generator = generators[name]
    if seed != value.seed:
        raise where.error(f"generator {name} is seeded {seed} above; every draw from it "
                          f"gives that seed, not {value.seed}", path + ("seed",))
    return generator


def _generator(seed: int, path: tuple, where: Source) -> torch.Generator:
    if not 0 <= seed < 2**63:
        raise where.error(f"seed must be a whole number from 0 to 2**63 - 1, not {seed}",
                          path + ("seed",))
    return torch.Generator().manual_seed(seed)


def shape_of(entries: list, path: tuple, where: Source, dims: dict) -> tuple[int, ...]:
    """A generated value's shape: each entry an integer, a dim, or a product or sum of dims."""
    if not entries:
        raise where.error("shape must list positive sizes", path)
    check_dims(len(entries), path, where)
    shape = tuple(size(e, path + (i,), where, dims) for i, e in enumerate(entries))
    check_size(math.prod(shape), path, where)
    return shape


def size(entry, path: tuple, where: Source, dims: dict, least: int | None = 1) -> int:
    """One size: 32, n, or k*e (dims by name)."""
    if isinstance(entry, str):
        try:
            tree = declared(parse(entry), set(dims))
            for name in (n.name for n in walk(tree) if isinstance(n, Const)):
                raise CaseError(f"{name} in {entry!r} is not a dim: a size is an integer, or "
                                f"dims and their products (dims: {', '.join(dims) or 'none'})")
            value = constant_value(tree, dims)
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


def integers(values: np.ndarray, path: tuple, where: Source, written=None) -> np.ndarray:
    """An integer input's values as int64; each must be a whole number that int64 holds.
    written: the numbers as the file wrote them, where they are whole numbers: read exactly
    (float64 rounds 2**63 - 1 up to 2**63, which int64 does not hold)."""
    if not np.all(np.mod(values, 1) == 0):
        raise where.error("an int64 input holds whole numbers only", path)
    exact = _whole(written)
    if exact is not None:
        if not all(-INT64 <= v < INT64 for v in exact):
            raise where.error("an int64 input holds whole numbers from -2**63 to 2**63 - 1 "
                              "only", path)
        return np.array(exact, dtype=np.int64).reshape(values.shape)
    if not np.all((values >= -INT64) & (values < INT64)):
        raise where.error("an int64 input holds whole numbers from -2**63 to 2**63 - 1 only",
                          path)
    return values.astype(np.int64)


def _whole(written) -> list[int] | None:
    """The Python ints of a (nested) list or number as written, flat; None if any is not an
    int (a float, a generated value)."""
    flat, stack = [], [written]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, int) and not isinstance(item, bool):
            flat.append(item)
        else:
            return None
    return flat


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
