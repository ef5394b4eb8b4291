"""report.md: a summary table, then per case its graph (Mermaid), gradients, claims and plots."""
from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..result import ERROR, FAILED, PASSED, CaseResult
from . import _plots as plots
from ._atomic import write_atomic
from ._names import anchors
from ._reporter import Reporter

VERDICT = {PASSED: "✅ passed", FAILED: "❌ failed", ERROR: "⛔ error"}
MAX_POINTS = 10        # points shown per case; report.json lists more
MAX_ELEMENTS = 10      # elements of a vector shown per point
MAX_LABEL = 4          # elements of a vector value shown inside a graph node
REFERENCE = "sympy"    # the exact method others are measured against
MAX_SUMMARY_CASES = 50  # failing cases detailed in a GitHub job summary (GitHub caps it at 1 MiB)


def write(results: list[CaseResult], out: Path) -> Path:
    path = out / "report.md"
    write_atomic(path, render(results, out_dir=out))
    return path


def render(results: list[CaseResult], generated: str | None = None,
           out_dir: Path | None = None) -> str:
    slugs = anchors(results)
    parts = [_header(results, generated), _summary_table(results, slugs)]
    for result, slug, draw in zip(results, slugs, plots.drawn(results)):
        parts.append(_case(result, slug, out_dir, draw))
    return "\n\n".join(p for p in parts if p) + "\n"


def summary(results: list[CaseResult], generated: str | None = None) -> str:
    """The header, the table and what failed: for $GITHUB_STEP_SUMMARY."""
    lines = [_header(results, generated), _summary_table(results, anchors(results), link=False)]
    failing = [r for r in results if r.status != PASSED]
    for r in failing[:MAX_SUMMARY_CASES]:
        lines.append(f"**{_escape(r.name)}** ({_where(r)}):\n\n" + _problems(r))
    if len(failing) > MAX_SUMMARY_CASES:
        lines.append(f"... and {len(failing) - MAX_SUMMARY_CASES} more cases that did not pass: "
                     "see report.md.")
    return "\n\n".join(lines) + "\n"


def append_step_summary(results: list[CaseResult]) -> bool:
    """Append the summary to $GITHUB_STEP_SUMMARY when GitHub Actions set it."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with open(target, "a", encoding="utf-8") as f:
        f.write(summary(results) + "\n")
    return True


# --- the top ------------------------------------------------------------------------------

def _header(results: list[CaseResult], generated: str | None) -> str:
    when = generated or datetime.now(timezone.utc).isoformat(timespec="seconds")
    counts = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, ERROR)}
    return (f"# autograd-lab report\n\n{len(results)} cases: {counts[PASSED]} passed, "
            f"{counts[FAILED]} failed, {counts[ERROR]} errors. Generated {when}.")


def _summary_table(results: list[CaseResult], slugs: list[str], link: bool = True) -> str:
    rows = [["Case", "What", "Verdict", "Worst disagreement", "File"]]
    for r, slug in zip(results, slugs):
        name = f"[{_escape(r.name)}](#{slug})" if link else _escape(r.name)
        worst = "—" if r.status == ERROR or r.kind == "behaviour" else _num(r.worst, 2)
        rows.append([name, _escape(r.title), VERDICT.get(r.status, r.status), worst,
                     _code(_where(r))])
    return (_table(rows) + "\n\nThe worst disagreement is the largest difference between "
            "any two methods' gradients, over every point and element.")


# --- a case -------------------------------------------------------------------------------

def _case(r: CaseResult, slug: str, out_dir: Path | None, draw: bool = True) -> str:
    facts = [VERDICT.get(r.status, r.status), _code(_where(r))]
    if r.status != ERROR:
        facts += [r.dtype] + ([_plural(r.points_total, "point")] if r.kind != "behaviour" else [])
    parts = [f"## {_escape(r.name)}", (f"*{_escape(r.title)}*\n\n" if r.title else "")
             + " · ".join(facts)]
    if r.problems:
        parts.append("**Problems**\n\n" + _problems(r))
    if getattr(r, "notes", None):
        parts.append("**Notes**\n\n" + "\n".join(f"- {_escape(n)}" for n in r.notes))
    if r.graph:
        parts.append("### Graph\n\n" + mermaid(r) + "\n\n" + _edges_table(r))
    if r.backward:
        parts.append("### Backward pass\n\n" + _backward_table(r))
    if r.points:
        parts.append(_gradients(r))
    if r.claims and r.kind == "behaviour":
        parts.append("### Expectations, step by step\n\n" + _expectations(r))
    elif r.claims:
        parts.append("### Claims\n\n" + _claims(r))
    plotted = _plots(r, slug, out_dir, draw)
    if plotted:
        parts.append("### Plots\n\n" + plotted)
    return "\n\n".join(p for p in parts if p)


def _problems(r: CaseResult) -> str:
    return "\n".join(f"- {_escape(p)}" for p in r.problems)


def mermaid(r: CaseResult) -> str:
    """The forward graph, inputs to output: values at the base point, edges labelled with the
    hand-written local derivative, a wrong one drawn red with SymPy's form beside it."""
    g = r.graph
    ids = {n: f"n{i}" for i, n in enumerate([*g["inputs"], *g["nodes"]])}
    edges = {e.edge: e for e in r.edges}
    lines = ["```mermaid", "flowchart LR"]
    for name, spec in g["inputs"].items():
        shape = '(["{}"])' if spec["grad"] else '("{}")'
        label = f"{name} = {_value(spec['value'], spec['shape'])}"
        lines.append(f"    {ids[name]}{shape.format(_label(label))}"
                     + (":::param" if spec["grad"] else ""))
    for name, spec in g["nodes"].items():
        label = f"{name} = {spec['expr']}<br/>= {_value(spec['value'], spec['shape'])}"
        lines.append(f"    {ids[name]}[\"{_label(label)}\"]"
                     + (":::output" if name == g["output"] else ""))
    wrong = []
    links = 0
    for name, spec in g["nodes"].items():
        for parent in spec.get("uses", []):
            edge = edges.get(f"{name}/{parent}")
            if edge is None:
                arrow = "-.->" if r.edges else "-->"
                lines.append(f"    {ids[parent]} {arrow} {ids[name]}")
            else:
                text = edge.hand if edge.status == PASSED else \
                    f"✗ {edge.hand}<br/>SymPy: {edge.sympy}"
                lines.append(f'    {ids[parent]} -->|"{_label(text)}"| {ids[name]}')
                if edge.status != PASSED:
                    wrong.append(links)
            links += 1
    lines += ["    classDef param fill:#e3f2fd,stroke:#1565c0",
              "    classDef output fill:#fff3e0,stroke:#e65100,stroke-width:2px"]
    if wrong:
        lines.append(f"    linkStyle {','.join(map(str, wrong))} stroke:#d32f2f,stroke-width:3px")
    return "\n".join(lines + ["```"])


def _edges_table(r: CaseResult) -> str:
    if not r.edges:
        return ""
    rows = [["Edge", "Hand-written", "Value", "SymPy", "SymPy's value", "Verdict"]]
    for e in r.edges:
        rows.append([f"∂{e.edge.replace('/', '/∂')}", _code(e.hand), _num(e.value),
                     _code(e.sympy), _num(e.sympy_value), VERDICT.get(e.status, e.status)])
    return _table(rows)


def _gradients(r: CaseResult) -> str:
    text = ("### Gradients\n\nEach method's gradient, then each one's difference from "
            "SymPy's exact value (Δ).\n\n" + _methods_table(r, "gradients"))
    text += _kinks(r) + _directions(r)
    if any(getattr(p, "hessian", None) for p in r.points):
        text += "\n\n### Second derivatives\n\n" + _methods_table(r, "hessian")
    text += _rounding(r)
    shown = min(len(r.points), MAX_POINTS)
    if r.points_total > shown:
        text += (f"\n\nThe first {shown} of {r.points_total:,} points are shown"
                 + ("; report.json lists more." if len(r.points) > shown else "."))
    return text


def _methods_table(r: CaseResult, attr: str) -> str:
    """One row a point, parameter and element: each method's value, then each one's
    difference from SymPy (the exact reference)."""
    points = r.points[:MAX_POINTS]
    entries = [getattr(p, attr, None) or {} for p in points]
    methods = _method_keys(entries)
    ref = REFERENCE if REFERENCE in methods else methods[0] if methods else None
    others = [m for m in methods if m != ref]
    rows = [["Point", "Of"] + methods + [f"Δ {m}" for m in others]]
    truncated = False
    for i, entry in enumerate(entries):
        details = getattr(points[i], "details", None) or {} if attr == "gradients" else {}
        for param, by_method in entry.items():
            kink = " ⚠ not differentiable" \
                if (details.get(param) or {}).get("differentiable") is False else ""
            flat = {m: _flat(by_method.get(m)) for m in methods}
            count = max((len(v) for v in flat.values() if v), default=1)
            truncated |= count > MAX_ELEMENTS
            for k in range(min(count, MAX_ELEMENTS)):
                label = _element(r, param, k) if count > 1 else param
                values = [_pick(flat[m], k) for m in methods]
                base = _pick(flat.get(ref or "", []), k)
                rows.append([_point(r, i), _code(label) + kink] + [_num(v) for v in values]
                            + [_diff(_pick(flat[m], k), base) for m in others])
    note = (f"\n\nVectors show their first {MAX_ELEMENTS} elements; report.json lists more."
            if truncated else "")
    return _table(rows) + note


def _element(r: CaseResult, name: str, k: int) -> str:
    """The k-th element of a value, by its index in the value's own shape: W1[0, 3]."""
    spec = (r.graph or {}).get("inputs", {}).get(name, {})
    shape = spec.get("shape") or []
    if len(shape) < 2 or k >= math.prod(shape):
        return f"{name}[{k}]"
    return f"{name}[{', '.join(map(str, np.unravel_index(k, shape)))}]"


def _backward_table(r: CaseResult) -> str:
    """Each hand-written backward entry as a tutorial's cmp() prints it, with its verdict:
    against SymPy's gradient where SymPy ran at the case's sizes, else autograd's."""
    reduced = r.sympy_at if isinstance(r.sympy_at, dict) else {}
    sizes = "the case's own sizes" if r.sympy_at == "full" else "reduced dims " + ", ".join(
        f"{k}={v}" for k, v in reduced.items())
    rows = [["Entry", "Hand-written", "Shape", "Exact", "Agrees", "Max difference", "Verdict"]]
    for b in r.backward:
        verdict = VERDICT.get(b.status, b.status) + (
            f" (follows from `{b.follows_from}`)" if b.follows_from else "")
        rows.append([_code(b.name), _code(b.hand), "×".join(map(str, b.shape)) or "scalar",
                     "yes" if b.exact else "no", "yes" if b.agree else "no",
                     _num(b.max_diff, 2), verdict])
    return (f"SymPy checked every element at {sizes}. Exact: equal to autograd's gradient bit "
            f"for bit in {r.dtype}; agrees: within {r.dtype}'s tolerance of it.\n\n"
            + _table(rows))


def _details(r: CaseResult):
    """(point, parameter, what else is known there) for the listed points."""
    for i, p in enumerate(r.points[:MAX_POINTS]):
        for param, extra in (getattr(p, "details", None) or {}).items():
            yield i, param, extra


def _kinks(r: CaseResult) -> str:
    """Where a parameter sits on a switch point: no derivative, whatever the methods say."""
    lines = [f"- {_point(r, i)}, `{param}`: {_escape(extra.get('kink', 'not differentiable'))}"
             + _convention(extra)
             for i, param, extra in _details(r) if extra.get("differentiable") is False]
    return "\n\n**Not differentiable**\n\n" + "\n".join(lines) if lines else ""


def _convention(extra: dict) -> str:
    sides, rule = extra.get("one_sided") or {}, extra.get("torch_convention") or {}
    text = ""
    if sides:
        text += f"; one-sided: left {_num(sides.get('left'))}, right {_num(sides.get('right'))}"
    if rule:
        text += f"; torch gives {_num(rule.get('value'))} ({_escape(rule.get('rule', ''))})"
    return text


def _directions(r: CaseResult) -> str:
    """A vector parameter's finite difference, taken along one direction."""
    rows = [["Point", "Of", "Along", "Finite difference", "SymPy along it", "Δ"]]
    for i, param, extra in _details(r):
        fd = extra.get("finite_difference")
        if isinstance(fd, dict):
            rows.append([_point(r, i), _code(param), _escape(fd.get("along", "")),
                         _num(fd.get("value")), _num(fd.get("sympy")),
                         _diff(fd.get("value"), fd.get("sympy"))])
    return "\n\n**Finite differences of vector parameters**\n\n" + _table(rows) \
        if len(rows) > 1 else ""


def _rounding(r: CaseResult) -> str:
    """A float32 case: each gradient's and the output's error against SymPy's exact value,
    beside float64's, and where a large one comes from."""
    rows = [["Point", "Of", "float32 error", "float64 error", "float32 ulps"]]
    causes: dict[str, None] = {}
    for i, param, extra in _details(r):
        if "float32_error" in extra:
            output = r.graph.get("output", "output") if r.graph else "output"
            rows.append([_point(r, i), _code(f"∂{output}/∂{param}"),
                         _num(extra["float32_error"], 3), _num(extra.get("float64_error"), 3),
                         _num(extra.get("float32_ulps"), 3)])
            causes.setdefault(extra.get("float32_cause") or "", None)
    for i, p in enumerate(r.points[:MAX_POINTS]):
        out = getattr(p, "rounding", None) or {}
        if out:
            rows.append([_point(r, i), _code(out.get("node", "output")),
                         _num(out.get("float32_error"), 3), _num(out.get("float64_error"), 3),
                         _num(out.get("float32_ulps"), 3)])
            causes.setdefault(out.get("float32_cause") or "", None)
    if len(rows) == 1:
        return ""
    why = "\n\n".join(f"*{_escape(c)}*" for c in causes if c)
    return ("\n\n### float32 rounding\n\nEach error is against SymPy's exact value.\n\n"
            + _table(rows) + (f"\n\n{why}" if why else ""))


def _method_keys(entries: list[dict]) -> list[str]:
    """Every key that holds a number or a list of them, in order of first appearance
    (flags such as `differentiable` are not methods)."""
    keys: dict[str, None] = {}
    for entry in entries:
        for by_method in entry.values():
            for m, v in (by_method.items() if isinstance(by_method, dict) else ()):
                if isinstance(v, (int, float, list)) and not isinstance(v, bool):
                    keys[m] = None
    return list(keys)


def _claims(r: CaseResult) -> str:
    rows = [["Claim", "Point", "Written", "Value", "Verdict"]]
    for c in r.claims:
        rows.append([_code(c.claim), _point(r, c.point), _code(_short(c.written)),
                     _num(c.value), VERDICT.get(c.status, c.status)])
    return _table(rows)


def _expectations(r: CaseResult) -> str:
    rows = [["Expectation", "Written", "Value", "Verdict"]]
    for c in r.claims:
        value = "None" if c.value is None else _num(c.value)
        rows.append([_code(c.claim), _code(_short(c.written)), value,
                     VERDICT.get(c.status, c.status)])
    return _table(rows)


def _plots(r: CaseResult, slug: str, out_dir: Path | None, draw: bool) -> str:
    lines = []
    for plot in plots.plan(r, slug, draw):
        if out_dir is not None and (out_dir / plot.path).is_file():
            lines.append(f"![{plot.caption}]({plot.path})")
        if plot.note:
            lines.append(f"*{plot.note}*")
    return "\n\n".join(lines)


# --- text ---------------------------------------------------------------------------------

def _where(r: CaseResult) -> str:
    return r.file + (f":{r.line}" if r.line else "")


def _point(r: CaseResult, i: int) -> str:
    """'base', or the point's number and what it changes from the base point."""
    if i == 0:
        return "base"
    if i >= len(r.points):
        return str(i)
    base, at = r.points[0].at, r.points[i].at
    changed = [f"{n}={_num(v, 6)}" for n, v in at.items()
               if not isinstance(v, list) and v != base.get(n)]
    return f"{i}" + (f" ({', '.join(changed)})" if changed else "")


def _value(v, shape) -> str:
    """A value for a graph node: a number, or a short vector with its size."""
    if not isinstance(v, list):
        return _num(v, 6)
    flat = _flat(v)
    size = math.prod(shape) if shape else len(flat)
    head = ", ".join(_num(x, 6) for x in flat[:MAX_LABEL])
    return f"[{head}{', …' if size > MAX_LABEL else ''}]" + (
        f" ({'×'.join(f'{d:,}' for d in shape)})" if size > MAX_LABEL else "")


def _flat(v) -> list:
    """A value's elements in order; none for a method that has no value."""
    if v is None:
        return []
    return list(np.asarray(v, dtype=object).reshape(-1).tolist()) if isinstance(v, list) \
        else [v]


def _pick(flat: list, k: int):
    return flat[k] if len(flat) > k else flat[0] if len(flat) == 1 else None


def _num(v, digits: int = 10) -> str:
    if isinstance(v, list):
        flat = _flat(v)
        head = ", ".join(_num(x, min(digits, 6)) for x in flat[:MAX_LABEL])
        return f"[{head}{', …' if len(flat) > MAX_LABEL else ''}]"
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return f"{v:.{digits}g}"


def _diff(a, b) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return "—"
    d = float(a) - float(b)
    return "0" if d == 0 else f"{d:+.3g}" if math.isfinite(d) else str(d)


def _short(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v[:MAX_LABEL])) + (", …]" if len(v) > MAX_LABEL else "]")
    return str(v)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return text.replace('"', "#quot;")


def _code(text) -> str:
    return "`" + str(text).replace("|", "\\|").replace("`", "'") + "`"


def _escape(text: str) -> str:
    """Text safe in a Markdown table cell or line: pipes and angle brackets escaped."""
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _table(rows: list[list[str]]) -> str:
    cells = rows
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


class MarkdownReport(Reporter):
    """report.md, written once every case is checked (after the plots it links)."""

    def finish(self, results: list[CaseResult]) -> list[Path]:
        return [write(results, self.out)]
