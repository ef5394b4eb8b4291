"""report.json's JSON Schema: `schema --report` prints it, and a real report validates."""
from __future__ import annotations

import copy
import json
import shutil

import jsonschema
import pytest
from click.testing import CliRunner

from autograd_lab.cli import main

from .conftest import CASES

MISTAKES = CASES.parent / "examples" / "mistakes"


@pytest.fixture(scope="module")
def validator():
    printed = CliRunner().invoke(main, ["schema", "--report"])
    assert printed.exit_code == 0
    schema = json.loads(printed.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """`autograd-lab check` over cases/, the two mistakes and a file in error."""
    folder = tmp_path_factory.mktemp("report")
    shutil.copytree(CASES, folder / "cases")
    shutil.copytree(MISTAKES, folder / "mistakes")
    (folder / "broken.yaml").write_text("inputs: {x: 1}\nforward: {y: x.real}\n")
    done = CliRunner().invoke(main, ["check", str(folder / "cases"), str(folder / "mistakes"),
                                     str(folder / "broken.yaml"), "--out", str(folder / "out"),
                                     "--format", "json"])
    assert done.exit_code == 2, done.output
    return json.loads((folder / "out" / "report.json").read_text())


def errors(validator, value) -> list[str]:
    return [f"{e.json_path}: {e.validator}" for e in validator.iter_errors(value)]


def test_a_real_report_validates(validator, report):
    assert report["summary"] == {"cases": 28, "passed": 22, "failed": 5, "errors": 1}
    assert {c["kind"] for c in report["cases"]} == {"gradient", "behaviour"}
    mlp = next(c for c in report["cases"] if c["name"] == "mlp_manual_backward")
    assert mlp["sympy_at"] == "full" and [b["name"] for b in mlp["backward"]][-2:] == [
        "demb", "dC"]
    assert any(c["points"][0].get("hessian") for c in report["cases"] if c["points"])
    assert errors(validator, report) == []


def test_a_changed_key_is_refused_and_an_added_one_accepted(validator, report):
    wrong = copy.deepcopy(report)
    wrong["format_version"] = 2
    wrong["cases"][0]["status"] = "ok"
    del wrong["summary"]["errors"]
    wrong["cases"][-1]["edges"] = [{"edge": "y", "status": "passed", "hand": "1", "sympy": "1"}]
    assert sorted(errors(validator, wrong)) == [
        "$.cases[0].status: enum", f"$.cases[{len(report['cases']) - 1}].edges[0].edge: pattern",
        "$.format_version: const", "$.summary: required"]
    added = copy.deepcopy(report)
    added["cases"][0]["linted"] = True      # keys are only ever added within a version
    added["timing"] = {"seconds": 1.5}
    assert errors(validator, added) == []


def test_sweeps_and_non_finite_values_are_listed_and_valid(validator, tmp_path):
    (tmp_path / "overflow.yaml").write_text(
        "inputs:\n  x: {value: 1000.0, grad: true}\nforward:\n  y: exp(x)\n"
        "gradient:\n  x: exp(x)\n")
    (tmp_path / "square.yaml").write_text(
        "inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x**2\ngradient:\n  x: 2*x\n")
    done = CliRunner().invoke(main, ["check", str(tmp_path / "overflow.yaml"),
                                     str(tmp_path / "square.yaml"), "--out",
                                     str(tmp_path / "out"), "--format", "json,plots",
                                     "--plots", "all"])   # the pass is swept too
    assert done.exit_code == 1, done.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert errors(validator, report) == []
    overflow, square = report["cases"]
    assert overflow["status"] == "failed"
    assert overflow["non_finite"]["/points/0/gradients/x/manual"] == "inf"
    assert "non_finite" not in square
    assert isinstance(square["sweeps"]["x"], int) and square["sweeps"]["x"] > 100
    assert report["autograd_lab_version"]
    wrong = copy.deepcopy(report)
    wrong["cases"][0]["non_finite"]["/points/0/gradients/x/manual"] = "infinity"
    wrong["cases"][1]["sweeps"]["x"] = -1
    wrong["shard"] = {"index": 0}
    assert sorted(set(errors(validator, wrong))) == [
        "$.cases[0].non_finite['/points/0/gradients/x/manual']: oneOf",
        "$.cases[1].sweeps.x: oneOf", "$.shard.index: minimum", "$.shard: required"]
