"""report.json: the versioned contract that users' CI scripts read."""
from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ..result import ERROR, FAILED, PASSED, CaseResult, json_ready
from ._atomic import write_atomic
from ._reporter import Reporter

FORMAT_VERSION = 1


@functools.cache
def version() -> str:
    """autograd-lab's version, as installed: a merge refuses reports of another."""
    try:
        return metadata.version("autograd-lab")
    except metadata.PackageNotFoundError:   # run from a source tree that was never installed
        return "unknown"


def render(results: list[CaseResult], generated: str | None = None,
           cases: list[str] | None = None, keys: dict | None = None) -> str:
    """The report's text; cases: each result's `case` text, when rendered already (as the
    results came in: about half a millisecond a case, otherwise all paid at the end); keys:
    more top-level keys, after the summary (a shard's place in its run)."""
    cases = [case(r) for r in results] if cases is None else cases
    summary = {"cases": len(results),
               **{s: sum(r.status == s for r in results) for s in (PASSED, FAILED)},
               "errors": sum(r.status == ERROR for r in results)}
    head = _dumps({
        "format_version": FORMAT_VERSION,
        "autograd_lab_version": version(),
        "generated": generated or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "summary": summary,
        **(keys or {}),
        "cases": [],
    })
    listed = "[\n" + ",\n".join(cases) + "\n  ]" if cases else "[]"
    return head.removesuffix("[]\n}") + listed + "\n}\n"


def case(result: CaseResult) -> str:
    """One case's entry, indented as it stands in the report's list of cases."""
    return "    " + _dumps(json_ready(result.to_dict())).replace("\n", "\n    ")


def _dumps(value) -> str:
    return json.dumps(value, indent=2, allow_nan=False, default=_number)


def _number(value):
    raise TypeError(f"not JSON: {value!r}")


def write(results: list[CaseResult], out: Path, cases: list[str] | None = None,
          keys: dict | None = None) -> Path:
    path = out / "report.json"
    write_atomic(path, render(results, cases=cases, keys=keys))
    return path


class JsonReport(Reporter):
    """report.json, each entry rendered as its result comes, while the rest are checked."""

    def __init__(self, out: Path):
        super().__init__(out)
        self.cases: list[str] = []
        self.keys: dict = {}     # more top-level keys (Run.describe)

    def add(self, result: CaseResult) -> None:
        self.cases.append(case(result))

    def finish(self, results: list[CaseResult]) -> list[Path]:
        rendered = self.cases if len(self.cases) == len(results) else None
        return [write(results, self.out, rendered, self.keys)]
