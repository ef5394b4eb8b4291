"""The derivatives a tutorial states inside classes and functions, read beside its draft.

`reading.cases_from_cells` reads what the draft does not: micrograd's `Value` rules, a
`torch.autograd.Function`'s backward, a layer's backward, `.grad =` set by hand, a gradient
function called beside autograd. `autograd-lab check TUTORIAL` checks its cases with the
drafted ones, and counts what they compared in the tutorial's count.

Each derivative is checked once, decided by the line of its statement: a case of the reading
whose derivatives' lines a drafted case already compares (a gradient function's call the draft
followed) is left out, so a wrong one fails once, in the draft's case. The places said are the
tutorial's own: `cell 8, line 67` in a notebook, `line 36` in a script or a page."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..api import FAILED, PASSED, CaseResult, check_file
from ..reading import cases_from_cells
from ..result import Problem, located
from ._count import CLASS_RULE
from ._draft import Drafted
from ._notebook import Notebook
from ._text import one_line

COMPARED = (PASSED, FAILED)
NOT_READ = ("a backward rule in a class that the reading of classes does not know (it reads "
            "micrograd's `_backward` rules, a torch.autograd.Function's backward and a layer's "
            "backward(self, dout))")
NOT_DERIVATIVES = ("the code", "the source")   # the reading's word for what it could not parse


@dataclass
class Coded:
    """A tutorial's derivatives read by the reading: the cases to check, each with the places
    (cell, line) of the derivatives it states, and the derivatives it could not read."""

    name: str                                    # the tutorial, as shown
    text: bool = False                           # a script or a page: lines are the file's
    cases: list = field(default_factory=list)    # Case: those no drafted case duplicates
    places: list = field(default_factory=list)   # per case: {(cell, line)} of its derivatives
    unchecked: list = field(default_factory=list)  # {cell, line, text, reason}
    texts: dict = field(default_factory=dict)    # (cell, line) -> the statement, stripped
    order: dict = field(default_factory=dict)    # cell -> its position, to sort places
    enclosing: dict = field(default_factory=dict)  # (cell, line) -> the def holding it
    owner: dict = field(default_factory=dict)      # a method's def -> its class's line
    results: dict = field(default_factory=dict)  # index of a case -> its relabelled result
    lines: list = field(default_factory=list)    # (first line, cell, cell's offset) a cell

    def place(self, line: int) -> tuple[str, int]:
        """The cell and the line in it of a line of the stacked cells."""
        for first, cell, offset in reversed(self.lines):
            if line >= first:
                return cell, line - offset
        return (self.lines[0][1], line) if self.lines else ("", line)

    def said(self, line: int) -> str:
        cell, number = self.place(line)
        return f"line {number}" if self.text else f"{cell}, line {number}"

    def check(self, index: int) -> CaseResult:
        """One case checked (at most once) and named by the tutorial's places."""
        if index not in self.results:
            self.results[index] = self.relabel(check_file(self.cases[index]))
        return self.results[index]

    def relabel(self, result: CaseResult) -> CaseResult:
        name, file = self.name, re.escape(str(result.file))
        result.problems = [Problem(re.sub(file + r":(\d+)(?::\d+)?",
                                          lambda m: f"{name} {self.said(int(m[1]))}",
                                          located(p, str(result.file))))
                           for p in result.problems]
        result.notes = [re.sub(r"^line (\d+):", lambda m: f"{self.said(int(m[1]))}:",
                               re.sub(file + r":(\d+)(?::\d+)?",
                                      lambda m: f"{name} {self.said(int(m[1]))}", n))
                        for n in result.notes]   # `line 58: self.grad is set with =`
        entries: list = [*result.edges, *result.backward]
        for entry in entries:   # a line of the stacked cells
            entry.line = self.place(entry.line)[1] if entry.line else None
        at = result.line   # the case's first line: its class, its function, its seed
        result.file = f"{name} {self.said(at)}" if at else name
        result.line = None
        return result

    def count(self, count: dict, drafted: Drafted) -> dict:
        """The draft's count with what the reading's cases compared: a derivative the draft
        lists unchecked and a compared case states is checked; a rule in a class it could not
        read says why; what the reading found and the draft did not is counted too."""
        compared: set = set()
        why: dict[tuple[str, int], str] = {}
        for i, places in enumerate(self.places):
            got = self.results.get(i)
            if got is not None and got.status in COMPARED:
                compared |= places
            else:
                reason = (f"its case {self.cases[i].name} is {got.status}: "
                          f"{got.problems[0] if got.problems else got.status}" if got else
                          f"its case {self.cases[i].name} was not checked in this run")
                why |= dict.fromkeys(places, one_line(reason, 300))
        calls = {(f.cell, f.line): drafted.calls.get(f.function, set()) for f in drafted.found}
        known = set(calls).union(*calls.values())
        unchecked, checked, found = [], count["checked"], count["found"]
        stated = set().union(*self.places)
        backwards = {self.enclosing[p] for p in stated if self._in_backward(p)}
        for u in count["unchecked"]:
            here = (u["cell"], u["line"])
            if u["reason"] == CLASS_RULE and here not in stated \
                    and self.enclosing.get(here) in backwards:
                found -= 1   # `return grad_input` of a backward a case read: one derivative
                continue
            places = {here} | calls.get(here, set())
            if places & compared:
                checked += 1
                continue
            hit = next((why[p] for p in sorted(places) if p in why), None) \
                or self._why((u["cell"], u["line"]), u["reason"] == CLASS_RULE) \
                or self._at_call(places - {here})
            unchecked.append({**u, "reason": hit} if hit else u)
        for places in self.places:
            for p in sorted(places - known):
                found += 1
                if p in compared:
                    checked += 1
                else:
                    unchecked.append(self._entry(p, why.get(p, "")))
                known.add(p)
        held = {self.enclosing.get(p) for p in known} - {None}
        held_classes = {self.owner.get(d) for d in held} - {None}
        for u in self.unchecked:
            p = (u["cell"], u["line"])
            if p not in known and self.enclosing.get(p) not in held \
                    and not (self._beside_backward(p) and self.owner.get(self.enclosing.get(p))
                             in held_classes):
                found += 1
                unchecked.append(u)
        unchecked.sort(key=lambda u: (self.order.get(u["cell"], -1), u["line"]))
        return {"found": found, "checked": checked, "unchecked": unchecked}

    def _in_backward(self, place: tuple[str, int]) -> bool:
        """A line of a method `backward` (an autograd.Function's, a layer's): the reading
        reads such a method whole, so its case states every derivative written in it."""
        def_ = self.enclosing.get(place)
        return def_ is not None and self.texts.get(def_, "").startswith("def backward(")

    def _why(self, place: tuple[str, int], rule: bool) -> str | None:
        """Why the reading checked a derivative in no case: the reason it gave at its line;
        for a rule in a class, the reason it gave in the same function, else that it does not
        know that kind of class. None: the draft's own reason stands."""
        here = [u["reason"] for u in self.unchecked if (u["cell"], u["line"]) == place]
        if here or not rule:
            return here[0] if here else None
        def_ = self.enclosing.get(place)
        said = [u["reason"] for u in self.unchecked
                if def_ is not None and self.enclosing.get((u["cell"], u["line"])) == def_]
        if said:
            return said[0]
        # the backward was not read for a statement in its forward: that statement, where
        cls = self.owner.get(def_)
        beside = [u for u in self.unchecked if cls is not None
                  and self._beside_backward((u["cell"], u["line"]))
                  and self.owner.get(self.enclosing.get((u["cell"], u["line"]))) == cls]
        if beside:
            u = beside[0]
            where = f"line {u['line']}" if self.text else f"{u['cell']}, line {u['line']}"
            return f"{where}: `{u['text']}`: {u['reason']}"
        return NOT_READ

    def _at_call(self, calls: set) -> str | None:
        """Why the reading made no case of a gradient function: the reason it gave at a call
        (`unknown function tensor()`), which says more than the draft's."""
        said = [(p, u["reason"]) for p in sorted(calls, key=lambda p: (self.order.get(p[0], -1),
                                                                      p[1]))
                for u in self.unchecked if (u["cell"], u["line"]) == p]
        if not said:
            return None
        (cell, line), reason = said[-1]   # the last call: the comparison, after the prints
        where = f"line {line}" if self.text else f"{cell}, line {line}"
        return f"its call on {where}: {reason}"

    def _beside_backward(self, place: tuple[str, int]) -> bool:
        """A line of a forward or a setup_context, read with the backward of its class."""
        def_ = self.enclosing.get(place)
        return def_ is not None and self.texts.get(def_, "").startswith(
            ("def forward(", "def setup_context("))

    def _entry(self, place: tuple[str, int], reason: str) -> dict:
        return {"line": place[1], "cell": place[0], "text": self.texts.get(place, ""),
                "reason": reason or "not checked"}


def read_coded(notebook: Notebook, name: str, drafted: Drafted, text_source: bool) -> Coded:
    """The reading's cases of a tutorial (its cells read in order as one program), less those
    whose derivatives a drafted case compares already."""
    coded = Coded(name, text_source)
    cells, first = [], 1
    for i, cell in enumerate(notebook.cells):
        # a script's cells keep the file's lines (padded): read as they are
        at = 1 if text_source else first
        cells.append((cell.code, at))
        start = at + (len(cell.code) - len(cell.code.lstrip("\n")) if text_source else 0)
        coded.lines.append((start, cell.label, at - 1))
        coded.order[cell.label] = i
        for number, line in enumerate(cell.code.split("\n"), 1):
            if line.strip():
                coded.texts[(cell.label, number)] = one_line(line.strip(), 200)
        enclosing, owner = _defs(cell.code, cell.label)
        coded.enclosing |= enclosing
        coded.owner |= owner
        first += cell.code.count("\n") + 1
    read = cases_from_cells(cells, name, [c.pictures for c in notebook.cells])
    drafts = set().union(*(w.covers for w in drafted.cases))
    for case in read.cases:
        # a picture's claims (steps) state no derivative: nothing of them is drafted
        lines = [case.line_of("gradient", k) for k in getattr(case, "gradient", {})] \
            + [case.line_of("backward", k) for k in getattr(case, "backward", {})]
        places = {coded.place(line) for line in lines if line}
        if places and places <= drafts:   # the draft's case checks these: once is enough
            continue
        coded.cases.append(case)
        coded.places.append(places)
    for u in read.unchecked:
        if u.what in NOT_DERIVATIVES:
            continue
        p = coded.place(u.line)
        coded.unchecked.append({"line": p[1], "cell": p[0],
                                "text": coded.texts.get(p, one_line(u.what, 200)),
                                "reason": one_line(u.reason, 300)})
    return coded


def _defs(code: str, cell: str) -> tuple[dict, dict]:
    """(cell, line) -> (cell, line) of the function or the method holding it: a micrograd
    operator's closure and the forward it sits in are one derivative's, as are a backward's
    statements; and each method's (cell, line) -> its class's (a backward and the forward it
    is read with are one class's)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}, {}
    functions = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
    classes = [c for c in tree.body if isinstance(c, ast.ClassDef)]
    methods = [(m, c) for c in classes for m in c.body if isinstance(m, ast.FunctionDef)]
    functions += [m for m, _ in methods]
    enclosing = {(cell, line): (cell, f.lineno) for f in functions
                 for line in range(f.lineno, (f.end_lineno or f.lineno) + 1)}
    return enclosing, {(cell, m.lineno): (cell, c.lineno) for m, c in methods}
