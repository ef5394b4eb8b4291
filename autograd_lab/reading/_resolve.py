"""A validated gradient case resolved: inputs as arrays, nodes as trees, edges, points, claims."""
from __future__ import annotations

import math

import numpy as np

from ..case import Call, Case, Claim, Edge, Expr, Node, Sample, shape_of, walk
from ..ops import REDUCTIONS
from . import _bounds
from ._blocks import backward_entries, forward_nodes
from ._hessian import entries
from ._names import check_name, check_names, failing, parse_at, shadowing, unknown_name
from ._schema import CaseModel
from ._tensors import Resolver, at_dims, dims_of, stacked, uses_tensors
from ._values import MAX_ELEMENTS, as_written, check_range, half_unit, input_of, numbers
from ._yaml import Source


def resolve(model: CaseModel, where: Source, default_name: str,
            dims: dict | None = None) -> Case:
    """The case, read at its own dims or (for SymPy's reduced sizes) at the dims given."""
    _bounds.check_counts(model, where)
    block = isinstance(model.forward, str) or isinstance(model.backward, str)
    where.declared = {*map(str, model.inputs), *map(str, _mapping(model.forward)),
                      *map(str, model.dims)}
    dims = dims_of(model, where) if dims is None else dims
    generators: dict = {}     # a notebook's g, drawn from in the order the inputs are written
    inputs = {name: input_of(name, spec, where, dims, generators)
              for name, spec in model.inputs.items()}
    trees = {name: stacked(text, ("forward", name), where)
             for name, text in _mapping(model.forward).items()}
    _unwritten(model, where)
    if block or model.gradients is not None:
        return _tensors(model, where, default_name, dims, inputs, trees)
    if uses_tensors(model, inputs, trees):
        return _tensors(model, where, default_name, dims, inputs, trees)
    shapes = {n: i.value.shape for n, i in inputs.items()}
    nodes = _nodes(model, where, shapes, trees)
    output = model.output or list(nodes)[-1]   # _nodes refuses a case without nodes
    _check_output(output, nodes, where)
    case = Case(
        name=model.name or default_name, file=where.file, dtype=model.dtype, inputs=inputs,
        nodes=nodes, output=output, edges=_edges(model, where, nodes, inputs),
        gradient=_gradients(model, where, nodes, inputs), shape=_case_shape(shapes, nodes, where),
        overrides=[_overrides(i, p.at, inputs, where) for i, p in enumerate(model.points)],
        sample=_sample(model.sample), title=model.title or "", source=model.source or "",
        where=where,
        tolerance=(model.tolerance.rtol, model.tolerance.atol) if model.tolerance else None)
    _check_params(case, model, where)
    _bounds.check_size(case, where, model.order)
    _check_paths(case, where)
    _check_sample(case, where)
    case.claims = _claims(model, case, where)
    case.order, case.hessian = model.order, entries(model, case, where)
    case.notes = shadowing(model.inputs, "input") + shadowing(model.forward, "node")
    return case


def _tensors(model: CaseModel, where: Source, default_name: str, dims: dict, inputs: dict,
             trees: dict) -> Case:
    """A case in the tensor language: shapes of any rank, backward, upstream, dims."""
    r = Resolver(model, where, dims, inputs)
    notes: list[str] = []
    if isinstance(model.forward, str):
        nodes, notes = forward_nodes(r, where)
    else:
        nodes = r.nodes(trees)
    output = r.output(nodes)
    if model.order == 2:
        raise where.error("order: 2 checks the scalar lessons only, not tensor cases", ("order",))
    case = Case(
        name=model.name or default_name, file=where.file, dtype=model.dtype, inputs=inputs,
        nodes=nodes, output=output, edges=r.edges(nodes), gradient=r.gradients(nodes),
        misshapen=r.misshapen,
        shape=(), overrides=[_overrides(i, p.at, inputs, where) for i, p in
                             enumerate(model.points)],
        sample=_sample(model.sample), title=model.title or "", source=model.source or "",
        where=where,
        tolerance=(model.tolerance.rtol, model.tolerance.atol) if model.tolerance else None,
        tensor=True, dims=dims, backward=_backward(r, where, output, notes),
        upstream=r.upstream(output),
        at_dims=at_dims(resolve, model, where, default_name))
    _check_params(case, model, where)
    _check_paths(case, where)
    _check_sample(case, where)
    r.check_size(nodes, case.backward, case.count)
    case.claims = _claims(model, case, where, r)
    case.notes = (shadowing(model.inputs, "input") + shadowing(_mapping(model.forward), "node")
                  + shadowing(model.dims, "dim") + notes)
    return case


def _mapping(section) -> dict:
    """A forward or backward mapping; a block (a string of statements) has no keys here."""
    return section if isinstance(section, dict) else {}


def _backward(r: Resolver, where: Source, output: str, notes: list) -> dict:
    if isinstance(r.model.backward, str):
        entries, more = backward_entries(r, where, output)
        notes += more
        return entries
    if r.model.gradients:
        raise where.error("gradients: names the entries of a backward block (backward: |)",
                          ("gradients",))
    return r.backward(output)


def _nodes(model: CaseModel, where: Source, shapes: dict, trees: dict) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    order = list(model.forward)
    for name, (tree, text) in trees.items():
        path = ("forward", name)
        check_name(name, path, where)
        if name in shapes:
            raise where.error(f"the node {name!r} has the name of an input", path)
        for used in sorted(tree.names()):
            if used not in shapes:
                raise unknown_name(used, name, order, list(shapes), where, path, tree, text)
        shape = shape_of(tree, shapes, failing(where, path, text))
        shapes[name] = shape
        nodes[name] = Node(name, tree, text, shape)
    if not nodes:
        raise where.error("forward must define at least one node", ("forward",))
    return nodes


def _check_output(output, nodes, where: Source) -> None:
    if output not in nodes:
        raise where.error(f"output {output!r} is not a node of forward", ("output",))
    if nodes[output].shape:
        path = ("output",) if ("output",) in where.marks else ("forward", output)
        raise where.error(f"the output {output!r} must be a scalar, but its shape is "
                          f"{nodes[output].shape}; reduce it with sum() or mean()", path)


def _case_shape(shapes: dict, nodes: dict, where: Source) -> tuple:
    found = sorted({s for s in shapes.values() if s})
    if len(found) > 1:
        raise where.error("all vectors of a case must have one shape; found "
                          + " and ".join(map(str, found)), ("inputs",))
    return found[0] if found else ()


def _unwritten(model: CaseModel, where: Source) -> None:
    """A drafted case lists every edge for its author, ~ where none was written: name them."""
    unwritten = [str(k) for k, text in (model.chain_rule or {}).items() if text is None]
    if unwritten:
        raise where.error(f"chain_rule edge{'s' * (len(unwritten) > 1)} still to be written: "
                          f"{', '.join(unwritten)} (each the local derivative of node by "
                          "parent, where it says ~)", ("chain_rule", unwritten[0]))
    unwritten = [str(k) for k, text in _mapping(model.backward).items() if text is None]
    if unwritten:
        raise where.error(f"backward entr{'ies' if len(unwritten) > 1 else 'y'} still to be "
                          f"written: {', '.join(unwritten)} (each d(output)/d(name), where it "
                          "says ~)", ("backward", unwritten[0]))


def _edges(model, where, nodes, inputs) -> dict[str, Edge]:
    edges = {}
    for key, text in (model.chain_rule or {}).items():
        path = ("chain_rule", key)
        node, _, parent = str(key).partition("/")
        if node not in nodes:
            turned = parent in nodes and node in nodes[parent].expr.names()
            hint = f"; did you mean {parent}/{node}?" if turned else ""
            raise where.error(f"edge {key}: {node!r} is not a node of forward "
                              f"(write edges as node/parent){hint}", path)
        if parent not in nodes[node].expr.names():
            raise where.error(f"edge {key}: {parent!r} does not appear in {node} = "
                              f"{nodes[node].text}", path)
        if nodes[node].shape and _reduces_over(nodes[node].expr, parent, nodes):
            raise where.error(f"edge {key}: the vector node {node} reduces over {parent} "
                              "(sum/mean) inside its expression, so no single local derivative "
                              "exists; give the reduction its own node", path)
        tree, text = parse_at(text, path, where)
        check_names(tree, set(inputs) | set(nodes), where, path, text)
        edges[key] = Edge(node, parent, tree, text)
    return edges


def _reduces_over(tree: Expr, parent: str, nodes: dict) -> bool:
    return any(isinstance(n, Call) and n.func in REDUCTIONS and parent in n.names()
               for n in walk(tree))


def _gradients(model, where, nodes, inputs) -> dict:
    out = {}
    for param, text in (model.gradient or {}).items():
        path = ("gradient", param)
        if param not in inputs or not inputs[param].grad:
            raise where.error(f"gradient {param}: {param!r} is not an input with grad: true", path)
        tree, text = parse_at(text, path, where)
        check_names(tree, set(inputs) | set(nodes), where, path, text)
        out[param] = (tree, text)
    return out


def _check_params(case: Case, model: CaseModel, where: Source) -> None:
    if not case.params:
        raise where.error("no input has grad: true, so there is no gradient to check",
                          ("inputs",))
    if model.chain_rule is None and model.gradient is None and model.backward is None:
        raise where.error("a case needs chain_rule (local derivatives, node/parent), "
                          "gradient (total derivatives) or backward (d<name>: the gradient "
                          "of each name, as a backward pass) to check")


def _check_paths(case: Case, where: Source) -> None:
    """Name the first edge missing on a path from the output to a parameter."""
    if not case.edges:
        return
    leads = set(case.params)  # names a parameter's gradient flows through
    for name, node in case.nodes.items():
        if node.expr.names() & leads:
            leads.add(name)
    reached = {case.output}
    for name in reversed(case.nodes):
        if name not in reached:
            continue
        for parent in sorted(case.nodes[name].expr.names() & leads):
            if f"{name}/{parent}" not in case.edges:
                raise where.error(f"missing edge {name}/{parent}: {name} = "
                                  f"{case.nodes[name].text} uses {parent}, which leads to a "
                                  f"parameter; add chain_rule entry '{name}/{parent}'",
                                  ("chain_rule",))
            reached.add(parent)


def _overrides(index: int, at: dict, inputs: dict, where: Source) -> dict:
    out = {}
    for name, value in at.items():
        path = ("points", index, "at", name)
        if name not in inputs:
            raise where.error(f"point {index + 1}: {name!r} is not an input", path)
        array = numbers(value, path, where)
        if array.shape != inputs[name].value.shape:
            raise where.error(f"point {index + 1}: {name} has shape {array.shape}, the input "
                              f"{inputs[name].value.shape}", path)
        out[name] = array
    return out


def _check_sample(case: Case, where: Source) -> None:
    sample = case.sample
    total = 1 + len(case.overrides) + (sample.count if sample else 0)
    elements = max(math.prod(i.value.shape) for i in case.inputs.values()) if case.tensor \
        else math.prod(case.shape)
    if total * max(elements, 1) > MAX_ELEMENTS:
        raise where.error(f"points times elements exceed {MAX_ELEMENTS:,}", ("sample",))
    for name, (lo, hi) in (sample.ranges if sample else {}).items():
        if name not in case.inputs:
            raise where.error(f"sample range for {name!r}, which is not an input",
                              ("sample", "ranges", name))
        check_range(lo, hi, ("sample", "ranges", name), where)


# --- claims -------------------------------------------------------------------------------

def _claims(model: CaseModel, case: Case, where: Source,
            tensors: Resolver | None = None) -> list[Claim]:
    claims = [_claim(k, v, 0, ("expect", k), case, where, tensors)
              for k, v in model.expect.items()]
    for i, point in enumerate(model.points):
        claims += [_claim(k, v, i + 1, ("points", i, "expect", k), case, where, tensors)
                   for k, v in point.expect.items()]
    return claims


def _claim(key: str, value, point: int, path: tuple, case: Case, where: Source,
           tensors: Resolver | None = None) -> Claim:
    kind, _, target = key.partition("/") if "/" in key else ("value", "", key)
    if kind == "grad" and tensors is not None:   # any name's gradient, as autograd's .grad
        if target not in tensors.kinds or tensors.kinds[target].integer:
            raise where.error(f"claim {key}: {target!r} is not a node or an input with a "
                              "gradient", path)
        shape = tensors.kinds[target].shape
    elif kind == "grad":
        if target not in case.params:
            raise where.error(f"claim {key}: {target!r} is not an input with grad: true", path)
        shape = case.inputs[target].value.shape
    elif kind == "value" and target in case.nodes:
        shape = case.nodes[target].shape
    elif kind == "value" and target in case.inputs:
        shape = case.inputs[target].value.shape
    else:
        raise where.error(f"claim {key}: write a node's name or grad/<parameter>", path)
    if isinstance(value, str):
        assert tensors is not None   # an expression claim makes the case a tensor case
        tree = tensors.claim_expression(key, value, shape, path)
        return Claim(key, kind, target, point, np.zeros(0), value, np.zeros(0), tree, path)
    array = numbers(value, path, where)
    if array.shape != shape and array.size != 1:
        raise where.error(f"claim {key}: {array.shape} values for a value of shape {shape}", path)
    written = as_written(value, path, where)
    slack = np.vectorize(half_unit, otypes=[float])(np.asarray(written, dtype=object))
    return Claim(key, kind, target, point, array, written, slack, path=path)


def _sample(model) -> Sample | None:
    if model is None:
        return None
    return Sample(model.count, model.seed, {n: tuple(r) for n, r in model.ranges.items()})
