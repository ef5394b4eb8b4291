"""`autograd-lab explain`: a case's derivation step by step, as the tutorials print it."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp
import torch
from rich import box
from rich.table import Table

from .case import Behaviour, Case, flat
from .check import (
    Readable,
    TooSlow,
    check_case,
    deadline,
    gap,
    gradients,
    run_behaviour,
    step_name,
    tolerance,
    too_slow,
    value_text,
)
from .errors import CaseError
from .methods import (
    DTYPES,
    Builder,
    Symbolic,
    along,
    evaluate,
    forward,
    leaves,
    manual_totals,
    printed,
)
from .reading import load
from .result import PASSED, CaseResult, piece_line
from .text import terminal

MAX_PATHS = 20        # paths listed per parameter
MAX_FORMULA = 400     # characters of a SymPy formula shown
SIMPLIFY_OPS = 120    # sympy.simplify is tried on derivatives up to this many operations
MAX_SHOWN = 4         # elements of a vector shown


@dataclass
class Step:
    """One local derivative: its edge, the hand-written text and value, SymPy's."""
    edge: str
    hand: str
    value: object
    sympy: str
    sympy_value: object
    ok: bool


@dataclass
class Path_:
    edges: list[str]
    values: list[object]
    product: object
    # after each edge: whether the product so far is summed down there (to a parent smaller
    # than it: a sum, a mean, a broadcast scalar), so the line shows Σ(...) where it is
    summed: list[bool] = field(default_factory=list)


@dataclass
class Gradient:
    param: str
    paths: list[Path_] = field(default_factory=list)
    more_paths: int = 0
    total: str = ""                  # the hand-written total derivative (`gradient:`)
    total_value: object = None
    sympy: str = ""                  # SymPy's derivative in the inputs
    sympy_named: str = ""            # the same with the nodes' names put back
    sympy_value: object = None
    methods: dict = field(default_factory=dict)
    path_sum: object = None          # the sum over every path, checked before it is shown


@dataclass
class Derivation:
    case: Case
    at: dict                          # input -> its value at the base point
    forward: list[tuple[str, str, object]]   # node, expression, value
    steps: list[Step]
    gradients: list[Gradient]
    backward: list[tuple[str, str, str]]     # tree prefix, grad_fn name, the declared node


def find(target: str, folder: Path = Path("cases")) -> Path:
    """A case file, or the name of a case under cases/."""
    path = Path(target)
    if path.is_file():
        return path
    for candidate in (folder / f"{target}.yaml", folder / f"{target}.yml"):
        if candidate.is_file():
            return candidate
    for candidate in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else ():
        if candidate.stem == target:
            return candidate
    raise CaseError(f"no case file {target!r}, and no case of that name under {folder}/")


def explain(target: str, out, timeout: float | None = None) -> None:
    """Print the derivation of a case file or named case; a behaviour case, its steps.

    Bound as `check` is: the case's size when it is read, and its time (timeout seconds,
    else $AUTOGRAD_LAB_TIMEOUT or the default; 0: none)."""
    path = find(target)
    case = None
    try:
        with deadline(timeout):
            case = load(path)
            if isinstance(case, Behaviour):  # steps: shown as the notebook's cells
                out.print("\n".join(terminal(line) for line in cells(case)))
                return
            checked = check_case(case)   # the verdict and the wrong step, as check finds them
            if not case.tensor:   # a backward pass in matrices: each entry beside autograd's
                derivation = derive(case)
    except TooSlow as exc:
        raise CaseError(too_slow(exc.args[0], case), str(path)) from None
    except CaseError:
        raise
    except Exception as exc:  # a bug of ours: one line naming the file, not a traceback
        raise CaseError(f"cannot explain: {type(exc).__name__}: {exc}", str(path)) from exc
    if case.tensor:
        tensors(case, checked, out)
    else:
        show(derivation, out, checked)


def derive(case: Case) -> Derivation:
    """Everything explain prints, at the case's base point."""
    base = dataclasses.replace(case, overrides=[], sample=None, claims=[])
    with torch.no_grad():
        values = forward(base, leaves(base))
    symbolic = Symbolic(base)
    readable = Readable()   # formulas simplified within a budget, as for check's messages
    at = {n: _at0(values[n], base, n) for n in base.inputs}
    nodes = [(n, node.text, _at0(values[n], base, n)) for n, node in base.nodes.items()]
    steps = [_step(base, symbolic, values, e, readable) for e in base.edges.values()]
    by_method = gradients(base)
    grads = [_gradient(base, symbolic, values, steps, by_method, p, readable)
             for p in base.params]
    return Derivation(case, at, nodes, steps, grads, backward_graph(base))


# --- the chain rule -----------------------------------------------------------------------

def _step(case: Case, symbolic: Symbolic, values: dict, edge, readable: Readable) -> Step:
    with torch.no_grad():
        hand = evaluate(edge.expr, values)
    hand = np.asarray(hand.numpy() if isinstance(hand, torch.Tensor) else hand, dtype=float)
    exact = symbolic.edge(edge.node, edge.parent)
    rtol, atol = tolerance("float64", case.tolerance)
    ok = gap(hand, exact, rtol, atol).ok
    return Step(edge.key, edge.text, _shown(hand), readable.form(symbolic, edge.node, edge.parent),
                _shown(exact), ok)


def paths(case: Case, param: str) -> list[list[str]]:
    """Every chain of declared edges from the output down to param."""
    out: list[list[str]] = []
    by_node: dict[str, list] = {}
    for edge in case.edges.values():
        by_node.setdefault(edge.node, []).append(edge)

    def walk(name, trail):
        if name == param:
            out.append(trail)
            return
        for edge in by_node.get(name, []):
            walk(edge.parent, trail + [edge.key])
    walk(case.output, [])
    return out


def _gradient(case, symbolic, values, steps, by_method, param, readable) -> Gradient:
    g = Gradient(param)
    local = {s.edge: s for s in steps}
    found = paths(case, param)
    g.more_paths = max(len(found) - MAX_PATHS, 0)
    shares = [along(case, values, trail) for trail in found]
    for trail, share in zip(found[:MAX_PATHS], shares):
        g.paths.append(Path_(trail, [local[k].value for k in trail], _at0(share, case, param),
                             _summed(case, values, trail, [local[k].value for k in trail])))
    if len(found) > 1:
        g.path_sum = _at0(sum(shares), case, param)
        _check_the_sum(case, param, g.path_sum, by_method["manual"][param])
    if param in case.gradient:
        _tree, text = case.gradient[param]
        g.total = text
        g.total_value = _at0(manual_totals(case, values)[param], case, param)
    g.sympy, g.sympy_named = formulas(symbolic, param, readable)
    g.sympy_value = _at0(by_method["sympy"][param], case, param)
    g.methods = {m: _at0(v[param], case, param) for m, v in by_method.items()}
    return g


def _summed(case: Case, values: dict, trail: list[str], locals_: list) -> list[bool]:
    """After each edge of trail, whether the product so far is summed down to the edge's
    parent (as the chain rule composes a path: methods.along)."""
    size = _size(values[case.output])
    out = []
    for key, local in zip(trail, locals_):
        parent = _size(values[case.edges[key].parent])
        out.append(max(size, np.size(local)) > parent)
        size = parent
    return out


def _size(v) -> int:
    """Elements of a value at one point (values hold every point along the first axis)."""
    return int(np.prod(tuple(v.shape)[1:])) if isinstance(v, torch.Tensor) else 1


def _check_the_sum(case: Case, param: str, shown, manual) -> None:
    """A teaching tool never prints a wrong number: the sum over paths is the checking
    path's own gradient, or explain stops, saying so."""
    rtol, atol = tolerance("float64", case.tolerance)
    if not gap(np.asarray(shown, dtype=float), _at0(manual, case, param), rtol, atol).ok:
        raise CaseError(f"explain's sum over the paths to {param} differs from the chain rule "
                        "the check composes; this is a bug of autograd-lab, please report it",
                        case.file)


def formulas(symbolic: Symbolic, param: str,
             readable: Readable | None = None) -> tuple[str, str]:
    """SymPy's derivative of the output by param, simplified (within readable's budget): in
    the inputs, and with each node's name put back where its expression appears."""
    case = symbolic.case
    names = dict(symbolic.symbols)
    builder = Builder(names, symbolic.shapes)
    for name, node in case.nodes.items():
        names[name] = builder(node.expr)
    d = _derivative(symbolic, names[case.output], list(builder.reductions.values()), param)
    small = sp.count_ops(d) <= SIMPLIFY_OPS
    if small:
        plain = d
        d = (readable or Readable()).simplest(lambda simplify: min(
            (plain, sp.simplify(plain), sp.factor(plain)), key=lambda e: len(str(e)))
            if simplify else plain)
    named = d
    for name in reversed(case.nodes):
        if not names[name].is_Symbol:
            # subs finds a node's expression inside others too (x**2 in x**4), at a cost that
            # grows past the expression's size: a formula too long to simplify has each node
            # put back where it stands whole (as Symbolic.form does), in one pass
            own = {names[name]: symbolic.symbols[name]}
            named = named.subs(own) if small else named.xreplace(own)
    return _cut(printed(d)), _cut(printed(named))


def _derivative(symbolic: Symbolic, expr, reductions: list, param: str):
    """d expr / d param, the sums and means entering through their adjoints (as
    Symbolic.derivative does numerically)."""
    x = symbolic.symbols[param]
    vector = bool(symbolic.shapes[param])
    adjoint: dict = {}
    for k in reversed(range(len(reductions))):
        a = sp.diff(expr, reductions[k].symbol)
        for m in range(k + 1, len(reductions)):
            a += adjoint[m] * _reduce(reductions[m], sp.diff(reductions[m].arg,
                                                             reductions[k].symbol))
        adjoint[k] = a
    d = sp.diff(expr, x)
    for k, r in enumerate(reductions):
        inner = sp.diff(r.arg, x)
        if inner == 0:
            continue
        if vector:
            d += adjoint[k] * inner / (r.count if r.kind == "mean" else 1)
        else:
            d += adjoint[k] * _reduce(r, inner)
    return d


def _reduce(r, e):
    if not r.shape or e == 0:
        return e
    return sp.Function(r.kind)(e)


# --- torch's recorded graph ---------------------------------------------------------------

def backward_graph(case: Case) -> list[tuple[str, str, str]]:
    """The grad_fn chain torch recorded from the output, depth first through next_functions,
    each entry beside the declared node (or input) it belongs to."""
    env = leaves(case, DTYPES[case.dtype], grad=True)
    values = forward(case, env)
    made = {v.grad_fn: f"{n} = {case.nodes[n].text}" for n, v in values.items()
            if n in case.nodes and isinstance(v, torch.Tensor) and v.grad_fn is not None}
    params = {id(env[n]): f"{n} (leaf: .grad)" for n in case.params}
    out: list[tuple[str, str, str]] = []
    seen: set = set()

    def walk(fn, lead: str, branch: str):
        declared = made.get(fn) or params.get(id(getattr(fn, "variable", None)), "")
        name = fn.name().rsplit("::", 1)[-1]   # torch::autograd::AccumulateGrad -> AccumulateGrad
        if fn in seen:
            again = (declared + " " if declared else "") + "(shown above)"
            out.append((lead + branch, name, again))
            return
        seen.add(fn)
        out.append((lead + branch, name, declared))
        children = [child for child, _ in fn.next_functions if child is not None]
        inner = lead + ("" if not branch else "   " if branch == "└─ " else "│  ")
        for i, child in enumerate(children):
            walk(child, inner, "└─ " if i == len(children) - 1 else "├─ ")
    if values[case.output].grad_fn is not None:
        walk(values[case.output].grad_fn, "", "")
    return out


# --- a behaviour case -----------------------------------------------------------------------

def cells(case: Behaviour) -> list[str]:
    """The steps as the notebook's cells, each followed by what it showed and the verdict."""
    result = run_behaviour(case)
    lines = [f"{name} = torch.tensor({_source(spec.value)}"
             f"{', requires_grad=True' if spec.grad else ''})  # {case.dtype}"
             for name, spec in case.inputs.items()]
    for step, depth in flat(case.steps):
        lines.append(f"{'    ' * depth}In [{step.label}]: {step.text}")
        head = step_name(step) + ": "
        for claim in (c for c in result.claims if c.claim.startswith(head)):
            mark = "ok" if claim.status == PASSED else \
                f"FAILED (expected {value_text(claim.written)})"
            shown = value_text(claim.value)[:100] if claim.value is not None else "None"
            lines.append(f"{'    ' * depth}    {claim.claim[len(head):]}: {shown}  {mark}")
    return lines + [f"{result.status.upper()}: {p}" for p in result.problems] + \
        [f"{result.status}: {case.name}"]


def _source(value: np.ndarray) -> str:
    """An input as the notebook wrote it (3.0, [1.0, 2.0, 3.0]), long vectors cut."""
    listed = value.tolist()
    return repr(listed) if value.size <= 8 else value_text(listed)


# --- a tensor case ------------------------------------------------------------------------

def tensors(case: Case, result: CaseResult, out) -> None:
    """A tensor case as its checking path found it: the forward pass by shape, each backward
    entry's value beside autograd's (a few elements each, not a wall of numbers) with what a
    tutorial's cmp() prints, and each parameter's gradient by every method."""
    reduced = result.sympy_at if isinstance(result.sympy_at, dict) else {}
    sizes = "its own sizes" if result.sympy_at == "full" else "the reduced dims " + ", ".join(
        f"{k}={v}" for k, v in reduced.items())
    dims = ", ".join(f"{k}={v}" for k, v in case.dims.items())
    title = f": {terminal(case.title)}" if case.title else ""
    out.print(f"[bold]{terminal(case.name)}[/]{title}")
    out.print(f"{terminal(case.file)} · {case.dtype}" + (f" · dims {dims}" if dims else "")
              + f" · SymPy checked every element at {sizes}\n")
    forward = _table("1. Forward pass", "node", "expression", "shape", "value")
    for name, spec in result.graph.get("nodes", {}).items():
        forward.add_row(name, terminal(spec["expr"]), _shape_text(spec["shape"]),
                        fmt(_few(spec["value"]), math.prod(spec["shape"])))
    out.print(forward)
    if result.backward:
        entries = _table("2. The backward pass, each entry against autograd's gradient",
                         "node", "hand-written", "value", "autograd", "exact", "agrees",
                         "max diff", "")
        for b in result.backward:
            verdict = "[green]✓[/]" if b.status == PASSED else "[bold red]✗ wrong[/]" if \
                b.follows_from is None else f"[red]✗ follows from {terminal(b.follows_from)}[/]"
            if b.status != PASSED and b.piece:
                verdict += f" [red]({terminal(piece_line(b.piece))})[/]"
            count = math.prod(b.shape)
            entries.add_row(b.name, terminal(b.hand), fmt(_few(b.value), count),
                            fmt(_few(b.autograd), count),
                            "yes" if b.exact else "no", "yes" if b.agree else "no",
                            "rounding level" if b.max_diff and b.max_diff_at_rounding
                            else f"{b.max_diff:.2g}", verdict)
        out.print(entries)
    table = _table("3. Each parameter's gradient at the base point", "gradient", "method",
                   "value")
    for param, by_method in (result.points[0].gradients if result.points else {}).items():
        for i, (method, value) in enumerate(by_method.items()):
            table.add_row(f"∂{case.output}/∂{param}" if i == 0 else "", method,
                          fmt(_few(value), case.inputs[param].value.size))
    out.print(table)
    conclude(result, out)


def _few(value):
    """A value's first elements, flat, for a table cell."""
    if isinstance(value, (list, tuple)):
        return np.asarray(value, dtype=float).reshape(-1)
    return value


def _shape_text(shape) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


# --- values -------------------------------------------------------------------------------

def _at0(v, case: Case, name: str):
    """The base point's value, in the input's or node's own shape."""
    v = np.asarray(v.detach().numpy() if isinstance(v, torch.Tensor) else v, dtype=float)[0]
    return _shown(v)


def _shown(v):
    v = np.asarray(v, dtype=float)
    if v.ndim and v.shape[0] == 1 and v.size == 1:
        v = v.reshape(())
    if v.size == 1:
        return float(v.reshape(-1)[0])
    return v.reshape(-1)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_FORMULA else text[:MAX_FORMULA] + f" … ({len(text):,} chars)"


# --- printing -----------------------------------------------------------------------------

def show(d: Derivation, out, result: CaseResult | None = None) -> None:
    """Print the derivation on a rich console: each step a table, as the tutorials go; with
    the check's result, each step marked as the check found it (a step right at the base
    point may be wrong as a formula) and the case's verdict and problems at the end."""
    case = d.case
    wrong = {e.edge for e in result.edges if e.status != PASSED} if result else set()
    at = ", ".join(f"{n} = {fmt(v)}" for n, v in d.at.items())
    out.print(f"[bold]{terminal(case.name)}[/]"
              + (f": {terminal(case.title)}" if case.title else ""))
    out.print(f"{terminal(case.file)} · {case.dtype} · at the base point {terminal(at)}\n")

    forward = _table("1. Forward pass", "node", "expression", "value")
    for name, text, value in d.forward:
        forward.add_row(terminal(name), terminal(text), fmt(value))
    out.print(forward)

    if d.steps:
        local = _table("2. Local derivatives (chain_rule), each checked against SymPy",
                       "edge", "hand-written", "SymPy", "")
        for s in d.steps:
            local.add_row(terminal(_partial(s.edge)), f"{terminal(s.hand)}\n= {fmt(s.value)}",
                          f"{terminal(s.sympy)}\n= {fmt(s.sympy_value)}",
                          "[green]✓[/]" if s.ok and s.edge not in wrong else
                          "[bold red]✗ wrong[/]")
        out.print(local)

    out.print("[bold]3. The chain rule: the product along each path[/]")
    for g in d.gradients:
        _paths(g, case, out)

    out.print("\n[bold]4. SymPy's derivative of the output[/]")
    for g in d.gradients:
        lhs = f"∂{case.output}/∂{g.param}"
        out.print(f"  {lhs} = {terminal(g.sympy)}")
        if g.sympy_named != g.sympy:
            out.print(f"  {' ' * len(lhs)} = {terminal(g.sympy_named)}   "
                      "[dim](in the nodes' names)[/]")
        out.print(f"  {' ' * len(lhs)} = {fmt(g.sympy_value)}")

    table = _table("\n5. Each method at the base point", "gradient", "method", "value")
    for g in d.gradients:
        for i, (method, value) in enumerate(g.methods.items()):
            table.add_row(f"∂{case.output}/∂{g.param}" if i == 0 else "", method, fmt(value))
    out.print(table)

    graph = _table(f"6. The backward graph torch recorded ({case.dtype}), beside the declared "
                   "graph", "grad_fn (from the output, through next_functions)", "declared")
    for prefix, name, declared in d.backward:
        graph.add_row(prefix + name, terminal(declared))
    out.print(graph)
    if result is not None:
        conclude(result, out)


def conclude(result: CaseResult, out) -> None:
    """The case's verdict as check gives it: each problem (the wrong step named), each note,
    then passed or failed."""
    for problem in result.problems:
        out.print(f"[bold red]FAILED[/]: {terminal(problem)}")
    for note in result.notes:
        out.print(f"[dim]note: {terminal(note)}[/]")
    out.print(f"{result.status}: {terminal(result.name)}")


def _paths(g: Gradient, case: Case, out) -> None:
    lhs = f"∂{case.output}/∂{g.param}"
    pad = " " * len(lhs)
    for i, p in enumerate(g.paths):
        head = lhs if i == 0 else pad + " +"
        out.print(f"  {head} = " + " · ".join(_partial(e) for e in p.edges))
        out.print(f"  {pad} = {_factors(p)} = {fmt(p.product)}")
    if g.more_paths:
        out.print(f"  {pad}   … and {g.more_paths} more paths")
    if g.path_sum is not None:
        count = len(g.paths) + g.more_paths
        out.print(f"  {pad} = {fmt(g.path_sum)}   (the sum over {count} paths)")
    if g.total:
        out.print(f"  {lhs} = {terminal(g.total)} = {fmt(g.total_value)}   "
                  "[dim](the hand-written total derivative)[/]")
    if not g.paths and not g.total:
        out.print(f"  {lhs}: no declared path reaches {g.param}")


def _factors(p: Path_) -> str:
    """The path's local derivatives multiplied in order, the product so far wrapped in Σ(...)
    where it is summed down to a smaller parent: so the line's arithmetic is its value."""
    text = ""
    for i, value in enumerate(p.values):
        text = fmt(value) if i == 0 else f"{text} × {fmt(value)}"
        if i < len(p.summed) and p.summed[i]:
            text = f"Σ({text})"
    return text


def _table(title: str, *columns: str, wrap=()):
    """Names never wrap; values and formulas fold where the terminal is narrow."""
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for column in columns:
        if column in ("node", "edge", "gradient", "method", ""):
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, overflow="fold")
    return table


def _partial(edge: str) -> str:
    node, parent = edge.split("/", 1)
    return f"∂{node}/∂{parent}"


def fmt(v, elements: int | None = None) -> str:
    """A value for a table cell; elements: how many the whole value has, where v is its
    first few (a report keeps a few of a 2500x2500 tensor's 6,250,000)."""
    if v is None:
        return "—"
    if isinstance(v, np.ndarray):
        count = max(v.size, elements or 0)
        head = ", ".join(f"{x:.6g}" for x in v[:MAX_SHOWN])
        return f"[{head}{', …' if count > MAX_SHOWN else ''}]" + (
            f" ({count:,} elements)" if count > MAX_SHOWN else "")
    return f"{v:.10g}"
