"""A block of a tutorial's statements (`forward: |`, `backward: |`) read into assignments.

The block is parsed by Python's `ast` into statements, and each statement's expressions go
through the one allow-list converter of _parse, so nothing reaches `eval` or `exec`. What a
notebook writes that the expression language has no word for is settled here, where the
block's state is known: a name's current version, the shapes so far (`x.shape[0]`,
`len(x)`), a loop's counter. The statements are read by _statements.Statements, the reader
the drafter reads a notebook's cells with: assignments' targets and operators, a loop over
`range` unrolled, within the same bounds. A name assigned several times
gets a version an assignment (`dcounts#1`, then `dcounts`), so that every assignment is a
value of its own and the last one carries the name."""
from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import CaseError
from ._parse import Columns, check_characters, constant_value, convert
from ._settle import Settle, source
from ._statements import MAX_STATEMENTS, Statements
from ._tree import BinOp, Call, Expr, Index, Name, Put
from ._visit import Rebuild

MAX_BLOCK = 200_000         # characters in one block
# calls a notebook makes beside its computation: they compute nothing a case uses
BOOKKEEPING = frozenset({"cmp", "print", "display", "backward", "retain_grad", "zero_grad",
                         "requires_grad_"})
SIZES = ("shape", "size", "ndim")


@dataclass
class Assignment:
    """One statement's assignment: `name` (as written: dcounts, a.grad) gets `expr`, a tree
    over the keys of the versions it reads. `key` is unique in the block: the last version of
    a name is the name itself (unless the name is `reserved`), earlier ones `name#k`."""

    name: str
    key: str
    expr: Expr
    text: str          # the statement as written
    line: int          # its line in the file
    column: int        # the file's column where the statement's line begins (offsets add)
    final: bool = False
    at: int = 0        # the file's column of the statement itself (indented in a loop)
    statement: str = ""   # the whole statement as written (its first line)


@dataclass
class Block:
    """The assignments of a block, in the order it runs them, and notes on what it left."""

    assignments: list[Assignment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)   # provisional key -> final

    def final(self) -> dict[str, Assignment]:
        """Each name's last assignment, by name."""
        return {a.name: a for a in self.assignments if a.final}


ShapeOf = Callable[[str], "tuple[int, ...] | None"]


class Reader:
    """Reads a block; `shape_of(key)` gives the shape of a version already read (the caller
    resolves each assignment as it comes, so that `x.shape[0]` is known for the next)."""

    def __init__(self, text: str, file: str | None, line: int, column: int, dims: dict,
                 shape_of: ShapeOf, reserved: set[str], grad_attribute: bool = False):
        self.text, self.file, self.line0, self.column0 = text, file or "", line, column
        self.dims, self.shape_of, self.reserved = dims, shape_of, reserved
        self.grad_attribute = grad_attribute    # x.grad = ... (a backward block)
        self.lines = text.split("\n")
        self.versions: dict[str, int] = {}
        self.statements = Statements(self.error, self._integer)
        self.loops = self.statements.loops   # the counters' values now, and sizes unpacked
        self.block = Block()
        self.left: list[int] = []    # lines of statements that assign nothing: left out

    # --- positions ----------------------------------------------------------------------

    def error(self, node, message: str) -> CaseError:
        lineno = getattr(node, "lineno", 1)
        line = self.lines[min(lineno, len(self.lines)) - 1]
        col = Columns(line).of(1, getattr(node, "col_offset", 0))
        return CaseError(message, self.file, self.line0 + lineno - 1, self.column0 + col,
                         line.strip()[:80])

    def _located(self, exc: CaseError, lineno: int) -> CaseError:
        """A converter's error (column within the statement's line) at the file's place."""
        column = None if exc.column is None else self.column0 + exc.column - 1
        return CaseError(exc.message, self.file, self.line0 + lineno - 1, column, exc.text)

    # --- the block ------------------------------------------------------------------------

    def read(self) -> Iterator[Assignment]:
        """The assignments one by one (resolve each before asking for the next)."""
        if len(self.text) > MAX_BLOCK:
            raise CaseError(f"the block is {len(self.text):,} characters long; at most "
                            f"{MAX_BLOCK:,} are allowed", self.file, self.line0, self.column0)
        try:
            check_characters(self.text)
        except CaseError as exc:
            before = self.text[:(exc.column or 1) - 1]
            raise CaseError(exc.message, self.file, self.line0 + before.count("\n"),
                            self.column0) from None
        try:
            module = ast.parse(self.text, mode="exec")
        except SyntaxError as exc:
            lineno = exc.lineno or 1
            raise CaseError(f"not valid Python: {exc.msg}", self.file, self.line0 + lineno - 1,
                            self.column0 + max((exc.offset or 1) - 1, 0)) from None
        except (RecursionError, MemoryError, ValueError):
            raise CaseError("the block is too long or deep to parse", self.file, self.line0,
                            self.column0) from None
        written = [s for s in ast.walk(module) if isinstance(s, (ast.Assign, ast.AugAssign))]
        if len(written) > MAX_STATEMENTS:   # said at once, before any is read
            raise self.error(written[MAX_STATEMENTS], f"the block runs more than "
                             f"{MAX_STATEMENTS:,} statements (loops unrolled); check a smaller "
                             "part, or fewer loop steps")
        yield from self._statements(module.body)
        self._finish()

    def _statements(self, body: list) -> Iterator[Assignment]:
        for statement in body:
            kind = type(statement).__name__
            if kind in ("Assign", "AugAssign"):
                self.statements.run(statement)
                found = self._assign(statement)
                if found is not None:
                    yield found
            elif kind == "For":
                yield from self._loop(statement)
            elif kind == "Expr":
                self._bookkeeping(statement)
            elif kind == "Pass":
                continue
            else:
                raise self.error(statement, _STATEMENT.get(kind, f"{kind} is not a statement "
                                 "of a block") + _ALLOWED)

    def _bookkeeping(self, statement) -> None:
        """cmp(...), print(...), loss.backward(), a bare name: left out, with a note."""
        value = statement.value
        name = value.func if isinstance(value, ast.Call) else value
        called = name.attr if isinstance(name, ast.Attribute) else getattr(name, "id", None)
        if isinstance(value, ast.Call) and called not in BOOKKEEPING:
            raise self.error(statement, f"{called or 'this'}(...) on a line of its own assigns "
                             "nothing; write its value to a name (x = ...)" + (
                                 "; an in-place method is written x = x + ..." if
                                 str(called).endswith("_") else ""))
        if not isinstance(value, (ast.Call, ast.Name, ast.Constant, ast.Tuple,
                                  ast.Attribute, ast.Subscript)):
            raise self.error(statement, "an expression on a line of its own assigns nothing; "
                                        "write it to a name (x = ...)")
        self.left.append(self.line0 + statement.lineno - 1)

    def _loop(self, loop) -> Iterator[Assignment]:
        self.statements.enter(loop)
        if self._ignored_loop(loop):
            return
        for _ in self.statements.unrolled(loop, lambda name: name in self.versions):
            yield from self._statements(loop.body)

    def _ignored_loop(self, loop) -> bool:
        """for p in parameters: p.grad = None, for t in [...]: t.retain_grad(): the notebook's
        bookkeeping for autograd, which the check does itself."""
        if isinstance(loop.iter, ast.Call) and getattr(loop.iter.func, "id", "") == "range":
            return False
        for statement in ast.walk(loop):
            if isinstance(statement, ast.Assign) and not (
                    isinstance(statement.value, ast.Constant) and statement.value.value is None):
                return False
            if isinstance(statement, ast.AugAssign):
                return False
        self.left.append(self.line0 + loop.lineno - 1)
        return True

    def _integer(self, node) -> int:
        tree = self._expression(node)
        try:
            value = constant_value(tree, self.dims)
        except (ValueError, OverflowError, ZeroDivisionError):
            raise self.error(node, f"{source(self.lines, node)} is not known when the case is "
                                   "read: a loop's bound is an integer, a dim, len(x) or "
                                   "x.shape[k]") from None
        if not isinstance(value, (int, float)) or not float(value).is_integer() \
                or abs(value) > 10**9:
            raise self.error(node, f"{source(self.lines, node)} must be a whole number")
        return int(value)

    # --- assignments --------------------------------------------------------------------

    def _assign(self, statement) -> Assignment | None:
        written = self.statements.written(statement)
        value, op = written.value, written.op
        if written.target == "unpack":
            assert isinstance(written.to, (ast.Tuple, ast.List))
            self._sizes(written.to, value)
            return None
        if written.target == "attribute" and written.attribute == "grad" and written.none:
            return None                          # p.grad = None: autograd's bookkeeping
        if written.target == "item":
            assert written.index is not None
            name = self._name_of(written.index.value)
            current = self._current(name, written.index)
            index = self._expression(written.index, current)
            assert isinstance(index, Index)
            expr: Expr = Put(index, self._expression(value), op, index.col)
        else:
            target = written.to
            name = self._name_of(target)
            expr = self._expression(value)
            if op:
                current = self._current(name, target, implicit=True)
                expr = BinOp(op, current, expr, expr.col)
        return self._version(name, expr, statement)

    def _sizes(self, target: ast.Tuple | ast.List, value) -> None:
        """N, D = X.shape: names for sizes, numbers wherever they are used below."""
        if not (isinstance(value, ast.Attribute) and value.attr == "shape"
                and isinstance(value.value, ast.Name)
                and all(isinstance(e, ast.Name) for e in target.elts)):
            raise self.error(target, "unpack only a shape into names (N, D = X.shape); "
                                     "assign one name a statement otherwise")
        shape = self.shape(value.value, "shape")
        if len(shape) != len(target.elts):
            raise self.error(target, f"{value.value.id}.shape holds {len(shape)} sizes, not "
                                     f"{len(target.elts)}")
        for element, size in zip(target.elts, shape):
            assert isinstance(element, ast.Name)
            if element.id in self.versions:
                raise self.error(element, f"{element.id} is a name the block assigns")
            self.loops[element.id] = size

    def _name_of(self, target) -> str:
        if isinstance(target, ast.Name):
            if target.id.startswith("_"):
                raise self.error(target, "names beginning with an underscore are not allowed: "
                                 + target.id)
            if target.id in self.loops:
                raise self.error(target, f"{target.id} is the loop's counter; assign another "
                                         "name")
            return target.id
        if (self.grad_attribute and isinstance(target, ast.Attribute) and target.attr == "grad"
                and isinstance(target.value, ast.Name)):
            return f"{target.value.id}.grad"
        raise self.error(target, "assign a name (x = ...), an element of one (x[i] = ...)"
                         + (" or a gradient (x.grad = ...)" if self.grad_attribute else ""))

    def _current(self, name: str, node, implicit: bool = False) -> Expr:
        """The name's value so far, for x += ... and x[i] = ..."""
        if name in self.versions:
            return Name(self._key(name, self.versions[name]), 0)
        if implicit and name.endswith(".grad"):   # micrograd's grads start at zero
            return Call("zeros_like", (Name(name[:-5], 0),), 0)
        if name in self.reserved and not name.endswith(".grad"):
            return Name(name, 0)
        raise self.error(node, f"{name} is changed before it is assigned: write {name} = ... "
                               "first")

    def _version(self, name: str, expr: Expr, statement) -> Assignment:
        count = self.versions.get(name, 0) + 1
        self.versions[name] = count
        line = self.line0 + statement.lineno - 1
        plain = isinstance(statement, ast.Assign) and not isinstance(statement.targets[0],
                                                                     ast.Subscript)
        text = source(self.lines, statement.value if plain else statement)
        at = self.column0 + Columns(self.lines[statement.lineno - 1]).of(1, statement.col_offset)
        assignment = Assignment(name, self._key(name, count), expr, text, line, self.column0,
                                at=at, statement=source(self.lines, statement))
        self.block.assignments.append(assignment)
        return assignment

    @staticmethod
    def _key(name: str, version: int) -> str:
        return f"{name}#{version}"

    def _expression(self, node, subscripted: Expr | None = None) -> Expr:
        """One expression of a statement, through the converter, the block's names settled:
        versions, loop counters, sizes (x.shape[k], len(x)), x.grad."""
        first, last = node.lineno, getattr(node, "end_lineno", None) or node.lineno
        settled = Settle(self).visit(copy.deepcopy(node))   # a loop's body is read again
        ast.increment_lineno(settled, 1 - first)    # lines counted from the statement's
        text = "\n".join(self.lines[first - 1:last])
        try:
            tree = convert(settled, text)
        except CaseError as exc:
            raise self._located(exc, first) from None
        except RecursionError:
            raise self.error(node, "the statement is nested too deep") from None
        return tree

    def shape(self, name_node, attribute: str) -> tuple[int, ...]:
        name = name_node.id if isinstance(name_node, ast.Name) else None
        found = None
        if name is not None:
            key = self._key(name, self.versions[name]) if name in self.versions else name
            found = self.shape_of(key)
        if found is None:
            raise self.error(name_node, f".{attribute} of {source(self.lines, name_node)}: "
                             "a size is taken of a name whose shape is known (an input or a "
                             "name assigned above)")
        return found

    def _finish(self) -> None:
        """The last version of each name takes the name (or keeps its key if reserved)."""
        if self.left:
            self.block.notes.append(
                f"{len(self.left)} statement{'s' * (len(self.left) > 1)} of the block at "
                f"line{'s' * (len(self.left) > 1)} {_spans(self.left)} left out: they assign "
                "nothing the check uses (cmp(), print(), autograd's bookkeeping such as "
                "loss.backward(), which the check does itself)")
        last = {name: self._key(name, n) for name, n in self.versions.items()}
        renamed = {key: name for name, key in last.items() if name not in self.reserved}
        self.block.renamed = renamed
        rename = _Rename(renamed)
        for a in self.block.assignments:
            a.final = last[a.name] == a.key
            a.expr = rename(a.expr)
            a.key = renamed.get(a.key, a.key)


class _Rename(Rebuild):
    def __init__(self, renamed: dict[str, str]):
        self.renamed = renamed

    def visit_Name(self, node: Expr) -> Expr:
        if isinstance(node, Name) and node.id in self.renamed:
            return Name(self.renamed[node.id], node.col)
        return node


def _spans(lines: list[int]) -> str:
    """1, 3, 5-9: lines as ranges."""
    spans: list[list[int]] = []
    for n in lines:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


_ALLOWED = ("; a block holds assignments (x = ..., x += ..., x[i] = ...), for loops over "
            "range(n), and comments")
_STATEMENT = {
    "If": "if is not allowed (a case has one path)",
    "While": "while is not allowed (a loop runs over range(n), known when the case is read)",
    "Import": "import is not allowed (torch, F and np are known)",
    "ImportFrom": "import is not allowed (torch, F and np are known)",
    "FunctionDef": "def is not allowed", "AsyncFunctionDef": "def is not allowed",
    "ClassDef": "class is not allowed", "Return": "return is not allowed",
    "Delete": "del is not allowed", "With": "with is not allowed",
    "Try": "try is not allowed", "Raise": "raise is not allowed",
    "Global": "global is not allowed", "Nonlocal": "nonlocal is not allowed",
    "AnnAssign": "annotated assignments are not allowed", "Assert": "assert is not allowed",
}

__all__ = ["Assignment", "Block", "Reader"]
