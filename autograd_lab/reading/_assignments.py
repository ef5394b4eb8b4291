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
an assignment made twice counts as its last.

The picture micrograd's `draw_dot(o)` showed after `o.backward()` (a notebook's SVG output)
states each labelled node's data and grad, 4 decimals: those are claims on the same graph
(`expect: {grad/x1: -1.5000, n: 0.8814}`), each holding to the digits shown."""
from __future__ import annotations

import ast
import html
import re

from ..case import dotted_name
from ._python import Found, Unchecked, at, case_name, names_in, number, text

MAX_PICTURE = 2_000_000     # characters of one SVG: a graph's picture, not a data set
_TEXT = re.compile(r"<text\b[^>]*>([^<]*)</text>")
_SHOWN = re.compile(r"(data|grad) (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$")


def read_assignments(body: list[ast.stmt], value_classes: set[str], file: str,
                     shown: dict[tuple[int, int], list[str]] | None = None
                     ) -> tuple[list, list[Unchecked]]:
    """[(Found, what, place)] for the graph seeded by `out.grad = 1.0` and for each picture
    draw_dot showed of a graph after its backward(), and the `.grad` assignments that could
    not be checked."""
    run = _Graph(value_classes | {"Value"}, shown or {})
    run.read(body)
    pictured = [found for found in map(run.pictured, run.drawn) if found]
    for k, (item, _, _) in enumerate(pictured[1:], 2):   # o-drawn, o-drawn-2, ...
        item.data["name"] = case_name(item.data["name"], str(k))
    found, unchecked = _assigned(run, file)
    return pictured + found, unchecked


def _assigned(run: _Graph, file: str) -> tuple[list, list[Unchecked]]:
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
    def __init__(self, classes: set[str], shown: dict[tuple[int, int], list[str]]):
        self.classes = classes
        self.shown = shown
        self.leaves: dict[str, float] = {}
        self.nodes: dict[str, ast.expr] = {}
        self.labels: dict[str, str] = {}         # name -> its label='...' (draw_dot's words)
        self.backwarded: set[str] = set()        # o of o.backward(), since o was assigned
        # (root, the draw_dot statement, its picture, leaves, nodes, labels) as they stood
        self.drawn: list[tuple[str, ast.stmt, str, dict, dict, dict]] = []
        self.grads: dict[str, tuple[ast.expr, ast.stmt]] = {}
        # the graph as it stood at each `.grad =` (a notebook goes on to reuse the names)
        self.graphs: dict[str, tuple[dict, dict]] = {}

    def read(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self._call(stmt)
            if isinstance(stmt, ast.AugAssign) and dotted_name(stmt.target).endswith(".data"):
                self._forget(dotted_name(stmt.target)[: -len(".data")])
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                continue
            target, value = stmt.targets[0], stmt.value
            name = dotted_name(target)
            if isinstance(target, ast.Name):
                self._assign(name, value)
            elif name.endswith(".label") and isinstance(value, ast.Constant) \
                    and isinstance(value.value, str):
                self.labels[name[: -len(".label")]] = value.value
            elif name.endswith(".grad") and not _reset(value):
                self.grads[name[: -len(".grad")]] = (value, stmt)
                self.graphs[name[: -len(".grad")]] = (dict(self.leaves), dict(self.nodes))

    def _call(self, stmt: ast.stmt) -> None:
        """`o.backward()`, and `draw_dot(o)` where its cell showed a picture."""
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return
        call = stmt.value
        if isinstance(call.func, ast.Attribute) and call.func.attr == "backward" \
                and isinstance(call.func.value, ast.Name) and not call.args:
            self.backwarded.add(call.func.value.id)
        elif len(call.args) == 1 and isinstance(call.args[0], ast.Name) \
                and call.args[0].id in self.backwarded:
            for (first, last), svgs in self.shown.items():
                if first <= stmt.lineno <= last and len(svgs) == 1:
                    self.drawn.append((call.args[0].id, stmt, svgs[0], dict(self.leaves),
                                       dict(self.nodes), dict(self.labels)))

    def pictured(self, drawn: tuple[str, ast.stmt, str, dict, dict, dict]
                 ) -> tuple[Found, str, tuple[int, int]] | None:
        """The case whose claims are the data and grad the picture shows of each node it
        labels as exactly one value of the graph."""
        root, stmt, svg, self.leaves, self.nodes, labels = drawn
        order = self._ancestors(root)
        named: dict[str, list[str]] = {}
        for n in order:
            if labels.get(n, "").strip():
                named.setdefault(labels[n], []).append(n)
        expect: dict[str, float] = {}
        texts: dict[str, str] = {}
        for label, value, grad in _shown_values(svg):
            if len(named.get(label, [])) == 1:
                n = named[label][0]
                for key, written in ((n, value), (f"grad/{n}", grad)):
                    expect[key], texts[key] = float(written), written
        if not expect or root not in order:
            return None
        where = at(stmt, 1)
        leaves = [n for n in self.leaves if n in order]
        steps: list[dict] = [{"requires_grad": dict.fromkeys(leaves, True)}]
        for n, e in self.nodes.items():    # micrograd keeps every node's grad: retain_grad
            if n in order:
                steps += [{n: text(e, {})}, {"retain_grad": n}]
        steps.append({"backward": root, "expect": expect})
        last = len(steps) - 1
        data = {
            "name": case_name(root, "drawn"),
            "title": f"the data and grad draw_dot({root}) showed after {root}.backward()",
            "dtype": "float64",     # micrograd's numbers are Python floats
            "inputs": {n: [self.leaves[n]] for n in leaves}, "steps": steps}
        marks: dict[tuple, tuple[int, int]] = {(): where, ("inputs",): where}
        marks |= {("steps", last, "expect", k): where for k in expect}
        shown = {("steps", last, "expect", key): t for key, t in texts.items()}
        return Found(data, marks, derivatives=0, texts=shown), f"draw_dot({root})", where

    def _forget(self, name: str) -> None:
        """A leaf whose data changed by an amount this reading does not know."""
        self.leaves.pop(name, None)

    def _assign(self, name: str, value: ast.expr) -> None:
        self.leaves.pop(name, None)
        self.nodes.pop(name, None)
        self.labels.pop(name, None)
        self.backwarded.discard(name)
        label = _label(value)
        if label is not None:
            self.labels[name] = label
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


def _shown_values(svg: str) -> list[tuple[str, str, str]]:
    """(label, data, grad) of each record `{ label | data 2.0000 | grad -1.5000 }` in
    graphviz's SVG: its texts in order, entities unescaped (no XML parser: only text is read)."""
    if len(svg) > MAX_PICTURE:
        return []
    texts = [html.unescape(t).strip() for t in _TEXT.findall(svg)]
    found = []
    for i in range(len(texts) - 2):
        data, grad = _SHOWN.match(texts[i + 1]), _SHOWN.match(texts[i + 2])
        if data and grad and data.group(1) == "data" and grad.group(1) == "grad":
            found.append((texts[i], data.group(2), grad.group(2)))
    return found


def _label(value: ast.expr) -> str | None:
    """'x1' of Value(2.0, label='x1')."""
    if isinstance(value, ast.Call):
        for k in value.keywords:
            if k.arg == "label" and isinstance(k.value, ast.Constant) \
                    and isinstance(k.value.value, str):
                return k.value.value
    return None


def _reset(value: ast.expr) -> bool:
    """`p.grad = 0.0` and `x.grad = None` zero a gradient: they state no derivative."""
    return isinstance(value, ast.Constant) and (value.value is None or value.value == 0)


def _leaf(value: ast.expr, classes: set[str]) -> float | None:
    """2.0 of Value(2.0, label='x1')."""
    if isinstance(value, ast.Call) and dotted_name(value.func) in classes and value.args:
        return number(value.args[0])
    return None
