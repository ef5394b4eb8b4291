"""A tensor case's `forward: |` and `backward: |` blocks: the tutorial's statements resolved
into the same nodes and backward entries a mapping gives, each at its own line."""
from __future__ import annotations

import math

from ..case import Adjoint, Assignment, Kind, Node, Piece, Reader, bind
from . import _bounds
from ._names import check_name
from ._tensors import MAX_VALUES, Resolver, squeezed
from ._yaml import Source


def _reader(r: Resolver, where: Source, section: str, reserved: set, shapes: dict,
            grad: bool) -> Reader:
    text = getattr(r.model, section)
    line, column = where.blocks.get((section,), where.locate((section,)))
    return Reader(text, where.file, line or 1, column or 1, r.dims,
                  lambda key: shapes[key].shape if key in shapes else None, reserved, grad)


def _place(where: Source, section: str, a: Assignment) -> tuple:
    path = (section, a.key)
    where.marks[path] = (a.line, a.column)
    return path


def forward_nodes(r: Resolver, where: Source) -> tuple[dict[str, Node], list[str]]:
    """The forward block's nodes: each assignment a node of its own (a name assigned twice is
    two nodes, the last one carrying the name)."""
    reader = _reader(r, where, "forward", set(r.inputs) | set(r.dims), r.kinds, False)
    done: list[tuple[str, Assignment, Kind]] = []
    for a in reader.read():
        path = _place(where, "forward", a)
        check_name(a.name, path, where)
        tree = bind(a.expr, r.dims)
        r.known(tree, set(r.kinds), path, a.text)
        kind = r.kind(tree, path, a.text)
        r.kinds[a.key] = kind
        done.append((a.key, a, kind))
        if len(done) + len(r.inputs) > _bounds.MAX_NAMES:
            raise where.error(f"the forward block assigns more than {_bounds.MAX_NAMES} "
                              "names and versions with the inputs; at most "
                              f"{_bounds.MAX_NAMES} together can be checked in time", path)
    if not done:
        raise where.error("the forward block assigns no name", ("forward",))
    parts = {}
    for provisional, a, _ in done:
        r.kinds.pop(provisional, None)
        parts[a.key] = r.parts.pop(provisional, 0)
    nodes: dict[str, Node] = {}
    for _, a, kind in done:          # the last version of each name now carries the name
        r.kinds[a.key] = kind
        r.parts[a.key] = parts[a.key]
        _place(where, "forward", a)
        nodes[a.key] = Node(a.key, bind(a.expr, r.dims), a.text, kind.shape)
    return nodes, reader.block.notes


# --- gradient names -----------------------------------------------------------------------

def target_of(name: str, graph: set, output: str, gradients: dict) -> str | None:
    """The name whose gradient `name` is, by the contract's spellings: d<x>, grad_<x>,
    <x>_grad, dL_d<x>, d<output>_d<x>, x.grad; a `gradients:` entry overrides them."""
    if name in gradients:
        return gradients[name]
    if name.endswith(".grad"):
        return name[:-5]
    candidates = []
    for prefix in (f"d{output}_d", "dL_d", "grad_", "d"):
        if name.startswith(prefix):
            candidates.append(name[len(prefix):])
    if name.endswith("_grad"):
        candidates.append(name[:-5])
    return next((c for c in candidates if c in graph), None)


def _spelled(name: str, output: str) -> bool:
    """Whether name is spelled as a gradient (and so must be the gradient of something)."""
    return (name.endswith((".grad", "_grad")) or name.startswith(("grad_", "dL_d"))
            or (name.startswith("d") and len(name) > 1))


def backward_entries(r: Resolver, where: Source, output: str) -> tuple[dict, list[str]]:
    """The backward block's statements as entries in order: each name's last value that is a
    gradient is checked; helpers and earlier versions are evaluated, never compared."""
    model = r.model
    graph = {n for n, k in r.kinds.items() if "#" not in n}
    gradients = dict(model.gradients or {})
    for key, named in gradients.items():
        if named not in graph:
            raise where.error(f"gradients {key}: {named!r} is not a node or an input of "
                              "forward", ("gradients", key))
    kinds = dict(r.kinds)
    implicit = f"d{output}"
    kinds[implicit] = r.kinds[output]
    reserved = set(r.kinds) | set(r.dims)
    reader = _reader(r, where, "backward", reserved, kinds, True)
    done: list[tuple[Assignment, Kind]] = []
    for a in reader.read():
        path = _place(where, "backward", a)
        tree = bind(a.expr, r.dims)
        r.known(tree, set(kinds), path, a.text)
        kind = r.kind(tree, path, a.text, kinds)
        kinds[a.key] = kind
        done.append((a, kind))

    if not done:
        raise where.error("the backward block assigns no name", ("backward",))
    held = sum(math.prod(kind.shape) for _, kind in done)
    if held > MAX_VALUES // 4:    # every statement's value is held while the block runs
        raise where.error(f"the backward block holds {held:,} values (a value a statement, "
                          f"its loops unrolled); at most {MAX_VALUES // 4:,} fit in memory",
                          ("backward",))
    final = {a.name for a, _ in done if a.final}
    for key in gradients:
        if key not in final:
            raise where.error(f"gradients {key}: the backward block assigns no {key}",
                              ("gradients", key))
    used = {n for a, _ in done for n in a.expr.names()}
    pieces: dict[str, list[Piece]] = {}     # each name's statements, in the order they run
    for a, _ in done:
        pieces.setdefault(a.name, []).append(Piece(a.key, a.line, a.at, a.statement))
    entries: dict[str, Adjoint] = {}
    deps: dict[str, set] = {}
    for a, kind in done:
        path = _place(where, "backward", a)
        target: str | None = target_of(a.name, graph, output, gradients) if a.final else None
        if a.final and target is None and a.key not in used and _spelled(a.name, output):
            raise where.error(_nothing(a.name, graph, output), path)
        if target is not None and r.kinds[target].integer:
            raise where.error(f"backward {a.name}: {target} holds integers, which have no "
                              "gradient", path)
        misshapen: tuple = ("", ())
        if target is not None:     # a wrong shape is a wrong entry (FAIL), as in a mapping
            want = r.kinds[target].shape
            if kind.shape != want and squeezed(kind.shape) != squeezed(want):
                hint = ": a transpose?" if len(want) == 2 and kind.shape == want[::-1] else ""
                misshapen = (f"has shape {kind.shape} where autograd's gradient has shape "
                             f"{want}{hint}", (a.line, a.column))
        tree = bind(a.expr, r.dims)
        uses: set = set()
        for n in tree.names():
            if n in entries and entries[n].checked:
                uses.add(n)
            else:
                uses |= deps.get(n, set())
        deps[a.key] = uses
        entries[a.key] = Adjoint(a.key, target or "", tree, a.text, sorted(uses),
                                 misshapen=misshapen[0], misshapen_at=misshapen[1],
                                 checked=target is not None,
                                 pieces=tuple(pieces[a.name]) if target is not None else ())
    return entries, reader.block.notes


def _nothing(name: str, graph: set, output: str) -> str:
    return (f"backward {name} is the gradient of nothing: its name reads as a gradient "
            "(d<name>, grad_<name>, <name>_grad, dL_d<name>, x.grad), but no node or input of "
            "forward has that name, and no statement below uses it as a helper; name it after "
            "its node, or declare it in gradients: ({" + name + ": <node>})")
