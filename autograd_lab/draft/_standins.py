"""Stand-ins for data: what only running would tell, so that the formulas are still checked.

A notebook's batch comes from a file (`Xb, Yb = Xtr[ix], Ytr[ix]`), but a gradient formula
does not depend on it: `dW2 = h.T @ dlogits` is right or wrong for every h of its shape. So
`Xtr[ix]` with Xtr unknown becomes a seeded draw: its first dim ix's length, the rest of its
shape what its use asks for, and its kind what its use says (an index into C, `C[Xb]`, or a
label, `logprobs[range(n), Yb]`, is drawn with randint within the dim it indexes; anything
else with randn). The walk does not know the rest of the shape nor the dim indexed when it
meets the assignment, so walk() walks again with hints (Hint): each stand-in's candidate
shapes are tried, and the one under which the draft follows the most is kept. Nothing runs;
each walk is the same reading of the cells' syntax."""
from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from ._held import Dim, Leaf, Node

LABELS = {"cross_entropy": 1, "nll_loss": 1, "one_hot": 0}   # function -> argument of labels


@dataclass(frozen=True)
class Hint:
    """What an earlier walk learned of a stand-in: the dims after its first, and the dim its
    values index ("" while unknown: then it holds zeros, an index into any dim)."""

    tail: tuple[str, ...] = ()
    bound: str = ""


def index_uses(trees: Iterable[ast.AST]) -> dict[str, list[tuple[str, int]]]:
    """Each name used as an index or a label, with the tensor and axis it indexes:
    C[Xb] -> Xb: (C, 0); logprobs[range(n), Yb] -> Yb: (logprobs, 1);
    F.cross_entropy(logits, Yb) -> Yb: (logits, 1)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                entries = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                for axis, entry in enumerate(entries):
                    if isinstance(entry, ast.Name):
                        found.setdefault(entry.id, []).append((node.value.id, axis))
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                place = LABELS.get(name)
                given = node.args[place] if place is not None and len(node.args) > place \
                    else None
                if not isinstance(given, ast.Name):
                    continue
                labels = given.id
                if place == 1 and isinstance(node.args[0], ast.Name):
                    found.setdefault(labels, []).append((node.args[0].id, 1))
                else:
                    found.setdefault(labels, [])
    return found


def bound_of(name: str, uses: dict, record) -> str:
    """The dim a stand-in's values index, as the walk found the tensor it indexes: the first
    use whose tensor the walk followed and whose axis is a dim it can name."""
    held = _first_held(record)
    dims = {d.value: d for d in record.env.values() if isinstance(d, Dim) and d.tree is None}
    for indexed, axis in uses.get(name, []):
        tensor = held.get(indexed)
        if tensor is not None and axis < len(tensor.shape):
            dim = dims.get(tensor.shape[axis])
            if dim is not None:
                return dim.name
    return ""


def tails(record) -> list[tuple[str, ...]]:
    """The shapes after the first dim to try: none, then each base dim of the walk."""
    names = [d.name for d in record.env.values() if isinstance(d, Dim) and d.tree is None]
    return [(), *((n,) for n in dict.fromkeys(names))]


def followed(record) -> tuple[int, int]:
    """How much a walk follows: hand-written entries first, then nodes."""
    return len(record.adjoints), len(record.nodes)


def _first_held(record) -> dict:
    held: dict = {}
    for segment in record.segments:
        for name, leaf in segment.inputs.items():
            held.setdefault(name, leaf)
    for node in record.nodes:
        held.setdefault(node.name, node)
    return {n: h for n, h in held.items() if isinstance(h, (Leaf, Node))}
