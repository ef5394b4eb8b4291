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
import statistics
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .reports import write_atomic

# a case's fixed cost in bytes of its file: reading, SymPy's output and each method cost about
# as much as 2,000 more bytes of case do (the 1,000 generated small cases: about 300 bytes and
# 8 ms each; the perceptron: 1,100 bytes and 14 ms), so a short file is no free file
FIXED_BYTES = 2_000


@dataclass(frozen=True)
class Shard:
    index: int   # K, from 1
    total: int   # N

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse(text: str) -> Shard:
    """'2/4' -> Shard(2, 4); a ValueError saying what to write otherwise."""
    k, slash, n = text.strip().partition("/")
    if not (slash and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise ValueError(f"{text!r}: write K/N, the K-th of N parts, 1 <= K <= N (e.g. 2/4)")
    return Shard(int(k), int(n))


@dataclass
class Part:
    """A shard's files, and what its report.json says of its place in the run."""
    files: list[Path]
    keys: list[str]      # each of files' key, for --store-durations
    block: dict          # report.json's "shard"


def choose(paths, files: list[Path], shard: Shard | None, durations: Path,
           plots: bool = True) -> Part:
    """The run's files (shard None), or the shard's part, balanced by the durations file."""
    if shard is None:
        return Part(files, file_keys(paths, files), {})
    return split(paths, files, shard, read_durations(durations), plots)


def record(durations: Path, part: Part, results) -> None:
    """--store-durations: each checked file's seconds into the durations file."""
    store_durations(durations, part.keys, [r.seconds for r in results])


def split(paths, files: list[Path], shard: Shard, durations: dict | None = None,
          plots: bool = True) -> Part:
    """The shard's part of files (the run's, listed from paths in order); durations: key ->
    seconds of an earlier run; plots: whether the run draws them (a merge checks they agree)."""
    keys = file_keys(paths, files)
    parts = assign(costs(keys, files, durations or {}), shard.total)
    mine = [i for i, k in enumerate(parts) if k == shard.index - 1]
    block = {"index": shard.index, "total": shard.total, "files": len(files),
             "digest": digest(keys), "plots": plots, "positions": mine}
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
    loads = [(0.0, k) for k in range(total)]
    parts = [0] * len(cost)
    for i in sorted(range(len(cost)), key=lambda i: (-cost[i], i)):
        load, k = heapq.heappop(loads)
        parts[i] = k
        heapq.heappush(loads, (load + cost[i], k))
    return parts


def read_durations(path: Path) -> dict:
    """key -> seconds from a durations file; none if it is missing or not such a file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0}


def store_durations(path: Path, keys: list[str], seconds: list[float]) -> None:
    """Record each file's seconds in the durations file, keeping the other files' entries."""
    recorded = read_durations(path)
    recorded.update({k: round(s, 4) for k, s in zip(keys, seconds)})
    write_atomic(Path(path), json.dumps(dict(sorted(recorded.items())), indent=1) + "\n")
