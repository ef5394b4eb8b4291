"""The case file's structure as a pydantic model: validation, and the JSON Schema for editors."""
from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    TypeAdapter,
    ValidationError,
)

from ._yaml import Source


def _not_bool(value):
    # YAML reads yes/no/true/false as booleans, which pydantic would take as 1.0 and 0.0
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a number")
    return value


Number = Annotated[FiniteFloat, BeforeValidator(_not_bool)]
Values = Number | list  # a nested list of numbers; its shape is checked when resolved
Expression = str | Number
Stacked = Expression | list[Expression]   # a YAML list of expressions: the tensor stacked
# a size: an integer, a dim's name, or a product or sum of dims ("k*e")
Size = Annotated[int | str, BeforeValidator(_not_bool)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Linspace(_Model):
    linspace: tuple[Number, Number, int] = Field(description="[lo, hi, n]: n evenly spaced values")


class Uniform(_Model):
    uniform: tuple[Number, Number] = Field(description="[lo, hi]: uniform random values")
    shape: list[Size] = Field(description="the shape drawn, e.g. [1000] or [n, k]")
    seed: int = Field(0, ge=0)


class Randn(_Model):
    randn: list[Size] = Field(description="the shape: torch.randn(shape) with a seeded "
                                          "generator, as a tutorial draws it")
    seed: int = 0
    scale: Number = Field(1.0, description="multiplies the draw (in float32, as torch does)")
    shift: Number = Field(0.0, description="added after scale: randn(...)*0.1 + 1.0")
    generator: str | None = Field(
        None, description="a generator's name (g): the inputs naming it are drawn one after "
                          "another from one generator seeded with seed, in the order written")


class Randint(_Model):
    randint: tuple[Size, Size] = Field(description="[lo, hi): torch.randint's range")
    shape: list[Size]
    seed: int = 0
    generator: str | None = Field(None, description="a generator's name, as for randn")


Generated = Linspace | Uniform | Randn | Randint


class InputSpec(_Model):
    value: Number | list | Generated
    grad: bool = Field(False, description="true marks a parameter whose gradient is checked")
    dtype: Literal["int64"] | None = Field(None, description="int64: an integer input "
                                                             "(labels, indices)")


Claimed = Values | str    # a number or list as printed, or an expression ("9*a**2")


class Point(_Model):
    at: dict[str, Values] = Field(default_factory=dict, description="inputs overridden here")
    expect: dict[str, Claimed] = Field(default_factory=dict)


class Sample(_Model):
    count: int = Field(ge=1, le=1_000_000)
    seed: int = Field(0, ge=0)
    ranges: dict[str, tuple[Number, Number]]


# the loosest tolerance a case may ask for: looser would pass a derivative wrong by a percent
MAX_TOLERANCE = 0.01


class Tolerance(_Model):
    rtol: float = Field(ge=0, le=MAX_TOLERANCE)
    atol: float = Field(ge=0, le=MAX_TOLERANCE)


class _Header(_Model):
    """What every case file begins with: who it is, its dtype and its inputs."""

    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+$", max_length=100)
    title: str | None = None
    source: str | None = None
    dtype: Literal["float64", "float32"] = "float64"
    inputs: dict[str, Number | list | InputSpec]


class CaseModel(_Header):
    """One worked example, as ../shared/case-format.md specifies it."""

    dims: dict[str, Annotated[int, BeforeValidator(_not_bool)]] = Field(
        default_factory=dict, description="named sizes, usable in shapes and expressions")
    forward: dict[str, Stacked] | str = Field(
        description="node -> expression, in order; or a block (forward: |) of the tutorial's "
                    "statements")
    output: str | None = None
    upstream: Values | str | Randn | Uniform | None = Field(
        None, description="the gradient handed to output.backward(gradient=...)")
    # an edge given as ~ (null) is one still to be written: an error that names it
    chain_rule: dict[str, Expression | None] | None = None
    gradient: dict[str, Expression] | None = None
    # an entry given as ~ (null) is one still to be written, as in chain_rule
    backward: dict[str, Stacked | None] | str | None = Field(
        None, description="d<name> -> the hand-written gradient of the output by <name>; or "
                          "a block (backward: |) of the tutorial's statements")
    gradients: dict[str, str] | None = Field(
        None, description="a backward name -> the name it is the gradient of (delta2: z2), "
                          "where its spelling does not say")
    points: list[Point] = Field(default_factory=list)
    sample: Sample | None = None
    tolerance: Tolerance | None = None
    expect: dict[str, Claimed] = Field(default_factory=dict)
    order: Literal[1, 2] = Field(1, description="2: check the Hessian too")
    hessian: dict[str, Expression] | None = Field(
        None, description='"p/q" -> a hand-written second derivative of the output (order: 2)')


def _bare_names(schema: dict) -> None:
    # an editor must accept the bare `y: x**2` that validate() turns into compute
    schema["additionalProperties"] = {"anyOf": [{"type": "string"}, {"type": "number"}]}


class BackwardStep(_Model):
    tensor: str
    gradient: Values | str


class Step(_Model):
    """One notebook cell of a behaviour case: at most one action, then what to expect after it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra=_bare_names)

    compute: dict[str, Expression] | None = Field(None, description="y: x**2 is y = x**2")
    backward: str | BackwardStep | None = Field(
        None, description="y is y.backward(); {tensor: y, gradient: g} is "
                          "y.backward(gradient=g)")
    zero_grad: str | None = Field(None, description="x is x.grad.zero_()")
    no_grad: list[Step] | None = Field(None, description="steps run under torch.no_grad()")
    detach: dict[str, str] | None = Field(None, description="z: x is z = x.detach()")
    requires_grad: dict[str, bool] | None = Field(
        None, description="x: false is x.requires_grad_(False)")
    retain_grad: str | None = Field(None, description="y is y.retain_grad()")
    expect: dict[str, bool | Number | list | str | None] = Field(
        default_factory=dict, description="grad/x, grad_fn/y, requires_grad/y, is_leaf/y, a "
                                          "tensor's value, raises, warns")


class BehaviourModel(_Header):
    """A behaviour case: inputs, then steps as the tutorial's cells, each with its expectations."""

    steps: list[Step] = Field(min_length=1)
    tolerance: Tolerance | None = None


Step.model_rebuild()

ACTIONS = ("compute", "backward", "zero_grad", "no_grad", "detach", "requires_grad",
           "retain_grad")
MAX_STEPS = 1_000

_EXPECTED = {
    "inputs": "a number, a list of numbers, or {value: ..., grad: true|false}",
    "forward": "an expression", "chain_rule": "an expression", "gradient": "an expression",
    "hessian": "an expression",
    "expect": "a number, a list of numbers or an expression",
    "at": "a number or a list of numbers",
    "steps": "a step: {y: x**2}, {backward: y}, {zero_grad: x}, {no_grad: [...]}, "
             "{detach: {z: x}}, {requires_grad: {x: false}}, {retain_grad: y} or {expect: ...}",
    "no_grad": "a list of steps", "compute": "an expression",
    "backward": "a tensor's name, or {tensor: y, gradient: g}", "zero_grad": "a tensor's name",
    "retain_grad": "a tensor's name", "detach": "{new name: tensor's name}, e.g. {z: x}",
    "requires_grad": "{tensor's name: true or false}",
    "value": "a number, a list of numbers, {linspace: [lo, hi, n]}, "
             "{uniform: [lo, hi], shape: [n], seed: s}, {randn: [shape], seed: s, scale: c} "
             "or {randint: [lo, hi], shape: [...], seed: s}",
    "dims": "a positive integer", "upstream": "a value or an expression",
    "dtype": "int64 (an input of integers: labels, indices), or no dtype (a float input, in "
             "the case's dtype)",
}


def validate(data: object, source: Source) -> CaseModel | BehaviourModel:
    """The model (a behaviour case when it has steps), or the first problem at its file:line."""
    if not isinstance(data, dict):
        raise source.error("a case file must be a mapping of keys (name, inputs, forward, ...)")
    model = BehaviourModel if "steps" in data else CaseModel
    if model is BehaviourModel:
        data = dict(data, steps=_bare_steps(data["steps"], ("steps",), source))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _first_problem(list(exc.errors()), data, source, model) from None


def _bare_steps(steps, path: tuple, source: Source):
    """A step's bare `y: x**2` becomes compute: {y: x**2}; typos of actions are caught here."""
    if not isinstance(steps, list):
        raise source.error(f"{'.'.join(map(str, path))}: expected a list of steps", path)
    if len(steps) > MAX_STEPS:
        raise source.error(f"at most {MAX_STEPS:,} steps are allowed", path)
    return [_bare_step(step, path + (i,), source) for i, step in enumerate(steps)]


def _bare_step(step, path: tuple, source: Source):
    if not isinstance(step, dict):
        raise source.error(f"{'.'.join(map(str, path))}: expected {_EXPECTED['steps']}", path)
    actions = [k for k in step if k in ACTIONS]
    bare = [k for k in step if k not in ACTIONS and k != "expect"]
    for key in bare:
        close = difflib.get_close_matches(str(key), ACTIONS + ("expect",), n=1, cutoff=0.8)
        if close:
            raise source.error(f"unknown step {key!r}; did you mean {close[0]!r}? (to compute "
                               f"a node of that name write compute: {{{key}: ...}})", path + (key,))
    if len(actions) + bool(bare) > 1:
        found = ", ".join(actions + (["a computation"] if bare else []))
        raise source.error(f"a step does one thing, like one notebook cell; this one has {found}: "
                           "give each its own step", path)
    step = dict(step)
    if "no_grad" in step:
        step["no_grad"] = _bare_steps(step["no_grad"], path + ("no_grad",), source)
    if bare:
        step["compute"] = {k: step.pop(k) for k in bare}
        _alias(source, path, bare)
    return step


def _alias(source: Source, path: tuple, keys: list) -> None:
    """Positions of bare keys, copied under compute so that later errors still find them."""
    n = len(path)
    tables: tuple[dict, dict] = (source.marks, source.texts)
    for table in tables:
        for where in [w for w in table if w[:n] == path and w[n:n + 1] and w[n] in keys]:
            table[path + ("compute",) + where[n:]] = table[where]
    if path in source.marks:
        source.marks[path + ("compute",)] = source.marks[path]


def _first_problem(errors: list, data: object, source: Source, model=None):
    """The most telling error: an unknown key (often a typo of a missing one), else the deepest."""
    located = [(_data_path(e, data), e) for e in errors if _meant(e, data)]
    located = located or [(_data_path(e, data), e) for e in errors]
    path, error = max(located, key=lambda pe: (pe[1]["type"] == "extra_forbidden", len(pe[0])))
    here = ".".join(map(str, path)) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden":
        return source.error(_unknown_key(path, data, model), path)
    if kind == "missing":
        where = ".".join(map(str, path[:-1]))
        also = " (or steps:, for a behaviour case)" if path == ("forward",) else ""
        return source.error(f"{where + ': ' if where else ''}missing required key {path[-1]!r}"
                            f"{also}", path[:-1])
    if kind == "string_pattern_mismatch" and path == ("name",):
        return source.error("name: use only letters, digits, _ and - (it names the case in "
                            "reports)", path)
    if kind == "dict_type" and len(error["loc"]) == len(path):
        return source.error(f"{here}: expected a mapping, one `name: value` a line", path)
    if kind == "finite_number":
        return source.error(f"{here}: values must be finite numbers (no NaN or inf)", path)
    field = next((p for p in reversed(path) if p in _EXPECTED), None)
    if field and len(error["loc"]) > len(path) and kind not in _BOUNDS:  # a union: what would do
        return source.error(f"{here}: expected {_EXPECTED[field]}", path)
    return source.error(f"{here}: {_in_our_words(error)}", path)


# pydantic's error kinds, said in the project's words: what the user reads does not change
# with a pydantic release (its own message is the last resort, for kinds not listed here)
_BOUNDS = {"less_than_equal": ("le", "at most"), "greater_than_equal": ("ge", "at least"),
           "less_than": ("lt", "less than"), "greater_than": ("gt", "greater than")}
_KINDS = {"int_type": "expected a whole number", "int_parsing": "expected a whole number",
          "int_from_float": "expected a whole number",
          "float_type": "expected a number", "float_parsing": "expected a number",
          "bool_type": "expected true or false", "bool_parsing": "expected true or false",
          "string_type": "expected text", "list_type": "expected a list",
          "tuple_type": "expected a list", "dict_type": "expected a mapping"}


def _in_our_words(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {_number(ctx.get(key))}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}"
    if kind in ("too_short", "too_long"):
        return (f"expected {'at least' if kind == 'too_short' else 'at most'} "
                f"{ctx.get('min_length', ctx.get('max_length'))} items")
    if kind in _KINDS:
        return _KINDS[kind]
    if kind == "value_error" and "error" in ctx:   # our own validator's words
        return str(ctx["error"])
    return f"{error['msg'][0].lower()}{error['msg'][1:]}"


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}" if isinstance(value, float) \
        else str(value)


# a generated value's kind, by the key that names it: an error in the other kind's branch of
# the union ({uniform: ...} read as a Linspace) is not what the file meant
_KIND_KEYS = {"Linspace": "linspace", "Uniform": "uniform", "Randn": "randn", "Randint": "randint"}


def _meant(error: dict, data: object) -> bool:
    """False for an error inside a union branch whose naming key the data does not hold."""
    node: Any = data
    for part in error["loc"]:
        if part in _KIND_KEYS:
            return isinstance(node, dict) and _KIND_KEYS[part] in node
        if _holds(node, part):
            node = node[part]
    return True


def _holds(node, part) -> bool:
    """Whether data node has an entry at part (a mapping's key, a list's index)."""
    return (isinstance(node, dict) and part in node) or (
        isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))


def _data_path(error: dict, data: object) -> tuple:
    """The part of a pydantic location that exists in the data (union member tags skipped)."""
    path: list = []
    node: Any = data
    loc = error["loc"]
    for i, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if (isinstance(node, dict) and part in node) or in_list:
            node = node[part]
        elif i == len(loc) - 1 and error["type"] in ("extra_forbidden", "missing"):
            node = None  # the unknown or missing key itself: name it
        else:
            continue
        path.append(part)
    return tuple(path)


def _unknown_key(path: tuple, data: object, top=None) -> str:
    key = path[-1]
    if top is BehaviourModel and len(path) == 1 and key in CaseModel.model_fields:
        where = "under a step" if key == "expect" else "as steps (- y: x**2)"
        return (f"{key!r} belongs to a gradient case, but steps: makes this a behaviour case; "
                f"write what it says {where}")
    model = _model_at(path[:-1], top)
    known = list(model.model_fields) if model else []
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else (
        f"; allowed: {', '.join(known)}" if known else "")
    return f"unknown key {key!r}{hint}"


def _model_at(path: tuple, top=None):
    models = {(): top or CaseModel, ("sample",): Sample, ("tolerance",): Tolerance}
    if top is BehaviourModel and path[:1] == ("steps",) and len(path) % 2 == 0:
        return Step  # steps.i, steps.i.no_grad.j, ...
    if len(path) == 2 and path[0] == "inputs":
        return InputSpec
    if len(path) == 2 and path[0] == "points":
        return Point
    if len(path) == 3 and path[0] == "inputs" and path[2] == "value":
        return None
    return models.get(tuple(path))


def json_schema() -> dict:
    """The JSON Schema of a case file, for editors (yaml-language-server's $schema)."""
    schema = TypeAdapter(CaseModel | BehaviourModel).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autograd-lab case"
    return schema
