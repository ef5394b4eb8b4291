"""plots/: each parameter's derivative by every method, across a range or element by element."""
from __future__ import annotations

import contextlib
import dataclasses
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..result import ERROR, PASSED, CaseResult
from ..text import file_stem, plot_label
from ._atomic import NotWritten, write_atomic
from ._untrusted import Unreadable, read_regular

FOLDER = "plots"
MAX_BARS = 50               # elements drawn for a vector parameter
MAX_PNG = 20_000_000       # bytes of a plot copied from a shard: ours are about 60 KB
MAX_CASES = 40              # cases a run draws plots for: a thousand cases want no thousand PNGs
# which cases a run draws (--plots): "auto" those whose plot says something beyond a PASS
# (CaseResult.telling: did not pass, or on a kink), "all" every case; MAX_CASES at most
POLICIES = ("auto", "all", "none")
REFERENCE = "sympy"
TICKS = 12                  # ticks made ahead on an axis: about AutoLocator's most
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


def drawn(results: list[CaseResult], policy: str = "all") -> list[bool]:
    """Which cases get plots: among those the policy draws (wanted), those that did not pass
    first, then in order, MAX_CASES in all."""
    order = sorted((i for i, r in enumerate(results) if wanted(r, policy)),
                   key=lambda i: (results[i].status == PASSED, i))
    chosen = set(order[:MAX_CASES])
    return [i in chosen for i in range(len(results))]


def wanted(result: CaseResult, policy: str) -> bool:
    """Whether the policy draws this case (MAX_CASES aside)."""
    if policy not in POLICIES:
        raise ValueError(f"plots must be one of {POLICIES}, not {policy!r}")
    return policy == "all" or (policy == "auto" and result.telling)


class Files:
    """Each plot's file, plots/<stem>.png: the stem from the case's name and the parameter's,
    sanitised, length-capped and unique in the run (text.file_stem), so that no two plots
    share a file and each case links its own. Given the results in order, one by one (as
    the drawing processes take them) or all at once, the same names."""

    def __init__(self):
        self.taken: set[str] = set()

    def of(self, result: CaseResult) -> dict[str, str]:
        """param -> its plot's path, relative to the report folder (every plottable one)."""
        return {param: f"{FOLDER}/{file_stem(f'{result.name}-{param}', self.taken)}.png"
                for param in _plottable(result)}


def files(results: list[CaseResult]) -> list[dict[str, str]]:
    """Files().of each result, in order."""
    names = Files()
    return [names.of(r) for r in results]


def _plottable(result: CaseResult) -> list[str]:
    g = result.graph
    if result.status == ERROR or not g or getattr(result, "kind", "gradient") != "gradient":
        return []
    return [name for name, spec in g["inputs"].items() if spec["grad"]]


def plan(result: CaseResult, files: dict[str, str], draw: bool = True,
         policy: str = "all") -> list[Plot]:
    """What would be drawn for a case, and why something is left out: shared with report.md.
    files: each parameter's file (Files.of). A scalar parameter's curve is the sweep its check
    computed (result.sweeps). policy: the run's (POLICIES), said where a case is not drawn."""
    g = result.graph
    if not _plottable(result):
        return []
    if not draw:
        return [Plot("", "none", "", "", _not_drawn(result, policy))]
    out = []
    for name, spec in g["inputs"].items():
        if not spec["grad"]:
            continue
        path = files[name]
        what = f"∂{g['output']}/∂{name}"
        if spec["shape"]:
            size = math.prod(spec["shape"])
            note = (f"{name} has {size:,} elements; the first {MAX_BARS} are drawn."
                    if size > MAX_BARS else "")
            out.append(Plot(name, "bars", path, f"{what} by element, each method", note))
        elif isinstance(result.sweeps.get(name), str):   # the reason it has no curve
            out.append(Plot(name, "none", "", "", result.sweeps[name]))
        elif name in result.sweeps:
            out.append(Plot(name, "curve", path, f"{what} across {name}, each method", "",
                            len(result.sweeps[name].xs)))
    return out


def _not_drawn(result: CaseResult, policy: str) -> str:
    if policy == "none":
        return "No plots: this run draws none (--plots none)."
    if not wanted(result, policy):
        return ("No plots: it passed and sits on no kink (this run draws those that did not "
                "pass or sit on a kink; --plots all draws every case).")
    which = "those that did not pass first" if policy == "all" else \
        "those that did not pass or sit on a kink, those that did not pass first"
    return f"No plots: a run draws them for {MAX_CASES} cases, {which}."


@dataclass
class Sketch:
    """One figure's content, taken from a result in the process that checked it: drawing it
    needs matplotlib alone, so another process can draw it."""
    path: str                # relative to the report folder
    kind: str                # "curve" or "bars"
    title: str
    ylabel: str
    xlabel: str
    lines: dict              # method -> a curve's gradients, or a bar per element
    xs: object = None        # a curve's values of its parameter
    marks: list = dataclasses.field(default_factory=list)   # (x, y, label): checked points


def write(results: list[CaseResult], out: Path, failures: list | None = None,
          policy: str = "all") -> list[Path]:
    """Draw every planned plot; plots of earlier runs that this run did not draw are removed.
    A plot that cannot be written is said in failures (one line), and the rest are drawn."""
    written = []
    for result, paths, draw in zip(results, files(results), drawn(results, policy)):
        for sketch in sketches(result, paths, draw):
            try:
                written.append(save(sketch, out))
            except NotWritten as exc:
                if failures is None:
                    raise
                failures.append(str(exc))
    return remove_stale(out, written)


def sketches(result: CaseResult, files: dict[str, str], draw: bool = True) -> list[Sketch]:
    """The figures of a case's plan that have something to show."""
    planned = [p for p in plan(result, files, draw) if p.kind != "none"]
    out = [_curve(result, plot) if plot.kind == "curve" else _bars(result, plot)
           for plot in planned]
    return [sketch for sketch in out if sketch is not None]


def save(sketch: Sketch, out: Path, figure=None) -> Path:
    """Draw a sketch (on figure, a `blank()`, if given) into its PNG under the report folder."""
    path = out / sketch.path
    write_atomic(path, png(sketch, figure))
    return path


def copy(results: list[CaseResult], sources: list[tuple[Path, dict[str, str]]],
         out: Path, policy: str = "all") -> tuple[list[Path], list[str], list[str]]:
    """The plots one run over results would draw, copied from where they were drawn (a shard's
    folder: sources[i] is the folder result i's plots were drawn into, and its plot files
    there, as that run named them); the paths written, the plots found nowhere, and why each
    refused one was (a shard is untrusted: a link, a FIFO or a huge file is no plot)."""
    written, missing, refused = [], [], []
    for result, paths, draw, (folder, drawn_as) in zip(results, files(results),
                                                       drawn(results, policy), sources):
        planned = [p for p in plan(result, paths, draw) if p.kind != "none"]
        there = [p for p in plan(result, drawn_as, draw) if p.kind != "none"]
        for plot, source in zip(planned, there):
            try:
                data = _shard_plot(folder, source.path)
            except FileNotFoundError:
                missing.append(plot.path)
                continue
            except Unreadable as exc:
                refused.append(str(exc))
                continue
            write_atomic(out / plot.path, data)
            written.append(out / plot.path)
    return remove_stale(out, written), missing, refused


def _shard_plot(folder: Path, path: str) -> bytes:
    """A PNG in a shard's plots/: a regular file, not through a link (its plots/ folder
    itself a folder, not a link out of it), of at most MAX_PNG bytes."""
    plots = folder / FOLDER
    if plots.is_symlink() or not plots.is_dir():
        if plots.is_symlink() or plots.exists():
            raise Unreadable(f"{plots}: a link or a file, not a folder of plots: refused")
        raise FileNotFoundError(plots)
    target = folder / path
    if not target.exists() and not target.is_symlink():
        raise FileNotFoundError(target)
    return read_regular(target, MAX_PNG)


def remove_stale(out: Path, written: list[Path]) -> list[Path]:
    """Remove the PNGs of earlier runs that are not among written; written."""
    folder = out / FOLDER
    for stale in set(folder.glob("*.png")) - set(written) if folder.is_dir() else ():
        with contextlib.suppress(OSError):   # gone already, or not ours to remove
            stale.unlink()
    return written


# --- a scalar parameter across a range ----------------------------------------------------

def _curve(result: CaseResult, plot: Plot) -> Sketch | None:
    sweep = result.sweeps.get(plot.param)
    if sweep is None or not sweep.lines:   # a result read back from report.json has no curve
        return None
    marks = []
    for i in sweep.marked:
        point = result.points[i]
        y = point.gradients.get(plot.param, {}).get(REFERENCE)
        if isinstance(y, (int, float)) and not isinstance(y, bool):
            first = i == sweep.marked[0]
            marks.append((point.at[plot.param], y, "checked point" if first else None))
    return Sketch(plot.path, "curve", plot_label(f"{result.name}: {plot.caption}"),
                  plot_label(plot.caption.split(" ")[0]), plot_label(plot.param), sweep.lines,
                  sweep.xs, marks)


# --- a vector parameter, element by element -----------------------------------------------

def _bars(result: CaseResult, plot: Plot) -> Sketch | None:
    entry = result.points[0].gradients.get(plot.param, {}) if result.points else {}
    methods = {m: np.asarray(v, dtype=float).reshape(-1)[:MAX_BARS] for m, v in entry.items()
               if isinstance(v, (list, int, float)) and not isinstance(v, bool)}
    if not methods:
        return None
    return Sketch(plot.path, "bars", plot_label(f"{result.name}: {plot.caption}"),
                  plot_label(plot.caption.split(" ")[0]), plot_label(f"element of {plot.param}"),
                  methods)


# --- drawing (matplotlib alone: no torch, no SymPy) ----------------------------------------

def png(sketch: Sketch, figure=None) -> bytes:
    """The sketch drawn (on figure, a `blank()`, if given): the methods on top, each minus
    SymPy's below (inf minus inf is nan, a gap in the line, said by the problems in words)."""
    figure, (top, bottom) = figure or blank()
    figure.suptitle(sketch.title, fontsize=11)
    with np.errstate(invalid="ignore", over="ignore"):
        if sketch.kind == "curve":
            _draw_curves(sketch, top, bottom)
        else:
            _draw_bars(sketch, top, bottom)
    top.set_ylabel(sketch.ylabel)
    bottom.set_xlabel(sketch.xlabel)
    _finish(figure, top, bottom, legend="best" if sketch.kind == "curve" else "upper left")
    buffer = io.BytesIO()
    # no version: stable bytes; zlib's level 1 halves the encoding for 3% more bytes
    figure.savefig(buffer, format="png", metadata={"Software": None},
                   pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def load() -> None:
    """Import what drawing needs (matplotlib's Figure), once a process has something to draw."""
    from matplotlib.figure import Figure  # noqa: F401


def blank():
    """An empty figure and its two panels, with ticks made ahead (making a tick costs about
    a millisecond and a figure draws some forty)."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend
    figure = Figure(figsize=(7, 5.2), dpi=100)  # a fixed layout: constrained doubles the cost
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1.3],
                                  gridspec_kw={"left": 0.13, "right": 0.97, "top": 0.89,
                                               "bottom": 0.1, "hspace": 0.12})
    bottom.set_ylabel("minus SymPy")
    bottom.axhline(0, color="grey", linewidth=0.8)
    for axis in (top.xaxis, top.yaxis, bottom.xaxis, bottom.yaxis):
        axis.get_major_ticks(TICKS)
    return figure, (top, bottom)


def _draw_curves(sketch: Sketch, top, bottom) -> None:
    ref = sketch.lines.get(REFERENCE)
    for (method, ys), (style, width), color in zip(sketch.lines.items(), _cycle(), _colors()):
        top.plot(sketch.xs, ys, linestyle=style, linewidth=width, label=method, color=color)
        if ref is not None and method != REFERENCE:
            bottom.plot(sketch.xs, ys - ref, linestyle=style, linewidth=width, color=color)
    for x, y, label in sketch.marks:
        top.plot([x], [y], "o", color="black", markersize=7, zorder=5, label=label)


def _draw_bars(sketch: Sketch, top, bottom) -> None:
    width = 0.8 / len(sketch.lines)
    ref = sketch.lines.get(REFERENCE)
    for k, ((method, ys), color) in enumerate(zip(sketch.lines.items(), _colors())):
        xs = np.arange(len(ys)) + (k - (len(sketch.lines) - 1) / 2) * width
        top.bar(xs, ys, width=width, label=method, color=color)
        if ref is not None and method != REFERENCE:
            bottom.bar(xs, ys - ref[:len(ys)], width=width, color=color)


def _finish(figure, top, bottom, legend="best"):
    top.legend(fontsize=8, loc=legend)
    top.grid(alpha=0.3)
    bottom.grid(alpha=0.3)
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    return figure


def _colors():
    """One colour a method, the same in both panels."""
    from matplotlib import colormaps
    yield from colormaps["tab10"].colors * 3  # type: ignore[attr-defined]  # a ListedColormap


def _cycle():
    while True:
        yield from STYLES
