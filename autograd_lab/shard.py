"""`check --shard K/N`: the K-th of N disjoint parts of a run's case files, for a CI matrix.

Every job of the matrix lists the same files in the same order and splits them the same way,
so the N parts are exactly the files, each once, whatever machine runs which part. Each file
has a key, its path relative to the folder given (under that folder's own name: `cases/x.yaml`
whether the folder was given as `cases`, `./cases/` or an absolute path); its cost is its
recorded duration (`--durations FILE`, written by `--store-durations`, as pytest-split keeps
`.test_durations`) where known, else its size; the files go, the costliest first, to the part
with the least so far (ties to the lower part, the earlier file), and each part keeps the run's
order.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .reports import MAX_PARTS, NotWritten, Unreadable, read_json, write_atomic

# a case's fixed cost in bytes of its file: reading, SymPy's output and each method cost about
# as much as 2,000 more bytes of case do (the 1,000 generated small cases: about 300 bytes and
# 8 ms each; the perceptron: 1,100 bytes and 14 ms), so a short file is no free file
FIXED_BYTES = 2_000
# the durations file is read from the current folder by default, so a pull request can commit
# one: bounded like any input (a flat object of seconds; 100,000 files take a few MB)
MAX_DURATIONS_BYTES = 16_000_000
MAX_SECONDS = 1e9        # a file's recorded seconds: 30 years; their sum stays finite
_K_OF_N = re.compile(r"([0-9]{1,12})/([0-9]{1,12})", re.ASCII)   # "²/³" is no K/N


class BadDurations(ValueError):
    """A durations file that is not one --store-durations writes: one line, its path first."""


@dataclass(frozen=True)
class Shard:
    index: int   # K, from 1
    total: int   # N

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse(text: str) -> Shard:
    """'2/4' -> Shard(2, 4); a ValueError saying what to write otherwise."""
    found = _K_OF_N.fullmatch(text.strip())
    if not (found and 1 <= int(found[1]) <= int(found[2])):
        raise ValueError(f"{text!r}: write K/N, the K-th of N parts, 1 <= K <= N (e.g. 2/4)")
    if int(found[2]) > MAX_PARTS:
        raise ValueError(f"{text!r}: at most {MAX_PARTS:,} parts (N)")
    return Shard(int(found[1]), int(found[2]))


@dataclass
class Part:
    """A shard's files, and what its report.json says of its place in the run."""
    files: list[Path]
    keys: list[str]      # each of files' key, for --store-durations
    block: dict          # report.json's "shard"


def choose(paths, files: list[Path], shard: Shard | None, durations: Path,
           plots: bool = True, store: bool = False, drawn: str = "all") -> Part:
    """The run's files (shard None), or the shard's part, balanced by the durations file;
    BadDurations, before any file is checked, if that file is there but not one of ours (or
    with store, cannot be one: a folder)."""
    recorded = read_durations(durations) if shard is not None or store else {}
    if shard is None:
        return Part(files, file_keys(paths, files), {})
    return split(paths, files, shard, recorded, plots, drawn)


def record(durations: Path, part: Part, results) -> list[str]:
    """--store-durations: each checked file's seconds into the durations file; what could
    not be done, a line each."""
    try:
        store_durations(durations, part.keys, [r.seconds for r in results])
    except (BadDurations, NotWritten) as exc:
        return [str(exc)]
    return []


def split(paths, files: list[Path], shard: Shard, durations: dict | None = None,
          plots: bool = True, drawn: str = "all") -> Part:
    """The shard's part of files (the run's, listed from paths in order); durations: key ->
    seconds of an earlier run; plots: whether the run draws them, drawn: for which cases
    (--plots, which report.md says; a merge checks both agree)."""
    keys = file_keys(paths, files)
    parts = assign(costs(keys, files, durations or {}), shard.total)
    mine = [i for i, k in enumerate(parts) if k == shard.index - 1]
    block = {"index": shard.index, "total": shard.total, "files": len(files),
             "digest": digest(keys), "plots": plots, "plots_drawn": drawn,
             "positions": mine}
    return Part([files[i] for i in mine], [keys[i] for i in mine], block)


def file_keys(paths, files: list[Path]) -> list[str]:
    """Each file's path relative to the folder given, under the folder's own name. files are
    paths' files in order (case_files), so each belongs to the first path it lies under."""
    args = [Path(p) for p in paths]
    out = []
    at = 0
    for f in files:
        while at < len(args) - 1 and not _within(f, args[at]):
            at += 1
        out.append(_key(args[at], f))
    return out


def _within(file: Path, arg: Path) -> bool:
    return file == arg or file.is_relative_to(arg)


def _key(arg: Path, file: Path) -> str:
    folder, rel = (arg, file.relative_to(arg)) if file != arg and file.is_relative_to(arg) \
        else (arg.parent, Path(file.name))
    name = "" if folder.name in ("", ".", "..") else folder.name
    return (PurePosixPath(name) / rel.as_posix()).as_posix()


def digest(keys: list[str]) -> str:
    """The run's files, in order, in a few characters: shards of different runs differ."""
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def costs(keys: list[str], files: list[Path], durations: dict) -> list[float]:
    """Seconds recorded, the mean of those for a file not recorded; with none recorded, sizes."""
    known = [float(durations[k]) for k in keys if k in durations]
    if known:
        mean = statistics.fmean(known)
        return [float(durations.get(k, mean)) for k in keys]
    return [float(_size(f) + FIXED_BYTES) for f in files]


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:   # unreadable: its error is cheap, and the check will say what is wrong
        return 0


def assign(cost: list[float], total: int) -> list[int]:
    """Each file's part (from 0): the costliest first, each to the least loaded part."""
    # past one part a file, the parts left are empty: no heap entry for them (N can be large)
    loads = [(0.0, k) for k in range(min(total, len(cost)))]
    parts = [0] * len(cost)
    for i in sorted(range(len(cost)), key=lambda i: (-cost[i], i)):
        load, k = heapq.heappop(loads)
        parts[i] = k
        heapq.heappush(loads, (load + cost[i], k))
    return parts


def read_durations(path: Path) -> dict:
    """key -> seconds from a durations file; none if there is none. BadDurations if it is
    not a regular file, is too big, or is not a flat JSON object of seconds (each a finite
    number from 0 to MAX_SECONDS): an entry that is not is no duration to balance by."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        data = read_json(path, MAX_DURATIONS_BYTES, depth=1, links=True)
    except Unreadable as exc:
        raise BadDurations(f"--durations {exc}") from None
    if not isinstance(data, dict):
        raise BadDurations(f"--durations {path}: not a JSON object of file -> seconds")
    for key, seconds in data.items():
        if not (type(seconds) in (int, float) and 0 <= seconds <= MAX_SECONDS
                and math.isfinite(seconds)):
            raise BadDurations(f"--durations {path}: {json.dumps(key)[:200]}: not seconds "
                               f"(a number from 0 to {MAX_SECONDS:g})")
    return data


def store_durations(path: Path, keys: list[str], seconds: list[float]) -> None:
    """Record each file's seconds in the durations file, keeping the other files' entries."""
    recorded = read_durations(path)
    recorded.update({k: round(s, 4) for k, s in zip(keys, seconds)})
    write_atomic(Path(path), json.dumps(dict(sorted(recorded.items())), indent=1) + "\n")
