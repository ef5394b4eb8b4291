"""`autograd-lab merge DIR... --out DIR`: the reports of a run checked in N shards
(`check --shard K/N`, one a CI job) put back together, as one run over all the files writes
them: each case read back from its shard's report.json, placed where the run lists it, the
plots copied from the shards that drew them. Shards that do not make one whole run are refused,
each reason in one line."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .reports import (
    FORMAT_VERSION,
    MAX_CASES,
    Damaged,
    Run,
    Unreadable,
    Unusable,
    copy_plots,
    locked,
    plot_files,
    prepare,
    read_regular,
    read_report,
    read_report_cases,
    version,
)
from .result import PASSED, CaseResult

MAX_JUNIT = 64_000_000    # bytes of a shard's junit.xml, read for its timings alone


class Refused(Exception):
    """Shards that do not make one run, or an --out that cannot be written: args are the
    reasons, one line each."""


@dataclass
class Shard:
    folder: Path
    report: dict
    results: list[CaseResult] = field(default_factory=list)

    @property
    def block(self) -> dict:
        return self.report["shard"]

    @property
    def name(self) -> str:
        return f"{self.block['index']}/{self.block['total']}"


@dataclass
class Merged:
    """The run put back together, and what could not be written of its reports."""
    results: list[CaseResult]
    unwritten: list[str]


def merge(folders: list[Path], out: Path,
          say: Callable[[str], None] = print) -> Merged:
    """The run's results, in its order, with report.json, report.md, junit.xml and plots/
    written into out as one run writes them, atomically and holding out as check does (two
    merges into one folder never mix their reports); say: where a note goes (a plot found
    nowhere, or refused)."""
    if any(Path(out).resolve() == Path(f).resolve() for f in folders):
        raise Refused(f"--out {out} is one of the shards' folders: name a folder of its own")
    shards = [read(Path(f)) for f in folders]
    refuse_mismatches(shards)
    for shard in shards:   # the versions agree: each case is read as this version writes it
        _read_cases(shard)
    refuse_overlaps(shards)
    results, sources = placed(shards)
    try:
        prepare(out)
        with locked(out, say=say):
            return Merged(results, _written(shards, results, sources, out, say))
    except Unusable as exc:
        raise Refused(str(exc)) from None


def _written(shards, results, sources, out: Path, say) -> list[str]:
    """Every report into out; what could not be written, a line each."""
    policy = _plots_drawn(shards[0])
    if all(s.block.get("plots") for s in shards):
        _, missing, refused = copy_plots(results, sources, out, policy)
        if missing:
            say(f"note: {len(missing)} plot(s) one run would draw are in no shard's plots/ "
                f"folder, so report.md leaves them out: {', '.join(missing[:5])}"
                + (", ..." if len(missing) > 5 else ""))
        for reason in refused:
            say(f"note: {reason}; report.md leaves that plot out")
    with Run(out, ("json", "md", "junit"), background=False, plots=policy) as run:
        for result in results:
            run.add(result)
        run.finish(results)
    return run.failures


# --- reading a shard ----------------------------------------------------------------------

def read(folder: Path) -> Shard:
    """A shard's report.json, validated as untrusted data (its cases: _read_cases)."""
    path = folder / "report.json"
    if not path.exists() and not path.is_symlink():
        raise Refused(f"{folder}: no report.json here (name the --out folder of each "
                      "`check --shard K/N`)")
    try:
        return Shard(folder, read_report(path))
    except Damaged as exc:
        raise Refused(str(exc)) from None


def _read_cases(shard: Shard) -> None:
    """The shard's cases read back (refused if any is not as check writes it), their seconds
    from its junit.xml."""
    path = shard.folder / "report.json"
    try:
        shard.results = read_report_cases(path, shard.report)
    except Damaged as exc:
        raise Refused(str(exc)) from None
    positions = shard.block["positions"]
    if len(shard.results) != len(positions):
        raise Refused(f"{path}: lists {len(shard.results)} cases for {len(positions)} files "
                      "(a report cut short?)")
    for result, seconds in zip(shard.results, _seconds(shard.folder, len(shard.results))):
        result.seconds = seconds


def _seconds(folder: Path, count: int) -> list[float]:
    """Each case's seconds, from the shard's junit.xml (report.json holds no timings), in
    order; zeros when it has none, or none worth reading (not a regular file, too big)."""
    try:
        root = ET.fromstring(read_regular(folder / "junit.xml", MAX_JUNIT))
        found = [float(case.get("time", 0)) for case in root.iter("testcase")]
    except (Unreadable, ET.ParseError, ValueError):
        found = []
    if not all(0 <= s < float("inf") for s in found):   # nan, inf or negative: not a time
        found = []
    return found if len(found) == count else [0.0] * count


# --- one run, or refused ------------------------------------------------------------------

def refuse_mismatches(shards: list[Shard]) -> None:
    """Refused, with every reason: shards of other versions, of different runs, overlapping,
    or missing (each knows N)."""
    reasons = _versions(shards) or _runs(shards) or _coverage(shards)
    if reasons:
        raise Refused(*reasons)


def _versions(shards: list[Shard]) -> list[str]:
    reasons = []
    for key, ours, what in (("format_version", FORMAT_VERSION, "report format version"),
                            ("autograd_lab_version", version(), "autograd-lab version")):
        seen = _by(shards, lambda s, key=key: s.report.get(key))
        if len(seen) > 1:
            reasons.append(f"shards of different {what}s: {_listed(seen)}")
        elif next(iter(seen)) != ours:
            reasons.append(f"shards of {what} {next(iter(seen))}, and this autograd-lab's is "
                           f"{ours}: merge with the version that checked them")
    return reasons


def _runs(shards: list[Shard]) -> list[str]:
    reasons = []
    totals = _by(shards, lambda s: s.block.get("total"))
    if len(totals) > 1:
        reasons.append(f"shards of different splits: {_listed(_by(shards, lambda s: s.name))}")
    files = _by(shards, lambda s: (s.block.get("files"), s.block.get("digest")))
    if len(files) > 1:
        reasons.append("shards of different runs (not the same case files): "
                       + _listed({f"{n} files ({d})": w for (n, d), w in files.items()}))
    plots = _by(shards, lambda s: bool(s.block.get("plots")))
    if len(plots) > 1:
        reasons.append("shards with and without plots (--format): "
                       f"{_listed({'plots' if k else 'none': w for k, w in plots.items()})}; "
                       "check every shard alike")
    drawn = _by(shards, _plots_drawn)
    if len(drawn) > 1:
        reasons.append(f"shards with different --plots: {_listed(drawn)}; "
                       "check every shard alike")
    return reasons


def _plots_drawn(shard: Shard) -> str:
    """The shard's --plots: all where a shard of an earlier version does not say."""
    drawn = shard.block.get("plots_drawn", "all")
    return drawn if drawn in ("auto", "all", "none") else "all"


def _coverage(shards: list[Shard]) -> list[str]:
    reasons = []
    seen = _by(shards, lambda s: s.name)
    twice = {name: where for name, where in seen.items() if len(where) > 1}
    if twice:
        reasons.append(f"overlapping shards: {_listed(twice)} given more than once")
    total = shards[0].block["total"]
    missing = [f"{k}/{total}" for k in range(1, total + 1)
               if f"{k}/{total}" not in seen]
    if missing:
        reasons.append(f"missing shards: {', '.join(missing)} (given: "
                       f"{', '.join(sorted(seen, key=lambda n: int(n.split('/')[0])))})")
    return reasons


def refuse_overlaps(shards: list[Shard]) -> None:
    """Refused when two shards checked one file, or a file is in none."""
    owner: dict[int, Shard] = {}
    for shard in shards:
        for position, result in zip(shard.block["positions"], shard.results):
            if position in owner:
                raise Refused(f"overlapping shards: {owner[position].name} "
                              f"({owner[position].folder}) and {shard.name} ({shard.folder}) "
                              f"both checked {result.file} (were they split with different "
                              "--durations files?)")
            owner[position] = shard
    files = shards[0].block["files"]
    if len(owner) != files:
        raise Refused(f"missing cases: {files - len(owner)} of the run's {files} files are in "
                      "no shard (were the shards split with different --durations files?)")


def _by(shards: list[Shard], key) -> dict:
    """key's value -> the folders of the shards that have it, in the order given."""
    out: dict = {}
    for shard in shards:
        out.setdefault(key(shard), []).append(str(shard.folder))
    return out


def _listed(seen: dict) -> str:
    return "; ".join(f"{value} ({', '.join(where)})" for value, where in seen.items())


# --- the run, put back in order -----------------------------------------------------------

def placed(shards: list[Shard]) -> tuple[list[CaseResult], list[tuple[Path, dict]]]:
    """The results in the run's order, each with where its plots were drawn (the shard's
    folder, and the case's plot files there); each trimmed of the sweeps one run would not
    have made."""
    total = shards[0].block["files"]
    results: list = [None] * total
    sources: list = [None] * total
    for shard in shards:
        for position, result, paths in zip(shard.block["positions"], shard.results,
                                           plot_files(shard.results)):
            results[position], sources[position] = result, (shard.folder, paths)
    every = _plots_drawn(shards[0]) == "all"
    for i, result in enumerate(results):
        # --plots all: one run sweeps its first MAX_CASES files and then those that did not
        # pass (cli.py); a shard swept its own first MAX_CASES, some of them further on in
        # the run (auto: a shard sweeps as one run does, those that did not pass or on a kink)
        if every and i >= MAX_CASES and result.status == PASSED:
            result.sweeps = {}
    return results, sources
