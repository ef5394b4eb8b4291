"""Files that someone else made, read as data with bounds: a shard's report.json (a CI
artifact a pull request can forge), its plots, a durations file committed beside the cases.
Regular files only (a FIFO never ends, a link to /dev/zero never stops giving), never more
than a stated size, JSON never nested deeper than what we write ever is."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path


class Unreadable(ValueError):
    """A file that is not what it should be, or not there: one line, its path first."""


def read_regular(path: Path, limit: int, links: bool = False) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; Unreadable otherwise. A link is
    refused unless `links` (then its target must be a regular file): an artifact's link to a
    private file must not bring that file's bytes into our output."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if links else getattr(os, "O_NOFOLLOW", 0))
    try:
        if not links and Path(path).is_symlink():
            raise Unreadable(f"{path}: a link, not a regular file: refused")
        fd = os.open(path, flags)   # O_NONBLOCK: opening a FIFO waits for no writer
    except FileNotFoundError:
        raise Unreadable(f"{path}: no such file") from None
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "a FIFO, device or socket"
            raise Unreadable(f"{path}: {what}, not a regular file: refused")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise Unreadable(f"{path}: larger than {limit:,} bytes: refused")
    return data


def read_json(path: Path, limit: int, depth: int, links: bool = False):
    """A bounded regular file's JSON, nested at most `depth` deep; Unreadable otherwise."""
    data = read_regular(path, limit, links)
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:   # json's decoder stops itself, cleanly, at the stack's limit
        raise Unreadable(f"{path}: nested deeper than {depth} levels: refused") from None
    except ValueError:       # not UTF-8, not JSON, or an integer of thousands of digits
        raise Unreadable(f"{path}: not JSON (cut short, or not a file of ours?)") from None
    if too_deep(value, depth):
        raise Unreadable(f"{path}: nested deeper than {depth} levels: refused")
    return value


def too_deep(value, depth: int) -> bool:
    """Whether lists and objects nest more than depth deep (walked with a list, not
    recursion, so no nesting can exhaust the stack)."""
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            if level > depth:
                return True
            pending.extend((v, level + 1) for v in (item.values() if isinstance(item, dict)
                                                    else item))
    return False
