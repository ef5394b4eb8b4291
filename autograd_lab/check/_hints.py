"""Hints where the cause of a failure is predictable: said beside the verdict, never instead.

A tutorial prints 4 digits; an author copies them as the case's inputs; a claim printed from
the full-precision run then misses by a digit. Where a false value claim would hold if each
input moved within the precision it is written with, that is said: the inputs are likely
printed values, not the ones the tutorial ran with."""
from __future__ import annotations

import numpy as np

from ..case import Case, Claim, with_points
from ..methods import forward, leaves
from ..reading import half_unit


def written_precision(case: Case) -> dict[str, np.ndarray]:
    """input -> half a unit in the last digit each value is written with (0: exact or
    generated), in the input's shape."""
    out = {}
    texts = case.where.texts if case.where is not None else {}
    for name, spec in case.inputs.items():
        shape = spec.value.shape
        slack = np.zeros(shape)
        for index in np.ndindex(shape):
            for path in (("inputs", name, *index), ("inputs", name, "value", *index)):
                if path in texts:
                    slack[index] = half_unit(texts[path])
        out[name] = slack
    return out


def copied_inputs(case: Case, claim: Claim, value: np.ndarray) -> str:
    """' (it would hold ...)' where moving the inputs within their written precision could
    make this false value claim hold, to first order; '' otherwise."""
    if claim.kind != "value" or claim.target not in case.nodes or claim.expr is not None:
        return ""
    slack = written_precision(case)
    if not any(s.any() for s in slack.values()):
        return ""
    point = with_points(case, {n: v[claim.point:claim.point + 1]
                               for n, v in case.points.items()})
    env = {n: t.detach().clone().requires_grad_(not case.inputs[n].integer)
           for n, t in leaves(point).items()}
    target = forward(point, env)[claim.target]
    if not target.requires_grad:
        return ""
    target.sum().backward()
    grads = {n: env[n].grad for n in case.inputs}
    reach = sum((float(np.sum(np.abs(g.numpy()) * slack[n])) for n, g in grads.items()
                 if g is not None), 0.0)
    miss = float(np.max(np.abs(claim.value - value) - claim.slack))
    if not 0 < miss <= reach:
        return ""
    written = [n for n, s in slack.items() if s.any()]
    return (f"; it would hold if the inputs moved within the digits they are written with "
            f"({', '.join(written)}: up to {reach:.2g} on {claim.target}): they may be values "
            "the tutorial printed, not the ones it ran with; write them with every digit")

