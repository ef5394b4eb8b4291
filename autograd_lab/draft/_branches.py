"""Statements that run other statements, read where the draft can say what runs: a script's
`if __name__ == "__main__":` body runs (in a notebook too), so it is straight-line code; an
`if` whose test compares a .grad with a formula is read as that comparison (as an assert is),
its body left out (what it runs depends on the answer); a call of the tutorial's own function
that returns nothing (`main()`, `manualprop()`) runs its body there, read as statements (a
few calls deep, never one already running). And a notebook's cells that show a formula just
after a cell showing `W.grad` (`W.grad`, then `X.t() @ (2/N * (out - Y))`) compare it with
W.grad, as `print(9*a**2 == a.grad)` does, when it has W's shape."""
from __future__ import annotations

import ast
import copy

from ._adjoints import comparer, grad_compared
from ._assigning import Assignments
from ._held import Func, Leaf, Node, Unsupported, one
from ._syntax import prints, stored
from ._tensorforms import kind

MAX_DEPTH = 3     # main() calling train() calling step(): deeper calls are left out


class Branches(Assignments):
    """if statements: the main guard's body followed, a test comparing a .grad compared; the
    body of a function returning nothing followed where it is called."""

    running: tuple[str, ...] = ()   # the functions whose bodies are being read, outermost first
    shown_grad: tuple[str, int] = ("", 0)   # a cell showing W.grad alone: (W, the cell's index)

    def s_Expr(self, statement: ast.Expr, shown):
        leaf, index = self.shown_grad
        self.shown_grad = ("", 0)
        here = self.cell_now.index
        alone = shown and _alone(self.cell_now.code)
        value = statement.value
        if alone and leaf and index == here - 1 and _formula(value):
            self.shown_grad = (leaf, here)   # the next cell may show W.grad's other form
            return self.shown_formula(leaf, value, statement)
        super().s_Expr(statement, shown)
        if alone and isinstance(value, ast.Attribute) and value.attr == "grad" \
                and isinstance(value.value, ast.Name):
            self.shown_grad = (value.value.id, here)

    def shown_formula(self, leaf: str, value: ast.expr, statement: ast.Expr) -> None:
        """(2/N * (out-Y)).sum() shown after b.grad: compared with it, at b's shape."""
        held = self.env.get(leaf)
        if not isinstance(held, Leaf):
            raise Unsupported(f"{leaf} is not a tensor the draft follows", statement)
        shape = tuple(kind(self.translator.expression(value)).shape)
        if shape != tuple(held.shape):
            raise Unsupported(f"a formula shown after {leaf}.grad, of shape {shape}, not "
                              f"{leaf}'s {tuple(held.shape)}: not compared with it", statement)
        grad = ast.Attribute(ast.Name(leaf, ast.Load()), "grad", ast.Load())
        compared = ast.copy_location(ast.Compare(value, [ast.Eq()], [grad]), value)
        self.display(compared)

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

    def backward(self, owner: ast.expr, call: ast.Call) -> None:
        """y.sum().backward(): the expression named in the case (y_sum), then backward() of
        it, as `y_sum = y.sum(); y_sum.backward()` would be."""
        if isinstance(owner, ast.Name) or not isinstance(owner, (ast.Call, ast.BinOp)) \
                or call.args or call.keywords:   # backward(retain_graph=True): left out
            return super().backward(owner, call)
        name = self._unused("_".join(_words(owner)) or "output")
        statement = ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], owner), call)
        self.compute(name, owner, statement)
        where = self.where(call)
        self.note(where.cell, where.line, f"{one(owner)}: backward() of an unnamed expression, "
                  f"named {name} in the case")
        super().backward(ast.copy_location(ast.Name(name, ast.Load()), owner), call)

    def _unused(self, name: str) -> str:
        taken = set(self.env) | set(self.sizes)
        out, n = name, 1
        while out in taken:
            n += 1
            out = f"{name}{n}"
        return out

    def call(self, call: ast.Call, shown: bool) -> None:
        func = self.env.get(call.func.id) if isinstance(call.func, ast.Name) else None
        if not (isinstance(func, Func) and not comparer(func)
                and func.name not in self.record.functions and _returns_nothing(func)):
            return super().call(call, shown)
        why = self.why_not_run(func, call)
        if why:
            if func.prints:
                self.unreadable = f"{func.name}() prints"
            raise Unsupported(f"{func.name}() is not followed: {why}", call)
        self.run_body(func, call)

    def why_not_run(self, func: Func, call: ast.Call) -> str:
        """Why the body of func cannot be read at this call ("" when it can)."""
        if func.name in self.running:
            return "it is already running (a call of itself)"
        if len(self.running) >= MAX_DEPTH:
            return f"the draft follows calls {MAX_DEPTH} deep"
        if func.where.cell != self.cell_now.label:
            return "its body is in another cell"
        if call.keywords or len(call.args) != len(func.params) or not all(
                isinstance(a, ast.Name) for a in call.args):
            return "its arguments are not names, one a parameter"
        for inner in func.body:
            for node in ast.walk(inner):
                if isinstance(node, (ast.Global, ast.Nonlocal, ast.FunctionDef, ast.ClassDef,
                                     ast.Lambda, ast.AsyncFunctionDef)):
                    return f"its body holds a {type(node).__name__.lower()}"
        written = set().union(*map(stored, func.body))
        if written & set(func.params):
            return "it assigns to a parameter"
        locals_ = written - set(func.params)
        taken = sorted(n for n in locals_ if isinstance(self.env.get(n), (Leaf, Node)))
        if taken:
            return (f"its {', '.join(taken)} would hide the tensor{'s' * (len(taken) > 1)} "
                    "of that name outside it")
        return ""

    def run_body(self, func: Func, call: ast.Call) -> None:
        """The body as statements, its parameters the call's names; its own names gone after."""
        names = {p: a.id for p, a in zip(func.params, call.args) if isinstance(a, ast.Name)}
        self.running = (*self.running, func.name)
        try:
            for inner in func.body:
                self.statement(_named(inner, names), False)
        finally:
            self.running = self.running[:-1]
        for name in set().union(*map(stored, func.body)) - set(func.params):
            self.env.pop(name, None)   # a local: not the notebook's name after the call


def _named(statement: ast.stmt, names: dict[str, str]) -> ast.stmt:
    """statement with each parameter replaced by the name the call gave it, all at once."""
    class Put(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.copy_location(ast.Name(names[node.id], node.ctx), node) \
                if node.id in names else node
    return Put().visit(copy.deepcopy(statement)) if names else statement


def _words(node: ast.expr) -> list[str]:
    """y, sum of y.sum(): the names and methods an expression is made of, in order (a few)."""
    out = [n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node)
           if isinstance(n, (ast.Name, ast.Attribute))]
    return [w for w in out if w.isidentifier() and w not in ("torch", "F")][:3][::-1]


def _alone(code: str) -> bool:
    """A cell of one statement."""
    try:
        return len(ast.parse(code).body) == 1
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _formula(value: ast.expr) -> bool:
    """An operation, or methods called on one: (2/N * (out-Y)).t().sum(), X.t() @ d."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        value = value.func.value
    return isinstance(value, (ast.BinOp, ast.UnaryOp))


def _returns_nothing(func: Func) -> bool:
    """A function run for what it does: no return of a value, no yield."""
    return not any(isinstance(n, (ast.Yield, ast.YieldFrom)) or (isinstance(n, ast.Return)
                   and n.value is not None) for inner in func.body for n in ast.walk(inner))


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
