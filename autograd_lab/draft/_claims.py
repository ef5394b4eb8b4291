"""What a notebook's cmp() calls claim, read before the walk: `cmp('logprobs', dprobs_log,
logprobs)` says that `dprobs_log` is the hand-written gradient of `logprobs`, whatever the
student named it. A student's fork spells its d-names its own way (`dprobs_log`, `dcounts_`,
`dlogits_fast`) and keeps the pieces of a sum apart (`dcounts_1 + dcounts_2`); the comparison
is the claim, so it names the entry. A name compared with two different tensors claims
nothing (it is ambiguous)."""
from __future__ import annotations

import ast
from collections.abc import Iterable

from ._adjoints import compares, grad_compared
from ._layers import linear_layers, rewritten


def claimed(trees: Iterable[ast.AST]) -> dict[str, str]:
    """d-name -> the name it is compared with, for each cmp(label, dname, name) call of a
    function the notebook defines that compares its second argument with its third's .grad,
    and each `dname == name.grad` or torch.allclose(dname, name.grad) of a name beginning
    with d (any other name compared so is a hand-written total, not an entry)."""
    trees = list(trees)
    layers = linear_layers(trees)   # layer.weight.grad: the input layer_weight's (_layers)
    trees = [rewritten(t, layers) for t in trees]
    comparers = {f.name for tree in trees for f in ast.walk(tree)
                 if isinstance(f, ast.FunctionDef)
                 and compares([a.arg for a in f.args.args], f.body)}
    found: dict[str, set[str]] = {}
    for tree in trees:
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id in comparers and len(call.args) == 3
                    and isinstance(call.args[1], ast.Name)
                    and isinstance(call.args[2], ast.Name)):
                continue
            found.setdefault(call.args[1].id, set()).add(call.args[2].id)
        for node in ast.walk(tree):   # torch.allclose(dW, layer_weight.grad), dW == W.grad
            compared = grad_compared(node) if isinstance(node, ast.expr) else None
            if compared is not None and isinstance(compared[1], ast.Name) \
                    and compared[1].id.startswith("d"):   # a d-name (z = x * 18 is a total)
                found.setdefault(compared[1].id, set()).add(compared[0])
    return {hand: next(iter(of)) for hand, of in found.items() if len(of) == 1}
