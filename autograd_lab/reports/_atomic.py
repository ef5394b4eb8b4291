"""Files written whole or not at all: a killed run never leaves half a report."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


class NotWritten(Exception):
    """A report file that could not be written (a full disk, a read-only folder): one line."""

    def __init__(self, path: Path, exc: OSError):
        super().__init__(f"could not write {path}: {exc.strerror or exc}")
        self.path = path


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write beside the target and rename over it, so a killed run never leaves half a file;
    NotWritten if it cannot be written (the target is then as it was)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMPORARY}{path.name}.",
                                   suffix=".tmp")
    except OSError as exc:
        raise NotWritten(path, exc) from None
    binary = isinstance(text, bytes)
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is not
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise NotWritten(path, exc) from None
        raise


TEMPORARY = "."     # a file being written is .<its name>.<8 random characters>.tmp beside it
_TEMPORARY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")


def stale(folder: Path, names) -> list[Path]:
    """The temporary files that runs killed while writing left in folder: write_atomic's,
    for targets whose names `names(name)` accepts."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{TEMPORARY}*.tmp"):
        match = _TEMPORARY.fullmatch(path.name)
        if match and names(match[1]) and path.is_file():
            found.append(path)
    return sorted(found)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
