"""What a case draft says, entry by entry, each with the comment naming where it came from."""
from __future__ import annotations

from dataclasses import dataclass, field

from ._held import Drawn, Leaf


class Digits(str):
    """A number as the notebook printed it (or a value as its dtype holds it), written as is."""


@dataclass
class Entry:
    key: str
    value: object              # str (an expression, a name), Digits, list, dict, bool, None
    comment: str = ""
    stand_in: bool = False     # an input whose value is not the notebook's own


@dataclass
class Point:
    at: list[Entry]
    expect: list[Entry]


@dataclass
class StepOut:
    key: str                   # compute's node name, an action, or "" for a step that looks
    value: object
    comment: str = ""
    expect: list[Entry] = field(default_factory=list)
    inner: list[StepOut] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Line:
    """A line of a block a draft writes (`forward: |`): the statement, the comment beside it."""

    code: str
    comment: str


@dataclass
class Draft:
    name: str
    kind: str                  # "gradient", "behaviour" or "values"
    title: str
    source: str
    dtype: str
    cells: tuple[str, str]     # the first and last cell it comes from
    header: list[str] = field(default_factory=list)
    inputs: list[Entry] = field(default_factory=list)
    forward: list[Entry] = field(default_factory=list)
    output: Entry | None = None
    dims: list[Entry] = field(default_factory=list)
    upstream: Entry | None = None
    chain_rule: list[Entry] = field(default_factory=list)
    gradient: list[Entry] = field(default_factory=list)
    backward: list[Entry] = field(default_factory=list)
    # the notebook's own statements of those entries (their Wheres), written as a block
    # where the case reads them so
    backward_block: list = field(default_factory=list)
    forward_block: list[Line] = field(default_factory=list)   # the graph's, as Lines
    expect: list[Entry] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    steps: list[StepOut] = field(default_factory=list)
    to_write: list[str] = field(default_factory=list)   # edges or entries left for the author
    claims: int = 0


def slug(stem: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in stem)[:40]
    return slug if slug and slug[0].isalnum() else "nb_" + slug


def cell_number(label: str) -> str:
    """In [16] -> 16; a cell never run ("cell 12") -> c12."""
    inside = label[label.find("[") + 1:label.find("]")] if "[" in label else ""
    return inside if inside.isdigit() else "c" + label.split()[-1]


def comment_for(where, shown: str = "") -> str:
    code = f"{where}: {where.code}" if where.code else str(where)
    return f"{code} -> {shown}" if shown else code


def digits(value):
    if isinstance(value, list):
        return [digits(v) for v in value]
    if isinstance(value, str) and not isinstance(value, Digits) and is_number(value):
        return Digits(value)
    return value


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def input_entry(name: str, leaf: Leaf, sizes=lambda text: text) -> Entry:
    """An input as the case writes it; sizes writes a drawn shape's sizes (in the case's dims,
    or as numbers where the case has no dims)."""
    said = comment_for(leaf.where) + (f" ({leaf.dtype})" if leaf.dtype != "float32" else "")
    if isinstance(leaf.value, Drawn):
        drawn = leaf.value
        said = comment_for(leaf.origin.where) + (
            f"; requires_grad: {leaf.where}" if leaf.where != leaf.origin.where else "")
        said += (f"; not the notebook's numbers: {drawn.stand_in}" if drawn.stand_in
                 else "; " + drawn.rounded if drawn.rounded else "")
        return Entry(name, {"value": generated(drawn, sizes), "grad": True} if leaf.grad
                     else {"value": generated(drawn, sizes)}, said, stand_in=not drawn.exact)
    if leaf.dtype == "int64":
        return Entry(name, {"value": written_value(leaf.value, integer=True), "dtype": "int64"},
                     comment_for(leaf.where))
    value = written_value(leaf.value)
    if leaf.grad:
        return Entry(name, {"value": value, "grad": True}, said)
    return Entry(name, value, said)


def generated(drawn: Drawn, sizes) -> dict:
    shape = [sizes(text) for text in drawn.shape]
    if drawn.kind == "randint":
        return {"randint": [sizes(text) for text in drawn.bounds], "shape": shape,
                "seed": drawn.seed}
    out: dict = {"randn": shape, "seed": drawn.seed}
    if drawn.scale is not None:
        out["scale"] = Digits(repr(float(drawn.scale)))
    if drawn.shift is not None:
        out["shift"] = Digits(repr(float(drawn.shift)))
    return out


def written_value(value, integer: bool = False):
    if isinstance(value, list):
        return [written_value(v, integer) for v in value]
    if isinstance(value, Drawn):
        return generated(value, lambda text: text)
    return Digits(str(int(value))) if integer else Digits(repr(float(value)))


def dtype_of(leaves) -> str:
    found = {leaf.dtype for leaf in leaves} - {"int64"}
    return "float64" if "float64" in found else "float32"
