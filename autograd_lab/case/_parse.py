"""Case text to the expression tree, through an `ast` allow-list: the only door into a method."""
from __future__ import annotations

import ast
import difflib
import math
import re
from fractions import Fraction
from typing import Any

from ..errors import CaseError
from ..ops import ATTRIBUTES, CONSTANTS, FLAGS, FUNCTIONS, KEYWORDS, MODULES, NUMPY, OPERATORS
from ._tree import Attr, BinOp, Call, Const, Expr, Index, Name, Neg, Num, Range, Slice, Stack
from ._visit import Visitor

SYNTAX = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
          ast.MatMult: "@"}
COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
               ast.NotEq: "!="}
# numpy's spellings of what the table names otherwise: x.copy() is x.clone()
_RENAMED = {"copy": "clone"}

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


def convert(node: ast.AST, text: str) -> Expr:
    """An expression's syntax tree (of a statement of a block, parsed from `text`) through the
    same allow-list as parse: offsets count from the start of text."""
    return _Converter(text).visit(node, 0)


def check_characters(text: str) -> None:
    _check_characters(text)


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
        if isinstance(value, bool):  # keepdim=True, unbiased=False: checked where bound
            return Const(str(value), self.at(node))
        if not isinstance(value, (int, float)):
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
        return Num(exact, self.at(node), real=True)

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
        # a function's name written bare is a name: a case may call a node dot or var (the
        # tutorials do); one the case does not declare is refused where names are resolved
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
                                   "use + - * / ** @")
        left, right = self.visit(node.left, depth), self.visit(node.right, depth)
        if op == "**":
            self._check_exponent(node, right)
        if op in "/**" and not right.names():
            self._check_divisor(node, op, left, right)
        power = BinOp(op, left, right, self.at(node))
        if op == "**":
            self._check_power(node, power)
        return power

    def visit_Compare(self, node, depth):
        """a < b: a mask (0 and 1, never differentiated), as dz * (z > 0) or dz[z <= 0]."""
        if len(node.ops) != 1:
            raise self.error(node, "a chained comparison (a < b < c) is not allowed; write "
                                   "one comparison")
        op = COMPARISONS.get(type(node.ops[0]))
        if op is None:
            raise self.error(node, "only the comparisons < <= > >= == != are allowed")
        return BinOp(op, self.visit(node.left, depth), self.visit(node.comparators[0], depth),
                     self.at(node))

    def visit_Call(self, node, depth):
        name, receiver = self._callee(node.func, depth)
        name = _RENAMED.get(name, name)
        if name == "transpose" and receiver is not None and not node.args \
                and not node.keywords:
            return Attr(receiver, "T", self.at(node))   # numpy's x.transpose(): x.T
        if name not in FUNCTIONS:
            raise self.error(node, _unknown(name) if receiver is None else
                             _unknown_method(name, _name(node.func.value)))
        op = FUNCTIONS[name]
        if receiver is not None and not op.method:
            raise self.error(node, f"{name} is not a method of a tensor; write {name}(x, ...)")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise self.error(node, f"{name}() takes no *arguments or **arguments")
        args = ([receiver] if receiver is not None else []) + [
            self._argument(a, i >= op.arity, depth)
            for i, a in enumerate(node.args, start=receiver is not None)]
        tensors, static = args[:op.arity], args[op.arity:]
        if op.varargs and len(static) == 1 and isinstance(static[0], tuple):
            static = list(static[0])    # x.reshape((n, k)) as x.reshape(n, k)
        keywords = self._keywords(node, op, static, depth)
        if name in ("var", "std") and self._numpy(node.func) and "unbiased" not in dict(
                keywords):   # numpy's default ddof=0: no Bessel's correction
            keywords.append(("unbiased", Const("False", self.at(node))))
        for slot, value in [(k, v) for k, v in keywords if isinstance(k, int)]:
            tensors += [Const("None")] * (slot + 1 - len(tensors))   # clamp(x, max=1)
            tensors[slot] = value
        keywords = [(k, v) for k, v in keywords if not isinstance(k, int)]
        if len(tensors) < op.least:
            raise self.error(node, f"{name}() takes {op.least} argument"
                             f"{'s' if op.least > 1 else ''}, not {len(tensors)}")
        missing = [s for s in op.static[:op.need] if s not in dict(keywords)]
        if missing:
            raise self.error(node, f"{name}() needs its {' and '.join(missing)}")
        call = Call(name, tuple(tensors), self.at(node), tuple(keywords))
        if name in ("max", "min") and "dim" in dict(keywords) and (
                self._numpy(node.func) or any(k.arg == "axis" for k in node.keywords)):
            return Attr(call, "values", self.at(node))   # numpy's max along an axis: values
        if name == "pow" and len(tensors) > 1:   # pow(x, k) is x**k: the same bound
            self._check_exponent(node, tensors[1])
        self._check_domain(node, call)
        return call

    def _argument(self, node, static: bool, depth):
        """A static argument may be a tuple of them (axes (0, 1), a shape (n, k))."""
        if static and isinstance(node, ast.Tuple):
            return tuple(self.visit(e, depth) for e in node.elts)
        if static and isinstance(node, ast.Constant) and node.value is None:
            return Const("None", self.at(node))     # axis=None: every element
        return self.visit(node, depth)

    @staticmethod
    def _numpy(func) -> bool:
        return isinstance(func, ast.Attribute) and dotted_name(func.value) in NUMPY

    def _callee(self, func, depth) -> tuple[str, Expr | None]:
        """(the function's name, the tensor a method is called on, or None)."""
        if isinstance(func, ast.Name):
            return func.id, None
        if isinstance(func, ast.Attribute):
            if dotted_name(func.value) in MODULES:   # torch.tanh, F.softmax, torch.nn.functional.f
                return func.attr, None
            return func.attr, self.visit(func.value, depth)   # x.sum(1): sum(x, 1)
        raise self.error(func, _FORBIDDEN.get(type(func).__name__, "only the allowed "
                                              "functions may be called, by name"))

    def _keywords(self, node, op, static: list, depth) -> list[tuple[Any, Any]]:
        """The static arguments by name: those written in order, then the keywords."""
        names = list(op.static)
        bound: list[tuple[Any, Any]]
        if op.varargs:
            bound = [(names[0], tuple(static))] if static else []
        elif len(static) > len(names):
            most = op.arity + len(names)
            raise self.error(node, f"{op.name}() takes at most {most} argument"
                                   f"{'s' if most > 1 else ''}, not {op.arity + len(static)}")
        else:
            bound = list(zip(names, static))
        for keyword in node.keywords:
            key = keyword.arg
            named = op.aliases.get(key, key)
            if key not in KEYWORDS or (named not in names and not isinstance(named, int)):
                takes = ", ".join([*names, *op.aliases]) or "none"
                raise self.error(keyword, f"{op.name}() takes no keyword {key!r} (its keyword "
                                          f"arguments: {takes})")
            if named in dict(bound):
                raise self.error(keyword, f"{op.name}() got {key} twice")
            bound.append((named, self._argument(keyword.value, True, depth)))
        return bound

    def visit_Attribute(self, node, depth):
        if node.attr not in ATTRIBUTES:
            hint = (f"; {_INSTEAD[node.attr].format(x=_name(node.value))}"
                    if node.attr in _INSTEAD else "")
            raise self.error(node, f"the attribute .{node.attr} is not allowed; allowed: "
                                   f"{', '.join('.' + a for a in ATTRIBUTES)} and the methods "
                                   f"of the functions (x.sum(1)){hint}")
        return Attr(self.visit(node.value, depth), node.attr, self.at(node))

    def visit_Subscript(self, node, depth):
        entries = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return Index(self.visit(node.value, depth),
                     tuple(self._entry(e, depth) for e in entries), self.at(node))

    def _entry(self, node, depth) -> Expr:
        """One index: an integer, a name, a slice lo:hi, or range(n)."""
        if isinstance(node, ast.Slice):
            if node.step is not None:
                raise self.error(node, "a slice takes no step (a:b, not a:b:c)")
            lo, hi = (None if b is None else self.visit(b, depth)
                      for b in (node.lower, node.upper))
            return Slice(lo, hi, self.at(node))
        if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "range")
                or (self._numpy(node.func) and getattr(node.func, "attr", "") == "arange")):
            if len(node.args) != 1 or node.keywords:
                raise self.error(node, "range(n) takes one argument, n")
            return Range(self.visit(node.args[0], depth), self.at(node))
        if (isinstance(node, ast.Constant) and node.value is None) or (
                dotted_name(node) in ("np.newaxis", "numpy.newaxis")):
            return Const("None", self.at(node))        # x[:, None]: a new axis
        if isinstance(node, ast.List):                 # x[[0, 2]]: those rows
            if not node.elts:
                raise self.error(node, "an index list needs at least one index")
            return Stack(tuple(self.visit(e, depth) for e in node.elts), self.at(node))
        return self.visit(node, depth)

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


class _Constant(Visitor[Any]):
    """The value of an expression without tensors, folded by the table's Python forms: a
    float, or True/False/None; names are looked up in `known` (a case's dims)."""

    def __init__(self, known: dict):
        self.known = known

    def visit_Num(self, node: Num) -> float:
        return float(node.value)

    def visit_Const(self, node: Const):
        return FLAGS[node.name] if node.name in FLAGS else CONSTANTS[node.name][0]

    def visit_Neg(self, node: Neg) -> float:
        return -self(node.operand)

    def visit_BinOp(self, node: BinOp) -> float:
        a, b = self(node.left), self(node.right)
        if node.op == "**" and abs(b) > MAX_EXPONENT:
            raise OverflowError
        fold = OPERATORS[node.op].python
        if fold is None:
            raise ValueError("not a constant")
        return fold(a, b)

    def visit_Name(self, node: Name) -> float:
        if node.id in self.known:
            return float(self.known[node.id])
        raise ValueError("not a constant")

    def visit_Call(self, node: Expr) -> float:
        raise ValueError("not a constant")

    visit_Attr = visit_Index = visit_Slice = visit_Range = visit_Stack = visit_Put = visit_Call


def _constants(args) -> list[float] | None:
    """The values of arguments that are all constants; None if any has a name or no value."""
    if any(a.names() for a in args):
        return None
    try:
        return [constant_value(a) for a in args]
    except (OverflowError, ZeroDivisionError, ValueError):
        return None


def constant_value(node: Expr, known: dict | None = None):
    """The value of an expression without tensors (names looked up in known: a case's dims),
    used to bound exponents, find a constant zero divisor or a constant outside log's or
    sqrt's domain, and to read static arguments (a dim, keepdim, a view's sizes)."""
    return _Constant(known or {})(node)


_FORBIDDEN = {
    "Attribute": "attribute access (a.b) is not allowed",
    "Lambda": "lambda is not allowed",
    "ListComp": "comprehensions are not allowed", "SetComp": "comprehensions are not allowed",
    "DictComp": "comprehensions are not allowed", "GeneratorExp": "comprehensions are not allowed",
    "JoinedStr": "f-strings are not allowed", "FormattedValue": "f-strings are not allowed",
    "NamedExpr": "the walrus operator (:=) is not allowed",
    "BoolOp": "and/or are not allowed",
    "IfExp": "conditional expressions are not allowed",
    "List": "list literals are not allowed in an expression; give vectors as inputs",
    "Tuple": "tuples are not allowed in an expression",
    "Dict": "dict literals are not allowed", "Set": "set literals are not allowed",
    "Await": "await is not allowed", "Yield": "yield is not allowed",
    "YieldFrom": "yield is not allowed", "Starred": "*arguments are not allowed",
    "Slice": "slices are allowed only inside a subscript (x[a:b])",
    "Not": "not is not allowed",
    "Invert": "the operator ~ is not allowed",
}


def dotted_name(node) -> str:
    """torch.nn.functional for the attribute chain of names it is written with (`out.grad`
    for out.grad, `x` for x), else '': the parser's and the source readers' one spelling."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


# what a tutorial writes on a tensor that is no part of a value's formula, and what a case
# file writes instead
_INSTEAD = {
    "shape": "write the size as a dim (dims: {{n: 32}}) or a number",
    "size": "write the size as a dim (dims: {{n: 32}}) or a number",
    "grad": "{x}'s gradient is claimed under expect: as grad/{x}",
    "data": "write {x} itself: a case's names are their values",
    "item": "write {x} itself: a one-element tensor is a number where one is needed",
    "numpy": "write {x} itself: values stay tensors (the reports show them)",
    "tolist": "write {x} itself: values stay tensors (the reports show them)",
    "backward": "the check calls output.backward() itself (give upstream: for a tensor "
                "output); in a behaviour case it is a step (- backward: {x})",
    "detach": "in a behaviour case it is a step (- detach: {{z: {x}}})",
    "retain_grad": "every name's gradient can be claimed (grad/{x}) without it",
    "requires_grad_": "grad: true on an input marks a parameter",
    "zero_": "in a behaviour case x.grad.zero_() is a step (- zero_grad: x)",
    "t": "write {x}.T",
    "stack": "a YAML list of expressions is stacked: write the name, then one `- expression` "
             "line an entry",
}


def _name(node) -> str:
    """The name a method or attribute is taken of (x in x.item()), in a hint; x for others."""
    return node.id if isinstance(node, ast.Name) else "x"


def _unknown_method(name: str, receiver: str) -> str:
    if name in _INSTEAD:
        return (f".{name}() is not allowed in an expression; "
                + _INSTEAD[name].format(x=receiver))
    methods = sorted(n for n, op in FUNCTIONS.items() if op.method)
    close = difflib.get_close_matches(name, methods, n=1, cutoff=0.6)
    if close and abs(len(close[0]) - len(name)) <= 1:
        return f"unknown method .{name}(); did you mean .{close[0]}()?"
    return f"unknown method .{name}(); the methods: " + " ".join(methods)


def _unknown(name: str) -> str:
    if name in _INSTEAD:
        return f"{name}() is not allowed in an expression; " + _INSTEAD[name].format(x="x")
    close = [f for f in difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.6)
             if abs(len(f) - len(name)) <= 1]     # a typo: exq for exp, not system for step
    if close:
        return f"unknown function {name}(); did you mean {close[0]}()?"
    return f"unknown function {name}(); allowed: " + " ".join(sorted(FUNCTIONS))


def _forbidden(node) -> str:
    return _FORBIDDEN.get(type(node).__name__, f"{type(node).__name__} is not allowed")


def _symbol(op) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
            ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}.get(type(op), "?")
