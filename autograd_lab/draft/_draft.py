"""A tutorial in, case files out: read it, walk it, build the cases, write them, load them back,
and count its hand-written derivatives."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..api import CaseError, load_case
from ..case import Behaviour
from ..check import TooSlow, deadline
from . import _cases, _count, _entries, _write
from ._notebook import Note, Notebook, NotebookError
from ._sources import read
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
    covers: set = field(default_factory=set)   # (cell, line) of the entries it compares
    valued: set = field(default_factory=set)   # a values case's: its printed values' places
    # each input: "notebook" (its own value) or "stand-in" (report.json's inputs_from)
    inputs_from: dict = field(default_factory=dict)


@dataclass
class Drafted:
    notebook: str
    folder: Path
    files: list[Written] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # drafts that did not load back
    found: list = field(default_factory=list)      # _count.Found: the hand-written derivatives
    calls: dict = field(default_factory=dict)      # a derivative function -> where it is called
    parsed: Notebook | None = None   # the tutorial as read, for what else reads its cells

    @property
    def cases(self) -> list[Written]:
        return [w for w in self.files if not w.to_write]

    def derivatives(self, compared: list[Written] | None = None, failed: dict | None = None,
                    kept: bool = True) -> dict:
        """report.json's `derivatives`: those found, checked by the cases compared (default:
        every case drafted, which the draft command can say before anything is checked).
        kept: the drafts stay where they were written (`draft`); `check` drafts into a
        folder it removes, so a draft to finish is named as `draft` would write it."""
        cases = self.cases if compared is None else compared
        places = set().union(*(w.covers for w in cases if w.kind != "values"))
        valued = set().union(*(w.valued for w in cases if w.kind == "values"))
        to_finish = {place: (f"written into {w.path.name}, a draft to finish" if kept else
                             f"in a draft to finish, {w.path.name}, which `autograd-lab draft "
                             f"{self.notebook}` writes")
                            + f": the edge{'s' * (len(w.to_write) != 1)} "
                            f"{', '.join(w.to_write)} of its graph must still be written by "
                            "hand before it is checked"
                     for w in self.files if w.to_write for place in w.covers}
        return _count.tally(self.found, places, {**to_finish, **(failed or {})}, self.notes,
                            self.calls, frozenset(valued))


def default_folder(notebook: str | Path) -> Path:
    return Path("cases") / _entries.slug(Path(notebook).stem)


def draft(notebook: str | Path, out: str | Path | None = None, verify: bool = True,
          force: bool = False, timeout: float | None = None, blocks: bool = False,
          backward_blocks: bool = False) -> Drafted:
    """Draft the cases of a notebook (.ipynb, or its `In [n]:` text export) into out (default
    cases/<its name>/). Nothing in the notebook runs. Raises NotebookError when the file
    cannot be read as a tutorial at all, when reading it outlasts the time limit (timeout
    seconds; default check's, $AUTOGRAD_LAB_TIMEOUT), or when a file it would write is there
    already and not force (an earlier draft, perhaps edited since; another notebook's whose
    name makes the same file names); whatever else cannot be drafted is a Note. Never writes
    through a link: with force, a link in the way is replaced, not followed.

    blocks: the forward pass and a hand-written backward pass are written as the notebook's
    own lines (`forward: |`, `backward: |`, each line with its cell and line beside it, and
    what a forward line changed said there) where the case, read by the one translator of
    blocks, loads and gives the same nodes and entries; else as mappings, as without it.
    backward_blocks: the same, only for a case whose hand-written backward pass is a block
    (`check TUTORIAL`: a wrong statement of it named at its line); any other keeps mappings,
    so a scalar lesson is read as one (a forward block alone would make it a tensor case)."""
    try:
        with deadline(timeout):
            parsed = read(notebook)
            found = _count.find(parsed)
            record = walk(parsed)
            drafts, more = _cases.drafts(record, Path(notebook).stem)
    except TooSlow as exc:
        raise NotebookError(f"{notebook}: drafting stopped after {exc.args[0]:g} s, the time "
                            "limit (--timeout or $AUTOGRAD_LAB_TIMEOUT sets it)") from None
    except RecursionError:   # a chain of a thousand names, each from the one before
        raise NotebookError(f"{notebook}: a graph in it is nested too deep to draft (a case "
                            "holds at most 500 inputs and nodes)") from None
    folder = Path(out) if out is not None else default_folder(notebook)
    _refuse_overwriting(folder, [_write.file_name(d) for d in drafts], force)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NotebookError(f"{folder}: cannot make the folder ({exc.strerror or exc})") \
            from None
    notes = sorted(record.notes + more, key=_order(parsed))
    placed = {id(n) for segment in record.segments for n in _segment_notes(segment)}
    elsewhere = [str(n) for n in notes if id(n) not in placed]
    done = Drafted(str(notebook), folder, notes=notes, found=found,
                   calls=_count.calls_of(parsed, {n for f in found
                                                  for n in (f.function, f.inside) if n}),
                   parsed=parsed)
    for one in drafts:
        extra = ("Also said while drafting (not at an entry of a case): " + "; ".join(elsewhere),
                 ) if not done.files and elsewhere else ()
        try:
            path = _write.write(one, folder, str(notebook), extra, force,
                                block=_as_block(one, notebook, backward_blocks)
                                if blocks or backward_blocks else False)
        except OSError as exc:
            raise NotebookError(f"{folder / _write.file_name(one)}: cannot write the draft "
                                f"({exc.strerror or exc})") from None
        text = path.read_text(encoding="utf-8")
        written = Written(path, one.name, one.kind, one.cells, one.claims, list(one.to_write),
                          _write.origins(text), _count.covered(text),
                          _count.covered(text, steps=True) if one.kind == "values" else set(),
                          {e.key: "stand-in" if e.stand_in else "notebook" for e in one.inputs})
        refused = _refused(written)
        if refused is None:
            done.files.append(written)
        else:   # the loader's judgement stands: the draft is not written, and that is said
            path.unlink()
            done.notes.append(refused)
    done.notes.sort(key=_order(parsed))
    if verify:
        done.problems = [p for p in map(_loads_back, done.files) if p]
    return done


def _refuse_overwriting(folder: Path, names: list[str], force: bool) -> None:
    """Before anything is written: NotebookError if a file the draft would write is there
    (unless force), or if the folder is a file."""
    if folder.exists() and not folder.is_dir():
        raise NotebookError(f"--out {folder}: it is a file, not a folder")
    there = [folder / n for n in names if (folder / n).exists() or (folder / n).is_symlink()]
    if there and not force:
        more = f" and {len(there) - 1} more" if len(there) > 1 else ""
        raise NotebookError(f"{there[0]}{more} exist{'' if more else 's'} already (an earlier "
                            "draft, perhaps edited since, or another notebook's of the same "
                            "name): draft writes only new files; give --force to replace them, "
                            "or another --out")
    folders = [p for p in there if p.is_dir() and not p.is_symlink()]
    if folders:
        raise NotebookError(f"{folders[0]} is a folder where the draft writes a file")


def _as_block(one, notebook, backward: bool = False) -> frozenset[str]:
    """The sections that can be the notebook's own lines (`forward: |`, `backward: |`): the
    case written so (in a folder of its own, never the draft's) is read by the same
    translator as every case, and must load and give the same nodes and entries as the
    mappings; both where both do, else the backward pass alone, else neither."""
    if one.to_write:
        return frozenset()
    tried = [frozenset(s) for s in (("forward", "backward"), ("backward",), ("forward",))
             if "backward" in s or not backward]
    for sections in tried:
        if ("backward" in sections and not one.backward_block) or (
                "forward" in sections and not one.forward_block):
            continue
        if _same_when_read(one, notebook, sections):
            return sections
    return frozenset()


def _same_when_read(one, notebook, sections: frozenset[str]) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        trial = Path(folder) / _write.file_name(one)
        trial.write_text(_write.text(one, str(notebook), block=sections), encoding="utf-8")
        try:
            case = load_case(trial)
        except Exception:   # CaseError, or the loader's bug: the mapping, judged as ever
            return False
    checked = {name for name, entry in getattr(case, "backward", {}).items() if entry.checked}
    nodes = set(getattr(case, "nodes", {}))
    return checked == {entry.key for entry in one.backward} and \
        nodes == {entry.key for entry in one.forward}


def _refused(written: Written) -> Note | None:
    """A draft the project's loader refuses (what the draft's own reading could not foresee,
    such as a behaviour case in matrices): a note naming the cell the refusal points at."""
    try:
        loaded = load_case(written.path)
    except CaseError as exc:
        if written.to_write and "still to be written" in exc.message:
            return None
        at = written.origins.get(exc.line or 0)
        first, last = written.cells
        cells = first if first == last else f"{first} to {last}"
        return Note(first, None, f"no {written.kind} case drafted for {cells}: the case drafted "
                    f"does not load: {exc.message}" + (f" (at {at})" if at else "")
                    + (f": {exc.text}" if exc.text and exc.text not in exc.message else ""))
    except Exception as exc:  # the loader's bug, not the notebook's: said, the rest go on
        first, last = written.cells
        return Note(first, None, f"no {written.kind} case drafted for "
                    f"{first if first == last else f'{first} to {last}'}: the project's loader "
                    f"failed on it ({type(exc).__name__}); please report it", internal=True)
    if isinstance(loaded, Behaviour) and not any(map(_expects, loaded.steps)):
        first, last = written.cells
        return Note(first, None, f"no behaviour case drafted for "
                    f"{first if first == last else f'{first} to {last}'}: none of its steps "
                    "shows a value, a gradient or an error to compare (it would check nothing)")
    return None


def _expects(step) -> bool:
    return bool(step.expect) or any(map(_expects, step.inner))


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
