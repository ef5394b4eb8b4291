"""report.json: the versioned contract that users' CI scripts read."""
from __future__ import annotations

import functools
import json
import math
from datetime import datetime, timezone
from importlib import metadata
from json.encoder import encode_basestring_ascii
from pathlib import Path

from ..result import ERROR, FAILED, PASSED, UNCHECKED, CaseResult, json_ready
from ._atomic import write_atomic
from ._reporter import Reporter

FORMAT_VERSION = 1
# the most parts a run is split into (`check --shard K/N`, report.json's shard.total): a CI
# matrix has at most 256 jobs; a merge lists every part it expects
MAX_PARTS = 1_000


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
    unchecked = sum(r.status == UNCHECKED for r in results)
    if unchecked:   # a key added (format_version 1): what compared nothing
        summary["unchecked"] = unchecked
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
    entry = result.to_dict()
    try:
        return "    " + pretty(entry, "\n    ")
    except _Unusual:   # a NaN or inf (written as null and listed), or what json says it is
        return "    " + _dumps(json_ready(entry)).replace("\n", "\n    ")


def _dumps(value) -> str:
    return json.dumps(value, indent=2, allow_nan=False, default=_number)


class _Unusual(Exception):
    """A value pretty leaves to json: a NaN or inf, a key that is not a string, a type of
    number json has its own word for."""


def pretty(value, newline: str = "\n") -> str:
    """json.dumps(value, indent=2, allow_nan=False) for the plain values of a result, at about
    three times its speed (json's C encoder does not indent; its Python one costs 0.3 ms of a
    small case); _Unusual for anything else, which json itself then writes."""
    out: list[str] = []
    _pretty(value, newline, out)
    return "".join(out)


def _pretty(value, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif kind is float:
        if value - value != 0:   # NaN or inf: json_ready's business
            raise _Unusual
        out.append(_float(value))
    elif kind is dict or kind is list or kind is tuple:
        _container(value, kind is dict, newline, out)
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        out.append(_int(value))
    else:
        raise _Unusual


def _container(value, mapping: bool, newline: str, out: list[str]) -> None:
    if not value:
        out.append("{}" if mapping else "[]")
        return
    inner = newline + "  "
    if not mapping and all(type(v) is float for v in value) and math.isfinite(sum(value)):
        out.append("[" + inner + ("," + inner).join(map(_float, value)) + newline + "]")
        return
    out.append("{" if mapping else "[")
    items = value.items() if mapping else enumerate(value)
    for i, (key, item) in enumerate(items):
        out.append("," + inner if i else inner)
        if mapping:
            if type(key) is not str:
                raise _Unusual
            out.append(_string(key) + ": ")
        _pretty(item, inner, out)
    out.append(newline + ("}" if mapping else "]"))


_string = encode_basestring_ascii    # json's own (ensure_ascii), in C
_float = float.__repr__
_int = int.__repr__


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
