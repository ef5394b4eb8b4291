"""A layer class from a from-scratch network: `forward(self, x)` beside `backward(self, dout)`.

    class Sigmoid:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out
        def backward(self, dout):
            return dout * self.out * (1 - self.out)

is the case `forward: {out: 1 / (1 + exp(-x))}`, `backward: {dx: dout * out * (1 - out)}`:
what backward returns is the gradient of its input, what it stores as `self.dW` the gradient
of the parameter `W`, each compared with autograd's, the output's own gradient `dout` the
upstream. Element-wise layers are checked at sampled points; a layer on matrices is counted
unchecked, since its shapes are not in its code."""
from __future__ import annotations

import ast

from ..case import dotted_name
from ._python import Found, Unchecked, at, case_name, sampled, text

# what a layer on matrices writes: its shapes are nowhere in the class
_MATRIX_ATTRIBUTES = {"T", "dot", "reshape", "view", "shape", "transpose"}


def is_layer_class(cls: ast.ClassDef) -> bool:
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    return ("forward" in methods and "backward" in methods
            and len(methods["forward"].args.args) >= 2
            and len(methods["backward"].args.args) >= 2)


def read_layer(cls: ast.ClassDef, file: str, line: int) -> tuple[list, list[Unchecked]]:
    what = f"{cls.name}.backward"
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    try:
        return [(_Layer(cls, methods, line).found(), what,
                 at(methods["backward"], line))], []
    except _Unread as exc:
        node, reason = exc.args
        return [], [Unchecked(file, *at(node, line), what, reason)]


class _Unread(Exception):
    """(node, reason)."""


class _Layer:
    def __init__(self, cls: ast.ClassDef, methods: dict[str, ast.FunctionDef], line: int):
        self.cls, self.methods, self.line = cls, methods, line
        self.nodes: dict[str, ast.expr] = {}
        self.places: dict[str, tuple[int, int]] = {}
        self.entries: dict[str, tuple[ast.expr, ast.stmt]] = {}
        self.aliases: dict[str, str] = {}     # self.x = x: self.x is the input x
        self.output = "out"

    def found(self) -> Found:
        forward, backward = self.methods["forward"], self.methods["backward"]
        for method in (forward, backward):
            matrix = _matrix_use(method)
            if matrix is not None:
                raise _Unread(matrix, "a layer on matrices: its shapes are not in its code "
                                      "(write it as a case with dims: to check it)")
        inputs = [a.arg for a in forward.args.args[1:]]
        self._forward(forward, inputs)
        upstream = backward.args.args[1].arg
        self._backward(backward, inputs, upstream)
        stashed = {f"self.{n}": n for n in self.nodes} | {upstream: f"d{self.output}"}
        params = sorted({dotted_name(n)[len("self."):] for m in (forward, backward)
                         for n in ast.walk(m) if isinstance(n, ast.Attribute)
                         and dotted_name(n).startswith("self.")} - set(self.nodes)
                        - set(self.aliases) - set(self.entries))
        names = stashed | {f"self.{p}": p for p in params} \
            | {f"self.{e}": e for e in self.entries} \
            | {f"self.{a}": x for a, x in self.aliases.items()}
        leaves = inputs + params
        data = {
            "name": case_name(self.cls.name, "backward"),
            "title": f"{self.cls.name}.backward beside {self.cls.name}.forward",
            "inputs": {n: {"value": 1.0, "grad": True} for n in leaves},
            "forward": {n: text(e, names) for n, e in self.nodes.items()},
            "output": self.output,
            "backward": {k: text(e, names) for k, (e, _) in self.entries.items()},
            "sample": sampled(leaves)}
        marks = {(): at(self.cls, self.line), ("inputs",): at(forward, self.line)}
        marks |= {("forward", n): p for n, p in self.places.items()}
        marks |= {("backward", k): at(s, self.line) for k, (_, s) in self.entries.items()}
        return Found(data, marks, derivatives=len(self.entries))

    def _forward(self, forward: ast.FunctionDef, inputs: list[str]) -> None:
        for stmt in _statements(forward):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                returned = dotted_name(stmt.value).removeprefix("self.")
                if returned in self.nodes:        # return self.out: the node stored
                    self.output = returned
                    return
                self.output = next(n for n in ("out", "output", "y_out") if n not in self.nodes)
                self.nodes[self.output] = stmt.value
                self.places[self.output] = at(stmt.value, self.line)
                return
            target = _target(stmt)
            value = stmt.value if isinstance(stmt, ast.Assign) else None
            if isinstance(value, ast.Name) and value.id in inputs and target is not None:
                self.aliases[target] = value.id     # self.x = x
                continue
            if target is None or value is None or target in inputs:
                raise _Unread(stmt, "a statement in forward that is not `name = ...` or "
                                    "`self.name = ...`")
            self.nodes[target] = value
            self.places[target] = at(stmt, self.line)
        raise _Unread(forward, "forward returns no expression")

    def _backward(self, backward: ast.FunctionDef, inputs: list[str], upstream: str) -> None:
        for stmt in _statements(backward):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                grads = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
                if len(grads) != len(inputs):
                    raise _Unread(stmt, f"backward returns {len(grads)} gradients for "
                                        f"{len(inputs)} inputs")
                for name, grad in zip(inputs, grads):
                    if dotted_name(grad) != f"d{name}":     # `return dx` is dx's entry
                        self.entries[f"d{name}"] = (grad, stmt)
                return
            target = _target(stmt)
            if target is None or not target.startswith("d") or target == upstream:
                raise _Unread(stmt, "a statement in backward that is not a gradient "
                                    "`dname = ...` (a helper value, an in-place change)")
            self.entries[target] = (stmt.value, stmt)   # type: ignore[attr-defined]
        raise _Unread(backward, "backward returns no gradient of its input")


def _statements(method: ast.FunctionDef) -> list[ast.stmt]:
    return [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(
        s.value, ast.Constant)) and not isinstance(s, ast.Pass)]


def _target(stmt: ast.stmt) -> str | None:
    """a of `a = ...` and of `self.a = ...`."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    name = dotted_name(stmt.targets[0])
    if name.startswith("self.") and name.count(".") == 1:
        return name[len("self."):]
    return name if name and "." not in name else None


def _matrix_use(method: ast.FunctionDef) -> ast.AST | None:
    for node in ast.walk(method):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return node
        if isinstance(node, ast.Attribute) and node.attr in _MATRIX_ATTRIBUTES:
            return node
    return None
