"""Python source read for the derivatives it states: the pieces every reader shares.

A derivative found in code becomes an ordinary case dict with the places of its parts, then
the ordinary reading path (validate, resolve), so that checking, reports and located messages
are the ones a YAML case gets. Nothing here runs the code: expressions are `ast` trees,
rewritten into the case language's spelling (`self.data` is `self`, `math.exp` is `exp`) and
handed as text to the one allow-list parser, which refuses whatever it does not know."""
from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass, field

from ..case import Behaviour, Case, dotted_name
from ..errors import CaseError
from ._behaviour import resolve as resolve_steps
from ._resolve import resolve
from ._schema import CaseModel, validate
from ._yaml import Source

# where a rule is checked when the code gives no point: a range away from 0, where every
# operator micrograd defines (x**-1, a float power) is defined and smooth
RANGE = (0.5, 2.5)
SAMPLES = 5
SEED = 0
# the modules whose functions mean the case language's own (math.exp is exp)
MODULES = {"math", "np", "numpy", "torch", "F"}


@dataclass
class Unchecked:
    """A derivative found in the source and not checked: where, what, and why not."""

    file: str
    line: int
    column: int
    what: str          # "Value.__mul__: other.grad += ...", "def analytical_gradient"
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.what}: not checked: {self.reason}"

    def as_dict(self) -> dict:
        """For report.json: {file, line, column, what, reason}."""
        return asdict(self)


@dataclass
class Found:
    """One derivative's case as a dict, with the places of its parts in the source."""

    data: dict
    marks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    derivatives: int = 1       # hand-written derivatives it checks (the honest count)
    notes: list[str] = field(default_factory=list)   # said beside the case's result
    leads: dict[str, str] = field(default_factory=dict)   # param -> said first if it fails
    texts: dict[tuple, str] = field(default_factory=dict)   # claims' numbers as shown

    def case(self, file: str) -> Case | Behaviour:
        """The case through the ordinary reading path; a problem is a CaseError at its place."""
        where = Source(file, marks=dict(self.marks), texts=dict(self.texts))
        model = validate(self.data, where)
        if not isinstance(model, CaseModel):   # the claims of a picture: steps, as drafted
            steps = resolve_steps(model, where, self.data.get("name", "source"))
            for step in steps.steps:   # their lines are the program's, not a cell's: the
                step.line = None       # claims say their place (the picture's cell)
            return steps
        case = resolve(model, where, default_name=self.data.get("name", "source"))
        case.notes += self.notes
        case.leads |= self.leads
        return case


def case_name(*parts: str) -> str:
    """A case's name from the code's names (`Value-tanh`): a case name is letters, digits,
    _ and -, and Python's names may hold any letter."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", "-".join(parts))[:100]


def at(node: ast.AST, line: int) -> tuple[int, int]:
    """(line, column) of a node, 1-based, the source's first line being `line`."""
    return getattr(node, "lineno", 1) + line - 1, getattr(node, "col_offset", 0) + 1


def text(node: ast.expr, names: dict[str, str] | None = None) -> str:
    """The expression in the case language's spelling: attributes named in `names`
    (`self.data`) and names in it renamed, `math.f(...)` as `f(...)`; the rest as written,
    for the parser to accept or refuse."""
    return ast.unparse(_Spelling(names or {}).visit(_copy(node)))


class _Spelling(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        dotted = dotted_name(node)
        if dotted in self.names:
            return ast.Name(self.names[dotted], ast.Load())
        if isinstance(node.value, ast.Name) and node.value.id in MODULES:
            return ast.Name(node.attr, ast.Load())
        self.generic_visit(node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return ast.Name(self.names.get(node.id, node.id), ast.Load())

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        """micrograd's relu, `0 if x < 0 else x` (or `x if x > 0 else 0`), is relu(x); any
        other conditional is left for the parser to refuse."""
        self.generic_visit(node)
        x = _relu_of(node)
        return ast.Call(ast.Name("relu", ast.Load()), [x], []) if x is not None else node


def _relu_of(node: ast.IfExp) -> ast.expr | None:
    """x where node is `0 if x < 0 else x`, `0 if x <= 0 else x`, `x if x > 0 else 0` or
    `x if x >= 0 else 0`; None for any other conditional."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and _is_zero(test.comparators[0])):
        return None
    x, op = test.left, test.ops[0]
    same = ast.dump(x)
    if isinstance(op, (ast.Lt, ast.LtE)) and _is_zero(node.body) and ast.dump(node.orelse) == same:
        return x
    if isinstance(op, (ast.Gt, ast.GtE)) and _is_zero(node.orelse) and ast.dump(node.body) == same:
        return x
    return None


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) \
        and node.value == 0


def _copy(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node), mode="eval").body


def coefficient(expr: ast.expr, upstream: set[str]) -> ast.expr | None:
    """The local derivative in `local * out.grad`: expr with the one factor that is the
    upstream gradient taken out (out.grad, grad_output); None when expr is not such a
    product. `out.grad` alone is the coefficient 1."""
    if dotted_name(expr) in upstream:
        return ast.Constant(1)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Mult, ast.Div)):
        if _holds(expr.left, upstream):
            left = coefficient(expr.left, upstream)
            if left is None or _holds(expr.right, upstream):
                return None
            if isinstance(expr.op, ast.Mult) and _is_one(left):
                return expr.right
            return ast.BinOp(left, expr.op, expr.right)
        if isinstance(expr.op, ast.Mult) and _holds(expr.right, upstream):
            right = coefficient(expr.right, upstream)
            if right is None:
                return None
            return expr.left if _is_one(right) else ast.BinOp(expr.left, ast.Mult(), right)
    return None


def _holds(expr: ast.AST, upstream: set[str]) -> bool:
    return any(dotted_name(n) in upstream for n in ast.walk(expr)
               if isinstance(n, (ast.Name, ast.Attribute)))


def _is_one(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value == 1 and not isinstance(expr.value,
                                                                                  bool)


def names_in(expr: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def sampled(names, ranges: dict | None = None) -> dict:
    """The sample a rule is checked on: SAMPLES points drawn in RANGE for every name."""
    return {"count": SAMPLES, "seed": SEED,
            "ranges": {n: list((ranges or {}).get(n, RANGE)) for n in names}}


def read_cases(found: list[tuple[Found, str, tuple[int, int]]], file: str
               ) -> tuple[list[Case | Behaviour], list[Unchecked]]:
    """Each found derivative as a Case; one the reading path refuses is unchecked, with the
    reading path's own words and place."""
    cases: list[Case | Behaviour] = []
    unchecked: list[Unchecked] = []
    for item, what, (line, column) in found:
        try:
            cases.append(item.case(file))
        except CaseError as exc:
            unchecked.append(Unchecked(file, exc.line or line, exc.column or column, what,
                                       exc.message))
    return cases, unchecked


def number(value: ast.expr) -> float | None:
    """The number a literal (2.0, -3, +1e-3) is; None for anything else."""
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        inner = number(value.operand)
        return None if inner is None else (-inner if isinstance(value.op, ast.USub) else inner)
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) \
            and not isinstance(value.value, bool):
        return float(value.value)
    return None
