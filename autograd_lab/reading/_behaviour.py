"""A validated behaviour case resolved: every name known before it is used, every
expectation well-formed, at its line."""
from __future__ import annotations

import difflib
import math

import numpy as np

from ..case import Behaviour, Expectation, Kind, Step, bind, flat, kind_of
from . import _bounds
from ._names import check_name, check_names, failing, parse_at
from ._schema import ACTIONS, BackwardStep, BehaviourModel
from ._values import array, as_written, half_unit, input_of, numbers
from ._yaml import Source

# what a step can look at: KINDS/NAME
KINDS = ("value", "grad", "grad_fn", "requires_grad", "is_leaf")


def resolve(model: BehaviourModel, where: Source, default_name: str) -> Behaviour:
    where.declared = {*map(str, model.inputs)}
    inputs = {name: input_of(name, spec, where) for name, spec in model.inputs.items()}
    known = {name: Kind(spec.value.shape, spec.integer) for name, spec in inputs.items()}
    case = Behaviour(
        name=model.name or default_name, file=where.file, dtype=model.dtype, inputs=inputs,
        steps=_steps(model.steps, ("steps",), "", known, where), title=model.title or "",
        source=model.source or "", where=where,
        tolerance=(model.tolerance.rtol, model.tolerance.atol) if model.tolerance else None)
    _bounds.check_values(_held(case), max((math.prod(k.shape) for k in known.values()), default=1),
                         where, ("steps",))
    return case


def _held(case: Behaviour) -> int:
    """Tensors a run may hold at once: the inputs, each name computed or detached, each
    gradient (a parameter's, a retained node's), and a look's float64 copies."""
    steps = [step for step, _ in flat(case.steps)]
    made = sum(len(s.args) for s in steps if s.action in ("compute", "detach"))
    grads = sum(spec.grad for spec in case.inputs.values()) \
        + sum(s.action in ("retain_grad", "requires_grad") for s in steps)
    looks = any(e.kind in ("value", "grad") for s in steps for e in s.expect)
    return len(case.inputs) + made + grads + (_bounds.LOOK_TENSORS if looks else 0)


def _steps(models: list, path: tuple, prefix: str, known: dict, where: Source) -> list[Step]:
    return [_step(m, path + (i,), f"{prefix}{i + 1}", known, where) for i, m in enumerate(models)]


def _step(model, path: tuple, label: str, known: dict, where: Source) -> Step:
    action = next((a for a in ACTIONS if getattr(model, a) is not None), "look")
    step = Step(label, action, "", where.locate(path)[0])
    _RESOLVE.get(action, lambda *a: None)(getattr(model, action, None), step, path + (action,),
                                          known, where)
    step.expect = [_expectation(str(k), v, path + ("expect", k), step, known, where)
                   for k, v in model.expect.items()]
    for e, k in zip(step.expect, model.expect):   # each at its own line, for its problem
        e.line = where.locate(path + ("expect", k))[0]
    step.text = step.text or ", ".join(_looked_at(e) for e in step.expect if e.target) or "-"
    return step


def _compute(value: dict, step: Step, path: tuple, known: dict, where: Source) -> None:
    for name, text in value.items():
        here = path + (name,)
        check_name(name, here, where)
        tree, text = parse_at(text, here, where)
        tree = bind(tree, {})
        check_names(tree, set(known), where, here, text)
        known[name] = kind_of(tree, known, {}, failing(where, here, text))
        where.declared.add(name)   # a step's e is its own from here on, not Euler's number
        step.args.append((name, tree, text))
    step.text = "; ".join(f"{name} = {text}" for name, _, text in step.args)


def _one_name(verb: str):
    def resolve_name(name: str, step: Step, path: tuple, known: dict, where: Source) -> None:
        _need(name, known, path, where)
        step.args, step.text = [name], verb.format(name)
    return resolve_name


def _detach(value: dict, step: Step, path: tuple, known: dict, where: Source) -> None:
    for new, old in value.items():
        check_name(new, path + (new,), where)
        _need(old, known, path + (new,), where)
        known[new] = known[old]
        step.args.append((new, old))
    step.text = "; ".join(f"{new} = {old}.detach()" for new, old in step.args)


def _requires_grad(value: dict, step: Step, path: tuple, known: dict, where: Source) -> None:
    for name, flag in value.items():
        _need(name, known, path + (name,), where)
        step.args.append((name, flag))
    step.text = "; ".join(f"{name}.requires_grad_({flag})" for name, flag in step.args)


def _no_grad(value: list, step: Step, path: tuple, known: dict, where: Source) -> None:
    step.inner = _steps(value, path, step.label + ".", known, where)
    step.text = "with torch.no_grad():"


def _backward(value, step: Step, path: tuple, known: dict, where: Source) -> None:
    """y.backward(), or {tensor: y, gradient: g}: y.backward(gradient=g) for a tensor y."""
    if not isinstance(value, BackwardStep):
        _one_name("{}.backward()")(value, step, path, known, where)
        return
    _need(value.tensor, known, path + ("tensor",), where)
    shape = known[value.tensor].shape
    here = path + ("gradient",)
    if isinstance(value.gradient, str):
        tree, text = parse_at(value.gradient, here, where)
        tree = bind(tree, {})
        check_names(tree, set(known), where, here, text)
        got = kind_of(tree, known, {}, failing(where, here, text)).shape
        gradient: object = tree
    else:
        gradient = array(value.gradient, here, where)
        got, text = np.shape(gradient), str(value.gradient)
    if got != shape:
        raise where.error(f"backward: the gradient has shape {got}, {value.tensor} has shape "
                          f"{shape}", here)
    step.args = [value.tensor, gradient]
    step.text = f"{value.tensor}.backward(gradient={text})"


_RESOLVE = {
    "compute": _compute, "detach": _detach, "requires_grad": _requires_grad, "no_grad": _no_grad,
    "backward": _backward, "zero_grad": _one_name("{}.grad.zero_()"),
    "retain_grad": _one_name("{}.retain_grad()"),
}


def _need(name: str, known: dict, path: tuple, where: Source) -> None:
    if name not in known:
        close = difflib.get_close_matches(str(name), list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise where.error(f"undeclared name {name!r}{hint} (names come from inputs and "
                          "earlier steps)", path)


def _expectation(key: str, value, path: tuple, step: Step, known: dict,
                 where: Source) -> Expectation:
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
    array = numbers(value, path, where)
    if array.shape != known[target].shape and array.size != 1:
        raise where.error(f"expect {key}: {array.shape} values for a tensor of shape "
                          f"{known[target].shape}", path)
    written = as_written(value, path, where)
    slack = np.vectorize(half_unit, otypes=[float])(np.asarray(written, dtype=object))
    return Expectation(key, kind, target, array, written, slack)


def _looked_at(e: Expectation) -> str:
    return e.target if e.kind == "value" else f"{e.target}.{e.kind}"
