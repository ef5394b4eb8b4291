"""The notebook walked cell by cell, statement by statement, as it ran, without running it.

The walk keeps what each name holds (a tensor from a literal, an expression of others, a
helper function), and records what a case needs: the cells replayed as behaviour steps, each
backward() with the graph it ran over, each printed value and gradient with the state it was
printed in, and the hand-written derivatives. What it cannot follow becomes a Note."""
from __future__ import annotations

import ast
import textwrap

from ..case import over_range
from ._assigning import MAX_UNROLL
from ._branches import Branches
from ._held import Dim, Func, Leaf, Names, Node, Unsupported, Where
from ._layers import rewritten
from ._notebook import Cell, Notebook
from ._records import DerivativeFunction, Record, Step
from ._shapes import sizes_said
from ._standins import Hint, bound_of, followed, tails
from ._state import Read
from ._syntax import (
    changes_grads,
    listed_count,
    parsed,
    prints,
    rebound,
    scatter,
    stored,
    substituted,
)
from ._text import one_line
from ._translate import KNOWN_MODULES, derivative

MAX_HINTED = 8          # stand-ins whose shape is sought by walking again (each a few walks)
UNPARSED = "left out: the cell is not valid Python"


def walk(notebook: Notebook, said: dict | None = None, read: Read | None = None) -> Record:
    """The notebook walked; again with hints while it has stand-ins whose shape or bound a
    walk learned (see _standins): each candidate kept only where the draft follows more; and
    again with the sizes its printed shapes say (see _shapes). What every walk reads from the
    cells before it starts is read once (Read)."""
    read = read or Read.of(notebook)
    best = _Walk(notebook, said=said, read=read).run()
    hints: dict[str, Hint] = {}
    for name in list(dict.fromkeys(best.stand_ins))[:MAX_HINTED]:
        bound = bound_of(name, best.uses, best)
        for tail in tails(best):
            trial = _Walk(notebook, {**hints, name: Hint(tail, bound)}, said, read).run()
            if followed(trial) > followed(best) or (bound and not tail and trial.adjoints
                                                    and followed(trial) == followed(best)):
                best = trial
                hints[name] = Hint(tail, bound)
        if name in hints and not hints[name].bound:   # the bound, as the better walk found
            again = Hint(hints[name].tail, bound_of(name, best.uses, best))
            if again.bound:
                hints[name] = again
                best = _Walk(notebook, hints, said, read).run()
    if best.said_sizes and said is None:
        return walk(notebook, best.said_sizes, read)
    return best


class _Walk(Branches):
    """The walk over the cells: each statement sent to the part that reads it."""

    def run(self) -> Record:
        for cell in self.record.notebook.cells:
            try:
                self.cell(cell)
            except Exception as exc:  # a bug of ours: the cell is left out, the rest go on
                self.note(cell.label, None, f"left out: the draft failed on this cell "
                          f"({type(exc).__name__}); please report it", internal=True)
        self.close()
        self.record.notes.sort(key=lambda n: self._order(n))
        return self.record

    def cell(self, cell: Cell) -> None:
        if not cell.code.strip():
            return
        self.lines = cell.code.split("\n")
        self.cell_now = cell
        tree = parsed(cell.code)
        if isinstance(tree, SyntaxError):
            self.note(cell.label, tree.lineno, f"{UNPARSED} ({one_line(tree.msg, 80)})")
            return
        if not isinstance(tree, ast.Module):
            self.note(cell.label, None, "left out: the cell is nested too deep to parse")
            return
        tree = rewritten(tree, self.layers)   # layer(x): x @ layer_weight.T + layer_bias
        self.compared = []   # this cell's cmp() lines, for its output
        self.shows = []
        self.cell_steps = []
        self.unreadable = ""                  # why the cell's output cannot be matched
        said = sizes_said(cell, tree, self.translator, self.env)   # logits.shape printed
        if said is not None:
            self.record.said_sizes.update(said)
            return
        for i, statement in enumerate(tree.body):
            shown = i == len(tree.body) - 1 and not self._silenced(statement)
            self.statement(statement, shown)
        self.outputs(cell)

    def _silenced(self, statement: ast.stmt) -> bool:
        """A trailing ; keeps Jupyter from showing the last expression."""
        line = self.lines[(statement.end_lineno or statement.lineno) - 1].encode()
        rest = line[statement.end_col_offset:].decode(errors="ignore")
        return rest.split("#")[0].strip().startswith(";")

    def statement(self, statement: ast.stmt, shown: bool) -> None:
        handler = getattr(self, "s_" + type(statement).__name__, None)
        try:
            if handler is None:
                if prints(statement):
                    self.unreadable = f"it prints inside a {type(statement).__name__.lower()}"
                raise Unsupported(f"a {type(statement).__name__.lower()} statement: the draft "
                                  "follows straight-line code", statement)
            handler(statement, shown)
        except RecursionError:
            self.left_out(statement, "nested too deep to follow")
            self.lost(statement)
        except Unsupported as exc:
            line = getattr(exc.node, "lineno", None)
            inside = line is not None and statement.lineno <= line <= statement.end_lineno
            self.left_out(statement, exc.message, line if inside else None)
            self.lost(statement)

    def lost(self, statement: ast.stmt) -> None:
        """What a statement left out may have changed is no longer known: the gradients shown
        after it, the generators it may have drawn from, the backward entries it writes to."""
        where = self.where(statement)
        changed = self._changed_through(statement)
        if changes_grads(statement) or changed:
            self.segment.lost = where
        self.draws.lose(statement, where)
        mentioned = self._tensors_named(statement)
        anew = rebound(statement)
        for name in stored(statement):   # what it assigned to is no longer known
            if mentioned - {name}:
                self.holds[name] = mentioned - {name}
            if name in anew:   # a new value (a training loop's dlogits = ...): the entry
                self.adjoints.pop(name, None)   # written before stands as it was checked
            elif name in self.adjoints:
                self.adjoints[name].left_out = where
            if isinstance(self.env.get(name), (Leaf, Node, Dim, Names)):
                self.env.pop(name)
        for name in changed:   # a tensor a call may have changed: its value is not known
            if isinstance(self.env.get(name), (Leaf, Node)):
                self.env.pop(name)
                self.changed[name] = where

    def _tensors_named(self, statement: ast.stmt) -> set[str]:
        """The tensors a statement reads, through lists of them and what holds them."""
        out: set[str] = set()
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                held = self.env.get(node.id)
                if isinstance(held, (Leaf, Node)):
                    out.add(node.id)
                elif isinstance(held, Names):
                    out |= set(held.names)
                out |= self.holds.get(node.id, set())
        return out

    def _changed_through(self, statement: ast.stmt) -> set[str]:
        """The tensors a left-out statement's calls may change: any method of what holds them
        (opt.step()), a function of the notebook that changes its arguments or names."""
        out: set[str] = set()
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                out |= self.holds.get(func.value.id, set())
            if isinstance(func, ast.Name) and func.id in self.changers:
                places, names = self.changers[func.id]
                out |= names
                for i, arg in enumerate(node.args):
                    if i in places and isinstance(arg, ast.Name):
                        out |= self._tensors_named(ast.Expr(arg)) | {arg.id}
        return out

    def s_Pass(self, statement, shown):
        pass

    def s_Import(self, statement, shown):
        for alias in statement.names:
            if alias.asname:
                self.modules[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.modules[top] = top
        unknown = [a.name for a in statement.names if not _known(a.name)]
        if unknown:   # one note for the statement, however many it imports
            self._known_module(unknown[0], statement)

    def s_ImportFrom(self, statement, shown):
        module = statement.module or ""
        for alias in statement.names:
            if alias.name == "*":
                raise Unsupported(f"from {module} import *", statement)
            self.modules[alias.asname or alias.name] = f"{module}.{alias.name}"
        self._known_module(module, statement)

    def _known_module(self, module: str, statement) -> None:
        if not _known(module):
            self.left_out(statement, "a module the draft does not read (nothing of it is used)")

    def s_FunctionDef(self, statement, shown):
        where = self.where(statement)
        func = Func(statement.name, [a.arg for a in statement.args.posonlyargs +
                                     statement.args.args], [], where,
                    prints=prints(statement))
        args = statement.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.kw_defaults:
            func.problem = "it has default, * or ** arguments"
        elif statement.decorator_list:
            func.problem = "it is decorated"
        body = list(statement.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # its docstring
        for i, line in enumerate(body):
            last = i == len(body) - 1
            ok = (isinstance(line, ast.Return) and line.value is not None) if last else (
                isinstance(line, ast.Assign) and len(line.targets) == 1
                and isinstance(line.targets[0], ast.Name))
            if not ok and not func.problem:
                func.problem = (f"line {line.lineno}: only assignments and one return are "
                                "followed")
        func.body = body
        plain = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)
                 and isinstance(n.ctx, ast.Store)}
        declared = {n for g in ast.walk(statement) if isinstance(g, ast.Global) for n in g.names}
        into = set().union(*(stored(line) for line in statement.body)) - (plain - declared)
        if into:   # it changes tensors in place: a call of it is left out, and what it changes
            self.changers[func.name] = ({i for i, p in enumerate(func.params) if p in into},
                                        into - set(func.params))
        else:
            self.changers.pop(func.name, None)
        if not body and not func.problem:
            func.problem = "it has no body to inline"
        self.env[func.name] = func
        self.record.functions.pop(func.name, None)
        named = derivative(func.name, lambda n: True)
        if named and named[0] == "partial" and len(func.params) >= 1 and not func.problem:
            self.record.functions[func.name] = DerivativeFunction(func, named[1], named[2])

    def s_For(self, statement, shown):
        """A loop over a list of names (`for p in parameters: p.requires_grad = True`) is
        unrolled: its body follows once for each name; so is a loop over range() that writes
        into an entry of a hand-written backward pass (unroll). Any other loop is left out."""
        over = listed_count(statement.iter) or (
            self.long_lists.get(statement.iter.id, 0) if isinstance(statement.iter, ast.Name)
            else 0)
        if over > MAX_UNROLL:   # a list of names, but too long to follow: the bound, named
            raise Unsupported(f"a for statement over {over:,} names: the draft unrolls a loop "
                              f"over at most {MAX_UNROLL:,}", statement)
        scattered = scatter(statement)
        total = scattered.target.id if scattered and isinstance(scattered.target, ast.Name) \
            else ""
        if scattered is not None and total in self.adjoints:
            scattered = scatter(statement, self.adjoints[total].of)   # dC_ is C's, claimed
            assert scattered is not None
            self.s_AugAssign(scattered, shown)
            self._written_by_loop(statement, {total})
            return None
        if over_range(statement.iter) and stored(statement) & set(self.adjoints) \
                and not prints(statement):   # what a loop prints is not matched step by step
            return self.unroll(statement)
        names = self._names_of(statement.iter)
        if names is None or statement.orelse or not isinstance(statement.target, ast.Name):
            if prints(statement):
                self.unreadable = "it prints inside a for statement"
            raise Unsupported("a for statement: the draft follows straight-line code",
                              statement)
        for name in names:
            for inner in statement.body:
                self.statement(substituted(inner, statement.target.id, name), False)

    def unroll(self, loop: ast.For) -> None:
        """for k in range(...) writing into an entry of a hand-written backward pass: its steps
        one after the other, counted and bounded by the reader a case's blocks are read by, at
        the sizes the walk knows (the notebook's, or the stand-ins'). A step the draft cannot
        follow leaves the whole loop out, as if it had not begun."""
        if self.reading.depth == 0:
            self.reading.count = 0
        at = self.checkpoint()
        try:   # the counter may reuse a name of the notebook: in each step it is a number
            for _ in self.reading.unrolled(loop, lambda name: False):
                for inner in loop.body:
                    self.reading.run(inner)
                    self.strict(self.reading.numbered(inner))
        except Exception:   # Unsupported, too deep, or a bug of ours: none of it stays
            self.rewind(at)
            raise
        assert isinstance(loop.target, ast.Name)   # unrolled() said so
        self.env.pop(loop.target.id, None)   # the counter holds its last value: not followed
        self._written_by_loop(loop, stored(loop) & set(self.adjoints))

    def strict(self, statement: ast.stmt) -> None:
        """A statement of a loop's step: what the draft cannot follow stops the loop."""
        handler = getattr(self, "s_" + type(statement).__name__, None)
        if handler is None:
            raise Unsupported(f"a {type(statement).__name__.lower()} statement inside a loop: "
                              "the draft follows assignments there", statement)
        handler(statement, False)

    def _written_by_loop(self, loop: ast.For, names: set[str]) -> None:
        """The statement of the entries a loop wrote is the whole loop, once: a backward block
        writes it so (its steps are the loop's, not lines of their own)."""
        text = textwrap.dedent("\n".join(
            self.lines[loop.lineno - 1:loop.end_lineno])).strip("\n")
        at = self.where(loop)
        inside = range(loop.lineno, (loop.end_lineno or loop.lineno) + 1)
        for name in names:
            wheres = self.adjoints[name].wheres
            before = [w for w in wheres if w.cell != at.cell or w.line not in inside]
            # at the line that writes the entry (where the notebook's derivative is counted)
            wheres[:] = before + [Where(at.cell, wheres[-1].line, text, at.order)]

    def s_With(self, statement, shown):
        items = statement.items
        if len(items) != 1 or items[0].optional_vars is not None or not isinstance(
                items[0].context_expr, ast.Call) or self.translator.dotted(
                items[0].context_expr.func) != "torch.no_grad":
            if prints(statement):
                self.unreadable = "it prints inside a with block"
            raise Unsupported("a with block other than torch.no_grad()", statement)
        step = self.step(Step("no_grad", self.where(statement)))
        self.targets.append(step.inner)
        self.no_grad += 1
        try:
            for inner in statement.body:
                self.statement(inner, False)
        finally:
            self.no_grad -= 1
            self.targets.pop()


def _known(module: str) -> bool:
    return module in KNOWN_MODULES or module.split(".")[0] == "torch"
