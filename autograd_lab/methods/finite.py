"""A fourth opinion: central finite differences in float64, taken as torch.autograd.gradcheck takes them."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
import torch

from ..case import Case
from . import kinks
from .manual import forward, leaves

EPS = 1e-6                # gradcheck's default step
RTOL, ATOL = 1e-3, 1e-5   # gradcheck's default tolerances: a difference quotient is not exact
SEED = 0                  # the random direction for a vector parameter


@dataclass
class Opinion:
    """Per parameter: the difference quotient at every point, and along which direction."""

    values: dict[str, np.ndarray] = field(default_factory=dict)     # param -> (P,)
    directions: dict[str, np.ndarray | None] = field(default_factory=dict)  # None: a scalar
    straddles: dict[str, list] = field(default_factory=dict)  # param -> (P,) kink text or ""


def opinion(case: Case) -> Opinion:
    """(f(p + eps*u) - f(p - eps*u)) / (2*eps) for each parameter, all points in one batch."""
    out = Opinion()
    env = leaves(case)
    with torch.no_grad():
        for p in case.params:
            u = direction(case, p)
            step = EPS * (torch.ones(()) if u is None else torch.from_numpy(u))
            seen = kinks.Recorder()
            out.values[p] = _central(case, env, p, step.to(torch.float64), seen).numpy()
            out.directions[p] = u
            out.straddles[p] = seen.crossed(case.count)
    return out


def direction(case: Case, param: str) -> np.ndarray | None:
    """A random unit vector in the parameter's shape (gradcheck's fast mode does the same)."""
    shape = case.inputs[param].value.shape
    if not shape:
        return None
    u = np.random.default_rng(SEED).standard_normal(shape)
    return u / np.linalg.norm(u)


def project(grad: np.ndarray, u: np.ndarray | None) -> np.ndarray:
    """A method's gradient (P, ...) along u, to set beside the difference quotient (P,)."""
    grad = np.asarray(grad, dtype=float)
    if u is None:
        return grad.reshape(len(grad), -1)[:, 0]
    return np.tensordot(grad.reshape((len(grad),) + u.shape), u, axes=u.ndim)


def _central(case: Case, env: dict, param: str, step: torch.Tensor, seen) -> torch.Tensor:
    entry = env[param].clone()
    env = dict(env, **{param: entry})

    def output():
        return (forward(case, env, seen)[case.output],)

    # gradcheck's own central difference: entry moved by -v and +v, (b - a) / (2*norm_v)
    compute = getattr(_gradcheck(), "_compute_numerical_gradient", None)
    v = step.expand_as(entry)
    if compute is not None:
        return compute(output, entry, v, EPS, lambda a, b: None)[0]
    entry -= v
    a = output()[0]
    entry += 2 * v
    b = output()[0]
    entry -= v
    return ((b - a) / (2 * EPS)).reshape(-1)


def _gradcheck():
    # the module, not the function torch.autograd.gradcheck that shadows it
    return importlib.import_module("torch.autograd.gradcheck")
