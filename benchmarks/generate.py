"""Random small scalar cases for the benchmark: compositions of the allowed functions, depth 3 to 6.

Each case is written as YAML (half with `chain_rule`, half with `gradient`) and returned with
the same expression in SymPy, so that the bare loop the benchmark compares against works on
exactly the expressions the checker reads. The hand derivatives come from SymPy here: the
generator is our code, not case input.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import sympy as sp
from sympy.printing.str import StrPrinter

from autograd_lab.ops import sigmoid

INPUTS = ("x", "w", "c")          # x and w are parameters, c a constant
PARAMS = ("x", "w")
UNARY = {  # name -> (text around {u}, SymPy function); log and sqrt are kept in their domain
    "sin": ("sin({u})", sp.sin), "cos": ("cos({u})", sp.cos), "tanh": ("tanh({u})", sp.tanh),
    "sigmoid": ("sigmoid({u})", sigmoid), "exp": ("exp({u})", sp.exp),
    "log": ("log(1 + {u}**2)", lambda u: sp.log(1 + u**2)),
    "sqrt": ("sqrt(1 + {u}**2)", lambda u: sp.sqrt(1 + u**2)),
    "square": ("{u}**2", lambda u: u**2),
    "tan": ("tan({u})", sp.tan),
    "relu": ("relu({u})", lambda u: sp.Max(0, u)),
    "abs": ("abs({u})", sp.Abs),
}
BINARY = {
    "+": ("{u} + {v}", lambda u, v: u + v), "-": ("{u} - {v}", lambda u, v: u - v),
    "*": ("{u}*{v}", lambda u, v: u * v),
    "/": ("{u}/(1 + {v}**2)", lambda u, v: u / (1 + v**2)),
}


class CasePrinter(StrPrinter):
    """SymPy's formulas in the case language."""

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        return f"step({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        zero, u = sorted(expr.args, key=lambda a: not a.is_zero)
        if not zero.is_zero:
            raise ValueError(f"no case-language form for {expr}")
        return f"relu({self._print(u)})"

    def _print_Exp1(self, expr):
        return "e"


def case_text(expr: sp.Expr) -> str:
    return CasePrinter().doprint(expr)


@dataclass
class Generated:
    path: Path
    output: sp.Expr              # the output, every node inlined, in the input symbols
    symbols: dict[str, sp.Symbol]
    values: dict[str, float]


def generate(folder: Path, count: int, seed: int = 0) -> list[Generated]:
    """count cases written to folder as case_0000.yaml, ...; the same seed, the same cases."""
    return _drawn(_attempt, folder, count, seed)


def _drawn(attempt, folder: Path, count: int, seed: int) -> list[Generated]:
    """count cases that attempt(rng, folder, index) wrote (it returns None for a case it
    throws away, and the next attempt takes its index)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cases: list[Generated] = []
    while len(cases) < count:
        case = attempt(rng, folder, len(cases))
        if case is not None:
            cases.append(case)
    return cases


def _attempt(rng: random.Random, folder: Path, index: int) -> Generated | None:
    symbols = {n: sp.Symbol(n, real=True) for n in INPUTS}
    values = {n: round(rng.uniform(0.3, 1.2) * rng.choice((-1, 1)), 3) for n in INPUTS}
    texts, local, inlined = {}, {}, dict(symbols)
    names = list(INPUTS)
    for k in range(rng.randint(3, 6)):
        name = f"n{k + 1}"
        text, expr = _node(rng, names[-1] if k else "x", names, symbols, k)
        texts[name], local[name] = text, expr
        inlined[name] = expr.xreplace({s: inlined[n] for n, s in symbols.items() if n in inlined})
        symbols[name] = sp.Symbol(name, real=True)
        names.append(name)
    output = inlined[names[-1]]
    if not _tame(output, local, inlined, symbols, values):
        return None
    path = folder / f"case_{index:04d}.yaml"
    path.write_text(_yaml(index, values, texts, local, output, symbols), encoding="utf-8")
    return Generated(path, output, {n: symbols[n] for n in INPUTS}, values)


def generate_small(folder: Path, count: int, seed: int = 0) -> list[Generated]:
    """count small cases, as issue 17 has them: u = w*x + c, v = f1(u), y = f2(v)*x, each
    with every local derivative hand-written (here, by SymPy) under chain_rule: a case's
    fixed cost against little arithmetic."""
    return _drawn(_small, folder, count, seed)


def _small(rng: random.Random, folder: Path, index: int) -> Generated | None:
    symbols = {n: sp.Symbol(n, real=True) for n in (*INPUTS, "u", "v")}
    x, w, c, u, v = (symbols[n] for n in ("x", "w", "c", "u", "v"))
    values = {n: round(rng.uniform(0.3, 1.2) * rng.choice((-1, 1)), 3) for n in INPUTS}
    (t1, f1), (t2, f2) = (UNARY[rng.choice(sorted(UNARY))] for _ in range(2))
    texts = {"u": "w*x + c", "v": t1.format(u="u"), "y": f"{t2.format(u='v')}*x"}
    local = {"u": w * x + c, "v": f1(u), "y": f2(v) * x}
    inlined = {"u": w * x + c}
    inlined["v"] = f1(inlined["u"])
    inlined["y"] = f2(inlined["v"]) * x
    output = inlined["y"]
    if not _tame(output, local, inlined, symbols, values):
        return None
    lines = [f"name: small_{index:04d}", "inputs:"]
    lines += [f"  {n}: {{value: {values[n]}, grad: true}}" if n in PARAMS
              else f"  {n}: {values[n]}" for n in INPUTS]
    lines += ["forward:"] + [f"  {n}: {t}" for n, t in texts.items()] + ["chain_rule:"]
    for node, expr in local.items():
        for parent in sorted(expr.free_symbols - {c}, key=str):
            lines.append(f"  {node}/{parent.name}: {case_text(sp.diff(expr, parent))}")
    path = folder / f"small_{index:04d}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Generated(path, output, {n: symbols[n] for n in INPUTS}, values)


def _node(rng, last: str, names: list[str], symbols: dict, k: int) -> tuple[str, sp.Expr]:
    """One node: a function of the previous node, or it combined with an earlier name."""
    u = last if k else "w*x + c"
    u_expr = symbols[last] if k else symbols["w"] * symbols["x"] + symbols["c"]
    wrap = k == 0 or rng.random() < 0.6
    if wrap:
        text, f = UNARY[rng.choice(sorted(UNARY))]
        u_text = u if _atomic(u) or "{u}**" not in text else f"({u})"
        return text.format(u=u_text), f(u_expr)
    other = rng.choice([n for n in names if n != last])
    op_text, op = BINARY[rng.choice(sorted(BINARY))]
    return op_text.format(u=u, v=other), op(u_expr, symbols[other])


def _atomic(text: str) -> bool:
    return text.isidentifier()


def _tame(output, local, inlined, symbols, values) -> bool:
    """Finite, moderate values and slopes, and no kink or pole near the point."""
    point = {symbols[n]: sp.Float(v) for n, v in values.items()}
    if not {symbols[p] for p in PARAMS} <= output.free_symbols:
        return False
    try:
        numbers = [output.xreplace(point)] + [sp.diff(output, symbols[p]).xreplace(point)
                                              for p in PARAMS]
        numbers = [float(n) for n in numbers]
        kinks = [a.xreplace(point) for e in inlined.values() if isinstance(e, sp.Basic)
                 for a in _switches(e)]
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return False
    return (all(math.isfinite(n) and abs(n) < 1e4 for n in numbers)
            and all(abs(float(k)) > 1e-2 for k in kinks))


def _switches(expr: sp.Expr):
    """What must stay away from zero: relu's and abs's arguments, tan's cosine."""
    for sub in sp.preorder_traversal(expr):
        if isinstance(sub, (sp.Max, sp.Abs)):
            yield sub.args[-1] if isinstance(sub, sp.Max) else sub.args[0]
        elif isinstance(sub, sp.tan):
            yield sp.cos(sub.args[0])


def _yaml(index, values, texts, local, output, symbols) -> str:
    lines = [f"name: generated_{index:04d}", "inputs:"]
    for n in INPUTS:
        lines.append(f"  {n}: {{value: {values[n]}, grad: true}}" if n in PARAMS
                     else f"  {n}: {values[n]}")
    lines.append("forward:")
    lines += [f"  {n}: {t}" for n, t in texts.items()]
    if index % 2 == 0:
        lines.append("chain_rule:")
        for node, expr in local.items():
            for parent in sorted(expr.free_symbols, key=str):
                if parent.name != "c":
                    lines.append(f"  {node}/{parent.name}: {case_text(sp.diff(expr, parent))}")
    else:
        lines.append("gradient:")
        lines += [f"  {p}: {case_text(sp.diff(output, symbols[p]))}" for p in PARAMS]
    return "\n".join(lines) + "\n"
