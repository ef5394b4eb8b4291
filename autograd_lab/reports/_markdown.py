"""report.md: a summary table, then per case its graph (Mermaid), gradients, claims and plots."""
from __future__ import annotations

import dataclasses
import math
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .. import text
from ..result import (
    ERROR,
    FAILED,
    PASSED,
    UNCHECKED,
    CaseResult,
    Problem,
    derivatives_line,
    piece_line,
    place_of,
    tally,
)
from . import _plots as plots
from ._atomic import write_atomic
from ._names import anchors
from ._reporter import Reporter

VERDICT = {PASSED: "✅ passed", FAILED: "❌ failed", ERROR: "⛔ error",
           UNCHECKED: "⚠️ unchecked"}
MAX_POINTS = 10        # points shown per case; report.json lists more
MAX_ELEMENTS = 10      # elements of a vector shown per point
MAX_LABEL = 4          # elements of a vector value shown inside a graph node
REFERENCE = "sympy"    # the exact method others are measured against
MAX_SUMMARY_CASES = 50  # failing cases detailed in a GitHub job summary
STEP_SUMMARY_BYTES = 1_048_576   # GitHub's limit for one step's summary: 1 MiB
MAX_SUMMARY_TEXT = 300  # characters of a title or a problem in the job summary


def write(results: list[CaseResult], out: Path, plots_drawn: str = "all") -> Path:
    path = out / "report.md"
    write_atomic(path, render(results, out_dir=out, plots_drawn=plots_drawn))
    return path


def render(results: list[CaseResult], generated: str | None = None,
           out_dir: Path | None = None, plots_drawn: str = "all") -> str:
    """plots_drawn: the run's plot policy (plots.POLICIES), which says why a case has none."""
    parts = [_header(results, generated), _summary_table(results, anchors(results))]
    for result, files, draw in zip(results, plots.files(results),
                                   plots.drawn(results, plots_drawn)):
        parts.append(_case(result, out_dir, files, draw, plots_drawn))
    return "\n\n".join(p for p in parts if p) + "\n"


def summary(results: list[CaseResult], generated: str | None = None,
            room: int = STEP_SUMMARY_BYTES) -> str:
    """The header, the table and what failed, for $GITHUB_STEP_SUMMARY, in at most `room`
    bytes (GitHub takes 1 MiB a step): each title and problem cut to MAX_SUMMARY_TEXT
    characters, and the rows and cases that do not fit left to report.md, saying so."""
    short = [_brief(r) for r in results]
    fit = _Fitting(room)
    fit.add(_header(results, generated))
    rows = _summary_rows(short, anchors(short), link=False)   # a head, a rule, then a row a case
    left_out = len(results) - max(fit.add_lines(rows) - 2, 0)
    failing = [r for r in short if r.status != PASSED]
    told = 0
    for r in failing[:MAX_SUMMARY_CASES]:
        if not fit.add(f"\n\n**{text.markdown(r.name)}** ({text.markdown(_where(r))}):\n\n"
                       + _problems(r)):
            break
        told += 1
    more = len(failing) - told
    said = ([f"{left_out:,} cases are left out of the table"] if left_out else []) + \
        ([f"{more:,} cases that did not pass are not detailed"] if more else [])
    if said:
        fit.close(f"\n\n... {' and '.join(said)} (a job summary holds at most 1 MiB): see "
                  "report.md.")
    return fit.text() + "\n"


class _Fitting:
    """Text built piece by piece within a number of UTF-8 bytes, room kept for a last note."""

    NOTE = 200   # bytes kept for the note that says what was left out

    def __init__(self, room: int):
        self.room, self.used = room - self.NOTE, 0
        self.parts: list[str] = []

    def fits(self, piece: str) -> bool:
        return self.used + len(piece.encode("utf-8", "surrogatepass")) <= self.room

    def add(self, piece: str) -> bool:
        if not self.fits(piece):
            return False
        self.parts.append(piece)
        self.used += len(piece.encode("utf-8", "surrogatepass"))
        return True

    def add_lines(self, lines: list[str]) -> int:
        """As many of lines as fit, as a block after what is there; how many."""
        count = 0
        for line in lines:
            if not self.add(("\n" if count else "\n\n") + line):
                break
            count += 1
        return count

    def close(self, note: str) -> None:
        self.parts.append(note[:self.NOTE])

    def text(self) -> str:
        return "".join(self.parts)


def _brief(r: CaseResult) -> CaseResult:
    """A result with its title and problems cut short, for the job summary."""
    return dataclasses.replace(r, title=_cut(r.title),
                               problems=[Problem(_cut(p), *place_of(p))
                                         for p in r.problems[:MAX_POINTS]])


def _cut(s: str) -> str:
    return s if len(s) <= MAX_SUMMARY_TEXT else s[:MAX_SUMMARY_TEXT] + " …"


def append_step_summary(results: list[CaseResult]) -> bool:
    """Append the summary to $GITHUB_STEP_SUMMARY when GitHub Actions set it, within what
    is left of GitHub's 1 MiB for the step."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    used = os.path.getsize(target) if os.path.isfile(target) else 0
    room = STEP_SUMMARY_BYTES - used - 1
    if room < _Fitting.NOTE * 2:
        return False
    with open(target, "a", encoding="utf-8", errors="surrogateescape") as f:
        f.write(summary(results, room=room) + "\n")
    return True


# --- the top ------------------------------------------------------------------------------

def _header(results: list[CaseResult], generated: str | None) -> str:
    when = generated or datetime.now(timezone.utc).isoformat(timespec="seconds")
    return f"# autograd-lab report\n\n{tally(results)}. Generated {when}."


def _summary_table(results: list[CaseResult], slugs: list[str], link: bool = True) -> str:
    return ("\n".join(_summary_rows(results, slugs, link)) + "\n\nThe worst disagreement is "
            "the largest difference between any two methods' gradients, over every point and "
            "element.")


def _summary_rows(results: list[CaseResult], slugs: list[str], link: bool = True) -> list[str]:
    rows = [["Case", "What", "Verdict", "Worst disagreement", "File"]]
    for r, slug in zip(results, slugs):
        name = f"[{_cell(r.name)}](#{slug})" if link else _cell(r.name)
        worst = "—" if r.status == ERROR or r.kind == "behaviour" else \
            "rounding level" if r.worst and r.worst_at_rounding else _num(r.worst, 2)
        rows.append([name, _cell(r.title), VERDICT.get(r.status, r.status), worst,
                     _code(_where(r))])
    return _table(rows).split("\n")


# --- a case -------------------------------------------------------------------------------

def _case(r: CaseResult, out_dir: Path | None, files: dict, draw: bool = True,
          policy: str = "all") -> str:
    facts = [VERDICT.get(r.status, r.status), text.code_span(_where(r))]
    if r.status != ERROR:
        facts += [r.dtype] + ([_plural(r.points_total, "point")] if r.kind != "behaviour" else [])
    title = text.markdown(r.title)
    parts = [f"## {text.markdown(r.name) or 'case'}",
             (f"*{title}*\n\n" if title else "") + " · ".join(facts)]
    if r.problems:
        parts.append("**Problems**\n\n" + _problems(r))
    if r.derivatives is not None:
        parts.append(_derivatives(r))
    if getattr(r, "notes", None):
        parts.append("**Notes**\n\n" + "\n".join(f"- {text.markdown(n)}" for n in r.notes))
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
    plotted = _plots(r, files, out_dir, draw, policy)
    if plotted:
        parts.append("### Plots\n\n" + plotted)
    return "\n\n".join(p for p in parts if p)


def _derivatives(r: CaseResult) -> str:
    """A tutorial's hand-written derivatives: how many were checked, and each one that was not,
    with its line and why."""
    d = r.derivatives or {}
    lines = [f"**Hand-written derivatives**: {derivatives_line(d)}"]
    if d.get("unchecked"):
        lines += ["", "| Line | Statement | Not checked because |", "|---|---|---|"]
        lines += [f"| {_cell(_line_of(u))} | {_code(u.get('text', ''))} | "
                  f"{_cell(u.get('reason', ''))} |" for u in d["unchecked"]]
    return "\n".join(lines)


def _line_of(u: dict) -> str:
    cell = u.get("cell") or ""
    return (f"{cell}, line {u.get('line')}" if cell else f"line {u.get('line')}")


def _problems(r: CaseResult) -> str:
    return "\n".join(f"- {_at(p, r.file)}{text.markdown(p)}" for p in r.problems)


def _at(problem: str, file: str) -> str:
    """Where a problem is written, as a code span before it (unless its words say so)."""
    line, column = place_of(problem)
    if line is None or problem.startswith(f"{file}:"):
        return ""
    return text.code_span(f"{file}:{line}" + (f":{column}" if column else "")) + " "


def mermaid(r: CaseResult) -> str:
    """The forward graph, inputs to output: values at the base point, edges labelled with the
    hand-written local derivative, a wrong one drawn red with SymPy's form beside it."""
    g = r.graph
    ids = {n: f"n{i}" for i, n in enumerate([*g["inputs"], *g["nodes"]])}
    edges = {e.edge: e for e in r.edges}
    lines = ["```mermaid", "flowchart LR"]
    for name, spec in g["inputs"].items():
        shape = '(["{}"])' if spec["grad"] else '("{}")'
        label = text.mermaid(f"{name} = {_value(spec['value'], spec['shape'])}")
        lines.append(f"    {ids[name]}{shape.format(label)}"
                     + (":::param" if spec["grad"] else ""))
    for name, spec in g["nodes"].items():
        label = (text.mermaid(f"{name} = {spec['expr']}") + "<br/>"
                 + text.mermaid(f"= {_value(spec['value'], spec['shape'])}"))
        lines.append(f"    {ids[name]}[\"{label}\"]"
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
                label = text.mermaid(edge.hand) if edge.status == PASSED else \
                    text.mermaid(f"✗ {edge.hand}") + "<br/>" + text.mermaid(f"SymPy: {edge.sympy}")
                lines.append(f'    {ids[parent]} -->|"{label}"| {ids[name]}')
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
        rows.append([_cell(f"∂{e.edge.replace('/', '/∂')}"), _code(e.hand), _num(e.value),
                     _code(e.sympy), _num(e.sympy_value), VERDICT.get(e.status, e.status)])
    return _table(rows)


def _gradients(r: CaseResult) -> str:
    said = ("### Gradients\n\nEach method's gradient, then each one's difference from "
            "SymPy's exact value (Δ).\n\n" + _methods_table(r, "gradients"))
    said += _kinks(r) + _directions(r)
    if any(getattr(p, "hessian", None) for p in r.points):
        said += "\n\n### Second derivatives\n\n" + _methods_table(r, "hessian")
    said += _rounding(r)
    shown = min(len(r.points), MAX_POINTS)
    if r.points_total > shown:
        said += (f"\n\nThe first {shown} of {r.points_total:,} points are shown"
                 + ("; report.json lists more." if len(r.points) > shown else "."))
    return said


def _methods_table(r: CaseResult, attr: str) -> str:
    """One row a point, parameter and element: each method's value, then each one's
    difference from SymPy (the exact reference)."""
    points = r.points[:MAX_POINTS]
    entries = [getattr(p, attr, None) or {} for p in points]
    methods = _method_keys(entries)
    ref = REFERENCE if REFERENCE in methods else methods[0] if methods else None
    others = [m for m in methods if m != ref]
    rows = [["Point", "Of"] + methods + [f"Δ {m}" for m in others]]   # the methods: ours
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
                rows.append([_cell(_point(r, i)), _code(label) + kink] + [_num(v) for v in values]
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
        f"{k}→{v}" if k.isdigit() else f"{k}={v}" for k, v in reduced.items())
    rows = [["Entry", "Hand-written", "Shape", "Exact", "Agrees", "Max difference", "Verdict"]]
    for b in r.backward:
        verdict = VERDICT.get(b.status, b.status) + (
            f" (follows from `{b.follows_from}`)" if b.follows_from else
            f" ({text.markdown_cell(piece_line(b.piece))})" if b.piece else "")
        rows.append([_code(b.name), _code(b.hand), "×".join(map(str, b.shape)) or "scalar",
                     "yes" if b.exact else "no", "yes" if b.agree else "no",
                     "rounding level" if b.max_diff and b.max_diff_at_rounding
                     else _num(b.max_diff, 2), verdict])
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
    lines = [f"- {text.markdown(_point(r, i))}, {text.code_span(param)}: "
             f"{text.markdown(extra.get('kink', 'not differentiable'))}"
             + _convention(extra)
             for i, param, extra in _details(r) if extra.get("differentiable") is False]
    return "\n\n**Not differentiable**\n\n" + "\n".join(lines) if lines else ""


def _convention(extra: dict) -> str:
    sides, rule = extra.get("one_sided") or {}, extra.get("torch_convention") or {}
    said = ""
    if sides:
        said += f"; one-sided: left {_num(sides.get('left'))}, right {_num(sides.get('right'))}"
    if rule:
        said += f"; torch gives {_num(rule.get('value'))} ({text.markdown(rule.get('rule', ''))})"
    return said


def _directions(r: CaseResult) -> str:
    """A vector parameter's finite difference, taken along one direction."""
    rows = [["Point", "Of", "Along", "Finite difference", "SymPy along it", "Δ"]]
    for i, param, extra in _details(r):
        fd = extra.get("finite_difference")
        if isinstance(fd, dict):
            rows.append([_cell(_point(r, i)), _code(param), _cell(fd.get("along", "")),
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
            rows.append([_cell(_point(r, i)), _code(f"∂{output}/∂{param}"),
                         _num(extra["float32_error"], 3), _num(extra.get("float64_error"), 3),
                         _num(extra.get("float32_ulps"), 3)])
            causes.setdefault(extra.get("float32_cause") or "", None)
    for i, p in enumerate(r.points[:MAX_POINTS]):
        out = getattr(p, "rounding", None) or {}
        if out:
            rows.append([_cell(_point(r, i)), _code(out.get("node", "output")),
                         _num(out.get("float32_error"), 3), _num(out.get("float64_error"), 3),
                         _num(out.get("float32_ulps"), 3)])
            causes.setdefault(out.get("float32_cause") or "", None)
    if len(rows) == 1:
        return ""
    why = "\n\n".join(f"*{text.markdown(c)}*" for c in causes if text.markdown(c))
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
        rows.append([_code(c.claim), _cell(_point(r, c.point)), _code(_short(c.written)),
                     _num(c.value), VERDICT.get(c.status, c.status)])
    return _table(rows)


def _expectations(r: CaseResult) -> str:
    rows = [["Expectation", "Written", "Value", "Verdict"]]
    for c in r.claims:
        value = "None" if c.value is None else _num(c.value)
        rows.append([_code(c.claim), _code(_short(c.written)), value,
                     VERDICT.get(c.status, c.status)])
    return _table(rows)


def _plots(r: CaseResult, files: dict, out_dir: Path | None, draw: bool, policy: str) -> str:
    lines = []
    for plot in plots.plan(r, files, draw, policy):
        if out_dir is not None and (out_dir / plot.path).is_file():
            lines.append(f"![{text.markdown(plot.caption)}]({plot.path})")
        if plot.note:
            lines.append(f"*{text.markdown(plot.note)}*")
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
        return _cell(v)   # a text: what a step raised or warned, in its library's words
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


def _code(value) -> str:
    """Inline code in a table cell (text.code_span)."""
    return text.code_span(str(value), cell=True)


def _cell(value) -> str:
    """Text in a table cell (text.markdown_cell)."""
    return text.markdown_cell(str(value))


def _table(rows: list[list[str]]) -> str:
    cells = rows
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


class MarkdownReport(Reporter):
    """report.md, written once every case is checked (after the plots it links)."""

    def __init__(self, out: Path, plots_drawn: str = "all"):
        super().__init__(out)
        self.plots_drawn = plots_drawn   # the run's plot policy: why a case has none

    def finish(self, results: list[CaseResult]) -> list[Path]:
        return [write(results, self.out, self.plots_drawn)]
