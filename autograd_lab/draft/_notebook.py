"""A notebook read into one list of cells: an .ipynb (with nbformat) or its `In [n]:` text export.

Nothing here runs a cell: the code is kept as text, the outputs as the notebook printed them.
What is too big is cut or skipped with a note, so a hostile file costs bounded time and memory."""
from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import _outputs
from ._text import one_line

MAX_BYTES = 32_000_000          # the notebook file
MAX_CELLS = 2_000               # code cells read; the rest are skipped with a note
MAX_CODE = 100_000              # characters of one cell's code; a longer cell is skipped
MAX_OUTPUT_LINES = 2_000        # lines of one cell's output kept; the rest are dropped
MAX_OUTPUT_CHARS = 200_000      # characters of one cell's output kept
MARKER = re.compile(r"^In \[\s*(\d*|None)\s*\]:\s*$")
MAGIC = re.compile(r"^\s*[%!?]")  # IPython magics and shell escapes: not Python
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)): ?(.*)$")
WARNING = re.compile(r"(\w*Warning): (.+)$")


class NotebookError(Exception):
    """The whole file cannot be read as a notebook; the text says why, on one line."""


@dataclass(frozen=True)
class Note:
    """Something of the notebook left out of the draft: where (cell, line) and what."""

    cell: str
    line: int | None
    text: str
    internal: bool = False      # a bug of ours, not the notebook's: never a silent pass

    def __str__(self) -> str:
        where = self.cell + (f", line {self.line}" if self.line else "")
        return f"{where}: {one_line(self.text, 300)}"


@dataclass
class Output:
    kind: str                   # "text" (what was printed and shown), "error" or "warning"
    text: str                   # the printed text, or the error's or warning's message
    name: str = ""              # the error's or warning's class, e.g. RuntimeError


@dataclass
class Cell:
    label: str                  # "In [16]", or "cell 12" for a code cell never run
    code: str
    outputs: list[Output] = field(default_factory=list)
    index: int = 0              # position among the code cells, from 1
    pictures: list[str] = field(default_factory=list)   # SVG shown (draw_dot's graph), as text


@dataclass
class Notebook:
    path: str
    cells: list[Cell]
    notes: list[Note] = field(default_factory=list)


def read(path: str | Path) -> Notebook:
    """The notebook's code cells in order, with their outputs; NotebookError if unreadable."""
    path = Path(path)
    text = text_of(path)
    if path.suffix.lower() == ".ipynb" or text.lstrip().startswith("{"):
        notebook = _from_ipynb(text, str(path))
    else:
        notebook = _from_export(text, str(path))
    bound(notebook)
    return notebook


def looks_like_notebook(path: str | Path) -> bool:
    """An .ipynb, or a text file whose lines hold `In [n]:` markers (the seeds' export)."""
    path = Path(path)
    if path.suffix.lower() == ".ipynb":
        return True
    if path.suffix.lower() in (".yaml", ".yml") or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(65_536).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(MARKER.match(line) for line in head.splitlines())


def text_of(path: Path, what: str = "notebook") -> str:
    """The file's text: a regular file, at most MAX_BYTES, UTF-8; NotebookError if not."""
    try:
        if path.exists() and not path.is_file():
            raise NotebookError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read the file ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise NotebookError(f"{path}: the {what} is larger than {MAX_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise NotebookError(f"{path}:{line}: the {what} is not UTF-8 text") from None


# --- .ipynb --------------------------------------------------------------------------------

def _from_ipynb(text: str, path: str) -> Notebook:
    try:
        json.loads(text)  # first, so that broken JSON is told by line and column
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path}:{exc.lineno}:{exc.colno}: the notebook's JSON is broken "
                            f"({one_line(exc.msg, 80)})") from None
    except RecursionError:
        raise NotebookError(f"{path}: the notebook's JSON is nested too deep") from None
    try:
        # a schema problem is kept, not logged: the cells are read whatever it says
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # nbformat's own advice (missing cell ids, ...)
            nb = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as exc:  # nbformat's many ways of refusing a file: said in our words
        raise NotebookError(f"{path}: not a Jupyter notebook that nbformat can read "
                            f"({type(exc).__name__})") from None
    cells: list[Cell] = []
    notes: list[Note] = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        index = len(cells) + 1
        count = cell.get("execution_count")
        label = f"In [{count}]" if isinstance(count, int) else f"cell {index}"
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        outputs = _ipynb_outputs(cell.get("outputs", []), label, notes)
        cells.append(Cell(label, source, outputs, index, _pictures(cell.get("outputs", []))))
    return Notebook(path, cells, notes)


def _ipynb_outputs(outputs, label: str, notes: list[Note]) -> list[Output]:
    found: list[Output] = []
    for out in outputs if isinstance(outputs, list) else []:
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stderr":
            found += [Output("warning", m.group(2), m.group(1))
                      for m in map(WARNING.search, _joined(out.get("text", "")).splitlines()) if m]
        elif kind == "stream":
            found.append(Output("text", _joined(out.get("text", ""))))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if isinstance(data, dict) and "text/plain" in data:
                found.append(Output("text", _joined(data["text/plain"])))
        elif kind == "error":
            found.append(Output("error", _joined(out.get("evalue", "")),
                                _joined(out.get("ename", ""))))
    return found


def _pictures(outputs) -> list[str]:
    """The SVG a cell showed (micrograd's draw_dot), kept as text: it is read, never drawn."""
    return [_joined(out["data"]["image/svg+xml"]) for out in
            (outputs if isinstance(outputs, list) else [])
            if isinstance(out, dict) and isinstance(out.get("data"), dict)
            and "image/svg+xml" in out["data"]]


def _joined(value) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


# --- the text export: `In [n]:`, the code, a blank line, what it printed --------------------

def _from_export(text: str, path: str) -> Notebook:
    lines = text.splitlines()
    markers = [(i, MARKER.match(line)) for i, line in enumerate(lines)]
    counts = {i: m.group(1) for i, m in markers if m}
    starts = sorted(counts)
    if not starts:
        raise NotebookError(f"{path}: no `In [n]:` cell markers: neither an .ipynb nor a text "
                            "export of one")
    cells: list[Cell] = []
    notes: list[Note] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        count = counts[start]
        label = f"In [{count}]" if count.isdigit() else f"cell {n + 1}"
        code, rest, spent = _split(lines[start + 1:end])
        outputs = _export_outputs(rest)
        cells.append(Cell(label, code, outputs, n + 1))
        if spent:
            notes.append(Note(label, None, "its code and what it printed could not be told "
                              f"apart within the bound ({PARSE_BUDGET:,} characters parsed): "
                              f"read as code through its line {code.count(chr(10)) + 1}"))
    return Notebook(path, cells, notes)


def _split(lines: list[str]) -> tuple[str, list[str], bool]:
    """The code of a cell, what follows it, and whether telling them apart ran out of its
    bound. Code and output are both separated by blank lines, and code may hold blank lines
    itself: the code is the shortest run of blocks that parses as Python, extended while the
    next block still parses with it and does not look like printed output (a tensor, a
    number, an error).

    Linear in the cell: a block that begins a new statement (at column 0, not else: or a
    closing bracket) parses with the code before it exactly when it parses alone, so only a
    block inside a statement has the code parsed again, within PARSE_BUDGET characters (3,000
    blocks parsed again each time had taken minutes)."""
    blocks = _blocks(lines)
    if not blocks:
        return "", [], False
    parser = _Parser(lines, blocks)
    chosen = None
    for k in range(len(blocks)):
        if k and _output_like(lines, blocks[k]):
            break
        if parser.upto(k):
            chosen = k
            break
        if parser.spent:
            break
    good = chosen is not None
    if chosen is None:  # never parses: keep the first block, whose error the draft reports
        chosen = 0
    heads = _heads(parser.tree) if good else []
    while (good and chosen + 1 < len(blocks) and not _output_like(lines, blocks[chosen + 1])
           and not _printed(heads, lines, blocks[chosen + 1])
           and parser.extends(chosen + 1)):
        chosen += 1
        heads = _heads(parser.tree) if parser.whole else heads + _heads(parser.tree)
    return parser.code(chosen), lines[blocks[chosen][1]:], parser.spent


PARSE_BUDGET = 2_000_000   # characters of one cell parsed again, at most (20 x a large cell)
_CONTINUED = re.compile(r"(else|elif|except|finally)\b|[)\]}.,:+\-*/%&|^<>=@]|$")


class _Parser:
    """The parses _split asks for, within PARSE_BUDGET; tree: the last that parsed, and
    whole: whether it is all the code so far (else the last block alone)."""

    def __init__(self, lines: list[str], blocks: list[tuple[int, int]]):
        self.lines, self.blocks = lines, blocks
        self.parsed = 0
        self.spent = False
        self.tree: ast.Module | None = None
        self.whole = True

    def code(self, k: int) -> str:
        """The code through block k."""
        return "\n".join(self.lines[: self.blocks[k][1]])

    def upto(self, k: int) -> bool:
        if self.spent:
            return False
        code = self.code(k)
        self.parsed += len(code)
        self.spent = self.parsed > PARSE_BUDGET
        return self._parse(code, whole=True)

    def extends(self, k: int) -> bool:
        """Whether the code through block k parses, the code through k - 1 parsing."""
        first = self.lines[self.blocks[k][0]]
        if first[:1].strip() and not _CONTINUED.match(first):   # a statement of its own
            block = "\n".join(self.lines[self.blocks[k][0]:self.blocks[k][1]])
            return self._parse(block, whole=False)
        return self.upto(k)

    def _parse(self, code: str, whole: bool) -> bool:
        try:
            self.tree = ast.parse(_without_magics(code)[0])
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        self.whole = whole
        return True


def _heads(tree: ast.Module | None) -> list[str]:
    """What the code's prints begin with."""
    return [_head(n.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name) and n.func.id == "print" and n.args] if tree else []


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of non-blank lines."""
    out, start = [], None
    for i, line in enumerate(lines + [""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            out.append((start, i))
            start = None
    return out


def _output_like(lines: list[str], block: tuple[int, int]) -> bool:
    text = "\n".join(lines[block[0]:block[1]])
    return bool(ERROR_LINE.match(text.strip())) or _outputs.all_values(text)


def _printed(heads: list[str], lines: list[str], block: tuple[int, int]) -> bool:
    """Whether a block is the text of the code's prints: it begins with what a print of the
    code begins with (heads: print('loss : ', loss) prints `loss :  tensor(...)`, which parses
    as an annotation), or it is annotations without values, as `label : value` lines read."""
    text = "\n".join(lines[block[0]:block[1]])
    try:
        statements = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if statements and all(isinstance(s, ast.AnnAssign) and s.value is None for s in statements):
        return True
    return any(h and text.startswith(h) for h in heads)


def _head(arg: ast.expr) -> str:
    """The literal text a print argument begins with."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value)
    return ""


def _parses(code: str) -> bool:
    try:
        ast.parse(_without_magics(code)[0])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _export_outputs(rest: list[str]) -> list[Output]:
    """What the cell printed and showed, as one text; its first error line, an error."""
    text = "\n".join(rest).strip("\n")
    if not text:
        return []
    lines = text.splitlines()
    errors = [(i, m) for i, m in enumerate(map(ERROR_LINE.match, lines)) if m]
    if not errors:
        return [Output("text", text)]
    at, error = errors[0]
    shown = [Output("text", "\n".join(lines[:at]))] if at else []
    return shown + [Output("error", error.group(2), error.group(1))]


# --- bounds and magics ---------------------------------------------------------------------

def bound(notebook: Notebook) -> None:
    """Too many cells, too long a cell, too much output: cut, with a note; magics blanked."""
    if len(notebook.cells) > MAX_CELLS:
        skipped = notebook.cells[MAX_CELLS:]
        notebook.notes.append(Note(skipped[0].label, None,
                                   f"left out: {len(skipped):,} code cells from here on (at most "
                                   f"{MAX_CELLS:,} are read)"))
        del notebook.cells[MAX_CELLS:]
    for cell in notebook.cells:
        if len(cell.code) > MAX_CODE:
            notebook.notes.append(Note(cell.label, None, f"left out: the cell's code is "
                                       f"{len(cell.code):,} characters long (at most "
                                       f"{MAX_CODE:,} are read)"))
            cell.code, cell.outputs = "", []
            continue
        cell.code, magics = _without_magics(cell.code)
        notebook.notes += [Note(cell.label, line, f"left out: {one_line(text.strip(), 80)}: an "
                                "IPython magic or shell command, not Python")
                           for line, text in magics]
        for out in cell.outputs:
            _cut(out, cell.label, notebook.notes)


def _cut(out: Output, label: str, notes: list[Note]) -> None:
    text = out.text[:MAX_OUTPUT_CHARS]
    lines = text.split("\n", MAX_OUTPUT_LINES)
    if len(lines) > MAX_OUTPUT_LINES or len(out.text) > MAX_OUTPUT_CHARS:
        notes.append(Note(label, None, f"output cut to its first {MAX_OUTPUT_LINES:,} lines "
                          f"and {MAX_OUTPUT_CHARS:,} characters"))
        text = "\n".join(lines[:MAX_OUTPUT_LINES])
    out.text = text


def _without_magics(code: str) -> tuple[str, list[tuple[int, str]]]:
    """The code with IPython's magic and shell lines blanked (line numbers kept), and them."""
    if "%" not in code and "!" not in code and "?" not in code:
        return code, []
    lines = code.split("\n")
    found = [(i + 1, line) for i, line in enumerate(lines) if MAGIC.match(line)]
    for i, _ in found:
        lines[i - 1] = ""
    return "\n".join(lines), found
