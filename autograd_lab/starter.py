"""`autograd-lab init`: a folder to start from, with an example case that passes and, if
asked, a GitHub Actions workflow that checks it. The files are templates shipped in the
package (templates/), written only where nothing is: init never overwrites."""
from __future__ import annotations

import contextlib
from importlib.resources import files
from pathlib import Path

CASE = Path("cases", "example.yaml")
WORKFLOW = Path(".github", "workflows", "autograd-lab.yml")
TEMPLATES = {CASE: "example.yaml", WORKFLOW: "workflow.yml"}   # written path -> template


class AlreadyThere(Exception):
    """A file init would write exists already, or a file stands where it makes a folder;
    nothing has been written."""


class CannotWrite(Exception):
    """The folder cannot be written (read-only, a full disk): what init had written of its
    files is removed again, so nothing is left half done."""


def template(target: Path) -> str:
    """The text init writes at target (a path relative to the folder it starts)."""
    return files("autograd_lab").joinpath("templates").joinpath(TEMPLATES[target]).read_text(
        "utf-8")


def write(folder: Path, ci: bool = False) -> list[Path]:
    """Write the example case (and with ci, the workflow) under folder; the paths written.
    Every target and every folder on the way is looked at before anything is written, and a
    write that fails takes back what was written before it: a refusal leaves nothing."""
    targets = [folder / t for t in ([CASE, WORKFLOW] if ci else [CASE])]
    there = [t for t in targets if t.exists() or t.is_symlink()]
    if there:
        raise AlreadyThere(f"{there[0]} exists already; init writes only new files "
                           "(move it away, or start in another folder)")
    files = [p for t in targets for p in [*reversed(t.parents)] if p.exists() and not p.is_dir()]
    if files:
        raise AlreadyThere(f"{files[0]} is a file, where init makes a folder; nothing was "
                           "written (move it away, or start in another folder)")
    made: list[Path] = []
    written: list[Path] = []
    try:
        for path in targets:
            made += _folders(path.parent)
            with path.open("x", encoding="utf-8") as out:   # "x": never over a file made meanwhile
                written.append(path)
                out.write(template(path.relative_to(folder)))
    except OSError as exc:
        _take_back(written, made)
        raise CannotWrite(f"cannot write {exc.filename or folder} ({exc.strerror or exc}); "
                          "nothing was written") from None
    return written


def _folders(folder: Path) -> list[Path]:
    """Make folder and its missing parents; those made, the outermost first."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    for path in missing:
        path.mkdir()
    return missing


def _take_back(written: list[Path], made: list[Path]) -> None:
    for path in written:
        with contextlib.suppress(OSError):
            path.unlink()
    for path in reversed(made):
        with contextlib.suppress(OSError):
            path.rmdir()
