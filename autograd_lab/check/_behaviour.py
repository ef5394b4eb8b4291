"""Behaviour cases run: the tutorials' lessons about autograd's state, as steps on real tensors."""
from __future__ import annotations

import warnings

import torch

from ..case import Behaviour, Expectation, Expr, Step
from ..methods import evaluate
from ..result import FAILED, PASSED, UNCHECKED, CaseResult, ClaimResult, Problem
from . import _compare as compare
from . import _lint as lint
from ._domain import domain_watch
from ._words import listed as _listed

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# what a torch call in a notebook cell raises (x.grad.zero_() on None is an AttributeError)
RAISED = (RuntimeError, AttributeError, TypeError, ValueError)
KINDS = ("value", "grad", "grad_fn", "requires_grad", "is_leaf")
NOTHING_COMPARED = ("nothing compared: no step expects a value, a gradient, a grad_fn or an "
                    "error, so the steps ran and nothing was checked")
NO_BACKWARD = ("no backward() ran before this step (writing y.backward without the "
               "parentheses does not call it)")


def run(case: Behaviour) -> CaseResult:
    """Run the steps and check every expectation; the same CaseResult as a gradient case."""
    result = CaseResult(name=case.name, file=case.file, status=PASSED, kind="behaviour",
                        dtype=case.dtype, title=case.title, line=case.line_of())
    _Run(case, result).steps(case.steps)
    if result.problems:
        result.status = FAILED
    elif not result.claims:   # every step ran, and none was compared with anything
        result.status = UNCHECKED
        result.problems.append(Problem(NOTHING_COMPARED, result.line))
    return result


class _Run:
    def __init__(self, case: Behaviour, result: CaseResult):
        self.case, self.result = case, result
        self.dtype = DTYPES[case.dtype]
        self.env = {name: torch.tensor(spec.value, dtype=torch.int64) if spec.integer else
                    torch.tensor(spec.value, dtype=self.dtype, requires_grad=spec.grad)
                    for name, spec in case.inputs.items()}
        self.backwards = 0  # backward() calls that ran: none means no .grad can be set
        self.nonscalar = ""  # why the last backward() failed, where the cause is known
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
            cause = f"{self.nonscalar}; it " if self.nonscalar and step.action == "backward" \
                else ""
            self.problem(step, f"{cause}raised {_error(raised)} (if the tutorial shows this error, "
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
            value = evaluate(tree, self.env, domain_watch(domain), batched=False,
                             dtype=self.dtype)
            self.env[name] = value if isinstance(value, torch.Tensor) else \
                torch.tensor(value, dtype=self.dtype)
            self.trees[name] = tree
            for problem in domain + lint.target_problems(name, text, tree, self.env, _element,
                                                         False, self.trees):
                self.problem(step, problem)

    def do_backward(self, step: Step) -> None:
        gradient = step.args[1] if len(step.args) > 1 else None
        if isinstance(gradient, Expr):
            with torch.no_grad():
                gradient = evaluate(gradient, self.env, batched=False, dtype=self.dtype)
        if gradient is not None:
            gradient = torch.as_tensor(gradient, dtype=self.dtype)
        tensor = self.env[step.args[0]]
        self.nonscalar = ""
        if gradient is None and tensor.numel() != 1:   # the cause, before torch's own words
            self.nonscalar = (f"{step.args[0]} has shape {tuple(tensor.shape)}, not a scalar, so "
                              f"{step.args[0]}.backward() needs a gradient: write backward: "
                              f"{{tensor: {step.args[0]}, gradient: ...}} (y.backward(gradient="
                              "...) in the notebook)")
        tensor.backward(gradient=gradient)
        self.backwards += 1

    def do_zero_grad(self, step: Step) -> None:
        # before any backward() x.grad is None: the AttributeError is what the notebook shows
        self.env[step.args[0]].grad.zero_()  # type: ignore[union-attr]

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
                shown = _listed(grad)
                return shown, False, f"{e.target}.grad is {value_text(shown)}"
            return self.number(e, grad, f"{e.target}.grad is")
        got = getattr(tensor, e.kind)
        if e.kind == "grad_fn":
            got = type(got).__name__ if got is not None else None
        return got, got == e.want, f"{e.target}.{e.kind} is {got}"

    def number(self, e: Expectation, tensor: torch.Tensor, said: str):
        got = tensor.detach().to(torch.float64).numpy()
        shown = _listed(got)   # at most LISTED_ELEMENTS of it
        if got.shape != e.want.shape and e.want.size != 1:
            return shown, False, f"{said} {value_text(shown)} (shape {got.shape})"
        ok = compare.as_written(e.want, got, e.slack, self.rtol, self.atol)
        return shown, ok, f"{said} {value_text(shown)}"

    def no_grad_why(self, e: Expectation) -> str:
        tensor = self.env[e.target]
        if not self.backwards and self.nonscalar:
            return f"backward() failed: {self.nonscalar}"
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
        self.result.claims.append(ClaimResult(f"{step_name(step)}: {e.key}",
                                              e.written, got, PASSED if ok else FAILED))
        if not ok:
            wanted = {"raises": f"it to raise {e.want!r}",
                      "warns": f"a warning saying {e.want!r}"}.get(
                e.kind, f"{e.key} = {value_text(e.written)}")
            self.problem(step, f"expected {wanted}, but {why}", e.line)

    def problem(self, step: Step, text: str, line: int | None = None) -> None:
        said = f", line {step.line}" if step.line else ""
        self.result.problems.append(Problem(f"step {step.label} ({step.text}{said}): {text}",
                                            line or step.line))


def step_name(step: Step) -> str:
    """How a step is named in its claims and problems: `step 3 (y.backward())`."""
    return f"step {step.label} ({step.text})"


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _element(index: tuple) -> str:
    return f"element {list(index)}" if index else ""




def value_text(value) -> str:
    """A value as a step shows it: 10 digits, a list cut after 8 elements."""
    if isinstance(value, list):
        more = ", ...]" if len(value) > 8 else "]"
        return "[" + ", ".join(value_text(v) for v in value[:8]) + more
    return f"{value:.10g}" if isinstance(value, float) else str(value)
