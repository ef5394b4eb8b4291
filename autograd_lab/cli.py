"""`autograd-lab`: a thin face over the API (nothing heavy is imported until a command runs)."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import itertools
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograd-lab")
@click.pass_context
def main(ctx):
    """Prove a worked autograd example right: the hand-written chain rule, SymPy and
    torch.autograd, checked against each other from one YAML case."""
    if ctx.invoked_subcommand == "check":   # its defaults: the project's [tool.autograd-lab]
        from .settings import BadSettings, find
        try:
            found = find()
        except BadSettings as exc:
            raise click.UsageError(_shown(exc)) from None
        ctx.obj = found
        ctx.default_map = {"check": found.check_defaults()}


FORMATS = ("json", "md", "junit", "plots")  # kept here so that --help imports nothing heavy
MAX_TIMEOUT = 1_000_000.0  # check.MAX_SECONDS, likewise: the most a timer holds (11 days)
STOPPED = 130              # stopping.EXIT: SIGINT or SIGTERM ended the run
NOTHING = 5                # no case to check (pytest's and nbval's "no tests collected")


def _formats(ctx, param, value):
    chosen = [f.strip() for v in value for f in v.split(",") if f.strip()] or list(FORMATS)
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return tuple(chosen)


def _timeout(ctx, param, value):
    """Seconds from 0 (no limit) to MAX_TIMEOUT: a timer cannot hold more (1e20 overflowed
    in every case), and nan is no time."""
    if value is None or not 0 <= value <= MAX_TIMEOUT:
        raise click.BadParameter(f"give seconds from 0 (no limit) to {MAX_TIMEOUT:,.0f}, "
                                 f"not {value}")
    return value


TIMEOUT = click.option(
    "--timeout", default=60.0, show_default=True, type=float, callback=_timeout,
    envvar="AUTOGRAD_LAB_TIMEOUT", metavar="SECONDS",
    help=f"Time allowed for one case; past it the case is an error (0: no limit; at most "
         f"{MAX_TIMEOUT:,.0f}).")


def _tolerance(ctx, param, value):
    """RTOL[,ATOL]: two numbers, 0 or more."""
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) == 1:
        numbers += (0.0,)
    if len(numbers) != 2 or not all(0 <= n < float("inf") for n in numbers):
        raise click.BadParameter(f"give RTOL or RTOL,ATOL, numbers from 0; not {value}")
    return numbers


def _keywords(ctx, param, value):
    """-k EXPR, read now: a mistake in it is a usage error before any work."""
    if value is None:
        return None
    from .selection import BadExpression, Keywords
    try:
        return Keywords(value)
    except BadExpression as exc:
        raise click.BadParameter(_shown(exc)) from None


def _shard(ctx, param, value):
    """--shard K/N, read (the split itself: shard.py)."""
    if value is None:
        return None
    from .shard import parse
    try:
        return parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out", default="reports", show_default=True, type=click.Path(path_type=Path),
              help="Folder for the reports.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(min=0),
              help="Processes to check on (0: one per core); results are the same.")
@click.option("--format", "formats", multiple=True, callback=_formats, metavar="FORMAT",
              help="Reports to write: json, md, junit, plots (repeat or comma-separate; "
                   "default: all).")
@click.option("--plots", "plots", type=click.Choice(["auto", "all", "none"]), default="auto",
              show_default=True,
              help="Which cases plots/ draws: auto, those whose plot says something beyond "
                   "a PASS (a case that did not pass, or one on a kink); all, every case "
                   "(40 at most, those that did not pass first); none.")
@TIMEOUT
@click.option("--shard", callback=_shard, metavar="K/N",
              help="Check only the K-th of N parts of the files (a CI matrix's job); "
                   "`autograd-lab merge` puts the parts' reports back together.")
@click.option("--durations", default=".autograd-lab-durations.json", show_default=True,
              type=click.Path(path_type=Path), metavar="FILE",
              help="Each file's seconds in an earlier run, read (if there) to balance --shard.")
@click.option("--store-durations", is_flag=True,
              help="Record each file's seconds in --durations.")
@click.option("--tolerance", callback=_tolerance, metavar="RTOL[,ATOL]",
              help="The tolerance of a case that sets none (default: by dtype, as "
                   "torch.testing.assert_close's).")
@click.option("-k", "keywords", callback=_keywords, metavar="EXPR",
              help="Check only the cases whose names match EXPR, as pytest's -k: words "
                   "matched as substrings of the case's name, its file's and folders' names, "
                   "with and, or, not and parentheses.")
@click.option("--lf", "--last-failed", "last_failed", is_flag=True,
              help="Check only the cases that failed or were in error in the last run (its "
                   "report.json in --out); all of them when none did.")
@click.option("-x", "--exitfirst", is_flag=True,
              help="Stop at the first case that fails or is in error (the reports then hold "
                   "the cases checked).")
@click.option("-q", "--quiet", "quiet", count=True,
              help="Less output: no line for a case that passed, no table.")
@click.option("-v", "--verbose", "verbose", count=True,
              help="More output: a line for every case, even where a progress bar would "
                   "stand in for them.")
@click.option("--allow-unchecked", is_flag=True,
              help="Exit 0 (not 2) when a case or a tutorial compared nothing; it is still "
                   "reported as unchecked, never as passed.")
@click.pass_context
def check(ctx, paths, out, jobs, formats, plots, timeout, shard, durations, store_durations,
          tolerance, keywords, last_failed, exitfirst, quiet, verbose, allow_unchecked):
    """Check case files (files or folders; default: the paths of [tool.autograd-lab] in
    pyproject.toml, else cases/). A tutorial (a notebook .ipynb or its `In [n]:` text
    export, a .py script, a Markdown, MyST or Quarto page; in a folder, those that mention
    torch) is drafted into a temporary folder and its drafts checked, and its hand-written
    derivatives counted: found, checked, and why the others were not.

    Writes report.json, report.md, junit.xml and plots/ into --out; with
    $GITHUB_STEP_SUMMARY set, appends the summary to it. One run writes into a folder at a
    time: a second waits for it. pyproject.toml's [tool.autograd-lab] table sets defaults
    (paths, out, format, plots, jobs, timeout, tolerance); a flag given here wins.

    Exit 0 when every case passed, 1 when any failed, 2 when any is in error or compared
    nothing (unchecked; unless --allow-unchecked), a report could not be written or the
    command was used wrongly; 5 when there is no case to check;
    130 when stopped (Ctrl-C, SIGTERM): each report file is then whole, this run's or an
    earlier one's."""
    paths = paths or getattr(ctx.obj, "paths", ())
    if not paths and not Path("cases").exists():
        _nothing("no cases/ folder here: name the case files or folders to check, "
                 "or start one with `autograd-lab init`")
    paths = paths or (Path("cases"),)
    missing = [_shown(p) for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    formats = _drawable(formats)
    choice = Choice(keywords, _failed_before(out) if last_failed else None,
                    exitfirst, verbose - quiet, allow_unchecked)
    if tolerance is not None:   # read by each check, in every worker, as the timeout is
        os.environ["AUTOGRAD_LAB_TOLERANCE"] = ",".join(map(repr, tolerance))
    from .reports import Run
    # the Run before torch and SymPy load: it forks its drawing processes
    with _stoppable(REPORTS_WHOLE) as stop, _report_folder(out), \
            Run(out, formats, say=None if choice.verbosity < 0 else click.echo,
                # without plots/, report.md says of them what it always did: MAX_CASES
                plots=plots if "plots" in formats else "all") as run, \
            _drafted(paths) as drafted:
        _check(drafted.paths, jobs, timeout, run, formats, stop, drafted,
               (shard, durations, store_durations), choice)


def _drafted(paths):
    """The tutorials among paths drafted for checking; case files (.yaml, .yml) alone need
    none, and then the drafter and its notebook readers (jupytext, nbformat: 0.16 s of a
    one-case check's CPU) are never imported."""
    if all(Path(p).is_file() and Path(p).suffix.lower() in (".yaml", ".yml") for p in paths):
        return contextlib.nullcontext(_CaseFiles(list(paths)))
    from .draft import checked_notebooks  # it loads the checker: after the forks
    return checked_notebooks(paths, click.echo)


@dataclasses.dataclass
class _CaseFiles:
    """draft.Checked's face where nothing is a tutorial: the paths as they are."""

    paths: list
    errors: list = dataclasses.field(default_factory=list)
    tutorials: list = dataclasses.field(default_factory=list)
    coded: list = dataclasses.field(default_factory=list)

    def sources(self):
        return iter(())

    def coded_results(self):
        return iter(())

    def relabel(self, result):
        return result


class Choice(NamedTuple):
    """What of the files a run checks and how much it says: -k, --lf, -x, -q/-v."""

    keywords: Any = None         # selection.Keywords, or None: every file
    failed: set | None = None    # the files that did not pass last time, or None: every file
    exitfirst: bool = False
    verbosity: int = 0           # -v minus -q
    allow_unchecked: bool = False   # an unchecked case: exit 0, not 2

    @property
    def whole(self) -> bool:
        """Every file is checked (no -k, no --lf): a tutorial's count can be told."""
        return self.keywords is None and not self.failed

    def files(self, files: list) -> list:
        from .selection import failed_selected, keyword_selected
        if self.failed:
            again = failed_selected(files, self.failed)
            if not again:   # as pytest's --lf: none of them among these paths, so every one
                click.echo("note: --lf: no case that failed last time is among these paths; "
                           "checking every case", err=True)
            files = again or files
        if self.keywords is not None:
            files = keyword_selected(files, self.keywords)
        return files


def _failed_before(out: Path) -> set | None:
    """--lf: the last run's failed files, from out/report.json; said when there are none."""
    from .selection import last_failed
    failed = last_failed(out / "report.json")
    if not failed:
        click.echo(f"note: --lf: no failed case in {_shown(out / 'report.json')}"
                   + ("" if failed is not None else " (no report to read)")
                   + "; checking every case", err=True)
    return failed


def _nothing(message: str) -> None:
    """Nothing to check: one line and exit 5, as pytest when it collects nothing."""
    click.echo(f"error: {message}", err=True)
    sys.exit(NOTHING)


def _shown(text) -> str:
    """Case-given text (a path) for a terminal: control characters as escapes."""
    from .text import terminal
    return terminal(str(text), markup=False)


REPORTS_WHOLE = "each report file is whole, as this run or an earlier one wrote it"


@contextlib.contextmanager
def _stoppable(said: str = ""):
    """SIGINT and SIGTERM stop the run: one line, no traceback, no process left, exit 130."""
    from .stopping import stoppable
    try:
        with stoppable() as stop:
            yield stop
    except KeyboardInterrupt:
        click.echo("autograd-lab: stopped" + (f"; {said}" if said else ""), err=True)
        sys.exit(STOPPED)


@contextlib.contextmanager
def _report_folder(out: Path):
    """--out checked before any work (a usage error if it cannot be written), then held for
    this run alone (a run already writing there is waited for)."""
    from .reports import Unusable, locked, prepare
    try:
        prepare(out)
        with locked(out, say=lambda line: click.echo(_shown(line), err=True)):
            yield
    except Unusable as exc:
        raise click.UsageError(_shown(exc)) from None


def _drawable(formats: tuple) -> tuple:
    """Plots need matplotlib, which a user may have left out: skip them, saying so once."""
    if "plots" in formats and importlib.util.find_spec("matplotlib") is None:
        click.echo("note: plots skipped: matplotlib is not installed (pip install matplotlib)",
                   err=True)
        return tuple(f for f in formats if f != "plots")
    return formats


def _check(paths, jobs, timeout, run, formats, stop, drafted,
           sharding=(None, None, False), choice: Choice | None = None) -> None:
    choice = choice or Choice()
    from .startup import frozen_imports
    with frozen_imports():
        from .check import case_files
        from .parallel import check_files, one_thread
        from .reports import console, exit_code, progress, show
        from .reports import summary as show_summary
        from .result import PASSED
    stop.check()   # a Ctrl-C that an import swallowed still stops the run

    os.environ["AUTOGRAD_LAB_TIMEOUT"] = str(timeout)  # read by each check, in every worker
    one_thread()
    # numpy's overflow and nan warnings name its own source lines; the problems say it in words
    warnings.simplefilter("ignore", RuntimeWarning)
    files = case_files(paths)
    if not files and not drafted.errors and not drafted.tutorials:
        _nothing(f"no case files (*.yaml) under {', '.join(map(_shown, paths))}")
    chosen = choice.files(files)
    if not chosen and not drafted.errors and not drafted.tutorials:
        _nothing(f"no case selected: {len(files)} case file(s), none chosen by -k or --lf")
    part = _part(paths, chosen, sharding, run, formats)
    files = part.files
    # each tutorial's own result, its count, after its cases (a shard, -k or --lf checks only
    # some of them: then none)
    counted = sharding[0] is None and choice.whole
    sources = drafted.sources() if counted else iter(())
    # the cases read from tutorials' classes and functions are no files: checked here, in
    # this process, as their tutorial's count is (a shard, -k or --lf: not at all)
    coded = drafted.coded_results() if counted else iter(())
    extra = len(drafted.errors) + (len(drafted.tutorials) + len(drafted.coded) if counted else 0)
    run.begin(len(files) + extra)
    out = console()
    results = []
    # the plots draw MAX_CASES cases of those --plots draws, those that did not pass first:
    # each check computes its curves while the case is at hand where it may be drawn
    sweep, first = _sweep(run.plots if "plots" in formats else "none")
    bar = choice.verbosity <= 0   # -v: every case's line, no progress bar in their place
    with progress(out, len(files) + extra if bar else 0) as advance:
        checked = check_files(files, jobs, sweep, sweep_first=first)
        with contextlib.closing(checked):   # -x leaves early: its -j workers end with it
            for result in itertools.chain(drafted.errors, checked, coded, sources):
                stop.check()
                result = drafted.relabel(result)  # a drafted case: named by the notebook's cells
                show(result, out, quiet=advance.shown or choice.verbosity < 0)
                results.append(result)
                run.add(result)
                advance()
                if choice.exitfirst and result.status != PASSED:
                    out.print(f"stopped at the first case that did not pass (-x): "
                              f"{len(results)} of {len(files) + extra} checked")
                    break
    with stop.held():   # the reports are written whole, all of them: a stop waits for them
        unwritten = _write(run, results)
        if sharding[2]:
            from .shard import record
            for line in record(sharding[1], part, results):
                click.echo(f"autograd-lab: {_shown(line)}", err=True)
                unwritten.append(line)
    show_summary(results, out, run.out, table_shown=choice.verbosity >= 0)
    sys.exit(max(exit_code(results, choice.allow_unchecked), 2 if unwritten else 0))


def _sweep(plots: str) -> tuple[str | None, int]:
    """When a check computes its curves (check_file's sweep), and for how many first files
    whatever their result: what --plots may draw."""
    from .reports import MAX_CASES
    return {"all": ("unless passed", MAX_CASES), "auto": ("where telling", 0),
            "none": (None, 0)}[plots]


def _write(run, results) -> list[str]:
    """Every report, then the job summary; what could not be written, said a line each (the
    rest is written all the same)."""
    from .reports import append_step_summary
    run.finish(results)
    unwritten = list(run.failures)
    try:
        append_step_summary(results)
    except OSError as exc:
        unwritten.append(f"could not append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")
    for line in unwritten:
        click.echo(f"autograd-lab: {_shown(line)}", err=True)
    return unwritten


def _part(paths, files, sharding, run, formats):
    """The files to check: all, or with --shard K/N that part, whose place report.json says."""
    from .shard import BadDurations, choose
    shard, durations, store = sharding
    try:
        part = choose(paths, files, shard, durations, "plots" in formats, store, run.plots)
    except BadDurations as exc:
        raise click.UsageError(_shown(exc)) from None
    if shard is not None:
        run.describe(shard=part.block)
    return part


@main.command()
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(path_type=Path, file_okay=False))
@click.option("--out", "out", default="reports", show_default=True, type=click.Path(path_type=Path),
              help="Folder for the whole run's reports.")
@click.option("--allow-unchecked", is_flag=True,
              help="Exit 0 (not 2) when a case compared nothing, as check's option does.")
def merge(folders, out, allow_unchecked):
    """Put the reports of a run checked in shards (`check --shard K/N`, one a CI job) back
    together: FOLDERS are the shards' --out folders.

    Writes report.json, report.md, junit.xml and plots/ into --out as one run over all the
    files would (timestamps and timings aside); with $GITHUB_STEP_SUMMARY set, appends the
    summary to it. A shard's report is untrusted: read bounded and validated, a damaged or
    forged one refused. Refuses shards of other versions, overlapping or missing shards, and
    an --out that cannot be written (exit 2); else exits as the whole run would: 0 all passed,
    1 any failed, 2 any in error or unchecked (unless --allow-unchecked) or a report not
    written; 130 when stopped."""
    from .merge import Refused
    from .merge import merge as put_together
    from .reports import append_step_summary, console, exit_code, show, summary

    try:
        with _stoppable(REPORTS_WHOLE):
            merged = put_together(list(folders), out,
                                  say=lambda note: click.echo(_shown(note), err=True))
    except Refused as exc:   # a shard's words (a forged version, a path) escaped, as all are
        for reason in exc.args:
            click.echo(f"error: {_shown(reason)}", err=True)
        sys.exit(2)
    results = merged.results
    terminal = console()
    for result in results:
        show(result, terminal, quiet=True)
    unwritten = list(merged.unwritten)
    try:
        append_step_summary(results)
    except OSError as exc:
        unwritten.append(f"could not append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")
    for line in unwritten:
        click.echo(f"autograd-lab: {_shown(line)}", err=True)
    summary(results, terminal, out)
    sys.exit(max(exit_code(results, allow_unchecked), 2 if unwritten else 0))


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ci", is_flag=True,
              help="Also write .github/workflows/autograd-lab.yml, a GitHub Actions workflow "
                   "that runs the check.")
def init(folder, ci):
    """Start a folder of cases: write FOLDER/cases/example.yaml (default FOLDER: here), a
    commented case that passes. Refuses to overwrite a file (exit 2)."""
    from .starter import AlreadyThere, CannotWrite, write

    try:
        written = write(folder, ci)
    except (AlreadyThere, CannotWrite) as exc:
        click.echo(f"error: {_shown(exc)}", err=True)
        sys.exit(2)
    for path in written:
        click.echo(f"wrote {_shown(path)}")
    where = "" if folder == Path(".") else f"cd {_shown(folder)} && "
    click.echo(f"next: {where}autograd-lab check")


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the drafted cases (default: cases/<the notebook's name>).")
@click.option("--force", is_flag=True,
              help="Replace drafts already in --out (by default draft writes only new files).")
@click.option("--blocks", is_flag=True,
              help="Write a hand-written backward pass as the notebook's own lines (backward: "
                   "|), where the case reads them so.")
@TIMEOUT
def draft(notebook, out, force, blocks, timeout):
    """Draft the case files that check a tutorial (a notebook .ipynb or its `In [n]:` text
    export, a .py script, a Markdown, MyST or Quarto page), read statically: nothing in it
    runs.

    Each entry says which cell and line it came from; what the draft leaves out is said, a
    line each. Never overwrites a file without --force (a draft may have been edited). Exit 0
    when drafted, 2 when the notebook cannot be read, a file is in the way, the time limit
    ran out or the draft failed on a part of it (a bug: please report it)."""
    from .draft import run_draft
    sys.exit(run_draft(notebook, out, click.echo, force, timeout, blocks))


def _case_names(ctx, param, incomplete: str):
    """explain's CASE, completed: the names of the cases under cases/, then files (the
    shell's own file completion)."""
    from click.shell_completion import CompletionItem
    folder = Path("cases")
    stems = sorted({p.stem for suffix in ("*.yaml", "*.yml") for p in folder.rglob(suffix)}
                   if folder.is_dir() else ())
    return ([CompletionItem(stem) for stem in stems if stem.startswith(incomplete)]
            + [CompletionItem(incomplete, type="file")])


@main.command()
@click.argument("case", type=click.Path(dir_okay=False), shell_complete=_case_names)
@TIMEOUT
def explain(case, timeout):
    """Print a case's derivation step by step: the forward values, each local derivative,
    the product along each path, SymPy's derivative, and torch's backward graph.

    CASE is a case file or the name of a case under cases/. Bound as check is: the case's
    size when read, and --timeout."""
    from .errors import CaseError
    from .explain import explain as run
    from .reports import console

    try:
        with _stoppable():
            run(case, console(), timeout)
    except CaseError as exc:
        click.echo(f"error: {_shown(exc)}", err=True)
        sys.exit(2)


@main.command()
@click.option("--report", is_flag=True, help="The schema of report.json instead.")
def schema(report):
    """Print the JSON Schema of a case file, for editors: save it and point
    yaml-language-server at it with `# yaml-language-server: $schema=case.schema.json`.
    With --report, the schema of report.json, for scripts that read it."""
    if report:
        from .reports import report_schema_text as text
        click.echo(text(), nl=False)
        return
    import json

    from .reading import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


if __name__ == "__main__":
    main()
