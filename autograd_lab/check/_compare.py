"""Agreement between methods and with claims, at dtype-aware tolerances."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

# torch.testing.assert_close's defaults: (rtol, atol) by dtype
TOLERANCES = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}


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


def as_written(written: np.ndarray, value, slack, rtol: float, atol: float) -> bool:
    """A number as a tutorial printed it, against the value: equal within the tolerance, or
    within its slack, half a unit in its last written digit (0.4121 stands for whatever
    rounds to it). Claims and behaviour expectations alike."""
    ref = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), np.shape(written)))
    allowed = np.maximum(slack, atol + rtol * np.abs(ref))
    return bool(np.all(np.abs(written - ref) <= allowed))


@dataclass
class Gap:
    """The worst disagreement of two arrays: how far past tolerance, where, by how much."""

    ratio: float      # |a - b| / (atol + rtol*|b|): above 1 is a disagreement
    index: tuple      # (point, *element)
    diff: float
    a: float
    b: float

    @property
    def ok(self) -> bool:
        return self.ratio <= 1


CHUNK = 1 << 15   # elements compared at a time: the temporaries stay in cache, not in RAM


def gap(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> Gap:
    """Compare where both are finite. Non-finite values agree only with themselves (nan with
    nan: neither has a value, which the domain and kink checks explain; inf with the same
    inf); against anything else, a number, the other infinity or nan, the gap is infinite."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size == 1 == b.size:   # one point of a scalar: most gaps of a small case, in floats
        return _one(a, b, rtol, atol)
    a, b = np.broadcast_arrays(a, b)
    if a.size == 0:
        return Gap(0.0, (), 0.0, 0.0, 0.0)
    # an axis along which both only repeat one value (a broadcast) is compared once
    once = tuple(slice(0, 1) if a.strides[k] == b.strides[k] == 0 else slice(None)
                 for k in range(a.ndim))
    a, b = a[once], b[once]
    rows = len(a) if a.ndim else 1
    rows_a, rows_b = a.reshape(rows, -1), b.reshape(rows, -1)  # views, even of broadcasts
    along = 1 if rows_a.shape[1] >= len(rows_a) else 0
    worst: tuple | None = None
    for start in range(0, rows_a.shape[along], CHUNK):
        part = (slice(None), slice(start, start + CHUNK)) if along else slice(start, start + CHUNK)
        g = _gap(rows_a[part], rows_b[part], rtol, atol)
        if worst is None or g[0] > worst[0][0]:
            worst = g, start
    assert worst is not None   # a has elements, so one chunk at least
    (ratio, (row, col), diff), start = worst
    row, col = (row, col + start) if along else (row + start, col)
    index = np.unravel_index(row * rows_a.shape[1] + col, a.shape)  # 0 on a once-axis
    return Gap(ratio, tuple(int(i) for i in index), diff, float(rows_a[row, col]),
               float(rows_b[row, col]))


def _one(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> Gap:
    """gap of two one-element arrays in Python floats, the same operations as _gap's: numpy's
    call overheads were 70 us a comparison, and a small case makes about a dozen."""
    x, y = float(a.reshape(-1)[0]), float(b.reshape(-1)[0])
    diff, scale = abs(x - y), y
    if not math.isfinite(diff) and not (math.isfinite(x) and math.isfinite(y)):
        same = x == y or (math.isnan(x) and math.isnan(y))
        diff, scale = (0.0 if same else math.inf), 0.0
    bound = abs(scale) * rtol + atol
    ratio = diff / bound if bound else math.inf if diff else math.nan
    return Gap(ratio, (0,) * max(a.ndim, b.ndim), diff, x, y)


def _gap(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> tuple:
    """(worst ratio, its (row, column), its difference) of two 2-D blocks."""
    scale = b
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):   # atol 0: x/0
        diff = np.abs(a - b)
        if not np.isfinite(diff).all():  # rare: the slow path sorts out nan and inf
            both = np.isfinite(a) & np.isfinite(b)
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            diff = np.where(both, diff, np.where(same, 0.0, np.inf))
            scale = np.where(both, b, 0.0)
        ratio = np.abs(scale)
        ratio *= rtol
        ratio += atol
        np.divide(diff, ratio, out=ratio)
    flat = int(np.argmax(ratio))
    at = np.unravel_index(flat, ratio.shape)
    return float(ratio.flat[flat]), at, float(diff[at])
