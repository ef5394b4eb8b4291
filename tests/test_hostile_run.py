"""Issue 19's second round, at the level of whole runs: what a terminal receives from a
hostile case (under a real pseudo-terminal), runs stopped by SIGINT and SIGTERM, report
folders that cannot be written or that two runs share, report files that must not collide,
and the resources no bound had counted."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab import check as guard
from autograd_lab.check import check_file
from autograd_lab.cli import MAX_TIMEOUT, main
from autograd_lab.reports import Unusable, locked
from autograd_lab.reports import _markdown as markdown
from autograd_lab.result import CaseResult

from .test_hostile import GOOD, WRONG_EDGE

CLI = [sys.executable, "-m", "autograd_lab.cli"]
# an edge whose comment moves the cursor up, erases the line, prints a green PASS, sets the
# terminal's title and rings its bell; a title that forges a line
PAYLOAD = "\\e[1A\\e[2K\\e[32mPASS\\e[0m \\e]0;pwned\\a \\x9b2J"
ATTACK = ('title: "x\\nPASS  fake_case  cases/fake.yaml:1"\n'
          + GOOD.replace("y/x: 2*x", f'y/x: "3*x # {PAYLOAD}"'))
# the only escape sequences a terminal may receive: rich's own colours and styles (SGR)
SGR = re.compile(rb"\x1b\[[0-9;]*m")


def run_in_a_terminal(args: list[str], cwd: Path, env: dict | None = None) -> bytes:
    """Run the CLI with a pseudo-terminal as its stdout and stderr; everything it wrote."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(CLI + args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=follower,
                               stderr=follower, env={**os.environ, **(env or {})})
    os.close(follower)
    received = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 300)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:   # EIO: every writer of the terminal has gone
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    process.wait(timeout=60)
    return received


def test_no_control_byte_from_a_case_reaches_a_terminal_raw(tmp_path):
    """The FAIL line and its problems are not erased, recoloured or retitled: every escape
    sequence that arrives is one of rich's colours, and the case's own arrive as text."""
    (tmp_path / "attack.yaml").write_text(ATTACK)
    (tmp_path / "esc\x1b[2Kname.yaml").write_text(WRONG_EDGE)
    received = run_in_a_terminal(["check", ".", "--out", "out", "--format", "json"], tmp_path,
                                 {"TERM": "xterm-256color", "COLUMNS": "200"})
    assert b"Traceback" not in received
    bare = SGR.sub(b"", received)
    assert re.search(rb"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]", bare) is None   # CR LF: the pty's
    assert "\x9b".encode() not in received and b"\x07" not in received
    text = bare.decode()
    assert "3*x # \\x1b[1A\\x1b[2K\\x1b[32mPASS\\x1b[0m \\x1b]0;pwned\\x07 \\x9b2J" in text
    assert "esc\\x1b[2Kname" in text
    lines = text.replace("\r\n", "\n").split("\n")   # a line a case, none forged
    verdicts = [line.split()[0] for line in lines if line and not line.startswith(" ")]
    assert verdicts[:2] == ["FAIL", "FAIL"] and "PASS" not in verdicts   # none forged
    placed = [line.split()[1] for line in lines if line.startswith("      - ")]
    assert placed and all(".yaml:" in where for where in placed)   # each problem at its line
    assert not [line for line in lines if line.startswith("PASS")]


def test_the_pytest_plugin_shows_case_text_escaped_and_runs_under_xdist(tmp_path):
    """pytest prints node ids and reports raw, and pytest-xdist cannot send a lone surrogate
    between processes (a file name that is not UTF-8 gave INTERNALERROR)."""
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "attack.yaml").write_text(ATTACK)
    (cases / os.fsdecode(b"caf\xe9.yaml")).write_text(WRONG_EDGE)
    (cases / "esc\x1b[2Kname.yaml").write_text(WRONG_EDGE)
    folder = cases / os.fsdecode(b"dir\xe9\x1b[2K")   # a folder's name is in the report too
    folder.mkdir()
    (folder / "inside.yaml").write_text(WRONG_EDGE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "--autograd-lab", "-n", "2",
                          "-p", "no:cacheprovider", "cases"], cwd=tmp_path, capture_output=True,
                         timeout=600)
    out = os.fsdecode(run.stdout + run.stderr)
    assert run.returncode == 1, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert "4 failed" in out
    assert re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]", out) is None
    assert "cases/caf\\udce9.yaml::caf\\udce9" in out
    assert "cases/esc\\x1b[2Kname.yaml" in out
    assert "cases/dir\\udce9\\x1b[2K/inside.yaml::inside" in out
    assert "3*x # \\x1b[1A\\x1b[2K" in out


# --- stopping ------------------------------------------------------------------------------

def descendants(pid: int) -> set[int]:
    """Every process below pid, from /proc (a drawing process leads a group of its own)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"   # a zombie has ended; its reaping is init's


def slow_cases(folder: Path, count: int) -> None:
    """Cases that each take SymPy half a second or so (40,956 operations written out): a run of
    them is still checking when stopped. Each its own expression (its own constant): cases
    of one run share the derivatives SymPy has taken."""
    for i in range(count):
        nodes = "".join(f"  n{k}: sin(n{k - 1})*n{k - 1} + {i + 1}\n" for k in range(1, 14))
        (folder / f"slow_{i:02}.yaml").write_text(
            f"inputs:\n  x: {{value: {0.5 + i / 100}, grad: true}}\nforward:\n  n0: x\n{nodes}"
            "gradient:\n  x: 1\n")


def reports(out: Path) -> dict:
    """Every report file's bytes (not the lock, which holds the pid of the run that took it)."""
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and p.name != ".autograd-lab.lock"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_exits_130_leaving_no_process_and_the_reports_whole(tmp_path, stop):
    earlier = {"report.json": b'{"format_version": 1}\n', "report.md": b"# earlier\n",
               "junit.xml": b"<testsuites/>\n", "plots/slow_00-x.png": b"\x89PNG earlier"}
    for name, data in earlier.items():   # an earlier run's reports, as it left them
        (tmp_path / "out" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "out" / name).write_bytes(data)
    before = reports(tmp_path / "out")
    (tmp_path / "many").mkdir()
    slow_cases(tmp_path / "many", 40)
    run = subprocess.Popen(CLI + ["check", "many", "--out", "out", "-j", "2"], cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:   # the drawing processes and both workers are up
        seen |= descendants(run.pid)
        if len(seen) >= 4 or run.poll() is not None:
            break
        time.sleep(0.1)
    time.sleep(1.0)
    seen |= descendants(run.pid)
    assert run.poll() is None and len(seen) >= 4, "the run ended before it could be stopped"
    run.send_signal(stop)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130
    assert err.decode().splitlines() == ["autograd-lab: stopped; each report file is whole, "
                                         "as this run or an earlier one wrote it"]
    assert b"Traceback" not in out + err
    assert [pid for pid in seen if alive(pid)] == []
    assert reports(tmp_path / "out") == before   # stopped while checking: as they were


# --- the report folder ----------------------------------------------------------------------

def test_an_out_that_is_a_file_is_a_usage_error_before_any_case_is_checked(tmp_path):
    (tmp_path / "out").write_text("not a folder")
    run = CliRunner().invoke(main, ["check", str(tmp_path / "missing.yaml"), "--out",
                                    str(tmp_path / "out")])
    assert run.exit_code == 2   # the path is checked first: no such file
    (tmp_path / "a.yaml").write_text(GOOD)
    start = time.monotonic()
    run = CliRunner().invoke(main, ["check", str(tmp_path / "a.yaml"), "--out",
                                    str(tmp_path / "out")])
    assert run.exit_code == 2
    assert f"Error: --out {tmp_path / 'out'}: it is a file, not a folder" in run.output
    assert time.monotonic() - start < 5   # no case checked, no torch imported for it
    under = CliRunner().invoke(main, ["check", str(tmp_path / "a.yaml"), "--out",
                                      str(tmp_path / "out" / "sub")])
    assert under.exit_code == 2
    assert f"--out {tmp_path / 'out' / 'sub'}: cannot write there (Not a directory)" in \
        under.output


def test_an_out_that_cannot_be_written_is_a_usage_error(tmp_path, monkeypatch):
    """A read-only folder (root writes anywhere, so the file system's refusal is made here)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    (tmp_path / "a.yaml").write_text(GOOD)
    run = CliRunner().invoke(main, ["check", str(tmp_path / "a.yaml"), "--out",
                                    str(tmp_path / "out")])
    assert run.exit_code == 2
    assert f"--out {tmp_path / 'out'}: cannot write there (Read-only file system)" in run.output


def test_a_report_that_cannot_be_written_leaves_the_others_written(tmp_path, monkeypatch):
    """report.md cannot be written (here a folder stands in its place, as a full disk
    would refuse it): the other reports are written, the failure is one line, exit 2."""
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "out" / "report.md").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["check", "a.yaml", "--out", "out", "--format",
                                    "json,md,junit"])
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        "autograd-lab: could not write out/report.md: Is a directory"]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["summary"]["passed"] == 1
    assert (tmp_path / "out" / "junit.xml").read_text().count("<testcase ") == 1
    assert "1 case: 1 passed" in run.stdout


def test_a_full_disk_leaves_no_temporary_file_and_the_other_reports_written(tmp_path,
                                                                             monkeypatch):
    """The disk fills up as junit.xml is written (the rename refused, as a full disk
    would refuse the write): said in one line, nothing half-written left, exit 2."""
    real = os.replace

    def full(src, dst, *args, **kwargs):
        if str(dst).endswith("junit.xml"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", full)
    (tmp_path / "a.yaml").write_text(GOOD)
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["check", str(tmp_path / "a.yaml"), "--out",
                                    str(out), "--format", "json,md,junit"])
    assert run.exit_code == 2
    assert run.stderr == f"autograd-lab: could not write {out / 'junit.xml'}: No space left on " \
                         "device\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.json",
                                                     "report.md"]


def test_the_timeout_is_bounded_where_it_is_given(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text(GOOD)
    for value in ("1e20", "nan", "-1", "inf"):
        run = CliRunner().invoke(main, ["check", str(tmp_path / "a.yaml"), "--timeout", value,
                                        "--out", str(tmp_path / "out")])
        assert run.exit_code == 2
        assert "Invalid value for '--timeout': give seconds from 0 (no limit) to 1,000,000" \
            in run.output
    assert MAX_TIMEOUT == guard.MAX_SECONDS
    monkeypatch.setenv(guard.ENV, "1e20")   # read by each check (the API, -j workers)
    assert guard.seconds() == 1_000_000
    assert check_file(tmp_path / "a.yaml").status == "passed"


def test_the_temporary_files_of_killed_runs_are_removed(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    left = [out / ".report.json.k2j4h5g6.tmp", out / ".junit.xml.abcd_123.tmp",
            out / "plots" / ".a-x.png.zz99aa00.tmp",
            out / ".plots-4242.staging" / "plots" / "a-x.png"]   # a killed run's plots
    kept = [out / ".notes.tmp", out / "mine.tmp", out / ".report.json.short.tmp"]
    for path in left + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half a report")
    run = CliRunner().invoke(main, ["check", str(tmp_path / "a.yaml"), "--out", str(out),
                                    "--format", "json"])
    assert run.exit_code == 0, run.output
    assert [p for p in left if p.exists()] == [] and not (out / ".plots-4242.staging").exists()
    assert [p for p in kept if p.exists()] == kept


def test_a_second_run_on_one_folder_waits_for_the_first(tmp_path):
    """The lock is held here (another open of the lock file: flock locks an open file, so
    one process can play both runs); the run says so in one line, waits, then writes."""
    (tmp_path / "a.yaml").write_text(GOOD)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".autograd-lab.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        run = subprocess.Popen(CLI + ["check", "a.yaml", "--out", "out", "--format", "json"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        note = run.stderr.readline()
        assert note == ("autograd-lab: another run (pid 4242) is writing reports into out; "
                        "waiting for it to finish\n")
        time.sleep(0.5)
        assert run.poll() is None and not (out / "report.json").exists()
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert json.loads((out / "report.json").read_text())["summary"]["passed"] == 1


def test_a_run_refuses_a_folder_held_too_long(tmp_path):
    notes: list[str] = []
    with open(tmp_path / ".autograd-lab.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        with pytest.raises(Unusable) as refused, locked(tmp_path, notes.append, wait=0.3):
            pass
    assert str(refused.value) == (f"--out {tmp_path}: another run (pid 4242) has been writing "
                                  "reports there for 0.3 s; wait for it, or give this run "
                                  "another --out")
    assert len(notes) == 1


def test_a_run_leaves_no_lock_file_and_the_next_takes_the_folder(tmp_path):
    """The lock file goes with the run that held it; the next run makes and holds its own."""
    notes: list[str] = []
    with locked(tmp_path, notes.append):
        assert (tmp_path / ".autograd-lab.lock").read_text() == f"{os.getpid()}\n"
    assert list(tmp_path.iterdir()) == [] and notes == []
    with locked(tmp_path, notes.append):
        assert (tmp_path / ".autograd-lab.lock").exists()
    assert list(tmp_path.iterdir()) == [] and notes == []


def test_a_folder_that_cannot_be_locked_is_said_and_used(tmp_path, monkeypatch):
    def unsupported(*args):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(fcntl, "flock", unsupported)
    notes: list[str] = []
    with locked(tmp_path, notes.append):
        notes.append("the run")
    assert notes == [f"autograd-lab: cannot lock {tmp_path} (No locks available); a run writing "
                     "there at the same time would mix its reports with this one's", "the run"]


def test_each_case_links_its_own_plot_whatever_their_names(tmp_path, monkeypatch):
    """Two cases named a (in two folders) and one named a-1: three plots, each linked from
    its own case (the second a had linked a-1's, its numbered name being a-1's own)."""
    for folder, name, edge in (("one", "a", "3*x"), ("two", "a", "4*x"), ("one", "a-1", "5*x")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / f"{name}.yaml").write_text(GOOD.replace("y/x: 2*x", f"y/x: {edge}"))
    long = "p" + "a" * 199   # 200 characters: its plot's name had been too long to write
    (tmp_path / "two" / "long.yaml").write_text(GOOD.replace("x", long))
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["check", "one", "two", "--out", "out", "--plots", "all"])
    assert run.exit_code == 1, run.stderr
    plots = sorted(p.name for p in (tmp_path / "out" / "plots").iterdir())
    assert plots == ["a-1-x.png", "a-x--2.png", "a-x.png", f"long-{long[:75]}.png"]
    md = (tmp_path / "out" / "report.md").read_text()
    # each case's heading, its wrong edge, and the plot it links
    order = re.findall(r"\n## (\S+)\n.*?hand-written (\d)\\\*x.*?\((plots/[^)]+)\)", md, re.S)
    assert order == [("a-1", "5", "plots/a-1-x.png"), ("a", "3", "plots/a-x.png"),
                     ("a", "4", "plots/a-x--2.png")]
    assert f"(plots/long-{long[:75]}.png)" in md
    # and the summary table's links, each to its own heading (GitHub numbers a repeat)
    links = re.findall(r"\| \[([^]]+)\]\(#([^)]+)\)", md)
    assert links[:3] == [("a-1", "a-1"), ("a", "a"), ("a", "a-2")]


# --- what the bounds had not counted --------------------------------------------------------

def test_a_behaviour_look_at_a_million_elements_lists_a_thousand(tmp_path):
    (tmp_path / "big.yaml").write_text(
        "inputs:\n  x: {value: {linspace: [0, 1, 1000000]}, grad: true}\nsteps:\n"
        "  - y: x*2\n    expect: {y: 0}\n  - expect: {x: 1}\n")
    result = check_file(tmp_path / "big.yaml")
    assert result.status == "failed"
    assert [len(c.value) for c in result.claims] == [1000, 1000]
    assert result.claims[0].value[:3] == pytest.approx([0.0, 2 / 999_999, 4 / 999_999])
    run = CliRunner().invoke(main, ["check", str(tmp_path / "big.yaml"), "--out",
                                    str(tmp_path / "out"), "--format", "json"])
    assert run.exit_code == 1
    assert (tmp_path / "out" / "report.json").stat().st_size < 100_000   # it had been 128 MB


def test_the_job_summary_stays_under_githubs_mib_whatever_the_titles(tmp_path, monkeypatch):
    target = tmp_path / "summary.md"
    target.write_text("an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    huge = [CaseResult(f"c{i}", f"c{i}.yaml", "failed", title="t" * 1_000_000,
                       problems=["p" * 1_000_000]) for i in range(2)]
    many = [CaseResult(f"c{i}", f"c{i}.yaml", "failed", title="a title",
                       problems=[f"problem {i}"]) for i in range(30_000)]
    for results in (huge, many):
        assert markdown.append_step_summary(results)
    size = target.stat().st_size
    assert size <= markdown.STEP_SUMMARY_BYTES
    text = target.read_text()
    assert text.count("# autograd-lab report") == 2
    assert "cases are left out of the table" in text and "see report.md" in text
    assert f"| c0 | {'t' * 300} … | ❌ failed |" in text


def test_a_formula_too_slow_to_simplify_never_costs_the_verdict(tmp_path, monkeypatch):
    """factor() of this edge's SymPy form ran past 5 minutes (a timeout error instead of the
    failure, or a run that never ended with --timeout 0); within its budget it is given as
    SymPy wrote it."""
    (tmp_path / "slow.yaml").write_text("""inputs:
  x: {value: 0.3, grad: true}
  a: 1.5
  b: 0.5
forward:
  u: (x + a)**17*(x - b)**15*(x**2 + 3*x + a)**16*(a*x - b)**14 + (x**3 - a)**19*(x + b)**18
  y: u
chain_rule:
  y/u: 1
  u/x: 2
""")
    monkeypatch.setenv(guard.ENV, "0")   # no limit for the case: the budget alone
    start = time.monotonic()
    result = check_file(tmp_path / "slow.yaml")
    assert time.monotonic() - start < 60
    assert result.status == "failed"
    assert result.problems[0].startswith("chain_rule edge u/x: hand-written 2, SymPy ")
    assert [e.status for e in result.edges] == ["passed", "failed"]


def test_explain_has_the_same_time_limit(tmp_path, monkeypatch, slow_sympy):
    from .test_guard import chain
    (tmp_path / "chain.yaml").write_text(chain(14))
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["explain", "chain.yaml", "--timeout", "1"])
    assert run.exit_code == 2
    assert run.stderr.startswith("error: chain.yaml: checking stopped after 1 s, the time limit "
                                 "for one case (--timeout or $AUTOGRAD_LAB_TIMEOUT sets it)")
    assert "Traceback" not in run.stderr
