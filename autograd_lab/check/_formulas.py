"""A hand-written derivative is a formula: checked as one, not only at the case's points.

`f/q: -4` in f = (x + y)*z at z = -4 is right at the base point and wrong everywhere else.
Each hand-written edge and total derivative is also evaluated, beside SymPy's, at a few
reproducible random points near the case's own (each parameter scaled by a random factor
in [0.5, 1.5], so that a positive argument of log or sqrt stays positive and a sign is kept);
a point where either side has no finite value, or where a switch point of relu, abs, ... is
hit, is left out. A formula that agrees at the case's points and not at these fails, saying
where.

Only what a derivative is taken with respect to moves: the parameters (grad: true), and the
nodes computed from them. Data (an input without grad: true: a target, a one-hot label, a
batch's size, a constant) is held at its value: softmax cross-entropy's p - y is right for
a one-hot y and wrong for a y moved off it, and a tutorial's formula is only ever claimed
for its own data."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..case import Call, Case, walk, with_points
from ..methods import Recorder, Symbolic, forward, leaves, manual_totals
from ..ops import KINKS
from . import _compare as compare

POINTS = 4                # random points a formula is evaluated at
SEED = 0
SPREAD = (0.5, 1.5)       # the factor each input is scaled by
MAX_ELEMENTS = 10_000     # past this, a vector's own elements are many points already


@dataclass
class Elsewhere:
    """The case at POINTS random points near its own, and SymPy's view of it there."""
    case: Case
    off: np.ndarray        # (P,): the points where no kink sits on its switch point
    symbolic: Symbolic
    moved: list[str]       # the inputs scaled at random (the parameters); the rest are held


def elsewhere(case: Case, derivatives: dict) -> Elsewhere | None:
    """The case moved to random points, or None where it is too large to need them (or has
    no point at which every switch point is off). derivatives: the case's own Symbolic's, as
    a derivative is the same expression wherever it is evaluated. SymPy evaluates there in
    float64 (its derivative still exact, as for any array past 64 elements): a formula is
    wrong there by far more than rounding, and 40 digits cost most of this check's time."""
    elements = max((math.prod(i.value.shape) for i in case.inputs.values()), default=1)
    if elements > MAX_ELEMENTS:
        return None
    rng = np.random.default_rng(SEED)
    points = {}
    for name, values in case.points.items():
        base = values[0]
        factor = rng.uniform(*SPREAD, size=(POINTS,) + base.shape)  # drawn for every input,
        # so that a parameter's points do not depend on which inputs are data
        points[name] = base[None] * factor if case.inputs[name].grad else \
            np.broadcast_to(base[None], (POINTS,) + base.shape).copy()
    moved = with_points(case, points)
    off = _off_switches(moved)
    if not off.any():
        return None
    return Elsewhere(moved, off, Symbolic(moved, derivatives, fast=True),
                     [n for n in case.points if case.inputs[n].grad])


def moved_inputs(case: Case, there: Elsewhere | None) -> dict | None:
    """What report.json says of the formula check: which inputs moved and which were held,
    at how many points; None where it did not run."""
    if there is None:
        return None
    return {"points": int(there.off.sum()), "moved": list(there.moved),
            "held": [n for n in case.inputs if n not in there.moved]}


def _off_switches(case: Case) -> np.ndarray:
    """(P,): the points where no kink sits on its switch point."""
    if not any(isinstance(n, Call) and n.func in KINKS
               for node in case.nodes.values() for n in walk(node.expr)):
        return np.ones(case.count, dtype=bool)
    seen = Recorder()
    with torch.no_grad():   # where each kink's argument sits: the forward pass says it all
        forward(case, leaves(case), seen)
    off = np.ones(case.count, dtype=bool)
    for hits in seen.on_switch(case.count).values():
        off &= ~hits.reshape(case.count, -1).any(axis=1)
    return off


def wrong_edge(case: Case, there: Elsewhere, edge) -> tuple | None:
    """(the point, hand-written value, SymPy's) where the edge's formula is wrong, or None."""
    hand, exact = there.symbolic.edge_pair(edge.expr, edge.node, edge.parent)
    return _first_gap(case, there, hand, exact)


def wrong_totals(case: Case, there: Elsewhere) -> dict:
    """param -> (the point, hand-written total, SymPy's) where a total derivative is wrong."""
    values = forward(there.case, leaves(there.case))
    hand = manual_totals(there.case, values)
    exact = there.symbolic.gradients()
    out = {}
    for param in hand:
        found = _first_gap(case, there, hand[param], exact[param])
        if found is not None:
            out[param] = found
    return out


def _first_gap(case: Case, there: Elsewhere, hand, exact) -> tuple | None:
    rtol, atol = compare.tolerance("float64", case.tolerance)
    hand, exact = np.broadcast_arrays(np.asarray(hand, float), np.asarray(exact, float))
    rows = len(hand)
    a, b = hand.reshape(rows, -1), exact.reshape(rows, -1)
    usable = there.off & np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if not usable.any():
        return None
    g = compare.gap(np.where(usable[:, None], a, np.nan), np.where(usable[:, None], b, np.nan),
                    rtol, atol)
    if g.ok:
        return None
    return g.index, g.a, g.b


def place(moved: Case, index: tuple) -> str:
    """x=1.2, w=0.3 (and the element, for a vector)."""
    point = index[0] if index else 0
    shown = [f"{n}={float(v[point].reshape(-1)[0]):.6g}" for n, v in moved.points.items()
             if not moved.inputs[n].value.shape]
    vectors = [n for n in moved.points if moved.inputs[n].value.shape and moved.inputs[n].grad]
    text = ", ".join(shown) or "a random point"
    if vectors:
        text += f" (and {', '.join(vectors)} scaled at random)"
    element = f" element {list(index[1:])}" if len(index) > 1 and moved.shape else ""
    return text + element
