"""A hand-written backward pass as tutorials write it, read line by line.

`dlogprobs = torch.zeros_like(logprobs)` then `dlogprobs[range(n), Yb] = -1.0/n` is the
one-hot entry `-1.0/n * F.one_hot(Yb, num_classes=v)`; `dcounts += ...` adds to an entry;
`cmp('logprobs', dlogprobs, logprobs)` compares an entry with autograd's .grad, printing
`logprobs | exact: True | approximate: True | maxdiff: 0.0`, which is what the case's backward
check does; `9*a**2 == a.grad` compares a hand-written total derivative with autograd's."""
from __future__ import annotations

import ast
import copy
import re

from ..case import constant_value, parse
from ..errors import CaseError
from ._held import Dim, Func, Node, Translated, Unsupported, one
from ._tensorforms import kind

# what Karpathy's cmp() prints, one line an entry
CMP_ROW = re.compile(r"^\s*(?P<label>\S+)\s*\|\s*exact:\s*(?P<exact>True|False)\s*\|\s*"
                     r"approximate:\s*(?P<approximate>True|False)\s*\|\s*maxdiff:\s*"
                     r"(?P<maxdiff>\S+)\s*$")


def comparer(func: Func) -> bool:
    """Whether a notebook function compares its second argument with its third's .grad, as
    cmp(s, dt, t) does (it computes and prints; it is not inlined)."""
    return compares(func.params, func.body)


def compares(params: list[str], body: list[ast.stmt]) -> bool:
    """comparer() on a function's parameters and body, as written."""
    if len(params) != 3:
        return False
    _, hand, tensor = params
    uses = {(n.value.id, n.attr) for n in ast.walk(ast.Module(body, []))
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    names = {n.id for n in ast.walk(ast.Module(body, [])) if isinstance(n, ast.Name)}
    return (tensor, "grad") in uses and hand in names


def compared(call: ast.Call) -> tuple[str, str, str]:
    """(label, d-name, name) of cmp('logprobs', dlogprobs, logprobs)."""
    args = call.args
    if (len(args) == 3 and not call.keywords and isinstance(args[0], ast.Constant)
            and isinstance(args[0].value, str) and isinstance(args[1], ast.Name)
            and isinstance(args[2], ast.Name)):
        return args[0].value, args[1].id, args[2].id
    raise Unsupported(f"{one(call)}: a comparison read as cmp('name', dname, name)", call)


def rows(text: str) -> tuple[dict[str, list[str]], str]:
    """The cmp() lines of a cell's output, by label, and the rest of the output."""
    found: dict[str, list[str]] = {}
    rest = []
    for line in text.split("\n"):
        row = CMP_ROW.match(line)
        if row:
            found.setdefault(row["label"], []).append(
                f"exact: {row['exact']} | approximate: {row['approximate']} | maxdiff: "
                f"{row['maxdiff']}")
        else:
            rest.append(line)
    return found, "\n".join(rest)


def grad_compared(node: ast.expr) -> tuple[str, ast.expr] | None:
    """(x, the hand-written side) of `hand == x.grad` (either way round), or of
    torch.allclose(hand, x.grad) / torch.equal / torch.isclose / torch.eq, of x.grad.eq(hand);
    `torch.tensor(hand)` is its hand; else None."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        sides = [node.left, node.comparators[0]]
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
          and node.func.attr in ("allclose", "equal", "isclose", "eq") and len(node.args) == 2
          and not node.keywords):
        sides = [_unwrapped(a) for a in node.args]
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
          and node.func.attr == "eq" and len(node.args) == 1 and not node.keywords):
        sides = [node.func.value, _unwrapped(node.args[0])]   # x.grad.eq(2 * x)
    else:
        return None
    for grad, hand in (sides, sides[::-1]):
        if (isinstance(grad, ast.Attribute) and grad.attr == "grad"
                and isinstance(grad.value, ast.Name)):
            return grad.value.id, hand
    return None


def _unwrapped(node: ast.expr) -> ast.expr:
    """torch.tensor(h) -> h: a Python number made a tensor to compare it."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "tensor" and len(node.args) == 1 and not node.keywords):
        return node.args[0]
    return node


def zeros_like(held) -> bool:
    """Whether a computed tensor is torch.zeros_like(x), to be filled by index assignment (a
    one-hot built as `one_hot = torch.zeros_like(logits); one_hot[range(n), Yb] = 1`)."""
    like = held.tree if isinstance(held, Node) and held.dtype is not None else None
    return (isinstance(like, ast.Call) and isinstance(like.func, ast.Attribute)
            and like.func.attr == "zeros_like" and len(like.args) == 1
            and isinstance(like.args[0], ast.Name))


def one_hot_put(target: ast.Subscript, value: Translated, held: Node, translator,
                op: ast.operator | None = None) -> Translated:
    """An assignment into an entry, one element a row, as the entry it makes:

    d[range(n), idx] = v on d = torch.zeros_like(x)  ->  v * F.one_hot(idx, num_classes=k)
    d[range(n), idx] -= v (or +=) on any entry d      ->  d - v * F.one_hot(idx, num_classes=k)

    (x, d of shape (n, k)): v where the notebook puts it, and the rest as it was."""
    if op is None:
        if not zeros_like(held):
            raise Unsupported(f"{one(target)} = ...: an assignment into an entry the draft "
                              "reads only on d = torch.zeros_like(x)", target)
    elif not isinstance(op, (ast.Add, ast.Sub)):
        raise Unsupported(f"{one(target)} {_OPS.get(type(op), '?')}= ...: into an entry the "
                          "draft reads = on zeros_like, += and -=", target)
    rows, columns = held.shape if len(held.shape) == 2 else (0, 0)
    index = target.slice.elts if isinstance(target.slice, ast.Tuple) else []
    counted, picked = (index + [None, None])[:2]
    n = translator.counted_rows(counted)
    if not (rows and len(index) == 2 and n is not None and picked is not None):
        raise Unsupported(f"{one(target)}: the draft reads d[range(n), idx] into a matrix",
                          target)
    deps: dict = dict(value.deps)
    count = translator.expression(n)
    labels = translator.expression(picked)   # Yb, or logits.max(1).indices
    chosen = _integers(labels)
    if not (chosen == (rows,) and size_value(count) == rows):
        raise Unsupported(f"{one(target)}: range(n) must count the {rows} rows and "
                          f"{one(picked)} hold one integer a row", target)
    deps.update(count.deps)
    deps.update(labels.deps)
    classes = translator.size_written(columns, deps)
    one_hot = ast.Call(ast.Attribute(ast.Name("F", ast.Load()), "one_hot", ast.Load()),
                       [labels.tree], [ast.keyword("num_classes", classes)])
    put = ast.BinOp(value.tree, ast.Mult(), one_hot)
    if op is None:
        return Translated(put, "", deps)
    for name, dep in held.deps.items():
        if deps.setdefault(name, dep) is not dep:
            raise Unsupported(f"{name} here is not what it was when {held.name} was written",
                              target)
    deps.update(held.dims)
    return Translated(ast.BinOp(copy.deepcopy(held.tree), type(op)(), put), "", deps)


_OPS = {ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@", ast.FloorDiv: "//",
        ast.Mod: "%"}


def _integers(labels: Translated) -> tuple | None:
    """The shape of an index tensor (Yb, logits.max(1).indices), or None if not one."""
    try:
        found = kind(labels)
    except Unsupported:
        return None
    return tuple(found.shape) if found.integer else None


def size_value(count: Translated) -> float | None:
    """The number range(n) counts to, when n is made of numbers and dims."""
    if any(not isinstance(d, Dim) for d in count.deps.values()):
        return None
    try:
        return constant_value(parse(ast.unparse(count.tree)),
                              {n: d.value for n, d in count.deps.items()})
    except (CaseError, ValueError, OverflowError, ZeroDivisionError):
        return None
