"""How the checks name what they found: a place, a point, a value listed for a report."""
from __future__ import annotations

import numpy as np
import torch

from ..case import Case
from ..result import Problem

# a report of a ten-million-element tensor lists its first thousand elements, never all of
# them (two looks at 10^6 elements had made a 128 MB report.json)
LISTED_ELEMENTS = 1_000


def listed(v):
    """A value for a report: a float, a list, or nested lists in the value's shape when it is
    small enough, else its first LISTED_ELEMENTS elements in order (flat)."""
    if isinstance(v, torch.Tensor):
        v = v.detach().to(torch.float64)
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


def problem(case, text: str, *path) -> Problem:
    """A problem about what path names in the case file (an edge, a claim, a formula),
    placed at its line and column there."""
    return Problem(text, *case.place_of(*path))


def false_claim(case, claim, value, hint: str = "") -> Problem:
    """A claim the value does not bear out, at the claim's place."""
    return problem(case, f"claim {claim.key} = {shown(claim.written)} is false: the value is "
                   f"{shown(listed(value), 10)} ({point_name(claim.point)})" + hint, *claim.path)


def about(case, param: str) -> tuple:
    """Where a parameter's gradient is written by hand: its `gradient:` entry, its backward
    entry, else the input itself."""
    if param in getattr(case, "gradient", {}):
        return ("gradient", param)
    if f"d{param}" in (getattr(case, "backward", None) or {}):
        return ("backward", f"d{param}")
    return ("inputs", param)
