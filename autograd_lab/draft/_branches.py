"""Statements that branch, read where the draft can say what runs: a script's `if __name__ ==
"__main__":` body runs (in a notebook too), so it is straight-line code; an `if` whose test
compares a .grad with a formula is read as that comparison (as an assert is), its body left
out (what it runs depends on the answer)."""
from __future__ import annotations

import ast

from ._adjoints import grad_compared
from ._assigning import Assignments
from ._held import Unsupported
from ._syntax import prints


class Branches(Assignments):
    """if statements: the main guard's body followed, a test comparing a .grad compared."""

    def statement(self, statement: ast.stmt, shown: bool) -> None:
        raise NotImplementedError   # the walk's: each statement sent to the part that reads it

    def s_If(self, statement: ast.If, shown):
        if main_guard(statement.test):
            for inner in statement.body:
                self.statement(inner, False)
            return
        if prints(statement):
            self.unreadable = "it prints inside an if statement"
        if grad_compared(_all(statement.test)) is None or not self._compared(statement.test):
            raise Unsupported("a if statement: the draft follows straight-line code", statement)
        raise Unsupported("what the if runs: the draft reads its test as the comparison, and "
                          "follows straight-line code", statement)

    def _compared(self, test: ast.expr) -> bool:
        """The test read as `assert test` is (a total compared), and whether it was."""
        def made() -> int:   # a total of a backward, or an entry compared (as cmp() does)
            return sum(len(i.totals) for i in self.record.instances) + len(self.record.compared)
        before = made()
        self._total(_all(test), self.where(test))(None)
        return made() > before


def main_guard(test: ast.expr) -> bool:
    """__name__ == "__main__", either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


def _all(test: ast.expr) -> ast.expr:
    """The comparison inside torch.all(...) and (...).all(): every element equal."""
    if isinstance(test, ast.Call) and not test.keywords:
        func = test.func
        if isinstance(func, ast.Attribute) and func.attr == "all":
            if not test.args:
                return func.value
            if len(test.args) == 1 and isinstance(func.value, ast.Name) \
                    and func.value.id == "torch":
                return test.args[0]
    return test
