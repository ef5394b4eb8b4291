"""plots/: each parameter's derivative by every method, across a range or element by element."""
from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..result import ERROR, PASSED, CaseResult
from . import write_atomic

FOLDER = "plots"
CURVE_POINTS = 161          # samples of a scalar parameter's range
CURVE_BUDGET = 400_000      # points times elements evaluated for one curve
MIN_CURVE_POINTS = 21       # fewer than this is no curve
MAX_BARS = 50               # elements drawn for a vector parameter
MAX_CASES = 40              # cases a run draws plots for: a thousand cases want no thousand PNGs
REFERENCE = "sympy"
STYLES = [("-", 3.0), ("--", 2.0), (":", 2.5), ("-.", 1.8), ((0, (1, 3)), 2.0),
          ((0, (5, 1)), 1.2)]


@dataclass
class Plot:
    param: str
    kind: str                # "curve" (scalar parameter) or "bars" (vector parameter)
    path: str                # relative to the report folder
    caption: str
    note: str = ""
    samples: int = 0         # points of a curve


def drawn(results: list[CaseResult]) -> list[bool]:
    """Which cases get plots: those that did not pass first, then in order, MAX_CASES in all."""
    order = sorted(range(len(results)), key=lambda i: (results[i].status == PASSED, i))
    chosen = set(order[:MAX_CASES])
    return [i in chosen for i in range(len(results))]


def plan(result: CaseResult, slug: str, draw: bool = True) -> list[Plot]:
    """What would be drawn for a case, and why something is left out: shared with report.md."""
    g = result.graph
    if result.status == ERROR or not g or getattr(result, "kind", "gradient") != "gradient":
        return []
    if not draw:
        return [Plot("", "none", "", "", f"No plots: a run draws them for {MAX_CASES} cases, "
                     "those that did not pass first.")]
    elements = max([math.prod(s["shape"]) for s in g["inputs"].values()] + [1])
    out = []
    for name, spec in g["inputs"].items():
        if not spec["grad"]:
            continue
        path = f"{FOLDER}/{slug}-{name}.png"
        what = f"∂{g['output']}/∂{name}"
        if spec["shape"]:
            size = math.prod(spec["shape"])
            note = (f"{name} has {size:,} elements; the first {MAX_BARS} are drawn."
                    if size > MAX_BARS else "")
            out.append(Plot(name, "bars", path, f"{what} by element, each method", note))
            continue
        samples = min(CURVE_POINTS, CURVE_BUDGET // elements)
        if samples < MIN_CURVE_POINTS:
            out.append(Plot(name, "none", "", "", f"∂{g['output']}/∂{name} is not drawn across "
                            f"a range: each value of {name} evaluates {elements:,} elements."))
            continue
        out.append(Plot(name, "curve", path, f"{what} across {name}, each method", "",
                        samples))
    return out


def write(results: list[CaseResult], out: Path) -> list[Path]:
    """Draw every planned plot; plots of earlier runs that this run did not draw are removed."""
    from .markdown import anchors
    written = []
    for result, slug, draw in zip(results, anchors(results), drawn(results)):
        planned = [p for p in plan(result, slug, draw) if p.kind != "none"]
        curves = _ranges(result, [p for p in planned if p.kind == "curve"])
        for plot in planned:
            figure = _curve(result, plot, curves) if plot.kind == "curve" else _bars(result, plot)
            if figure is not None:
                written.append(_save(figure, out / plot.path))
    folder = out / FOLDER
    for stale in set(folder.glob("*.png")) - set(written) if folder.is_dir() else ():
        stale.unlink()
    return written


# --- a scalar parameter across a range ----------------------------------------------------

def _ranges(result: CaseResult, curves: list[Plot]) -> dict:
    """param -> (its values, method -> gradient there), from the one checking path."""
    if not curves:
        return {}
    from ..case import load
    from ..check import gradients
    try:
        case = load(result.file)
    except Exception:  # the file changed or went away since it was checked: draw no curve
        return {}
    out = {}
    for plot in curves:
        xs = np.linspace(*_span(result, plot.param), plot.samples)
        overrides = [{plot.param: np.array(x)} for x in xs]
        # a fresh Case: `points` is cached per instance
        swept = dataclasses.replace(case, overrides=overrides, sample=None, claims=[])
        try:
            by_method = gradients(swept)
        except Exception:
            continue
        out[plot.param] = (xs, {m: np.asarray(g[plot.param], float).reshape(len(xs) + 1)[1:]
                                for m, g in by_method.items()})
    return out


def _checked(result: CaseResult, param: str) -> list[int]:
    """The listed points that differ from the base point in param alone."""
    base = result.points[0].at if result.points else {}
    return [i for i, p in enumerate(result.points)
            if all(v == base.get(n) for n, v in p.at.items() if n != param)]


def _span(result: CaseResult, param: str) -> tuple[float, float]:
    values = [result.points[i].at[param] for i in _checked(result, param)]
    values = [v for v in values if isinstance(v, (int, float))] or \
        [result.graph["inputs"][param]["value"]]
    lo, hi = min(values), max(values)
    width = max(hi - lo, abs(result.graph["inputs"][param]["value"]), 1.0)
    return lo - width / 2, hi + width / 2


def _curve(result: CaseResult, plot: Plot, curves: dict):
    if plot.param not in curves:
        return None
    xs, by_method = curves[plot.param]
    figure, (top, bottom) = _figure(result, plot)
    ref = by_method.get(REFERENCE)
    for (method, ys), (style, width), color in zip(by_method.items(), _cycle(), _colors()):
        top.plot(xs, ys, linestyle=style, linewidth=width, label=method, color=color)
        if ref is not None and method != REFERENCE:
            bottom.plot(xs, ys - ref, linestyle=style, linewidth=width, color=color)
    for i in _checked(result, plot.param):
        point = result.points[i]
        y = point.gradients.get(plot.param, {}).get(REFERENCE)
        if isinstance(y, (int, float)) and not isinstance(y, bool):
            top.plot([point.at[plot.param]], [y], "o", color="black", markersize=7,
                     zorder=5, label="checked point" if i == _checked(result, plot.param)[0]
                     else None)
    top.set_ylabel(plot.caption.split(" ")[0])
    bottom.set_xlabel(plot.param)
    return _finish(figure, top, bottom)


# --- a vector parameter, element by element -----------------------------------------------

def _bars(result: CaseResult, plot: Plot):
    entry = result.points[0].gradients.get(plot.param, {}) if result.points else {}
    methods = {m: np.asarray(v, dtype=float).reshape(-1)[:MAX_BARS] for m, v in entry.items()
               if isinstance(v, (list, int, float)) and not isinstance(v, bool)}
    if not methods:
        return None
    figure, (top, bottom) = _figure(result, plot)
    width = 0.8 / len(methods)
    ref = methods.get(REFERENCE)
    for k, ((method, ys), color) in enumerate(zip(methods.items(), _colors())):
        xs = np.arange(len(ys)) + (k - (len(methods) - 1) / 2) * width
        top.bar(xs, ys, width=width, label=method, color=color)
        if ref is not None and method != REFERENCE:
            bottom.bar(xs, ys - ref[:len(ys)], width=width, color=color)
    top.set_ylabel(plot.caption.split(" ")[0])
    bottom.set_xlabel(f"element of {plot.param}")
    return _finish(figure, top, bottom, legend="upper left")


# --- drawing ------------------------------------------------------------------------------

def _figure(result: CaseResult, plot: Plot):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend
    figure = Figure(figsize=(7, 5.2), dpi=100)  # a fixed layout: constrained doubles the cost
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1.3],
                                  gridspec_kw={"left": 0.13, "right": 0.97, "top": 0.89,
                                               "bottom": 0.1, "hspace": 0.12})
    figure.suptitle(f"{result.name}: {plot.caption}", fontsize=11)
    bottom.set_ylabel("minus SymPy")
    bottom.axhline(0, color="grey", linewidth=0.8)
    return figure, (top, bottom)


def _finish(figure, top, bottom, legend="best"):
    top.legend(fontsize=8, loc=legend)
    top.grid(alpha=0.3)
    bottom.grid(alpha=0.3)
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    return figure


def _colors():
    """One colour a method, the same in both panels."""
    from matplotlib import colormaps
    yield from colormaps["tab10"].colors * 3


def _cycle():
    while True:
        yield from STYLES


def _save(figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})  # no version: stable bytes
    write_atomic(path, buffer.getvalue())
    return path
