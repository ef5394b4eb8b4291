"""micrograd's `Value`: each operator's backward rule read beside the forward it belongs to.

    def tanh(self):
      x = self.data
      t = (math.exp(2*x) - 1)/(math.exp(2*x) + 1)
      out = Value(t, (self, ), 'tanh')
      def _backward():
        self.grad += (1 - t**2) * out.grad

is the case `forward: {x: self, t: ..., out: t}`, `gradient: {self: 1 - t**2}`: the rule's
coefficient of out.grad is the local derivative of out by self, checked against SymPy's
derivative of the forward (and autograd's) at sampled points. An operator that only combines
others (`__sub__` is `self + (-other)`, `__truediv__` is `self * other**-1`) is checked through
what it builds: its nodes are the operators it calls, its chain-rule edges their rules."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..case import dotted_name
from ._python import Found, Unchecked, at, case_name, coefficient, sampled, text

UPSTREAM = {"out.grad"}
_OPERATORS = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__",
              ast.Div: "__truediv__", ast.Pow: "__pow__"}
_ARITHMETIC = {"__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
               "__truediv__", "__rtruediv__", "__pow__", "__neg__"}
_REFLECTED = {"__add__": "__radd__", "__sub__": "__rsub__", "__mul__": "__rmul__",
              "__truediv__": "__rtruediv__"}


@dataclass
class Rule:
    """One operator defined with a _backward closure: its forward and its rules."""

    name: str
    params: list[str]
    nodes: dict[str, ast.expr]                 # the locals, then out, in order
    places: dict[str, tuple[int, int]]         # node -> where it is assigned
    rules: dict[str, tuple[ast.expr, ast.stmt]] = field(default_factory=dict)  # operand -> ..
    values: set[str] = field(default_factory=set)   # operands that are Values (have a grad)
    notes: list[str] = field(default_factory=list)


def is_value_class(cls: ast.ClassDef) -> bool:
    """A class with an operator whose backward rule is a nested `_backward` closure."""
    return any(_closure(m) is not None for m in _methods(cls).values())


def read_class(cls: ast.ClassDef, file: str, line: int) -> tuple[list, list[Unchecked]]:
    """[(Found, what, place)] for each operator of a Value class, and what was not read."""
    methods = _methods(cls)
    found: list = []
    unchecked: list[Unchecked] = []
    rules: dict[str, Rule] = {}
    for name, method in methods.items():
        if _closure(method) is None:
            continue
        rule = _rule(method, cls.name, file, line, unchecked)
        if rule is not None:
            rules[name] = rule
            found.append((_primitive(rule, cls.name, method, line),
                          f"{cls.name}.{name}", at(method, line)))
    for name, method in methods.items():
        returned = _delegation(method)
        if name in rules or returned is None or name not in _ARITHMETIC:
            continue
        what = f"{cls.name}.{name}"
        try:
            found.append((_Delegated(cls.name, methods, method, rules, line).found(returned), what,
                          at(method, line)))
        except _Unread as exc:
            unchecked.append(Unchecked(file, *at(method, line), what,
                                       f"it delegates to other operators and {exc}"))
    return found, unchecked


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}


def _closure(method: ast.FunctionDef) -> ast.FunctionDef | None:
    return next((s for s in method.body if isinstance(s, ast.FunctionDef)
                 and s.name == "_backward"), None)


def _delegation(method: ast.FunctionDef) -> ast.expr | None:
    """The expression of `return self * other**-1`, a method that is one return."""
    body = [s for s in method.body if not _docstring(s)]
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        return body[0].value
    return None


def _docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _rule(method: ast.FunctionDef, cls: str, file: str, line: int,
          unchecked: list[Unchecked]) -> Rule | None:
    what = f"{cls}.{method.name}"
    params = [a.arg for a in method.args.args]
    nodes: dict[str, ast.expr] = {}
    places: dict[str, tuple[int, int]] = {}
    values = {params[0]} if params else set()
    closure = _closure(method)
    assert closure is not None
    for stmt in method.body:
        if stmt is closure:
            break
        if _docstring(stmt) or isinstance(stmt, ast.Assert):
            continue
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            unchecked.append(Unchecked(file, *at(stmt, line), what,
                                       "a statement before _backward that is not `name = ...`"))
            return None
        target, value = stmt.targets[0].id, stmt.value
        if target in params:     # other = other if isinstance(other, Value) else Value(other)
            values.add(target)
            continue
        if target == "out":
            if not (isinstance(value, ast.Call) and dotted_name(value.func) == cls
                    and value.args):
                unchecked.append(Unchecked(file, *at(stmt, line), what,
                                           f"out is not built as {cls}(data, ...)"))
                return None
            value = value.args[0]
        nodes[target] = value
        places[target] = at(value, line)
    if "out" not in nodes:
        unchecked.append(Unchecked(file, *at(method, line), what,
                                   f"no `out = {cls}(...)` before _backward"))
        return None
    rule = Rule(method.name, params, nodes, places, values=values)
    for stmt in closure.body:
        _one_rule(stmt, rule, file, line, what, unchecked)
    used = {dotted_name(n) for e in nodes.values() for n in ast.walk(e)}
    rule.values |= {p for p in params if f"{p}.data" in used or p in rule.rules}
    return rule if rule.rules else None


def _one_rule(stmt: ast.stmt, rule: Rule, file: str, line: int, what: str,
              unchecked: list[Unchecked]) -> None:
    target, value = _grad_target(stmt)
    if target is None or value is None:
        if not _docstring(stmt) and not isinstance(stmt, ast.Pass):
            unchecked.append(Unchecked(file, *at(stmt, line), what,
                                       "a statement in _backward that is not x.grad += ..."))
        return
    local = coefficient(value, UPSTREAM)
    if target not in rule.params or local is None:
        reason = (f"{target} is not an operand of {rule.name}" if local is not None else
                  "its value is not a multiple of out.grad (the local derivative times it)")
        unchecked.append(Unchecked(file, *at(stmt, line), what, reason))
        return
    rule.rules[target] = (local, stmt)
    if isinstance(stmt, ast.Assign):
        rule.notes.append(f"line {stmt.lineno + line - 1}: {target}.grad is set with = where "
                          "+= adds: a value used twice (a + a) keeps only its last gradient; "
                          "the local derivative is checked as written")


def _grad_target(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """(x, value) of `x.grad += value` (or `x.grad = value`, a slip the lecture made once)."""
    target: ast.expr
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
        target, value = stmt.target, stmt.value
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    else:
        return None, None
    name = dotted_name(target)
    return (name[: -len(".grad")], value) if name.endswith(".grad") else (None, None)


def _spelling(rule: Rule) -> dict[str, str]:
    return {f"{p}.data": p for p in rule.params} | {"out.data": "out"}


def _primitive(rule: Rule, cls: str, method: ast.FunctionDef, line: int) -> Found:
    names = _spelling(rule)
    inputs = {p: {"value": 1.0, "grad": p in rule.values} for p in rule.params}
    data = {
        "name": case_name(cls, rule.name),
        "title": f"{cls}.{rule.name}: " + "; ".join(ast.unparse(stmt) for _, stmt in
                                                     rule.rules.values()),
        "inputs": inputs,
        "forward": {n: text(e, names) for n, e in rule.nodes.items()},
        "output": "out",
        "gradient": {p: text(local, names) for p, (local, _) in rule.rules.items()},
        "sample": sampled(rule.params),
    }
    marks = {(): at(method, line), ("inputs",): at(method, line)}
    marks |= {("forward", n): place for n, place in rule.places.items()}
    marks |= {("gradient", p): at(stmt, line) for p, (_, stmt) in rule.rules.items()}
    return Found(data, marks, derivatives=len(rule.rules), notes=rule.notes)


class _Unread(Exception):
    """What stops an operator's delegation from being read (the reason, in words)."""


class _Delegated:
    """`return self + (-other)` as the nodes of the operators it calls and their rules' edges."""

    def __init__(self, cls: str, methods: dict[str, ast.FunctionDef], method: ast.FunctionDef,
                 rules: dict[str, Rule], line: int):
        self.cls, self.methods, self.method, self.rules, self.line = \
            cls, methods, method, rules, line
        self.forward: dict[str, str] = {}
        self.edges: dict[str, str] = {}
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.depth = 0

    def found(self, returned: ast.expr) -> Found:
        params = [a.arg for a in self.method.args.args]
        # other of a reflected operator (__radd__: other + self) is a plain number
        values = params if not self.method.name.startswith("__r") else params[:1]
        env = {p: ("value", p) for p in values} | {p: ("const", p) for p in params
                                                    if p not in values}
        kind, out = self._build(returned, env)
        if kind != "value":
            raise _Unread("builds no Value")
        data = {
            "name": case_name(self.cls, self.method.name),
            "title": f"{self.cls}.{self.method.name} is {ast.unparse(returned)}: checked "
                     "through the rules of the operators it calls",
            "inputs": {p: {"value": 1.0, "grad": p in values} for p in params},
            "forward": self.forward, "output": out, "chain_rule": self.edges,
            "sample": sampled(params),
        }
        self.marks |= {(): at(self.method, self.line), ("inputs",): at(self.method, self.line)}
        return Found(data, self.marks, derivatives=0)   # the rules are counted where written

    def _build(self, expr: ast.expr, env: dict) -> tuple[str, str]:
        """(kind, name or constant text) of what expr evaluates to."""
        if isinstance(expr, ast.Name) and expr.id in env:
            return env[expr.id]
        if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float)) \
                and not isinstance(expr.value, bool):
            return "const", repr(expr.value)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            operand = self._build(expr.operand, env)
            if operand[0] == "const":
                return "const", f"-{operand[1]}"
            return self._call("__neg__", [operand], expr)
        if isinstance(expr, ast.BinOp) and type(expr.op) in _OPERATORS:
            left, right = self._build(expr.left, env), self._build(expr.right, env)
            name = _OPERATORS[type(expr.op)]
            if left[0] == "value":
                return self._call(name, [left, right], expr)
            if right[0] == "value" and name in _REFLECTED:
                return self._call(_REFLECTED[name], [right, left], expr)
        raise _Unread(f"`{ast.unparse(expr)}` is not an operator on Values")

    def _call(self, name: str, args: list, expr: ast.expr) -> tuple[str, str]:
        self.depth += 1
        if self.depth > 20:
            raise _Unread("its operators call each other without end")
        if name in self.rules:
            return self._node(self.rules[name], args, expr)
        method = self.methods.get(name)
        returned = _delegation(method) if method is not None else None
        if method is None or returned is None:
            raise _Unread(f"{self.cls} has no {name} that this reading understands")
        params = [a.arg for a in method.args.args]
        if len(params) != len(args):
            raise _Unread(f"{name} takes {len(params)} operands")
        return self._build(returned, dict(zip(params, args)))

    def _node(self, rule: Rule, args: list, expr: ast.expr) -> tuple[str, str]:
        if len(rule.params) != len(args) or set(rule.nodes) != {"out"}:
            raise _Unread(f"{rule.name} keeps values of its own (" +
                          ", ".join(n for n in rule.nodes if n != "out") + ")")
        node = f"{rule.name.strip('_')}{len(self.forward) + 1}"
        names = {"out.data": node}
        for param, (kind, value) in zip(rule.params, args):
            names[f"{param}.data"] = names[param] = value if kind == "value" else f"({value})"
        self.forward[node] = text(rule.nodes["out"], names)
        self.marks[("forward", node)] = at(expr, self.line)
        for param, (local, stmt) in rule.rules.items():
            kind, value = args[rule.params.index(param)]
            if kind != "value":
                continue       # a plain number's gradient is nobody's
            key = f"{node}/{value}"
            edge = text(local, names)
            self.edges[key] = f"({self.edges[key]}) + ({edge})" if key in self.edges else edge
            self.marks[("chain_rule", key)] = at(stmt, self.line)
        return "value", node
