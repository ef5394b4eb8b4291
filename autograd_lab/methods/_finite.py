"""A fourth opinion: central finite differences in float64, taken as torch.autograd.gradcheck
takes them."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
import torch

from ..case import Case
from ._kinks import Recorder
from ._manual import forward, leaves

EPS = 1e-6                # gradcheck's default step
RTOL, ATOL = 1e-3, 1e-5   # gradcheck's default tolerances: a difference quotient is not exact
SEED = 0                  # the random direction for a vector parameter
MOVED = 1024              # elements a direction moves at most: a sample, so that the quotient
                          # costs the same at a million elements as at a thousand


@dataclass
class Direction:
    """A unit vector in a parameter's shape, nonzero only at the flat positions `index`
    (None: everywhere); `weights` are its entries there."""

    shape: tuple
    weights: np.ndarray
    index: np.ndarray | None = None

    def dense(self) -> np.ndarray:
        if self.index is None:
            return self.weights.reshape(self.shape)
        u = np.zeros(int(np.prod(self.shape)))
        u[self.index] = self.weights
        return u.reshape(self.shape)

    def __str__(self) -> str:
        size = int(np.prod(self.shape))
        sample = "" if self.index is None else f" over {len(self.index):,} of its {size:,} elements"
        return f"a random unit direction{sample} (seed {SEED})"


@dataclass
class Opinion:
    """Per parameter: the difference quotient at every point, and along which direction."""

    values: dict[str, np.ndarray] = field(default_factory=dict)     # param -> (P,)
    directions: dict[str, Direction | None] = field(default_factory=dict)  # None: a scalar
    straddles: dict[str, list] = field(default_factory=dict)  # param -> (P,) kink text or ""


def opinion(case: Case) -> Opinion:
    """(f(p + eps*u) - f(p - eps*u)) / (2*eps) for each parameter, all points in one batch."""
    out = Opinion()
    env = leaves(case)
    with torch.no_grad():
        for p in case.params:
            u = direction(case, p)
            seen = Recorder()
            out.values[p] = _central(case, env, p, u, seen).numpy()
            out.directions[p] = u
            out.straddles[p] = seen.crossed(case.count)
    return out


def direction(case: Case, param: str) -> Direction | None:
    """A random unit vector in the parameter's shape (gradcheck's fast mode does the same);
    beyond MOVED elements, nonzero on a random sample of MOVED of them."""
    shape = case.inputs[param].value.shape
    if not shape:
        return None
    rng, size = np.random.default_rng(SEED), int(np.prod(shape))
    index = np.sort(rng.choice(size, MOVED, replace=False)) if size > MOVED else None
    u = rng.standard_normal(size if index is None else MOVED)
    return Direction(shape, u / np.linalg.norm(u), index)


def project(grad: np.ndarray, u: Direction | None) -> np.ndarray:
    """A method's gradient (P, ...) along u, to set beside the difference quotient (P,)."""
    rows = np.asarray(grad, dtype=float).reshape(len(grad), -1)
    if u is None:
        return rows[:, 0]
    return (rows if u.index is None else rows[:, u.index]) @ u.weights


def _central(case: Case, env: dict, param: str, u: Direction | None, seen) -> torch.Tensor:
    def output():
        # a copy: an output that is the input itself (`return input`) would move back with it
        return (forward(case, env, seen)[case.output].clone(),)

    if u is not None and u.index is not None:
        return _moved(env[param], torch.from_numpy(u.index), torch.from_numpy(EPS * u.weights),
                      output)
    entry = env[param].clone()
    env = dict(env, **{param: entry})
    # gradcheck's own central difference: entry moved by -v and +v, (b - a) / (2*norm_v)
    step = EPS * (torch.ones((), dtype=torch.float64) if u is None else torch.from_numpy(u.dense()))
    compute = getattr(_gradcheck(), "_compute_numerical_gradient", None)
    v = step.expand_as(entry)
    if compute is not None:
        return compute(output, entry, v, EPS, lambda a, b: None)[0]
    return _moved(entry, slice(None), v.reshape(len(entry), -1), output)  # a torch without it


def _moved(entry: torch.Tensor, index, v: torch.Tensor, output) -> torch.Tensor:
    """gradcheck's arithmetic (orig - v, orig + v, orig again) on the elements at the flat
    positions `index`: for a sampled direction the rest of v is zero, and each copy of a
    million elements is what it would cost. The entry may be the case's own array, so its
    elements are put back whatever happens."""
    flat = entry.view(len(entry), -1)
    orig = flat[:, index].clone()
    try:
        flat[:, index] = orig - v
        a = output()[0]
        flat[:, index] = orig + v
        b = output()[0]
    finally:
        flat[:, index] = orig
    return ((b - a) / (2 * EPS)).reshape(-1)


def _gradcheck():
    # the module, not the function torch.autograd.gradcheck that shadows it
    return importlib.import_module("torch.autograd.gradcheck")
