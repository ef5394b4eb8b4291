"""A tensor case on torch, one point at a time, as the tutorial runs it: the forward pass,
autograd's gradient of every name (leaves' .grad and nodes' retained .grad), and the
hand-written backward pass evaluated entry by entry."""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ..case import Case, Expr, Name, Stack, walk
from ..errors import CaseError
from ..reading import located
from ._torch import Watch, evaluate

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Pass:
    """One point in one dtype: every name's value, and autograd's gradient of each."""

    values: dict[str, torch.Tensor]
    grads: dict[str, np.ndarray]       # float64 arrays, by input or node name


def leaves(case: Case, point: int, dtype: str, grad: bool = False) -> dict:
    """The inputs at a point (float inputs in dtype, integer ones int64) and the dims.

    With grad, the parameters require grad, and so does any other float input whose gradient
    the case asks for (a claim grad/X, a backward entry dX): its values do not change, and a
    gradient nobody reads (a data matrix's, as large as a weight's) is not computed."""
    wanted = _wanted(case)
    env: dict = dict(case.dims)
    for name, spec in case.inputs.items():
        value = torch.as_tensor(case.points[name][point])
        if spec.integer:
            env[name] = value.to(torch.int64)
        else:
            env[name] = value.to(DTYPES[dtype]).requires_grad_(grad and name in wanted)
    return env


def _wanted(case: Case) -> set:
    """The names whose gradient the case asks for."""
    return set(case.params) | {e.target for e in case.backward.values() if e.checked} | {
        c.target for c in case.claims if c.kind == "grad"}


def forward(case: Case, env: dict, dtype: str = "float64", watch: Watch | None = None,
            caught: dict | None = None) -> dict:
    """env extended by every node's value; caught: filled by backward() with each node's
    gradient as it passes (retain_grad would keep a copy: a mean's gradient, a broadcast of
    one number, as a dense array of the node's size)."""
    env = dict(env)
    wanted = _wanted(case) if any(v.requires_grad for v in env.values()
                                  if isinstance(v, torch.Tensor)) else set()
    for name, node in case.nodes.items():
        with _placed(case, ("forward", name), node.text, node.expr):
            value = evaluate(node.expr, env, watch, batched=False, dtype=DTYPES[dtype])
        if not isinstance(value, torch.Tensor):
            value = torch.tensor(value, dtype=DTYPES[dtype])
        if value.requires_grad and not value.is_leaf and caught is not None:
            value.register_hook(functools.partial(_catch, caught, name))
        elif not value.requires_grad and name in wanted and value.is_floating_point():
            # a node of numbers alone (y = abs(0)) whose gradient is asked for: its own leaf,
            # as a notebook would make it with requires_grad_(), so autograd gives its .grad
            value = value.detach().requires_grad_()
        env[name] = value
    return env


def _catch(caught: dict, name: str, grad: torch.Tensor) -> None:
    caught[name] = grad


def upstream(case: Case, env: dict, dtype: str) -> torch.Tensor | None:
    """The gradient handed to output.backward(gradient=...), evaluated at this point."""
    given = case.upstream
    if given is None:
        return None
    if isinstance(given, Expr):
        with torch.no_grad(), _placed(case, ("upstream",), str(given), given):
            value = evaluate(given, env, batched=False, dtype=DTYPES[dtype])
    else:
        value = torch.as_tensor(given)
    shape = env[case.output].shape
    return torch.as_tensor(value, dtype=DTYPES[dtype]).expand(shape).clone()


def autograd(case: Case, point: int, dtype: str, watch: Watch | None = None) -> Pass:
    """output.backward() (with upstream for a tensor output) and every name's .grad."""
    env = leaves(case, point, dtype, grad=True)
    caught: dict = {}
    values = forward(case, env, dtype, watch, caught)
    output = values[case.output]
    if output.requires_grad:
        output.backward(gradient=upstream(case, values, dtype) if case.upstream is not None
                        else None)
    grads = {}
    for name in [*case.inputs, *case.nodes]:
        value = values[name]
        if isinstance(value, torch.Tensor) and value.requires_grad:
            grad = value.grad if value.is_leaf else caught.get(name)
            grads[name] = _array(grad if grad is not None else torch.zeros_like(value))
    return Pass({n: v.detach() if isinstance(v, torch.Tensor) else v
                 for n, v in values.items()}, grads)


def adjoints(case: Case, values: dict, dtype: str, given: dict | None = None) -> dict:
    """Each hand-written backward entry evaluated in order (d<output> is 1, or upstream);
    given: d-names to take as they are instead of evaluating them (a diagnosis: would this
    entry be right if those it uses were?). An entry of the wrong shape has no value, nor
    has one that uses it: they are left out."""
    return {name: v for name, v in adjoint_entries(case, values, dtype, given)
            if v is not None}


def adjoint_entries(case: Case, values: dict, dtype: str,
                    given: dict | None = None) -> Iterator[tuple[str, np.ndarray | None]]:
    """adjoints one entry at a time, d<output> first, then each backward entry in order (None
    for one without a value): an entry is dropped from the pass once no later one uses it,
    so that a caller judging each as it comes holds a few, not all (a 1000x1000 case's dH
    need not outlive dZ)."""
    env = dict(values)
    seed = f"d{case.output}"
    env[seed] = _seed(case, values, dtype)
    last = _last_uses(case, {seed, *case.backward})
    yield seed, _array(env[seed])
    valueless: set = set()
    for k, (name, entry) in enumerate(case.backward.items()):
        value = _entry(case, name, entry, env, values, dtype, given, valueless)
        if value is not None:
            env[name] = value
        for done in [n for n, at in last.items() if at <= k and n in env]:
            del env[done]   # no later entry uses it
            del last[done]
        yield name, None if value is None else _array(value)


def _entry(case: Case, name: str, entry, env: dict, values: dict, dtype: str,
           given: dict | None, valueless: set) -> torch.Tensor | None:
    if given is not None and name in given:
        value = torch.as_tensor(given[name], dtype=DTYPES[dtype])
    elif entry.misshapen or valueless & set(entry.uses):
        valueless.add(name)
        return None
    else:
        with torch.no_grad(), _placed(case, ("backward", name), entry.text, entry.expr):
            value = evaluate(entry.expr, env, batched=False, dtype=DTYPES[dtype])
        value = torch.as_tensor(value)
        if entry.checked or value.is_floating_point():   # a helper keeps indices
            value = value.to(DTYPES[dtype])
    shape = value.shape if not entry.checked else values[entry.target].shape \
        if entry.target in values else torch.Size(case.shape_of(entry.target))  # let go
    if value.shape != shape and value.numel() == torch.Size(shape).numel():
        value = value.reshape(shape)   # db: dz.sum() for a b of shape (1,)
    return value


def _last_uses(case: Case, names: set) -> dict[str, int]:
    """Each d-name's last reader: the index of the last backward entry naming it (-1: none)."""
    last = dict.fromkeys(names, -1)
    for k, entry in enumerate(case.backward.values()):
        for node in walk(entry.expr):
            if isinstance(node, Name) and node.id in last:
                last[node.id] = k
    return last


def _seed(case: Case, values: dict, dtype: str) -> torch.Tensor:
    given = upstream(case, values, dtype)
    return given if given is not None else torch.ones_like(values[case.output])


def totals(case: Case, values: dict) -> dict[str, np.ndarray]:
    """The hand-written total derivatives (`gradient:`), in float64."""
    with torch.no_grad():
        out = {}
        for param, (tree, text) in case.gradient.items():
            with _placed(case, ("gradient", param), text, tree):
                value = torch.as_tensor(evaluate(tree, values, batched=False),
                                        dtype=torch.float64)
            out[param] = _array(value.expand(values[param].shape)
                                if value.numel() == 1 else value.reshape(values[param].shape))
        return out


def chain(case: Case, values: dict) -> dict[str, np.ndarray]:
    """The chain_rule of a tensor case's element-wise nodes, composed as on paper: local
    times adjoint into each parent, summed down to the parent's shape."""
    adjoint = {case.output: _seed(case, values, "float64")}
    with torch.no_grad():
        for name in reversed(case.nodes):
            if name not in adjoint:
                continue
            for edge in (e for e in case.edges.values() if e.node == name):
                with _placed(case, ("chain_rule", edge.key), edge.text, edge.expr):
                    local = evaluate(edge.expr, values, batched=False)
                term = unbroadcast(torch.as_tensor(local, dtype=torch.float64) * adjoint[name],
                                   values[edge.parent].shape)
                adjoint[edge.parent] = adjoint[edge.parent] + term \
                    if edge.parent in adjoint else term
    return {p: _array(adjoint[p]) if p in adjoint else np.zeros(case.inputs[p].value.shape)
            for p in case.params}


def unbroadcast(t: torch.Tensor, shape) -> torch.Tensor:
    """A product summed down to a parent's shape, over the dimensions broadcasting added."""
    while t.ndim > len(shape):
        t = t.sum(0)
    summed = [d for d, n in enumerate(shape) if n == 1 and t.shape[d] != 1]
    return (t.sum(dim=summed, keepdim=True) if summed else t).expand(shape)


def value_at(tree: Expr, values: dict) -> np.ndarray:
    """An expression of the case's names (a claim's) in float64."""
    with torch.no_grad():
        return _array(torch.as_tensor(evaluate(tree, values, batched=False),
                                      dtype=torch.float64))


@contextlib.contextmanager
def _placed(case: Case, path: tuple, text: str, tree: Expr):
    """A value problem found while evaluating (an index out of range, known only once the
    index is computed) placed at its file:line:column, as a reading error would be."""
    try:
        yield
    except CaseError as exc:
        if exc.file or case.where is None:
            raise
        if isinstance(tree, Stack):   # its entries' columns are in their own lines
            exc.column = None
        raise located(exc, path, case.where, text) from None


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).numpy()
