"""`autograd-lab check TUTORIAL` drafts the hand-written backward pass as the notebook's own
lines (a `backward: |` block), so a wrong statement of an entry built in several (makemore
part 4's `dcounts = ...` then `dcounts += ...`) is named at its own cell and line, and every
line the message names is the notebook's (issue 23)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from autograd_lab.cli import main
from autograd_lab.reports import read_report_cases
from autograd_lab.result import piece_line, places

NINJA = Path(__file__).parent / "sources" / "nn-zero-to-hero" / "makemore_part4_backprop.ipynb"
STANDINS = Path(__file__).parent / "tutorials" / "standins"
FIRST = "dcounts = counts_sum_inv * dprobs"
SECOND = "dcounts += torch.ones_like(counts) * dcounts_sum"
EXERCISE_1 = "loss_in10"


def changed(folder: Path, name: str, line: str, wrong: str) -> Path:
    """A copy of makemore part 4 with one line of Exercise 1 (In [210]) changed."""
    notebook = json.loads(NINJA.read_text(encoding="utf-8"))
    found = 0
    for cell in notebook["cells"]:
        for i, text in enumerate(cell["source"]):
            if text.startswith(line):
                cell["source"][i], found = text.replace(line, wrong), found + 1
    assert found == 1
    path = folder / name
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Both copies checked in one run: the second statement of dcounts wrong, and the first."""
    folder = tmp_path_factory.mktemp("located")
    second = changed(folder, "second.ipynb", SECOND,
                     "dcounts += 2 * torch.ones_like(counts) * dcounts_sum")
    first = changed(folder, "first.ipynb", FIRST, "dcounts = 2 * counts_sum_inv * dprobs")
    out = folder / "reports"
    result = CliRunner().invoke(main, ["check", str(second), str(first), "--out", str(out),
                                       "--format", "json,md"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    cases = {c["name"]: c for c in report["cases"]}
    return result, cases, {"second": second, "first": first}, out


def dcounts(case: dict) -> dict:
    return next(b for b in case["backward"] if b["name"] == "dcounts")


def test_a_wrong_second_statement_is_named_at_the_notebooks_cell_and_line(checked):
    result, cases, paths, _ = checked
    assert result.exit_code == 1, result.output
    case = cases[f"second_{EXERCISE_1}"]
    assert case["status"] == "failed"
    [problem] = [p for p in case["problems"] if "backward dcounts:" in p
                 and "reduced dims" not in p]
    assert problem.startswith(f"{paths['second']} In [210], line 11: backward dcounts: "
                              "hand-written dcounts, as the statements at In [210], lines 9, "
                              "11 build it, differs from the gradient of counts (autograd)")
    assert ("; the statement at In [210], line 11, `dcounts += 2 * torch.ones_like(counts) * "
            "dcounts_sum`, is the wrong one: what it adds should be the gradient through "
            "`counts_sum = counts.sum(1, keepdims=True)` (In [10], line 23), and differs from "
            "it by ") in problem
    assert problem.endswith("; In [210], line 9 is right")
    assert dcounts(case)["piece"] == {
        "finding": "wrong", "line": 11, "column": 1, "cell": "In [210]",
        "statement": "dcounts += 2 * torch.ones_like(counts) * dcounts_sum",
        "lines": [9, 11], "cells": ["In [210]", "In [210]"], "through": ["counts_sum"]}
    # each entry at the line that writes it in the notebook, not the drafted file's line
    lines = {b["name"]: (b["cell"], b["line"]) for b in case["backward"]}
    assert lines["dlogprobs"] == ("In [210]", 6)
    assert lines["dcounts"] == ("In [210]", 11)


def test_a_wrong_first_statement_is_named_at_its_own_line(checked):
    _, cases, paths, _ = checked
    case = cases[f"first_{EXERCISE_1}"]
    [problem] = [p for p in case["problems"] if "backward dcounts:" in p
                 and "reduced dims" not in p]
    assert problem.startswith(f"{paths['first']} In [210], line 9: backward dcounts: ")
    assert ("; the statement at In [210], line 9, `dcounts = 2 * counts_sum_inv * dprobs`, is "
            "the wrong one: what it adds should be the gradient through `probs = counts * "
            "counts_sum_inv` (In [10], line 25)") in problem
    assert problem.endswith("; In [210], line 11 is right")
    assert dcounts(case)["piece"]["line"] == 9


def test_the_tutorial_still_counts_its_derivatives_and_the_report_reads_back(checked):
    _, cases, _, out = checked
    for name in ("second.ipynb", "first.ipynb"):
        assert cases[name]["status"] == "failed"
        assert (cases[name]["derivatives"]["checked"], cases[name]["derivatives"]["found"]) \
            == (33, 47)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    back = {r.name: r for r in read_report_cases(out / "report.json", report)}
    [entry] = [b for b in back[f"second_{EXERCISE_1}"].backward if b.name == "dcounts"]
    assert entry.piece and entry.piece["cell"] == "In [210]"
    said = (out / "report.md").read_text(encoding="utf-8")
    assert "failed (In \\[210\\], line 11 is the wrong statement)" in said


def test_the_report_validates_with_the_cells_of_a_piece(checked):
    _, _, _, out = checked
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    schema = json.loads(CliRunner().invoke(main, ["schema", "--report"]).output)
    jsonschema.Draft202012Validator(schema).validate(report)


def test_a_scripts_wrong_statement_is_named_at_the_files_lines(tmp_path):
    right = (STANDINS / "vocab_from_data.py").read_text(encoding="utf-8")
    script = tmp_path / "vocab.py"
    script.write_text(right.replace(SECOND, "dcounts += 2 * torch.ones_like(counts) * "
                                    "dcounts_sum"), encoding="utf-8")
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["check", str(script), "--out", str(out), "--format",
                                       "json"])
    assert result.exit_code == 1, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    [case] = [c for c in report["cases"] if c["name"] == "vocab_loss_inc1"]
    [problem] = [p for p in case["problems"] if "backward dcounts:" in p]
    assert problem.startswith(f"{script} line 30: backward dcounts: hand-written dcounts, as "
                              "the statements at lines 28, 30 build it, ")
    assert ("the statement at line 30, `dcounts += 2 * torch.ones_like(counts) * dcounts_sum`,"
            " is the wrong one: what it adds should be the gradient through `counts_sum = "
            "counts.sum(1, keepdims=True)` (line 15)") in problem
    assert problem.endswith("; line 28 is right")
    assert dcounts(case)["piece"] == {     # the file's lines, and no cell
        "finding": "wrong", "line": 30, "column": 1,
        "statement": "dcounts += 2 * torch.ones_like(counts) * dcounts_sum",
        "lines": [28, 30], "through": ["counts_sum"]}
    assert (dcounts(case)["line"], dcounts(case)["cell"]) == (30, "")


def test_a_size_under_another_name_is_written_as_the_case_names_it(makemore_part4_blocks):
    """makemore's `n = batch_size`: the draft's dim is batch_size, so a backward line reading
    n is written with it, the notebook's line beside it; a loop's lines each keep their
    origin (In [210], lines 39 to 42)."""
    done = makemore_part4_blocks
    [written] = [w for w in done.files if w.name.endswith(EXERCISE_1)]
    text = written.path.read_text(encoding="utf-8")
    block = [line.rstrip() for line in yaml.safe_load(text)["backward"].splitlines()]
    assert ("dlogprobs[range(batch_size), Yb] = -1.0 / batch_size  # In [210], line 6, changed "
            "from: dlogprobs[range(n), Yb] = -1.0/n") in block
    assert [line.split("  # ")[-1] for line in block[-4:]] == [
        "In [210], line 39", "In [210], line 40", "In [210], line 41", "In [210], line 42"]
    numbers = {line.split("  # ")[0].strip(): i for i, line in enumerate(text.splitlines(), 1)}
    assert written.origins[numbers[SECOND]] == "In [210], line 11"
    # a line with the notebook's own comment keeps its origin too
    assert written.origins[numbers["emb = C[Xb] # embed the characters into vectors"]] == \
        "In [10], line 3"


def test_lines_are_said_with_their_cells():
    assert places([9, 11], ["In [210]", "In [210]"]) == "In [210], lines 9, 11"
    assert places([23, 11], ["In [10]", "In [210]"]) == "In [10], line 23 and In [210], line 11"
    assert places([28, 30]) == "lines 28, 30"
    assert piece_line({"finding": "untold", "line": 11, "lines": [9, 11], "cell": "In [210]",
                       "cells": ["In [210]", "In [210]"]}) == \
        "which of In [210], lines 9, 11 is wrong is untold"
    assert piece_line({"finding": "wrong", "line": 66, "lines": [64, 66]}) == \
        "line 66 is the wrong statement"
