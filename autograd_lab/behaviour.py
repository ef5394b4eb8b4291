"""Behaviour cases: the tutorials' lessons about autograd's state, run as steps on real tensors."""
from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from . import case as C
from . import compare, guard, lint
from . import source as S
from .methods.tensors import FUNCTIONS, evaluate
from .result import FAILED, PASSED, CaseResult, ClaimResult
from .schema import ACTIONS, BehaviourModel

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# a notebook's tensors carry no batch of points: sum and mean reduce the whole tensor
TABLE = {**FUNCTIONS, "sum": torch.sum, "mean": torch.mean}
# what a torch call in a notebook cell raises (x.grad.zero_() on None is an AttributeError)
RAISED = (RuntimeError, AttributeError, TypeError, ValueError)
KINDS = ("value", "grad", "grad_fn", "requires_grad", "is_leaf")
NO_BACKWARD = ("no backward() ran before this step (writing y.backward without the "
               "parentheses does not call it)")


@dataclass
class Expectation:
    key: str          # as written: "grad/x", "y", "raises"
    kind: str         # one of KINDS, "raises" or "warns"
    target: str       # the tensor's name ("" for raises and warns)
    want: object      # an array (value, grad), None, a bool or a text
    written: object   # as written in the file
    slack: object = 0.0


@dataclass
class Step:
    label: str        # "3", or "4.1" inside a no_grad block
    action: str       # one of schema.ACTIONS, or "look" for a step that only expects
    text: str         # the step as the notebook cell: "y.backward()"
    line: int | None
    args: list = field(default_factory=list)
    inner: list["Step"] = field(default_factory=list)
    expect: list[Expectation] = field(default_factory=list)


@dataclass
class Behaviour:
    name: str
    file: str
    dtype: str
    inputs: dict[str, C.Input]
    steps: list[Step]
    tolerance: tuple[float, float] | None = None
    title: str = ""
    source: str = ""
    where: S.Source | None = None
    kind: str = "behaviour"

    def line_of(self, *path) -> int | None:
        return self.where.locate(path)[0] if self.where else None


# --- resolving: every name known before it is used, every expectation well-formed -----------

def resolve(model: BehaviourModel, where: S.Source, default_name: str) -> Behaviour:
    inputs = {name: C._input(name, spec, where) for name, spec in model.inputs.items()}
    known = {name: spec.value.shape for name, spec in inputs.items()}
    case = Behaviour(
        name=model.name or default_name, file=where.file, dtype=model.dtype, inputs=inputs,
        steps=_steps(model.steps, ("steps",), "", known, where), title=model.title or "",
        source=model.source or "", where=where,
        tolerance=(model.tolerance.rtol, model.tolerance.atol) if model.tolerance else None)
    tensors = len(inputs) + sum(len(s.args) for s, _ in _flat(case.steps, 0) if s.action
                                in ("compute", "detach"))
    guard.check_values(tensors, max((math.prod(s) for s in known.values()), default=1), where,
                       ("steps",))
    return case


def _steps(models: list, path: tuple, prefix: str, known: dict, where: S.Source) -> list[Step]:
    return [_step(m, path + (i,), f"{prefix}{i + 1}", known, where) for i, m in enumerate(models)]


def _step(model, path: tuple, label: str, known: dict, where: S.Source) -> Step:
    action = next((a for a in ACTIONS if getattr(model, a) is not None), "look")
    step = Step(label, action, "", where.locate(path)[0])
    _RESOLVE.get(action, lambda *a: None)(getattr(model, action, None), step, path + (action,),
                                          known, where)
    step.expect = [_expectation(str(k), v, path + ("expect", k), step, known, where)
                   for k, v in model.expect.items()]
    step.text = step.text or ", ".join(_looked_at(e) for e in step.expect if e.target) or "-"
    return step


def _compute(value: dict, step: Step, path: tuple, known: dict, where: S.Source) -> None:
    for name, text in value.items():
        here = path + (name,)
        C._check_name(name, here, where)
        tree, text = C._parse(text, here, where)
        C._check_names(tree, set(known), where, here, text)
        known[name] = C.shape_of(tree, known, lambda msg: where.error(msg, here, text))
        step.args.append((name, tree, text))
    step.text = "; ".join(f"{name} = {text}" for name, _, text in step.args)


def _one_name(verb: str):
    def resolve_name(name: str, step: Step, path: tuple, known: dict, where: S.Source) -> None:
        _need(name, known, path, where)
        step.args, step.text = [name], verb.format(name)
    return resolve_name


def _detach(value: dict, step: Step, path: tuple, known: dict, where: S.Source) -> None:
    for new, old in value.items():
        C._check_name(new, path + (new,), where)
        _need(old, known, path + (new,), where)
        known[new] = known[old]
        step.args.append((new, old))
    step.text = "; ".join(f"{new} = {old}.detach()" for new, old in step.args)


def _requires_grad(value: dict, step: Step, path: tuple, known: dict, where: S.Source) -> None:
    for name, flag in value.items():
        _need(name, known, path + (name,), where)
        step.args.append((name, flag))
    step.text = "; ".join(f"{name}.requires_grad_({flag})" for name, flag in step.args)


def _no_grad(value: list, step: Step, path: tuple, known: dict, where: S.Source) -> None:
    step.inner = _steps(value, path, step.label + ".", known, where)
    step.text = "with torch.no_grad():"


_RESOLVE = {
    "compute": _compute, "detach": _detach, "requires_grad": _requires_grad, "no_grad": _no_grad,
    "backward": _one_name("{}.backward()"), "zero_grad": _one_name("{}.grad.zero_()"),
    "retain_grad": _one_name("{}.retain_grad()"),
}


def _need(name: str, known: dict, path: tuple, where: S.Source) -> None:
    if name not in known:
        close = difflib.get_close_matches(str(name), list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise where.error(f"undeclared name {name!r}{hint} (names come from inputs and "
                          "earlier steps)", path)


def _expectation(key: str, value, path: tuple, step: Step, known: dict,
                 where: S.Source) -> Expectation:
    if key in ("raises", "warns"):
        if not isinstance(value, str) or not value.strip():
            raise where.error(f"{key}: expected the text of the "
                              f"{'error' if key == 'raises' else 'warning'}, or part of it", path)
        if key == "raises" and step.action == "look":
            raise where.error("raises: this step only looks; put raises under the step that "
                              "raises", path)
        return Expectation(key, key, "", value, value)
    kind, _, target = key.partition("/") if "/" in key else ("value", "", key)
    if kind not in KINDS or not target:
        raise where.error(f"expect {key}: write a tensor's name, grad/NAME, grad_fn/NAME, "
                          "requires_grad/NAME, is_leaf/NAME, raises or warns", path)
    _need(target, known, path, where)
    if kind in ("requires_grad", "is_leaf"):
        if not isinstance(value, bool):
            raise where.error(f"expect {key}: expected true or false", path)
        return Expectation(key, kind, target, value, "true" if value else "false")
    if kind == "grad_fn":
        if value is not None and not isinstance(value, str):
            raise where.error(f"expect {key}: expected a name such as PowBackward0, or null", path)
        return Expectation(key, kind, target, value, "null" if value is None else value)
    if value is None and kind == "grad":
        return Expectation(key, kind, target, None, "null")
    return _number(key, kind, target, value, path, known, where)


def _number(key, kind, target, value, path, known, where) -> Expectation:
    if value is None or isinstance(value, (bool, str)):
        what = "a number, a list of numbers" + (" or null" if kind == "grad" else "")
        raise where.error(f"expect {key}: expected {what}", path)
    array = C._numbers(value, path, where)
    if array.shape != known[target] and array.size != 1:
        raise where.error(f"expect {key}: {array.shape} values for a tensor of shape "
                          f"{known[target]}", path)
    written = C._written(value, path, where)
    slack = np.vectorize(C._half_unit, otypes=[float])(np.asarray(written, dtype=object))
    return Expectation(key, kind, target, array, written, slack)


def _looked_at(e: Expectation) -> str:
    return e.target if e.kind == "value" else f"{e.target}.{e.kind}"


# --- running: real tensors, one step at a time, as the notebook ran them --------------------

def run(case: Behaviour) -> CaseResult:
    """Run the steps and check every expectation; the same CaseResult as a gradient case."""
    result = CaseResult(name=case.name, file=case.file, status=PASSED, kind="behaviour",
                        dtype=case.dtype, title=case.title, line=case.line_of())
    _Run(case, result).steps(case.steps)
    if result.problems:
        result.status = FAILED
    return result


class _Run:
    def __init__(self, case: Behaviour, result: CaseResult):
        self.case, self.result = case, result
        self.dtype = DTYPES[case.dtype]
        self.env = {name: torch.tensor(spec.value, dtype=self.dtype, requires_grad=spec.grad)
                    for name, spec in case.inputs.items()}
        self.backwards = 0  # backward() calls that ran: none means no .grad can be set
        self.trees: dict = {}  # each computed name's latest expression, for the lint
        self.rtol, self.atol = compare.tolerance(case.dtype, case.tolerance)

    def steps(self, steps: list[Step]) -> bool:
        """False when a step raised unexpectedly: the steps after it are not run."""
        for i, step in enumerate(steps):
            if not self.step(step):
                if steps[i + 1:]:
                    self.problem(step, "the steps after it were not run")
                return False
        return True

    def step(self, step: Step) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raised, going = self.act(step)
            looks = {id(e): self.look(e) for e in step.expect if e.kind in KINDS}
        told = [str(w.message) for w in caught]
        for e in step.expect:
            got, ok, why = looks[id(e)] if id(e) in looks else self.event(e, raised, told)
            self.claim(step, e, got, ok, why)
        if raised is not None and not any(e.kind == "raises" for e in step.expect):
            self.problem(step, f"raised {_error(raised)} (if the tutorial shows this error, "
                               "expect it with raises:)")
            return False
        return going

    def act(self, step: Step) -> tuple[BaseException | None, bool]:
        try:
            return None, getattr(self, "do_" + step.action)(step) is not False
        except RAISED as exc:
            return exc, True

    # the actions, as the notebook's cells do them

    def do_compute(self, step: Step) -> None:
        for name, tree, text in step.args:
            domain: list[str] = []
            value = evaluate(tree, self.env, _domain(domain), functions=TABLE)
            self.env[name] = value if isinstance(value, torch.Tensor) else \
                torch.tensor(value, dtype=self.dtype)
            self.trees[name] = tree
            for problem in domain + lint.target_problems(name, text, tree, self.env, _element,
                                                         TABLE, self.trees):
                self.problem(step, problem)

    def do_backward(self, step: Step) -> None:
        self.env[step.args[0]].backward()
        self.backwards += 1

    def do_zero_grad(self, step: Step) -> None:
        self.env[step.args[0]].grad.zero_()

    def do_retain_grad(self, step: Step) -> None:
        self.env[step.args[0]].retain_grad()

    def do_detach(self, step: Step) -> None:
        for new, old in step.args:
            self.env[new] = self.env[old].detach()
            self.trees.pop(new, None)  # a new leaf: no longer the expression it was

    def do_requires_grad(self, step: Step) -> None:
        for name, flag in step.args:
            self.env[name].requires_grad_(flag)

    def do_no_grad(self, step: Step) -> bool:
        with torch.no_grad():
            return self.steps(step.inner)

    def do_look(self, step: Step) -> None:
        pass

    # the expectations

    def look(self, e: Expectation) -> tuple[object, bool, str]:
        """(what the tensor shows, whether it is what was expected, why not)."""
        tensor = self.env[e.target]
        if e.kind == "value":
            return self.number(e, tensor, f"{e.target} is")
        if e.kind == "grad":
            grad = tensor.grad  # reading it is what warns for a non-leaf, as in the notebook
            if grad is None:
                return None, e.want is None, f"{e.target}.grad is None: {self.no_grad_why(e)}"
            if e.want is None:
                return _listed(grad), False, f"{e.target}.grad is {_text(_listed(grad))}"
            return self.number(e, grad, f"{e.target}.grad is")
        got = getattr(tensor, e.kind)
        if e.kind == "grad_fn":
            got = type(got).__name__ if got is not None else None
        return got, got == e.want, f"{e.target}.{e.kind} is {got}"

    def number(self, e: Expectation, tensor: torch.Tensor, said: str):
        got = tensor.detach().to(torch.float64).numpy()
        if got.shape != e.want.shape and e.want.size != 1:
            return _listed(got), False, f"{said} {_text(_listed(got))} (shape {got.shape})"
        allowed = np.maximum(e.slack, self.atol + self.rtol * np.abs(got))
        ok = bool(np.all(np.abs(e.want - got) <= allowed))
        return _listed(got), ok, f"{said} {_text(_listed(got))}"

    def no_grad_why(self, e: Expectation) -> str:
        tensor = self.env[e.target]
        if not self.backwards:
            return NO_BACKWARD
        if not tensor.is_leaf and not tensor.retains_grad:
            made = type(tensor.grad_fn).__name__ if tensor.grad_fn else "an operation"
            return (f"{e.target} is not a leaf (made by {made}), and retain_grad() was not "
                    "called on it before backward()")
        if not tensor.requires_grad:
            return f"{e.target} does not require grad"
        return f"no backward() reached {e.target}"

    def event(self, e: Expectation, raised, told: list[str]) -> tuple[object, bool, str]:
        if e.kind == "raises":
            said = _error(raised) if raised is not None else None
            ok = said is not None and e.want in said
            return said, ok, f"it raised {said}" if said else "it ran without error"
        match = next((m for m in told if e.want in m), None)
        why = "the warnings were: " + " | ".join(told) if told else "no warning was given"
        return match or (told[0] if told else None), match is not None, why

    def claim(self, step: Step, e: Expectation, got, ok: bool, why: str) -> None:
        self.result.claims.append(ClaimResult(f"{_named(step)}: {e.key}",
                                              e.written, got, PASSED if ok else FAILED))
        if not ok:
            wanted = {"raises": f"it to raise {e.want!r}",
                      "warns": f"a warning saying {e.want!r}"}.get(
                e.kind, f"{e.key} = {_text(e.written)}")
            self.problem(step, f"expected {wanted}, but {why}")

    def problem(self, step: Step, text: str) -> None:
        line = f", line {step.line}" if step.line else ""
        self.result.problems.append(f"step {step.label} ({step.text}{line}): {text}")


def _domain(found: list[str]):
    """Note log, sqrt and division outside their domain, as a gradient case does."""
    from .check import _describe, _outside  # one definition of the domains; check imports us

    def watch(tree, args):
        bad = _outside(tree, args)
        said = bad is not None and bad.any() and f"{_describe(tree)} is outside its domain"
        if said and said not in found:
            found.append(said)
    return watch


def _named(step: Step) -> str:
    return f"step {step.label} ({step.text})"


def explain(case: Behaviour) -> list[str]:
    """The steps as the notebook's cells, each followed by what it showed and the verdict."""
    result = run(case)
    lines = [f"{name} = torch.tensor({_source(spec.value)}"
             f"{', requires_grad=True' if spec.grad else ''})  # {case.dtype}"
             for name, spec in case.inputs.items()]
    for step, depth in _flat(case.steps, 0):
        lines.append(f"{'    ' * depth}In [{step.label}]: {step.text}")
        for claim in (c for c in result.claims if c.claim.startswith(_named(step) + ": ")):
            mark = "ok" if claim.status == PASSED else f"FAILED (expected {_text(claim.written)})"
            shown = _text(claim.value)[:100] if claim.value is not None else "None"
            key = claim.claim[len(_named(step)) + 2:]
            lines.append(f"{'    ' * depth}    {key}: {shown}  {mark}")
    return lines + [f"{result.status.upper()}: {p}" for p in result.problems] + \
        [f"{result.status}: {case.name}"]


def _source(value: np.ndarray) -> str:
    """An input as the notebook wrote it (3.0, [1.0, 2.0, 3.0]), long vectors cut."""
    return repr(_listed(value)) if value.size <= 8 else _text(_listed(value))


def _flat(steps: list[Step], depth: int):
    for step in steps:
        yield step, depth
        yield from _flat(step.inner, depth + 1)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _element(index: tuple) -> str:
    return f"element {list(index)}" if index else ""


def _listed(value):
    array = np.asarray(value.detach().to(torch.float64) if isinstance(value, torch.Tensor)
                       else value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()


def _text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value[:8]) + (", ...]" if len(value) > 8 else "]")
    return f"{value:.10g}" if isinstance(value, float) else str(value)
