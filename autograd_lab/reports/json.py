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
        "cases": [r.to_dict() for r in results],
    }
    return json.dumps(report, indent=2, allow_nan=False, default=_number) + "\n"


def _number(value):
    raise TypeError(f"not JSON: {value!r}")


def write(results: list[CaseResult], out: Path) -> Path:
    path = out / "report.json"
    write_atomic(path, render(_finite(results)))
    return path


def _finite(results):
    """JSON has no NaN or inf: they are written as null (the problems say why)."""

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        return v
    for r in results:
        for p in r.points:
            p.at, p.gradients = clean(p.at), clean(p.gradients)
            p.details, p.hessian, p.rounding = clean(p.details), clean(p.hessian), clean(p.rounding)
        for c in r.claims:
            c.value = clean(c.value)
        r.worst = clean(r.worst)
    return results
