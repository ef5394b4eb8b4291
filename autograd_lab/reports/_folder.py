"""The report folder: checked before any work, held by one run at a time, cleared of what
killed runs left in it."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

from ._atomic import stale

try:
    import fcntl
except ImportError:   # Windows: no flock; the folder is used unheld, as on an NFS without locks
    fcntl = None  # type: ignore[assignment]
from ._drawers import STAGE
from ._plots import FOLDER

LOCK = ".autograd-lab.lock"   # in the report folder: the run writing into it holds it
WAIT = 600.0                  # seconds a run waits for another to finish with the folder
POLL = 0.2
REPORTS = ("report.json", "report.md", "junit.xml")


class Unusable(Exception):
    """The report folder cannot be used (a file, read-only, held too long): one line."""


def prepare(out: Path) -> None:
    """Make the folder if need be and write a file in it: Unusable if it cannot be, before a
    case is checked (a read-only folder had cost a whole run, then tracebacks)."""
    if out.exists() and not out.is_dir():
        raise Unusable(f"--out {out}: it is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".autograd-lab-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise Unusable(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


@contextlib.contextmanager
def locked(out: Path, say, wait: float = WAIT):
    """Hold the folder for this run (fcntl.flock on out/.autograd-lab.lock), so that two
    runs never mix their reports: a run that finds it held says so (say: one line) and waits
    for it, Unusable after `wait` seconds. The lock goes with the process, however it ends;
    a run that ends in order removes the file, still holding it, so none is left in the
    folder. Held, the temporary files of killed runs are removed: no run of ours is writing
    them."""
    path = out / LOCK
    try:
        fd = _hold(path, out, say, wait)
    except OSError as exc:   # a file system without locks (some NFS): said, and run on
        say(f"autograd-lab: cannot lock {out} ({exc.strerror or exc}); a run writing "
            "there at the same time would mix its reports with this one's")
        yield   # unheld, no temporary file is known to be stale: none is removed
        return
    try:
        with contextlib.suppress(OSError):   # the pid, for a waiting run's note: a full disk
            os.ftruncate(fd, 0)                # holds the lock all the same
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        clean(out)
        yield
    finally:
        with contextlib.suppress(OSError):   # removed while held: a run waiting on it
            path.unlink()                      # finds it gone and opens the next one
        os.close(fd)


def _hold(path: Path, out: Path, say, wait: float) -> int:
    """An open descriptor of the lock file, locked by this process: opened anew after each
    wait, since the run that held it removes the file (a lock taken on a removed file is
    no lock: another run would create and lock a new one)."""
    start = None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)   # unbuffered: nothing to flush
        try:
            taken = _take(fd)
        except OSError:
            os.close(fd)
            raise
        if taken and _current(fd, path):
            return fd
        if not taken:
            holder = _holder(fd)
            if start is None:
                say(f"autograd-lab: another run (pid {holder}) is writing reports into {out}; "
                    "waiting for it to finish")
                start = time.monotonic()
            elif time.monotonic() - start > wait:
                os.close(fd)
                raise Unusable(f"--out {out}: another run (pid {holder}) has been "
                               f"writing reports there for {wait:g} s; wait for it, or "
                               "give this run another --out")
        os.close(fd)
        if not taken:
            time.sleep(POLL)


def _current(fd: int, path: Path) -> bool:
    """Whether the open file is still the one at path (not removed or replaced meanwhile)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _take(fd: int) -> bool:
    if fcntl is None:
        raise OSError(errno.ENOLCK, "this system has no fcntl.flock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    return "unknown"


def clean(out: Path) -> list[Path]:
    """Remove the temporary files that killed runs left (.report.json.*.tmp and the like, the
    plots', and the folders their plots were drawn into); the paths removed."""
    found = stale(out, REPORTS.__contains__) + stale(out / FOLDER, lambda n: n.endswith(".png"))
    for path in found:
        with contextlib.suppress(OSError):
            path.unlink()
    stages = [p for p in out.glob(STAGE.format(pid="*")) if p.is_dir()]
    for stage in stages:
        shutil.rmtree(stage, ignore_errors=True)
    return found + stages
