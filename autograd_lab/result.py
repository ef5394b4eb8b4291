"""What checking a case found: the one result object that the CLI, plugin, API and reports share."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

PASSED, FAILED, ERROR = "passed", "failed", "error"


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
    points_total: int = 0
    graph: dict = field(default_factory=dict)   # inputs and nodes with their base-point values
    seconds: float = 0.0
    sweeps: dict = field(default_factory=dict)  # param -> Sweep, when plots are asked for
    backward: list[BackwardResult] = field(default_factory=list)   # tensor cases
    sympy_at: object = None      # tensor cases: "full", or the reduced dims SymPy ran at

    @property
    def ok(self) -> bool:
        return self.status == PASSED

    def to_dict(self) -> dict:
        out = {}
        for key, value in asdict(self).items():   # each problem's place beside the problems
            out[key] = value
            if key == "problems":
                out["problem_places"] = [_place(p) for p in self.problems]
        out.pop("seconds")
        out.pop("sweeps")
        if self.sympy_at is None:   # a case of the scalar lessons: its keys as they were
            out.pop("sympy_at")
            out.pop("backward")
        for point in out["points"]:
            for param, extra in point.pop("details").items():
                point["gradients"][param].update(extra)
            for key, extra in point.pop("hessian_details").items():
                point["hessian"][key].update(extra)
            if not point["hessian"]:
                point.pop("hessian")
            if not point["rounding"]:
                point.pop("rounding")
        return out


def _place(problem: str) -> dict | None:
    line, column = place_of(problem)
    return None if line is None else {"line": line, "column": column}


def error(name: str, file: str, message: str, line: int | None = None,
          column: int | None = None) -> CaseResult:
    return CaseResult(name=name, file=file, status=ERROR,
                      problems=[Problem(message, line, column)], line=line)


def tally(results: list[CaseResult]) -> str:
    """The run in a line: "3 cases: 1 passed, 1 failed, 1 error"."""
    def count(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"
    statuses = [r.status for r in results]
    return (f"{count(len(results), 'case')}: {statuses.count(PASSED)} passed, "
            f"{statuses.count(FAILED)} failed, {count(statuses.count(ERROR), 'error')}")
