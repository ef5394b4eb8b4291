"""The case file's structure as a pydantic model: validation, and the JSON Schema for editors."""
from __future__ import annotations

import difflib
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError

from .source import Source

Number = FiniteFloat
Values = Union[Number, list]  # a nested list of numbers; its shape is checked in case.py
Expression = Union[str, Number]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Linspace(_Model):
    linspace: tuple[Number, Number, int] = Field(description="[lo, hi, n]: n evenly spaced values")


class Uniform(_Model):
    uniform: tuple[Number, Number] = Field(description="[lo, hi]: uniform random values")
    shape: list[int] = Field(description="the shape drawn, e.g. [1000]")
    seed: int = 0


class InputSpec(_Model):
    value: Union[Number, list, Linspace, Uniform]
    grad: bool = Field(False, description="true marks a parameter whose gradient is checked")


class Point(_Model):
    at: dict[str, Values] = Field(default_factory=dict, description="inputs overridden here")
    expect: dict[str, Values] = Field(default_factory=dict)


class Sample(_Model):
    count: int = Field(ge=1, le=1_000_000)
    seed: int = 0
    ranges: dict[str, tuple[Number, Number]]


class Tolerance(_Model):
    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)


class CaseModel(_Model):
    """One worked example, as ../shared/case-format.md specifies it."""

    name: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9_-]+$", max_length=100)
    title: Optional[str] = None
    source: Optional[str] = None
    dtype: Literal["float64", "float32"] = "float64"
    inputs: dict[str, Union[Number, list, InputSpec]]
    forward: dict[str, Expression]
    output: Optional[str] = None
    chain_rule: Optional[dict[str, Expression]] = None
    gradient: Optional[dict[str, Expression]] = None
    points: list[Point] = Field(default_factory=list)
    sample: Optional[Sample] = None
    tolerance: Optional[Tolerance] = None
    expect: dict[str, Values] = Field(default_factory=dict)


_EXPECTED = {
    "inputs": "a number, a list of numbers, or {value: ..., grad: true|false}",
    "forward": "an expression", "chain_rule": "an expression", "gradient": "an expression",
    "expect": "a number or a list of numbers", "at": "a number or a list of numbers",
    "value": "a number, a list of numbers, {linspace: [lo, hi, n]} or "
             "{uniform: [lo, hi], shape: [n], seed: s}",
}


def validate(data: object, source: Source) -> CaseModel:
    """The model, or the first problem as a CaseError at its file:line."""
    if not isinstance(data, dict):
        raise source.error("a case file must be a mapping of keys (name, inputs, forward, ...)")
    try:
        return CaseModel.model_validate(data)
    except ValidationError as exc:
        raise _first_problem(exc.errors(), data, source) from None


def _first_problem(errors: list[dict], data: object, source: Source):
    """The most telling error: an unknown key (often a typo of a missing one), else the deepest."""
    located = [(_data_path(e, data), e) for e in errors]
    path, error = max(located, key=lambda pe: (pe[1]["type"] == "extra_forbidden", len(pe[0])))
    here = ".".join(map(str, path)) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden":
        return source.error(_unknown_key(path, data), path)
    if kind == "missing":
        where = ".".join(map(str, path[:-1]))
        return source.error(f"{where + ': ' if where else ''}missing required key {path[-1]!r}",
                            path[:-1])
    if kind == "finite_number":
        return source.error(f"{here}: values must be finite numbers (no NaN or inf)", path)
    field = next((p for p in reversed(path) if p in _EXPECTED), None)
    if field and len(error["loc"]) > len(path):  # a union: say what would do
        return source.error(f"{here}: expected {_EXPECTED[field]}", path)
    return source.error(f"{here}: {error['msg'][0].lower()}{error['msg'][1:]}", path)


def _data_path(error: dict, data: object) -> tuple:
    """The part of a pydantic location that exists in the data (union member tags skipped)."""
    path: list = []
    node = data
    loc = error["loc"]
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif i == len(loc) - 1 and error["type"] in ("extra_forbidden", "missing"):
            node = None  # the unknown or missing key itself: name it
        else:
            continue
        path.append(part)
    return tuple(path)


def _unknown_key(path: tuple, data: object) -> str:
    key = path[-1]
    model = _model_at(path[:-1])
    known = list(model.model_fields) if model else []
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else (
        f"; allowed: {', '.join(known)}" if known else "")
    return f"unknown key {key!r}{hint}"


def _model_at(path: tuple):
    models = {(): CaseModel, ("sample",): Sample, ("tolerance",): Tolerance}
    if len(path) == 2 and path[0] == "inputs":
        return InputSpec
    if len(path) == 2 and path[0] == "points":
        return Point
    if len(path) == 3 and path[0] == "inputs" and path[2] == "value":
        return None
    return models.get(tuple(path))


def json_schema() -> dict:
    """The JSON Schema of a case file, for editors (yaml-language-server's $schema)."""
    schema = CaseModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autograd-lab case"
    return schema
