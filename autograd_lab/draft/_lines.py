"""The notebook's own lines as a case's `forward: |` block: each node of the graph at the line
that made it, verbatim where that line assigns the node and reads only what the case has;
else the node as the case writes it, the notebook's line said beside it (a line changed)."""
from __future__ import annotations

import ast

from ..ops import MODULES
from ._entries import Line
from ._graph import Graph
from ._held import Dim, Node, Where
from ._translate import renamed

# names a line may read besides the graph's: what a block knows without the case saying it
KNOWN = frozenset(MODULES) | {"range", "len", "math"}


def forward_block(graph: Graph) -> list[Line]:
    """The forward pass as the notebook wrote it, in its order; [] when the case renamed a
    name (a second `x = ...`, a name the language reserves), whose lines would then read
    another name than the case has."""
    named: list = [*graph.leaves, *graph.nodes, *graph.dims]
    if any(graph.names[held] != held.name for held in named):
        return []
    lines: dict[tuple[int, str], Line] = {}
    for node in sorted(graph.nodes, key=lambda n: n.where.order):
        where = node.where
        if _verbatim(where.code, node):
            lines.setdefault((where.order, ""), Line(where.code, str(where)))
        else:
            lines[(where.order, node.name)] = Line(
                f"{node.name} = {graph.text(node)}",
                f"{where}, changed from: {where.code}" if where.code else str(where))
    return list(lines.values())


def _verbatim(code: str, node: Node) -> bool:
    """Whether code, a line of the notebook, is one statement assigning node's name from the
    names node was made of (a helper's call or a number named elsewhere: not so)."""
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
    return read <= set(node.deps) | set(node.dims) | KNOWN


def backward_line(where: Where, env: dict, graph: Graph) -> Line | Where:
    """A statement of the hand-written pass as a `backward: |` block writes it: verbatim (its
    Where) unless it reads a size under a name the case has not got (makemore's `n`, another
    name for batch_size; `n_in`, a product of dims), which is then written as the case writes
    that size, the notebook's line said beside it (env: what the names held when it ran)."""
    try:
        tree = ast.parse(where.code.strip())
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return where
    spans = []   # (line, start, end, the case's text): each size read under another name
    for node in ast.walk(tree):
        held = env.get(node.id) if isinstance(node, ast.Name) else None
        if isinstance(node, ast.Name) and isinstance(held, Dim):
            text = ast.unparse(renamed(held.written(), graph.dim_names(held.base_dims())))
            if text != node.id:
                spans.append((node.lineno, node.col_offset, node.end_col_offset,
                              text if text.isidentifier() else f"({text})"))
    if not spans:
        return where
    lines = [line.encode() for line in where.code.strip().split("\n")]
    for row, start, end, text in sorted(spans, reverse=True):   # offsets are UTF-8 bytes
        lines[row - 1] = lines[row - 1][:start] + text.encode() + lines[row - 1][end:]
    return Line("\n".join(line.decode() for line in lines),
                f"{where}, changed from: {where.code.strip()}")
