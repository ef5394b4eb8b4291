"""A case file read, validated and resolved: inputs as arrays, nodes as trees, edges, points, claims."""
from __future__ import annotations

import copy
import difflib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path

import numpy as np

from . import expr as E
from . import guard
from . import source as S
from .errors import CaseError
from .schema import BehaviourModel, CaseModel, Linspace, Uniform, validate

MAX_ELEMENTS = 10_000_000  # in one input, and over all points together
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class Input:
    name: str
    value: np.ndarray          # float64, the input's own shape
    grad: bool


@dataclass
class Node:
    name: str
    expr: E.Expr
    text: str
    shape: tuple


@dataclass
class Edge:
    node: str
    parent: str
    expr: E.Expr
    text: str

    @property
    def key(self) -> str:
        return f"{self.node}/{self.parent}"


@dataclass
class Claim:
    key: str                   # "loss" or "grad/w", as written in the file
    kind: str                  # "value" or "grad"
    target: str                # the node, input or parameter
    point: int                 # index into the case's points
    value: np.ndarray          # the number(s) claimed
    written: object            # the text(s) as written
    slack: np.ndarray          # half a unit in the last written digit (0 for integers)


@dataclass
class Case:
    name: str
    file: str
    dtype: str
    inputs: dict[str, Input]
    nodes: dict[str, Node]
    output: str
    edges: dict[str, Edge]
    gradient: dict[str, tuple[E.Expr, str]]
    shape: tuple                              # the one vector shape of the case, () if none
    overrides: list[dict[str, np.ndarray]]    # per listed point: the inputs it changes
    sample: object = None
    claims: list[Claim] = field(default_factory=list)
    tolerance: tuple[float, float] | None = None
    title: str = ""
    source: str = ""
    where: S.Source | None = None
    order: int = 1                                   # 2: the Hessian is checked too
    hessian: dict = field(default_factory=dict)      # "p/q" -> hessian.Entry

    @property
    def params(self) -> list[str]:
        return [n for n, i in self.inputs.items() if i.grad]

    @cached_property
    def points(self) -> dict[str, np.ndarray]:
        """Every input at every point, batched: shape (P,) + the input's shape (scalars padded)."""
        values = {}
        for name, spec in self.inputs.items():
            rows = [spec.value] + [o.get(name, spec.value) for o in self.overrides]
            values[name] = np.stack(rows) if len(rows) > 1 else spec.value[None]
        if self.sample is not None:
            values = _sampled(values, self.sample, self.inputs)
        pad = (1,) * len(self.shape)
        return {n: v.reshape(v.shape[:1] + (v.shape[1:] or pad)) for n, v in values.items()}

    @property
    def count(self) -> int:
        return len(next(iter(self.points.values())))

    def line_of(self, *path) -> int | None:
        return self.where.locate(path)[0] if self.where else None


def with_points(case: Case, points: dict[str, np.ndarray]) -> Case:
    """The same case checked at other points (batched as Case.points batches them)."""
    moved = copy.copy(case)
    moved.__dict__["points"] = points  # the cached_property's slot
    return moved


def load(path: str | Path) -> Case:
    """Read and resolve one case file; every problem is a CaseError at its file:line.

    A file with steps: is a behaviour case (autograd_lab.behaviour.Behaviour)."""
    data, where = S.read(path)
    try:
        model = validate(data, where)
        if isinstance(model, BehaviourModel):
            from .behaviour import resolve as resolve_steps  # it builds on this module
            return resolve_steps(model, where, default_name=Path(path).stem)
        return resolve(model, where, default_name=Path(path).stem)
    except CaseError as exc:
        exc.kind = "behaviour" if isinstance(data, dict) and "steps" in data else "gradient"
        raise


def resolve(model: CaseModel, where: S.Source, default_name: str) -> Case:
    guard.check_counts(model, where)
    inputs = {name: _input(name, spec, where) for name, spec in model.inputs.items()}
    shapes = {n: i.value.shape for n, i in inputs.items()}
    nodes = _nodes(model, where, shapes)
    output = model.output or (list(nodes)[-1] if nodes else None)
    _check_output(output, nodes, where)
    case = Case(
        name=model.name or default_name, file=where.file, dtype=model.dtype, inputs=inputs,
        nodes=nodes, output=output, edges=_edges(model, where, nodes, inputs),
        gradient=_gradients(model, where, nodes, inputs), shape=_case_shape(shapes, nodes, where),
        overrides=[_overrides(i, p.at, inputs, where) for i, p in enumerate(model.points)],
        sample=model.sample, title=model.title or "", source=model.source or "", where=where,
        tolerance=(model.tolerance.rtol, model.tolerance.atol) if model.tolerance else None)
    _check_params(case, model, where)
    guard.check_size(case, where)
    _check_paths(case, where)
    _check_sample(case, where)
    case.claims = _claims(model, case, where)
    from .hessian import entries  # it builds on this module
    case.order, case.hessian = model.order, entries(model, case, where)
    return case


# --- inputs -------------------------------------------------------------------------------

def _input(name: str, spec, where: S.Source) -> Input:
    _check_name(name, ("inputs", name), where)
    grad = getattr(spec, "grad", False)
    value = spec.value if hasattr(spec, "value") else spec
    path = ("inputs", name, "value") if hasattr(spec, "value") else ("inputs", name)
    return Input(name, _array(value, path, where), grad)


def _array(value, path: tuple, where: S.Source) -> np.ndarray:
    if isinstance(value, Linspace):
        lo, hi, n = value.linspace
        _check_size(n, path, where)
        return np.linspace(lo, hi, n)
    if isinstance(value, Uniform):
        if not value.shape or any(n < 1 for n in value.shape):
            raise where.error("shape must list positive sizes", path)
        _check_size(math.prod(value.shape), path, where)
        return np.random.default_rng(value.seed).uniform(*value.uniform, size=tuple(value.shape))
    return _numbers(value, path, where)


def _numbers(value, path: tuple, where: S.Source) -> np.ndarray:
    if isinstance(value, list):
        _check_size(_count(value), path, where)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise where.error("expected numbers in a rectangular (nested) list", path) from None
    if array.ndim and 0 in array.shape:
        raise where.error("an empty list is not a value", path)
    if not np.all(np.isfinite(array)):
        raise where.error("values must be finite numbers (no NaN or inf)", path)
    return array


def _count(value) -> int:
    total, stack = 0, [value]
    while stack and total <= MAX_ELEMENTS:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            total += 1
    return total


def _check_size(n: int, path: tuple, where: S.Source) -> None:
    if not 1 <= n <= MAX_ELEMENTS:
        raise where.error(f"a value may have 1 to {MAX_ELEMENTS:,} elements, not {n:,}", path)


def _check_name(name: str, path: tuple, where: S.Source) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise where.error(f"{name!r} is not a valid name (a letter, then letters, digits or _)",
                          path)
    if name in E.FUNCTIONS or name in E.CONSTANTS:
        kind = "function" if name in E.FUNCTIONS else "constant"
        raise where.error(f"the name {name!r} shadows the {kind} {name}", path)


# --- the graph ----------------------------------------------------------------------------

def _parse(text, path: tuple, where: S.Source) -> tuple[E.Expr, str]:
    text = _text(text)
    try:
        return E.parse(text), text
    except CaseError as exc:
        raise _located(exc, path, where, text) from None


def _located(exc: CaseError, path: tuple, where: S.Source, text: str) -> CaseError:
    line, column = where.locate(path)
    if column is not None and exc.column is not None:
        column += exc.column - 1 + _quote_offset(where, path, text)
    return CaseError(exc.message, where.file, line, column, exc.text)


def _quote_offset(where: S.Source, path: tuple, text: str) -> int:
    return 1 if path in where.quoted else 0


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _nodes(model: CaseModel, where: S.Source, shapes: dict) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    order = list(model.forward)
    for name, text in model.forward.items():
        path = ("forward", name)
        _check_name(name, path, where)
        if name in shapes:
            raise where.error(f"the node {name!r} has the name of an input", path)
        tree, text = _parse(text, path, where)
        for used in sorted(tree.names()):
            if used not in shapes:
                raise _unknown_name(used, name, order, list(shapes), where, path, tree, text)
        shape = shape_of(tree, shapes, lambda msg: where.error(msg, path, text))
        shapes[name] = shape
        nodes[name] = Node(name, tree, text, shape)
    if not nodes:
        raise where.error("forward must define at least one node", ("forward",))
    return nodes


def _unknown_name(used, name, order, known, where, path, tree, text) -> CaseError:
    col = next((n.col for n in E.walk(tree) if isinstance(n, E.Name) and n.id == used), 0)
    if used in order[order.index(name):]:
        msg = f"the node {used!r} is used before it is defined"
    else:
        close = difflib.get_close_matches(used, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"undeclared name {used!r}{hint}"
    line, column = where.locate(path)
    column = column + col + _quote_offset(where, path, text) if column else None
    return CaseError(msg, where.file, line, column, text)


def shape_of(tree: E.Expr, shapes: dict, fail) -> tuple:
    """The shape of an expression's value: () for a scalar, else the one shape of its vectors."""
    if isinstance(tree, E.Name):
        return shapes[tree.id]
    if isinstance(tree, E.Call) and tree.func in E.REDUCTIONS:
        shape_of(tree.args[0], shapes, fail)
        return ()
    found = {shape_of(child, shapes, fail) for child in tree.children()} - {()}
    if len(found) > 1:
        raise fail("mismatched shapes " + " and ".join(map(str, sorted(found))))
    return found.pop() if found else ()


def _check_output(output, nodes, where: S.Source) -> None:
    if output not in nodes:
        raise where.error(f"output {output!r} is not a node of forward", ("output",))
    if nodes[output].shape:
        path = ("output",) if ("output",) in where.marks else ("forward", output)
        raise where.error(f"the output {output!r} must be a scalar, but its shape is "
                          f"{nodes[output].shape}; reduce it with sum() or mean()", path)


def _case_shape(shapes: dict, nodes: dict, where: S.Source) -> tuple:
    found = sorted({s for s in shapes.values() if s})
    if len(found) > 1:
        raise where.error("all vectors of a case must have one shape; found "
                          + " and ".join(map(str, found)), ("inputs",))
    return found[0] if found else ()


def _edges(model, where, nodes, inputs) -> dict[str, Edge]:
    unwritten = [str(k) for k, text in (model.chain_rule or {}).items() if text is None]
    if unwritten:  # a drafted case lists every edge for its author, ~ where none was written
        raise where.error(f"chain_rule edge{'s' * (len(unwritten) > 1)} still to be written: "
                          f"{', '.join(unwritten)} (each the local derivative of node by "
                          "parent, where it says ~)", ("chain_rule", unwritten[0]))
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
        tree, text = _parse(text, path, where)
        _check_names(tree, set(inputs) | set(nodes), where, path, text)
        edges[key] = Edge(node, parent, tree, text)
    return edges


def _reduces_over(tree: E.Expr, parent: str, nodes: dict) -> bool:
    return any(isinstance(n, E.Call) and n.func in E.REDUCTIONS and parent in n.names()
               for n in E.walk(tree))


def _gradients(model, where, nodes, inputs) -> dict:
    out = {}
    for param, text in (model.gradient or {}).items():
        path = ("gradient", param)
        if param not in inputs or not inputs[param].grad:
            raise where.error(f"gradient {param}: {param!r} is not an input with grad: true", path)
        tree, text = _parse(text, path, where)
        _check_names(tree, set(inputs) | set(nodes), where, path, text)
        out[param] = (tree, text)
    return out


def _check_names(tree, known: set, where, path, text) -> None:
    for used in sorted(tree.names() - known):
        raise _unknown_name(used, "", [""], sorted(known), where, path, tree, text)


def _check_params(case: Case, model: CaseModel, where: S.Source) -> None:
    if not case.params:
        raise where.error("no input has grad: true, so there is no gradient to check",
                          ("inputs",))
    if model.chain_rule is None and model.gradient is None:
        raise where.error("a case needs chain_rule (local derivatives, node/parent) or "
                          "gradient (total derivatives) to check")


def _check_paths(case: Case, where: S.Source) -> None:
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


def _overrides(index: int, at: dict, inputs: dict, where: S.Source) -> dict:
    out = {}
    for name, value in at.items():
        path = ("points", index, "at", name)
        if name not in inputs:
            raise where.error(f"point {index + 1}: {name!r} is not an input", path)
        array = _numbers(value, path, where)
        if array.shape != inputs[name].value.shape:
            raise where.error(f"point {index + 1}: {name} has shape {array.shape}, the input "
                              f"{inputs[name].value.shape}", path)
        out[name] = array
    return out


def _check_sample(case: Case, where: S.Source) -> None:
    sample = case.sample
    total = 1 + len(case.overrides) + (sample.count if sample else 0)
    if total * max(math.prod(case.shape), 1) > MAX_ELEMENTS:
        raise where.error(f"points times elements exceed {MAX_ELEMENTS:,}", ("sample",))
    for name in (sample.ranges if sample else {}):
        if name not in case.inputs:
            raise where.error(f"sample range for {name!r}, which is not an input",
                              ("sample", "ranges", name))


def _sampled(values: dict, sample, inputs: dict) -> dict:
    rng = np.random.default_rng(sample.seed)
    out = {}
    for name, batch in values.items():
        shape = (sample.count,) + inputs[name].value.shape
        if name in sample.ranges:
            drawn = rng.uniform(*sample.ranges[name], size=shape)
        else:
            drawn = np.broadcast_to(inputs[name].value, shape)
        out[name] = np.concatenate([batch, drawn])
    return out


# --- claims -------------------------------------------------------------------------------

def _claims(model: CaseModel, case: Case, where: S.Source) -> list[Claim]:
    claims = [_claim(k, v, 0, ("expect", k), case, where) for k, v in model.expect.items()]
    for i, point in enumerate(model.points):
        claims += [_claim(k, v, i + 1, ("points", i, "expect", k), case, where)
                   for k, v in point.expect.items()]
    return claims


def _claim(key: str, value, point: int, path: tuple, case: Case, where: S.Source) -> Claim:
    kind, _, target = key.partition("/") if "/" in key else ("value", "", key)
    if kind == "grad":
        if target not in case.params:
            raise where.error(f"claim {key}: {target!r} is not an input with grad: true", path)
        shape = case.inputs[target].value.shape
    elif kind == "value" and target in case.nodes:
        shape = case.nodes[target].shape
    elif kind == "value" and target in case.inputs:
        shape = case.inputs[target].value.shape
    else:
        raise where.error(f"claim {key}: write a node's name or grad/<parameter>", path)
    array = _numbers(value, path, where)
    if array.shape != shape and array.size != 1:
        raise where.error(f"claim {key}: {array.shape} values for a value of shape {shape}", path)
    written = _written(value, path, where)
    slack = np.vectorize(_half_unit, otypes=[float])(np.asarray(written, dtype=object))
    return Claim(key, kind, target, point, array, written, slack)


def _written(value, path: tuple, where: S.Source):
    if isinstance(value, list):
        return [_written(v, path + (i,), where) for i, v in enumerate(value)]
    return where.texts.get(path, repr(value))


def _half_unit(text: str) -> float:
    """Half a unit in the last digit written: '6.7012' -> 5e-05; an integer is exact."""
    text = str(text).strip().lower().lstrip("+-")
    try:
        exponent = Decimal(text.replace("_", "")).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    if "." not in text and "e" not in text:
        return 0.0
    return 0.5 * 10.0 ** exponent
