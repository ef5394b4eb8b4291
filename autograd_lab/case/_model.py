"""A case as the methods see it, once read: data only (reading/ builds it, check/ checks it)."""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from ._tree import Expr


class Locator(Protocol):
    """Where each value of a case file stands: path tuple -> (line, column), both 1-based."""

    file: str
    quoted: set[tuple]      # the paths of strings written in quotes
    texts: dict[tuple, str]   # numbers as written, by path (a claim holds to its digits)

    def locate(self, path: tuple) -> tuple[int | None, int | None]: ...


@dataclass
class Input:
    name: str
    value: np.ndarray          # float64 (int64 for an integer input), the input's own shape
    grad: bool
    integer: bool = False      # labels, indices: never differentiated


@dataclass
class Node:
    name: str
    expr: Expr
    text: str
    shape: tuple


@dataclass
class Edge:
    node: str
    parent: str
    expr: Expr
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
    value: np.ndarray          # the number(s) claimed (empty for an expression)
    written: object            # the text(s) as written
    slack: np.ndarray          # half a unit in the last written digit (0 for integers)
    expr: Expr | None = None   # a claim written as an expression ("9*a**2")
    path: tuple = ()           # where it is written: ("expect", "grad/w") or a point's


@dataclass(frozen=True)
class Piece:
    """One statement of a backward entry a block builds in several (dcounts = ...; then
    dcounts += ...): the version of the name it makes, where it stands, as written."""

    key: str                   # the version's key (dcounts#1; the last is the entry's name)
    line: int
    column: int
    text: str                  # the statement as written


@dataclass
class Adjoint:
    """One entry of a hand-written backward pass: d<target> = expr, the gradient of the
    output by <target>, written as a tutorial writes it (dW2: h.T @ dlogits)."""

    name: str                  # "dW2"
    target: str                # "W2"
    expr: Expr
    text: str
    uses: list[str]            # the d-names above it that it uses
    # a shape that is not its target's: why, in words, and (line, column) in the file; such
    # an entry is wrong, never evaluated
    misshapen: str = ""
    misshapen_at: tuple = ()
    # a block's statement that is no gradient's final value (a helper, an earlier version of
    # an entry built in several statements): evaluated in order, never compared
    checked: bool = True
    # a block's entry: its statements in the order they run (a loop's, unrolled), the last
    # making the entry's own value
    pieces: tuple[Piece, ...] = ()


@dataclass
class Entry:
    """A hand-written second derivative, d2 output / dp dq."""

    p: str
    q: str
    expr: Expr
    text: str


@dataclass(frozen=True)
class Sample:
    """N random points, drawn reproducibly inside the ranges of some inputs."""

    count: int
    seed: int
    ranges: dict[str, tuple[float, float]]


@dataclass
class Case:
    name: str
    file: str
    dtype: str
    inputs: dict[str, Input]
    nodes: dict[str, Node]
    output: str
    edges: dict[str, Edge]
    gradient: dict[str, tuple[Expr, str]]
    shape: tuple                              # the one vector shape of the case, () if none
    overrides: list[dict[str, np.ndarray]]    # per listed point: the inputs it changes
    sample: Sample | None = None
    claims: list[Claim] = field(default_factory=list)
    tolerance: tuple[float, float] | None = None
    title: str = ""
    source: str = ""
    where: Locator | None = None
    order: int = 1                                   # 2: the Hessian is checked too
    hessian: dict[str, Entry] = field(default_factory=dict)   # "p/q" -> Entry
    kind: str = "gradient"
    # --- tensors: a case using any of these is checked as tensors, point by point -------
    notes: list[str] = field(default_factory=list)    # worth saying, found when read
    # param -> why its hand-written gradient differs, said first where it does (a gradient
    # function called at another point than autograd's: the call is wrong, not the formula)
    leads: dict[str, str] = field(default_factory=dict)
    tensor: bool = False
    dims: dict[str, int] = field(default_factory=dict)
    backward: dict[str, Adjoint] = field(default_factory=dict)   # d<name> -> Adjoint
    upstream: Expr | np.ndarray | None = None     # the gradient handed to output.backward
    # `gradient:` entries of the wrong shape, left out of gradient: param -> (text, why,
    # (line, column)); each a wrong entry
    misshapen: dict[str, tuple] = field(default_factory=dict)
    # the same case read at other dims (inputs drawn again): SymPy checks a large case there
    # (dims, sizes=None); sizes also cuts the inputs that have no dims (listed values)
    at_dims: Callable[..., Case] | None = field(default=None, repr=False, compare=False)

    def shape_of(self, name: str) -> tuple:
        return self.inputs[name].value.shape if name in self.inputs else self.nodes[name].shape

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

    def place_of(self, *path) -> tuple[int | None, int | None]:
        """(line, column) where path is written in the case file (its nearest written part)."""
        return self.where.locate(path) if self.where else (None, None)


def with_points(case: Case, points: dict[str, np.ndarray]) -> Case:
    """The same case checked at other points (batched as Case.points batches them)."""
    moved = copy.copy(case)
    moved.__dict__["points"] = points  # the cached_property's slot
    return moved


def _sampled(values: dict, sample: Sample, inputs: dict) -> dict:
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


# --- behaviour cases: the tutorials' lessons about autograd's state, as steps -------------

@dataclass
class Expectation:
    key: str          # as written: "grad/x", "y", "raises"
    kind: str         # one of the kinds a step can look at, "raises" or "warns"
    target: str       # the tensor's name ("" for raises and warns)
    want: Any         # an array (value, grad), None, a bool or a text
    written: object   # as written in the file
    slack: Any = 0.0   # half a unit in the last written digit, as for a Claim
    line: int | None = None   # where it is written


@dataclass
class Step:
    label: str        # "3", or "4.1" inside a no_grad block
    action: str       # compute, backward, ..., or "look" for a step that only expects
    text: str         # the step as the notebook cell: "y.backward()"
    line: int | None
    args: list = field(default_factory=list)
    inner: list[Step] = field(default_factory=list)
    expect: list[Expectation] = field(default_factory=list)


@dataclass
class Behaviour:
    name: str
    file: str
    dtype: str
    inputs: dict[str, Input]
    steps: list[Step]
    tolerance: tuple[float, float] | None = None
    title: str = ""
    source: str = ""
    where: Locator | None = None
    kind: str = "behaviour"
    notes: list[str] = field(default_factory=list)    # worth saying, found when read

    def line_of(self, *path) -> int | None:
        return self.where.locate(path)[0] if self.where else None

    def place_of(self, *path) -> tuple[int | None, int | None]:
        """(line, column) where path is written in the case file (its nearest written part)."""
        return self.where.locate(path) if self.where else (None, None)


def flat(steps: list[Step], depth: int = 0):
    """Every step with its depth, the steps of a no_grad block after the block."""
    for step in steps:
        yield step, depth
        yield from flat(step.inner, depth + 1)
