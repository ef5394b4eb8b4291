"""A run's reports: every chosen format, fed the results as they come."""
from __future__ import annotations

from pathlib import Path

from ..result import ERROR, FAILED, UNCHECKED, CaseResult
from ._atomic import NotWritten
from ._drawers import PlotsReport
from ._json import JsonReport
from ._junit import JunitReport
from ._markdown import MarkdownReport
from ._reporter import Reporter

# --format name -> its reporter, in the order they are written (plots before report.md,
# which links the plots that exist)
FORMATS: dict[str, type[Reporter]] = {"json": JsonReport, "plots": PlotsReport,
                                      "md": MarkdownReport, "junit": JunitReport}


def write(results: list[CaseResult], out: Path, formats=tuple(FORMATS)) -> list[Path]:
    """Every chosen report of results, written here and now; the paths written."""
    with Run(out, formats, background=False) as run:
        for result in results:
            run.add(result)
        return run.finish(results)


class Run:
    """A run's reporters, each begun as early as it can be: make a Run before torch and SymPy
    load, so that the plots' drawing processes fork light (see _drawers.py)."""

    def __init__(self, out: Path, formats=tuple(FORMATS), background: bool = True, say=None,
                 plots: str = "all"):
        """say: a line of progress while the reports are finished (the plots still drawing);
        plots: which cases get plots (POLICIES: "auto", "all"; "none" draws none)."""
        self.out = out
        self.plots = plots
        self.failures: list[str] = []   # report files that could not be written, a line each
        self.reporters: list[Reporter] = [self._reporter(name, background, say, plots)
                                          for name in FORMATS if name in formats]

    def _reporter(self, name: str, background: bool, say, plots: str) -> Reporter:
        if name == "plots":   # none: no drawing processes; the earlier run's plots removed
            return PlotsReport(self.out, background and plots != "none", say, plots)
        if name == "md":
            return MarkdownReport(self.out, plots)
        return FORMATS[name](self.out)

    def begin(self, total: int) -> None:
        for reporter in self.reporters:
            reporter.begin(total)

    def describe(self, **keys) -> None:
        """More top-level keys for report.json, after its summary (a shard's place in its run)."""
        for reporter in self.reporters:
            if isinstance(reporter, JsonReport):
                reporter.keys.update(keys)

    def add(self, result: CaseResult) -> None:
        """A result as it comes, in order."""
        for reporter in self.reporters:
            reporter.add(result)

    def finish(self, results: list[CaseResult]) -> list[Path]:
        """Every chosen report of results (those added, in order); the paths written. One
        that cannot be written (a full disk) is said in `failures`, and the others are
        still written."""
        written = []
        for reporter in self.reporters:
            try:
                written += reporter.finish(results)
            except NotWritten as exc:
                self.failures.append(str(exc))
            self.failures += reporter.failures
        return written

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        # sys.exit after the reports is no failure; anything else that ends the run early is
        failed = kind is not None and not issubclass(kind, SystemExit)
        for reporter in self.reporters:
            reporter.close(failed)


def exit_code(results: list[CaseResult], allow_unchecked: bool = False) -> int:
    """0 when every case passed, 1 when any failed, 2 when any is in error or (unless
    allowed) compared nothing: an unchecked case is never a pass."""
    statuses = {r.status for r in results}
    if ERROR in statuses or (UNCHECKED in statuses and not allow_unchecked):
        return 2
    return 1 if FAILED in statuses else 0
