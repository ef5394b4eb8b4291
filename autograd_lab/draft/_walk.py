"""The notebook walked cell by cell, statement by statement, as it ran, without running it.

The walk keeps what each name holds (a tensor from a literal, an expression of others, a
helper function), and records what a case needs: the cells replayed as behaviour steps, each
backward() with the graph it ran over, each printed value and gradient with the state it was
printed in, and the hand-written derivatives. What it cannot follow becomes a Note."""
from __future__ import annotations

import ast
import copy
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from . import _outputs
from ._adjoints import compared, comparer, grad_compared, one_hot_put, rows, zeros_like
from ._claims import claimed
from ._draws import Draws
from ._held import Dim, Drawn, Func, Leaf, Listed, Names, Node, Translated, Unsupported, Where, one
from ._layers import is_linear, linear_layers, parameters, rewritten
from ._notebook import Cell, Note, Notebook
from ._shapes import sizes_said
from ._sizes import counted, dim, largest_listed, size_names, stand_in
from ._standins import Hint, bound_of, followed, index_uses, tails
from ._tensorforms import kind
from ._text import one_line
from ._translate import (
    KNOWN_MODULES,
    Made,
    Translator,
    checked_text,
    constructor,
    derivative,
    listed,
)

MAX_UNROLL = 1_000      # names a loop is unrolled over
MAX_HINTED = 8          # stand-ins whose shape is sought by walking again (each a few walks)
STATE_ACTIONS = ("backward", "zero_grad", "detach", "requires_grad", "retain_grad", "no_grad")
LOOKS = ("grad", "requires_grad", "is_leaf", "grad_fn")
UNPARSED = "left out: the cell is not valid Python"


@dataclass
class Expect:
    key: str                  # as the behaviour case writes it: "y", "grad/x", "raises"
    value: object             # digits as printed (str or nested lists), a bool, None, a text
    where: Where
    shown: str                # what the notebook printed


@dataclass
class Step:
    action: str               # compute, backward, zero_grad, detach, requires_grad,
    where: Where              # retain_grad, no_grad, or look (a cell that only shows)
    args: tuple = ()
    expect: list[Expect] = field(default_factory=list)
    inner: list[Step] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)    # placed before the step
    again: bool = False       # a computation from an earlier cell, repeated for this case


@dataclass
class Segment:
    """The cells from one making of a tensor to the next making of one of the same name."""

    inputs: dict = field(default_factory=dict)         # name -> Leaf
    steps: list[Step] = field(default_factory=list)
    current: dict = field(default_factory=dict)        # name -> what the case's name holds now
    notes: list[Note] = field(default_factory=list)    # after the last step
    lost: Where | None = None  # where a backward(), zero_() or requires_grad was left out
    # leaves carried in from an earlier segment with a .grad this case's fresh inputs lack:
    # id(origin) -> the name's sentence of why
    stale: dict = field(default_factory=dict)

    def checkable(self) -> bool:
        return any(_checkable(s) for s in self.steps)


def _checkable(step: Step) -> bool:
    return bool(step.expect) or step.action in STATE_ACTIONS or any(map(_checkable, step.inner))


@dataclass(eq=False)
class Instance:
    """One backward() over a graph: its output, and the gradients printed after it."""

    output: Node
    where: Where
    grads: list[Observation] = field(default_factory=list)
    pseudo: bool = False      # no backward(): the graph a hand-written derivative names
    upstream: Translated | None = None   # backward(gradient=...)
    totals: list[Compared] = field(default_factory=list)   # `9*a**2 == a.grad` printed


@dataclass
class Compared:
    """A line comparing a hand-written gradient with autograd's: `9*a**2 == a.grad` (a total
    derivative of the output by a), or cmp('logprobs', dlogprobs, logprobs) (a backward entry,
    compared as the case's backward check compares it)."""

    target: str               # the name whose .grad it is compared with
    where: Where
    hand: Translated | None = None     # `9*a**2 == a.grad`: the hand-written side
    adjoint: str = ""                  # cmp(...): the d-name compared
    held: object = None                # what the d-name held when compared
    shown: str = ""                    # what the notebook printed for it


@dataclass
class AdjointVariable:
    """dlogits = ..., an entry of a hand-written backward pass (d<name>: the gradient of the
    output by name); a `+=` after it adds to the same entry, which is then the total."""

    node: Node
    of: str
    env: dict                 # what every name held when it was (last) written
    wheres: list[Where]       # its assignment and each += after it
    left_out: Where | None = None   # a statement changing it was left out: not an entry


@dataclass
class Observation:
    kind: str                 # "value" (a node's) or "grad" (a parameter's)
    target: object            # the Leaf or Node printed
    written: object
    where: Where
    shown: str
    instance: Instance | None = None


@dataclass
class DerivativeVariable:
    node: Node                # dloss_dy_pred = ..., a hand-written derivative
    of: str
    wrt: str
    env: dict                 # what every name held when it was written


@dataclass
class Call:
    args: list                # the numbers it was called with
    written: object
    where: Where
    shown: str


@dataclass
class DerivativeFunction:
    func: Func                # def dz_dx(x): return 2*x*math.cos(x**2)
    of: str
    wrt: str
    calls: list[Call] = field(default_factory=list)


@dataclass
class Record:
    notebook: Notebook
    segments: list[Segment] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    values: list[Observation] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)    # every tensor node, in order
    variables: list[DerivativeVariable] = field(default_factory=list)
    functions: dict[str, DerivativeFunction] = field(default_factory=dict)
    adjoints: list[AdjointVariable] = field(default_factory=list)   # in the order written
    compared: list[Compared] = field(default_factory=list)          # cmp() lines
    notes: list[Note] = field(default_factory=list)
    modules: dict = field(default_factory=dict)        # at the end: for helpers' formulas
    env: dict = field(default_factory=dict)
    stand_ins: list[str] = field(default_factory=list)   # tensors drawn for data unknown
    uses: dict = field(default_factory=dict)   # name -> the (tensor, axis) it indexes
    # a stand-in size's name -> (the size a printed shape says, where): see _shapes
    said_sizes: dict = field(default_factory=dict)


class _Fill:
    """What to do with one value a cell showed; kind says what the value is of."""

    def __init__(self, kind: str, act: Callable[[_outputs.Shown | None], None]):
        self.kind, self.act = kind, act

    def __call__(self, shown: _outputs.Shown | None) -> None:
        self.act(shown)


@dataclass
class _Show:
    """What a statement shows: a print's shape (literal parts, None for each value) and, for
    each value, what to do with it."""

    parts: list
    fills: list
    where: Where
    display: bool = False     # the cell's last expression, shown by Jupyter (not a print)


def walk(notebook: Notebook, said: dict | None = None) -> Record:
    """The notebook walked; again with hints while it has stand-ins whose shape or bound a
    walk learned (see _standins): each candidate kept only where the draft follows more; and
    again with the sizes its printed shapes say (see _shapes)."""
    best = _Walk(notebook, said=said).run()
    hints: dict[str, Hint] = {}
    for name in list(dict.fromkeys(best.stand_ins))[:MAX_HINTED]:
        bound = bound_of(name, best.uses, best)
        for tail in tails(best):
            trial = _Walk(notebook, {**hints, name: Hint(tail, bound)}, said).run()
            if followed(trial) > followed(best) or (bound and not tail and trial.adjoints
                                                    and followed(trial) == followed(best)):
                best = trial
                hints[name] = Hint(tail, bound)
        if name in hints and not hints[name].bound:   # the bound, as the better walk found
            again = Hint(hints[name].tail, bound_of(name, best.uses, best))
            if again.bound:
                hints[name] = again
                best = _Walk(notebook, hints, said).run()
    if best.said_sizes and said is None:
        return walk(notebook, best.said_sizes)
    return best


class _Walk:
    def __init__(self, notebook: Notebook, hints: dict[str, Hint] | None = None,
                 said: dict | None = None):
        self.record = Record(notebook, notes=list(notebook.notes))
        self.hints = hints or {}
        self.said = said or {}   # stand-in size -> (the size a printed shape says, where)
        self.modules: dict[str, str] = self.record.modules
        self.env: dict = self.record.env
        self.long_lists: dict[str, int] = {}   # name -> the names it lists, past MAX_UNROLL
        self.translator = Translator(self.modules, self.env)
        self.segment = Segment()
        self.targets = [self.segment.steps]   # where steps go: inside a no_grad block, its own
        self.no_grad = 0
        self.grads: dict[int, list] = {}      # id(a leaf's origin) -> [backwards run, Instance]
        self.waiting: list[Note] = []         # notes for the next step
        self.draws = Draws(self.translator, self.env)
        self.adjoints: dict[str, AdjointVariable] = {}   # d-name -> its entry, as written so far
        # what a left-out statement may change through a name: opt = SGD([w]) -> opt: {w}
        self.holds: dict[str, set[str]] = {}
        # a function that changes tensors: name -> (the places of its arguments it changes,
        # the names of the notebook it changes)
        self.changers: dict[str, tuple[set[int], set[str]]] = {}
        self.changed: dict[str, Where] = {}   # a tensor's name -> the left-out statement
        # a name used as a size anywhere is a dim: the cells are parsed once for that first
        trees = [t for t in map(_parsed, (c.code for c in notebook.cells))
                 if isinstance(t, ast.AST)]
        self.layers = linear_layers(trees)   # layer = nn.Linear(3, 2): its two parameters
        trees = [rewritten(t, self.layers) for t in trees]
        self.sizes = size_names(trees)
        self.least = largest_listed(trees, self.sizes)   # a stand-in size is larger
        self.record.uses = index_uses(trees)
        self.claimed = claimed(trees)   # cmp('logprobs', dprobs_log, logprobs): an entry

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

    def _order(self, note: Note) -> tuple:
        cells = [c.label for c in self.record.notebook.cells]
        return (cells.index(note.cell) if note.cell in cells else -1, note.line or 0)

    # --- cells -------------------------------------------------------------------------------

    def cell(self, cell: Cell) -> None:
        if not cell.code.strip():
            return
        self.lines = cell.code.split("\n")
        self.cell_now = cell
        tree = _parsed(cell.code)
        if isinstance(tree, SyntaxError):
            self.note(cell.label, tree.lineno, f"{UNPARSED} ({one_line(tree.msg, 80)})")
            return
        if not isinstance(tree, ast.Module):
            self.note(cell.label, None, "left out: the cell is nested too deep to parse")
            return
        tree = rewritten(tree, self.layers)   # layer(x): x @ layer_weight.T + layer_bias
        self.compared: list[Compared] = []   # this cell's cmp() lines, for its output
        self.shows: list[_Show] = []
        self.cell_steps: list[Step] = []
        self.unreadable = ""                  # why the cell's output cannot be matched
        said = sizes_said(cell, tree, self.translator, self.env)   # logits.shape printed
        if said is not None:
            self.record.said_sizes.update(said)
            return
        for i, statement in enumerate(tree.body):
            shown = i == len(tree.body) - 1 and not self._silenced(statement)
            self.statement(statement, shown)
        self.outputs(cell)

    def where(self, node: ast.AST) -> Where:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return Where(self.cell_now.label, line, code, self.cell_now.index * 1_000_000 + line)

    def _silenced(self, statement: ast.stmt) -> bool:
        """A trailing ; keeps Jupyter from showing the last expression."""
        line = self.lines[(statement.end_lineno or statement.lineno) - 1].encode()
        rest = line[statement.end_col_offset:].decode(errors="ignore")
        return rest.split("#")[0].strip().startswith(";")

    def note(self, cell: str, line: int | None, text: str, internal: bool = False) -> None:
        note = Note(cell, line, text, internal)
        self.record.notes.append(note)
        self.waiting.append(note)

    def left_out(self, node: ast.AST, why: str, line: int | None = None) -> None:
        where = self.where(node)
        code = one(node, 60) if getattr(node, "end_lineno", 0) == where.line \
            else where.code[:60] + " …"   # a block: its first line
        self.note(where.cell, line or where.line, f"left out: {code}: {why}")

    # --- statements --------------------------------------------------------------------------

    def statement(self, statement: ast.stmt, shown: bool) -> None:
        handler = getattr(self, "s_" + type(statement).__name__, None)
        try:
            if handler is None:
                if _prints(statement):
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
        if _changes_grads(statement) or changed:
            self.segment.lost = where
        self.draws.lose(statement, where)
        mentioned = self._tensors_named(statement)
        rebound = _rebound(statement)
        for name in _stored(statement):   # what it assigned to is no longer known
            if mentioned - {name}:
                self.holds[name] = mentioned - {name}
            if name in rebound:   # a new value (a training loop's dlogits = ...): the entry
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
                    prints=_prints(statement))
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
        into = set().union(*(_stored(line) for line in statement.body)) - (plain - declared)
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

    def s_Assign(self, statement, shown):
        if len(statement.targets) != 1:
            raise Unsupported("several targets in one assignment", statement)
        target = statement.targets[0]
        if isinstance(target, ast.Attribute) and target.attr == "requires_grad" \
                and isinstance(target.value, ast.Name):
            flag = statement.value
            if not (isinstance(flag, ast.Constant) and isinstance(flag.value, bool)):
                raise Unsupported("requires_grad set to something other than True or False",
                                  statement)
            return self.requires_grad(target.value.id, flag.value, statement)
        if isinstance(target, ast.Attribute) and target.attr == "grad" \
                and isinstance(target.value, ast.Name) and _is_none(statement.value):
            return self.grad_none(target.value.id, statement)
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and (
                target.value.id in self.adjoints or zeros_like(self.env.get(target.value.id))):
            return self.put(target, statement)   # one_hot[range(n), Yb] = 1 too
        numbers = _unpacked_numbers(target, statement.value)
        if numbers:   # x_val, y_val = 2.0, 3.0: one assignment a name
            for name, value in numbers:
                self.assign(name, value, statement)
            return
        if isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple):
            return self.assign_each(target, statement.value, statement)
        if isinstance(target, ast.Tuple) and _shape_of(statement.value):
            return self.assign_each(target, _axes(statement.value, len(target.elts)), statement)
        if not isinstance(target, ast.Name):
            raise Unsupported("an assignment to something other than a name", statement)
        self.assign(target.id, statement.value, statement)

    def assign_each(self, targets: ast.Tuple, values: ast.Tuple, statement) -> None:
        """Xb, Yb = Xtr[ix], Ytr[ix]: one assignment after the other, when no value reads a
        name assigned before it (a, b = b, a swaps: left out)."""
        names = [t.id for t in targets.elts if isinstance(t, ast.Name)]
        if len(names) != len(targets.elts) or len(values.elts) != len(names) or any(
                isinstance(n, ast.Name) and n.id in names
                for value in values.elts for n in ast.walk(value)):
            raise Unsupported("an assignment to several names at once, other than a, b = x, "
                              "y of values that do not read them", statement)
        for name, value in zip(names, values.elts):
            self.assign(name, value, statement)

    def s_AnnAssign(self, statement, shown):
        if statement.value is None or not isinstance(statement.target, ast.Name):
            raise Unsupported("an annotation without a value", statement)
        self.assign(statement.target.id, statement.value, statement)

    def s_AugAssign(self, statement, shown):
        target = statement.target
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                and target.value.id in self.adjoints:
            return self.put(target, statement, statement.op)   # dlogits[range(n), Yb] -= 1
        entry = self.adjoints.get(target.id) if isinstance(target, ast.Name) else None
        if (entry is None or entry.node is not self.env.get(target.id)
                or not isinstance(statement.op, (ast.Add, ast.Sub, ast.Mult, ast.Div))):
            raise Unsupported("an in-place update: the draft follows assignments only (and +=, "
                              "-=, *=, /= on an entry of a backward pass)", statement)
        added = self.translator.expression(statement.value)
        before = entry.node
        deps = {**before.deps, **before.dims}
        for name, held in added.deps.items():
            if deps.setdefault(name, held) is not held:
                raise Unsupported(f"{name} here is not what it was when {target.id} was first "
                                  f"written ({entry.wheres[0]})", statement)
        tree = ast.BinOp(copy.deepcopy(before.tree), type(statement.op)(), added.tree)
        self.computed(target.id, Translated(tree, checked_text(tree), deps), statement,
                      accumulate=True)

    def s_For(self, statement, shown):
        """A loop over a list of names (`for p in parameters: p.requires_grad = True`) is
        unrolled: its body follows once for each name. Any other loop is left out."""
        over = _listed_count(statement.iter) or (
            self.long_lists.get(statement.iter.id, 0) if isinstance(statement.iter, ast.Name)
            else 0)
        if over > MAX_UNROLL:   # a list of names, but too long to follow: the bound, named
            raise Unsupported(f"a for statement over {over:,} names: the draft unrolls a loop "
                              f"over at most {MAX_UNROLL:,}", statement)
        scattered = _scatter(statement)
        total = scattered.target.id if scattered and isinstance(scattered.target, ast.Name) \
            else ""
        if scattered is not None and total in self.adjoints:
            scattered = _scatter(statement, self.adjoints[total].of)   # dC_ is C's, claimed
            self.s_AugAssign(scattered, shown)
            # the entry's statement is the whole loop: a backward block writes it so
            wheres = self.adjoints[total].wheres
            loop = textwrap.dedent("\n".join(
                self.lines[statement.lineno - 1:statement.end_lineno])).strip("\n")
            at = self.where(statement)
            wheres[-1] = Where(at.cell, wheres[-1].line, loop, at.order)
            return None
        names = self._names_of(statement.iter)
        if names is None or statement.orelse or not isinstance(statement.target, ast.Name):
            if _prints(statement):
                self.unreadable = "it prints inside a for statement"
            raise Unsupported("a for statement: the draft follows straight-line code",
                              statement)
        for name in names:
            for inner in statement.body:
                self.statement(_substituted(inner, statement.target.id, name), False)

    def _names_of(self, node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.Name) and isinstance(self.env.get(node.id), Names):
            return self.env[node.id].names
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and len(node.elts) <= MAX_UNROLL:
            names = [e.id for e in node.elts if isinstance(e, ast.Name)]
            return names if len(names) == len(node.elts) else None
        return None

    def s_With(self, statement, shown):
        items = statement.items
        if len(items) != 1 or items[0].optional_vars is not None or not isinstance(
                items[0].context_expr, ast.Call) or self.translator.dotted(
                items[0].context_expr.func) != "torch.no_grad":
            if _prints(statement):
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

    def s_Expr(self, statement, shown):
        value = statement.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return  # a string standing alone: text, not code
        if isinstance(value, ast.Call):
            return self.call(value, shown)
        if isinstance(value, ast.Attribute) and value.attr == "backward":
            where = self.where(statement)
            self.note(where.cell, where.line, f"{one(value)} is not called (no parentheses): "
                      "no backward() runs here, so no gradient is computed")
            return
        if shown:
            self.display(value)

    def s_Assert(self, statement, shown):
        """`assert torch.allclose(9*a**2, a.grad)`: a lab script's check, read as the same
        comparison printed (nothing shown: the case compares it)."""
        test = statement.test
        if grad_compared(test) is None:
            raise Unsupported("an assert other than a comparison with a .grad", statement)
        self._total(test, self.where(statement))(None)

    # --- assignments -------------------------------------------------------------------------

    def assign(self, name: str, value: ast.expr, statement) -> None:
        where = self.where(statement)
        try:
            generator = self.draws.generator(name, value, where)
            if generator is not None:
                self.env[name] = generator
                return
            names = self._names_of(value) if isinstance(value, (ast.List, ast.Tuple)) else None
            if _listed_count(value) > MAX_UNROLL:
                self.long_lists[name] = _listed_count(value)
            else:
                self.long_lists.pop(name, None)
            if names and all(isinstance(self.env.get(n), (Leaf, Node)) for n in names):
                self.env[name] = Names(names, where)   # parameters = [C, W1, b1]
                return
            if listed(value):   # data = [0.5, -1.0]: for torch.tensor(data) later
                self.env[name] = Listed(value, where)
                return
            if name in self.sizes and self.size(name, value, where):
                return
            if name in self.layers and is_linear(value):
                return self.layer(name, value, statement)
            made = constructor(value, self.translator) or self.draws.made(value, where) \
                or self.stand_in(name, value, where)
            if made is not None:
                return self.make(name, made, statement)
            if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    and value.func.attr == "detach" and not value.args
                    and isinstance(value.func.value, ast.Name)):
                return self.detach(name, value.func.value.id, statement)
            self.compute(name, value, statement)
        except Unsupported:
            self.env.pop(name, None)  # the name now holds what the draft does not know
            raise

    def size(self, name: str, value: ast.expr, where: Where) -> bool:
        """n = 32 (a name the notebook uses as a size): a dim; whether it is one."""
        try:
            found = dim(name, self.translator.expression(value), where)
        except Unsupported as exc:   # read from data: a size stands in, the formulas hold
            if not counted(value):
                return False
            if name in self.said:   # a printed shape says it
                size, printed = self.said[name]
                self.note(where.cell, where.line, f"{name}: {name} = {one(value, 40)} is not "
                          f"known without running the notebook; {printed} says {size}")
                self.env[name] = Dim(name, size, where)
                return True
            taken = {d.value for d in self.env.values() if isinstance(d, Dim)}
            found = stand_in(name, f"{name} = {one(value, 40)} is not known without running "
                             f"the notebook ({exc.message})", where, taken, self.least + 1)
            self.note(where.cell, where.line, f"{name}: {found.stand_in}")
        if found is not None:
            self.env[name] = found
        return found is not None

    def stand_in(self, name: str, value: ast.expr, where: Where) -> Made | None:
        """Xb = Xtr[ix], Xtr data the draft cannot know: a seeded draw of ix's length, the
        rest of the shape and the bound as a later walk hints (see _standins)."""
        if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
                and isinstance(value.slice, ast.Name)
                and not isinstance(self.env.get(value.value.id), (Leaf, Node))):
            return None
        rows = self.env.get(value.slice.id)
        if not (isinstance(rows, (Leaf, Node)) and rows.dtype == "int64"
                and len(rows.shape) == 1):
            return None
        dims: dict = {}
        first = self.translator.size_written(rows.shape[0], dims)
        hint = self.hints.get(name, Hint())
        tail = [self.env[d] for d in hint.tail if isinstance(self.env.get(d), Dim)]
        dims.update({d.name: d for d in tail})
        shape = (ast.unparse(first), *(d.name for d in tail))
        why = (f"a stand-in for {one(value)}, data the notebook reads from outside it: "
               "its formulas are checked, its numbers are not the notebook's")
        self.record.stand_ins.append(name)
        seed = 1_000 + len(self.record.stand_ins)
        if name in self.record.uses:   # an index or a label: within the dim it indexes
            bound = self.env.get(hint.bound)
            high = (hint.bound, bound.value) if isinstance(bound, Dim) else ("1", 1)
            if isinstance(bound, Dim):
                dims[bound.name] = bound
            drawn = Drawn("randint", shape, seed, bounds=("0", high[0]), stand_in=why)
            dtype = "int64"
        else:
            drawn, dtype = Drawn("randn", shape, seed, stand_in=why), "float32"
        return Made(drawn, dtype, False, (rows.shape[0], *(d.value for d in tail)), dims)

    def layer(self, name: str, call: ast.Call, statement) -> None:
        """layer = nn.Linear(3, 2): its weight and bias, inputs that stand in (see _layers);
        torch's global generator has drawn them, so its state is no longer known."""
        seed = 2_000 + 2 * list(self.layers).index(name)
        for part, made in parameters(name, call, self.draws.size, seed):
            self.make(part, made, statement)
        self.draws.lose(statement, self.where(statement))

    def make(self, name: str, made, statement) -> None:
        if made.dtype == "int64" and made.grad:
            raise Unsupported("an integer tensor cannot require grad", statement)
        if name in self.segment.current and not self.no_grad:
            self.close()
        where = self.where(statement)
        leaf = Leaf(name, made.value, made.dtype, made.grad, made.shape, where,
                    dims=made.dims)
        self.env[name] = leaf
        self.segment.inputs[name] = leaf
        self.segment.current[name] = leaf
        self.grads.pop(id(leaf), None)

    def detach(self, name: str, source: str, statement) -> None:
        held = self._tensor(source, statement)
        value = held.value if isinstance(held, Leaf) else None
        leaf = Leaf(name, value, held.dtype, False, held.shape, self.where(statement),
                    dims=held.dims if isinstance(held, Leaf) else {})
        self.need(held)
        self.step(Step("detach", self.where(statement), (name, source)))
        self.env[name] = leaf
        self.segment.current[name] = leaf

    def compute(self, name: str, value: ast.expr, statement) -> None:
        self.computed(name, self.translator.expression(value), statement)

    def computed(self, name: str, translated: Translated, statement,
                 accumulate: bool = False) -> None:
        tensors = {n: d for n, d in translated.deps.items() if isinstance(d, (Leaf, Node))}
        dims = {n: d for n, d in translated.deps.items() if isinstance(d, Dim)}
        where = self.where(statement)
        named = derivative(name, lambda n: isinstance(self.env.get(n), (Leaf, Node, Func))
                           and n != name, self.claimed)
        if not tensors and not (named and named[0] == "partial"):
            # a plain number, written in place where it is used (with the dims it is made of)
            node = Node(name, translated.tree, translated.text, dims, where, None)
        elif not tensors:  # dz_db = 1: a hand-written derivative, kept by its name
            node = Node(name, translated.tree, translated.text, {}, where, None, inline=False,
                        dims=dims)
            self.step(Step("compute", where, (name, node)))
            self.segment.current[name] = node
        else:
            found = kind(translated)
            dtypes = {d.dtype for d in tensors.values() if d.dtype != "int64"} or {"float32"}
            dtype = "int64" if found.integer else (
                "float64" if "float64" in dtypes else "float32")
            node = Node(name, translated.tree, translated.text, tensors, where, dtype,
                        found.shape, not self.no_grad and not found.integer
                        and any(d.requires_grad for d in tensors.values()), dims=dims)
            for held in tensors.values():
                self.need(held)
            self.step(Step("compute", where, (name, node)))
            self.segment.current[name] = node
            self.record.nodes.append(node)
        self.env[name] = node
        if named and named[0] == "partial":
            self.record.variables.append(DerivativeVariable(node, named[1], named[2],
                                                            dict(self.env)))
        elif named and tensors and isinstance(self.env.get(named[1]), (Leaf, Node)):
            self.adjoint(name, named[1], node, where, accumulate)
        else:
            self.adjoints.pop(name, None)

    def adjoint(self, name: str, of: str, node: Node, where: Where, accumulate: bool) -> None:
        """d<of> = ...: an entry of a hand-written backward pass; after a += the same entry,
        now the total."""
        before = self.adjoints.get(name)
        wheres = before.wheres + [where] if accumulate and before is not None else [where]
        entry = AdjointVariable(node, of, dict(self.env), wheres)
        self.adjoints[name] = entry
        self.record.adjoints.append(entry)

    def put(self, target: ast.Subscript, statement, op: ast.operator | None = None) -> None:
        """dlogprobs[range(n), Yb] = -1.0/n on dlogprobs = torch.zeros_like(logprobs), or
        dlogits[range(n), Yb] -= 1 on any entry."""
        assert isinstance(target.value, ast.Name)   # sent only for d[...] = ... and d[...] op=
        name = target.value.id
        entry = self.adjoints.get(name)
        held = self.env.get(name) if entry is None else entry.node
        if held is not self.env.get(name) or (entry is not None and entry.left_out):
            raise Unsupported(f"an assignment into {name}, which the draft no longer follows",
                              statement)
        value = self.translator.expression(statement.value)
        put = one_hot_put(target, value, self.env[name], self.translator, op)
        put.text = checked_text(put.tree)
        self.computed(name, put, statement, accumulate=True)

    def grad_none(self, name: str, statement) -> None:
        """p.grad = None before any backward() changes nothing: .grad is None already."""
        held = self._tensor(name, statement)
        state = self.grads.get(id(held.origin)) if isinstance(held, Leaf) else None
        if state and state[0]:
            raise Unsupported(f"{name}.grad = None after a backward(): the case format's steps "
                              "set a gradient to zero (zero_()), not to None", statement)

    # --- calls -------------------------------------------------------------------------------

    def call(self, call: ast.Call, shown: bool) -> None:
        func = call.func
        if isinstance(func, ast.Name) and func.id == "print" and "print" not in self.env:
            return self.print(call)
        if self.draws.reseed(call, self.where(call)):
            return
        if isinstance(func, ast.Name) and isinstance(self.env.get(func.id), Func) \
                and comparer(self.env[func.id]):
            return self.compare(call)
        if isinstance(func, ast.Name) and func.id in self.record.functions:
            return self.derivative_call(self.record.functions[func.id], call, shown)
        if isinstance(func, ast.Attribute):
            method, owner = func.attr, func.value
            if method == "backward":
                return self.backward(owner, call)
            if method == "zero_" and isinstance(owner, ast.Attribute) and owner.attr == "grad" \
                    and isinstance(owner.value, ast.Name) and not call.args:
                step = self.zero_grad(owner.value.id, call)
                if shown:
                    self.display(owner, step)
                return
            if method == "requires_grad_" and isinstance(owner, ast.Name) and not call.keywords:
                flag = call.args[0] if call.args else ast.Constant(True)
                if len(call.args) > 1 or not (isinstance(flag, ast.Constant)
                                              and isinstance(flag.value, bool)):
                    raise Unsupported("requires_grad_() with something other than True or "
                                      "False", call)
                step = self.requires_grad(owner.id, flag.value, call)
                if shown:
                    self.display(owner, step)
                return
            if method == "retain_grad" and isinstance(owner, ast.Name) and not call.args:
                held = self._tensor(owner.id, call)
                self.need(held)
                self.step(Step("retain_grad", self.where(call), (owner.id,)))
                return
        if shown:
            return self.display(call)
        if isinstance(func, ast.Name) and isinstance(self.env.get(func.id), Func):
            if self.env[func.id].prints:
                self.unreadable = f"{func.id}() prints"
            raise Unsupported("a call whose value is not kept", call)
        raise Unsupported("a call the draft does not follow", call)

    def backward(self, owner: ast.expr, call: ast.Call) -> None:
        if not isinstance(owner, ast.Name):
            raise Unsupported("backward() of an unnamed expression: name it first", call)
        given = [k.value for k in call.keywords if k.arg == "gradient"] + list(call.args)
        if len(given) > 1 or any(k.arg != "gradient" for k in call.keywords):
            raise Unsupported("backward() with arguments other than gradient= (retain_graph=, "
                              "...): the case format's steps call backward(gradient=...) at "
                              "most", call)
        held = self._tensor(owner.id, call)
        upstream = self.translator.expression(given[0]) if given else None
        self.need(held)
        for dep in (upstream.deps.values() if upstream else ()):
            if isinstance(dep, (Leaf, Node)):
                self.need(dep)
        where = self.where(call)
        self.step(Step("backward", where, (owner.id, upstream) if upstream else (owner.id,)))
        fits = held.shape == () if upstream is None else kind(upstream).shape in (
            (), tuple(held.shape))
        if not (isinstance(held, Node) and held.tracked and fits):
            return  # torch raises here (no graph, not a scalar, a gradient of another shape)
        leaves = closure_leaves(held)
        params = [leaf for leaf in leaves if leaf.grad]
        if not params or any(leaf.value is None for leaf in leaves):
            return
        instance = Instance(held, where, upstream=upstream)
        self.record.instances.append(instance)
        for leaf in params:
            state = self.grads.setdefault(id(leaf.origin), [0, None])
            state[0] += 1
            state[1] = instance

    def zero_grad(self, name: str, call) -> Step:
        held = self._tensor(name, call)
        lost = self.segment.lost
        if lost is not None and _touched(held, lost):   # its .grad may be None in the case
            raise Unsupported(f"the {lost.code[:40]} before it ({lost}) was left out, so the "
                              f"case would not have {name}.grad to zero", call)
        self.need(held)
        stale = self.segment.stale.get(id(getattr(held, "origin", held)))
        if stale:
            raise Unsupported(f"{stale}: the case would not have {name}.grad to zero", call)
        step = self.step(Step("zero_grad", self.where(call), (name,)))
        if isinstance(held, Leaf):
            self.grads[id(held.origin)] = [0, None]
        return step

    def requires_grad(self, name: str, flag: bool, node) -> Step:
        held = self._tensor(name, node)
        if not isinstance(held, Leaf):
            raise Unsupported(f"requires_grad of {name}, which is computed, not a leaf", node)
        self.need(held)
        step = self.step(Step("requires_grad", self.where(node), (name, flag)))
        changed = held.changed(flag, self.where(node))
        self.env[name] = changed
        self.segment.current[name] = changed
        return step

    def compare(self, call: ast.Call) -> None:
        """cmp('logprobs', dlogprobs, logprobs): a backward entry compared with autograd's."""
        label, adjoint, target = compared(call)
        found = Compared(target, self.where(call), adjoint=adjoint,
                         held=self.env.get(adjoint), shown=label)
        self.compared.append(found)
        self.record.compared.append(found)

    def derivative_call(self, function: DerivativeFunction, call: ast.Call, shown: bool) -> None:
        if not shown:
            raise Unsupported("a call of a hand-written derivative whose value is not shown",
                              call)
        where = self.where(call)
        self.shows.append(_Show([None, "\n"], [self._called(function, call, where)], where,
                                display=True))

    def _called(self, function: DerivativeFunction, call: ast.Call, where: Where):
        """The fill for a printed dz_dx(2): a point where the derivative's value is claimed."""
        args = [self._number(a) for a in call.args]
        if call.keywords or any(a is None for a in args):
            return self._not_checked(call, where, "a hand-written derivative called with "
                                     "something other than numbers")

        def fill(shown):
            if shown is not None and shown.number:
                function.calls.append(Call(args, shown.written, where, shown.text))
        return _Fill("call", fill)

    def _number(self, node: ast.expr):
        sign = 1
        while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign, node = sign * (-1 if isinstance(node.op, ast.USub) else 1), node.operand
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return sign * node.value
        held = self.env.get(node.id) if isinstance(node, ast.Name) else None
        if isinstance(held, Leaf) and held.shape == () and sign == 1:
            return held.value
        return None

    # --- what a cell shows -------------------------------------------------------------------

    def print(self, call: ast.Call) -> None:
        sep, end = " ", "\n"
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg in ("sep", "end") and isinstance(value, ast.Constant) \
                    and isinstance(value.value, str):
                sep, end = (value.value, end) if keyword.arg == "sep" else (sep, value.value)
            elif keyword.arg != "flush":
                self.unreadable = f"print(..., {keyword.arg}=...)"
                return
        parts: list[str | None] = []
        fills: list[_Fill] = []
        box: list[Step] = []
        where = self.where(call)
        for i, arg in enumerate(call.args):
            if i:
                parts.append(sep)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                parts.append(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                for piece in arg.values:
                    if not isinstance(piece, ast.FormattedValue):
                        parts.append(str(getattr(piece, "value", "")))
                    else:
                        parts.append(None)
                        fills.append(self.slot(piece.value, where, box))
            else:
                parts.append(None)
                fills.append(self.slot(arg, where, box))
        box.append(self.look(where))  # after what the slots needed repeated before it
        self.shows.append(_Show(parts + [end], fills, where))

    def display(self, value: ast.expr, step: Step | None = None) -> None:
        if isinstance(value, ast.Tuple) and len(value.elts) > 1:
            return self.display_tuple(value)
        if _looked_at(value)[0] == "other" and grad_compared(value) is None and not (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                and value.func.id in self.record.functions):
            raise Unsupported("a call the draft does not follow" if isinstance(value, ast.Call)
                              else "not a tensor the draft follows", value)
        where = self.where(value)
        box: list[Step] = []
        fill = self.slot(value, where, box)
        box.append(step or self.look(where))
        self.shows.append(_Show([None, "\n"], [fill], where, display=True))

    def display_tuple(self, value: ast.Tuple) -> None:
        """`x.grad, y.grad` shows its tuple's repr: (tensor(14.), None)."""
        where = self.where(value)
        box: list[Step] = []
        parts: list[str | None] = ["(", None]
        for _ in value.elts[1:]:
            parts += [", ", None]
        fills = [self.slot(element, where, box) for element in value.elts]
        box.append(self.look(where))
        self.shows.append(_Show(parts + [")", "\n"], fills, where))

    def look(self, where: Where) -> Step:
        return self.step(Step("look", where))

    def slot(self, node: ast.expr, where: Where, box: list):
        """What to do with the value printed for node: expectations on the step in box (made
        after this, so that what it needs comes first), observations for the cases."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in self.record.functions:
            return self._called(self.record.functions[node.func.id], node, where)
        if grad_compared(node) is not None:
            return self._total(node, where)
        kind, name = _looked_at(node)
        held = self.env.get(name) if name else None
        lost = self.segment.lost
        if kind == "grad" and lost is not None and _touched(held, lost):
            return self._not_checked(node, where, f"the {lost.code[:40]} before it ({lost}) was "
                                     "left out, so the case would not have its gradients")
        if kind == "value" and isinstance(held, Node) and held.dtype is None and held.inline:
            return self._not_checked(node, where, "a plain Python number, not a tensor")
        if name in self.changed and not isinstance(held, (Leaf, Node)):
            return self._not_checked(node, where, f"the {self.changed[name].code[:40]} before "
                                     f"it ({self.changed[name]}) was left out and may have "
                                     f"changed {name}")
        if name is None or not isinstance(held, (Leaf, Node)):
            return self._not_checked(node, where, "not a tensor the draft follows")
        try:
            self.need(held)
        except Unsupported as exc:
            return self._not_checked(node, where, exc.message)
        stale = self.segment.stale.get(id(getattr(held, "origin", held)))
        if kind == "grad" and stale:
            return self._not_checked(node, where, stale)
        state = self.grads.get(id(held.origin)) if isinstance(held, Leaf) else None
        graph = state[1].output if kind == "grad" and state and state[1] is not None else None
        drawn = _stand_in(held if kind == "value" else graph)
        if drawn is not None:
            whose = "it depends on" if graph is None else f"the graph of {graph.name} holds"
            return self._not_checked(node, where, f"{whose} {drawn.name}, whose numbers are "
                                     f"not the notebook's ({drawn.origin.where})")

        def fill(shown):
            if shown is None:
                return
            said = shown.text or "None"

            def add(key: str, value) -> None:
                box[0].expect.append(Expect(key, value, where, said))
            if kind == "value" and shown.number:
                add(name, shown.written)
                self._value_claims(held, name, shown, add)
                self.record.values.append(Observation("value", held, shown.written, where, said))
            elif kind == "grad" and shown.number:
                add(f"grad/{name}", shown.written)
                if state and state[0] == 1 and state[1] is not None:
                    state[1].grads.append(Observation("grad", held, shown.written, where, said,
                                                      state[1]))
            elif kind == "grad" and shown.kind == "none":
                add(f"grad/{name}", None)
            elif kind in ("requires_grad", "is_leaf") and shown.kind == "bool":
                add(f"{kind}/{name}", shown.written)
            elif kind == "grad_fn" and shown.kind in ("grad_fn", "none"):
                add(f"grad_fn/{name}", shown.grad_fn)
        return _Fill(kind, fill)

    def _total(self, node: ast.expr, where: Where):
        """`9*a**2 == a.grad` shown: the hand-written total derivative of the output of the
        backward() that gave a.grad (the notebook's own check of it)."""
        name, hand = grad_compared(node) or ("", node)
        held = self.env.get(name)
        adjoint = hand.id if isinstance(hand, ast.Name) else ""
        entry = self.adjoints.get(adjoint)
        if entry is not None and entry.of == name:   # torch.allclose(dw, w.grad): as cmp()
            found = Compared(name, where, adjoint=adjoint, held=entry.node)
            self.record.compared.append(found)

            def printed(shown):
                if shown is not None:
                    found.shown = f"{one(node)} printed {shown.text}"
            return _Fill("total", printed)
        state = self.grads.get(id(held.origin)) if isinstance(held, Leaf) else None
        if not (state and state[0] == 1 and state[1] is not None):
            return self._not_checked(node, where, f"{name}.grad is not the gradient of one "
                                     "backward() the draft follows")
        try:
            total = Compared(name, where, hand=self.translator.expression(hand))
        except Unsupported as exc:
            return self._not_checked(node, where, exc.message)
        state[1].totals.append(total)

        def fill(shown):
            if shown is not None:
                total.shown = shown.text
        return _Fill("total", fill)

    def _value_claims(self, held, name: str, shown, add) -> None:
        if shown.kind != "tensor":
            return
        if isinstance(held, Node):
            add(f"grad_fn/{name}", shown.grad_fn)
        if shown.requires_grad or shown.grad_fn is None:
            add(f"requires_grad/{name}", shown.requires_grad)

    def _not_checked(self, node, where: Where, why: str):
        def fill(shown):
            if shown is not None and shown.kind != "none":
                self.note(where.cell, where.line, f"not checked: {one(node)} shows "
                          f"{one_line(shown.text, 60)}: {why}")
        return _Fill("other", fill)

    def outputs(self, cell: Cell) -> None:
        # each output on lines of its own: a print's stream ends with its newline, a shown
        # value does not
        text = "".join(o.text if o.text.endswith("\n") else o.text + "\n"
                       for o in cell.outputs if o.kind == "text")
        text = "\n".join(line for line in text.split("\n") if not self._echo(line))
        if self.compared:   # the cmp() lines: each one's printed row, by its label
            found, text = rows(text)
            for one_cmp in self.compared:
                label = one_cmp.shown
                one_cmp.shown = f"cmp printed {found[label].pop(0)}" if found.get(label) else ""
        for i, show in enumerate(self.shows):
            if self.unreadable:
                if text.strip():
                    self.note(cell.label, None, f"its output is not read: {self.unreadable}")
                break
            got = _outputs.match(show.parts, text) if text.strip() else None
            if got is None:
                if show.display and not text.strip() and cell.label.startswith("In ["):
                    for fill in show.fills:  # the cell ran and showed nothing: the value is None
                        if fill.kind in ("grad", "grad_fn"):
                            fill(_outputs.Shown("none"))
                    continue
                if text.strip():
                    self.note(cell.label, show.where.line, f"the output does not match "
                              f"{one_line(show.where.code, 60)} (it begins "
                              f"{one_line(text.strip(), 40)}): no claim taken from it")
                else:
                    self._unshown(self.shows[i:])
                break
            values, text = got
            for fill, value in zip(show.fills, values):
                fill(value)
        for out in cell.outputs:
            if out.kind == "error":
                self.raised(cell, out)
            elif out.kind == "warning" and self.cell_steps:
                last = self.cell_steps[-1]
                if any(e.key.startswith("grad/") for e in last.expect):
                    last.expect.append(Expect("warns", one_line(out.text, 100), last.where,
                                              f"{out.name}: {out.text}"))

    def _unshown(self, shows: list[_Show]) -> None:
        """A hand-written derivative printed where nothing is shown (a script, a cell never
        run): its value is not claimed, and that is said."""
        for show in shows:
            if any(fill.kind == "call" for fill in show.fills):
                self.note(show.where.cell, show.where.line, f"not checked: "
                          f"{one_line(show.where.code, 60)}: nothing it printed is shown (a "
                          "script shows it in `# Out:` comments after the print)")

    def _echo(self, line: str) -> bool:
        """Python's warnings repeat the offending line, indented by two spaces."""
        return line.startswith("  ") and bool(line.strip()) and line.strip() in (
            s.strip() for s in self.lines)

    def raised(self, cell: Cell, out) -> None:
        acting = [s for s in self.cell_steps if s.action not in ("look",)]
        said = f"{out.name}: {out.text}"
        if not acting or not out.text.strip():
            self.note(cell.label, None, f"the error it shows ({one_line(said, 80)}) belongs to "
                      "no step the draft made: left out")
            return
        step = acting[-1]
        step.expect.append(Expect("raises", one_line(out.text.strip(), 200), step.where, said))

    # --- the behaviour case being built --------------------------------------------------------

    def step(self, step: Step) -> Step:
        step.notes, self.waiting = self.waiting, []
        self.targets[-1].append(step)
        self.cell_steps.append(step)
        return step

    def need(self, held) -> None:
        """Make held available to this segment's steps under its name: an input for a tensor
        made earlier, or its computation repeated here."""
        seg = self.segment
        now = seg.current.get(held.name)
        if now is held:
            return
        if isinstance(held, Leaf):
            if now is None:
                if id(held.origin) in self.grads:   # a backward() or zero_() ran on it before
                    seg.stale[id(held.origin)] = (
                        f"{held.name}.grad was set by steps of an earlier case ({held.where} "
                        "onwards), which this case does not repeat")
                seg.inputs[held.name] = held
                seg.current[held.name] = held
                return
            if isinstance(now, Leaf) and now.origin is held.origin:
                return
            raise Unsupported(f"{held.name} here is an earlier tensor than the one of that name "
                              "this case holds")
        if now is not None:
            raise Unsupported(f"{held.name} here is an earlier value than the one of that name "
                              "this case holds")
        for dep in held.deps.values():
            self.need(dep)
        step = Step("compute", held.where, (held.name, held), again=True)
        self.targets[-1].append(step)
        seg.current[held.name] = held

    def _tensor(self, name: str, node):
        held = self.env.get(name)
        if not isinstance(held, (Leaf, Node)) or (isinstance(held, Node) and held.dtype is None):
            raise Unsupported(f"{name} is not a tensor the draft follows", node)
        return held

    def close(self) -> None:
        seg = self.segment
        seg.notes += self.waiting
        self.waiting = []
        if seg.checkable():
            self.record.segments.append(seg)
        self.segment = Segment(lost=seg.lost)   # what was left out stays left out
        self.targets = [self.segment.steps]


def _stand_in(held) -> Leaf | None:
    """A leaf under held whose numbers the case cannot reproduce (a stand-in draw)."""
    if held is None or not isinstance(held, (Leaf, Node)):
        return None
    leaves = [held] if isinstance(held, Leaf) else closure_leaves(held)
    return next((leaf for leaf in leaves if not leaf.exact), None)


def _known(module: str) -> bool:
    return module in KNOWN_MODULES or module.split(".")[0] == "torch"


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _substituted(statement: ast.stmt, name: str, by: str) -> ast.stmt:
    """statement with the loop's name replaced by one of the names it runs over."""
    class Put(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.copy_location(ast.Name(by, node.ctx), node) if node.id == name else node
    return Put().visit(copy.deepcopy(statement))


def _parsed(code: str) -> ast.Module | SyntaxError | None:
    """A cell's code parsed once (for the sizes it names, then for the walk); None when it is
    too deep for Python's parser."""
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        return exc
    except (RecursionError, MemoryError, ValueError):
        return None


def _looked_at(node: ast.expr) -> tuple[str, str | None]:
    """What a shown expression looks at: ("value", "y"), ("grad", "x"), ...; .item() and
    .detach() show the same number."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("item", "detach", "clone") and not node.args:
        return _looked_at(node.func.value)
    if isinstance(node, ast.Name):
        return "value", node.id
    if isinstance(node, ast.Attribute) and node.attr in LOOKS and isinstance(node.value, ast.Name):
        return node.attr, node.value.id
    return "other", None


def _stored(statement: ast.stmt) -> set[str]:
    """The names a statement assigns to, or into (x, y = ..., x[i] = ..., x += ...,
    x.data = ..., x.add_(...))."""
    out = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store) \
                and getattr(node, "attr", "") != "grad":   # x.grad = ...: x's value stays
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr.endswith("_")):   # an in-place method: x.add_(...)
            base = node.func.value           # x.data.mul_(...) too, not x.grad.zero_()
            while isinstance(base, (ast.Subscript, ast.Attribute)) \
                    and getattr(base, "attr", "") != "grad":
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def _scatter(loop: ast.For, of: str = "") -> ast.AugAssign | None:
    """makemore's embedding backward, a loop over every row and column of an index tensor:

        for k in range(Xb.shape[0]):
          for j in range(Xb.shape[1]):
            ix = Xb[k,j]                  (or dC[Xb[k,j]] += ...)
            dC[ix] += demb[k,j]

    is dC += F.one_hot(Xb.view(-1), num_classes=C.shape[0]).T @ demb.view(-1, demb.shape[2])
    (C the tensor dC is the gradient of, `of` when a cmp() claims it): the same sums, as the
    case format writes them."""
    inner = loop.body[0] if len(loop.body) == 1 else None
    if not (isinstance(inner, ast.For) and isinstance(loop.target, ast.Name)
            and isinstance(inner.target, ast.Name) and not loop.orelse and not inner.orelse):
        return None
    k, j = loop.target.id, inner.target.id
    body = list(inner.body)
    picked: ast.expr | None = None
    if len(body) == 2 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1 \
            and isinstance(body[0].targets[0], ast.Name):
        local, picked = body[0].targets[0].id, body[0].value
        body = body[1:]
    else:
        local = ""
    last = body[0] if len(body) == 1 else None
    if not (isinstance(last, ast.AugAssign) and isinstance(last.op, ast.Add)
            and isinstance(last.target, ast.Subscript) and isinstance(last.target.value, ast.Name)
            and isinstance(last.value, ast.Subscript) and isinstance(last.value.value, ast.Name)):
        return None
    index = last.target.slice
    if local and isinstance(index, ast.Name) and index.id == local and picked is not None:
        index = picked
    if not (isinstance(index, ast.Subscript) and isinstance(index.value, ast.Name)):
        return None
    xb, grad, total = index.value.id, last.value.value.id, last.target.value.id
    if ast.unparse(index) != f"{xb}[{k}, {j}]" or ast.unparse(last.value) != f"{grad}[{k}, {j}]" \
            or ast.unparse(loop.iter) != f"range({xb}.shape[0])" \
            or ast.unparse(inner.iter) != f"range({xb}.shape[1])":
        return None
    of = of or total[1:]
    value = ast.parse(f"F.one_hot({xb}.view(-1), num_classes={of}.shape[0]).T @ "
                      f"{grad}.view(-1, {grad}.shape[2])", mode="eval").body
    for node in ast.walk(value):
        ast.copy_location(node, last)
    return ast.copy_location(ast.AugAssign(ast.Name(total, ast.Store()), ast.Add(), value),
                             last)


def _shape_of(value: ast.expr) -> bool:
    """n, d = X.shape: each name one axis's size."""
    return isinstance(value, ast.Attribute) and value.attr == "shape"


def _axes(shape: ast.expr, count: int) -> ast.Tuple:
    """X.shape as (X.shape[0], X.shape[1], ...), placed where it is written."""
    axes: list[ast.expr] = []
    for i in range(count):
        axis = ast.copy_location(ast.Constant(i), shape)
        axes.append(ast.copy_location(ast.Subscript(shape, axis, ast.Load()), shape))
    return ast.copy_location(ast.Tuple(axes, ast.Load()), shape)


def _rebound(statement: ast.stmt) -> set[str]:
    """The names a statement first assigns anew (dlogits = ... in a training loop), before
    anything changes them in place: what they held before is left as it was."""
    events: list[tuple[int, int, str, bool]] = []   # line, column, name, whether a new value
    for node in ast.walk(statement):
        if isinstance(node, (ast.Assign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        events.append((sub.lineno, sub.col_offset, sub.id, True))
    for name in _stored(statement):
        for node in ast.walk(statement):
            if isinstance(node, (ast.AugAssign, ast.Subscript, ast.Attribute, ast.Call)) \
                    and name in _stored(ast.Expr(node) if not isinstance(node, ast.AugAssign)
                                        else node):
                events.append((node.lineno, node.col_offset, name, False))
    first: dict[str, bool] = {}
    for _, _, name, anew in sorted(events):
        first.setdefault(name, anew)
    return {name for name, anew in first.items() if anew}


def _changes_grads(statement: ast.stmt) -> bool:
    """backward(), zero_(), requires_grad: a statement that changes what .grad shows."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Attribute) and node.attr in ("backward", "zero_",
                                                              "requires_grad_", "requires_grad"):
            return True
    return False


def _prints(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
               for n in ast.walk(node))


def closure_leaves(node: Node) -> list[Leaf]:
    """The leaves under node, each once, in the order first met."""
    leaves: list[Leaf] = []
    seen: set[int] = set()
    stack: list = [node]
    while stack:
        held = stack.pop()
        if id(held) in seen:
            continue
        seen.add(id(held))
        if isinstance(held, Leaf):
            leaves.append(held)
        else:
            stack.extend(reversed(list(held.deps.values())))
    return leaves


def _listed_count(node: ast.expr) -> int:
    """How many names a literal list or tuple of names holds (0 for anything else)."""
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Name)
                                                       for e in node.elts):
        return len(node.elts)
    return 0


def _touched(held, lost: Where) -> bool:
    """Whether a statement left out (a backward(), a zero_()) may have changed held's .grad:
    not for a tensor made after it, whose gradient only the steps the draft kept reach."""
    origin = getattr(held, "origin", held)
    made = getattr(origin, "where", None)
    return not (isinstance(made, Where) and made.order > lost.order)


def _unpacked_numbers(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr]]:
    """[(x_val, 2.0), (y_val, 3.0)] of `x_val, y_val = 2.0, 3.0`: names given numbers
    written out, one each (nothing else is unpacked: a tuple of expressions may read a
    name it assigns)."""
    if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)
            and all(isinstance(t, ast.Name) for t in target.elts)):
        return []
    numbers = []
    for name, item in zip(target.elts, value.elts):
        number = item.operand if isinstance(item, ast.UnaryOp) \
            and isinstance(item.op, (ast.USub, ast.UAdd)) else item
        if not (isinstance(number, ast.Constant) and isinstance(number.value, (int, float))
                and not isinstance(number.value, bool)):
            return []
        numbers.append((name.id, item))   # type: ignore[attr-defined]
    return numbers
