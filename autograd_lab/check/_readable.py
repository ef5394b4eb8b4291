"""SymPy's formulas for a person to read, made within a budget: simplifying a formula for a
message may take minutes (a product of high powers: factor() ran past 5 minutes where the
plain form took half a second), and a message must never cost a verdict its time."""
from __future__ import annotations

import time

from . import _deadline as guard

SECONDS = 2.0           # a formula's simplification, at most
CASE_SECONDS = 6.0      # all of one case's simplifications together
MAX_FORMULA = 2_000     # characters of a formula shown; report.json keeps no more either


class Readable:
    """Edge formulas for one case: simplified while the case's budget lasts, else as SymPy
    first wrote them, never longer than MAX_FORMULA characters."""

    def __init__(self, seconds: float = CASE_SECONDS):
        self.left = seconds

    def form(self, symbolic, node: str, parent: str) -> str:
        return cut(self.simplest(lambda simplify: symbolic.form(node, parent, simplify)))

    def simplest(self, make):
        """make(True), the simplified formula, if it comes within budget; else make(False)."""
        if self.left > 0.05:
            start = time.monotonic()
            try:
                with guard.budget(min(SECONDS, self.left)):
                    return make(True)
            except guard.OverBudget:
                pass
            finally:
                self.left -= time.monotonic() - start
        return make(False)


def cut(formula: str) -> str:
    if len(formula) <= MAX_FORMULA:
        return formula
    return f"{formula[:MAX_FORMULA]} … ({len(formula):,} characters)"
