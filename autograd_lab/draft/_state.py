"""The walk's state: where it is (cell, line), the notes it leaves, the segment being built
and the steps it holds, and what a step needs repeated before it (need)."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from ..case import Statements
from ._adjoints import size_value
from ._claims import claimed, paired
from ._draws import Draws
from ._held import Leaf, Node, Unsupported, Where, one
from ._layers import linear_layers, rewritten
from ._notebook import Cell, Note, Notebook
from ._records import AdjointVariable, Compared, Record, Segment, Show, Step
from ._sizes import largest_listed, size_names
from ._standins import Hint, index_uses
from ._syntax import parsed
from ._translate import Translator


@dataclass(frozen=True)
class Read:
    """What the walk learns from every cell before it starts, the same for each walk of one
    notebook (walk() walks it again with hints): read once, shared, never changed."""

    layers: dict      # layer = nn.Linear(3, 2): its two parameters
    sizes: set        # a name used as a size anywhere is a dim
    least: int        # a stand-in size is larger
    uses: dict        # index or label -> the tensors and dims it indexes
    claimed: dict     # cmp('logprobs', dprobs_log, logprobs): an entry
    paired: dict      # torch.allclose(w.grad, slope): slope is w's entry

    @classmethod
    def of(cls, notebook: Notebook) -> Read:
        cells = [t for t in map(parsed, (c.code for c in notebook.cells))
                 if isinstance(t, ast.AST)]
        layers = linear_layers(cells)
        trees = [rewritten(t, layers) for t in cells]
        sizes = size_names(trees)
        # claimed() and paired() rewrite the layers' calls themselves (the count reads them so)
        return cls(layers, sizes, largest_listed(trees, sizes), index_uses(trees),
                   claimed(cells), paired(cells))


@dataclass
class Checkpoint:
    env: dict
    adjoints: dict
    segment: Segment
    targets: list
    current: dict
    inputs: dict
    stale: dict
    lengths: list[int]
    grads: dict
    long_lists: dict
    changed: dict


class WalkState:
    """The state the walk's parts share, and the steps of the case being built. The walk
    is one class made of its parts, one module each: WalkState <- Shows (_shows) <- Calls
    (_calls) <- Assignments (_assigning) <- _Walk (_walk: cells and the other statements)."""

    def __init__(self, notebook: Notebook, hints: dict[str, Hint] | None = None,
                 said: dict | None = None, read: Read | None = None):
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
        read = read or Read.of(notebook)   # every cell parsed once for it, before the walk
        self.layers, self.sizes, self.least = read.layers, read.sizes, read.least
        self.record.uses = read.uses
        self.claimed, self.paired = read.claimed, read.paired
        # the cell being walked (cell() sets them)
        self.cell_now: Cell
        self.lines: list[str] = []
        self.compared: list[Compared] = []   # this cell's cmp() lines, for its output
        self.shows: list[Show] = []
        self.cell_steps: list[Step] = []
        self.unreadable = ""                  # why the cell's output cannot be matched
        # statements are read by the allow-list a case's blocks are read by: assignments'
        # targets and operators, range() loops unrolled within its bounds
        self.reading = Statements(lambda node, message: Unsupported(message, node), self.bound)

    def bound(self, node: ast.expr) -> int:
        """A loop's bound as the walk knows it: numbers and sizes (n, X.shape[0], len(x)), at
        the notebook's sizes or the stand-ins'."""
        value = size_value(self.translator.expression(node))
        if value is None or not float(value).is_integer() or abs(value) > 10**9:
            raise Unsupported(f"{one(node)} is not a whole number the draft knows: a loop's "
                              "bound is a number or a size", node)
        return int(value)

    def checkpoint(self) -> Checkpoint:
        """What the walk holds now, to go back to when a statement it began (a loop's steps,
        unrolled) turns out to be one it cannot follow."""
        return Checkpoint(
            dict(self.env), dict(self.adjoints), self.segment, list(self.targets),
            dict(self.segment.current), dict(self.segment.inputs), dict(self.segment.stale),
            [len(kept) for kept in self._grown()],
            {k: list(v) for k, v in self.grads.items()}, dict(self.long_lists),
            dict(self.changed))

    def rewind(self, at: Checkpoint) -> None:
        for mine, saved in ((self.env, at.env), (self.adjoints, at.adjoints),
                            (self.grads, at.grads), (self.long_lists, at.long_lists),
                            (self.changed, at.changed)):
            mine.clear()           # the same dicts: the translator and the draws hold env
            mine.update(saved)
        self.segment, self.targets = at.segment, at.targets
        for mine, saved in ((at.segment.current, at.current), (at.segment.inputs, at.inputs),
                            (at.segment.stale, at.stale)):
            mine.clear()
            mine.update(saved)
        for kept, n in zip(self._grown(), at.lengths):
            del kept[n:]

    def _grown(self) -> tuple[list, ...]:
        """The lists a statement only appends to (cut back to their lengths to rewind)."""
        r = self.record
        return (self.targets[-1], self.cell_steps, self.waiting, self.shows, self.compared,
                r.nodes, r.adjoints, r.variables, r.notes, r.stand_ins, r.segments,
                r.instances, r.compared)

    def _order(self, note: Note) -> tuple:
        cells = [c.label for c in self.record.notebook.cells]
        return (cells.index(note.cell) if note.cell in cells else -1, note.line or 0)

    def where(self, node: ast.AST) -> Where:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return Where(self.cell_now.label, line, code, self.cell_now.index * 1_000_000 + line)

    def note(self, cell: str, line: int | None, text: str, internal: bool = False) -> None:
        note = Note(cell, line, text, internal)
        self.record.notes.append(note)
        self.waiting.append(note)

    def left_out(self, node: ast.AST, why: str, line: int | None = None) -> None:
        where = self.where(node)
        code = one(node, 60) if getattr(node, "end_lineno", 0) == where.line \
            else where.code[:60] + " …"   # a block: its first line
        self.note(where.cell, line or where.line, f"left out: {code}: {why}")

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
