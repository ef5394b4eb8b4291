"""Functions that state a derivative: a torch.autograd.Function's backward beside its forward,
and a plain function returning a gradient, called beside the autograd run it is compared with.

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)
        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

is the case `forward: {out: 0.5 * (5 * input ** 3 - 3 * input)}`, `gradient: {input: 1.5 *
(5 * input ** 2 - 1)}`: backward's coefficient of grad_output, checked against SymPy's
derivative of forward and autograd's.

    x = torch.tensor(2.0, requires_grad=True)
    y = 8*x**4 + 3*x**3 + 7*x**2 + 6*x + 3
    y.backward()
    print(x.grad, analytical_gradient(1.0))

is a case at autograd's point (x = 2) whose hand-written gradient is analytical_gradient's
body at the call's arguments (1.0): a call at the wrong point disagrees, at the call's line."""
from __future__ import annotations

import ast
import re

from ..case import MAX_LENGTH, Case, dotted_name
from ..errors import CaseError
from ._python import Found, Unchecked, at, case_name, coefficient, names_in, number, sampled, text

# the names a function returning a gradient goes by in tutorials and lab scripts
GRADIENT_NAME = re.compile(r"grad|deriv|prime|^d[a-z]\w?_?d[a-z]\w?$", re.IGNORECASE)
# fp, f_p, gprime: the derivative of f (of g), a function the same file defines
PRIMED = re.compile(r"^(\w+?)_?(?:p|prime)$")
# what turns a leaf tensor into its number, at the point it holds (x.item() is x)
_AS_NUMBER = {"item", "data", "detach", "numpy", "tolist", "clone"}
# what backward reads forward's saved tensors from (saved_variables: older torch's name)
_SAVED = {"ctx.saved_tensors", "ctx.saved_variables"}


def is_autograd_function(cls: ast.ClassDef) -> bool:
    bases = {dotted_name(b).rsplit(".", 1)[-1] for b in cls.bases}
    methods = {m.name for m in cls.body if isinstance(m, ast.FunctionDef)}
    return "Function" in bases and {"forward", "backward"} <= methods


def read_autograd_function(cls: ast.ClassDef, file: str, line: int,
                           point: dict | None = None) -> tuple[list, list[Unchecked]]:
    """[(Found, what, place)] for the class's backward, or why it was not read."""
    what = f"{cls.name}.backward"
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    try:
        return [(_Function(cls, methods, line).found(point), what,
                 at(methods["backward"], line))], []
    except _Unread as exc:
        node, reason = exc.args
        return [], [Unchecked(file, *at(node, line), what, reason)]


class _Unread(Exception):
    """(node, reason): what stops a derivative from being read, and where."""


class _Function:
    def __init__(self, cls: ast.ClassDef, methods: dict[str, ast.FunctionDef], line: int):
        self.cls, self.methods, self.line = cls, methods, line
        self.saved: list[ast.expr] = []            # ctx.save_for_backward's arguments
        self.stashed: dict[str, ast.expr] = {}     # ctx.name = ... -> its value
        self.nodes: dict[str, ast.expr] = {}
        self.places: dict[str, tuple[int, int]] = {}
        self.upstream = "grad_output"

    def found(self, point: dict | None) -> Found:
        forward = self.methods["forward"]
        params = [a.arg for a in forward.args.args]
        setup = self.methods.get("setup_context")
        if params[:1] == ["ctx"]:     # forward(input) with setup_context has no ctx
            params = params[1:]
        if not params:
            raise _Unread(forward, "forward takes no input")
        missing = [p for p in params if point is not None and p not in point]
        if missing:
            raise _Unread(forward, "at= gives no value of " + ", ".join(missing))
        self._forward(forward, params)
        if setup is not None:
            self._setup(setup, params)
        names, grads = self._backward(self.methods["backward"], params)
        # `return None` for an input says its gradient is zero: compared as zero, never skipped
        grads = [ast.Constant(0, lineno=g.lineno, col_offset=g.col_offset)
                 if isinstance(g, ast.Constant) and g.value is None else g for g in grads]
        marks = {(): at(self.cls, self.line), ("inputs",): at(forward, self.line)}
        marks |= {("forward", n): p for n, p in self.places.items()}
        data = {
            "name": case_name(self.cls.name, "backward"),
            "title": f"{self.cls.name}.backward is the derivative of {self.cls.name}.forward",
            "inputs": {p: {"value": (point or {}).get(p, 1.0), "grad": True} for p in params},
            "forward": {n: text(e) for n, e in self.nodes.items()}, "output": "out"}
        if point is not None and any(isinstance(v, list) for v in point.values()):
            self._tensors(data, marks, params, grads, names)
        else:
            self._numbers(data, marks, params, grads, names, point is None)
        return Found(data, marks, derivatives=len(params))

    def _numbers(self, data: dict, marks: dict, params: list[str], grads: list[ast.expr],
                 names: dict[str, str], sample: bool) -> None:
        """At numbers: backward's coefficient of grad_output where each gradient is one (the
        local derivative); else backward(x, g) as written, the vector-Jacobian product,
        against g * d out/dx with g a number of its own (sampled like the inputs), so a
        rule that is not linear in g is compared too, not refused."""
        g = self.upstream
        local = [coefficient(grad, {g}) for grad in grads]
        marks |= {("gradient", p): at(grad, self.line) for p, grad in zip(params, grads)}
        if all(c is not None for c in local):
            data["gradient"] = {p: text(c, names) for p, c in zip(params, local)}  # type: ignore
        elif g in params or g in self.nodes:
            raise _Unread(grads[local.index(None)], f"the gradient is not a multiple of {g} "
                                                    f"(the local derivative times it)")
        else:
            data["inputs"][g] = {"value": 1.0, "grad": False}
            data["forward"]["vjp"] = f"{g} * out"
            data["output"] = "vjp"
            marks[("forward", "vjp")] = at(self.methods["backward"], self.line)
            data["gradient"] = {p: text(grad, names) for p, grad in zip(params, grads)}
        if sample:
            data["sample"] = sampled(list(data["inputs"]))

    def _tensors(self, data: dict, marks: dict, params: list[str], grads: list[ast.expr],
                 names: dict[str, str]) -> None:
        """At tensors: backward as written, in adjoint form (d<input>, grad_output the
        output's dout of ones, as .sum() gives), so each gradient keeps its shape: one that
        is not its input's (a broadcast not summed back) fails."""
        spelled = names | {self.upstream: "dout"}
        data["upstream"] = "ones_like(out)"
        data["backward"] = {}
        for p, grad in zip(params, grads):
            zero = isinstance(grad, ast.Constant) and grad.value == 0
            data["backward"][f"d{p}"] = f"zeros_like({p})" if zero else text(grad, spelled)
            marks[("backward", f"d{p}")] = at(grad, self.line)

    def _forward(self, forward: ast.FunctionDef, params: list[str]) -> None:
        for stmt in _body(forward):
            if self._ctx(stmt):
                continue
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                self.nodes["out"] = stmt.value
                self.places["out"] = at(stmt.value, self.line)
                return
            target = _assigned(stmt)
            if target is None or target in params or target == "out":
                raise _Unread(stmt, "a statement in forward that is not `name = ...`")
            self.nodes[target] = stmt.value          # type: ignore[attr-defined]
            self.places[target] = at(stmt, self.line)
        raise _Unread(forward, "forward returns no expression")

    def _ctx(self, stmt: ast.stmt) -> bool:
        """ctx.save_for_backward(a, b) and ctx.name = value, remembered."""
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                and dotted_name(stmt.value.func) == "ctx.save_for_backward":
            self.saved = list(stmt.value.args)
            return True
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and dotted_name(stmt.targets[0]).startswith("ctx."):
            self.stashed[dotted_name(stmt.targets[0])] = stmt.value
            return True
        return False

    def _setup(self, setup: ast.FunctionDef, params: list[str]) -> None:
        """setup_context(ctx, inputs, output): `input, = inputs` names forward's inputs."""
        args = [a.arg for a in setup.args.args]
        inputs = args[1] if len(args) > 1 else "inputs"
        renamed: dict[str, str] = {}
        for stmt in _body(setup):
            if isinstance(stmt, ast.Assign) and dotted_name(stmt.value) == inputs:
                renamed |= dict(zip(_unpacked(stmt.targets[0]), params))
            elif not self._ctx(stmt):
                raise _Unread(stmt, "a statement in setup_context this reading does not know")
        self.saved = [ast.Name(renamed.get(dotted_name(s), dotted_name(s)), ast.Load())
                      for s in self.saved]

    def _backward(self, backward: ast.FunctionDef, params: list[str]):
        args = [a.arg for a in backward.args.args]
        if len(args) < 2:
            raise _Unread(backward, "backward takes no gradient of the output")
        self.upstream = args[1]
        names: dict[str, str] = {}
        local: dict[str, ast.expr] = {}
        for stmt in _body(backward):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                value = _inlined(stmt.value, local)
                grads = value.elts if isinstance(value, ast.Tuple) else [value]
                if len(grads) != len(params):
                    raise _Unread(stmt, f"backward returns {len(grads)} gradients for "
                                        f"{len(params)} inputs")
                return names, grads
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and dotted_name(stmt.value) in _SAVED:
                for name, saved in zip(_unpacked(stmt.targets[0]), self.saved):
                    names[name] = self._saved_name(saved, stmt)
                continue
            masked = _masked(stmt, local)
            if masked is not None:
                local[masked] = _zeroed_where(stmt, local[masked])   # type: ignore[arg-type]
                continue
            target = _assigned(stmt)
            if target is not None and isinstance(stmt, ast.Assign):
                saved_one = _saved_index(stmt.value)
                if saved_one is not None and saved_one < len(self.saved):
                    names[target] = self._saved_name(self.saved[saved_one], stmt)
                elif dotted_name(stmt.value) in self.stashed:
                    local[target] = self.stashed[dotted_name(stmt.value)]
                else:
                    local[target] = _inlined(_uncopied(stmt.value), local)
                continue
            raise _Unread(stmt, "a statement in backward that is not `name = ...` (an "
                                "in-place change, a branch): the gradient cannot be read")
        raise _Unread(backward, "backward returns nothing")

    def _saved_name(self, saved: ast.expr, stmt: ast.stmt) -> str:
        name = dotted_name(saved)
        if not name or "." in name:
            raise _Unread(stmt, "a saved tensor that is not a name in forward")
        return name


def _body(func: ast.FunctionDef) -> list[ast.stmt]:
    """The statements that compute: a docstring, `pass` and a call to print or a logger
    (`print(...)`, `logging.info(...)`, `logger.debug(...)`) change no value."""
    return [s for s in func.body if not (isinstance(s, ast.Expr) and (isinstance(
        s.value, ast.Constant) or _says(s.value))) and not isinstance(s, ast.Pass)]


def _says(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    name = dotted_name(value.func)
    return name == "print" or name.split(".")[0] in _LOGGERS


_LOGGERS = {"logging", "logger", "log", "LOGGER"}


def _assigned(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def _unpacked(target: ast.expr) -> list[str]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [e.id if isinstance(e, ast.Name) else "" for e in target.elts]
    return [target.id] if isinstance(target, ast.Name) else []


# a copy of a tensor is its value: `grad_input = grad_output.clone()` is grad_output
_COPIES = {"clone", "detach"}
# the comparison that picks the other elements: x < 0 zeroed leaves x >= 0
_NEGATED = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _uncopied(value: ast.expr) -> ast.expr:
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr in _COPIES and not value.args and not value.keywords:
        value = value.func.value
    return value


def _masked(stmt: ast.stmt, local: dict[str, ast.expr]) -> str | None:
    """grad_input of `grad_input[input < 0] = 0`, a masked assignment to a local name."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], ast.Subscript) \
            and isinstance(stmt.targets[0].value, ast.Name) \
            and stmt.targets[0].value.id in local:
        return stmt.targets[0].value.id
    return None


def _zeroed_where(stmt: ast.Assign, value: ast.expr) -> ast.expr:
    """`g[x < 0] = 0` makes g the value times the mask of the others: g * (x >= 0), a
    product the local derivative is read from as any other (PyTorch's MyReLU backward)."""
    target = stmt.targets[0]
    assert isinstance(target, ast.Subscript)
    mask = target.slice
    if not (isinstance(stmt.value, ast.Constant) and stmt.value.value == 0
            and not isinstance(stmt.value.value, bool)):
        raise _Unread(stmt, "a masked assignment of something other than 0: the gradient "
                            "cannot be read")
    if not (isinstance(mask, ast.Compare) and len(mask.ops) == 1
            and type(mask.ops[0]) in _NEGATED):
        raise _Unread(stmt, "a masked assignment whose mask is not one comparison "
                            "(g[x < 0] = 0): the gradient cannot be read")
    kept = ast.Compare(mask.left, [_NEGATED[type(mask.ops[0])]()], mask.comparators)
    product = ast.BinOp(value, ast.Mult(), kept)
    return ast.copy_location(ast.parse(ast.unparse(product), mode="eval").body, stmt)


def _saved_index(value: ast.expr) -> int | None:
    if isinstance(value, ast.Subscript) and dotted_name(value.value) in _SAVED \
            and isinstance(value.slice, ast.Constant) and isinstance(value.slice.value, int):
        return value.slice.value
    return None


class _Inline(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]):
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.values.get(node.id, node)


def _inlined(expr: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    """expr with each name in values replaced by its expression (ast.unparse puts the
    parentheses the precedence needs). Written out, `a = x*x; b = a*a; ...` doubles a line:
    past the parser's length the derivative is not read."""
    if not values:
        return expr
    length = len(ast.unparse(expr)) + sum(len(ast.unparse(values[n.id])) for n in ast.walk(expr)
                                          if isinstance(n, ast.Name) and n.id in values)
    if length > MAX_LENGTH:
        raise _Unread(expr, f"written out with its local names, it is longer than "
                            f"{MAX_LENGTH:,} characters")
    copied = ast.parse(ast.unparse(expr), mode="eval").body
    inlined = _Inline(values).visit(copied)
    # the copy keeps the place of what it copies: a wrong gradient is named at its line
    return ast.copy_location(inlined, expr) if inlined is copied else inlined


# --- a function returning a gradient, called beside autograd --------------------------------

def read_gradient_calls(tree: ast.Module, file: str, line: int) -> tuple[list, list[Unchecked]]:
    """[(Found, what, place)] for each call of a gradient function that can be paired with
    the autograd run beside it, and the calls that cannot."""
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    gradients = {n: f for n, f in functions.items()
                 if gradient_name(n, set(functions)) and not runs_autograd(f)}
    if not gradients:
        return [], []
    run = _Run(functions)
    run.read(tree.body)
    found, unchecked = [], []
    for call, stmt in run.calls:
        name = dotted_name(call.func)
        if name not in gradients:
            continue
        what = f"{name}({', '.join(ast.unparse(a) for a in call.args)})"
        try:
            found.append((run.case_of(call, stmt, gradients[name], line), what,
                          at(call, line)))
        except _Unread as exc:
            node, reason = exc.args
            unchecked.append(Unchecked(file, *at(node, line), what, reason))
    return found, unchecked


def gradient_name(name: str, defined: set[str]) -> bool:
    """A function's name says it returns a gradient: grad, deriv or prime in it, dz_dx, or
    primed()."""
    return bool(GRADIENT_NAME.search(name)) or primed(name, defined)


def primed(name: str, defined: set[str]) -> bool:
    """fp (f_p, fprime) where the file defines f too: f's derivative, the name the UW
    tutorial copied in many courses gives it (`print('Analytical f\'(x):', fp(x))`)."""
    found = PRIMED.match(name)
    return bool(found and found[1] in defined)


def runs_autograd(func: ast.FunctionDef) -> bool:
    """pytorch_gradient(): loss.backward(), then return {"dw": w.grad.numpy()}: named like a
    gradient, it returns what autograd computed (no arithmetic in what it returns)."""
    returned = [n.value for n in ast.walk(func) if isinstance(n, ast.Return) and n.value]
    ran = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and n.func.attr == "backward" for n in ast.walk(func))
    return ran and bool(returned) and not any(
        isinstance(n, (ast.BinOp, ast.UnaryOp)) for v in returned for n in ast.walk(v))


class _Run:
    """The script's autograd run as it reads top to bottom: leaves, nodes, the output."""

    def __init__(self, functions: dict[str, ast.FunctionDef]):
        self.functions = functions
        # x = torch.tensor(2.0, requires_grad=True): name -> (value, requires_grad)
        self.leaves: dict[str, tuple[float | list, bool]] = {}
        self.numbers: dict[str, float] = {}
        self.nodes: dict[str, ast.expr] = {}
        self.places: dict[str, tuple[int, int]] = {}
        self.output: str | None = None
        self.calls: list[tuple[ast.Call, ast.stmt]] = []
        self.read_order: list[ast.stmt] = []   # each statement read, in order

    def read(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                continue
            self.read_order.append(stmt)
            self._calls(stmt)
            if isinstance(stmt, (ast.If, ast.With, ast.For, ast.While)):
                self.read(stmt.body)
                continue
            target = _assigned(stmt)
            marked = _requires_grad(stmt)
            if target is not None:
                self._assign(target, stmt)   # type: ignore[arg-type]
            elif marked in self.leaves:
                self.leaves[marked] = (self.leaves[marked][0], True)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                    and isinstance(stmt.value.func, ast.Attribute) \
                    and stmt.value.func.attr == "backward":
                self.output = dotted_name(stmt.value.func.value) or None

    def _calls(self, stmt: ast.stmt) -> None:
        inner = [stmt] if not isinstance(stmt, (ast.If, ast.With, ast.For, ast.While)) else \
            [getattr(stmt, "test", None) or getattr(stmt, "iter", None)]
        for part in inner:
            if part is None:
                continue
            for node in ast.walk(part):
                if isinstance(node, ast.Call) and dotted_name(node.func) in self.functions:
                    self.calls.append((node, stmt))

    def _assign(self, target: str, stmt: ast.Assign) -> None:
        value = stmt.value
        leaf = _leaf(value)
        value_number = number(value)
        self.leaves.pop(target, None)
        self.numbers.pop(target, None)
        self.nodes.pop(target, None)
        if leaf is not None:
            self.leaves[target] = leaf
        elif value_number is not None:
            self.numbers[target] = value_number
        elif names_in(value) & (set(self.leaves) | set(self.nodes)):
            self.nodes[target] = self._inline_calls(value)
            self.places[target] = (stmt.lineno, stmt.col_offset + 1)

    def _inline_calls(self, value: ast.expr) -> ast.expr:
        """f(x) where `def f(x): return ...` is f's expression at x."""
        if isinstance(value, ast.Call) and dotted_name(value.func) in self.functions:
            try:
                returned = _returned(self.functions[dotted_name(value.func)])
            except _Unread:
                return value      # too long written out: the parser refuses the call instead
            params = [a.arg for a in self.functions[dotted_name(value.func)].args.args]
            if returned is not None and len(params) == len(value.args):
                return _inlined(returned, dict(zip(params, value.args)))
        return value

    def case_of(self, call: ast.Call, stmt: ast.stmt, func: ast.FunctionDef,
                line: int) -> Found:
        returned = _returned(func)
        if returned is None:
            raise _Unread(func, f"{func.name} is not one `return expression`")
        if self.output is None or self.output not in self.nodes:
            raise _Unread(call, "no autograd run (y.backward() on a computed y) before it")
        params = [a.arg for a in func.args.args]
        if len(params) != len(call.args) or call.keywords:
            raise _Unread(call, f"called with other arguments than {func.name} takes")
        leaf = self._compared(stmt, call)
        args = {p: self._at_leaf(p, self._argument(a, call)) for p, a in zip(params, call.args)}
        ran = ", ".join(f"{n} = {v:g}" for n, (v, g) in self.leaves.items()
                        if g and isinstance(v, float))
        # a number that is not autograd's point: where it fails, the call is what is wrong
        moved = [f"{p} = {ast.unparse(a)}" for p, a in args.items() if isinstance(a, ast.Constant)]
        grad = _inlined(returned, args)
        nodes = self._needed()
        if not any(leaf in names_in(self.nodes[n]) for n in nodes):
            raise _Unread(call, f"{leaf}.grad, which it is compared with, is not of the last "
                          f"backward() ({self.output}.backward()), the one the reader follows")
        used = {n for e in [grad, *(self.nodes[n] for n in nodes)] for n in names_in(e)}
        data = {
            "name": case_name(func.name, f"line{call.lineno + line - 1}"),
            "title": f"{func.name} called as {ast.unparse(call)} beside autograd's "
                     f"{leaf}.grad",
            "inputs": {n: {"value": v, "grad": n == leaf} for n, (v, _) in self.leaves.items()
                       if n in used or n == leaf},   # leaf: called at its number, not its name
            "forward": {n: text(self.nodes[n]) for n in nodes},
            "output": self.output, "gradient": {leaf: text(grad)}}
        marks = {(): at(call, line), ("gradient", leaf): at(call, line)}
        marks |= {("forward", n): (self.places[n][0] + line - 1, self.places[n][1])
                  for n in nodes}
        leads = {leaf: f"{func.name} is called at {', '.join(moved)} where autograd ran at "
                       f"{ran}"} if moved else {}
        return Found(data, marks, leads=leads)

    def _at_leaf(self, param: str, arg: ast.expr) -> ast.expr:
        """A number that is a leaf's value at autograd's point is that leaf (the call is
        then checked as a formula too); any other number stays the number it is."""
        if not isinstance(arg, ast.Constant):
            return arg
        same = [n for n, (v, g) in self.leaves.items() if g and v == arg.value]
        if param in same or len(same) == 1:
            return ast.Name(param if param in same else same[0], ast.Load())
        return arg

    def _compared(self, stmt: ast.stmt, call: ast.Call) -> str:
        """The leaf whose .grad the call is compared with: the one named x.grad in the same
        statement, or in a later one naming what it was assigned to
        (`np.isclose(manual_grad, x.grad.item())`), else the only leaf, else the leaf a
        function of one input is called on (fp(x) beside f(x) of leaves a, b and x)."""
        for near in (self._grads_in(stmt), self._grads_compared_later(stmt)):
            if len(near) == 1:
                return near.pop()
        grads = [n for n, (_, g) in self.leaves.items() if g]
        if len(grads) == 1:
            return grads[0]
        if len(call.args) == 1 and isinstance(call.args[0], ast.Name) \
                and call.args[0].id in grads:
            return call.args[0].id
        raise _Unread(stmt, "it cannot be told which autograd gradient it is compared with "
                            "(no x.grad beside it, and several leaves)")

    def _grads_in(self, stmt: ast.stmt) -> set[str]:
        return {dotted_name(n)[: -len(".grad")] for n in ast.walk(stmt)
                if isinstance(n, ast.Attribute) and dotted_name(n).endswith(".grad")} \
            & set(self.leaves)

    def _grads_compared_later(self, stmt: ast.stmt) -> set[str]:
        """The leaves whose .grad the first later statement naming stmt's target shows
        beside it."""
        target = _assigned(stmt)
        later = self.read_order[self.read_order.index(stmt) + 1:] \
            if target and stmt in self.read_order else []
        for other in later:
            if target in names_in(other):
                found = self._grads_in(other)
                if found:
                    return found
        return set()

    def _argument(self, arg: ast.expr, call: ast.Call) -> ast.expr:
        """A call's argument: a leaf (at autograd's own point) or a number."""
        while isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) \
                and arg.func.attr in _AS_NUMBER and not arg.args:
            arg = arg.func.value
        if isinstance(arg, ast.Attribute) and arg.attr in _AS_NUMBER:
            arg = arg.value
        if isinstance(arg, ast.Name) and arg.id in self.leaves:
            return arg
        if isinstance(arg, ast.Name) and arg.id in self.numbers:
            return ast.Constant(self.numbers[arg.id])
        found = number(arg)
        if found is None:
            raise _Unread(arg, f"the argument `{ast.unparse(arg)}` is neither a number nor a "
                               "leaf of the autograd run")
        return ast.Constant(found)

    def _needed(self) -> list[str]:
        """The nodes the output is computed from, in the order assigned."""
        needed, todo = set(), [self.output]
        while todo:
            name = todo.pop()
            if name in self.nodes and name not in needed:
                needed.add(name)
                todo += list(names_in(self.nodes[name]))
        return [n for n in self.nodes if n in needed]


def _returned(func: ast.FunctionDef) -> ast.expr | None:
    body = _body(func)
    local: dict[str, ast.expr] = {}
    for stmt in body:
        target = _assigned(stmt)
        if target is not None:
            local[target] = _inlined(stmt.value, local)   # type: ignore[attr-defined]
        elif isinstance(stmt, ast.Return) and stmt.value is not None and stmt is body[-1]:
            return _inlined(stmt.value, local)
        else:
            return None
    return None


def _leaf(value: ast.expr) -> tuple[float | list, bool] | None:
    """(2.0, True) of torch.tensor(2.0, requires_grad=True): a tensor written as numbers
    (a one-element list is its number; `.double()` after it changes nothing read here)."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr in ("double", "float") and not value.args:
        value = value.func.value
    if not (isinstance(value, ast.Call) and dotted_name(value.func) in
            ("torch.tensor", "torch.Tensor", "tensor") and value.args):
        return None
    grad = any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant)
               and k.value.value is True for k in value.keywords)
    arg = value.args[0]
    if isinstance(arg, ast.List) and len(arg.elts) == 1:
        arg = arg.elts[0]
    held = _numbers(arg)
    return None if held is None else (held, grad)


def _numbers(value: ast.expr, depth: int = 0) -> float | list | None:
    """A number, or a nested list of numbers written out (at most four levels deep)."""
    if isinstance(value, (ast.List, ast.Tuple)) and depth < 4:
        items = [_numbers(e, depth + 1) for e in value.elts]
        return None if not items or any(i is None for i in items) else items
    return number(value)


def _requires_grad(stmt: ast.stmt) -> str | None:
    """x of `x.requires_grad = True` and `x.requires_grad_()`."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and dotted_name(stmt.targets[0]).endswith(".requires_grad") \
            and isinstance(stmt.value, ast.Constant) and stmt.value.value is True:
        return dotted_name(stmt.targets[0])[: -len(".requires_grad")]
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
            and dotted_name(stmt.value.func).endswith(".requires_grad_"):
        return dotted_name(stmt.value.func)[: -len(".requires_grad_")]
    return None


# --- a forward function and its gradient function, handed over by the API -----------------

def function_pair(forward: ast.FunctionDef, gradient: ast.FunctionDef, places: dict,
                  at_points: list[dict], wrt: list[str] | None) -> Case:
    """The case of `gradient` as the derivative of `forward` (see _pair); what cannot be
    read is a CaseError at its place in the gradient's file."""
    file, line = places["gradient"]
    try:
        found = _pair(forward, gradient, places, at_points, wrt)
    except _Unread as exc:
        node, reason = exc.args
        in_forward = places["forward"] if any(node is n for n in ast.walk(forward)) else None
        where_file, where_line = in_forward or (file, line)
        raise CaseError(reason, where_file, *at(node, where_line)) from None
    case = found.case(file)
    assert isinstance(case, Case)    # a function's pair is never steps
    return case


def _pair(forward: ast.FunctionDef, gradient: ast.FunctionDef, places: dict,
          at_points: list[dict], wrt: list[str] | None) -> Found:
    """The case of `gradient` as the derivative of `forward` at the points given.

    places: {"forward": (file, first line), "gradient": (file, first line)}; the case is
    located in the gradient's file (it is what the case checks). A gradient function's
    parameters are forward's, by position; it returns one gradient a differentiated input
    (wrt; default: every input of forward), a tuple where there are several."""
    params = [a.arg for a in forward.args.args]
    file, line = places["gradient"]
    if not params:
        raise _Unread(forward, f"{forward.name} takes no input")
    returned = _returned(forward)
    if returned is None:
        raise _Unread(forward, f"{forward.name} is not assignments then one `return expression`")
    grad_params = [a.arg for a in gradient.args.args]
    renamed: dict[str, ast.expr] = {g: ast.Name(p, ast.Load())
                                    for g, p in zip(grad_params, params) if g != p}
    grad = _returned(gradient)
    if grad is None:
        raise _Unread(gradient, f"{gradient.name} is not assignments then one "
                                "`return expression`")
    grads = grad.elts if isinstance(grad, ast.Tuple) else [grad]
    wrt = list(wrt or (params if len(grads) == len(params) else params[:1]))
    if len(grads) != len(wrt):
        raise _Unread(gradient, f"{gradient.name} returns {len(grads)} gradients for "
                                f"{len(wrt)} inputs ({', '.join(wrt)})")
    unknown = [w for w in wrt if w not in params]
    if unknown:
        raise _Unread(gradient, f"{unknown[0]} is not an input of {forward.name}")
    missing = [p for p in params if any(p not in point for point in at_points)]
    if missing or not at_points:
        raise _Unread(forward, "at= gives no value of " + ", ".join(missing or params))
    base = at_points[0]
    forward_file, forward_line = places["forward"]
    out_place = at(returned, forward_line) if forward_file == file else at(gradient, line)
    data = {
        "name": case_name(gradient.name),
        "title": f"{gradient.name} is the gradient of {forward.name}",
        "inputs": {p: {"value": base[p], "grad": p in wrt} for p in params},
        "forward": {forward.name: text(returned)}, "output": forward.name,
        "gradient": {w: text(_inlined(g, renamed)) for w, g in zip(wrt, grads)},
        "points": [{"at": point} for point in at_points[1:]]}
    marks = {(): at(gradient, line), ("inputs",): at(gradient, line),
             ("forward", forward.name): out_place}
    marks |= {("gradient", w): at(g, line) for w, g in zip(wrt, grads)}
    return Found(data, marks, derivatives=len(wrt))
