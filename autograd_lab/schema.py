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
    error = errors[0]
    path, rest = _split(error["loc"], data)
    here = ".".join(map(str, path)) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden":
        return source.error(_unknown_key(path, data), path)
    if kind == "missing" and not rest:
        return source.error(f"missing required key {path[-1]!r}", path[:-1])
    if rest or kind.startswith(("union", "model_type", "dict_type", "list_type")):
        field = next((p for p in reversed(path) if p in _EXPECTED), path[0] if path else "")
        want = _EXPECTED.get(field) if isinstance(field, str) else None
        if want:
            return source.error(f"{here}: expected {want}", path)
    return source.error(f"{here}: {error['msg'][0].lower()}{error['msg'][1:]}", path)


def _split(loc: tuple, data: object) -> tuple[tuple, tuple]:
    """Split a pydantic location into the path that exists in the data and the model's rest."""
    path: list = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and i == len(loc) - 1:
            path.append(part)  # an unknown or missing key: name it
            return tuple(path), ()
        else:
            return tuple(path), tuple(loc[i:])
        path.append(part)
    return tuple(path), ()


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
