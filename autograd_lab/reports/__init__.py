"""Reporters: each writes one format from the same list of CaseResults."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..result import ERROR, FAILED, CaseResult

# --format name -> reporter module, in the order they are written (plots before report.md,
# which links the plots that exist)
FORMATS = {"json": "json", "plots": "plots", "md": "markdown", "junit": "junit"}


def write(results: list[CaseResult], out: Path, formats=tuple(FORMATS)) -> list[Path]:
    """Each chosen reporter's `write(results, out)`; the paths written."""
    with Run(out, formats, background=False) as run:
        return run.write(results)


class Run:
    """A run's reports, each begun as early as it can be: plots drawn by processes of their
    own (started here, so make a Run before torch and SymPy load: see drawers.py), and
    report.json's entries rendered as the results come, while -j workers check the rest."""

    def __init__(self, out: Path, formats=tuple(FORMATS), background: bool = True):
        from .drawers import Drawers
        self.out, self.formats = out, formats
        self.drawers = Drawers(out) if background and "plots" in formats else None
        self.cases: list[str] | None = [] if background and "json" in formats else None

    def expect(self, total: int) -> None:
        if self.drawers:
            self.drawers.expect(total)

    def add(self, result: CaseResult) -> None:
        """A result as it comes, in order."""
        if self.drawers:
            self.drawers.add(result)
        if self.cases is not None:
            from . import json
            self.cases.append(json.case(result))

    def write(self, results: list[CaseResult]) -> list[Path]:
        """Every chosen report of results (those added, in order); the paths written."""
        import importlib
        written: list[Path] = []
        for name, module in FORMATS.items():
            if name not in self.formats:
                continue
            reporter = importlib.import_module(f"{__name__}.{module}")
            if name == "plots" and self.drawers:
                paths = self.drawers.finish(results)
            elif name == "json" and self.cases is not None:
                paths = reporter.write(results, self.out, self.cases)
            else:
                paths = reporter.write(results, self.out)
            written += paths if isinstance(paths, list) else [paths]
        return written

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.drawers:
            self.drawers.__exit__(*exc)


def exit_code(results: list[CaseResult]) -> int:
    """0 when every case passed, 1 when any failed, 2 when any is in error."""
    statuses = {r.status for r in results}
    return 2 if ERROR in statuses else 1 if FAILED in statuses else 0


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write beside the target and rename over it, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    binary = isinstance(text, bytes)
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
