"""A notebook in, case files out: read it, walk it, build the cases, write them, load them back."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..api import CaseError, load_case
from . import _cases, _entries, _write
from ._notebook import Note, read
from ._walk import walk


@dataclass
class Written:
    path: Path
    name: str
    kind: str                    # "gradient", "behaviour" or "values"
    cells: tuple[str, str]
    claims: int
    to_write: list[str]          # chain_rule edges the author still has to write
    origins: dict[int, str]      # YAML line -> the cell and line it came from


@dataclass
class Drafted:
    notebook: str
    folder: Path
    files: list[Written] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # drafts that did not load back

    @property
    def cases(self) -> list[Written]:
        return [w for w in self.files if not w.to_write]


def default_folder(notebook: str | Path) -> Path:
    return Path("cases") / _entries.slug(Path(notebook).stem)


def draft(notebook: str | Path, out: str | Path | None = None, verify: bool = True) -> Drafted:
    """Draft the cases of a notebook (.ipynb, or its `In [n]:` text export) into out (default
    cases/<its name>/). Nothing in the notebook runs. Raises NotebookError when the file
    cannot be read as a notebook at all; whatever else cannot be drafted is a Note."""
    parsed = read(notebook)
    record = walk(parsed)
    drafts, more = _cases.drafts(record, Path(notebook).stem)
    folder = Path(out) if out is not None else default_folder(notebook)
    folder.mkdir(parents=True, exist_ok=True)
    notes = sorted(record.notes + more, key=_order(parsed))
    placed = {id(n) for segment in record.segments for n in _segment_notes(segment)}
    elsewhere = [str(n) for n in notes if id(n) not in placed]
    done = Drafted(str(notebook), folder, notes=notes)
    for i, one in enumerate(drafts):
        extra = ("Left out of the draft, outside the cells of any case: " + "; ".join(elsewhere),
                 ) if i == 0 and elsewhere else ()
        path = _write.write(one, folder, str(notebook), extra)
        text = path.read_text(encoding="utf-8")
        done.files.append(Written(path, one.name, one.kind, one.cells, one.claims,
                                  list(one.to_write), _write.origins(text)))
    if verify:
        done.problems = [p for p in map(_loads_back, done.files) if p]
    return done


def _segment_notes(segment):
    yield from segment.notes
    stack = list(segment.steps)
    while stack:
        step = stack.pop()
        yield from step.notes
        stack.extend(step.inner)


def _order(notebook):
    cells = {c.label: i for i, c in enumerate(notebook.cells)}
    return lambda note: (cells.get(note.cell, -1), note.line or 0)


def _loads_back(written: Written) -> str | None:
    """The project's loader must read each draft; a skeleton, only to say what is left to write."""
    try:
        load_case(written.path)
    except CaseError as exc:
        if written.to_write and "still to be written" in exc.message:
            return None
        return f"{written.path}: the draft does not load back: {exc}"
    if written.to_write:
        return f"{written.path}: the draft loads although edges are still to be written"
    return None
