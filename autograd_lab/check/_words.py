"""How the checks name what they found: a place, a point, a value listed for a report."""
from __future__ import annotations

import numpy as np

from ..case import Case

LISTED_ELEMENTS = 1_000    # elements of a vector written out


def listed(v):
    """A value for a report: a float, a list, or nested lists, cut to LISTED_ELEMENTS."""
    v = np.asarray(v, dtype=float)
    if v.ndim == 0:
        return float(v)
    if v.ndim == 1 or v.size > LISTED_ELEMENTS:   # a large tensor: its first elements, flat
        return [float(x) for x in v.reshape(-1)[:LISTED_ELEMENTS]]
    return v.tolist()


def at_point(case: Case, index: tuple) -> str:
    """Where a difference was found: the point (with its scalar inputs) and the element."""
    point = index[0] if index else 0
    scalars = {n: float(v[point].reshape(-1)[0]) for n, v in case.points.items()
               if not case.inputs[n].value.shape}
    at = ", ".join(f"{n}={v:g}" for n, v in scalars.items())
    element = f" element {list(index[1:])}" if len(index) > 1 and case.shape else ""
    return f"{point_name(point)}{' (' + at + ')' if at else ''}{element}"


def point_name(point: int) -> str:
    return "the base point" if point == 0 else f"point {point}"


def shown(v, digits: int = 0) -> str:
    """A claim's value in a message: a number, or a list cut after 8 elements."""
    if isinstance(v, list):
        return "[" + ", ".join(shown(x, digits) for x in v[:8]) + (", ...]" if len(v) > 8 else "]")
    return f"{v:.{digits}g}" if digits and isinstance(v, float) else str(v)
