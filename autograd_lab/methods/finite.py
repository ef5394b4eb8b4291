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
MOVED = 1024              # elements a direction moves at most: a sample, so that the quotient
                          # costs the same at a million elements as at a thousand


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
    """A random unit vector in the parameter's shape (gradcheck's fast mode does the same);
    beyond MOVED elements, nonzero on a random sample of MOVED of them."""
    shape = case.inputs[param].value.shape
    if not shape:
        return None
    rng, size = np.random.default_rng(SEED), int(np.prod(shape))
    if size <= MOVED:
        u = rng.standard_normal(shape)
    else:
        u = np.zeros(size)
        u[rng.choice(size, MOVED, replace=False)] = rng.standard_normal(MOVED)
        u = u.reshape(shape)
    return u / np.linalg.norm(u)


def along(u: np.ndarray) -> str:
    """The direction as a report names it."""
    sample = f" over {MOVED:,} of its {u.size:,} elements" if u.size > MOVED else ""
    return f"a random unit direction{sample} (seed {SEED})"


def project(grad: np.ndarray, u: np.ndarray | None) -> np.ndarray:
    """A method's gradient (P, ...) along u, to set beside the difference quotient (P,)."""
    grad = np.asarray(grad, dtype=float)
    rows = grad.reshape(len(grad), -1)
    if u is None:
        return rows[:, 0]
    flat = u.reshape(-1)
    moved = np.flatnonzero(flat) if flat.size > MOVED else slice(None)
    return rows[:, moved] @ flat[moved]


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
