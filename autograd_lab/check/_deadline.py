"""A time limit on checking one case, so that no input, however built, can hang a run."""
from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time

from ..reading import BIG_OUTPUT, DOUBLING, count_text, output_size

DEFAULT_SECONDS = 60.0
MAX_SECONDS = 1_000_000.0      # about 11 days: setitimer overflows far beyond (1e20 did)
ENV = "AUTOGRAD_LAB_TIMEOUT"   # read at each check, so that worker processes see it too


class TooSlow(BaseException):
    """The case's time ran out. A BaseException, so that no library's `except Exception`
    swallows it on its way out."""


class OverBudget(BaseException):
    """A budget inside the case's time (see `budget`) ran out; a BaseException for the same
    reason as TooSlow."""


def seconds() -> float:
    """The limit in force: $AUTOGRAD_LAB_TIMEOUT, else the default; 0 means none, and one
    above MAX_SECONDS is taken as MAX_SECONDS (a timer cannot hold more)."""
    try:
        value = float(os.environ.get(ENV, DEFAULT_SECONDS))
    except ValueError:
        return DEFAULT_SECONDS
    if math.isnan(value):
        return DEFAULT_SECONDS
    return min(max(value, 0.0), MAX_SECONDS)


_ours: list = []   # the SIGALRM handlers of the deadlines in force here, innermost last
# A signal's exception raised inside a garbage-collector callback or a __del__ is printed and
# dropped by Python ("Exception ignored in ..."), and the block would run on unlimited: each
# handler arms the timer again before it raises, so a dropped one is raised anew this soon
AGAIN = 0.2


class _Raising:
    """A SIGALRM handler raising error, and again every AGAIN seconds until it is switched
    off (on = False), should Python drop one where it cannot propagate."""

    def __init__(self, error: BaseException):
        self.error, self.on = error, True

    def __call__(self, signum, frame):
        if self.on:
            signal.setitimer(signal.ITIMER_REAL, AGAIN)
            raise type(self.error)(*self.error.args)


@contextlib.contextmanager
def deadline(limit: float | None = None):
    """Raise TooSlow in the block once `limit` seconds have passed.

    A timer signal needs the main thread, and must not replace a timer someone else set
    (pytest-timeout, a caller's alarm): in either case the block runs without a limit."""
    limit = seconds() if limit is None else min(limit, MAX_SECONDS)
    if (not limit or not _timers() or signal.getitimer(signal.ITIMER_REAL)[0]):
        yield
        return

    expire = _Raising(TooSlow(limit))
    previous = signal.signal(signal.SIGALRM, expire)
    _ours.append(expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        expire.on = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _ours.remove(expire)


@contextlib.contextmanager
def budget(limit: float):
    """Raise OverBudget in the block once `limit` seconds have passed, for work that may be
    given up (a formula simplified for a message): the case's deadline is paused meanwhile
    and resumed with what is left of it, and the budget never outlasts it. Under someone
    else's timer (pytest-timeout) nothing is paused: the block runs without a budget."""
    left = signal.getitimer(signal.ITIMER_REAL)[0] if _timers() else 0.0
    if not _timers() or (left and signal.getsignal(signal.SIGALRM) not in _ours):
        yield
        return

    over = _Raising(OverBudget(limit))
    previous = signal.signal(signal.SIGALRM, over)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(limit, left) if left else limit)
    try:
        yield
    finally:
        over.on = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if left:   # the deadline's own time resumes; if it is spent, it fires at once
            signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - start), 1e-6))


def _timers() -> bool:
    """A timer signal needs the main thread, and setitimer (not on Windows)."""
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def message(limit: float, case=None) -> str:
    """What ran out and what to do about it, naming the likely cause where it can be seen."""
    head = (f"checking stopped after {limit:g} s, the time limit for one case (--timeout or "
            f"${ENV} sets it)")
    size = output_size(case) if getattr(case, "nodes", None) else 0
    if size > BIG_OUTPUT:
        return (f"{head}: the output with every node written out has {count_text(size)} "
                f"operations, too many for SymPy to differentiate in time; {DOUBLING}")
    return f"{head}: make the case smaller (fewer points, elements or nodes)"


