"""`autograd-lab init`: a folder to start from, with an example case that passes and, if
asked, a GitHub Actions workflow that checks it. The files are templates shipped in the
package (templates/), written only where nothing is: init never overwrites."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CASE = Path("cases", "example.yaml")
WORKFLOW = Path(".github", "workflows", "autograd-lab.yml")
TEMPLATES = {CASE: "example.yaml", WORKFLOW: "workflow.yml"}   # written path -> template


class AlreadyThere(Exception):
    """A file init would write exists already; nothing has been written."""


def template(target: Path) -> str:
    """The text init writes at target (a path relative to the folder it starts)."""
    return files("autograd_lab").joinpath("templates").joinpath(TEMPLATES[target]).read_text(
        "utf-8")


def write(folder: Path, ci: bool = False) -> list[Path]:
    """Write the example case (and with ci, the workflow) under folder; the paths written.
    Every target is looked at before any is written, so a refusal leaves nothing half-done."""
    targets = [CASE, WORKFLOW] if ci else [CASE]
    there = [folder / t for t in targets if (folder / t).exists() or (folder / t).is_symlink()]
    if there:
        raise AlreadyThere(f"{there[0]} exists already; init writes only new files "
                           "(move it away, or start in another folder)")
    written = []
    for target in targets:
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:   # "x": never over a file made meanwhile
            out.write(template(target))
        written.append(path)
    return written
