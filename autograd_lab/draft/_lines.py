"""The notebook's own lines as a case's blocks. `forward: |`: each node of the graph at the
line that made it, verbatim where that line assigns the node and reads only what the case has;
else the node as the case writes it, the notebook's line said beside it (a line changed).
`backward: |`: the hand-written pass's statements, verbatim save for a size the case writes
otherwise (`n = batch_size`: the case has one size, batch_size), changed and said so."""
from __future__ import annotations

import ast
import copy
import textwrap

from ._entries import Line
from ._graph import Graph
from ._held import Dim, Node
from ._translate import renamed

# the modules a block knows (case language), by the names a notebook imports them under
MODULES = {"torch": "torch", "F": "torch.nn.functional", "np": "numpy", "numpy": "numpy"}


def forward_block(graph: Graph, sizes: dict, modules: dict) -> list[Line]:
    """The forward pass as the notebook wrote it, in its order; [] when the case renamed a
    name (a second `x = ...`, a name the language reserves), whose lines would then read
    another name than the case has. sizes: id(node) -> the sizes its line named ({n: Dim});
    modules: the notebook's imports (alias -> module)."""
    named: list = [*graph.leaves, *graph.nodes, *graph.dims]
    if any(graph.names[held] != held.name for held in named):
        return []
    # a module a line names means in the block what it meant in the notebook
    known = {"range", "len"} | {a for a, m in MODULES.items() if modules.get(a) == m}
    lines: dict[tuple[int, str], Line] = {}
    for node in sorted(graph.nodes, key=lambda n: n.where.order):
        where = node.where
        if _verbatim(where.code, node, known):
            lines.setdefault((where.order, ""), Line(where.code, str(where)))
            continue
        sized = _sized(where.code, _written(sizes.get(id(node), {}), graph))
        if sized is not None and _verbatim(sized, node, known):   # n = batch_size: one size
            code = sized
        else:
            code = f"{node.name} = {graph.text(node)}"
        lines[(where.order, node.name)] = Line(
            code, f"{where}, changed from: {where.code}" if where.code else str(where))
    return list(lines.values())


def _verbatim(code: str, node: Node, known: set[str]) -> bool:
    """Whether code, a line of the notebook, is one statement assigning node's name from the
    names node was made of and the known ones (a helper's call, a number named elsewhere, a
    module the block does not know: not so)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False    # the first line of a statement written over several
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return False
    statement = tree.body[0]
    if [ast.unparse(t) for t in statement.targets] != [node.name]:
        return False
    read = {n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)}
    return read <= set(node.deps) | set(node.dims) | known


def backward_block(wheres: list, adjoints: list, graph: Graph) -> list[Line]:
    """The statements of a backward pass (their Wheres, in the notebook's order) as a block's
    lines; `adjoints` are the pass's entries, whose envs say what each size name held."""
    sizes: dict[str, ast.expr] = {}
    for adjoint in adjoints:
        sizes.update(_written(adjoint.env, graph))
    lines = []
    for where in wheres:
        changed = _sized(where.code, sizes)
        if changed is None:
            lines.append(Line(where.code, str(where)))
        else:
            first = where.code.strip().split("\n")[0]
            lines.append(Line(changed, f"{where}, changed from: {first}"))
    return lines


def _written(env: dict, graph: Graph) -> dict[str, ast.expr]:
    """The size names of env the case writes otherwise (n = batch_size: batch_size), each as
    the case writes it."""
    out = {}
    for name, held in env.items():
        if isinstance(held, Dim):
            names = {n: graph.names.get(d, d.name) for n, d in held.base_dims().items()}
            written = renamed(held.written(), names)
            if ast.unparse(written) != name:
                out[name] = written
    return out


def _sized(code: str, sizes: dict[str, ast.expr]) -> str | None:
    """code with each size name it reads written as the case writes that size; None when it
    reads none (or cannot be parsed alone: then it stays as written)."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    if not any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in sizes
               for n in ast.walk(tree)):
        return None

    class Size(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if isinstance(node.ctx, ast.Load) and node.id in sizes:
                return ast.copy_location(copy.deepcopy(sizes[node.id]), node)
            return node
    return ast.unparse(Size().visit(tree))
