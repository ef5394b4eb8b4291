"""What checking a case found: the one result object that the CLI, plugin, API and reports share."""
from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field, fields, is_dataclass

PASSED, FAILED, ERROR = "passed", "failed", "error"
# nothing was compared (no hand-written derivative, no printed number, no expectation): never
# a pass, and an error for CI unless it is allowed (check --allow-unchecked)
UNCHECKED = "unchecked"


class Problem(str):
    """What is wrong, in words, and where in the case file it is written: the 1-based line
    and column of the edge, claim, formula or input it is about (None where it has none).

    A str, so everything that reads a problem as text still does; the reports put the place
    before the words (file:line:column: ...), as an editor or a terminal can follow it."""

    line: int | None
    column: int | None

    def __new__(cls, text: str, line: int | None = None, column: int | None = None):
        made = super().__new__(cls, text)
        made.line, made.column = line, column
        return made

    def __reduce__(self):   # pickled whole across -j workers, place and all
        return Problem, (str(self), self.line, self.column)

    def retold(self, text: str) -> Problem:
        """Other words for the same place."""
        return Problem(text, self.line, self.column)


def place_of(problem: str) -> tuple[int | None, int | None]:
    """(line, column) of a problem; (None, None) for a plain str."""
    return getattr(problem, "line", None), getattr(problem, "column", None)


def split_place(problem: str, file: str) -> tuple[str, str]:
    """(the words, "file:line:column" or "") of a problem: the place it opens with (an error's
    message does), else the one it carries."""
    opening = re.match(re.escape(file) + r":\d+(?::\d+)?: ", problem)
    if opening:
        return problem[opening.end():], opening[0][:-2]
    line, column = place_of(problem)
    if line is None:
        return str(problem), ""
    return str(problem), f"{file}:{line}" + (f":{column}" if column else "")


def located(problem: str, file: str) -> str:
    """The problem as a terminal or a report shows it: file:line:column: first."""
    words, place = split_place(problem, file)
    return f"{place}: {words}" if place else words


@dataclass
class EdgeResult:
    edge: str
    status: str
    hand: str
    sympy: str
    line: int | None = None
    value: object = None           # the hand-written local derivative at the base point
    sympy_value: object = None     # SymPy's, at the base point


@dataclass
class BackwardResult:
    """One hand-written backward entry against autograd and SymPy: what a tutorial's cmp()
    prints (exact, agree, the largest difference), and whether its own formula is wrong."""

    name: str
    status: str
    exact: bool                  # equal to autograd's bit for bit, in the case's dtype
    agree: bool                  # within the dtype's tolerance of autograd's
    max_diff: float              # the largest |hand - autograd|, in the case's dtype
    hand: str = ""
    follows_from: str | None = None   # for a failed entry: the wrong entry it uses, if any
    line: int | None = None
    shape: list = field(default_factory=list)
    value: object = None         # the hand-written value at the base point (a few elements)
    autograd: object = None      # autograd's, beside it
    max_diff_at_rounding: bool = False   # max_diff is at the dtype's rounding level (CPU's digits)
    # for a failed entry a block builds in several statements (or one lacking a piece):
    # which statement is wrong, and where (check/_pieces: finding, line, column, ...)
    piece: dict | None = None
    cell: str = ""               # a notebook checked directly: the cell `line` is in


@dataclass
class ClaimResult:
    claim: str
    written: object
    value: object
    status: str
    point: int = 0


@dataclass
class PointResult:
    at: dict
    gradients: dict        # parameter -> method -> value (a float, or a list for a vector)
    # parameter -> what else is known there (differentiable, kink, float32 error, ...); report.json
    # merges it into the gradient entry, beside the methods' values
    details: dict = field(default_factory=dict)
    hessian: dict = field(default_factory=dict)   # "p/q" -> method -> value (order: 2 cases)
    hessian_details: dict = field(default_factory=dict)  # "p/q" -> differentiable, one_sided
    rounding: dict = field(default_factory=dict)  # float32 cases: the output's float32 error


@dataclass
class Sweep:
    """A scalar parameter's derivative across a range, by every method (for a plot)."""

    xs: object               # the parameter's values
    lines: dict              # method -> the gradient at each value
    marked: list             # the listed points that differ from the base point in it alone


@dataclass
class CaseResult:
    name: str
    file: str
    status: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # worth knowing, never a failure
    edges: list[EdgeResult] = field(default_factory=list)
    points: list[PointResult] = field(default_factory=list)
    claims: list[ClaimResult] = field(default_factory=list)
    kind: str = "gradient"
    line: int | None = None
    dtype: str = "float64"
    title: str = ""
    worst: float = 0.0                 # the largest disagreement between any two methods
    # every disagreement at the dtype's rounding level (its digits are the CPU's); None: unsaid
    worst_at_rounding: bool | None = None
    points_total: int = 0
    graph: dict = field(default_factory=dict)   # inputs and nodes with their base-point values
    seconds: float = 0.0
    sweeps: dict = field(default_factory=dict)  # param -> Sweep, when plots are asked for
    backward: list[BackwardResult] = field(default_factory=list)   # tensor cases
    sympy_at: object = None      # tensor cases: "full", or the reduced dims SymPy ran at
    # the formula check (hand-written edges and totals at random points): how many points,
    # which inputs moved and which were held at their values; None where it did not run
    formulas_at: object = None
    # a tutorial's source (kind "source"): its hand-written derivatives found, checked, and
    # each unchecked one {line, cell, text, reason}
    derivatives: dict | None = None
    # a case drafted from a tutorial: each input's value "notebook" (the notebook's own) or
    # "stand-in" (what only running would tell: no number depending on it is claimed)
    inputs_from: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status == PASSED

    @property
    def on_a_kink(self) -> bool:
        """Some point sits where a parameter's derivative does not exist (a kink's switch)."""
        return any(extra.get("differentiable") is False for point in self.points
                   for extra in point.details.values() if isinstance(extra, dict))

    @property
    def telling(self) -> bool:
        """Whether a plot of it says something beyond its PASS: it did not pass, or it sits
        on a kink (what `--plots auto` draws)."""
        return self.status != PASSED or self.on_a_kink

    def to_dict(self) -> dict:
        """The result as report.json lists it: each problem's place beside the problems. A
        point's `details` (and `hessian_details`) join their method's entry after the methods'
        values (from_dict parts them again where the details begin: see _parted). A sweep is
        summed up as its curve's sample count, or the reason it has none (what report.md's
        plan reads; the curve is in the PNG)."""
        # asdict's copy, written for what a result holds: asdict deep-copies every number one
        # by one (0.4 ms of a small case's 12), where a list of numbers can be copied whole
        out = {}
        for name in _names(CaseResult):
            if name in ("seconds", "sweeps"):
                continue
            out[name] = _copied(getattr(self, name))
            if name == "problems":
                out[name] = [str(p) for p in self.problems]
                out["problem_places"] = [_place(p) for p in self.problems]
        if self.sympy_at is None:   # a case of the scalar lessons: its keys as they were
            out.pop("sympy_at")
            out.pop("backward")
        if self.formulas_at is None:
            out.pop("formulas_at")
        if self.derivatives is None:   # a case, not a tutorial's source
            out.pop("derivatives")
        if self.inputs_from is None:   # not drafted from a tutorial by this run
            out.pop("inputs_from")
        for point in out["points"]:
            for param, extra in point.pop("details").items():
                point["gradients"][param].update(extra)
            for key, extra in point.pop("hessian_details").items():
                point["hessian"][key].update(extra)
            if not point["hessian"]:
                point.pop("hessian")
            if not point["rounding"]:
                point.pop("rounding")
        if self.sweeps:
            out["sweeps"] = {p: s if isinstance(s, str) else len(s.xs)
                             for p, s in self.sweeps.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> CaseResult:
        """A result rebuilt from its to_dict (read back from report.json): the exact inverse
        for everything the reports read. Not listed there, so not rebuilt: `seconds`, and a
        sweep's curve (a sweep comes back as its sample count alone; merging copies its PNG)."""
        data = _restored(data)
        nested: dict = {"edges": [EdgeResult(**e) for e in data.get("edges", [])],
                  "claims": [ClaimResult(**c) for c in data.get("claims", [])],
                  "backward": [BackwardResult(**b) for b in data.get("backward", [])],
                  "points": [_point(p) for p in data.get("points", [])],
                  "sweeps": {p: s if isinstance(s, str) else Sweep([math.nan] * s, {}, [])
                             for p, s in data.get("sweeps", {}).items()}}
        places = data.get("problem_places") or [None] * len(data.get("problems", []))
        nested["problems"] = [Problem(text, **(place or {}))
                              for text, place in zip(data.get("problems", []), places)]
        plain = {f.name: data[f.name] for f in fields(cls)
                 if f.name in data and f.name not in nested}
        return cls(**plain, **nested)


# --- JSON has no NaN or inf --------------------------------------------------------------

NON_FINITE = "non_finite"   # the entry's key that lists where they were


def json_ready(entry: dict) -> dict:
    """A to_dict entry for JSON: each NaN or inf written as null (JSON has neither, and
    report.json's readers take null), and listed under "non_finite", so that from_dict puts
    it back: a JSON pointer (RFC 6901) to the number -> "nan", "inf" or "-inf", or to a list ->
    runs [first index, count, word] of its elements (a vector outside its domain is one run)."""
    found: dict = {}
    out = _nulled(entry, "", found)
    if found:
        out[NON_FINITE] = found
    return out


def _nulled(value, pointer: str, found: dict):
    if isinstance(value, dict):
        return {k: _nulled(v, f"{pointer}/{_escaped(k)}", found) for k, v in value.items()}
    if not isinstance(value, list):
        if isinstance(value, float) and not math.isfinite(value):
            found[pointer] = _word(value)
            return None
        return value
    runs: list = []
    out: list = []
    for i, v in enumerate(value):
        if isinstance(v, float) and not math.isfinite(v):
            if runs and runs[-1][0] + runs[-1][1] == i and runs[-1][2] == _word(v):
                runs[-1][1] += 1
            else:
                runs.append([i, 1, _word(v)])
            out.append(None)
        else:
            out.append(_nulled(v, f"{pointer}/{i}", found))
    if runs:
        found[pointer] = runs
    return out


def _word(v: float) -> str:
    return "nan" if math.isnan(v) else "inf" if v > 0 else "-inf"


def _escaped(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _restored(data: dict) -> dict:
    """The entry with the NaNs and infs that json_ready wrote as null put back."""
    if NON_FINITE not in data:
        return data
    data = copy.deepcopy(data)
    for pointer, where in data.pop(NON_FINITE).items():
        *path, last = [_unescaped(k) for k in pointer.split("/")[1:]]
        holder = data
        for key in path:
            holder = holder[int(key) if isinstance(holder, list) else key]
        key = int(last) if isinstance(holder, list) else last
        if isinstance(where, str):
            holder[key] = float(where)
            continue
        for first, count, word in where:
            holder[key][first:first + count] = [float(word)] * count
    return data


def _unescaped(key: str) -> str:
    return key.replace("~1", "/").replace("~0", "~")


def _point(data: dict) -> PointResult:
    gradients, details = _parted(data["gradients"])
    hessian, hessian_details = _parted(data.get("hessian", {}))
    return PointResult(data["at"], gradients, details, hessian, hessian_details,
                       data.get("rounding", {}))


def _parted(entries: dict) -> tuple[dict, dict]:
    """key -> the methods' values, and key -> what else is known: to_dict puts the details
    after the values, and they begin with `differentiable` (a scalar lesson's entry) or with
    a vector's `finite_difference`, a dict (a tensor case's); a scalar's is a method's number."""
    values: dict = {}
    extras: dict = {}
    for key, entry in entries.items():
        names = list(entry)
        cut = next((i for i, m in enumerate(names) if m == "differentiable"
                    or (m == "finite_difference" and isinstance(entry[m], dict))), len(names))
        values[key] = {m: entry[m] for m in names[:cut]}
        if cut < len(names):
            extras[key] = {m: entry[m] for m in names[cut:]}
    return values, extras


def _names(cls) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}
_LEAVES = frozenset((float, int, str, bool, type(None)))


def _copied(value):
    """asdict's result for value: dataclasses as dicts, containers copied, leaves as they are
    (numbers and strings cannot change; anything else is deep-copied, as asdict does)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is list:
        if {type(v) for v in value} <= _LEAVES:   # a vector: copied whole
            return value[:]
        return [_copied(v) for v in value]
    if kind is dict:
        return {_copied(k): _copied(v) for k, v in value.items()}
    if kind in _FIELDS or is_dataclass(value):
        return {name: _copied(getattr(value, name)) for name in _names(kind)}
    if kind is tuple:
        return tuple(_copied(v) for v in value)
    return copy.deepcopy(value)


def _place(problem: str) -> dict | None:
    line, column = place_of(problem)
    return None if line is None else {"line": line, "column": column}


def error(name: str, file: str, message: str, line: int | None = None,
          column: int | None = None) -> CaseResult:
    return CaseResult(name=name, file=file, status=ERROR,
                      problems=[Problem(message, line, column)], line=line)


def piece_line(piece: dict | None) -> str:
    """A failed entry's statements in a few words, for a table's verdict: "line 66 is the
    wrong statement" (check/_pieces says which and why in the problem)."""
    if not piece:
        return ""
    line = places([piece.get("line")], [piece["cell"]] if piece.get("cell") else None)
    lines = places(piece.get("lines", []), piece.get("cells"))
    return {"wrong": f"{line} is the wrong statement",
            "extra": f"{line} is a statement too many",
            "missing": "lacks the gradient through " + ", ".join(piece.get("through", [])),
            "untold": f"which of {lines} is wrong is untold"}.get(
                str(piece.get("finding")), "")


def places(lines: list, cells: list | None = None) -> str:
    """Lines in words: "line 66", "lines 64, 66"; with their cells (a notebook checked
    directly), "In [210], lines 9, 11", or "In [10], line 23 and In [210], line 11"."""
    by_cell: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        by_cell.setdefault(cells[i] if cells and i < len(cells) else "", []).append(str(line))
    return " and ".join(f"{cell + ', ' if cell else ''}line{'s' * (len(them) > 1)} "
                        f"{', '.join(them)}" for cell, them in by_cell.items())


def derivatives_line(d: dict) -> str:
    """A tutorial's count in words: "26 of 28 hand-written derivatives checked"."""
    found, checked = d.get("found", 0), d.get("checked", 0)
    return f"{checked} of {found} hand-written derivative{'s' * (found != 1)} checked"


def tally(results: list[CaseResult]) -> str:
    """The run in a line: "3 cases: 1 passed, 1 failed, 1 error" (", 1 unchecked" if any)."""
    def count(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"
    statuses = [r.status for r in results]
    unchecked = statuses.count(UNCHECKED)
    return (f"{count(len(results), 'case')}: {statuses.count(PASSED)} passed, "
            f"{statuses.count(FAILED)} failed, {count(statuses.count(ERROR), 'error')}"
            + (f", {unchecked} unchecked" if unchecked else ""))


MAX_PROPERTY = 2_000        # characters of one property's value (a long vector is cut)


def junit_properties(r: CaseResult) -> list[tuple[str, str]]:
    """The status, the worst disagreement and every method's gradient at the base point: the
    properties of a case's testcase in junit.xml, and of its test under the pytest plugin.
    Here, beside the result, so that the plugin records them without loading the reports."""
    props = [("status", r.status)]
    if r.status != ERROR:
        props += [("dtype", r.dtype), ("worst_gap", repr(float(r.worst)))]
    entries = r.points[0].gradients if r.points else {}
    details = (getattr(r.points[0], "details", None) or {}) if r.points else {}
    for param, by_method in entries.items():
        merged = {**by_method, **(details.get(param) or {})}
        for key, value in merged.items():
            props.append((f"grad/{param}/{key}", _property_text(value)))
    return props


def _property_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= MAX_PROPERTY else text[:MAX_PROPERTY] + " ..."
