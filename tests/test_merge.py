"""merge: shards put back together are one run's reports; shards that are not one run are
refused, each reason in one line, exit 2."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main
from autograd_lab.reports import version

ROOT = Path(__file__).resolve().parent.parent
FORMATS = "json,md,junit"   # plots: tests/test_ci_recipe.py


def scrub(text: str) -> str:
    """The run's timestamps and timings: all that may differ."""
    text = re.sub(r"Generated \S+\.", "Generated <timestamp>.", text)
    text = re.sub(r'"generated": "[^"]+"', '"generated": "<timestamp>"', text)
    text = re.sub(r'timestamp="[^"]+"', 'timestamp="<timestamp>"', text)
    return re.sub(r' time="[\d.]+"', ' time="<seconds>"', text)


def invoke(*args):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return CliRunner().invoke(main, list(map(str, args)))
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """cases/ and examples/ checked in 3 shards, and in one run."""
    tmp = tmp_path_factory.mktemp("shards")
    for k in (1, 2, 3):
        invoke("check", "cases", "examples", "--shard", f"{k}/3", "--format", FORMATS,
               "--out", tmp / f"s{k}")
    invoke("check", "cases", "examples", "--format", FORMATS, "--out", tmp / "one")
    return tmp


def merged(shards: Path, tmp_path: Path, *folders: str):
    run = invoke("merge", *(shards / f for f in folders), "--out", tmp_path / "merged")
    return run, tmp_path / "merged"


def test_three_shards_merged_are_the_one_run(shards, tmp_path):
    run, out = merged(shards, tmp_path, "s1", "s2", "s3")
    assert run.exit_code == 1, run.output   # examples/mistakes fail
    for name in ("report.json", "report.md", "junit.xml"):
        assert scrub((out / name).read_text()) == scrub((shards / "one" / name).read_text())
    counts = json.loads((shards / "one" / "report.json").read_text())["summary"]
    assert (f"{counts['cases']} cases: {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['errors']} errors") in run.output


def test_the_shards_order_on_the_command_line_does_not_matter(shards, tmp_path):
    run, out = merged(shards, tmp_path, "s3", "s1", "s2")
    assert run.exit_code == 1
    assert scrub((out / "report.json").read_text()) == \
        scrub((shards / "one" / "report.json").read_text())


def test_timings_come_from_the_shards_junit(shards, tmp_path):
    _, out = merged(shards, tmp_path, "s1", "s2", "s3")
    times = re.findall(r'<testcase [^>]* time="([\d.]+)"', (out / "junit.xml").read_text())
    count = json.loads((shards / "one" / "report.json").read_text())["summary"]["cases"]
    assert len(times) == count and sum(map(float, times)) > 0


def _copy(shards: Path, tmp_path: Path, name: str, change) -> str:
    """A copy of shard s1 with its report.json changed; its folder's name."""
    target = tmp_path / name
    shutil.copytree(shards / "s1", target)
    report = json.loads((target / "report.json").read_text())
    change(report)
    (target / "report.json").write_text(json.dumps(report))
    return str(target)


def refused(run) -> list[str]:
    assert run.exit_code == 2, run.output
    return [line for line in run.output.splitlines() if line.startswith("error: ")]


def test_a_missing_shard_is_refused(shards, tmp_path):
    run, _ = merged(shards, tmp_path, "s1", "s3")
    assert refused(run) == ["error: missing shards: 2/3 (given: 1/3, 3/3)"]


def test_the_same_shard_twice_is_refused(shards, tmp_path):
    run, _ = merged(shards, tmp_path, "s1", "s2", "s3", "s2")
    assert refused(run) == [f"error: overlapping shards: 2/3 ({shards / 's2'}, {shards / 's2'}) "
                            "given more than once"]


def test_shards_that_split_differently_are_refused(shards, tmp_path):
    """Jobs that read different durations files: the same file in two parts."""
    s1 = json.loads((shards / "s1" / "report.json").read_text())
    other = _copy(shards, tmp_path, "other", lambda r: r["shard"].update(index=2))
    run = invoke("merge", shards / "s1", other, shards / "s3", "--out", tmp_path / "m")
    file = s1["cases"][0]["file"]
    assert refused(run) == [f"error: overlapping shards: 1/3 ({shards / 's1'}) and 2/3 ({other}) "
                            f"both checked {file} (were they split with different --durations "
                            "files?)"]


def test_shards_of_other_versions_are_refused(shards, tmp_path):
    newer = _copy(shards, tmp_path, "newer", lambda r: r.update(autograd_lab_version="9.9"))
    run = invoke("merge", shards / "s2", newer, shards / "s3", "--out", tmp_path / "m")
    assert refused(run) == [f"error: shards of different autograd-lab versions: {version()} "
                            f"({shards / 's2'}, {shards / 's3'}); 9.9 ({newer})"]
    formats = _copy(shards, tmp_path, "v2", lambda r: r.update(format_version=2))
    run = invoke("merge", formats, "--out", tmp_path / "m")
    assert refused(run)[0] == ("error: shards of report format version 2, and this "
                               "autograd-lab's is 1: merge with the version that checked them")


def test_shards_of_different_runs_are_refused(shards, tmp_path):
    block = json.loads((shards / "s2" / "report.json").read_text())["shard"]
    files, digest = block["files"], block["digest"]
    other = _copy(shards, tmp_path, "other", lambda r: r["shard"].update(files=files + 1))
    run = invoke("merge", other, shards / "s2", shards / "s3", "--out", tmp_path / "m")
    assert refused(run) == ["error: shards of different runs (not the same case files): "
                            f"{files + 1} files ({digest}) ({other}); {files} files ({digest}) "
                            f"({shards / 's2'}, {shards / 's3'})"]


def test_what_is_not_a_shard_is_refused(shards, tmp_path):
    run = invoke("merge", shards / "one", "--out", tmp_path / "m")
    assert refused(run) == [f"error: {shards / 'one' / 'report.json'}: not a shard's report "
                            "(`check --shard K/N` writes one)"]
    run = invoke("merge", tmp_path, "--out", tmp_path / "m")
    assert refused(run) == [f"error: {tmp_path}: no report.json here (name the --out folder of "
                            "each `check --shard K/N`)"]
    run = invoke("merge", shards / "s1", "--out", shards / "s1")
    assert refused(run) == [f"error: --out {shards / 's1'} is one of the shards' folders: name a "
                            "folder of its own"]


def test_a_shard_without_plots_beside_ones_with_them_is_refused(shards, tmp_path):
    drawn = _copy(shards, tmp_path, "drawn", lambda r: r["shard"].update(plots=True))
    run = invoke("merge", drawn, shards / "s2", shards / "s3", "--out", tmp_path / "m")
    assert refused(run) == [f"error: shards with and without plots (--format): plots ({drawn}); "
                            f"none ({shards / 's2'}, {shards / 's3'}); check every shard alike"]


def test_shards_of_different_plots_policies_are_refused(shards, tmp_path):
    every = _copy(shards, tmp_path, "every", lambda r: r["shard"].update(plots_drawn="none"))
    run = invoke("merge", every, shards / "s2", shards / "s3", "--out", tmp_path / "m")
    assert refused(run) == [f"error: shards with different --plots: none ({every}); "
                            f"all ({shards / 's2'}, {shards / 's3'}); check every shard alike"]


def test_the_job_summary_is_the_one_runs(shards, tmp_path, monkeypatch):
    one, merged_summary = tmp_path / "one.md", tmp_path / "merged.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(one))
    invoke("check", "cases", "examples", "--format", "json", "--out", tmp_path / "again")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(merged_summary))
    merged(shards, tmp_path, "s1", "s2", "s3")
    assert scrub(merged_summary.read_text()) == scrub(one.read_text())
    assert "**bce\\_target\\_outside\\_0\\_1**" in one.read_text()   # Markdown-escaped


def test_each_shard_report_is_valid_report_json_saying_its_place(shards):
    from jsonschema import Draft202012Validator

    from autograd_lab.reports import report_schema
    validator = Draft202012Validator(report_schema())
    one = json.loads((shards / "one" / "report.json").read_text())
    positions = []
    for k in (1, 2, 3):
        report = json.loads((shards / f"s{k}" / "report.json").read_text())
        assert [e.message for e in validator.iter_errors(report)] == []
        block = report["shard"]
        assert (block["index"], block["total"], block["files"], block["plots"]) == (
            k, 3, one["summary"]["cases"], False)
        assert [c["file"] for c in report["cases"]] == [
            one["cases"][i]["file"] for i in block["positions"]]
        positions += block["positions"]
    assert sorted(positions) == list(range(one["summary"]["cases"]))
    assert "shard" not in one
