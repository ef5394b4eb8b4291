"""Assignments: what a name holds after `x = ...`, `x += ...`, `x[...] = ...` (an input made
from a literal or a draw, a stand-in, a size, a computed node, an entry of a hand-written
backward pass)."""
from __future__ import annotations

import ast
import copy
import re

from ..case import Written
from ._adjoints import one_hot_put, zeros_like
from ._calls import Calls
from ._held import Dim, Drawn, Func, Leaf, Listed, Names, Node, Translated, Unsupported, Where, one
from ._layers import is_linear, parameters
from ._records import AdjointVariable, DerivativeVariable, Step
from ._sizes import counted, dim, stand_in
from ._standins import Hint
from ._syntax import listed_count
from ._tensorforms import CUTS, kind
from ._translate import Made, checked_text, constructor, derivative, listed

MAX_UNROLL = 1_000      # names a loop is unrolled over


class Assignments(Calls):
    """Statements that assign: what each name holds after them."""

    def s_Assign(self, statement, shown):
        """x = ..., x += ..., x[...] = ..., x.requires_grad = ...: read by the statement
        allow-list a case's blocks are read by (case.Statements), then followed here."""
        written = self.reading.written(statement)
        if written.op:
            return self.update(written)
        value = written.value
        if written.target == "attribute" and written.attribute == "requires_grad":
            if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                raise Unsupported("requires_grad set to something other than True or False",
                                  statement)
            return self.requires_grad(written.name, value.value, statement)
        if written.target == "attribute" and written.attribute == "grad" and written.none:
            return self.grad_none(written.name, statement)
        if written.target == "item" and (written.name in self.adjoints
                                         or zeros_like(self.env.get(written.name))):
            assert written.index is not None
            return self.put(written.index, statement)   # one_hot[range(n), Yb] = 1 too
        if written.target == "unpack":
            target = written.to
            assert isinstance(target, (ast.Tuple, ast.List))
            numbers = _unpacked_numbers(target, value)
            if numbers:   # x_val, y_val = 2.0, 3.0: one assignment a name
                for name, number in numbers:
                    self.assign(name, number, statement)
                return
            if isinstance(value, ast.Tuple):
                return self.assign_each(target, value, statement)
            if _shape_of(value):   # n, d = X.shape
                return self.assign_each(target, _axes(value, len(target.elts)), statement)
        if written.target != "name":
            raise Unsupported("an assignment to something other than a name", statement)
        self.assign(written.name, value, statement)

    s_AugAssign = s_Assign

    def print(self, call: ast.Call) -> None:
        """print(f"df_dy: {df_de * de_dd * dd_dc * dc_db * db_dy}"): derivatives by hand put
        together and printed under a derivative's name, read as `df_dy = ...` (y's gradient
        of f when f is the output, as an assignment of that name would be), then printed."""
        named = []
        for label, piece in _labelled(call):
            value, known = piece.value, self.derivative_known(label)
            if label in self.env or derivative(label, known) is None or not all(
                    derivative(n.id, self.derivative_known(n.id), self.claimed, self.paired)
                    for n in ast.walk(value) if isinstance(n, ast.Name)):
                continue
            statement = ast.copy_location(
                ast.Assign([ast.Name(label, ast.Store())], value, lineno=call.lineno), call)
            try:
                self.assign(label, value, statement)
            except Unsupported:
                continue   # printed as it is: the print says why its value is not followed
            named.append(label)
            where = self.where(call)
            self.note(where.cell, where.line, f"{one(value)}: printed as {label}, read as "
                      f"{label} = {one(value)} in the case")
        try:
            super().print(_named_values(call, named) if named else call)
        finally:
            for label in named:
                self.env.pop(label, None)   # the label names the value only where printed

    def derivative_known(self, name: str):
        """Which names a derivative's name may be of: the tensors and functions held."""
        return lambda n: isinstance(self.env.get(n), (Leaf, Node, Func)) and n != name

    def assign_each(self, targets: ast.Tuple | ast.List, values: ast.Tuple, statement) -> None:
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

    def update(self, written: Written) -> None:
        """x op= ...: into an entry of a backward pass (dlogits[range(n), Yb] -= 1), or adding
        to one (dcounts += ...), which is then the total."""
        statement = written.statement
        assert isinstance(statement, ast.AugAssign)
        if written.target == "item" and written.name in self.adjoints:
            assert written.index is not None
            return self.put(written.index, statement, statement.op)
        name = written.name
        entry = self.adjoints.get(name) if written.target == "name" else None
        if entry is None or entry.node is not self.env.get(name):
            raise Unsupported("an in-place update: the draft follows assignments only (and +=, "
                              "-=, *=, /= on an entry of a backward pass)", statement)
        added = self.translator.expression(written.value)
        before = entry.node
        deps = {**before.deps, **before.dims}
        for used, held in added.deps.items():
            if deps.setdefault(used, held) is not held:
                raise Unsupported(f"{used} here is not what it was when {name} was first "
                                  f"written ({entry.wheres[0]})", statement)
        tree = ast.BinOp(copy.deepcopy(before.tree), type(statement.op)(), added.tree)
        self.computed(name, Translated(tree, checked_text(tree), deps), statement,
                      accumulate=True)

    def _names_of(self, node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.Name) and isinstance(self.env.get(node.id), Names):
            return self.env[node.id].names
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and len(node.elts) <= MAX_UNROLL:
            names = [e.id for e in node.elts if isinstance(e, ast.Name)]
            return names if len(names) == len(node.elts) else None
        return None

    def assign(self, name: str, value: ast.expr, statement) -> None:
        where = self.where(statement)
        try:
            generator = self.draws.generator(name, value, where)
            if generator is not None:
                self.env[name] = generator
                return
            names = self._names_of(value) if isinstance(value, (ast.List, ast.Tuple)) else None
            if listed_count(value) > MAX_UNROLL:
                self.long_lists[name] = listed_count(value)
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
        # a derivative by hand is only evaluated: its x.item() is x's value (_tensorforms)
        entry = derivative(name, self.derivative_known(name), self.claimed,
                           self.paired) is not None
        item = None if entry else _item(value)
        read = item.func.value if item is not None and isinstance(item.func, ast.Attribute) \
            else None
        if isinstance(read, ast.Name) and isinstance(self.env.get(read.id), (Leaf, Node)):
            # manual_grad = 2 * x.item(): a derivative of nothing the draft knows
            cut = item.func.attr if item is not None and isinstance(item.func, ast.Attribute) \
                else "item"
            raise Unsupported(f"{read.id}.{cut}() is {read.id}'s value cut from the graph: the "
                              f"draft reads it as {read.id} only in a derivative by hand, and "
                              f"{name} is not one it knows (its name does not say of what, and "
                              "no line compares it with a .grad or prints it beside one)", item)
        self.computed(name, self.translator.expression(value, values=entry), statement)

    def computed(self, name: str, translated: Translated, statement,
                 accumulate: bool = False) -> None:
        tensors = {n: d for n, d in translated.deps.items() if isinstance(d, (Leaf, Node))}
        dims = {n: d for n, d in translated.deps.items() if isinstance(d, Dim)}
        where = self.where(statement)
        named = derivative(name, self.derivative_known(name), self.claimed, self.paired)
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
            self.record.sizes[id(node)] = {n: self.env[n] for n in _read(statement)
                                           if isinstance(self.env.get(n), Dim)}
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


LABEL = re.compile(r"(?<![\w.])(d[A-Za-z]\w*_d[A-Za-z]\w*)\s*[:=]\s*$")   # "df_dy: "
LABEL_CHARS = 80


def _labelled(call: ast.Call) -> list[tuple[str, ast.FormattedValue]]:
    """(df_dy, where the formula is printed) for each formula an f-string prints just after
    a derivative's name as its label: f"df_dy: {df_de * de_dd}" (a name printed is named
    already); a label given twice names neither."""
    out = []
    for arg in call.args:
        if not isinstance(arg, ast.JoinedStr):
            continue
        for text, piece in zip(arg.values, arg.values[1:]):
            if isinstance(text, ast.Constant) and isinstance(text.value, str) \
                    and isinstance(piece, ast.FormattedValue) and piece.format_spec is None \
                    and isinstance(piece.value, (ast.BinOp, ast.UnaryOp)):
                label = _label(text.value)
                if label:
                    out.append((label, piece))
    labels = [label for label, _ in out]
    return [(label, piece) for label, piece in out if labels.count(label) == 1]


def _label(text: str) -> str:
    """df_dy of "... df_dy: ", the name a text ends with as a label ("" when none); only its
    last characters are searched (a label is short, a hostile string long)."""
    tail = text[-LABEL_CHARS:]
    found = LABEL.search(tail)
    if found is None:
        return ""
    start = len(text) - len(tail) + found.start(1)
    before = text[start - 1] if start else ""
    return "" if before and (before.isalnum() or before in "_.") else found[1]


def _named_values(call: ast.Call, labels: list[str]) -> ast.Call:
    """call with each labelled formula printed by the name it was given (_labelled)."""
    named = copy.deepcopy(call)
    for label, piece in _labelled(named):
        if label in labels:
            piece.value = ast.copy_location(ast.Name(label, ast.Load()), piece.value)
    return named


def _item(value: ast.expr) -> ast.Call | None:
    """The first x.item() (x.detach()) of value: a number read out of a tensor."""
    return next((n for n in ast.walk(value) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr in CUTS
                 and not n.args and not n.keywords), None)


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


def _read(statement: ast.stmt) -> set[str]:
    """The names a statement reads."""
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
