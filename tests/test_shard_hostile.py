"""Issue 27, shard: --shard and the durations file (read from the current folder by
default, so a pull request can commit one) hostile; each ends in one line, exit 2, before any
case is checked, or after the reports, with the reports written."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main
from autograd_lab.shard import BadDurations, Shard, assign, parse, read_durations

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "cases" / "x_squared.yaml"


def check(*args):
    return CliRunner().invoke(main, ["check", str(FILE), "--format", "json", *map(str, args)])


def one_error(run) -> str:
    assert run.exit_code == 2, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    errors = [line for line in run.output.splitlines() if "rror" in line]
    assert len(errors) == 1 and "Traceback" not in run.output, run.output
    return errors[0]


@pytest.mark.parametrize("text", ["²/³", "1/٣", "1/1000000000", "1/1001"])
def test_a_shard_of_unicode_digits_or_too_many_parts_is_refused(text):
    with pytest.raises(ValueError, match=r"write K/N|at most 1,000 parts"):
        parse(text)


def test_a_billion_parts_is_one_line_not_gigabytes(tmp_path):
    assert "'1/1000000000': at most 1,000 parts (N)" in \
        one_error(check("--shard", "1/1000000000", "--out", tmp_path))


def test_parts_past_the_files_cost_no_memory():
    """N larger than the files: the files each in a part of their own, in order; nothing
    made for the empty parts."""
    assert assign([1.0, 5.0, 3.0], 1_000) == [2, 0, 1]
    assert parse("1000/1000") == Shard(1000, 1000)


@pytest.mark.parametrize(("content", "said"), [
    ("[" * 100_000 + "]" * 100_000, "nested deeper than 1 levels: refused"),
    ('{"cases/a.yaml": {"deep": 1}}', "nested deeper than 1 levels: refused"),
    ('{"cases/a.yaml": 1e308, "cases/b.yaml": 1e308}', '"cases/a.yaml": not seconds'),
    ('{"cases/a.yaml": NaN}', '"cases/a.yaml": not seconds'),
    ('{"cases/a.yaml": -1}', '"cases/a.yaml": not seconds'),
    ('{"cases/a.yaml": "3"}', '"cases/a.yaml": not seconds'),
    ("[1, 2]", "not a JSON object of file -> seconds"),
    ("not json", "not JSON")])
def test_a_bad_durations_file_is_one_line_before_any_check(tmp_path, content, said):
    durations = tmp_path / "d.json"
    durations.write_text(content)
    with pytest.raises(BadDurations, match=f"^--durations {durations}: .*"):
        read_durations(durations)
    line = one_error(check("--shard", "1/2", "--durations", durations, "--out", tmp_path / "r"))
    assert said in line and line.startswith(f"Error: --durations {durations}: ")
    assert not (tmp_path / "r" / "report.json").exists()   # refused before any check


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_durations_file_that_never_ends_is_refused(tmp_path, special):
    durations = tmp_path / "d.json"
    if special == "fifo":
        os.mkfifo(durations)
    else:
        durations.symlink_to(special)
    line = one_error(check("--shard", "1/2", "--durations", durations, "--out", tmp_path / "r"))
    assert line == f"Error: --durations {durations}: a FIFO, device or socket, not a regular " \
        "file: refused"


def test_no_durations_file_is_none(tmp_path):
    assert read_durations(tmp_path / "none.json") == {}


def test_store_durations_into_a_folder_is_one_line_before_the_check(tmp_path):
    (tmp_path / "d").mkdir()
    line = one_error(check("--store-durations", "--durations", tmp_path / "d",
                           "--out", tmp_path / "r"))
    assert line == f"Error: --durations {tmp_path / 'd'}: a folder, not a regular file: refused"


def test_store_durations_that_cannot_be_written_is_one_line_after_the_reports(tmp_path):
    (tmp_path / "file").write_text("mine")
    run = check("--store-durations", "--durations", tmp_path / "file" / "d.json",
                "--out", tmp_path / "r")
    assert run.exit_code == 2 and "Traceback" not in run.output, run.output
    assert f"autograd-lab: could not write {tmp_path / 'file' / 'd.json'}: " in run.output
    assert json.loads((tmp_path / "r" / "report.json").read_text())["summary"]["passed"] == 1
