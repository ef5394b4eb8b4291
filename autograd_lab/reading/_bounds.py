"""The bounds a case must keep to be read: counted before any method runs, so that no input,
however built, can exhaust memory or outlast the time limit."""
from __future__ import annotations

import math

from ..case import Name, Visitor, walk

# SymPy takes about 0.5 ms an operation of the written-out output (a chain of 15 nodes that
# each use the one before twice: 98,302 operations, 52 s); past this it cannot finish in time
BIG_OUTPUT = 10_000            # operations in the written-out output worth naming as a cause
MAX_OUTPUT = 100_000
# SymPy recurses through the written-out output; 150 exhausts Python's stack
MAX_OUTPUT_DEPTH = 100
MAX_NAMES = 500          # inputs and nodes together: each costs milliseconds in every method
# values held at once: (inputs + nodes) x points x elements. The methods peak near 90 bytes a
# value (20 nodes of 10^6 elements: 1.9 GB, 13 s); this admits mean(x**2) over 10^7 in 3 names
MAX_VALUES = 40_000_000
# a behaviour case holds only torch tensors, about 9 bytes a value with the graph's
# (31 tensors of 10^7 elements: 2.7 GB)
MAX_TENSOR_VALUES = 400_000_000
# a value or gradient looked at in a behaviour step is copied to float64 and compared: as
# much memory as this many tensors of the case's dtype, while the look lasts
LOOK_TENSORS = 4
DOUBLING = ("nodes that each use the one before more than once double it at every step; "
             "check a smaller part of the graph")


def check_counts(model, where) -> None:
    """Refuse, before any is parsed, more inputs and nodes than can be checked in time."""
    inputs = len(model.inputs)
    nodes = len(model.forward) if isinstance(model.forward, dict) else 0  # a block: as read
    if inputs + nodes > MAX_NAMES:
        raise where.error(f"the case has {inputs:,} inputs and {nodes:,} nodes; at most "
                          f"{MAX_NAMES} together can be checked in time", ("forward",))


def check_values(tensors: int, elements: int, where, path: tuple) -> None:
    """Refuse a behaviour case whose tensors, held together, would not fit in memory
    (tensors: every input, computed or detached name, gradient, and a look's copies)."""
    if tensors * elements > MAX_TENSOR_VALUES:
        raise where.error(f"the case holds up to {tensors * elements:,} values ({tensors} "
                          f"tensors x {elements:,} elements); at most {MAX_TENSOR_VALUES:,} fit "
                          "in memory: use fewer steps or elements", path)


def check_size(case, where, order: int = 1) -> None:
    """Refuse at once a case too big to hold, or an output SymPy could not differentiate.
    order 2: each method also holds p² Hessian entries at every point (p parameters)."""
    points = 1 + len(case.overrides) + (case.sample.count if case.sample else 0)
    elements = math.prod(case.shape)
    names = len(case.inputs) + len(case.nodes)
    entries = len(case.params) ** 2 if order == 2 else 0
    held = names * points * elements + entries * points
    if held > MAX_VALUES:
        second = f", and {entries:,} Hessian entries x {points:,} points" if entries else ""
        raise where.error(f"the case holds {held:,} values ({names} inputs and nodes x "
                          f"{points:,} points x {elements:,} elements{second}); at most "
                          f"{MAX_VALUES:,} fit in memory: use fewer points, elements or "
                          f"{'parameters' if entries else 'nodes'}", ("forward",))
    depth = output_depth(case)
    if depth > MAX_OUTPUT_DEPTH:
        raise where.error(f"the output {case.output} with every node written out (as SymPy "
                          f"differentiates it) is nested {depth} deep, more than the "
                          f"{MAX_OUTPUT_DEPTH} SymPy can follow; check a smaller part of the "
                          "graph", ("forward", case.output))
    size = output_size(case)
    if size > MAX_OUTPUT:
        raise where.error(f"the output {case.output} with every node written out (as SymPy "
                          f"differentiates it) has {count_text(size)} operations, more than the "
                          f"{MAX_OUTPUT:,} that can be checked in time; {DOUBLING}",
                          ("forward", case.output))


class _Depth(Visitor[int]):
    """How deep a tree nests once each node's name is replaced by its own tree."""

    def __init__(self, depths: dict[str, int]):
        self.depths = depths

    def visit_Name(self, node: Name) -> int:
        return self.depths.get(node.id, 1)

    def visit_Num(self, node) -> int:
        return 1 + max((self(child) for child in node.children()), default=0)

    visit_Const = visit_Neg = visit_BinOp = visit_Call = visit_Num


def output_depth(case) -> int:
    """How deep the output nests once every node is written out in full."""
    depths: dict[str, int] = {}
    depth = _Depth(depths)
    for name, node in case.nodes.items():
        depths[name] = depth(node.expr)
    return depths.get(case.output, 0)


def count_text(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 10^{len(str(n)) - 1}"


def output_size(case) -> int:
    """Operations in the output once every node is written out in full, as SymPy walks it."""
    sizes: dict[str, int] = {}
    for name, node in case.nodes.items():
        sizes[name] = sum(sizes.get(t.id, 1) if isinstance(t, Name) else 1
                          for t in walk(node.expr))
    return sizes.get(case.output, 0)
