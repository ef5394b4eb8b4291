"""From what the walk recorded to case drafts: what each entry says and where it came from.

- each run of cells that shows autograd's state becomes a behaviour case (its steps);
- each graph that backward() ran over becomes a gradient case; graphs of one shape (the same
  expressions over the same leaves) are one case whose other runs are points. Its hand-written
  method is what the notebook wrote by hand for that graph (dz_dx, dloss_dy_pred, dL_dw),
  matched by name and by the expressions those names held; where the notebook wrote none, the
  edges are listed to be written, never filled in;
- a hand-written derivative with no graph of its own keeps its printed values as a check of
  their arithmetic.
"""
from __future__ import annotations

import ast
import copy
import itertools
from dataclasses import dataclass, field

from ._notebook import Note
from ._translate import (
    Leaf,
    Node,
    Translator,
    Unsupported,
    case_name,
    checked_text,
    derivative,
    renamed,
)
from ._walk import (
    DerivativeFunction,
    DerivativeVariable,
    Expect,
    Instance,
    Observation,
    Record,
    Segment,
    Step,
    closure_leaves,
)


class Digits(str):
    """A number as the notebook printed it (or a value as its dtype holds it), written as is."""


@dataclass
class Entry:
    key: str
    value: object              # str (an expression, a name), Digits, list, dict, bool, None
    comment: str = ""


@dataclass
class Point:
    at: list[Entry]
    expect: list[Entry]


@dataclass
class StepOut:
    key: str                   # compute's node name, an action, or "" for a step that looks
    value: object
    comment: str = ""
    expect: list[Entry] = field(default_factory=list)
    inner: list[StepOut] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Draft:
    name: str
    kind: str                  # "gradient", "behaviour" or "values"
    title: str
    source: str
    dtype: str
    cells: tuple[str, str]     # the first and last cell it comes from
    header: list[str] = field(default_factory=list)
    inputs: list[Entry] = field(default_factory=list)
    forward: list[Entry] = field(default_factory=list)
    output: Entry | None = None
    chain_rule: list[Entry] = field(default_factory=list)
    gradient: list[Entry] = field(default_factory=list)
    expect: list[Entry] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    steps: list[StepOut] = field(default_factory=list)
    to_write: list[str] = field(default_factory=list)   # chain_rule edges left for the author
    claims: int = 0


def drafts(record: Record, stem: str) -> tuple[list[Draft], list[Note]]:
    """Every case the record holds, and what could not be made a case (as notes)."""
    builder = _Builder(record, slug(stem))
    out = [builder.guarded(builder.behaviour, segment) for segment in record.segments]
    out += builder.gradients()
    out += builder.values()
    return [d for d in out if d is not None], builder.notes


def slug(stem: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in stem)[:40]
    return slug if slug and slug[0].isalnum() else "nb_" + slug


def cell_number(label: str) -> str:
    """In [16] -> 16; a cell never run ("cell 12") -> c12."""
    inside = label[label.find("[") + 1:label.find("]")] if "[" in label else ""
    return inside if inside.isdigit() else "c" + label.split()[-1]


def _said(where, shown: str = "") -> str:
    code = f"{where}: {where.code}" if where.code else str(where)
    return f"{code} -> {shown}" if shown else code


class _Builder:
    def __init__(self, record: Record, stem: str):
        self.record, self.stem = record, stem
        self.notes: list[Note] = []
        self.names: set[str] = set()
        self.used_functions: set[str] = set()

    def unique(self, name: str) -> str:
        base, n = name[:100], 1
        while name in self.names:
            n += 1
            name = f"{base[:95]}_{n}"
        self.names.add(name)
        return name

    def note(self, where, text: str) -> None:
        self.notes.append(Note(where.cell, where.line, text))

    def guarded(self, build, what, where=None):
        """build(what), or None and a note if it fails: one bad case never stops the rest."""
        try:
            return build(what)
        except Unsupported as exc:
            reason = exc.message
        except Exception as exc:  # a bug of ours
            reason = f"the draft failed ({type(exc).__name__}); please report it"
        where = where or _first_where(what)
        self.notes.append(Note(where.cell if where else "", where.line if where else None,
                               f"no case drafted here: {reason}"))
        return None

    # --- behaviour cases ---------------------------------------------------------------------

    def behaviour(self, segment: Segment) -> Draft | None:
        rename = _renames(segment)
        steps = [s for s in (self._step(step, rename) for step in segment.steps) if s]
        steps = _merged(steps)
        if not any(s.key or s.expect for s in steps):
            return None
        wheres = [leaf.where for leaf in segment.inputs.values()] + list(_wheres(segment.steps))
        first = min(wheres, key=lambda w: w.order)
        last = max(wheres, key=lambda w: w.order)
        dtype = _dtype(segment.inputs.values())
        number = f"{cell_number(first.cell)}-{cell_number(last.cell)}"
        draft = Draft(self.unique(f"{self.stem}_cells_{number}"), "behaviour",
                      f"{first.cell} to {last.cell}: autograd's state, cell by cell",
                      self.record.notebook.path, dtype, (first.cell, last.cell))
        draft.inputs = [_input(rename[name], leaf) for name, leaf in segment.inputs.items()]
        draft.steps = steps
        draft.header = [str(n) for n in segment.notes]
        draft.claims = sum(_count(s) for s in steps)
        return draft

    def _step(self, step: Step, rename: dict) -> StepOut | None:
        notes = [str(n) for n in step.notes]
        expect = _expectations(step.expect, rename)
        said = _said(step.where) + (" (repeated here: the case needs it)" if step.again else "")
        action = step.action
        if action == "compute":
            name, node = step.args
            try:
                text = checked_text(renamed(node.tree, rename))
            except Unsupported as exc:
                self.note(step.where, f"left out: {name}: {exc.message}")
                return None
            return StepOut(rename[name], text, said, expect, notes=notes)
        if action == "look":
            return StepOut("", None, "", expect, notes=notes) if expect or notes else None
        if action == "no_grad":
            inner = _merged([s for s in (self._step(i, rename) for i in step.inner) if s])
            return StepOut("no_grad", inner, said, expect, notes=notes)
        if action == "detach":
            new, old = step.args
            return StepOut("detach", {rename[new]: rename[old]}, said, expect, notes=notes)
        if action == "requires_grad":
            name, flag = step.args
            return StepOut("requires_grad", {rename[name]: flag}, said, expect, notes=notes)
        return StepOut(action, rename[step.args[0]], said, expect, notes=notes)

    # --- gradient cases ----------------------------------------------------------------------

    def gradients(self) -> list[Draft]:
        groups = _groups(self.record.instances)
        self._place_functions(groups)
        return [self.guarded(self._gradient, g, g.first) for g in groups]

    def _place_functions(self, groups: list[_Group]) -> None:
        """Each hand-written derivative function goes to the graph it names (dy_dx: output y,
        parameter x), the run nearest after its first call; with none, the nearest before;
        with no backward() at all, the nearest node of that name with x under it."""
        for function in self.record.functions.values():
            fits = [g for g in groups if g.output.name == function.of and function.wrt in g.params]
            if not fits:
                pseudo = self._pseudo(function)
                if pseudo is None:
                    continue
                fits = [g for g in groups if g.key == _key(pseudo)]
                if not fits:
                    groups.append(_Group(pseudo))
                    fits = [groups[-1]]
            at = (function.calls[0].where if function.calls else function.func.where).order
            after = [g for g in fits if g.first.order >= at]
            chosen = min(after, key=lambda g: g.first.order) if after else \
                max(fits, key=lambda g: g.first.order)
            chosen.functions.append(function)
            self.used_functions.add(function.func.name)

    def _pseudo(self, function: DerivativeFunction) -> Instance | None:
        nodes = [n for n in self.record.nodes if n.name == function.of and n.tracked
                 and n.shape == () and any(leaf.name == function.wrt and leaf.grad
                                           for leaf in closure_leaves(n))]
        if not nodes:
            return None
        at = (function.calls[0].where if function.calls else function.func.where).order
        node = min(nodes, key=lambda n: abs(n.where.order - at))
        if any(leaf.value is None for leaf in closure_leaves(node)):
            return None
        return Instance(node, node.where, pseudo=True)

    def _gradient(self, group: _Group) -> Draft:
        graph = _Graph(group.instances[0].output)
        base = group.instances[0]
        dtype = _dtype(graph.leaves)
        hand = _Hand(graph, self)
        for variable in self.record.variables:
            hand.variable(variable)
        for function in group.functions:
            hand.function(function, self.record)
        name = graph.names[base.output]
        cell = cell_number(base.where.cell)
        draft = Draft(self.unique(f"{self.stem}_{name}_in{cell}"), "gradient",
                      f"The graph of {name} ({base.where.cell}): its gradient by hand, SymPy and "
                      "autograd", self.record.notebook.path, dtype,
                      (graph.first().cell, base.where.cell))
        draft.inputs = [_input(graph.names[leaf], leaf) for leaf in graph.leaves]
        draft.forward = [Entry(graph.names[n], graph.text(n), _said(n.where)) for n in graph.nodes]
        if base.pseudo:
            draft.output = Entry("output", name, f"no backward() in the notebook: the output "
                                 f"that {', '.join(f.func.name for f in group.functions)} names")
        else:
            draft.output = Entry("output", name, _said(base.where))
        draft.chain_rule, draft.to_write = hand.edges()
        draft.gradient = hand.totals()
        points = _Points(graph)
        for instance in group.instances:
            at = graph.at(instance)
            for seen in instance.grads:
                assert isinstance(seen.target, Leaf)   # a gradient is printed for a leaf
                points.add(at, f"grad/{graph.leaf(seen.target.name)}", seen.written,
                           _said(seen.where, seen.shown))
        for seen in self.record.values:
            graph.value_claim(seen, points, hand)
        for function in group.functions:
            hand.calls(function, points)
        draft.expect, draft.points = points.written()
        draft.claims = points.count
        if draft.to_write:
            draft.header = [f"The notebook writes no derivative by hand for "
                            f"{'these edges' if len(draft.to_write) > 1 else 'this edge'} of "
                            f"the graph: {', '.join(draft.to_write)}. Write each local "
                            "derivative (node/parent) where it says ~, then rename this file to "
                            ".yaml; until then checking it names the edges still to write."]
        return draft

    # --- a hand-written derivative with no graph: its printed values ---------------------------

    def values(self) -> list[Draft]:
        out = []
        for function in self.record.functions.values():
            if function.func.name in self.used_functions:
                continue
            if not function.calls:
                self.note(function.func.where, f"{function.func.name}: no graph in the notebook "
                          f"has {function.of} depending on {function.wrt} with requires_grad, and "
                          "no call of it prints a value: nothing to check")
                continue
            draft = self.guarded(self._values, function, function.func.where)
            if draft:
                out.append(draft)
        return out

    def _values(self, function: DerivativeFunction) -> Draft | None:
        func = function.func
        several = len(function.calls) > 1
        translator = Translator(self.record.modules, self.record.env)
        first, last = func.where, function.calls[-1].where
        draft = Draft(self.unique(f"{self.stem}_{func.name}_values"), "values",
                      f"{func.name}: the values the notebook printed", self.record.notebook.path,
                      "float64", (first.cell, last.cell))
        draft.header = [f"No graph in the notebook has {function.of} depending on "
                        f"{function.wrt} with requires_grad, so {func.name} cannot be checked as "
                        "a derivative here: only the arithmetic of its printed values is."]
        for k, call in enumerate(function.calls, 1):
            names = [case_name(p + (f"_{k}" if several else ""), self.names) for p in func.params]
            if len(call.args) != len(names):
                self.note(call.where, f"left out: {func.name} called with {len(call.args)} "
                          f"arguments; it takes {len(names)}")
                continue
            try:
                formula = translator.formula(func, names)
            except Unsupported as exc:
                self.note(func.where, f"left out: {func.name}: {exc.message}")
                return None
            if formula.deps:
                self.note(func.where, f"left out: {func.name} uses "
                          f"{', '.join(sorted(formula.deps))} besides its parameters")
                return None
            for n, value in zip(names, call.args):
                draft.inputs.append(Entry(n, Digits(repr(float(value))), _said(call.where)))
            value_name = case_name(f"{func.name}_{k}" if several else func.name,
                                   set(names) | {e.key for e in draft.inputs})
            draft.steps.append(StepOut(value_name, formula.text, _said(func.where),
                                       [Entry(value_name, Digits(call.written),
                                              _said(call.where, call.shown))]))
            draft.claims += 1
        return draft if draft.steps else None


# --- behaviour helpers -----------------------------------------------------------------------

def _first_where(segment):
    wheres = [leaf.where for leaf in getattr(segment, "inputs", {}).values()]
    wheres += list(_wheres(getattr(segment, "steps", [])))
    return min(wheres, key=lambda w: w.order) if wheres else None


def _renames(segment: Segment) -> dict[str, str]:
    names = list(dict.fromkeys(list(segment.inputs) + list(_all_names(segment.steps))))
    taken: set[str] = set()
    out = {}
    for name in names:
        out[name] = case_name(name, taken)
        taken.add(out[name])
    return out


def _all_names(steps: list[Step]):
    for step in steps:
        if step.action == "compute" or step.action == "detach":
            yield step.args[0]
        yield from _all_names(step.inner)


def _wheres(steps: list[Step]):
    for step in steps:
        yield step.where
        yield from (e.where for e in step.expect)
        yield from _wheres(step.inner)


def _expectations(expects: list[Expect], rename: dict) -> list[Entry]:
    out: dict[str, Entry] = {}
    for e in expects:
        kind, _, target = e.key.partition("/")
        key = f"{kind}/{rename.get(target, target)}" if target else rename.get(kind, kind)
        value = _digits(e.value)
        if key in out:
            continue  # shown twice in one cell: the first is the claim
        out[key] = Entry(key, value, _said(e.where, e.shown))
    return list(out.values())


def _digits(value):
    if isinstance(value, list):
        return [_digits(v) for v in value]
    if isinstance(value, str) and not isinstance(value, Digits) and _is_number(value):
        return Digits(value)
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _merged(steps: list[StepOut]) -> list[StepOut]:
    """A step that only looks joins the step before it, when that one holds none of its keys
    (`backward: y` then `x.grad` reads as one step, as the seeds' cases write it). One that
    claims nothing hands its notes on to the next step (or to a last step of notes alone)."""
    out: list[StepOut] = []
    carried: list[str] = []
    for step in steps:
        step.notes = carried + step.notes
        carried = []
        if step.key == "" and not step.expect:
            carried = step.notes
            continue
        before = out[-1] if out else None
        if (step.key == "" and before is not None and before.key != "no_grad"
                and not any(e.key == "raises" for e in before.expect)
                and not {e.key for e in step.expect} & {e.key for e in before.expect}
                and not step.notes):
            before.expect += step.expect
            continue
        out.append(step)
    if carried:
        out.append(StepOut("", None, "", [], notes=carried))   # written as comments only
    return out


def _count(step: StepOut) -> int:
    return len(step.expect) + sum(map(_count, step.inner))


def _input(name: str, leaf: Leaf) -> Entry:
    value = _written_value(leaf.value)
    said = _said(leaf.where) + (f" ({leaf.dtype})" if leaf.dtype != "float32" else "")
    if leaf.grad:
        return Entry(name, {"value": value, "grad": True}, said)
    return Entry(name, value, said)


def _written_value(value):
    if isinstance(value, list):
        return [_written_value(v) for v in value]
    return Digits(repr(float(value)))


def _dtype(leaves) -> str:
    found = {leaf.dtype for leaf in leaves} - {"int64"}
    return "float64" if "float64" in found else "float32"


# --- gradient helpers ------------------------------------------------------------------------

def _signature(held, memo: dict) -> tuple:
    """What a name means, whatever its value: the expressions down to the leaves' names."""
    key = id(held)
    if key not in memo:
        if isinstance(held, Leaf):
            memo[key] = ("leaf", held.name, held.shape, held.dtype)
        else:
            memo[key] = ("node", held.name, held.text,
                         tuple(sorted((n, _signature(d, memo)) for n, d in held.deps.items())))
    return memo[key]


def _key(instance: Instance) -> tuple:
    leaves = closure_leaves(instance.output)
    return (_signature(instance.output, {}),
            tuple(sorted((leaf.name, leaf.grad) for leaf in leaves)))


class _Group:
    def __init__(self, instance: Instance):
        self.instances = [instance]
        self.key = _key(instance)
        self.output = instance.output
        self.params = {leaf.name for leaf in closure_leaves(instance.output) if leaf.grad}
        self.first = instance.where
        self.functions: list[DerivativeFunction] = []


def _groups(instances: list[Instance]) -> list[_Group]:
    groups: list[_Group] = []
    for instance in instances:
        key = _key(instance)
        same = next((g for g in groups if g.key == key), None)
        if same:
            same.instances.append(instance)
        else:
            groups.append(_Group(instance))
    return groups


class _Graph:
    """One graph's leaves and nodes, each under a name unique in the case."""

    def __init__(self, output: Node):
        self.output = output
        self.leaves: list[Leaf] = []
        self.nodes: list[Node] = []
        self._collect(output, set())
        self.leaves.sort(key=lambda leaf: leaf.where.order)   # as the notebook made them
        self.memo: dict = {}
        self.names: dict = {}
        taken: set[str] = set()
        held_all: list[Leaf | Node] = [*self.leaves, *self.nodes]
        for held in sorted(held_all, key=lambda h: -h.where.order):
            self.names[held] = case_name(held.name, taken)   # the latest keeps its name
            taken.add(self.names[held])
        for leaf in self.leaves:
            self.names[leaf.origin] = self.names[leaf]
        self.by_name = {h.name: h for h in sorted(held_all,
                                                  key=lambda h: h.where.order)}

    def _collect(self, held, seen: set) -> None:
        if id(held) in seen:
            return
        seen.add(id(held))
        if isinstance(held, Leaf):
            self.leaves.append(held)
            return
        for dep in held.deps.values():
            self._collect(dep, seen)
        self.nodes.append(held)   # after what it uses: evaluation order

    def first(self):
        return min((h.where for h in self.leaves + self.nodes), key=lambda w: w.order)

    def text(self, node: Node) -> str:
        return checked_text(renamed(node.tree, {n: self.names[d] for n, d in node.deps.items()}))

    def same(self, name: str, held) -> object | None:
        """The graph's own definition of name, when held means the same thing there."""
        mine = self.by_name.get(name)
        if mine is None or held is None:
            return None
        return mine if _signature(mine, self.memo) == _signature(held, self.memo) else None

    def at(self, instance_or_leaves) -> dict:
        leaves = closure_leaves(instance_or_leaves.output) \
            if isinstance(instance_or_leaves, Instance) else instance_or_leaves
        return self.at_values({leaf.name: leaf.value for leaf in leaves})

    def leaf(self, name: str) -> str:
        """The case's name of the graph's leaf named so in the notebook."""
        return next(self.names[leaf] for leaf in self.leaves if leaf.name == name)

    def at_values(self, values: dict) -> dict:
        base = {leaf.name: leaf for leaf in self.leaves}
        return {self.names[base[n]]: v for n, v in values.items()
                if n in base and v != base[n].value}

    def value_claim(self, seen: Observation, points: _Points, hand: _Hand) -> None:
        """A printed value of a node this graph has (the same expression over the same leaves),
        at the point its leaves held then; a printed hand-written total, as a gradient."""
        target = seen.target
        if not isinstance(target, Node):
            return
        total = hand.printed_total(target)
        leaves = closure_leaves(target)
        if any(leaf.value is None or self.same(leaf.name, leaf) is None for leaf in leaves):
            return
        at = self.at(leaves)
        if total:
            points.add(at, f"grad/{total}", seen.written, _said(seen.where, seen.shown))
        elif self.same(target.name, target) is not None:
            points.add(at, self.names[self.by_name[target.name]], seen.written,
                       _said(seen.where, seen.shown))


class _Points:
    """Claims gathered by the point they hold at: the base point first (at: {})."""

    def __init__(self, graph: _Graph):
        self.graph = graph
        self.points: list[tuple[dict, dict]] = [({}, {})]
        self.count = 0

    def add(self, at: dict, key: str, written, comment: str) -> None:
        written = _digits(written)
        for where, claims in self.points:
            if where != at:
                continue
            if key in claims:
                if claims[key].value == written:
                    return
                continue
            claims[key] = Entry(key, written, comment)
            self.count += 1
            return
        self.points.append((at, {key: Entry(key, written, comment)}))
        self.count += 1

    def written(self) -> tuple[list[Entry], list[Point]]:
        (_, base), *rest = self.points
        return list(base.values()), [
            Point([Entry(n, _written_value(v)) for n, v in at.items()], list(claims.values()))
            for at, claims in rest]


class _Hand:
    """The notebook's hand-written derivatives that belong to one graph."""

    def __init__(self, graph: _Graph, builder: _Builder):
        self.graph, self.builder = graph, builder
        self.chain: dict[str, Entry] = {}
        self.total: dict[str, Entry] = {}
        self.printed: dict[int, str] = {}     # id(variable node) -> parameter, for its prints

    def variable(self, v: DerivativeVariable) -> None:
        g = self.graph
        of, wrt = g.same(v.of, v.env.get(v.of)), g.same(v.wrt, v.env.get(v.wrt))
        if wrt is None:
            return
        try:
            tree, deps = _inlined(v.node)
        except Unsupported:
            return
        if any(g.same(n, d) is None for n, d in deps.items()):
            return
        text = checked_text(renamed(tree, {n: g.names[g.by_name[n]] for n in deps}))
        if of is not None and isinstance(of, Node) and v.wrt in of.deps:
            key = f"{g.names[of]}/{g.names[wrt]}"
            self.chain.setdefault(key, Entry(key, text, _said(v.node.where)))
            return
        param = isinstance(wrt, Leaf) and wrt.grad
        if param and (of is g.output or (of is None and self._chain(v))):
            name = g.names[wrt]
            if name not in self.total:
                self.total[name] = Entry(name, text, _said(v.node.where))
                self.printed[id(v.node)] = name

    def _chain(self, v: DerivativeVariable) -> bool:
        """dL_dw = dloss_dy_pred * dy_pred_dz * dz_dw: factors that chain from the output to w."""
        factors = _factors(v.node.tree)
        named = {x.node.name: x for x in self.builder.record.variables}
        if not factors or any(f not in v.node.deps or f not in named for f in factors):
            return False
        links = [(named[f].of, named[f].wrt) for f in factors]
        return (links[0][0] == self.graph.output.name and links[-1][1] == v.wrt
                and all(a[1] == b[0] for a, b in itertools.pairwise(links)))

    def printed_total(self, node: Node) -> str | None:
        return self.printed.get(id(node))

    def function(self, f: DerivativeFunction, record: Record) -> None:
        g = self.graph
        translator = Translator(record.modules, record.env)
        wrt = g.by_name.get(f.wrt)
        params = f.func.params
        names = [f.wrt] if len(params) == 1 else params
        if any(n not in g.by_name for n in names):
            self.builder.note(f.func.where, f"left out: {f.func.name}'s parameters "
                              f"({', '.join(params)}) are not all names of the graph of "
                              f"{g.output.name}")
            return
        try:
            formula = translator.formula(f.func, [g.names[g.by_name[n]] for n in names])
        except Unsupported as exc:
            self.builder.note(f.func.where, f"left out: {f.func.name}: {exc.message}")
            return
        if any(isinstance(d, (Leaf, Node)) and g.same(n, d) is None
               for n, d in formula.deps.items()):
            self.builder.note(f.func.where, f"left out: {f.func.name} uses names this graph "
                              "does not have")
            return
        said = _said(f.func.where)
        name = g.names[wrt]
        if f.of == g.output.name and isinstance(wrt, Leaf) and wrt.grad:
            self.total.setdefault(name, Entry(name, formula.text, said))
        elif isinstance(of := g.by_name.get(f.of), Node) and f.wrt in of.deps:
            key = f"{g.names[of]}/{name}"
            self.chain.setdefault(key, Entry(key, formula.text, said))

    def calls(self, f: DerivativeFunction, points: _Points) -> None:
        g = self.graph
        wrt = g.by_name.get(f.wrt)
        if f.of != g.output.name or not (isinstance(wrt, Leaf) and wrt.grad):
            return
        for call in f.calls:
            if len(call.args) != 1 or wrt.shape != ():
                self.builder.note(call.where, f"not checked: {call.where.code}: a point needs "
                                  f"one number for the scalar {f.wrt}")
                continue
            at = g.at_values({f.wrt: float(call.args[0])})
            points.add(at, f"grad/{g.names[wrt]}", call.written, _said(call.where, call.shown))

    def edges(self) -> tuple[list[Entry], list[str]]:
        """chain_rule: the hand-written edges, and every edge still to write when some are
        missing (or when nothing was written at all); never filled in."""
        g = self.graph
        needed = _needed_edges(g)
        missing = [e for e in needed if e not in self.chain]
        totals_cover = {g.names[leaf] for leaf in g.leaves if leaf.grad} <= set(self.total)
        if not missing or (not self.chain and totals_cover):
            return list(self.chain.values()), []
        out = [self.chain.get(key) or Entry(key, None, _to_write(key, g)) for key in needed]
        out += [e for k, e in self.chain.items() if k not in needed]
        return out, missing

    def totals(self) -> list[Entry]:
        return list(self.total.values())


def _inlined(node: Node) -> tuple[ast.expr, dict]:
    """A hand-written derivative with the derivatives it uses written out (dL_dw's factors)."""
    tree, deps = node.tree, dict(node.deps)
    for _ in range(20):
        inner = {n: d for n, d in deps.items() if isinstance(d, Node) and _is_derivative(n)}
        if not inner:
            return tree, deps
        tree = _substitute(tree, {n: d.tree for n, d in inner.items()})
        for n, d in inner.items():
            del deps[n]
            deps.update(d.deps)
    raise Unsupported("hand-written derivatives nested too deep")


def _is_derivative(name: str) -> bool:
    return derivative(name, lambda n: True) is not None


def _substitute(tree: ast.expr, trees: dict) -> ast.expr:
    class Put(ast.NodeTransformer):
        def visit_Name(self, node):
            return copy.deepcopy(trees[node.id]) if node.id in trees else node
    return Put().visit(copy.deepcopy(tree))


def _factors(tree: ast.expr) -> list[str]:
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        left, right = _factors(tree.left), _factors(tree.right)
        return left + right if left and right else []
    return [tree.id] if isinstance(tree, ast.Name) else []


def _needed_edges(g: _Graph) -> list[str]:
    """node/parent for every edge on a path from the output to a parameter (as the loader
    asks for them), from the output down."""
    leads = {id(leaf) for leaf in g.leaves if leaf.grad}
    for node in g.nodes:
        if any(id(d) in leads for d in node.deps.values()):
            leads.add(id(node))
    reached, out = {id(g.output)}, []
    for node in reversed(g.nodes):
        if id(node) not in reached:
            continue
        for _, dep in sorted(node.deps.items()):
            if id(dep) in leads:
                out.append(f"{g.names[node]}/{g.names[dep]}")
                reached.add(id(dep))
    return out


def _to_write(key: str, g: _Graph) -> str:
    node, _, parent = key.partition("/")
    text = next((g.text(n) for n in g.nodes if g.names[n] == node), "")
    return f"to write: d({node})/d({parent}) where {node} = {text}"
