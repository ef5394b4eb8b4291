"""torch.nn.Linear, as a notebook uses it: `layer = nn.Linear(3, 2)`, then `layer(x)` and
`layer.weight.grad`. The layer is its two parameters, inputs named `layer_weight` and
`layer_bias`; `layer(x)` is `x @ layer_weight.T + layer_bias` (what torch computes), and
`layer.weight` is `layer_weight`, so that every later statement reads as one on tensors
(this module rewrites each cell's tree so, before the walk). torch draws the initial weights
from its global generator by its own scheme, which a case cannot repeat: a seeded randn of
their shape, scaled as torch's bound, stands in, and nothing that depends on them is claimed."""
from __future__ import annotations

import ast
import copy
from collections.abc import Iterable
from typing import TypeGuard, TypeVar

from ..case import dotted_name
from ._held import Drawn, Unsupported, one
from ._translate import Made

# as torch.nn is imported (`import torch.nn as nn`): a bare Linear may be the notebook's own
# class (makemore part 3 writes one, x @ self.weight), never read as torch's
LINEAR = ("torch.nn.Linear", "nn.Linear")
PARTS = ("weight", "bias")


def linear_layers(trees: Iterable[ast.AST]) -> dict[str, ast.Call]:
    """name -> the nn.Linear(...) call assigned to it, for each name only ever assigned one
    (a name that also holds something else is left as it is)."""
    calls: dict[str, ast.Call] = {}
    other: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            if not isinstance(target, ast.Name):
                continue
            if is_linear(node.value):
                calls[target.id] = node.value
            else:
                other.add(target.id)
    return {name: call for name, call in calls.items() if name not in other}


def is_linear(value: ast.expr) -> TypeGuard[ast.Call]:
    return isinstance(value, ast.Call) and dotted_name(value.func) in LINEAR


def part(layer: str, name: str) -> str:
    return f"{layer}_{name}"


Tree = TypeVar("Tree", bound=ast.AST)


def rewritten(tree: Tree, layers: dict[str, ast.Call]) -> Tree:
    """The cell's tree with `layer(x)` as `x @ layer_weight.T + layer_bias` and `layer.weight`
    as `layer_weight` (each placed where it was written)."""
    if not layers:
        return tree

    class Rewrite(ast.NodeTransformer):
        def visit_Attribute(self, node):
            if isinstance(node.value, ast.Name) and node.value.id in layers \
                    and node.attr in PARTS:
                return ast.copy_location(ast.Name(part(node.value.id, node.attr), node.ctx),
                                         node)
            return self.generic_visit(node)

        def visit_Call(self, node):
            self.generic_visit(node)
            if not (isinstance(node.func, ast.Name) and node.func.id in layers
                    and len(node.args) == 1 and not node.keywords):
                return node
            name = node.func.id
            weight = ast.Attribute(ast.Name(part(name, "weight"), ast.Load()), "T", ast.Load())
            out: ast.expr = ast.BinOp(node.args[0], ast.MatMult(), weight)
            if _biased(layers[name]):
                out = ast.BinOp(out, ast.Add(), ast.Name(part(name, "bias"), ast.Load()))
            for inner in ast.walk(out):
                ast.copy_location(inner, node)
            return out

    return Rewrite().visit(copy.deepcopy(tree))


def _biased(call: ast.Call) -> bool:
    given = next((k.value for k in call.keywords if k.arg == "bias"), None)
    return not (isinstance(given, ast.Constant) and given.value is False)


def parameters(name: str, call: ast.Call, size, seed: int) -> list[tuple[str, Made]]:
    """The layer's parameters as inputs: (name, Made) for its weight and, unless bias=False,
    its bias; size reads a size as (text, value, dims) (Draws.size)."""
    if len(call.args) != 2 or any(k.arg not in ("bias",) for k in call.keywords):
        raise Unsupported(f"{one(call)}: the draft reads nn.Linear(in_features, out_features"
                          "[, bias=...])", call)
    (n_in, v_in, d_in), (n_out, v_out, d_out) = (size(a) for a in call.args)
    why = (f"{one(call, 40)}'s initial {{}}, which torch draws from its global generator by "
           "its own scheme")
    scale = 1 / v_in ** 0.5   # torch's bound, 1/sqrt(in_features): values of that size
    dims = {**d_in, **d_out}
    out = [(part(name, "weight"),
            Made(Drawn("randn", (n_out, n_in), seed, scale=scale,
                       stand_in=why.format("weight")), "float32", True, (v_out, v_in), dims))]
    if _biased(call):
        out.append((part(name, "bias"),
                    Made(Drawn("randn", (n_out,), seed + 1, scale=scale,
                               stand_in=why.format("bias")), "float32", True, (v_out,),
                         dict(d_out))))
    return out

