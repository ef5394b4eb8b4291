"""Reporters: each writes one format from the same list of CaseResults."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..result import ERROR, FAILED, CaseResult


def exit_code(results: list[CaseResult]) -> int:
    """0 when every case passed, 1 when any failed, 2 when any is in error."""
    statuses = {r.status for r in results}
    return 2 if ERROR in statuses else 1 if FAILED in statuses else 0


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename over it, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
