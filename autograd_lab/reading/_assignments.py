"""micrograd's manual backpropagation: `.grad = expr` assignments on a lecture's own values,
checked node by node against autograd on the graph its Value expressions build.

    x1w1 = x1*w1; x1w1.label = 'x1*w1'       # the graph, from Value leaves
    n = x1w1x2w2 + b
    o = n.tanh()
    o.grad = 1.0                              # the seed: the output is o
    n.grad = 0.5
    x2.grad = w2.data * x2w2.grad

is a case with `backward: {dn: 0.5, dx2: w2 * dx2w2, ...}` (the contract's `<name>.grad =
expr` is `d<name>`), each entry compared with autograd's .grad of that name. Notebooks run
cells out of order, so the entries are put in the graph's backward order, the output first;
an assignment made twice counts as its last."""
from __future__ import annotations

import ast

from ._python import Found, Unchecked, at, case_name, dotted_name, names_in, number, text


def read_assignments(body: list[ast.stmt], value_classes: set[str], file: str
                     ) -> tuple[list, list[Unchecked]]:
    """[(Found, what, place)] for the graph seeded by `out.grad = 1.0`, and the `.grad`
    assignments that could not be checked."""
    run = _Graph(value_classes | {"Value"})
    run.read(body)
    if not run.grads:
        return [], []
    seeds = [v for v, (e, _) in run.grads.items() if v in run.graphs[v][1] and _is_one(e)]
    if len(seeds) != 1:
        return [], [Unchecked(file, *at(stmt, 1), f"{v}.grad = {ast.unparse(e)}",
                              "no single `output.grad = 1.0` says which value the gradients "
                              "are of") for v, (e, stmt) in run.grads.items()]
    return run.found(seeds[0], file)


def _is_one(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value == 1 and not isinstance(expr.value,
                                                                                  bool)


class _Graph:
    def __init__(self, classes: set[str]):
        self.classes = classes
        self.leaves: dict[str, float] = {}
        self.nodes: dict[str, ast.expr] = {}
        self.grads: dict[str, tuple[ast.expr, ast.stmt]] = {}
        # the graph as it stood at each `.grad =` (a notebook goes on to reuse the names)
        self.graphs: dict[str, tuple[dict, dict]] = {}

    def read(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.AugAssign) and dotted_name(stmt.target).endswith(".data"):
                self._forget(dotted_name(stmt.target)[: -len(".data")])
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                continue
            target, value = stmt.targets[0], stmt.value
            name = dotted_name(target)
            if isinstance(target, ast.Name):
                self._assign(name, value)
            elif name.endswith(".grad") and not _reset(value):
                self.grads[name[: -len(".grad")]] = (value, stmt)
                self.graphs[name[: -len(".grad")]] = (dict(self.leaves), dict(self.nodes))

    def _forget(self, name: str) -> None:
        """A leaf whose data changed by an amount this reading does not know."""
        self.leaves.pop(name, None)

    def _assign(self, name: str, value: ast.expr) -> None:
        self.leaves.pop(name, None)
        self.nodes.pop(name, None)
        number = _leaf(value, self.classes)
        if number is not None:
            self.leaves[name] = number
        elif names_in(value) and names_in(value) <= set(self.leaves) | set(self.nodes):
            self.nodes[name] = value

    def found(self, output: str, file: str) -> tuple[list, list[Unchecked]]:
        self.leaves, self.nodes = self.graphs[output]    # the graph the seed was set on
        order = self._ancestors(output)
        names = {f"{n}.data": n for n in order} | {f"{n}.grad": f"d{n}" for n in order}
        unchecked, entries, marks = [], {}, {}
        taken = set(order) & {f"d{n}" for n in order}
        for target, (expr, stmt) in self.grads.items():
            what = f"{target}.grad = {ast.unparse(expr)}"
            if target == output:
                continue                      # the seed: d(output) is 1 without being said
            if target not in order or target in taken:
                reason = (f"{target} is no value {output} is computed from" if target not in
                          order else f"d{target} is also a value's name")
                unchecked.append(Unchecked(file, *at(stmt, 1), what, reason))
                continue
            entries[target] = (text(expr, names), stmt)
        backward = {f"d{n}": entries[n][0] for n in reversed(order) if n in entries}
        if not backward:
            return [], unchecked
        first = min((s for _, s in entries.values()), key=lambda s: s.lineno)
        data = {
            "name": case_name(output, "manual-backward"),
            "title": f"the gradients of {output} set by hand (x.grad = ...), node by node",
            "inputs": {n: {"value": v, "grad": True} for n, v in self.leaves.items()
                       if n in order},
            "forward": {n: text(e, names) for n, e in self.nodes.items() if n in order},
            "output": output, "backward": backward}
        marks = {(): at(first, 1), ("inputs",): at(first, 1)}
        marks |= {("backward", f"d{n}"): at(s, 1) for n, (_, s) in entries.items()}
        return [(Found(data, marks, derivatives=len(backward)), f"{output}.grad assignments",
                 at(first, 1))], unchecked

    def _ancestors(self, output: str) -> list[str]:
        """The leaves and nodes output is computed from, leaves first, nodes as assigned."""
        seen, todo = set(), [output]
        while todo:
            name = todo.pop()
            if name not in seen and (name in self.nodes or name in self.leaves):
                seen.add(name)
                todo += list(names_in(self.nodes.get(name, ast.Constant(0))))
        return [n for n in self.leaves if n in seen] + [n for n in self.nodes if n in seen]


def _reset(value: ast.expr) -> bool:
    """`p.grad = 0.0` and `x.grad = None` zero a gradient: they state no derivative."""
    return isinstance(value, ast.Constant) and (value.value is None or value.value == 0)


def _leaf(value: ast.expr, classes: set[str]) -> float | None:
    """2.0 of Value(2.0, label='x1')."""
    if isinstance(value, ast.Call) and dotted_name(value.func) in classes and value.args:
        return number(value.args[0])
    return None
