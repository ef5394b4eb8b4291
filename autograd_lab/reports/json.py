"""report.json: the versioned contract that users' CI scripts read."""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

from ..result import ERROR, FAILED, PASSED, CaseResult
from . import write_atomic

FORMAT_VERSION = 1


def render(results: list[CaseResult], generated: str | None = None) -> str:
    summary = {"cases": len(results),
               **{s: sum(r.status == s for r in results) for s in (PASSED, FAILED)},
               "errors": sum(r.status == ERROR for r in results)}
    report = {
        "format_version": FORMAT_VERSION,
        "generated": generated or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "summary": summary,
        "cases": [_finite(r.to_dict()) for r in results],
    }
    return json.dumps(report, indent=2, allow_nan=False, default=_number) + "\n"


def _number(value):
    raise TypeError(f"not JSON: {value!r}")


def write(results: list[CaseResult], out: Path) -> Path:
    path = out / "report.json"
    write_atomic(path, render(results))
    return path


def _finite(v):
    """JSON has no NaN or inf: they are written as null (the problems say why)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    return v
