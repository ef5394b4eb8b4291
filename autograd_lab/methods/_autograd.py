"""The autograd method: torch tensors forward, backward(), and each parameter's .grad."""
from __future__ import annotations

import numpy as np
import torch

from ..case import Case
from ._manual import forward, leaves, to_numpy

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def gradients(case: Case, dtype: str, watch=None) -> tuple[dict, dict]:
    """Each parameter's .grad after output.backward(), and the forward values, in dtype;
    watch(call, args) sees each call of the forward pass (as in tensors.evaluate)."""
    env = leaves(case, DTYPES[dtype], grad=True)
    values = forward(case, env, watch)
    output = values[case.output]
    if output.requires_grad:
        # points are independent, so the sum's gradient is each point's gradient
        output.sum().backward()
    return {p: _grad(env[p]) for p in case.params}, values


def _grad(leaf: torch.Tensor) -> np.ndarray:
    """.grad as an array; zeros where the output does not depend on the leaf (None)."""
    grad = leaf.grad
    return to_numpy(grad if grad is not None else torch.zeros_like(leaf))
