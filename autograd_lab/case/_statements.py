"""The statements a tutorial writes, read one at a time by the same allow-list wherever they
come from: a case's `forward: |` and `backward: |` blocks (_block.Reader) and a notebook's
cells (the drafter, autograd_lab.draft). An assignment is read into what it writes (Written:
a name, an element of one, an attribute, names unpacked; `=` or `+=` `-=` `*=` `/=`); a loop
over range() is unrolled within the bounds on its depth and the statements run, its counter a
number in each step. Each reader gives its own kind of error and its own way to know a loop's
bound; what the values are is the reader's (the case language's tree, the drafter's
translation): nothing here reaches `eval` or `exec`."""
from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

MAX_STATEMENTS = 10_000     # statements a block may run once its loops are unrolled
MAX_LOOP_DEPTH = 8          # loops inside each other
AUGMENTED = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass
class Written:
    """One assignment as the statement allow-list reads it, in a block or a notebook's cell:
    `x = v` (target "name"), `x[...] = v` (an "item": index is the subscript), `x.a = v` (an
    "attribute" of the name), `a, b = v` ("unpack"), anything else ("other"); `op` is "+" for
    `+=` (and "-", "*", "/"), "" for `=`; `to` is the target as written."""

    statement: ast.stmt
    target: str
    name: str
    value: ast.expr
    to: ast.expr
    op: str = ""
    index: ast.Subscript | None = None
    attribute: str = ""

    @property
    def none(self) -> bool:
        """x.grad = None and the like: a value of None."""
        return isinstance(self.value, ast.Constant) and self.value.value is None


Error = Callable[[ast.AST, str], Exception]
Tree = TypeVar("Tree", bound=ast.AST)


class Statements:
    """The statements both readers share, read one at a time: a case's blocks (_block.Reader)
    and a notebook's cells (the drafter). `error(node, message)` makes the reader's own kind
    of error (a located CaseError; the drafter's Unsupported); `integer(node)` gives a loop
    bound's number, as the reader resolves names. Loops over range() are unrolled here, the
    counters' values in `loops`, within the bounds on depth and statements run."""

    def __init__(self, error: Error, integer: Callable[[ast.expr], int]):
        self.error, self.integer = error, integer
        self.loops: dict[str, int] = {}   # a counter (or a size unpacked) -> its value now
        self.count = 0
        self.depth = 0

    def written(self, statement: ast.Assign | ast.AugAssign) -> Written:
        """The assignment a statement makes, as its target is written."""
        if isinstance(statement, ast.Assign):
            if len(statement.targets) != 1:
                raise self.error(statement, "assign one name a statement (not a = b = ...)")
            target, op = statement.targets[0], ""
        else:
            target = statement.target
            op = AUGMENTED.get(type(statement.op), "")
            if not op:
                raise self.error(statement, f"the operator {_symbol(statement.op)}= is not "
                                            "allowed; use += -= *= /=")
        value = statement.value
        if isinstance(target, (ast.Tuple, ast.List)) and not op:
            return Written(statement, "unpack", "", value, target)
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return Written(statement, "item", self._assigned(target.value), value, target, op,
                           index=target)
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            return Written(statement, "attribute", target.value.id, value, target, op,
                           attribute=target.attr)
        if isinstance(target, ast.Name):
            return Written(statement, "name", self._assigned(target), value, target, op)
        return Written(statement, "other", "", value, target, op)   # each reader refuses it

    def _assigned(self, target: ast.Name) -> str:
        if target.id in self.loops:
            raise self.error(target, f"{target.id} is the loop's counter; assign another name")
        return target.id

    def run(self, statement: ast.stmt) -> None:
        """One more statement run (a loop's body counts once a step)."""
        self.count += 1
        if self.count > MAX_STATEMENTS:
            raise self.error(statement, f"the block runs more than {MAX_STATEMENTS:,} "
                                        "statements (loops unrolled); check a smaller part, or "
                                        "fewer loop steps")

    def enter(self, loop: ast.For) -> None:
        """A loop of the allowed shape at the allowed depth (said before its body is read)."""
        if self.depth >= MAX_LOOP_DEPTH:
            raise self.error(loop, f"loops are nested more than {MAX_LOOP_DEPTH} deep")
        if loop.orelse:
            raise self.error(loop, "a for loop takes no else:")

    def unrolled(self, loop: ast.For, assigned: Callable[[str], bool]) -> Iterator[int]:
        """The steps of `for i in range(...)`, the counter's value set in `loops` for each
        (read its body once a step); `assigned(name)`: whether the reader holds the name."""
        self.enter(loop)
        if not isinstance(loop.target, ast.Name):
            raise self.error(loop.target, "a loop counts with one name: for i in range(n)")
        counter = loop.target.id
        if assigned(counter):
            raise self.error(loop.target, f"the loop's counter {counter} is a name the block "
                                          "assigns; count with another name")
        steps = self._range(loop.iter)
        assignments = sum(isinstance(s, (ast.Assign, ast.AugAssign)) for s in ast.walk(loop))
        if len(steps) * max(assignments, 1) + self.count > MAX_STATEMENTS:
            raise self.error(loop, f"the loop runs {len(steps):,} times, more than the "
                                   f"{MAX_STATEMENTS:,} statements a block may run once its "
                                   "loops are unrolled")
        outer = self.loops.get(counter)
        self.depth += 1
        try:
            for step in steps:
                self.loops[counter] = step
                yield step
        finally:
            self.depth -= 1
            if outer is None:
                self.loops.pop(counter, None)
            else:
                self.loops[counter] = outer

    def _range(self, node) -> range:
        if not over_range(node):
            raise self.error(node, "a loop runs over range(n) (or range(a, b), "
                                   "range(a, b, step)), whose bounds are known when the case "
                                   "is read")
        bounds = [self.integer(a) for a in node.args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise self.error(node, "range()'s step must not be zero")
        return range(*bounds)

    def numbered(self, node: Tree) -> Tree:
        """A copy of node with the loops' counters written as their numbers now."""
        numbered = _Counters(self.loops).visit(copy.deepcopy(node))
        assert isinstance(numbered, type(node))    # a name becomes a number: the kind stays
        return numbered


def over_range(node) -> bool:
    """Whether node is range(...) with one to three arguments, as a loop of a block runs."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "range" and 1 <= len(node.args) <= 3 and not node.keywords)


class _Counters(ast.NodeTransformer):
    def __init__(self, loops: dict[str, int]):
        self.loops = loops

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.loops and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(self.loops[node.id]), node)
        return node


def _symbol(op) -> str:
    return {v: k for k, v in {"//": ast.FloorDiv, "%": ast.Mod, "**": ast.Pow,
                                 "@": ast.MatMult, "&": ast.BitAnd, "|": ast.BitOr,
                                 "^": ast.BitXor, "<<": ast.LShift,
                                 ">>": ast.RShift}.items()}.get(type(op), "?")


__all__ = ["MAX_LOOP_DEPTH", "MAX_STATEMENTS", "Statements", "Written", "over_range"]
