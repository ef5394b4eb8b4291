"""Reporters: each writes one format from the same list of CaseResults."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..result import ERROR, FAILED, CaseResult

# --format name -> reporter module, in the order they are written (plots before report.md,
# which links the plots that exist)
FORMATS = {"json": "json", "plots": "plots", "md": "markdown", "junit": "junit"}


def write(results: list[CaseResult], out: Path, formats=tuple(FORMATS),
          drawers=None) -> list[Path]:
    """Each chosen reporter's `write(results, out)`; the paths written. With drawers (see
    drawers.py), the plots are theirs: already under way in other processes."""
    import importlib
    written: list[Path] = []
    for name, module in FORMATS.items():
        if name not in formats:
            continue
        if name == "plots" and drawers is not None:
            paths = drawers.finish(results)
        else:
            paths = importlib.import_module(f"{__name__}.{module}").write(results, out)
        written += paths if isinstance(paths, list) else [paths]
    return written


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
