"""Issue 27, merge: a shard's report.json, its plots and merge's own --out, hostile. A shard's
folder is a CI artifact a pull request can forge; every attack ends in one located line and
exit 2 (or a correct verdict), no traceback, nothing read through a link, nothing written
outside --out."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "cases" / "x_squared.yaml", ROOT / "cases" / "sin_x_squared.yaml"]


def invoke(*args, env=None):
    return CliRunner().invoke(main, list(map(str, args)), env=env)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two small files checked in 2 shards, plots and all: s1 holds sin_x_squared (the
    bigger file, placed first), s2 x_squared."""
    tmp = tmp_path_factory.mktemp("hostile_shards")
    for k in (1, 2):
        run = invoke("check", *FILES, "--shard", f"{k}/2", "--out", tmp / f"s{k}", "--plots",
                     "all")
        assert run.exit_code == 0, run.output
    return tmp


def forged(shards: Path, tmp_path: Path, change, name: str = "s1") -> Path:
    """A copy of shard `name` whose report.json is change(report) (or change's text)."""
    target = tmp_path / name
    shutil.copytree(shards / name, target, symlinks=True)
    report = json.loads((target / "report.json").read_text())
    made = change(report)
    (target / "report.json").write_text(made if isinstance(made, str) else json.dumps(report))
    return target


def one_error(run) -> str:
    """The one line a refused merge writes, checked to be the only one, exit 2."""
    assert run.exit_code == 2, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in run.output, run.output
    return lines[0]


def merge_with(shards: Path, one: Path, tmp_path: Path, which: str = "s2"):
    return invoke("merge", one, shards / which, "--out", tmp_path / "merged")


def test_the_two_shards_merge(shards, tmp_path):
    run = invoke("merge", shards / "s1", shards / "s2", "--out", tmp_path / "m")
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in (tmp_path / "m" / "plots").iterdir()) == \
        ["sin_x_squared-x.png", "x_squared-x.png"]


def test_a_deep_json_is_refused_before_it_is_parsed_into_a_recursion(shards, tmp_path):
    one = forged(shards, tmp_path, lambda r: "[" * 100_000 + "]" * 100_000)
    assert one_error(merge_with(shards, one, tmp_path)) == \
        f"error: {one / 'report.json'}: nested deeper than 32 levels: refused"
    one = forged(shards, tmp_path / "b", lambda r: r["cases"][0]["graph"].update(
        deep=json.loads("[" * 40 + "]" * 40)))
    assert one_error(merge_with(shards, one, tmp_path)).endswith("nested deeper than 32 "
                                                                 "levels: refused")


def test_a_key_check_never_writes_is_refused(shards, tmp_path):
    one = forged(shards, tmp_path, lambda r: r["cases"][0].update(evil=1))
    assert one_error(merge_with(shards, one, tmp_path)) == \
        f"error: {one / 'report.json'}: case 1: evil: a key check never writes"


@pytest.mark.parametrize(("positions", "said"), [
    ([2], "shard: a position past the run's 2 files"),
    ([-1], "shard.positions.0: at least 0 expected"),
    ([2**70], "shard: a position past the run's 2 files"),
    (["0"], "shard.positions.0: expected a whole number")])
def test_positions_out_of_range_are_refused(shards, tmp_path, positions, said):
    one = forged(shards, tmp_path, lambda r: r["shard"].update(positions=positions))
    assert one_error(merge_with(shards, one, tmp_path)) == \
        f"error: {one / 'report.json'}: {said}"


@pytest.mark.parametrize(("total", "said"), [
    (10**10, "shard.total: at most 1,000 expected"),
    ("2", "shard.total: expected a whole number")])
def test_a_forged_number_of_parts_is_refused(shards, tmp_path, total, said):
    one = forged(shards, tmp_path, lambda r: r["shard"].update(total=total))
    assert one_error(merge_with(shards, one, tmp_path)) == \
        f"error: {one / 'report.json'}: {said}"


def test_a_non_finite_pointer_to_nothing_is_refused(shards, tmp_path):
    one = forged(shards, tmp_path, lambda r: r["cases"][0].update(
        non_finite={"/nowhere/at/all": "nan"}))
    assert one_error(merge_with(shards, one, tmp_path)) == \
        f"error: {one / 'report.json'}: case 1: its non_finite entries point at no number"


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_a_report_that_is_no_regular_file_is_refused(shards, tmp_path, special):
    one = tmp_path / "s1"
    shutil.copytree(shards / "s1", one)
    report = one / "report.json"
    report.unlink()
    if special == "fifo":
        os.mkfifo(report)
        said = "a FIFO, device or socket, not a regular file: refused"
    elif special == "folder":
        report.mkdir()
        said = "a folder, not a regular file: refused"
    else:
        report.symlink_to(special)
        said = "a link, not a regular file: refused"
    assert one_error(merge_with(shards, one, tmp_path)) == f"error: {report}: {said}"


def test_a_forged_passed_over_problems_is_refused_not_counted(shards, tmp_path):
    def fail(report):
        case = report["cases"][0]
        case["problems"] = ["edge y/x: hand-written 3*x, SymPy says 2*x"]
        case["problem_places"] = [None]
        case["edges"][0]["status"] = "failed"
    one = forged(shards, tmp_path, fail)
    assert one_error(merge_with(shards, one, tmp_path)) == (
        f"error: {one / 'report.json'}: case 1: marked passed but it lists 1 problem(s): a "
        "damaged or forged report")
    one = forged(shards, tmp_path / "b", lambda r: r["cases"][0]["edges"][0].update(
        status="failed"))
    assert "case 1: marked passed but z/y failed" in one_error(merge_with(shards, one, tmp_path))


def test_a_forged_version_reaches_the_terminal_escaped(shards, tmp_path):
    one = forged(shards, tmp_path, lambda r: r.update(
        autograd_lab_version="9\nerror: none\x1b[2J\x1b]0;pwned\x07"))
    line = one_error(merge_with(shards, one, tmp_path))
    assert "\x1b" not in line and "\x07" not in line
    assert "9\\nerror: none\\x1b[2J" in line


def test_a_format_version_that_is_text_is_refused_by_its_type(shards, tmp_path):
    one = forged(shards, tmp_path, lambda r: r.update(format_version="1"))
    assert one_error(merge_with(shards, one, tmp_path)) == \
        f"error: {one / 'report.json'}: format_version: expected a whole number"


def test_a_plot_linked_to_a_private_file_is_not_copied(shards, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the private key")
    one = tmp_path / "s1"
    shutil.copytree(shards / "s1", one)
    png = one / "plots" / "sin_x_squared-x.png"
    png.unlink()
    png.symlink_to(secret)
    run = merge_with(shards, one, tmp_path)
    assert run.exit_code == 0, run.output
    assert f"note: {png}: a link, not a regular file: refused; report.md leaves that plot " \
        "out" in run.output
    merged = tmp_path / "merged"
    assert not (merged / "plots" / "sin_x_squared-x.png").exists()
    assert all(b"private key" not in p.read_bytes() for p in merged.rglob("*") if p.is_file())


def test_a_plots_folder_linked_outside_is_not_followed(shards, tmp_path):
    one = tmp_path / "s1"
    shutil.copytree(shards / "s1", one)
    shutil.move(one / "plots", tmp_path / "elsewhere")
    (one / "plots").symlink_to(tmp_path / "elsewhere")
    run = merge_with(shards, one, tmp_path)
    assert run.exit_code == 0 and "a link or a file, not a folder of plots: refused" in run.output
    assert not (tmp_path / "merged" / "plots" / "sin_x_squared-x.png").exists()


def test_a_fifo_named_png_does_not_hang_merge(shards, tmp_path):
    one = tmp_path / "s1"
    shutil.copytree(shards / "s1", one)
    png = one / "plots" / "sin_x_squared-x.png"
    png.unlink()
    os.mkfifo(png)
    start = time.monotonic()
    run = merge_with(shards, one, tmp_path)
    assert time.monotonic() - start < 30
    assert run.exit_code == 0 and "a FIFO, device or socket, not a regular file" in run.output


def test_out_a_file_is_one_line(shards, tmp_path):
    (tmp_path / "merged").write_text("mine")
    run = merge_with(shards, shards / "s1", tmp_path)
    assert one_error(run) == f"error: --out {tmp_path / 'merged'}: it is a file, not a folder"
    assert (tmp_path / "merged").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_read_only_is_one_line(shards, tmp_path):
    (tmp_path / "merged").mkdir()
    (tmp_path / "merged").chmod(0o555)
    try:
        line = one_error(merge_with(shards, shards / "s1", tmp_path))
    finally:
        (tmp_path / "merged").chmod(0o755)
    assert line.startswith(f"error: --out {tmp_path / 'merged'}: cannot write there (")


def test_an_unwritable_step_summary_is_one_line(shards, tmp_path):
    (tmp_path / "summary").mkdir()
    run = invoke("merge", shards / "s1", shards / "s2", "--out", tmp_path / "m",
                 env={"GITHUB_STEP_SUMMARY": str(tmp_path / "summary")})
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert "autograd-lab: could not append to $GITHUB_STEP_SUMMARY: Is a directory" in run.output
    assert (tmp_path / "m" / "report.json").is_file()


def test_a_merge_waits_for_the_run_writing_into_its_out(shards, tmp_path):
    """Held as check holds its folder: two merges into one --out never mix their reports."""
    out = tmp_path / "m"
    out.mkdir()
    fd = os.open(out / ".autograd-lab.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    threading.Timer(1.0, lambda: os.close(fd)).start()
    run = invoke("merge", shards / "s1", shards / "s2", "--out", out)
    assert run.exit_code == 0, run.output
    assert f"is writing reports into {out}; waiting for it to finish" in run.output


def test_out_under_a_file_is_one_line(shards, tmp_path):
    (tmp_path / "file").write_text("mine")
    run = invoke("merge", shards / "s1", shards / "s2", "--out", tmp_path / "file" / "m")
    assert one_error(run) == \
        f"error: --out {tmp_path / 'file' / 'm'}: cannot write there (Not a directory)"
    assert (tmp_path / "file").read_text() == "mine"


def test_the_schema_merge_reads_by_knows_every_key_check_writes():
    """A key added to CaseResult must be added to the schema merge reads by (reports/
    _readback.py), or every merge of a report with it would be refused as forged."""
    from dataclasses import fields

    from autograd_lab.reports._readback import Case
    from autograd_lab.result import CaseResult

    written = {f.name for f in fields(CaseResult)} - {"seconds"} | {"problem_places",
                                                                      "non_finite"}
    assert written == set(Case.model_fields)
