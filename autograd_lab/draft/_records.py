"""What the walk of a notebook records: the steps of each segment, each backward() with the
gradients printed after it, the hand-written derivatives, the cmp() lines."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import _outputs
from ._held import Func, Leaf, Node, Translated, Where
from ._notebook import Note, Notebook

STATE_ACTIONS = ("backward", "zero_grad", "detach", "requires_grad", "retain_grad", "no_grad")


@dataclass
class Expect:
    key: str                  # as the behaviour case writes it: "y", "grad/x", "raises"
    value: object             # digits as printed (str or nested lists), a bool, None, a text
    where: Where
    shown: str                # what the notebook printed


@dataclass
class Step:
    action: str               # compute, backward, zero_grad, detach, requires_grad,
    where: Where              # retain_grad, no_grad, or look (a cell that only shows)
    args: tuple = ()
    expect: list[Expect] = field(default_factory=list)
    inner: list[Step] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)    # placed before the step
    again: bool = False       # a computation from an earlier cell, repeated for this case


@dataclass
class Segment:
    """The cells from one making of a tensor to the next making of one of the same name."""

    inputs: dict = field(default_factory=dict)         # name -> Leaf
    steps: list[Step] = field(default_factory=list)
    current: dict = field(default_factory=dict)        # name -> what the case's name holds now
    notes: list[Note] = field(default_factory=list)    # after the last step
    lost: Where | None = None  # where a backward(), zero_() or requires_grad was left out
    # leaves carried in from an earlier segment with a .grad this case's fresh inputs lack:
    # id(origin) -> the name's sentence of why
    stale: dict = field(default_factory=dict)

    def checkable(self) -> bool:
        return any(_checkable(s) for s in self.steps)


def _checkable(step: Step) -> bool:
    return bool(step.expect) or step.action in STATE_ACTIONS or any(map(_checkable, step.inner))


@dataclass(eq=False)
class Instance:
    """One backward() over a graph: its output, and the gradients printed after it."""

    output: Node
    where: Where
    grads: list[Observation] = field(default_factory=list)
    pseudo: bool = False      # no backward(): the graph a hand-written derivative names
    upstream: Translated | None = None   # backward(gradient=...)
    totals: list[Compared] = field(default_factory=list)   # `9*a**2 == a.grad` printed


@dataclass
class Compared:
    """A line comparing a hand-written gradient with autograd's: `9*a**2 == a.grad` (a total
    derivative of the output by a), or cmp('logprobs', dlogprobs, logprobs) (a backward entry,
    compared as the case's backward check compares it)."""

    target: str               # the name whose .grad it is compared with
    where: Where
    hand: Translated | None = None     # `9*a**2 == a.grad`: the hand-written side
    adjoint: str = ""                  # cmp(...): the d-name compared
    held: object = None                # what the d-name held when compared
    shown: str = ""                    # what the notebook printed for it


@dataclass
class AdjointVariable:
    """dlogits = ..., an entry of a hand-written backward pass (d<name>: the gradient of the
    output by name); a `+=` after it adds to the same entry, which is then the total."""

    node: Node
    of: str
    env: dict                 # what every name held when it was (last) written
    wheres: list[Where]       # its assignment and each += after it
    left_out: Where | None = None   # a statement changing it was left out: not an entry


@dataclass
class Observation:
    kind: str                 # "value" (a node's) or "grad" (a parameter's)
    target: object            # the Leaf or Node printed
    written: object
    where: Where
    shown: str
    instance: Instance | None = None


@dataclass
class DerivativeVariable:
    node: Node                # dloss_dy_pred = ..., a hand-written derivative
    of: str
    wrt: str
    env: dict                 # what every name held when it was written


@dataclass
class Call:
    args: list                # the numbers it was called with
    written: object
    where: Where
    shown: str


@dataclass
class DerivativeFunction:
    func: Func                # def dz_dx(x): return 2*x*math.cos(x**2)
    of: str
    wrt: str
    calls: list[Call] = field(default_factory=list)


@dataclass
class Record:
    notebook: Notebook
    segments: list[Segment] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    values: list[Observation] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)    # every tensor node, in order
    # id(node) -> the sizes its line named as the notebook held them then ({n: Dim}), for
    # writing the line back (_lines)
    sizes: dict = field(default_factory=dict)
    variables: list[DerivativeVariable] = field(default_factory=list)
    functions: dict[str, DerivativeFunction] = field(default_factory=dict)
    adjoints: list[AdjointVariable] = field(default_factory=list)   # in the order written
    compared: list[Compared] = field(default_factory=list)          # cmp() lines
    notes: list[Note] = field(default_factory=list)
    modules: dict = field(default_factory=dict)        # at the end: for helpers' formulas
    env: dict = field(default_factory=dict)
    stand_ins: list[str] = field(default_factory=list)   # tensors drawn for data unknown
    uses: dict = field(default_factory=dict)   # name -> the (tensor, axis) it indexes
    # a stand-in size's name -> (the size a printed shape says, where): see _shapes
    said_sizes: dict = field(default_factory=dict)


def closure_leaves(node: Node) -> list[Leaf]:
    """The leaves under node, each once, in the order first met."""
    leaves: list[Leaf] = []
    seen: set[int] = set()
    stack: list = [node]
    while stack:
        held = stack.pop()
        if id(held) in seen:
            continue
        seen.add(id(held))
        if isinstance(held, Leaf):
            leaves.append(held)
        else:
            stack.extend(reversed(list(held.deps.values())))
    return leaves


class Fill:
    """What to do with one value a cell showed; kind says what the value is of."""

    def __init__(self, kind: str, act: Callable[[_outputs.Shown | None], None]):
        self.kind, self.act = kind, act

    def __call__(self, shown: _outputs.Shown | None) -> None:
        self.act(shown)


@dataclass
class Show:
    """What a statement shows: a print's shape (literal parts, None for each value) and, for
    each value, what to do with it."""

    parts: list
    fills: list
    where: Where
    display: bool = False     # the cell's last expression, shown by Jupyter (not a print)
