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

from ._backward import Backward, passes, skeleton, totals, upstream, with_needed
from ._entries import (
    Digits,
    Draft,
    Entry,
    StepOut,
    cell_number,
    comment_for,
    digits,
    dtype_of,
    input_entry,
    slug,
)
from ._graph import Graph, Group, Hand, Points, group_key, grouped
from ._held import Dim, Drawn, Leaf, Unsupported
from ._lines import backward_block, forward_block
from ._notebook import Note
from ._records import DerivativeFunction, Expect, Instance, Record, Segment, Step, closure_leaves
from ._translate import Translator, case_name, checked_text, renamed, sized


def drafts(record: Record, stem: str) -> tuple[list[Draft], list[Note]]:
    """Every case the record holds, and what could not be made a case (as notes)."""
    builder = _Builder(record, slug(stem))
    out = [builder.guarded(builder.behaviour, segment) for segment in record.segments]
    out += builder.gradients()
    out += builder.values()
    return [d for d in out if d is not None], builder.notes


class _Builder:
    def __init__(self, record: Record, stem: str):
        self.record, self.stem = record, stem
        self.notes: list[Note] = []
        self.names: set[str] = set()
        self.used_functions: set[str] = set()
        self.said: set[int] = set()    # drawn inputs whose draw is said

    def unique(self, name: str) -> str:
        base, n = name[:100], 1
        while name in self.names:
            n += 1
            name = f"{base[:95]}_{n}"
        self.names.add(name)
        return name

    def note(self, where, text: str) -> None:
        self.notes.append(Note(where.cell, where.line, text))

    def drawn(self, leaves) -> None:
        """Once for each drawn input of a case: where the case cannot draw the notebook's
        numbers, or may differ from them in the last bit."""
        for leaf in leaves:
            drawn = leaf.value
            if not isinstance(drawn, Drawn) or id(leaf.origin) in self.said:
                continue
            self.said.add(id(leaf.origin))
            where = leaf.origin.where
            if drawn.stand_in:
                self.note(where, f"not the notebook's numbers: {leaf.name} is {drawn.stand_in}, "
                          "which a case cannot draw (it draws each value from a fresh "
                          f"generator): seed {drawn.seed} stands in, and no number that depends "
                          f"on {leaf.name} is claimed")
            elif drawn.rounded:
                self.note(where, f"{leaf.name}: {drawn.rounded}")

    def guarded(self, build, what, where=None):
        """build(what), or None and a note if it fails: one bad case never stops the rest."""
        try:
            return build(what)
        except Unsupported as exc:
            reason, internal = exc.message, False
        except Exception as exc:  # a bug of ours: said, and an error where the drafts are checked
            reason, internal = f"the draft failed ({type(exc).__name__}); please report it", True
        where = where or _first_where(what)
        self.notes.append(Note(where.cell if where else "", where.line if where else None,
                               f"no case drafted here: {reason}", internal))
        return None

    # --- behaviour cases ---------------------------------------------------------------------

    def behaviour(self, segment: Segment) -> Draft | None:
        rename = _renames(segment)
        constants = {n: ast.Constant(v) for n, v in _numbers(segment).items()}
        steps = [s for s in (self._step(step, {**constants, **rename}) for step in segment.steps)
                 if s]
        steps = _merged(steps)
        if not any(s.key or s.expect for s in steps):
            return None
        wheres = [leaf.where for leaf in segment.inputs.values()] + list(_wheres(segment.steps))
        first = min(wheres, key=lambda w: w.order)
        last = max(wheres, key=lambda w: w.order)
        dtype = dtype_of(segment.inputs.values())
        number = f"{cell_number(first.cell)}-{cell_number(last.cell)}"
        draft = Draft(self.unique(f"{self.stem}_cells_{number}"), "behaviour",
                      f"{first.cell} to {last.cell}: autograd's state, cell by cell",
                      self.record.notebook.path, dtype, (first.cell, last.cell))
        numbers = _numbers(segment)
        draft.inputs = [input_entry(rename[name], leaf, lambda t: sized(t, numbers))
                        for name, leaf in segment.inputs.items()]
        self.drawn(segment.inputs.values())
        draft.steps = steps
        draft.header = [str(n) for n in segment.notes]
        draft.claims = sum(_count(s) for s in steps)
        return draft

    def _step(self, step: Step, rename: dict, numbers: dict | None = None) -> StepOut | None:
        notes = [str(n) for n in step.notes]
        expect = _expectations(step.expect, rename)
        again = " (repeated here: the case needs it)" if step.again else ""
        said = comment_for(step.where) + again
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
            if not any(s.key for s in inner):   # a case's no_grad holds a list of steps:
                # with none followed, the block is a comment, and what it shows a look
                said_out = (f"left out: {step.where.code}: nothing in the block is a step "
                            "the draft follows")
                self.note(step.where, said_out)
                notes += [n for s in inner for n in s.notes] + [f"{step.where}: {said_out}"]
                return StepOut("", None, "", expect + [e for s in inner for e in s.expect],
                               notes=notes)
            return StepOut("no_grad", inner, said, expect, notes=notes)
        if action == "detach":
            new, old = step.args
            return StepOut("detach", {rename[new]: rename[old]}, said, expect, notes=notes)
        if action == "requires_grad":
            name, flag = step.args
            return StepOut("requires_grad", {rename[name]: flag}, said, expect, notes=notes)
        if action == "backward" and len(step.args) == 2:   # backward(gradient=...)
            name, given = step.args
            try:
                gradient = checked_text(renamed(given.tree, rename))
            except Unsupported as exc:
                self.note(step.where, f"left out: the gradient of {name}.backward(): "
                          f"{exc.message}")
                return None
            return StepOut(action, {"tensor": rename[name], "gradient": gradient}, said, expect,
                           notes=notes)
        return StepOut(action, rename[step.args[0]], said, expect, notes=notes)

    # --- gradient cases ----------------------------------------------------------------------

    def gradients(self) -> list[Draft]:
        groups = grouped(self.record.instances)
        self._place_functions(groups)
        out: list[Draft] = []
        split = passes(self.record.adjoints)
        for group in groups:
            out.append(self.guarded(lambda g: self._gradient(g, split[0] if split else None),
                                    group, group.first))
            for own in split[1:]:   # a later exercise's pass: a case of its own, if any
                more = self.guarded(lambda g, own=own: self._later_pass(g, own), group,
                                    own[0].wheres[0])
                if more is not None:
                    out.append(more)
        return out

    def _later_pass(self, group: Group, own) -> Draft | None:
        """A backward pass written again in a later cell (Exercise 2, 3): its own entries and
        the earlier ones they use, over the same graph; None when it is of another graph."""
        graph = Graph(group.instances[0].output)
        backward = Backward(graph, self.record, self.note,
                            with_needed(own, self.record.adjoints), group.instances)
        entries = backward.entries()
        if not any(id(a.node) in backward.held for a in own):
            return None
        base = group.instances[0]
        name = graph.names[base.output]
        where = own[0].wheres[0]
        draft = Draft(self.unique(f"{self.stem}_{name}_in{cell_number(base.where.cell)}"
                                  f"_again_in{cell_number(where.cell)}"), "gradient",
                      f"The graph of {name} ({base.where.cell}), its backward pass written "
                      f"again ({where.cell}): by hand, SymPy and autograd",
                      self.record.notebook.path, dtype_of(graph.leaves),
                      (graph.first().cell, where.cell))
        draft.forward = [Entry(graph.names[n], graph.text(n), comment_for(n.where))
                         for n in graph.nodes]
        draft.forward_block = forward_block(graph, self.record.sizes, self.record.modules)
        draft.output = Entry("output", name, comment_for(base.where))
        draft.upstream = upstream(graph, base)
        draft.backward = entries
        draft.backward_block = backward_block(backward.block(), backward.adjoints, graph)
        draft.inputs = [input_entry(graph.names[leaf], leaf, graph.sizes)
                        for leaf in graph.leaves]
        draft.dims = [Entry(graph.names[d], d.value, comment_for(d.where))
                      for d in sorted(graph.dims, key=lambda d: d.where.order)]
        draft.header = backward.verdicts()
        return draft

    def _place_functions(self, groups: list[Group]) -> None:
        """Each hand-written derivative function goes to the graph it names (dy_dx: output y,
        parameter x), the run nearest after its first call; with none, the nearest before;
        with no backward() at all, the nearest node of that name with x under it."""
        for function in self.record.functions.values():
            fits = [g for g in groups if g.output.name == function.of and function.wrt in g.params]
            if not fits:
                pseudo = self._pseudo(function)
                if pseudo is None:
                    continue
                fits = [g for g in groups if g.key == group_key(pseudo)]
                if not fits:
                    groups.append(Group(pseudo))
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

    def _gradient(self, group: Group, adjoints=None) -> Draft:
        graph = Graph(group.instances[0].output)
        base = group.instances[0]
        dtype = dtype_of(graph.leaves)
        hand = Hand(graph, self.record.variables, self.note)
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
        draft.forward = [Entry(graph.names[n], graph.text(n), comment_for(n.where))
                         for n in graph.nodes]
        draft.forward_block = forward_block(graph, self.record.sizes, self.record.modules)
        if base.pseudo:
            draft.output = Entry("output", name, f"no backward() in the notebook: the output "
                                 f"that {', '.join(f.func.name for f in group.functions)} names")
        else:
            draft.output = Entry("output", name, comment_for(base.where))
        draft.upstream = upstream(graph, base)
        for entry in totals(graph, group.instances, self.note):
            hand.total.setdefault(entry.key, entry)
        backward = Backward(graph, self.record, self.note, adjoints, group.instances)
        draft.backward = backward.entries()
        draft.backward_block = backward_block(backward.block(), backward.adjoints, graph)
        draft.chain_rule, draft.to_write = hand.edges(written=bool(draft.backward))
        draft.gradient = hand.totals()
        if not (hand.chain or hand.total or draft.backward) and graph.tensor:
            draft.backward, draft.to_write = skeleton(graph)
            draft.chain_rule = []
        draft.inputs = [input_entry(graph.names[leaf], leaf, graph.sizes)
                        for leaf in graph.leaves]
        self.drawn(graph.leaves)
        draft.dims = [Entry(graph.names[d], d.value, comment_for(d.where))
                      for d in sorted(graph.dims, key=lambda d: d.where.order)]
        points = Points(graph)
        for instance in group.instances:
            at = graph.at(instance)
            for seen in instance.grads:
                assert isinstance(seen.target, Leaf)   # a gradient is printed for a leaf
                points.add(at, f"grad/{graph.leaf(seen.target.name)}", seen.written,
                           comment_for(seen.where, seen.shown))
        for seen in self.record.values:
            graph.value_claim(seen, points, hand)
        for function in group.functions:
            hand.calls(function, points)
        draft.expect, draft.points = points.written()
        draft.claims = points.count
        draft.header = backward.verdicts()
        if draft.to_write and draft.backward:
            draft.header = [f"The notebook writes no derivative by hand for the graph of {name}. "
                            "Write each entry of its backward pass (d<name>: the gradient of the "
                            f"output by name) where it says ~, then rename this file to .yaml; "
                            "until then checking it names the entries still to write."]
        elif draft.to_write:
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
                draft.inputs.append(Entry(n, Digits(repr(float(value))), comment_for(call.where)))
            value_name = case_name(f"{func.name}_{k}" if several else func.name,
                                   set(names) | {e.key for e in draft.inputs})
            draft.steps.append(StepOut(value_name, formula.text, comment_for(func.where),
                                       [Entry(value_name, Digits(call.written),
                                              comment_for(call.where, call.shown))]))
            draft.claims += 1
        return draft if draft.steps else None


# --- behaviour helpers -----------------------------------------------------------------------

def _first_where(segment):
    wheres = [leaf.where for leaf in getattr(segment, "inputs", {}).values()]
    wheres += list(_wheres(getattr(segment, "steps", [])))
    return min(wheres, key=lambda w: w.order) if wheres else None


def _numbers(segment: Segment) -> dict[str, int]:
    """The dims a behaviour case's expressions and shapes use, by name: a behaviour case has
    no dims, so each is written as its number."""
    found: dict[str, int] = {}
    for leaf in segment.inputs.values():
        found.update({n: d.value for n, d in leaf.dims.items()})
    for step in _all_steps(segment.steps):
        for held in step.args:
            found.update({n: d.value for n, d in getattr(held, "dims", {}).items()})
            found.update({n: d.value for n, d in getattr(held, "deps", {}).items()
                          if isinstance(d, Dim)})
    return found


def _all_steps(steps: list[Step]):
    for step in steps:
        yield step
        yield from _all_steps(step.inner)


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
        value = digits(e.value)
        if key in out:
            continue  # shown twice in one cell: the first is the claim
        out[key] = Entry(key, value, comment_for(e.where, e.shown))
    return list(out.values())


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
