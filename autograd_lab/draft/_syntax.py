"""What a statement does, read from its syntax alone (no state): the names it stores, whether
it prints or changes gradients, the names it rebinds, makemore's scatter loop as one sum."""
from __future__ import annotations

import ast
import copy


def parsed(code: str) -> ast.Module | SyntaxError | None:
    """A cell's code parsed once (for the sizes it names, then for the walk); None when it is
    too deep for Python's parser."""
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        return exc
    except (RecursionError, MemoryError, ValueError):
        return None


def substituted(statement: ast.stmt, name: str, by: str) -> ast.stmt:
    """statement with the loop's name replaced by one of the names it runs over."""
    class Put(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.copy_location(ast.Name(by, node.ctx), node) if node.id == name else node
    return Put().visit(copy.deepcopy(statement))


def stored(statement: ast.stmt) -> set[str]:
    """The names a statement assigns to, or into (x, y = ..., x[i] = ..., x += ...,
    x.data = ..., x.add_(...))."""
    out = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store) \
                and getattr(node, "attr", "") != "grad":   # x.grad = ...: x's value stays
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr.endswith("_")):   # an in-place method: x.add_(...)
            base = node.func.value           # x.data.mul_(...) too, not x.grad.zero_()
            while isinstance(base, (ast.Subscript, ast.Attribute)) \
                    and getattr(base, "attr", "") != "grad":
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def scatter(loop: ast.For, of: str = "") -> ast.AugAssign | None:
    """makemore's embedding backward, a loop over every row and column of an index tensor:

        for k in range(Xb.shape[0]):
          for j in range(Xb.shape[1]):
            ix = Xb[k,j]                  (or dC[Xb[k,j]] += ...)
            dC[ix] += demb[k,j]

    is dC += F.one_hot(Xb.view(-1), num_classes=C.shape[0]).T @ demb.view(-1, demb.shape[2])
    (C the tensor dC is the gradient of, `of` when a cmp() claims it): the same sums, as the
    case format writes them."""
    inner = loop.body[0] if len(loop.body) == 1 else None
    if not (isinstance(inner, ast.For) and isinstance(loop.target, ast.Name)
            and isinstance(inner.target, ast.Name) and not loop.orelse and not inner.orelse):
        return None
    k, j = loop.target.id, inner.target.id
    body = list(inner.body)
    picked: ast.expr | None = None
    if len(body) == 2 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1 \
            and isinstance(body[0].targets[0], ast.Name):
        local, picked = body[0].targets[0].id, body[0].value
        body = body[1:]
    else:
        local = ""
    last = body[0] if len(body) == 1 else None
    if not (isinstance(last, ast.AugAssign) and isinstance(last.op, ast.Add)
            and isinstance(last.target, ast.Subscript) and isinstance(last.target.value, ast.Name)
            and isinstance(last.value, ast.Subscript) and isinstance(last.value.value, ast.Name)):
        return None
    index = last.target.slice
    if local and isinstance(index, ast.Name) and index.id == local and picked is not None:
        index = picked
    if not (isinstance(index, ast.Subscript) and isinstance(index.value, ast.Name)):
        return None
    xb, grad, total = index.value.id, last.value.value.id, last.target.value.id
    if ast.unparse(index) != f"{xb}[{k}, {j}]" or ast.unparse(last.value) != f"{grad}[{k}, {j}]" \
            or ast.unparse(loop.iter) != f"range({xb}.shape[0])" \
            or ast.unparse(inner.iter) != f"range({xb}.shape[1])":
        return None
    of = of or total[1:]
    value = ast.parse(f"F.one_hot({xb}.view(-1), num_classes={of}.shape[0]).T @ "
                      f"{grad}.view(-1, {grad}.shape[2])", mode="eval").body
    for node in ast.walk(value):
        ast.copy_location(node, last)
    return ast.copy_location(ast.AugAssign(ast.Name(total, ast.Store()), ast.Add(), value),
                             last)


def rebound(statement: ast.stmt) -> set[str]:
    """The names a statement first assigns anew (dlogits = ... in a training loop), before
    anything changes them in place: what they held before is left as it was."""
    events: list[tuple[int, int, str, bool]] = []   # line, column, name, whether a new value
    for node in ast.walk(statement):
        if isinstance(node, (ast.Assign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        events.append((sub.lineno, sub.col_offset, sub.id, True))
    for node in ast.walk(statement):   # each place that changes a name, once: not once a name
        if isinstance(node, (ast.AugAssign, ast.Subscript, ast.Attribute, ast.Call)):
            for name in stored(node if isinstance(node, ast.AugAssign) else ast.Expr(node)):
                events.append((node.lineno, node.col_offset, name, False))
    first: dict[str, bool] = {}
    for _, _, name, anew in sorted(events):
        first.setdefault(name, anew)
    return {name for name, anew in first.items() if anew}


def changes_grads(statement: ast.stmt) -> bool:
    """backward(), zero_(), requires_grad: a statement that changes what .grad shows."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Attribute) and node.attr in ("backward", "zero_",
                                                              "requires_grad_", "requires_grad"):
            return True
    return False


def prints(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
               for n in ast.walk(node))


def listed_count(node: ast.expr) -> int:
    """How many names a literal list or tuple of names holds (0 for anything else)."""
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Name)
                                                       for e in node.elts):
        return len(node.elts)
    return 0
