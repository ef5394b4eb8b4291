"""How much of a value a result lists: a report of a ten-million-element tensor lists its
first thousand elements, never all of them (two looks at 10^6 elements had made a 128 MB
report.json)."""
from __future__ import annotations

import numpy as np
import torch

LISTED_ELEMENTS = 1_000    # elements of a vector written out


def listed(v):
    """A number, or a list: nested in the value's shape when it is small enough, else its
    first LISTED_ELEMENTS elements in order (flat)."""
    if isinstance(v, torch.Tensor):
        v = v.detach().to(torch.float64)
    v = np.asarray(v, dtype=float)
    if v.ndim == 0:
        return float(v)
    if v.ndim == 1 or v.size > LISTED_ELEMENTS:
        return [float(x) for x in v.reshape(-1)[:LISTED_ELEMENTS]]
    return v.tolist()
