"""Case text to the expression tree, through an `ast` allow-list: the only door into a method."""
from __future__ import annotations

import ast
import math
import re
from fractions import Fraction

from ..errors import CaseError
from ..ops import CONSTANTS, FUNCTIONS, OPERATORS
from ._tree import BinOp, Call, Const, Expr, Name, Neg, Num
from ._visit import Visitor

SYNTAX = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

MAX_LENGTH = 10_000       # characters in one expression
MAX_DEPTH = 64            # nesting of the tree
MAX_EXPONENT = 1_000      # |constant exponent|
MAX_LITERAL = 1e300
_SPLIT = "split it into several forward nodes"


def parse(text: str) -> Expr:
    """Parse one expression; raise CaseError (column set) for anything outside the language."""
    if not isinstance(text, str) or not text.strip():
        raise CaseError("an expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise CaseError(f"the expression is {len(text):,} characters long; at most "
                        f"{MAX_LENGTH:,} are allowed: {_SPLIT}", column=1)
    _check_nesting(text)
    _check_characters(text)
    lead = len(text) - len(text.lstrip())   # columns count from the text as written
    stripped = text.strip()
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        column = Columns(stripped).of(exc.lineno or 1, exc.offset or 1, chars=True)
        raise CaseError(f"not a valid expression: {exc.msg}", column=lead + column + 1,
                        text=stripped) from None
    except (RecursionError, MemoryError, ValueError):
        raise CaseError(f"the expression is too long or deep to parse; {_SPLIT}",
                        column=1) from None
    return _Converter(stripped, lead).visit(tree.body, 0)


# what Python's parser cannot read at all: it would say only that it failed
_UNREADABLE = re.compile("[\x00\ud800-\udfff]")


def _check_characters(text: str) -> None:
    """A NUL or a lone surrogate (half of a UTF-16 pair, which YAML's "\\udfff" escape can
    write) is no character of any expression: say which, and where."""
    found = _UNREADABLE.search(text)
    if found is None:
        return
    c = found.group()
    what = "a NUL character (\\x00)" if c == "\x00" else \
        f"a lone surrogate (\\u{ord(c):04x}), half of a UTF-16 pair and no character"
    raise CaseError(f"the expression holds {what}; write the expression in plain text",
                    column=found.start() + 1)


class Columns:
    """ast's offsets count UTF-8 bytes within a line; a message counts characters from the
    start of the text (a full-width ｘ is one character, three bytes)."""

    def __init__(self, text: str):
        self.ascii = text.isascii() and "\n" not in text
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def of(self, lineno: int, offset: int, chars: bool = False) -> int:
        """The 0-based character offset in the text of (1-based line, offset in the line):
        a 0-based byte offset as ast's nodes give it, or a 1-based character offset as a
        SyntaxError gives it (chars=True)."""
        if chars:
            return self.starts[min(lineno, len(self.starts)) - 1] + max(offset - 1, 0)
        if self.ascii:
            return offset
        line = self.lines[min(lineno, len(self.lines)) - 1]
        shown = line.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "replace")
        return self.starts[min(lineno, len(self.starts)) - 1] + len(shown)


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

    def __init__(self, text: str, lead: int = 0):
        self.text, self.lead = text, lead
        self.columns = Columns(text)

    def col(self, node) -> int:
        """node's 0-based offset in the text, in characters (ast counts UTF-8 bytes)."""
        return self.columns.of(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def at(self, node) -> int:
        """node's 0-based column in the expression as written (leading blanks counted)."""
        return self.lead + self.col(node)

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
        if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_LITERAL:
            raise self.error(node, "the number is too large")
        if isinstance(value, int):  # exact already, however written
            return Num(Fraction(value), self.at(node))
        segment = self._segment(node).replace("_", "")
        try:
            exact = Fraction(segment)  # the decimal as written: 0.1 is 1/10
        except ValueError:
            exact = Fraction(value)  # hex and other forms: their exact binary value
        return Num(exact, self.at(node))

    def _segment(self, node) -> str:
        # ast's offsets count UTF-8 bytes, which are characters in one line of ASCII;
        # get_source_segment splits the whole text for every number, quadratic in its length
        if self.columns.ascii:
            return self.text[node.col_offset:node.end_col_offset]
        return ast.get_source_segment(self.text, node) or ""

    def visit_Name(self, node, depth):
        if node.id.startswith("_"):
            raise self.error(node, f"names beginning with an underscore are not allowed: {node.id}")
        if node.id in CONSTANTS:
            return Const(node.id, self.at(node))
        if node.id in FUNCTIONS:
            raise self.error(node, f"{node.id} is a function; call it as {node.id}(...)")
        return Name(node.id, self.at(node))

    def visit_UnaryOp(self, node, depth):
        operand = self.visit(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return Neg(operand, self.at(node))
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.error(node, _forbidden(node.op))

    def visit_BinOp(self, node, depth):
        op = SYNTAX.get(type(node.op))
        if op is None:
            raise self.error(node, f"the operator {_symbol(node.op)} is not allowed; "
                                   "use + - * / **")
        left, right = self.visit(node.left, depth), self.visit(node.right, depth)
        if op == "**":
            self._check_exponent(node, right)
        if op in "/**" and not right.names():
            self._check_divisor(node, op, left, right)
        power = BinOp(op, left, right, self.at(node))
        if op == "**":
            self._check_power(node, power)
        return power

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
        arity = FUNCTIONS[name].arity
        if len(node.args) != arity:
            raise self.error(node, f"{name}() takes {arity} argument"
                             f"{'s' if arity > 1 else ''}, not {len(node.args)}")
        call = Call(name, tuple(self.visit(a, depth) for a in node.args), self.at(node))
        self._check_domain(node, call)
        return call

    def _check_domain(self, node, call: Call):
        """A function of a constant outside its domain (log(-1)) has no real value anywhere."""
        outside = FUNCTIONS[call.func].outside
        values = _constants(call.args)
        if outside is not None and values is not None and outside(values):
            shown = ", ".join(f"{v:g}" for v in values)
            raise self.error(node, f"{call.func} of the constant {shown} has no real value")

    def _check_power(self, node, power: BinOp):
        """A constant power without a real value ((-8)**(1/3)) has none anywhere."""
        outside = OPERATORS["**"].outside
        values = _constants((power.left, power.right))
        if outside is not None and values is not None and outside(values):
            raise self.error(node, f"{power} has no real value (a negative base to a power "
                                   "that is not a whole number)")

    def _check_exponent(self, node, exponent: Expr):
        if exponent.names():
            return
        try:
            value = constant_value(exponent)
        except (OverflowError, ZeroDivisionError, ValueError):
            value = math.inf
        if math.isnan(value):  # (-8)**(1/3): no real value, said where it is evaluated
            return
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
        col = self.col(node)
        end_offset = getattr(node, "end_col_offset", None)
        end = len(self.text) if end_offset is None else \
            self.columns.of(getattr(node, "end_lineno", None) or 1, end_offset)
        return CaseError(message, column=self.lead + col + 1, text=self.text[col:end][:80])


class _Constant(Visitor[float]):
    """The float value of an expression without names, folded by the table's Python forms."""

    def visit_Num(self, node: Num) -> float:
        return float(node.value)

    def visit_Const(self, node: Const) -> float:
        return CONSTANTS[node.name][0]

    def visit_Neg(self, node: Neg) -> float:
        return -self(node.operand)

    def visit_BinOp(self, node: BinOp) -> float:
        a, b = self(node.left), self(node.right)
        if node.op == "**" and abs(b) > MAX_EXPONENT:
            raise OverflowError
        fold = OPERATORS[node.op].python
        assert fold is not None
        return fold(a, b)

    def visit_Name(self, node: Name) -> float:
        raise ValueError("not a constant")

    visit_Call = visit_Name


def _constants(args) -> list[float] | None:
    """The values of arguments that are all constants; None if any has a name or no value."""
    if any(a.names() for a in args):
        return None
    try:
        return [constant_value(a) for a in args]
    except (OverflowError, ZeroDivisionError, ValueError):
        return None


def constant_value(node: Expr) -> float:
    """The float value of an expression without names (used to bound exponents, find a
    constant zero divisor, and a constant outside log's or sqrt's domain)."""
    return _Constant()(node)


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
