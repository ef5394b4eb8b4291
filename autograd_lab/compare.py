"""Agreement between methods and with claims, at dtype-aware tolerances."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# torch.testing.assert_close's defaults: (rtol, atol) by dtype
TOLERANCES = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}


def tolerance(dtype: str, override: tuple | None = None) -> tuple[float, float]:
    return override or TOLERANCES[dtype]


def looser(a: str, b: str) -> str:
    return a if TOLERANCES[a][1] >= TOLERANCES[b][1] else b


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


def gap(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> Gap:
    """Compare where both are finite; a non-finite value on one side only counts as infinite."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    if a.size == 0:
        return Gap(0.0, (), 0.0, 0.0, 0.0)
    scale = b
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        if not np.isfinite(diff).all():  # rare: the slow path sorts out nan and inf
            both = np.isfinite(a) & np.isfinite(b)
            one = np.isfinite(a) ^ np.isfinite(b)
            diff = np.where(both, diff, np.where(one, np.inf, 0.0))
            scale = np.where(both, b, 0.0)
        ratio = np.abs(scale)
        ratio *= rtol
        ratio += atol
        np.divide(diff, ratio, out=ratio)
    flat = int(np.argmax(ratio))
    index = np.unravel_index(flat, ratio.shape)
    return Gap(float(ratio.flat[flat]), tuple(int(i) for i in index), float(diff.flat[flat]),
               float(a.flat[flat]), float(b.flat[flat]))
