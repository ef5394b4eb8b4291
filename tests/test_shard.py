"""check --shard K/N: N disjoint parts that are exactly the run's files, the same wherever made,
balanced by recorded durations or by size."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.check import case_files
from autograd_lab.cli import main
from autograd_lab.shard import Shard, assign, costs, file_keys, parse, split, store_durations

ROOT = Path(__file__).resolve().parent.parent
PATHS = [ROOT / "cases", ROOT / "examples"]


def test_k_of_n_is_read_and_anything_else_refused():
    assert parse("2/4") == Shard(2, 4) and str(parse(" 1/1 ")) == "1/1"
    for bad in ("0/4", "5/4", "2", "2/", "/4", "a/b", "-1/4", "2/4/8"):
        with pytest.raises(ValueError, match="write K/N, the K-th of N parts"):
            parse(bad)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 40])
def test_the_parts_are_every_file_once_each_in_the_runs_order(total):
    files = case_files(PATHS)
    parts = [split(PATHS, files, Shard(k, total)) for k in range(1, total + 1)]
    positions = [p for part in parts for p in part.block["positions"]]
    assert sorted(positions) == list(range(len(files)))   # all, none twice
    for part in parts:
        assert part.block["positions"] == sorted(part.block["positions"])
        assert part.files == [files[i] for i in part.block["positions"]]
        assert part.block["files"] == len(files) and part.block["total"] == total
    assert len({part.block["digest"] for part in parts}) == 1


def test_keys_are_relative_to_the_folder_given_under_its_name(monkeypatch):
    monkeypatch.chdir(ROOT)
    given = [["cases", "examples"], ["./cases/", "examples/"], [str(p) for p in PATHS]]
    keys = [file_keys(paths, case_files(paths)) for paths in given]
    assert keys[0] == keys[1] == keys[2]
    assert "cases/perceptron_bce.yaml" in keys[0]
    assert "examples/mistakes/backward_not_called.yaml" in keys[0]
    assert file_keys(["cases/x_squared.yaml"], [Path("cases/x_squared.yaml")]) == \
        ["cases/x_squared.yaml"]
    assert file_keys(["."], [Path("cases/x_squared.yaml")]) == ["cases/x_squared.yaml"]


def test_the_split_is_the_same_wherever_the_folder_is(tmp_path, monkeypatch):
    """Two checkouts in different places split alike: the same positions, the same digest."""
    blocks = []
    for place in ("a", "b/deeper"):
        for name, text in (("one", "x" * 10), ("two", "x" * 3000), ("three", "x" * 500)):
            path = tmp_path / place / "cases" / f"{name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        monkeypatch.chdir(tmp_path / place)
        blocks.append(split(["cases"], case_files(["cases"]), Shard(1, 2)).block)
    blocks.append(split([tmp_path / "a" / "cases"], case_files([tmp_path / "a" / "cases"]),
                        Shard(1, 2)).block)
    assert blocks[0] == blocks[1] == blocks[2]
    assert blocks[0]["positions"] == [2]   # three, one, two: two (3,000 bytes) is alone


def test_the_costliest_go_first_each_to_the_least_loaded_part():
    assert assign([5.0, 4.0, 3.0, 3.0, 3.0], 2) == [0, 1, 1, 0, 1]   # 5+3 = 8, 4+3+3 = 10
    assert assign([1.0] * 5, 3) == [0, 1, 2, 0, 1]                     # ties: the lower part
    assert assign([], 4) == []


def test_recorded_durations_win_over_sizes_and_the_unrecorded_cost_their_mean(tmp_path):
    files = [tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"]
    for f, size in zip(files, (100, 5000, 100)):
        f.write_text("x" * size)
    keys = ["cases/a.yaml", "cases/b.yaml", "cases/c.yaml"]
    assert costs(keys, files, {}) == [2100.0, 7000.0, 2100.0]   # size + the fixed cost
    assert costs(keys, files, {"cases/a.yaml": 3.0, "cases/c.yaml": 1.0}) == [3.0, 2.0, 1.0]


def test_store_durations_keeps_the_other_files_entries(tmp_path):
    path = tmp_path / "durations.json"
    path.write_text(json.dumps({"cases/old.yaml": 2.5, "cases/a.yaml": 9.0}))
    store_durations(path, ["cases/a.yaml", "cases/b.yaml"], [0.123456, 1.0])
    assert json.loads(path.read_text()) == {"cases/a.yaml": 0.1235, "cases/b.yaml": 1.0,
                                            "cases/old.yaml": 2.5}


def _check(*args):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return CliRunner().invoke(main, ["check", *args, "--format", "json"])
    finally:
        os.chdir(cwd)


def test_a_shard_checks_its_part_and_says_its_place(tmp_path):
    run = _check("cases", "examples", "--shard", "2/3", "--out", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text())
    block = report["shard"]
    files = case_files(PATHS)
    assert (block["index"], block["total"], block["files"]) == (2, 3, len(files))
    assert block["plots"] is False   # --format json: none drawn
    assert [c["file"] for c in report["cases"]] == \
        [str(files[i].relative_to(ROOT)) for i in block["positions"]]
    statuses = {c["status"] for c in report["cases"]}
    assert run.exit_code == (2 if "error" in statuses else 1 if "failed" in statuses else 0)
    assert report["autograd_lab_version"] and report["format_version"] == 1


def test_an_empty_part_is_an_empty_report_that_passes(tmp_path):
    run = _check("cases/x_squared.yaml", "cases/sin_x_squared.yaml", "--shard", "3/3",
                 "--out", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text())
    assert run.exit_code == 0, run.output
    assert report["summary"]["cases"] == 0 and report["shard"]["positions"] == []


def test_a_run_stores_durations_and_a_shard_reads_them(tmp_path):
    durations = tmp_path / "durations.json"
    _check("cases", "--store-durations", "--durations", str(durations), "--out", str(tmp_path))
    recorded = json.loads(durations.read_text())
    assert sorted(recorded) == [f"cases/{p.name}" for p in sorted((ROOT / "cases").glob("*"))]
    assert all(v > 0 for v in recorded.values())
    recorded["cases/x_squared.yaml"] = 1000.0   # the slowest by far: a part of its own
    durations.write_text(json.dumps(recorded))
    _check("cases", "--shard", "1/2", "--durations", str(durations), "--out", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text())
    assert [c["name"] for c in report["cases"]] == ["x_squared"]


def test_a_wrong_shard_is_a_usage_error():
    run = _check("cases", "--shard", "5/4")
    assert run.exit_code == 2
    assert "'5/4': write K/N, the K-th of N parts, 1 <= K <= N (e.g. 2/4)" in run.output
