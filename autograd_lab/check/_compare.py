"""Agreement between methods and with claims: the comparison rule (docs/how-it-checks.md).

A value a is near the reference b when

    |a - b| <= rtol*|b| + atol * min(1, S)

where S, the scale, is the larger of |b| and the magnitude of what flows into the entry (the
values and gradients at that point): atol is an absolute tolerance for quantities of order
one, and shrinks with a smaller scale. And whatever the tolerance, a and b are never near
when they differ by half the larger or more (the opposite sign, a zero for a non-zero, a
factor of 2 or more), unless both are at rounding level, NOISE_ULPS units in the last
place of the dtype at the scale S: a derivative's correctness does not depend on its size,
and an entry that is exactly zero agrees with rounding noise."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

# torch.testing.assert_close's defaults: (rtol, atol) by dtype
TOLERANCES = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}
EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}
NOISE_ULPS = 64    # rounding level: a sum of some dozens of terms of the scale, each rounded
GROSS = 2          # a difference of half the larger value or more is never near
EXACT_HALF = 1 - 1e-9   # a factor of 2 computed in floats may miss 2 in its last digits


# a project's tolerance for the cases that set none: "RTOL,ATOL", set by `check --tolerance`
# or pyproject's [tool.autograd-lab]; read at each check, so worker processes see it too
ENV = "AUTOGRAD_LAB_TOLERANCE"


def tolerance(dtype: str, override: tuple | None = None) -> tuple[float, float]:
    """The case's own tolerance, else the project's, else the dtype's."""
    return override or _project() or TOLERANCES[dtype]


def _project() -> tuple[float, float] | None:
    given = os.environ.get(ENV)
    if not given:
        return None
    try:
        rtol, atol = (float(v) for v in given.split(","))
    except ValueError:
        return None
    return (rtol, atol) if 0 <= rtol < math.inf and 0 <= atol < math.inf else None


def looser(a: str, b: str) -> str:
    return a if TOLERANCES[a][1] >= TOLERANCES[b][1] else b


def as_written(written: np.ndarray, value, slack, rtol: float, atol: float,
               scale=None, dtype: str = "float64") -> bool:
    """A number as a tutorial printed it, against the value: within half a unit in its last
    written digit (0.4121 stands for whatever rounds to it), or near it by the comparison
    rule (within the tolerance, and no sign flip, zero for a non-zero or factor of 2 that
    the tolerance alone would let through). Claims and behaviour expectations alike."""
    ref = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), np.shape(written)))
    written = np.broadcast_to(written, ref.shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        printed = np.abs(written - ref) <= slack
        near = _judged(np.asarray(written, float), np.asarray(ref, float), rtol, atol,
                       EPS[dtype], _scale_like(scale, ref))[0] <= 1
    return bool(np.all(printed | near))


@dataclass
class Gap:
    """The worst disagreement of two arrays: how far past tolerance, where, by how much."""

    ratio: float      # |a - b| / the allowed difference: above 1 is a disagreement
    index: tuple      # (point, *element)
    diff: float
    a: float
    b: float
    guard: str = ""   # why the tolerance alone was not enough: "the opposite sign", ...
    rounding: bool = True   # every difference at the dtype's rounding level of its scale
    scale: float = 1.0      # S at the worst element: the magnitude atol was measured on

    @property
    def ok(self) -> bool:
        return self.ratio <= 1

    @property
    def never(self) -> str:
        """Words for a message where the guard, not the tolerance, decided: '' otherwise."""
        return f"; {self.guard}, which is never within tolerance" if self.guard else ""

    def tolerance(self, rtol: float, atol: float) -> str:
        """The tolerance as applied at the worst element: atol scaled where S is below 1."""
        scaled = f" at the scale {self.scale:.3g}" \
            if self.scale < 1 and math.isfinite(self.diff) else ""
        return f"rtol {rtol:g}, atol {atol:g}{scaled}"


CHUNK = 1 << 15   # elements compared at a time: the temporaries stay in cache, not in RAM


def gap(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, scale=None,
        dtype: str = "float64") -> Gap:
    """Compare a with the reference b by the comparison rule (module docstring) where both
    are finite. Non-finite values agree only with themselves (nan with nan: neither has a
    value, which the domain and kink checks explain; inf with the same inf); against
    anything else, a number, the other infinity or nan, the gap is infinite.

    scale: the magnitude of what flows into each entry (a number, or one a point: an array
    over b's first axis); None is order one. dtype: whose rounding is "rounding level"."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    eps = EPS[dtype]
    if a.size == 1 == b.size:   # one point of a scalar: most gaps of a small case, in floats
        return _one(a, b, rtol, atol, eps, _one_scale(scale))
    a, b = np.broadcast_arrays(a, b)
    if a.size == 0:
        return Gap(0.0, (), 0.0, 0.0, 0.0)
    s = _scale_like(scale, a)
    if _same(a, b):   # one array seen twice (autograd in float64 as the reference of itself)
        x, at = float(a.flat[0]), float(np.ravel(s)[0]) if np.ndim(s) else float(s)
        return Gap(0.0, (0,) * a.ndim, 0.0, x, x, "", True, max(at, abs(x)))
    # an axis along which all three only repeat one value (a broadcast) is compared once
    once = tuple(slice(0, 1) if a.strides[k] == b.strides[k] == 0 and
                 (np.ndim(s) == 0 or s.strides[k] == 0) else slice(None)
                 for k in range(a.ndim))
    a, b = a[once], b[once]
    s = s if np.ndim(s) == 0 else s[once]
    rows = len(a) if a.ndim else 1
    rows_a, rows_b = a.reshape(rows, -1), b.reshape(rows, -1)  # views, even of broadcasts
    rows_s = s if np.ndim(s) == 0 else s.reshape(rows, -1)
    along = 1 if rows_a.shape[1] >= len(rows_a) else 0
    worst: tuple | None = None
    rounding = True
    for start in range(0, rows_a.shape[along], CHUNK):
        part = (slice(None), slice(start, start + CHUNK)) if along else slice(start, start + CHUNK)
        g = _gap(rows_a[part], rows_b[part], rtol, atol, eps,
                 rows_s if np.ndim(rows_s) == 0 else rows_s[part])
        rounding = rounding and g[3]
        if worst is None or g[0] > worst[0][0]:
            worst = g, start
    assert worst is not None   # a has elements, so one chunk at least
    (ratio, (row, col), diff, _), start = worst
    row, col = (row, col + start) if along else (row + start, col)
    index = np.unravel_index(row * rows_a.shape[1] + col, a.shape)  # 0 on a once-axis
    x, y = float(rows_a[row, col]), float(rows_b[row, col])
    at = float(rows_s) if np.ndim(rows_s) == 0 else float(rows_s[row, col])
    return Gap(ratio, tuple(int(i) for i in index), diff, x, y,
               _guard(x, y, rtol, atol, eps, at), rounding, max(at, abs(y)))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """a and b are views of the same memory, element for element: every difference is 0,
    whatever the values (nan and inf agree with themselves), and the first element is the
    worst, as _judged's argmax would find."""
    return a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype and \
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def _one(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, eps: float,
         scale: float) -> Gap:
    """gap of two one-element arrays in Python floats, the same rule as _judged's: numpy's
    call overheads were 70 us a comparison, and a small case makes about a dozen."""
    x, y = float(a.reshape(-1)[0]), float(b.reshape(-1)[0])
    diff, ref = abs(x - y), y
    if not math.isfinite(diff) and not (math.isfinite(x) and math.isfinite(y)):
        same = x == y or (math.isnan(x) and math.isnan(y))
        diff, ref = (0.0 if same else math.inf), 0.0
    size = max(scale, abs(ref))
    noise = NOISE_ULPS * eps * size
    bound = abs(ref) * rtol + atol * min(1.0, size)
    ratio = 0.0 if diff == 0 else diff / bound if bound else math.inf
    big = max(abs(x), abs(y))
    if ratio <= 1 and big > noise and diff * GROSS >= big * EXACT_HALF:
        ratio += 1.0   # past the tolerance: the guard's verdict
    return Gap(ratio, (0,) * max(a.ndim, b.ndim), diff, x, y,
               _guard(x, y, rtol, atol, eps, scale), diff <= noise, size)


def _guard(x: float, y: float, rtol: float, atol: float, eps: float, scale: float) -> str:
    """The words for x against the reference y when the guard alone fails it, else ''."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return ""
    diff, big = abs(x - y), max(abs(x), abs(y))
    size = max(scale, abs(y))
    noise = NOISE_ULPS * eps * size
    if diff > abs(y) * rtol + atol * min(1.0, size) or big <= noise \
            or diff * GROSS < big * EXACT_HALF:
        return ""
    if abs(x) <= noise:
        return "a zero where the reference is not"
    if abs(y) <= noise:
        return "a non-zero where the reference is zero"
    if x * y < 0:
        return "the opposite sign"
    return f"a factor of {big / min(abs(x), abs(y)):.3g}"


def _one_scale(scale) -> float:
    return 1.0 if scale is None else float(np.max(np.asarray(scale, float)))


def _scale_like(scale, like: np.ndarray):
    """scale (None, a number, or one a point over like's first axis) against like's shape: a
    number, or a broadcast view of like's shape."""
    if scale is None:
        return 1.0
    s = np.asarray(scale, float)
    if s.size == 1 or np.ndim(like) == 0 or s.size != np.shape(like)[0]:
        return float(np.max(s))
    return np.broadcast_to(s.reshape((-1,) + (1,) * (np.ndim(like) - 1)), np.shape(like))


def scales(*arrays) -> np.ndarray:
    """(P,): the magnitude of each point's values, over arrays of shape (P, ...) or (1, ...)
    (inf and nan left out): the scale of what flows into an entry at that point."""
    out: np.ndarray | None = None
    for v in arrays:
        top = _top(np.asarray(v, float))
        out = top if out is None else np.maximum(out, top)
    return np.ones(1) if out is None else out


def _top(v: np.ndarray) -> np.ndarray:
    """(P,): each point's largest finite |v|. Its largest and smallest element first, which
    make no array as large as v (an 8 MB gradient, or a broadcast of one number, stays as it
    is); only where one of them is not finite, |v| with the others left out."""
    rows = v.reshape(len(v), -1) if v.ndim else v.reshape(1, 1)
    with np.errstate(invalid="ignore"):
        hi, lo = rows.max(axis=1, initial=0.0), rows.min(axis=1, initial=0.0)
    if np.isfinite(hi).all() and np.isfinite(lo).all():
        return np.maximum(hi, -lo)
    a = np.abs(rows)
    return np.where(np.isfinite(a), a, 0.0).max(axis=1, initial=0.0)


def _judged(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, eps: float,
            scale) -> tuple:
    """(ratio, diff, every diff at rounding level) element by element: the difference over
    the allowed difference, above 1 a disagreement; one that the guard fails is past 1
    whatever the tolerance."""
    ref = b
    diff = np.abs(a - b)
    if not np.isfinite(diff).all():  # rare: the slow path sorts out nan and inf
        both = np.isfinite(a) & np.isfinite(b)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        diff = np.where(both, diff, np.where(same, 0.0, np.inf))
        ref = np.where(both, b, 0.0)
    ref = np.abs(ref)
    size = np.maximum(scale, ref)
    noise = size * (NOISE_ULPS * eps)
    allowed = np.minimum(size, 1.0) * atol
    allowed += rtol * ref
    ratio = np.where(diff == 0, 0.0, diff / allowed)   # equal values agree, whatever atol
    big = np.maximum(np.abs(a), np.abs(b))
    gross = (ratio <= 1) & (big > noise) & (diff * GROSS >= big * EXACT_HALF)
    if gross.any():
        ratio = np.where(gross, ratio + 1.0, ratio)
    return ratio, diff, bool((diff <= noise).all())


def _gap(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, eps: float,
         scale) -> tuple:
    """(worst ratio, its (row, column), its difference, all at rounding level) of two 2-D
    blocks."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):   # atol 0: x/0
        ratio, diff, rounding = _judged(a, b, rtol, atol, eps, scale)
    flat = int(np.argmax(ratio))
    at = np.unravel_index(flat, ratio.shape)
    return float(ratio.flat[flat]), at, float(diff[at]), rounding
