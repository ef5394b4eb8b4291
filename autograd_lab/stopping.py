"""Stopping a run on SIGINT (Ctrl-C) or SIGTERM: at once while cases are checked, never
halfway through writing the reports, and never silently.

Both signals raise KeyboardInterrupt in the main thread, which the command turns into exit
130 with one line and no traceback; what holds processes (the -j workers, the drawing
processes) stops them on its way out. The signal is also remembered: a library that
swallows the KeyboardInterrupt (torch's import once did, about one try in twenty) cannot
swallow the stop, which `check` raises again at the next case or report.
Standard library only."""
from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT = 130          # the shell's 128 + SIGINT, for either signal: the run was stopped


class Stop:
    """The signals' handler while a run lasts: remembers the signal and raises
    KeyboardInterrupt, except while `held` (the reports are being written)."""

    def __init__(self):
        self.signal: int | None = None
        self.holding = False

    def __call__(self, signum, frame):
        self.signal = signum
        if not self.holding:
            raise KeyboardInterrupt

    def check(self) -> None:
        """Raise KeyboardInterrupt if a stop was asked for (and perhaps swallowed)."""
        if self.signal is not None:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self):
        """A block that is never cut short (the reports written whole, each and together);
        a stop asked for meanwhile takes effect after it."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        self.check()


@contextlib.contextmanager
def stoppable():
    """SIGINT and SIGTERM raise KeyboardInterrupt in this block (the main thread only); the
    handlers before it come back after it."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.signal(s, stop) for s in SIGNALS}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def ignored() -> None:
    """In a process that the run stops itself (a -j worker, a drawing process): Ctrl-C,
    which the terminal sends to every process of the run, is the run's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
