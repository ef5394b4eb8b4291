"""SymPy functions the operations need that SymPy lacks, or has only for complex arguments."""
from __future__ import annotations

import sympy as sp


class sigmoid(sp.Function):
    """1/(1 + exp(-u)), kept whole so that its derivative reads sigmoid(u)*(1 - sigmoid(u))."""

    def fdiff(self, argindex=1):
        return self * (1 - self)

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return 1 / (1 + sp.exp(-u))
        return None

    def _eval_is_extended_real(self):
        # real for a real argument: without this, abs(sigmoid(u)) differentiates into re()/im()
        return self.args[0].is_extended_real

    def _eval_is_extended_positive(self):
        return self.args[0].is_extended_real

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sp.exp(-u))


class _RealFunction(sp.Function):
    """A function on the reals: a number goes to SymPy's own `on_number`, and it is real.

    SymPy's own sign and Abs assume a complex argument, so sign(sqrt(w))' is left
    unevaluated and |u|' goes through re() and im(); these two do not."""

    on_number = staticmethod(lambda u: u)

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return cls.on_number(u)
        return None

    def _eval_is_extended_real(self):
        return True


class sign(_RealFunction):
    on_number = staticmethod(sp.sign)

    def fdiff(self, argindex=1):
        return 2 * sp.DiracDelta(self.args[0])


class Abs(_RealFunction):
    on_number = staticmethod(sp.Abs)

    def fdiff(self, argindex=1):
        return sign(self.args[0])


def maximum(*args):
    # numbers alone are ordered at once: left unevaluated, diff later fails on them
    # ("the argument '0.e-110' is not comparable" for clamp(1 - clamp(1, -1, 1), -1, x)).
    # Otherwise evaluate=False: Max/Min try to order their arguments by assumptions, which
    # costs tens of milliseconds a call and changes nothing for diff or evaluation
    return sp.Max(*args, evaluate=all(getattr(a, "is_number", True) for a in args))


def minimum(*args):
    return sp.Min(*args, evaluate=all(getattr(a, "is_number", True) for a in args))


def clamp(u, lo=None, hi=None):
    """torch.clamp: at least lo, at most hi (either may be left out)."""
    out = u if lo is None else maximum(u, lo)
    return out if hi is None else minimum(out, hi)
