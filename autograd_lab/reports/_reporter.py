"""The one interface every report format implements."""
from __future__ import annotations

from pathlib import Path

from ..result import CaseResult


class Reporter:
    """One report format. A run tells it how many cases to expect (`begin`), hands it each
    result as it is checked, in file order (`add`), then asks it to write its files from
    all of them (`finish`, which returns their paths; a file it cannot write raises
    NotWritten, or, when it writes many, is said in `failures` while it writes the rest);
    `close` frees what it holds (drawing processes) when the run ends, early (failed) or
    not. Only `finish` must be written."""

    def __init__(self, out: Path):
        self.out = out
        self.failures: list[str] = []   # files it could not write, one line each

    def begin(self, total: int) -> None:
        """The run's case count, once the files are found."""

    def add(self, result: CaseResult) -> None:
        """A result just checked."""

    def finish(self, results: list[CaseResult]) -> list[Path]:
        raise NotImplementedError

    def close(self, failed: bool = False) -> None:
        """The run is over; failed: it ended early."""
