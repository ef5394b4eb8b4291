"""One expression tree for every method, parsed from case text through an `ast` allow-list."""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import CaseError

# function name -> number of arguments
FUNCTIONS = {
    "sin": 1, "cos": 1, "tan": 1, "exp": 1, "log": 1, "sqrt": 1, "tanh": 1,
    "sigmoid": 1, "relu": 1, "abs": 1, "sign": 1, "step": 1,
    "sum": 1, "mean": 1, "clamp": 3,
}
REDUCTIONS = {"sum", "mean"}
CONSTANTS = {"pi": math.pi, "e": math.e}
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

MAX_LENGTH = 10_000       # characters in one expression
MAX_DEPTH = 64            # nesting of the tree
MAX_EXPONENT = 1_000      # |constant exponent|
MAX_LITERAL = 1e300
_SPLIT = "split it into several forward nodes"


class Expr:
    """A node of the expression tree; `col` is its 0-based offset in the text."""

    _names: frozenset[str] = frozenset()  # not a field: set once as the node is built

    def names(self) -> frozenset[str]:
        return self._names

    def children(self) -> tuple["Expr", ...]:
        return ()


def _gather_names(node: Expr) -> None:
    # the names under a node, found once as it is built: asking at every level of the
    # parse had walked the whole subtree each time, quadratic in its depth. A child's set
    # is shared when it holds them all, as it mostly does: fewer objects for the collector
    names: frozenset[str] = frozenset()
    for child in node.children():
        if not child._names <= names:
            names = child._names if names <= child._names else names | child._names
    object.__setattr__(node, "_names", names)


@dataclass(frozen=True)
class Num(Expr):
    value: Fraction
    col: int = field(default=0, compare=False)

    def __str__(self):
        v = self.value
        return str(v.numerator) if v.denominator == 1 else repr(float(v))


@dataclass(frozen=True)
class Const(Expr):
    name: str
    col: int = field(default=0, compare=False)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Name(Expr):
    id: str
    col: int = field(default=0, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_names", frozenset((self.id,)))

    def __str__(self):
        return self.id


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr
    col: int = field(default=0, compare=False)

    __post_init__ = _gather_names

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"-{_wrap(self.operand, 3)}"


@dataclass(frozen=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr
    col: int = field(default=0, compare=False)

    __post_init__ = _gather_names

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        p = _PRECEDENCE[self.op]
        if self.op == "**":
            return f"{_wrap(self.left, p + 1)}**{_wrap(self.right, p)}"
        right_p = p + 1 if self.op in "-/" else p
        gap = " " if self.op in "+-" else ""  # as SymPy prints: x*y + z
        return f"{_wrap(self.left, p)}{gap}{self.op}{gap}{_wrap(self.right, right_p)}"


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]
    col: int = field(default=0, compare=False)

    __post_init__ = _gather_names

    def children(self):
        return self.args

    def __str__(self):
        return f"{self.func}({', '.join(map(str, self.args))})"


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}


def _wrap(node: Expr, minimum: int) -> str:
    p = _PRECEDENCE.get(node.op, 5) if isinstance(node, BinOp) else 3 if isinstance(node, Neg) else 5
    return f"({node})" if p < minimum else str(node)


def parse(text: str) -> Expr:
    """Parse one expression; raise CaseError (column set) for anything outside the language."""
    if not isinstance(text, str) or not text.strip():
        raise CaseError("an expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise CaseError(f"the expression is {len(text):,} characters long; at most "
                        f"{MAX_LENGTH:,} are allowed: {_SPLIT}", column=1)
    _check_nesting(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise CaseError(f"not a valid expression: {exc.msg}",
                        column=(exc.offset or 1), text=text.strip()) from None
    except (RecursionError, MemoryError, ValueError):
        raise CaseError(f"the expression is too long or deep to parse; {_SPLIT}", column=1) from None
    return _Converter(text.strip()).visit(tree.body, 0)


def _check_nesting(text: str) -> None:
    if sum(map(text.count, "([{")) <= MAX_DEPTH:  # too few brackets to nest too deep
        return
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch in "([{") - (ch in ")]}")
        if depth > MAX_DEPTH:
            raise CaseError(f"brackets are nested more than {MAX_DEPTH} deep; {_SPLIT}",
                            column=i + 1)


class _Converter:
    """ast -> Expr, refusing every node type not on the allow-list."""

    def __init__(self, text: str):
        self.text = text

    def visit(self, node: ast.AST, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise self.error(node, f"the expression is nested more than {MAX_DEPTH} deep "
                                   f"(a chain of + or * nests one level a term); {_SPLIT}")
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.error(node, _forbidden(node))
        return method(node, depth + 1)

    def visit_Constant(self, node, depth):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, str) else f"{type(value).__name__} values"
            raise self.error(node, f"{kind} are not allowed in an expression")
        if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_LITERAL:
            raise self.error(node, "the number is too large")
        if isinstance(value, int):  # exact already, however written
            return Num(Fraction(value), node.col_offset)
        segment = self._segment(node).replace("_", "")
        try:
            exact = Fraction(segment)  # the decimal as written: 0.1 is 1/10
        except ValueError:
            exact = Fraction(value)  # hex and other forms: their exact binary value
        return Num(exact, node.col_offset)

    def _segment(self, node) -> str:
        # ast's offsets count UTF-8 bytes, which are characters in one line of ASCII;
        # get_source_segment splits the whole text for every number, quadratic in its length
        if self.text.isascii() and "\n" not in self.text:
            return self.text[node.col_offset:node.end_col_offset]
        return ast.get_source_segment(self.text, node) or ""

    def visit_Name(self, node, depth):
        if node.id.startswith("_"):
            raise self.error(node, f"names beginning with an underscore are not allowed: {node.id}")
        if node.id in CONSTANTS:
            return Const(node.id, node.col_offset)
        if node.id in FUNCTIONS:
            raise self.error(node, f"{node.id} is a function; call it as {node.id}(...)")
        return Name(node.id, node.col_offset)

    def visit_UnaryOp(self, node, depth):
        operand = self.visit(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return Neg(operand, node.col_offset)
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.error(node, _forbidden(node.op))

    def visit_BinOp(self, node, depth):
        op = OPERATORS.get(type(node.op))
        if op is None:
            raise self.error(node, f"the operator {_symbol(node.op)} is not allowed; "
                                   "use + - * / **")
        left, right = self.visit(node.left, depth), self.visit(node.right, depth)
        if op == "**":
            self._check_exponent(node, right)
        if op in "/**" and not right.names():
            self._check_divisor(node, op, left, right)
        return BinOp(op, left, right, node.col_offset)

    def visit_Call(self, node, depth):
        if not isinstance(node.func, ast.Name):  # os.system(...), (lambda: ...)(), f()()
            raise self.error(node.func, _FORBIDDEN.get(type(node.func).__name__, "only the "
                             "allowed functions may be called, by name"))
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.error(node, f"unknown function {name}(); allowed: "
                                   + " ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise self.error(node, f"{name}() takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(node, f"{name}() takes no *arguments")
        if len(node.args) != FUNCTIONS[name]:
            raise self.error(node, f"{name}() takes {FUNCTIONS[name]} argument"
                             f"{'s' if FUNCTIONS[name] > 1 else ''}, not {len(node.args)}")
        call = Call(name, tuple(self.visit(a, depth) for a in node.args), node.col_offset)
        self._check_domain(node, call)
        return call

    def _check_domain(self, node, call: Call):
        """log and sqrt of a constant outside their domain have no real value anywhere."""
        if call.func not in ("log", "sqrt") or call.args[0].names():
            return
        try:
            value = constant_value(call.args[0])
        except (OverflowError, ZeroDivisionError, ValueError):
            return
        if value < 0 or (value == 0 and call.func == "log"):
            raise self.error(node, f"{call.func} of the constant {value:g} has no real value")

    def _check_exponent(self, node, exponent: Expr):
        if exponent.names():
            return
        try:
            value = constant_value(exponent)
        except (OverflowError, ZeroDivisionError, ValueError):
            value = math.inf
        if not abs(value) <= MAX_EXPONENT:
            raise self.error(node, f"a constant exponent must lie within ±{MAX_EXPONENT}")

    def _check_divisor(self, node, op: str, left: Expr, right: Expr):
        """A constant zero divisor (1/0, 0**-1) has no value anywhere: refuse it here."""
        try:
            if op == "/" and constant_value(right) == 0:
                raise self.error(node, "division by zero (the divisor is the constant 0)")
            if (op == "**" and not left.names() and constant_value(left) == 0
                    and constant_value(right) < 0):
                raise self.error(node, "0 to a negative power is a division by zero")
        except (OverflowError, ZeroDivisionError, ValueError):
            return

    def error(self, node, message: str) -> CaseError:
        col = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None) or len(self.text)
        return CaseError(message, column=col + 1, text=self.text[col:end][:80])


def constant_value(node: Expr) -> float:
    """The float value of an expression without names (used to bound exponents)."""
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Const):
        return CONSTANTS[node.name]
    if isinstance(node, Neg):
        return -constant_value(node.operand)
    if isinstance(node, BinOp):
        a, b = constant_value(node.left), constant_value(node.right)
        if node.op == "**" and abs(b) > MAX_EXPONENT:
            raise OverflowError
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.inf,
                "**": _pow(a, b)}[node.op]
    raise ValueError("not a constant")


def _pow(a: float, b: float) -> float:
    try:
        result = a ** b
    except ZeroDivisionError:
        return math.inf
    return abs(result) if isinstance(result, complex) else result


_FORBIDDEN = {
    "Attribute": "attribute access (a.b) is not allowed",
    "Subscript": "subscripts (a[i]) are not allowed",
    "Lambda": "lambda is not allowed",
    "ListComp": "comprehensions are not allowed", "SetComp": "comprehensions are not allowed",
    "DictComp": "comprehensions are not allowed", "GeneratorExp": "comprehensions are not allowed",
    "JoinedStr": "f-strings are not allowed", "FormattedValue": "f-strings are not allowed",
    "NamedExpr": "the walrus operator (:=) is not allowed",
    "Compare": "comparisons are not allowed", "BoolOp": "and/or are not allowed",
    "IfExp": "conditional expressions are not allowed",
    "List": "list literals are not allowed in an expression; give vectors as inputs",
    "Tuple": "tuples are not allowed in an expression",
    "Dict": "dict literals are not allowed", "Set": "set literals are not allowed",
    "Await": "await is not allowed", "Yield": "yield is not allowed",
    "YieldFrom": "yield is not allowed", "Starred": "*arguments are not allowed",
    "Slice": "slices are not allowed", "Not": "not is not allowed",
    "Invert": "the operator ~ is not allowed",
}


def _forbidden(node) -> str:
    return _FORBIDDEN.get(type(node).__name__, f"{type(node).__name__} is not allowed")


def _symbol(op) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
            ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}.get(type(op), "?")


def walk(node: Expr):
    """Every node of the tree, parents first."""
    yield node
    for child in node.children():
        yield from walk(child)


def substitute(node: Expr, replacements: dict[str, Expr]) -> Expr:
    """The tree with names replaced by trees (used to inline nodes into the output)."""
    if isinstance(node, Name):
        return replacements.get(node.id, node)
    if isinstance(node, Neg):
        return Neg(substitute(node.operand, replacements), node.col)
    if isinstance(node, BinOp):
        return BinOp(node.op, substitute(node.left, replacements),
                     substitute(node.right, replacements), node.col)
    if isinstance(node, Call):
        return Call(node.func, tuple(substitute(a, replacements) for a in node.args), node.col)
    return node
