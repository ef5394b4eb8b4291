"""plots/ drawn by processes of their own, forked before torch and SymPy are imported, so that
matplotlib loads and the figures are drawn on the other core while this process checks."""
from __future__ import annotations

import collections
import contextlib
import functools
import os
import shutil
import signal
import sys
from multiprocessing.connection import Connection, Pipe, wait
from pathlib import Path
from typing import cast

from ..result import PASSED, CaseResult
from ..startup import frozen_imports
from ..stopping import ignored
from ..text import terminal
from . import _plots as plots
from ._atomic import NotWritten
from ._reporter import Reporter

PROCESSES = 2        # drawing processes: this machine's second core, and the first once
#                      the checking is done
PATIENCE = 0.5       # seconds a drawing process waits for work before it looks for its parent
SAY_FROM = 8         # plots left to draw at the end, from which the wait is said


STAGE = ".plots-{pid}.staging"   # in the report folder: this run's plots, until it finishes


class Drawers:
    """Takes results as they are checked and has their plots drawn elsewhere; `finish` waits
    for them. A drawing that fails there is drawn again here: reported, never lost.

    The plots are drawn into a folder of the run's own (STAGE) and moved into plots/ by
    `finish`, beside the other reports: a run stopped while it checks leaves the earlier
    run's plots as they were, as it leaves its other reports."""

    def __init__(self, out: Path, processes: int = PROCESSES, say=None, policy: str = "all"):
        self.out = out
        self.policy = policy          # which cases are drawn (plots.POLICIES)
        self.wanted = 0               # results so far that the policy draws
        self.say = say   # one line of progress, for the wait at the end (None: silent)
        self.stage = out / STAGE.format(pid=os.getpid())
        self.results: list[CaseResult] = []
        self.paths: list[dict[str, str]] = []   # each result's plot files (Files.of, in order)
        self.not_passed = 0           # results so far that did not pass: drawn first
        self.pending: collections.deque[plots.Sketch] = collections.deque()
        self.busy: dict[Connection, plots.Sketch] = {}   # a connection -> what it draws
        self.idle: list[Connection] = []
        self.sketched: dict[int, list[str]] = {}   # a result's index -> its sketches' paths
        self.written: dict[str, Path] = {}
        self.failures: list = []      # (sketch, what went wrong): drawn again by finish
        self.unwritten: list[str] = []   # what could not be drawn here either, a line each
        self.pid: int | None = None   # the first drawing process
        self.sent = 0                 # sketches handed to the drawing processes
        self.files = plots.Files()    # each result's plot files, named in order
        self._fork(processes)

    # --- this process -----------------------------------------------------------------

    def expect(self, total: int) -> None:
        """The run's case count (each result is judged as it comes: see add)."""

    def add(self, result) -> None:
        """A result just checked. Its plots are handed out at once where it is likely drawn
        (plots.drawn: of those the policy draws, those that did not pass first, then in order,
        MAX_CASES in all): one of the first MAX_CASES that did not pass is drawn whatever
        comes; one of the first MAX_CASES that the policy draws is, unless later failures
        push it out (its plots are then dropped).
        So a run of a thousand cases draws while it checks, on the other core, not after."""
        self.results.append(result)
        self.paths.append(self.files.of(result))
        i = len(self.results) - 1
        if not plots.wanted(result, self.policy):
            return
        self.wanted += 1
        self.not_passed += result.status != PASSED
        if self.wanted <= plots.MAX_CASES or (result.status != PASSED
                                              and self.not_passed <= plots.MAX_CASES):
            self._sketch(i, draw=True)
            # a core is left to the checking: the drawing takes the others until finish
            self._pump(block=False, most=max(1, (os.cpu_count() or 2) - 1))

    def finish(self, results: list) -> list[Path]:
        """Every plot that plots.write would draw for results (those added), drawn; those
        sketched ahead for a case not drawn after all, and the plots of earlier runs,
        removed; the paths written, in plots.write's order."""
        if len(results) != len(self.results):   # not fed case by case: nothing sketched yet
            self.results, self.sketched, self.not_passed = results, {}, 0
            self.paths = plots.files(results)
        chosen = plots.drawn(results, self.policy)
        for i, draw in enumerate(chosen):
            if draw and i not in self.sketched:
                self._sketch(i, draw)
        wanted = {path for i, paths in self.sketched.items() if chosen[i] for path in paths}
        self.pending = collections.deque(s for s in self.pending if s.path in wanted)
        # no long silence after the last case's line while the plots are drawn
        self._said(len(self.pending) + len(self.busy))
        while self.busy or (self.pending and self.idle):
            self._pump(block=True)
        self.close()
        self.failures = [(s, why) for s, why in self.failures if s.path in wanted]
        self._draw_here(list(self.pending) + [sketch for sketch, _ in self.failures])
        written = self._publish([path for i, draw in enumerate(chosen) if draw
                                 for path in self.sketched.get(i, []) if path in self.written])
        return plots.remove_stale(self.out, written)

    def _publish(self, paths: list[str]) -> list[Path]:
        """The staged plots moved into the report folder (each rename whole); the targets."""
        moved = []
        for path in paths:
            target = self.out / path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.written[path], target)
                moved.append(target)
            except OSError as exc:
                self.unwritten.append(str(NotWritten(target, exc)))
        shutil.rmtree(self.stage, ignore_errors=True)
        return moved

    def close(self, kill: bool = False) -> None:
        """Stop the drawing processes: when done, or at once (kill) when the run failed or
        they were never sent a sketch (the first waits for one before it loads matplotlib:
        told to stop, it would load it first). (Left running, they stop by themselves once
        this process is gone.)"""
        if (kill or not self.sent) and self.pid:
            # all of them at once: their own process group (an orphan would linger until it
            # noticed its parent gone, after the run had ended)
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
        for conn in self.idle + list(self.busy):
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        self.failures += [(s, "its drawing process was stopped") for s in self.busy.values()]
        self.idle, self.busy = [], {}
        if self.pid:
            os.waitpid(self.pid, 0)
            self.pid = None
        if kill:   # what was drawn for a run that ends early is not published
            shutil.rmtree(self.stage, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        # sys.exit after the reports is no failure; anything else that ends the run early is
        self.close(kill=kind is not None and not issubclass(kind, SystemExit))

    def _sketch(self, i: int, draw: bool) -> None:
        self.sketched[i] = []
        for sketch in plots.sketches(self.results[i], self.paths[i], draw):
            self.sketched[i].append(sketch.path)
            self.pending.append(sketch)

    def _said(self, left: int) -> None:
        """What is left to draw, said when it takes a while (a few plots take under a second,
        and a line for them would only vary with the machine's speed)."""
        if left >= SAY_FROM and self.say:
            self.say, say = None, self.say   # once a run
            say(f"drawing {left} plot{'s' * (left != 1)} ...")

    def _pump(self, block: bool, most: int = PROCESSES) -> None:
        """Hand pending sketches to idle processes, `most` busy at once; take in what is done."""
        while self.pending and self.idle and len(self.busy) < most:
            conn, sketch = self.idle.pop(), self.pending.popleft()
            try:
                conn.send((self.stage, sketch))
                self.busy[conn] = sketch
                self.sent += 1
            except OSError:
                self.pending.appendleft(sketch)
                conn.close()
        for ready in wait(list(self.busy), timeout=None if block else 0):
            conn = cast(Connection, ready)
            sketch = self.busy.pop(conn)
            try:
                status, detail = conn.recv()
                self.idle.append(conn)
            except (EOFError, OSError):
                status, detail = "failed", "its drawing process died"
                conn.close()
            if status == "drawn":
                self.written[sketch.path] = Path(detail)
            elif status == "unwritten":
                self.unwritten.append(detail)
            else:
                self.failures.append((sketch, detail))

    def _draw_here(self, sketches: list) -> None:
        """Drawn in this process (where no drawing process could be forked, or one failed):
        said first, as it takes a while."""
        self._said(len(sketches))
        for sketch, why in self.failures:
            print(f"autograd-lab: {sketch.path} was not drawn by its drawing process, so it "
                  f"is drawn here: {terminal(why, markup=False)}", file=sys.stderr)
        for sketch in sketches:
            try:
                self.written[sketch.path] = plots.save(sketch, self.stage)
            except NotWritten as exc:
                self.unwritten.append(str(exc))
        self.pending.clear()
        self.failures = []

    def _fork(self, processes: int) -> None:
        # fork with matplotlib is safe on Linux only; elsewhere `finish` draws them here
        if processes < 1 or not sys.platform.startswith("linux"):
            return
        pipes = [Pipe() for _ in range(processes)]
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:
            for ours, _ in pipes:
                ours.close()
            _run(lambda: _first([theirs for _, theirs in pipes], parent), group=True)
        with contextlib.suppress(OSError):   # set on both sides: whichever runs first
            os.setpgid(self.pid, self.pid)
        for ours, theirs in pipes:
            theirs.close()
            self.idle.append(ours)


class PlotsReport(Reporter):
    """plots/: with background, drawn by processes of their own as the results come (make it
    before torch and SymPy load: see _drawers.py); otherwise all drawn here at the end."""

    def __init__(self, out: Path, background: bool = True, say=None, policy: str = "all"):
        super().__init__(out)
        self.policy = policy
        self.drawers = Drawers(out, say=say, policy=policy) if background else None

    def begin(self, total: int) -> None:
        if self.drawers:
            self.drawers.expect(total)

    def add(self, result: CaseResult) -> None:
        if self.drawers:
            self.drawers.add(result)

    def finish(self, results: list[CaseResult]) -> list[Path]:
        if not self.drawers:
            return plots.write(results, self.out, self.failures, self.policy)
        written = self.drawers.finish(results)
        self.failures += self.drawers.unwritten
        return written

    def close(self, failed: bool = False) -> None:
        if self.drawers:
            self.drawers.close(kill=failed)


# --- the drawing processes ----------------------------------------------------------------

def _run(body, group: bool = False) -> None:
    """A forked process's whole life: it never returns into the caller's stack, and never
    prints a traceback (the run it serves reports what it did not draw). group: it leads a
    process group of its own, which the drawing processes it forks join, so that the run can
    end them all at once."""
    code = 0
    try:
        if group:
            with contextlib.suppress(OSError):
                os.setpgid(0, 0)
        ignored()   # Ctrl-C and a SIGTERM to the run are for the checking process to handle
        body()
    except (BrokenPipeError, ConnectionResetError, EOFError):
        code = 1    # the checking process is gone: nothing to say, nobody to say it to
    except BaseException as exc:
        with contextlib.suppress(OSError):
            said = terminal(f"{type(exc).__name__}: {exc}", markup=False)
            print(f"autograd-lab: a drawing process stopped ({said}); its plots are drawn by "
                  "the checking process", file=sys.stderr)
        code = 1
    finally:
        os._exit(code)


def _first(conns: list, parent: int) -> None:
    """Once there is something to draw (a run whose cases all pass on no kink, under
    --plots auto, has nothing: then it never loads matplotlib, and is killed), import
    matplotlib, then fork the others from here, so that they share it, and serve the first
    connection. (No figures made ahead, as when matplotlib loaded beside torch: made now,
    they would only delay the first plot, and the 6 made for a run of 2 plots cost 0.3 s.)"""
    while not wait(conns, timeout=PATIENCE):   # the sketch stays in its pipe for its server
        if os.getppid() != parent:
            return
    # frozen: each collection would otherwise walk matplotlib's objects again, a third of
    # the drawing time
    with frozen_imports():
        plots.load()   # before the forks: shared by them
    children = []
    for conn in conns[1:]:
        pid = os.fork()
        if pid == 0:
            for other in conns:
                if other is not conn:
                    other.close()
            _run(functools.partial(_serve, conn, os.getppid()))
        children.append(pid)
        conn.close()
    _serve(conns[0], parent)
    for pid in children:   # idle by now (or their parent is gone): never wait on them
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _serve(conn, parent: int) -> None:
    """Draw each sketch sent and say where it went, until told to stop or the parent is gone."""
    while True:
        if not conn.poll(PATIENCE):
            if os.getppid() != parent:
                return
            continue
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        out, sketch = job
        try:
            conn.send(("drawn", str(plots.save(sketch, out))))
        except NotWritten as exc:   # a full disk is full there too: not drawn again
            conn.send(("unwritten", str(exc)))
        except Exception as exc:   # said in one line; drawn again (and said again) there
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
