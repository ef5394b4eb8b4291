"""One graph's hand-written backward pass as a case's `backward:` section, its upstream
gradient, and the totals a notebook checks with `hand == x.grad`.

An entry is `d<name>: expression`, in the order the notebook wrote them, each the total (a
`+=` after it included). An entry is written only when the case can say it: the graph has the
name, every forward name it uses means what the graph's does, every d-name it uses is an entry
above it as that entry's total. Any other is left out with a note, and so is every entry that
uses one left out (the loader would refuse it: never guessed). Nothing is checked here: the
case's backward check compares each entry with autograd's .grad, which is what the notebook's
cmp() lines print, and the draft says so beside each entry."""
from __future__ import annotations

import ast

from ._entries import Entry, comment_for, written_value
from ._graph import Graph
from ._held import Leaf, Node, Translated, Unsupported
from ._records import AdjointVariable, Compared, Instance, Record, closure_leaves
from ._translate import checked_text, renamed

MAX_HELPERS = 8   # helpers written in place inside each other, in one entry


def passes(adjoints: list[AdjointVariable]) -> list[list[AdjointVariable]]:
    """The hand-written backward passes, as the cells ran them: a d-name written anew after it
    was written before (Exercise 2's `dlogits = F.softmax(logits, 1)` after Exercise 1's)
    starts another pass; the entries of the one before stand as they were checked."""
    out: list[list[AdjointVariable]] = [[]]
    seen: set[str] = set()
    for adjoint in adjoints:
        name = adjoint.of   # a fork's dlogits_fast after its dlogits_: both of logits
        if len(adjoint.wheres) == 1 and name in seen and out[-1]:
            out.append([])
        seen.add(name)
        out[-1].append(adjoint)
    return [p for p in out if p]


def with_needed(own: list[AdjointVariable], adjoints: list[AdjointVariable]
                ) -> list[AdjointVariable]:
    """A later pass's entries and, from passes before it, the entries they use (Exercise 3's
    dhprebn uses Exercise 1's dhpreact, and so on down), in the order written."""
    versions = {id(a.node): a for a in adjoints}
    taken = {id(a) for a in own}
    todo = list(own)
    while todo:
        for held in todo.pop().node.deps.values():
            used = versions.get(id(held))
            if used is not None and id(used) not in taken:
                taken.add(id(used))
                todo.append(used)
    return [a for a in adjoints if id(a) in taken]


class Backward:
    def __init__(self, graph: Graph, record: Record, note,
                 adjoints: list[AdjointVariable] | None = None,
                 instances: list[Instance] | None = None):
        self.graph, self.record, self.note = graph, record, note
        self.adjoints = record.adjoints if adjoints is None else adjoints
        # the leaves the graph's backward() runs were over: an entry of another x (a tensor
        # of that name made again later, for another exercise) is not this graph's
        self.origins = None if instances is None else {
            id(leaf.origin) for i in instances for leaf in closure_leaves(i.output)}
        self.written: dict[str, Entry] = {}      # entry key -> its entry
        self.held: dict[int, str] = {}           # id(adjoint node) -> its entry key
        self.wheres: dict[str, list] = {}        # entry key -> its statements' places

    def entries(self) -> list[Entry]:
        mine = [a for a in self.adjoints if self._target(a) is not None]
        last = {a.node.name: a for a in mine}    # a name written again: its last version
        for adjoint in mine:
            if last[adjoint.node.name] is adjoint:
                self._entry(adjoint, mine)
        self._compared()
        return list(self.written.values())

    def _target(self, adjoint: AdjointVariable):
        held = adjoint.env.get(adjoint.of)
        if self.origins is not None and isinstance(held, Leaf) \
                and id(held.origin) not in self.origins:
            return None
        return self.graph.same(adjoint.of, held)

    def _entry(self, adjoint: AdjointVariable, mine: list[AdjointVariable]) -> None:
        g, node = self.graph, adjoint.node
        target = self._target(adjoint)
        where = adjoint.wheres[-1]
        if target is g.output:
            self.held[id(node)] = f"d{g.names[target]}"   # d<output> is 1 (or upstream)
            self.note(where, f"not an entry of backward: {node.name}, the gradient of the "
                      f"output {adjoint.of} by itself, is 1 (or the upstream gradient)")
            return
        if adjoint.left_out is not None:
            return self.note(where, f"left out of backward: {node.name}: {adjoint.left_out} "
                             "changes it and was left out")
        if target.dtype == "int64":
            return self.note(where, f"left out of backward: {node.name}: {adjoint.of} holds "
                             "integers, which have no gradient")
        names: dict = {}
        for name, held in node.deps.items():
            said = self._uses(name, held, mine)
            if isinstance(said, str) and said.startswith(" "):
                return self.note(where, f"left out of backward: {node.name} uses {name},"
                                 f"{said}")
            names[name] = said
        if _squeezed(node.shape) != _squeezed(target.shape):
            return self.note(where, f"left out of backward: {node.name} has shape "
                             f"{tuple(node.shape)}, {adjoint.of} has shape {tuple(target.shape)}")
        key = f"d{g.names[target]}"
        text = checked_text(renamed(node.tree, {**names, **g.dim_names(node.dims)}))
        comment = "; ".join([comment_for(adjoint.wheres[0])] + [
            f"then {w}" + (f": {w.code}" if len(w.code) <= 40 else "")
            for w in adjoint.wheres[1:]])
        self.written[key] = Entry(key, text, comment)
        self.held[id(node)] = key
        self.wheres[key] = list(adjoint.wheres)

    def block(self) -> list:
        """The notebook's own statements of the entries written, in its order: a
        `backward: |` block, where the case reads them as they are."""
        wheres = {w.order: w for key in self.written for w in self.wheres.get(key, [])}
        return [wheres[order] for order in sorted(wheres)]

    def _uses(self, name: str, held, mine: list[AdjointVariable], depth: int = 0
              ) -> str | ast.expr:
        """The case's name for a name an entry uses, or why it cannot (said after a space);
        a helper of the hand-written pass (a fork's `dcounts_1`, a `one_hot` built by index
        assignment) is written in place, as its own expression."""
        if id(held) in self.held:
            return self.held[id(held)]
        helper = self._helper(held, mine, depth)
        if helper is not None:
            return helper
        version = next((a for a in mine if a.node is held), None)
        if version is not None:
            later = [a for a in mine if a.node.name == held.name and a is not version]
            if later and later[-1].node is not held:
                return (f" {name} as it stood before its total ({later[-1].wheres[-1]}): the "
                        "case's entry is the total")
            return " which is not an entry of backward (left out above)"
        if self.graph.same(name, held) is None:
            return f" which the graph of {self.graph.output.name} has not got"
        return self.graph.names[self.graph.by_name[name]]

    def _helper(self, held, mine: list[AdjointVariable], depth: int) -> ast.expr | None:
        """A tensor the graph has not got and no entry is, every name it uses an entry or the
        graph's: its expression, to write in place of its name."""
        if not (isinstance(held, Node) and held.dtype is not None and depth < MAX_HELPERS
                and self.graph.same(held.name, held) is None
                and all(a.node is not held for a in self.record.adjoints)):
            return None
        names: dict = {}
        for name, used in held.deps.items():
            said = self._uses(name, used, mine, depth + 1)
            if isinstance(said, str) and said.startswith(" "):
                return None
            names[name] = said
        return renamed(held.tree, {**names, **self.graph.dim_names(held.dims)})

    def _compared(self) -> None:
        """cmp() lines: what each printed goes beside its entry; a cmp of what is not an
        entry is said to be not checked."""
        ours = {id(a.node) for a in self.adjoints}
        theirs = {id(a.node) for a in self.record.adjoints} - ours
        for c in self.record.compared:
            if id(c.held) in theirs:   # another pass's (a later exercise's) entry
                continue
            target = self.graph.by_name.get(c.target)
            if target is None or self.graph.same(c.target, target) is None:
                continue
            key = self.held.get(id(c.held))
            entry = self.written.get(key or "")
            if entry is None:
                self.note(c.where, f"not checked: cmp of {c.adjoint}: it is not an entry of "
                          "the case's backward (said above)")
                continue
            entry.comment += f"; compared at {c.where}" + (f": {c.shown}" if c.shown else "")

    def verdicts(self) -> list[str]:
        """What the notebook's cmp() lines printed against autograd, said in the header."""
        said = [c for c in self.record.compared if self.held.get(id(c.held)) in self.written]
        if not said:
            return []
        wrong = [f"{c.adjoint} ({c.where})" for c in said if "approximate: False" in c.shown]
        first = min(said, key=lambda c: c.where.order).where
        head = (f"The notebook compares its hand-written gradients with autograd's .grad "
                f"({first.cell} and on: cmp(), torch.allclose). Checking this case compares the "
                "same, entry by entry: exact (bit for bit), agreeing within tolerance, and the "
                "largest difference (report.md's backward table). What the notebook printed is "
                "beside each entry.")
        if wrong:
            head += f" The notebook itself printed approximate: False for {', '.join(wrong)}."
        standing = sorted({leaf.name for leaf in self.graph.leaves if not leaf.exact})
        if standing:   # exact: True was said of the notebook's numbers, not of these
            head += (f" Its inputs {', '.join(standing)} are not the notebook's numbers (stand-"
                     "ins, said below), so what cmp() printed is not claimed here: each entry "
                     "is checked for agreement with autograd and SymPy.")
        return [head]


def totals(graph: Graph, instances: list[Instance], note) -> list[Entry]:
    """`9*a**2 == a.grad` shown: gradient entries, the notebook's own hand-written totals."""
    out: dict[str, Entry] = {}
    first: dict[str, Compared] = {}
    for instance in instances:
        for total in instance.totals:
            entry = _total(graph, total, note)
            if entry is None:
                continue
            if entry.key in out:   # a case holds one gradient entry a name: the first
                note(total.where, f"not checked: {total.where.code}: a second hand-written "
                     f"gradient for {entry.key}; the case holds the first "
                     f"({first[entry.key].where})")
                continue
            out[entry.key], first[entry.key] = entry, total
    return list(out.values())


def _total(graph: Graph, total: Compared, note) -> Entry | None:
    wrt = graph.by_name.get(total.target)
    hand = total.hand
    assert hand is not None   # a total is made with its hand-written side
    if not (isinstance(wrt, Leaf) and wrt.grad):
        note(total.where, f"not checked: {total.where.code}: {total.target} is not a tensor "
             f"of the graph of {graph.output.name} that requires grad")
        return None
    if any(isinstance(d, (Leaf, Node)) and graph.same(n, d) is None
           for n, d in hand.deps.items()):
        note(total.where, f"not checked: {total.where.code}: it uses names the graph of "
             f"{graph.output.name} has not got")
        return None
    text = _text(graph, hand)
    return Entry(graph.names[wrt], text, comment_for(total.where, total.shown))


def upstream(graph: Graph, instance: Instance) -> Entry | None:
    """The gradient handed to backward(gradient=...): a value, or an expression of the graph."""
    given = instance.upstream
    if given is None:
        return None
    comment = comment_for(instance.where)
    if isinstance(given.tree, ast.Name) and isinstance(given.deps.get(given.tree.id), Leaf) \
            and graph.same(given.tree.id, given.deps[given.tree.id]) is None:
        leaf = given.deps[given.tree.id]
        if not leaf.exact:
            raise Unsupported(f"the gradient {leaf.name} handed to backward() is not the "
                              "notebook's numbers")
        return Entry("upstream", written_value(leaf.value, leaf.dtype == "int64"),
                     f"{comment}; {leaf.name}: {comment_for(leaf.where)}")
    if any(isinstance(d, (Leaf, Node)) and graph.same(n, d) is None
           for n, d in given.deps.items()):
        raise Unsupported(f"the gradient handed to backward() ({given.text}) uses names the "
                          "graph has not got")
    return Entry("upstream", _text(graph, given), comment)


def _text(graph: Graph, translated: Translated) -> str:
    names = {n: graph.names[graph.by_name[n]] for n, d in translated.deps.items()
             if isinstance(d, (Leaf, Node))}
    dims = graph.dim_names({n: d for n, d in translated.deps.items()
                            if not isinstance(d, (Leaf, Node))})
    return checked_text(renamed(translated.tree, {**names, **dims}))


def skeleton(graph: Graph) -> tuple[list[Entry], list[str]]:
    """A tensor graph for which the notebook writes no derivative: every entry of its
    backward pass, in backward order, left for the author (~), never filled in."""
    output = graph.output
    held: list[Leaf | Node] = [n for n in reversed(graph.nodes)
                               if n is not output and n.dtype != "int64"]
    held += [leaf for leaf in reversed(graph.leaves) if leaf.grad]
    entries = []
    for h in held:
        name = graph.names[h]
        said = f"{name} = {graph.text(h)}" if isinstance(h, Node) else f"{name}, an input"
        entries.append(Entry(f"d{name}", None, f"to write: d({graph.names[output]})/d({name}), "
                             f"shape {tuple(h.shape)}; {said}"))
    return entries, [e.key for e in entries]


def _squeezed(shape) -> tuple:
    return tuple(n for n in shape if n != 1)
