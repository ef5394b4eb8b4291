"""What a cell shows, read as claims: each print and displayed value matched against the
cell's outputs, each value of a tensor, a .grad, a comparison with a .grad made an
expectation of its step or a note saying why it is not checked."""
from __future__ import annotations

import ast

from . import _outputs
from ._adjoints import grad_compared, rows
from ._claims import grad_tolerance
from ._held import Leaf, Node, Unsupported, Where, one
from ._notebook import Cell
from ._records import (
    Call,
    Compared,
    DerivativeFunction,
    Expect,
    Fill,
    Observation,
    Show,
    Step,
    closure_leaves,
)
from ._state import WalkState
from ._text import one_line

LOOKS = ("grad", "requires_grad", "is_leaf", "grad_fn")


class Shows(WalkState):
    """A cell's prints and displayed values, and the claims its outputs make."""

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
        fills: list[Fill] = []
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
        self.shows.append(Show(parts + [end], fills, where))

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
        self.shows.append(Show([None, "\n"], [fill], where, display=True))

    def display_tuple(self, value: ast.Tuple) -> None:
        """`x.grad, y.grad` shows its tuple's repr: (tensor(14.), None)."""
        where = self.where(value)
        box: list[Step] = []
        parts: list[str | None] = ["(", None]
        for _ in value.elts[1:]:
            parts += [", ", None]
        fills = [self.slot(element, where, box) for element in value.elts]
        box.append(self.look(where))
        self.shows.append(Show(parts + [")", "\n"], fills, where))

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
        if kind == "grad" and lost is not None and touched(held, lost):
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
        return Fill(kind, fill)

    def _called(self, function: DerivativeFunction, call: ast.Call, where: Where):
        """The fill for a printed dz_dx(2): a point where the derivative's value is claimed."""
        args = [self._number(a) for a in call.args]
        if call.keywords or any(a is None for a in args):
            return self._not_checked(call, where, "a hand-written derivative called with "
                                     "something other than numbers")

        def fill(shown):
            if shown is not None and shown.number:
                function.calls.append(Call(args, shown.written, where, shown.text))
        return Fill("call", fill)

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

    def _total(self, node: ast.expr, where: Where):
        """`9*a**2 == a.grad` shown: the hand-written total derivative of the output of the
        backward() that gave a.grad (the notebook's own check of it)."""
        name, hand = grad_compared(node) or grad_tolerance(node) or ("", node)
        held = self.env.get(name)
        adjoint = hand.id if isinstance(hand, ast.Name) else ""
        entry = self.adjoints.get(adjoint)
        if entry is not None and entry.of == name:   # torch.allclose(dw, w.grad): as cmp()
            found = Compared(name, where, adjoint=adjoint, held=entry.node)
            self.record.compared.append(found)

            def printed(shown):
                if shown is not None:
                    found.shown = f"{one(node)} printed {shown.text}"
            return Fill("total", printed)
        state = self.grads.get(id(held.origin)) if isinstance(held, Leaf) else None
        if not (state and state[0] == 1 and state[1] is not None):
            return self._not_checked(node, where, f"{name}.grad is not the gradient of one "
                                     "backward() the draft follows")
        try:
            total = Compared(name, where, hand=self.translator.expression(hand, values=True))
        except Unsupported as exc:
            return self._not_checked(node, where, exc.message)
        state[1].totals.append(total)

        def fill(shown):
            if shown is not None:
                total.shown = shown.text
        return Fill("total", fill)

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
        return Fill("other", fill)

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

    def _unshown(self, shows: list[Show]) -> None:
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


def _stand_in(held) -> Leaf | None:
    """A leaf under held whose numbers the case cannot reproduce (a stand-in draw)."""
    if held is None or not isinstance(held, (Leaf, Node)):
        return None
    leaves = [held] if isinstance(held, Leaf) else closure_leaves(held)
    return next((leaf for leaf in leaves if not leaf.exact), None)


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


def touched(held, lost: Where) -> bool:
    """Whether a statement left out (a backward(), a zero_()) may have changed held's .grad:
    not for a tensor made after it, whose gradient only the steps the draft kept reach."""
    origin = getattr(held, "origin", held)
    made = getattr(origin, "where", None)
    return not (isinstance(made, Where) and made.order > lost.order)
