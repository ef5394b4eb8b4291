"""One graph of a notebook as a gradient case: its names, its points and claims, and the
derivatives the notebook wrote by hand for it, matched by name and by what the names held."""
from __future__ import annotations

import ast
import copy
import itertools

from ..case import parse
from ..reading import tensor_form
from ._entries import Entry, Point, comment_for, digits, written_value
from ._held import Dim, Drawn, Leaf, Node, Unsupported
from ._records import (
    DerivativeFunction,
    DerivativeVariable,
    Instance,
    Observation,
    Record,
    closure_leaves,
)
from ._translate import Translator, case_name, checked_text, derivative, renamed, sized


def signature(held, memo: dict) -> tuple:
    """What a name means, whatever its value: the expressions down to the leaves' names."""
    key = id(held)
    if key not in memo:
        if isinstance(held, Leaf):   # a draw is its description: another is another graph
            memo[key] = ("leaf", held.name, held.shape, held.dtype,
                         held.value if isinstance(held.value, Drawn) else None)
        else:
            memo[key] = ("node", held.name, held.text,
                         tuple(sorted((n, signature(d, memo)) for n, d in held.deps.items())))
    return memo[key]


def group_key(instance: Instance) -> tuple:
    leaves = closure_leaves(instance.output)
    upstream = instance.upstream
    return (signature(instance.output, {}),
            tuple(sorted((leaf.name, leaf.grad) for leaf in leaves)),
            None if upstream is None else (upstream.text, tuple(
                sorted((n, signature(d, {}) if isinstance(d, (Leaf, Node)) else d.value)
                       for n, d in upstream.deps.items()))))


class Group:
    def __init__(self, instance: Instance):
        self.instances = [instance]
        self.key = group_key(instance)
        self.output = instance.output
        self.params = {leaf.name for leaf in closure_leaves(instance.output) if leaf.grad}
        self.first = instance.where
        self.functions: list[DerivativeFunction] = []


def grouped(instances: list[Instance]) -> list[Group]:
    groups: list[Group] = []
    for instance in instances:
        found = group_key(instance)
        same = next((g for g in groups if g.key == found), None)
        if same:
            same.instances.append(instance)
        else:
            groups.append(Group(instance))
    return groups


class Graph:
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
        self.taken = taken
        self.dims: list[Dim] = []         # the dims the case writes, named as they are used
        for held in held_all:
            self.dim_names(held.dims)

    def dim_names(self, dims: dict) -> dict[str, str]:
        """The case's names of dims (notebook name -> case name), each named once: a dim
        never takes a tensor's name, where the case would read the tensor."""
        out = {}
        for name, dim in dims.items():
            if dim not in self.names:
                self.names[dim] = case_name(dim.name, self.taken)
                self.taken.add(self.names[dim])
                self.dims.append(dim)
            out[name] = self.names[dim]
        return out

    def sizes(self, text: str) -> str | int:
        """A size of a drawn input (n_embd*block_size) in the case's dims' names."""
        return sized(text, {n: self.names[d] for d in self.dims for n in [d.name]})

    @property
    def tensor(self) -> bool:
        """Whether a node is not element by element, so has no chain_rule edges of its own."""
        return any(tensor_form(parse(self.text(n))) for n in self.nodes)

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
        names = {n: self.names[d] for n, d in node.deps.items()}
        return checked_text(renamed(node.tree, {**names, **self.dim_names(node.dims)}))

    def same(self, name: str, held) -> object | None:
        """The graph's own definition of name, when held means the same thing there."""
        mine = self.by_name.get(name)
        if mine is None or not isinstance(held, (Leaf, Node)):   # a helper function (f of
            return None   # df_dx after def f(x):) or nothing: never this graph's tensor
        return mine if signature(mine, self.memo) == signature(held, self.memo) else None

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

    def value_claim(self, seen: Observation, points: Points, hand: Hand) -> None:
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
            points.add(at, f"grad/{total}", seen.written, comment_for(seen.where, seen.shown))
        elif self.same(target.name, target) is not None:
            points.add(at, self.names[self.by_name[target.name]], seen.written,
                       comment_for(seen.where, seen.shown))


class Points:
    """Claims gathered by the point they hold at: the base point first (at: {})."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.points: list[tuple[dict, dict]] = [({}, {})]
        self.count = 0

    def add(self, at: dict, key: str, written, comment: str) -> None:
        written = digits(written)
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
            Point([Entry(n, written_value(v)) for n, v in at.items()], list(claims.values()))
            for at, claims in rest]


class Hand:
    """The notebook's hand-written derivatives that belong to one graph."""

    def __init__(self, graph: Graph, variables: list, note):
        self.graph, self.variables, self.note = graph, variables, note
        self.chain: dict[str, Entry] = {}
        self.total: dict[str, Entry] = {}
        self.printed: dict[int, str] = {}     # id(variable node) -> parameter, for its prints

    def variable(self, v: DerivativeVariable) -> None:
        g = self.graph
        of, wrt = g.same(v.of, v.env.get(v.of)), g.same(v.wrt, v.env.get(v.wrt))
        if wrt is None:
            return
        try:
            tree, deps = inlined(v.node)
        except Unsupported:
            return
        if any(g.same(n, d) is None for n, d in deps.items()):
            return
        text = checked_text(renamed(tree, {n: g.names[g.by_name[n]] for n in deps}))
        if of is not None and isinstance(of, Node) and v.wrt in of.deps:
            key = f"{g.names[of]}/{g.names[wrt]}"
            self.chain.setdefault(key, Entry(key, text, comment_for(v.node.where)))
            return
        param = isinstance(wrt, Leaf) and wrt.grad
        if param and (of is g.output or (of is None and self._chain(v))):
            name = g.names[wrt]
            if name not in self.total:
                self.total[name] = Entry(name, text, comment_for(v.node.where))
                self.printed[id(v.node)] = name

    def _chain(self, v: DerivativeVariable) -> bool:
        """dL_dw = dloss_dy_pred * dy_pred_dz * dz_dw: factors that chain from the output to w."""
        factors = factor_names(v.node.tree)
        named = {x.node.name: x for x in self.variables}
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
            self.note(f.func.where, f"left out: {f.func.name}'s parameters "
                              f"({', '.join(params)}) are not all names of the graph of "
                              f"{g.output.name}")
            return
        try:
            formula = translator.formula(f.func, [g.names[g.by_name[n]] for n in names])
        except Unsupported as exc:
            self.note(f.func.where, f"left out: {f.func.name}: {exc.message}")
            return
        if any(isinstance(d, (Leaf, Node)) and g.same(n, d) is None
               for n, d in formula.deps.items()):
            self.note(f.func.where, f"left out: {f.func.name} uses names this graph "
                              "does not have")
            return
        said = comment_for(f.func.where)
        name = g.names[wrt]
        if f.of == g.output.name and isinstance(wrt, Leaf) and wrt.grad:
            self.total.setdefault(name, Entry(name, formula.text, said))
        elif isinstance(of := g.by_name.get(f.of), Node) and f.wrt in of.deps:
            key = f"{g.names[of]}/{name}"
            self.chain.setdefault(key, Entry(key, formula.text, said))

    def calls(self, f: DerivativeFunction, points: Points) -> None:
        g = self.graph
        wrt = g.by_name.get(f.wrt)
        if f.of != g.output.name or not (isinstance(wrt, Leaf) and wrt.grad):
            return
        for call in f.calls:
            if len(call.args) != 1 or wrt.shape != ():
                self.note(call.where, f"not checked: {call.where.code}: a point needs "
                                  f"one number for the scalar {f.wrt}")
                continue
            at = g.at_values({f.wrt: float(call.args[0])})
            points.add(at, f"grad/{g.names[wrt]}", call.written,
                       comment_for(call.where, call.shown))

    def edges(self, written: bool = False) -> tuple[list[Entry], list[str]]:
        """chain_rule: the hand-written edges, and every edge still to write when some are
        missing (or when nothing was written at all); never filled in. written: the notebook
        writes the graph's derivative another way (a backward pass)."""
        g = self.graph
        needed = needed_edges(g)
        missing = [e for e in needed if e not in self.chain]
        totals_cover = {g.names[leaf] for leaf in g.leaves if leaf.grad} <= set(self.total)
        if not missing or (not self.chain and (totals_cover or written)):
            return list(self.chain.values()), []
        out = [self.chain.get(key) or Entry(key, None, to_write(key, g)) for key in needed]
        out += [e for k, e in self.chain.items() if k not in needed]
        return out, missing

    def totals(self) -> list[Entry]:
        return list(self.total.values())


def inlined(node: Node) -> tuple[ast.expr, dict]:
    """A hand-written derivative with the derivatives it uses written out (dL_dw's factors)."""
    tree, deps = node.tree, dict(node.deps)
    for _ in range(20):
        inner = {n: d for n, d in deps.items() if isinstance(d, Node) and is_derivative(n)}
        if not inner:
            return tree, deps
        tree = substitute(tree, {n: d.tree for n, d in inner.items()})
        for n, d in inner.items():
            del deps[n]
            deps.update(d.deps)
    raise Unsupported("hand-written derivatives nested too deep")


def is_derivative(name: str) -> bool:
    return derivative(name, lambda n: True) is not None


def substitute(tree: ast.expr, trees: dict) -> ast.expr:
    class Put(ast.NodeTransformer):
        def visit_Name(self, node):
            return copy.deepcopy(trees[node.id]) if node.id in trees else node
    return Put().visit(copy.deepcopy(tree))


def factor_names(tree: ast.expr) -> list[str]:
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        left, right = factor_names(tree.left), factor_names(tree.right)
        return left + right if left and right else []
    return [tree.id] if isinstance(tree, ast.Name) else []


def needed_edges(g: Graph) -> list[str]:
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


def to_write(key: str, g: Graph) -> str:
    node, _, parent = key.partition("/")
    text = next((g.text(n) for n in g.nodes if g.names[n] == node), "")
    return f"to write: d({node})/d({parent}) where {node} = {text}"
