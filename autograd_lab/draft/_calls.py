"""Calls standing alone: backward(), zero_(), requires_grad_(), retain_grad(), cmp() and a
hand-written derivative called where its value is shown."""
from __future__ import annotations

import ast
import math

from ._adjoints import compared, comparer, grad_compared
from ._claims import grad_tolerance
from ._held import Func, Leaf, Node, Translated, Unsupported, one
from ._records import Compared, DerivativeFunction, Instance, Show, Step, closure_leaves
from ._shows import Shows, touched
from ._tensorforms import kind
from ._translate import checked_text


class Calls(Shows):
    """Statements that are a call: what it does to the tensors and their gradients."""

    def s_Expr(self, statement, shown):
        value = statement.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return  # a string standing alone: text, not code
        if isinstance(value, ast.Call):
            return self.call(value, shown)
        if isinstance(value, ast.Attribute) and value.attr == "backward":
            where = self.where(statement)
            self.note(where.cell, where.line, f"{one(value)} is not called (no parentheses): "
                      "no backward() runs here, so no gradient is computed")
            return
        if shown:
            self.display(value)

    def s_Assert(self, statement, shown):
        """`assert torch.allclose(9*a**2, a.grad)`: a lab script's check, read as the same
        comparison printed (nothing shown: the case compares it); so is `assert (dx -
        x.grad).abs().max() < 1e-6`, a tolerance written out (_claims.tolerance)."""
        test = statement.test
        if grad_compared(test) is None and grad_tolerance(test) is None:
            raise Unsupported("an assert other than a comparison with a .grad", statement)
        self._total(test, self.where(statement))(None)

    def call(self, call: ast.Call, shown: bool) -> None:
        func = call.func
        if isinstance(func, ast.Name) and func.id == "print" and "print" not in self.env:
            return self.print(call)
        if self.draws.reseed(call, self.where(call)):
            return
        if isinstance(func, ast.Name) and isinstance(self.env.get(func.id), Func) \
                and comparer(self.env[func.id]):
            return self.compare(call)
        if isinstance(func, ast.Name) and func.id in self.record.functions:
            return self.derivative_call(self.record.functions[func.id], call, shown)
        if isinstance(func, ast.Attribute):
            method, owner = func.attr, func.value
            if method == "backward":
                return self.backward(owner, call)
            if method == "zero_" and isinstance(owner, ast.Attribute) and owner.attr == "grad" \
                    and isinstance(owner.value, ast.Name) and not call.args:
                step = self.zero_grad(owner.value.id, call)
                if shown:
                    self.display(owner, step)
                return
            if method == "requires_grad_" and isinstance(owner, ast.Name) and not call.keywords:
                flag = call.args[0] if call.args else ast.Constant(True)
                if len(call.args) > 1 or not (isinstance(flag, ast.Constant)
                                              and isinstance(flag.value, bool)):
                    raise Unsupported("requires_grad_() with something other than True or "
                                      "False", call)
                step = self.requires_grad(owner.id, flag.value, call)
                if shown:
                    self.display(owner, step)
                return
            if method == "retain_grad" and isinstance(owner, ast.Name) and not call.args:
                held = self._tensor(owner.id, call)
                self.need(held)
                self.step(Step("retain_grad", self.where(call), (owner.id,)))
                return
        if shown:
            return self.display(call)
        if isinstance(func, ast.Name) and isinstance(self.env.get(func.id), Func):
            if self.env[func.id].prints:
                self.unreadable = f"{func.id}() prints"
            raise Unsupported("a call whose value is not kept", call)
        raise Unsupported("a call the draft does not follow", call)

    def backward(self, owner: ast.expr, call: ast.Call) -> None:
        if not isinstance(owner, ast.Name):
            raise Unsupported("backward() of an unnamed expression: name it first", call)
        given = [k.value for k in call.keywords if k.arg == "gradient"] + list(call.args)
        if len(given) > 1 or any(k.arg != "gradient" for k in call.keywords):
            raise Unsupported("backward() with arguments other than gradient= (retain_graph=, "
                              "...): the case format's steps call backward(gradient=...) at "
                              "most", call)
        held = self._tensor(owner.id, call)
        written = self.translator.expression(given[0]) if given else None
        self.need(held)
        for dep in (written.deps.values() if written else ()):
            if isinstance(dep, (Leaf, Node)):
                self.need(dep)
        where = self.where(call)
        # the step as the tutorial wrote it; the gradient case is told what torch hands y
        self.step(Step("backward", where, (owner.id, written) if written else (owner.id,)))
        upstream = written or _one_element(owner.id, held)
        fits = held.shape == () if upstream is None else kind(upstream).shape in (
            (), tuple(held.shape))
        if not (isinstance(held, Node) and held.tracked and fits):
            return  # torch raises here (no graph, not a scalar, a gradient of another shape)
        leaves = closure_leaves(held)
        params = [leaf for leaf in leaves if leaf.grad]
        if not params or any(leaf.value is None for leaf in leaves):
            return
        instance = Instance(held, where, upstream=upstream)
        self.record.instances.append(instance)
        for leaf in params:
            state = self.grads.setdefault(id(leaf.origin), [0, None])
            state[0] += 1
            state[1] = instance

    def zero_grad(self, name: str, call) -> Step:
        held = self._tensor(name, call)
        lost = self.segment.lost
        if lost is not None and touched(held, lost):   # its .grad may be None in the case
            raise Unsupported(f"the {lost.code[:40]} before it ({lost}) was left out, so the "
                              f"case would not have {name}.grad to zero", call)
        self.need(held)
        stale = self.segment.stale.get(id(getattr(held, "origin", held)))
        if stale:
            raise Unsupported(f"{stale}: the case would not have {name}.grad to zero", call)
        step = self.step(Step("zero_grad", self.where(call), (name,)))
        if isinstance(held, Leaf):
            self.grads[id(held.origin)] = [0, None]
        return step

    def requires_grad(self, name: str, flag: bool, node) -> Step:
        held = self._tensor(name, node)
        if not isinstance(held, Leaf):
            raise Unsupported(f"requires_grad of {name}, which is computed, not a leaf", node)
        self.need(held)
        step = self.step(Step("requires_grad", self.where(node), (name, flag)))
        changed = held.changed(flag, self.where(node))
        self.env[name] = changed
        self.segment.current[name] = changed
        return step

    def compare(self, call: ast.Call) -> None:
        """cmp('logprobs', dlogprobs, logprobs): a backward entry compared with autograd's."""
        label, adjoint, target = compared(call)
        found = Compared(target, self.where(call), adjoint=adjoint,
                         held=self.env.get(adjoint), shown=label)
        self.compared.append(found)
        self.record.compared.append(found)

    def derivative_call(self, function: DerivativeFunction, call: ast.Call, shown: bool) -> None:
        if not shown:
            raise Unsupported("a call of a hand-written derivative whose value is not shown",
                              call)
        where = self.where(call)
        self.shows.append(Show([None, "\n"], [self._called(function, call, where)], where,
                                display=True))


def _one_element(name: str, held) -> Translated | None:
    """y.backward() of a y of one element, shape (1,) (torch.tensor([1.0]) ** 4): torch hands
    it torch.ones_like(y), as the case then does (its output must be a scalar otherwise)."""
    if not (isinstance(held, Node) and held.shape and math.prod(held.shape) == 1):
        return None
    tree = ast.Call(ast.Attribute(ast.Name("torch", ast.Load()), "ones_like", ast.Load()),
                    [ast.Name(name, ast.Load())], [])
    return Translated(tree, checked_text(tree), {name: held})
