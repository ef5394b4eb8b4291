"""What a notebook name holds as the draft follows it, and where a statement stands.

A Leaf is a tensor made by a constructor (an input of a case), a Node a value computed by an
expression of the language, a Func a helper function, a Dim a size named in the notebook
(`n = 32`), a Generator a seeded torch.Generator, a Names a list of names (`parameters`).
Nothing here holds a number the notebook computed: values come from literals, and a drawn
tensor is the description of its draw (Drawn), never its numbers."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field


class Unsupported(Exception):
    """Outside what the draft can translate: the message says what; node says where."""

    def __init__(self, message: str, node: ast.AST | None = None):
        super().__init__(message)
        self.message, self.node = message, node


@dataclass(frozen=True)
class Where:
    """Where a statement stands: its cell, its line in the cell, the line's code."""

    cell: str
    line: int
    code: str
    order: int                 # position in the notebook: cells, then lines

    def __str__(self) -> str:
        return f"{self.cell}, line {self.line}"


@dataclass(frozen=True)
class Drawn:
    """A tensor drawn by torch.randn or torch.randint, as a case's generated value says it.

    shape: each size as text over the notebook's dim names ("n_embd*block_size") or digits.
    stand_in: why these are not the notebook's numbers ("the 2nd draw from g (seeded 42, ...)";
    "" when they are, bit for bit), seed then being a fresh generator's that stands in;
    rounded: why they may differ in the last bit (a scale applied in several roundings)."""

    kind: str                  # "randn" or "randint"
    shape: tuple[str, ...]
    seed: int
    scale: float | None = None           # randn's scale, None for 1
    bounds: tuple[str, str] = ("", "")   # randint's [lo, hi), as text like the shape
    stand_in: str = ""
    rounded: str = ""
    shift: float | None = None           # added after the scale: randn(...)*0.1 + 1.0

    @property
    def exact(self) -> bool:
        return not self.stand_in


@dataclass(eq=False)
class Leaf:
    """A tensor made by a constructor: an input of a case."""

    name: str
    value: object              # a float, nested lists of floats in its dtype, or a Drawn
    dtype: str                 # float32, float64 or int64
    grad: bool
    shape: tuple
    where: Where
    root: Leaf | None = None   # the tensor this is (after requires_grad_ changed it)
    dims: dict = field(default_factory=dict)   # the dims its drawn shape is written with

    @property
    def requires_grad(self) -> bool:
        return self.grad

    @property
    def origin(self) -> Leaf:
        return self.root or self

    @property
    def exact(self) -> bool:
        """Whether the case holds the notebook's own numbers for it."""
        return not isinstance(self.value, Drawn) or self.value.exact

    def changed(self, grad: bool, where: Where) -> Leaf:
        return Leaf(self.name, self.value, self.dtype, grad, self.shape, where, self.origin,
                    self.dims)


@dataclass(eq=False)
class Node:
    """A value computed from others by an expression of the language (or a plain number)."""

    name: str
    tree: ast.expr             # in the language: names refer to deps
    text: str                  # as the case writes it
    deps: dict                 # name -> the Leaf or Node it meant when this was assigned
    where: Where
    dtype: str | None          # None: a plain Python number, inlined where it is used
    shape: tuple = ()
    tracked: bool = False      # autograd records it: a parameter below, not under no_grad
    inline: bool = True        # a plain number is written in place of its name
    dims: dict = field(default_factory=dict)   # name -> the Dim its expression uses

    @property
    def requires_grad(self) -> bool:
        return self.tracked


@dataclass(eq=False)
class Func:
    """A helper function of the notebook: parameters, assignments, one return."""

    name: str
    params: list[str]
    body: list[ast.stmt]
    where: Where
    problem: str = ""          # why it cannot be inlined, if it cannot
    prints: bool = False


@dataclass(eq=False)
class Dim:
    """A size named in the notebook (`n_embd = 10`): a case's dim. A size computed from dims
    (`n_in = n_embd * block_size`) is written as that product wherever it is used, so that a
    case read at other dims (SymPy's reduced sizes) keeps the notebook's relations."""

    name: str
    value: int
    where: Where
    tree: ast.expr | None = None          # over base dims' names; None for a base dim
    bases: dict = field(default_factory=dict)   # name -> base Dim
    # why the size is not the notebook's ("" when it is): `vocab_size = len(itos)` reads a
    # file, so a small size stands in; the formulas hold at any size, the numbers do not
    stand_in: str = ""

    def written(self) -> ast.expr:
        return ast.Name(self.name, ast.Load()) if self.tree is None else self.tree

    def base_dims(self) -> dict:
        return {self.name: self} if self.tree is None else dict(self.bases)

    @property
    def standing_in(self) -> str:
        """Why this size, or one it is made of, is not the notebook's ("" when it is)."""
        return next((d.stand_in for d in self.base_dims().values() if d.stand_in), "")


@dataclass(eq=False)
class Generator:
    """torch.Generator().manual_seed(seed), or torch's global generator (name "")."""

    name: str
    seed: int | None           # None: never seeded, so no draw from it can be said
    where: Where | None
    draws: list = field(default_factory=list)   # the Where of each draw the draft followed
    lost: Where | None = None  # a statement using it was left out: its state is unknown


@dataclass(eq=False)
class Listed:
    """A list of numbers the notebook writes (`data = [0.5, -1.0, 2.0]`), for a tensor made
    from it later (`torch.tensor(data)`): not a value of the language by itself."""

    node: ast.expr
    where: Where


@dataclass(eq=False)
class Names:
    """A list of names (`parameters = [C, W1, b1]`), for a loop over it to be unrolled."""

    names: list[str]
    where: Where


@dataclass
class Translated:
    tree: ast.expr
    text: str
    deps: dict = field(default_factory=dict)   # name -> Leaf, Node or Dim


def one(node: ast.AST, longest: int = 60) -> str:
    """The node's source, short, for a message."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError, AttributeError):
        text = type(node).__name__
    return text if len(text) <= longest else text[: longest - 1] + "…"
