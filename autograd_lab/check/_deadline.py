"""A time limit on checking one case, so that no input, however built, can hang a run."""
from __future__ import annotations

import contextlib
import os
import signal
import threading

from ..reading import BIG_OUTPUT, DOUBLING, count_text, output_size

DEFAULT_SECONDS = 60.0
ENV = "AUTOGRAD_LAB_TIMEOUT"   # read at each check, so that worker processes see it too


class TooSlow(BaseException):
    """The case's time ran out. A BaseException, so that no library's `except Exception`
    swallows it on its way out."""


def seconds() -> float:
    """The limit in force: $AUTOGRAD_LAB_TIMEOUT, else the default; 0 means none."""
    try:
        return max(float(os.environ.get(ENV, DEFAULT_SECONDS)), 0.0)
    except ValueError:
        return DEFAULT_SECONDS


@contextlib.contextmanager
def deadline(limit: float | None = None):
    """Raise TooSlow in the block once `limit` seconds have passed.

    A timer signal needs the main thread, and must not replace a timer someone else set
    (pytest-timeout, a caller's alarm): in either case the block runs without a limit."""
    limit = seconds() if limit is None else limit
    if (not limit or threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer") or signal.getitimer(signal.ITIMER_REAL)[0]):
        yield
        return

    def expire(signum, frame):
        raise TooSlow(limit)
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def message(limit: float, case=None) -> str:
    """What ran out and what to do about it, naming the likely cause where it can be seen."""
    head = (f"checking stopped after {limit:g} s, the time limit for one case (--timeout or "
            f"${ENV} sets it)")
    size = output_size(case) if getattr(case, "nodes", None) else 0
    if size > BIG_OUTPUT:
        return (f"{head}: the output with every node written out has {count_text(size)} "
                f"operations, too many for SymPy to differentiate in time; {DOUBLING}")
    return f"{head}: make the case smaller (fewer points, elements or nodes)"


