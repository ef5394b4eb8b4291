"""report.json as `merge` reads it back: a shard's report is a CI artifact that a pull
request can forge, so it is read as untrusted data. Bounded before it is parsed (a regular
file, its size, its depth), its structure validated against what `check --shard` writes
(pydantic, strict: "1" is no format version 1), and each case read back only if it is
consistent: a case marked passed that lists problems, or a failed edge, is refused, never
counted as passed."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from typing_extensions import TypeAliasType

from ..result import ERROR, FAILED, PASSED, CaseResult
from ._json import MAX_PARTS
from ._untrusted import Unreadable, read_json

# a report.json: cases/ and examples/ (27 cases, most of them tensors, an entry keeping up to
# 1,000 elements of a value) write 1.8 MB; this admits some 4,000 such cases. Parsed, JSON
# takes a few times its bytes in memory
MAX_BYTES = 256_000_000
MAX_DEPTH = 32            # what check writes nests about 12 deep (a 4-d tensor's values)
MAX_FILES = 10_000_000    # files in a run: a merge makes a list of this many places
MAX_TEXT = 1_000          # characters of a version, a digest


class Damaged(ValueError):
    """A report that is not one check wrote: one line, its path first."""


Count = Annotated[StrictInt, Field(ge=0)]
Number = StrictInt | float | None
Values = TypeAliasType("Values", "StrictInt | float | list[Values] | None")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Open(BaseModel):
    """A part whose keys may grow without a format bump: its known keys typed, others kept."""
    model_config = ConfigDict(strict=True, extra="allow")


class ShardBlock(_Open):
    index: Annotated[StrictInt, Field(ge=1, le=MAX_PARTS)]
    total: Annotated[StrictInt, Field(ge=1, le=MAX_PARTS)]
    files: Annotated[StrictInt, Field(ge=0, le=MAX_FILES)]
    digest: Annotated[StrictStr, Field(max_length=MAX_TEXT)]
    plots: StrictBool
    positions: list[Count]

    @model_validator(mode="after")
    def _places(self) -> ShardBlock:
        if self.index > self.total:
            raise ValueError(f"shard {self.index}/{self.total}: K is more than N")
        if any(p >= self.files for p in self.positions):
            raise ValueError(f"a position past the run's {self.files:,} files")
        if len(set(self.positions)) != len(self.positions) \
                or self.positions != sorted(self.positions):
            raise ValueError("positions not in the run's order, each once")
        return self


class Report(_Open):
    format_version: StrictInt
    autograd_lab_version: Annotated[StrictStr, Field(max_length=MAX_TEXT)]
    shard: ShardBlock
    cases: list[dict]


class Edge(_Strict):
    edge: StrictStr
    status: Literal["passed", "failed"]
    hand: StrictStr
    sympy: StrictStr
    line: StrictInt | None = None
    value: Values = None
    sympy_value: Values = None


class Claim(_Strict):
    claim: StrictStr
    written: Any
    value: Any
    status: Literal["passed", "failed"]
    point: Count = 0


class Piece(_Strict):
    finding: Literal["wrong", "extra", "missing", "untold"]
    line: Count
    column: Count
    statement: StrictStr
    lines: list[Count]
    through: list[StrictStr]
    cell: StrictStr = ""             # a notebook checked directly: line's cell
    cells: list[StrictStr] = []      # and each of lines'


class Backward(_Strict):
    name: StrictStr
    status: Literal["passed", "failed"]
    exact: StrictBool
    agree: StrictBool
    max_diff: Number
    hand: StrictStr = ""
    follows_from: StrictStr | None = None
    line: StrictInt | None = None
    cell: StrictStr = ""
    shape: list[Count] = []
    value: Values = None
    autograd: Values = None
    max_diff_at_rounding: StrictBool = False
    piece: Piece | None = None


class Point(_Strict):
    at: dict[str, Values]
    gradients: dict[str, dict[str, Any]]
    hessian: dict[str, dict[str, Any]] = {}
    rounding: dict[str, Any] = {}


class Input(_Open):
    value: Values
    grad: StrictBool
    shape: list[Count]


class Node(_Open):
    expr: StrictStr
    value: Values
    shape: list[Count]
    uses: list[StrictStr] = []


class Graph(_Strict):
    output: StrictStr
    inputs: dict[str, Input]
    nodes: dict[str, Node]

    @model_validator(mode="after")
    def _known(self) -> Graph:
        names = set(self.inputs) | set(self.nodes)
        unknown = sorted({u for n in self.nodes.values() for u in n.uses} - names)
        if unknown or self.output not in names | {""}:
            raise ValueError("a node uses a name the graph does not have")
        return self


class Place(_Strict):
    line: Annotated[StrictInt, Field(ge=1)]
    column: StrictInt | None = None


class FormulasAt(_Strict):
    points: Annotated[StrictInt, Field(ge=1)]
    moved: list[StrictStr]
    held: list[StrictStr]


class Unchecked(_Strict):
    line: StrictInt | None
    cell: StrictStr = ""
    text: StrictStr
    reason: StrictStr


class Derivatives(_Strict):
    found: Count
    checked: Count
    unchecked: list[Unchecked]


class Case(_Strict):
    name: StrictStr
    file: StrictStr
    status: Literal["passed", "failed", "error", "unchecked"]
    kind: Literal["gradient", "behaviour", "source"]
    problems: list[StrictStr]
    problem_places: list[Place | None] = []
    notes: list[StrictStr]
    edges: list[Edge]
    points: list[Point]
    claims: list[Claim]
    line: StrictInt | None
    dtype: Literal["float64", "float32"]
    title: StrictStr
    worst: Number
    worst_at_rounding: StrictBool | None = None
    points_total: Count
    graph: Graph | dict[str, Any]
    backward: list[Backward] = []
    sympy_at: Literal["full"] | dict[str, Annotated[StrictInt, Field(ge=1)]] | None = None
    formulas_at: FormulasAt | None = None
    derivatives: Derivatives | None = None   # a tutorial's source: its count
    inputs_from: dict[str, Literal["notebook", "stand-in"]] | None = None   # a drafted case's
    sweeps: dict[str, Count | StrictStr] = {}
    non_finite: dict[str, Literal["nan", "inf", "-inf"]
                     | list[tuple[Count, Count, Literal["nan", "inf", "-inf"]]]] = {}

    @model_validator(mode="after")
    def _graph(self) -> Case:
        if isinstance(self.graph, dict) and self.graph:   # none for a case in error
            raise ValueError("a graph without its inputs, nodes and output")
        return self


def read(path: Path) -> dict:
    """The top of a shard's report.json, validated (its cases still raw: read_cases)."""
    try:
        data = read_json(path, MAX_BYTES, MAX_DEPTH)
    except Unreadable as exc:
        raise Damaged(str(exc)) from None
    if not isinstance(data, dict) or "shard" not in data:
        raise Damaged(f"{path}: not a shard's report (`check --shard K/N` writes one)")
    try:
        Report.model_validate(data)
    except ValidationError as exc:
        raise Damaged(f"{path}: {said(exc)}") from None
    return data


def read_cases(path: Path, report: dict) -> list[CaseResult]:
    """Each case of a validated report read back; Damaged at the first that check would
    not have written."""
    results = []
    for i, entry in enumerate(report["cases"], 1):
        try:
            Case.model_validate(entry)
            result = CaseResult.from_dict(entry)
        except ValidationError as exc:
            raise Damaged(f"{path}: case {i}: {said(exc)}") from None
        except (KeyError, IndexError, TypeError, ValueError):   # a non_finite pointer astray
            raise Damaged(f"{path}: case {i}: its non_finite entries point at no number") \
                from None
        forged = inconsistent(result)
        if forged:
            raise Damaged(f"{path}: case {i}: marked {result.status} but {forged}: a damaged "
                          "or forged report")
        results.append(result)
    return results


def inconsistent(result: CaseResult) -> str:
    """What in a result contradicts its status ("" if nothing): a passed case has no
    problems and nothing failed; one that failed or is in error says why."""
    if result.status == PASSED:
        failed = [e.edge for e in result.edges if e.status != PASSED] + \
                 [c.claim for c in result.claims if c.status != PASSED] + \
                 [b.name for b in result.backward if b.status != PASSED]
        if result.problems:
            return f"it lists {len(result.problems)} problem(s)"
        if failed:
            return f"{failed[0]} failed"
    elif result.status in (FAILED, ERROR) and not result.problems:
        return "it lists no problem"
    return ""


def said(exc: ValidationError) -> str:
    """pydantic's first error, in the project's words: where, and what was expected."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"] if not _tag(p)) or "the report"
    return f"{where}: {_words(error)}"


def _tag(part) -> bool:
    """A union member's name pydantic puts in a location: not a key of the report."""
    return isinstance(part, str) and (part in _MEMBERS or part.startswith(("list[", "dict[",
                                                                           "literal[")))


_MEMBERS = {"Graph", "int", "float", "str", "none", "function-after[_graph(), Case]",
            "function-after[_known(), Graph]", "function-after[_places(), ShardBlock]"}
_KINDS = {"int_type": "expected a whole number", "float_type": "expected a number",
          "bool_type": "expected true or false", "string_type": "expected text",
          "list_type": "expected a list", "dict_type": "expected an object",
          "model_type": "expected an object", "tuple_type": "expected a list",
          "missing": "missing", "extra_forbidden": "a key check never writes",
          "literal_error": "not one of the values check writes",
          "string_too_long": f"longer than {MAX_TEXT:,} characters",
          "too_long": "too many items", "too_short": "too few items",
          "greater_than_equal": "below the least allowed",
          "less_than_equal": "above the most allowed"}


def _words(error) -> str:
    kind = error["type"]
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = error.get("ctx", {}).get("ge" if kind == "greater_than_equal" else "le")
        return f"{'at least' if kind == 'greater_than_equal' else 'at most'} {bound:,} expected"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", "not as check writes it"))
    return _KINDS.get(kind, "not as check writes it")
