"""A tutorial read where it lives: a notebook, a script or a page, as one list of cells.

An .ipynb and its `In [n]:` text export are _notebook's. The text formats are jupytext's (it
parses them and never runs a line): `.py` scripts with `# %%` cells or sphinx-gallery's
`####` blocks, Markdown and MyST pages with fenced Python, Quarto's `.qmd`. A plain script,
with neither kind of marker, is one cell. What jupytext leaves as text is handled here:
d2l's ```` ```{.python .input} ```` fences and its `%%tab pytorch` cells (another framework's
cell is not Python torch runs), Quarto's ```` ```{python} ````.

A cell of a script or a page keeps the file's line numbers (it is padded with blank lines),
so `cell 3, line 42` is the file's line 42. A script's printed numbers are those it shows in
comments after the code, as sphinx-gallery's `# Out:` blocks do; without them it claims none."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import jupytext

from ._notebook import (
    MAX_CELLS,
    Cell,
    Note,
    Notebook,
    NotebookError,
    Output,
    bound,
    looks_like_notebook,
    text_of,
)
from ._notebook import read as read_notebook

MAX_TEXT_BYTES = 4_000_000     # a script or a page (jupytext's reading grows faster than its size)
SCRIPTS = (".py",)
PAGES = (".md", ".markdown", ".myst", ".qmd")
TUTORIALS = (".ipynb", *SCRIPTS, *PAGES)
PERCENT = re.compile(r"^# %%")                 # a percent cell (VS Code, Spyder, sphinx-gallery)
SPHINX = re.compile(r"^#{20,}\s*$")            # sphinx-gallery's text block marker
D2L = re.compile(r"^(\s*)(`{3,}|~{3,})\s*\{\s*\.python\b[^}]*\}\s*$")   # ```{.python .input n=3}
QUARTO = re.compile(r"^(\s*)(`{3,}|~{3,})\s*\{\s*python\b[^}]*\}\s*$")  # ```{python} in .qmd
TAB = re.compile(r"^\s*%%tab\s+(\S+)")         # d2l: the frameworks a cell is written for
TORCH_TABS = ("pytorch", "all")
OUT = re.compile(r"^\s*#\s*Out(?:put)?\s*(?:\[\s*\d*\s*\])?\s*:\s?(.*)$")
COMMENT = re.compile(r"^\s*#(?: ?)(.*)$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def read(path: str | Path) -> Notebook:
    """The tutorial's code cells in order, with what it shows it printed; NotebookError when
    the file cannot be read as a tutorial at all."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SCRIPTS + PAGES:
        return read_notebook(path)
    what = "script" if suffix in SCRIPTS else "page"
    if path.is_file() and path.stat().st_size > MAX_TEXT_BYTES:
        raise NotebookError(f"{path}: the {what} is larger than {MAX_TEXT_BYTES:,} bytes")
    text = text_of(path, what)
    if "\x00" in text:
        raise NotebookError(f"{path}: the {what} is not text (it holds NUL bytes)")
    text, cut = _at_most(text, suffix)
    placed = _script(text, str(path)) if suffix in SCRIPTS else _page(text, str(path), suffix)
    notebook = Notebook(str(path), [], [cut] if cut else [])
    pieces = [piece for at, code in placed for piece in _split_outputs(at, code)]
    if len(pieces) > MAX_CELLS:   # left out before each is padded to its line
        notebook.notes.append(Note(f"line {pieces[MAX_CELLS][0] + 1}", None, f"left out: "
                                   f"{len(pieces) - MAX_CELLS:,} code cells from here on (at "
                                   f"most {MAX_CELLS:,} are read)"))
        del pieces[MAX_CELLS:]
    for n, (at, code, outputs) in enumerate(pieces, 1):   # padded: the file's line numbers
        notebook.cells.append(Cell(f"cell {n}", "\n" * at + code, outputs, n))
    bound(notebook)
    return notebook


def _at_most(text: str, suffix: str) -> tuple[str, Note | None]:
    """The text up to its MAX_CELLS-th cell (a fence opens and closes one; a `# %%` or a
    `####` line starts one), and a note saying where the rest was left out."""
    lines = text.split("\n")
    marker = FENCE if suffix not in SCRIPTS else re.compile(f"{PERCENT.pattern}|{SPHINX.pattern}")
    limit = 2 * MAX_CELLS if suffix not in SCRIPTS else MAX_CELLS
    seen = 0
    for number, line in enumerate(lines, 1):
        if marker.match(line):
            seen += 1
            if seen > limit:
                return "\n".join(lines[:number - 1]), Note(
                    f"line {number}", None, f"left out: the rest of the file (at most "
                    f"{MAX_CELLS:,} cells are read)")
    return text, None


def is_tutorial(path: str | Path) -> bool:
    """A file `check` and `draft` read as a tutorial, not as a case: by its suffix (a `.txt`
    is a notebook's text export), or a file holding `In [n]:` markers; .yaml and .yml are
    cases."""
    path = Path(path)
    return path.suffix.lower() in (*TUTORIALS, ".txt") or looks_like_notebook(path)


def text_source(path: str | Path) -> bool:
    """A script or a page: its cells' lines are the file's lines."""
    return Path(path).suffix.lower() in SCRIPTS + PAGES


# --- scripts --------------------------------------------------------------------------------

def _script(text: str, path: str) -> list[tuple[int, str]]:
    lines = text.splitlines()
    if any(map(PERCENT.match, lines)):
        fmt = "py:percent"
    elif any(map(SPHINX.match, lines)):
        fmt = "py:sphinx"
    else:   # a plain script: one cell, as it runs
        return [(0, text)]
    return _placed(_jupytext(text, fmt, path), lines)


# --- pages ----------------------------------------------------------------------------------

def _page(text: str, path: str, suffix: str) -> list[tuple[int, str]]:
    """Markdown, MyST or Quarto: d2l's and Quarto's fences made ```python (the same line
    count), MyST's {code-cell} read as MyST; then d2l's other frameworks' cells dropped."""
    lines = _without_front_matter([_fence(line) for line in text.splitlines()])
    fmt = "md:myst" if re.search(r"^\s*(`{3,}|~{3,})\s*\{code-cell\}", text, re.M) else "md"
    cells = _placed(_jupytext("\n".join(lines) + "\n", fmt, path), lines)
    return [(at, code) for at, code in ((at, _tab(code)) for at, code in cells)
            if code is not None]


def _without_front_matter(lines: list[str]) -> list[str]:
    """The page's YAML front matter blanked: its metadata (a kernelspec, jupytext's own
    settings) is the page's business, and one that nbformat refuses must not stop the read."""
    if not lines or lines[0].strip() != "---":
        return lines
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    return lines if end is None else [""] * (end + 1) + lines[end + 1:]


def _fence(line: str) -> str:
    found = D2L.match(line) or QUARTO.match(line)
    return f"{found[1]}{found[2]}python" if found else line


def _tab(code: str) -> str | None:
    """d2l's `%%tab pytorch` (or `all`) cell with its first line blanked; None for a cell
    written for another framework (mxnet, tensorflow, jax)."""
    lines = code.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    found = TAB.match(lines[first])
    if found is None:
        return code
    if found[1].lower() not in TORCH_TABS:
        return None
    lines[first] = ""
    return "\n".join(lines)


# --- jupytext, and where its cells stand in the file ----------------------------------------

def _jupytext(text: str, fmt: str, path: str) -> list[str]:
    """The code cells' sources, as jupytext reads them (it parses; nothing runs)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = jupytext.reads(text, fmt=fmt)
    except Exception as exc:  # jupytext's ways of refusing a text: said in our words
        raise NotebookError(f"{path}: jupytext cannot read it as {fmt} "
                            f"({type(exc).__name__})") from None
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    # sphinx-gallery's reader adds a `%matplotlib inline` cell of its own
    if fmt == "py:sphinx" and sources and sources[0].strip() == "%matplotlib inline":
        sources = sources[1:]
    return sources


def _placed(sources: list[str], lines: list[str]) -> list[tuple[int, str]]:
    """Each source with the (0-based) line it starts on in the file, found by its first line
    after the previous cell's last (a source not found keeps its own numbering): a cell
    repeating a loop of the one before (`for k in range(n):`) is not placed inside it."""
    cells: list[tuple[int, str]] = []
    cursor = 0
    stripped = [line.strip() for line in lines]
    for source in sources:
        own = source.split("\n")
        first = next((i for i, line in enumerate(own) if line.strip()), None)
        if first is None:
            continue
        try:
            at = stripped.index(own[first].strip(), cursor)
        except ValueError:
            cells.append((0, source))
            continue
        cursor = max(at + 1, at - first + len(source.rstrip("\n").split("\n")))
        cells.append((max(at - first, 0), source))
    return cells


# --- what a script shows it printed: `# Out:` comments ---------------------------------------

def _split_outputs(at: int, code: str) -> list[tuple[int, str, list[Output]]]:
    """A cell (starting on line at) cut after each `# Out:` comment block: the code before
    it, with the block's text as what it printed; the code after it, a cell of its own."""
    lines = code.split("\n")
    pieces: list[tuple[int, str, list[Output]]] = []
    start, i = 0, 0
    while i < len(lines):
        found = OUT.match(lines[i])
        if not found:
            i += 1
            continue
        shown = [found[1]] if found[1].strip() else []
        j = i + 1
        while j < len(lines) and lines[j].strip():
            comment = COMMENT.match(lines[j])
            if comment is None:
                break
            shown.append(comment[1])
            j += 1
        pieces.append((at + start, "\n".join(lines[start:i]),
                       [Output("text", "\n".join(shown))] if shown else []))
        start = i = j
    pieces.append((at + start, "\n".join(lines[start:]), []))
    return [p for p in pieces if p[1].strip()]

