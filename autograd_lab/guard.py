"""A time limit on checking one case, so that no input, however built, can hang a run."""
from __future__ import annotations

import contextlib
import math
import os
import signal
import threading

from . import expr as E

DEFAULT_SECONDS = 60.0
ENV = "AUTOGRAD_LAB_TIMEOUT"   # read at each check, so that worker processes see it too
BIG_OUTPUT = 10_000            # operations in the written-out output worth naming as the cause
# SymPy takes about 0.5 ms an operation of the written-out output (a chain of 15 nodes that
# each use the one before twice: 98,302 operations, 52 s); past this it cannot finish in time
MAX_OUTPUT = 100_000
MAX_OUTPUT_DEPTH = 100   # SymPy recurses through the written-out output; 150 exhausts Python's stack
MAX_NAMES = 500          # inputs and nodes together: each costs milliseconds in every method
# values held at once: (inputs + nodes) x points x elements. The methods peak near 90 bytes a
# value (20 nodes of 10^6 elements: 1.9 GB, 13 s); this admits mean(x**2) over 10^7 in 3 names
MAX_VALUES = 40_000_000
# a behaviour case holds only torch tensors, about 9 bytes a value with the graph's
# (31 tensors of 10^7 elements: 2.7 GB)
MAX_TENSOR_VALUES = 400_000_000
_DOUBLING = ("nodes that each use the one before more than once double it at every step; "
             "check a smaller part of the graph")


class TooSlow(BaseException):
    """The case's time ran out. A BaseException, so that no library's `except Exception`
    swallows it on its way out."""


def seconds() -> float:
    """The limit in force: $AUTOGRAD_LAB_TIMEOUT, else the default; 0 means none."""
    try:
        return max(float(os.environ.get(ENV, DEFAULT_SECONDS)), 0.0)
    except ValueError:
        return DEFAULT_SECONDS


@contextlib.contextmanager
def deadline(limit: float | None = None):
    """Raise TooSlow in the block once `limit` seconds have passed.

    A timer signal needs the main thread, and must not replace a timer someone else set
    (pytest-timeout, a caller's alarm): in either case the block runs without a limit."""
    limit = seconds() if limit is None else limit
    if (not limit or threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer") or signal.getitimer(signal.ITIMER_REAL)[0]):
        yield
        return

    def expire(signum, frame):
        raise TooSlow(limit)
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def message(limit: float, case=None) -> str:
    """What ran out and what to do about it, naming the likely cause where it can be seen."""
    head = (f"checking stopped after {limit:g} s, the time limit for one case (--timeout or "
            f"${ENV} sets it)")
    size = output_size(case) if getattr(case, "nodes", None) else 0
    if size > BIG_OUTPUT:
        return (f"{head}: the output with every node written out has {_count(size)} "
                f"operations, too many for SymPy to differentiate in time; {_DOUBLING}")
    return f"{head}: make the case smaller (fewer points, elements or nodes)"


def check_counts(model, where) -> None:
    """Refuse, before any is parsed, more inputs and nodes than can be checked in time."""
    inputs, nodes = len(model.inputs), len(model.forward)
    if inputs + nodes > MAX_NAMES:
        raise where.error(f"the case has {inputs:,} inputs and {nodes:,} nodes; at most "
                          f"{MAX_NAMES} together can be checked in time", ("forward",))


def check_values(tensors: int, elements: int, where, path: tuple) -> None:
    """Refuse a behaviour case whose tensors, held together, would not fit in memory."""
    if tensors * elements > MAX_TENSOR_VALUES:
        raise where.error(f"the case holds up to {tensors * elements:,} values ({tensors} "
                          f"tensors x {elements:,} elements); at most {MAX_TENSOR_VALUES:,} fit "
                          "in memory: use fewer steps or elements", path)


def check_size(case, where) -> None:
    """Refuse at once a case too big to hold, or an output SymPy could not differentiate."""
    points = 1 + len(case.overrides) + (case.sample.count if case.sample else 0)
    elements = math.prod(case.shape)
    names = len(case.inputs) + len(case.nodes)
    if names * points * elements > MAX_VALUES:
        raise where.error(f"the case holds {names * points * elements:,} values ({names} inputs "
                          f"and nodes x {points:,} points x {elements:,} elements); at most "
                          f"{MAX_VALUES:,} fit in memory: use fewer points, elements or nodes",
                          ("forward",))
    depth = output_depth(case)
    if depth > MAX_OUTPUT_DEPTH:
        raise where.error(f"the output {case.output} with every node written out (as SymPy "
                          f"differentiates it) is nested {depth} deep, more than the "
                          f"{MAX_OUTPUT_DEPTH} SymPy can follow; check a smaller part of the "
                          "graph", ("forward", case.output))
    size = output_size(case)
    if size > MAX_OUTPUT:
        raise where.error(f"the output {case.output} with every node written out (as SymPy "
                          f"differentiates it) has {_count(size)} operations, more than the "
                          f"{MAX_OUTPUT:,} that can be checked in time; {_DOUBLING}",
                          ("forward", case.output))


def output_depth(case) -> int:
    """How deep the output nests once every node is written out in full."""
    depths: dict[str, int] = {}

    def depth(tree) -> int:
        if isinstance(tree, E.Name):
            return depths.get(tree.id, 1)
        return 1 + max((depth(child) for child in tree.children()), default=0)
    for name, node in case.nodes.items():
        depths[name] = depth(node.expr)
    return depths.get(case.output, 0)


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 10^{len(str(n)) - 1}"


def output_size(case) -> int:
    """Operations in the output once every node is written out in full, as SymPy walks it."""
    sizes: dict[str, int] = {}
    for name, node in case.nodes.items():
        sizes[name] = sum(sizes.get(t.id, 1) if isinstance(t, E.Name) else 1
                          for t in E.walk(node.expr))
    return sizes.get(case.output, 0)
