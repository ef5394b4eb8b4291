"""The hand-written method: the case's chain rule composed as a student does it on paper."""
from __future__ import annotations

import numpy as np
import torch

from ..case import Case
from ._torch import evaluate


def leaves(case: Case, dtype=torch.float64, grad: bool = False) -> dict[str, torch.Tensor]:
    """Every input at every point as a tensor; parameters require grad when asked.

    In float64 a tensor shares the case's array (only the finite difference writes to a leaf,
    and it puts back what it moved): a copy of a million values is most of a pass's cost."""
    return {name: torch.as_tensor(value, dtype=dtype)
            .requires_grad_(grad and case.inputs[name].grad)
            for name, value in case.points.items()}


def forward(case: Case, env: dict, watch=None) -> dict:
    """env extended by every node's value, in the order of forward."""
    env = dict(env)
    for name, node in case.nodes.items():
        env[name] = full(evaluate(node.expr, env, watch), case, env)
    return env


def gradients(case: Case, values: dict | None = None) -> dict[str, np.ndarray]:
    """Each parameter's gradient from chain_rule (or from gradient when there is none)."""
    with torch.no_grad():
        values = values or forward(case, leaves(case))
        if not case.edges:
            return totals(case, values)
        adjoint = _compose(case, values)
        return {p: to_numpy(adjoint[p] if p in adjoint else torch.zeros_like(values[p]))
                for p in case.params}


def totals(case: Case, values: dict) -> dict[str, np.ndarray]:
    """The hand-written total derivatives (`gradient:`), evaluated."""
    with torch.no_grad():
        return {p: to_numpy(fit(full(evaluate(tree, values), case, values), values[p].shape))
                for p, (tree, _) in case.gradient.items()}


def _compose(case: Case, values: dict) -> dict[str, torch.Tensor]:
    """Walk back from the output adding local * adjoint into each parent, over every path."""
    adjoint = {case.output: torch.ones_like(values[case.output])}
    by_node: dict[str, list] = {}
    for edge in case.edges.values():
        by_node.setdefault(edge.node, []).append(edge)
    for name in reversed(case.nodes):
        if name not in adjoint:
            continue
        for edge in by_node.get(name, []):
            local = evaluate(edge.expr, values)
            term = fit(_times(local, adjoint[name], values), values[edge.parent].shape)
            adjoint[edge.parent] = adjoint[edge.parent] + term if edge.parent in adjoint else term
    return adjoint


def along(case: Case, values: dict, trail: list[str]) -> torch.Tensor:
    """One path's share of a gradient: the edges of trail (from the output down to a
    parameter) composed as the chain rule composes every path, local times adjoint summed
    down to each parent's shape at each step, so that a path through a sum or a mean is
    summed there and spread back, as the whole composition does."""
    with torch.no_grad():
        adjoint = torch.ones_like(values[case.output])
        for key in trail:
            edge = case.edges[key]
            local = evaluate(edge.expr, values)
            adjoint = fit(torch.as_tensor(local, dtype=torch.float64) * adjoint,
                          values[edge.parent].shape)
        return adjoint


def _times(local, adjoint: torch.Tensor, values: dict):
    """local * adjoint, into local's own memory when it is a temporary of that shape: a
    million-element product need not take a second million elements."""
    fresh = isinstance(local, torch.Tensor) and all(local is not v for v in values.values())
    # equal shapes first: torch.broadcast_shapes is Python through torch._refs, 40 us a call
    if fresh and local.dtype == adjoint.dtype and (local.shape == adjoint.shape or
                                                   torch.broadcast_shapes(local.shape,
                                                                          adjoint.shape)
                                                   == local.shape):
        return local.mul_(adjoint)
    return local * adjoint


def fit(t, shape) -> torch.Tensor:
    """Sum a product down to the parent's shape, or spread a per-element scalar over it."""
    t = torch.as_tensor(t, dtype=torch.float64)
    if t.shape == shape:
        return t
    if t.ndim == len(shape):
        summed = [d for d in range(1, t.ndim) if shape[d] == 1 and t.shape[d] != 1]
        t = t.sum(dim=summed, keepdim=True) if summed else t
    return t.expand(shape)


def full(value, case: Case, env: dict) -> torch.Tensor:
    """A constant node as a batch like the others."""
    if isinstance(value, torch.Tensor) and value.ndim:
        return value
    batch = next(iter(env.values()))
    return torch.full((len(batch),) + (1,) * len(case.shape), float(value),
                      dtype=batch.dtype)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).numpy()
