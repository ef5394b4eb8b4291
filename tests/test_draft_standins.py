"""Stand-ins (issue 25): what only running would tell (a size read from data, a dataset) is
stood in for by a small free dim or a seeded draw, so the hand-written formulas are checked;
numbers that depend on a stand-in are not claimed."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from autograd_lab.api import check_paths
from autograd_lab.cli import main
from autograd_lab.draft import draft
from autograd_lab.draft._shapes import printed_sizes
from autograd_lab.reports import read_report_cases

STANDINS = Path(__file__).parent / "tutorials" / "standins"


def drafted(name: str | Path, tmp_path: Path):
    done = draft(STANDINS / name, tmp_path / "out")
    cases = [w.path for w in done.files]
    return done, [str(n) for n in done.notes], check_paths(cases)


def test_a_size_counted_from_data_stands_in_and_every_entry_is_checked(tmp_path):
    _, notes, results = drafted("vocab_from_data.py", tmp_path)
    assert ("cell 1, line 8: vocab_size: vocab_size = len(chars) + 1 is not known without "
            "running the notebook (len(chars): the size of something not a tensor the draft "
            "follows): 5 stands in") in notes
    assert [r.status for r in results] == ["passed"]
    assert [e.name for e in results[0].backward if e.status == "passed"] == [
        "dlogprobs", "dprobs", "dcounts_sum_inv", "dcounts_sum", "dcounts", "dnorm_logits"]
    assert results[0].dtype == "float32"


def test_a_wrong_entry_at_a_stand_in_size_fails_named(tmp_path):
    right = (STANDINS / "vocab_from_data.py").read_text(encoding="utf-8")
    wrong = tmp_path / "vocab_from_data_wrong.py"   # dcounts' second piece dropped
    wrong.write_text(right.replace("dcounts += torch.ones_like(counts) * dcounts_sum",
                                   "dcounts += 0 * dcounts_sum"), encoding="utf-8")
    _, _, results = drafted(wrong, tmp_path)
    assert [r.status for r in results] == ["failed"]
    failed = {e.name: e.follows_from for e in results[0].backward if e.status == "failed"}
    assert list(failed) == ["dcounts", "dnorm_logits"]
    assert failed["dcounts"] is None        # its own formula is the wrong one


# --- makemore part 4, as published: no names.txt beside it ---------------------------------

NINJA = Path(__file__).parent / "sources" / "nn-zero-to-hero" / "makemore_part4_backprop.ipynb"
EXERCISE_1 = ["dlogprobs", "dprobs", "dcounts_sum_inv", "dcounts_sum", "dcounts",
              "dnorm_logits", "dlogit_maxes", "dlogits", "dh", "dW2", "db2", "dhpreact",
              "dbngain", "dbnbias", "dbnraw", "dbnvar_inv", "dbnvar", "dbndiff2", "dbndiff",
              "dbnmeani", "dhprebn", "dembcat", "dW1", "db1", "demb", "dC"]


def checked_notebook(path: Path, tmp_path: Path):
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["check", str(path), "--out", str(out), "--format",
                                       "json"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    cases = {Path(c["name"]).name: c for c in report["cases"]}
    return result, cases


def checked_entries(case: dict, status: str = "passed") -> list[str]:
    return [e["name"] for e in case["backward"] if e["status"] == status]


def test_makemore_backprop_is_checked_as_published_with_stand_ins(tmp_path):
    result, cases = checked_notebook(NINJA, tmp_path)
    assert result.exit_code == 0, result.output
    exercise1 = cases["makemore_part4_backprop_loss_in10"]
    assert exercise1["status"] == "passed"
    assert sorted(checked_entries(exercise1)) == sorted(EXERCISE_1)
    assert exercise1["dtype"] == "float32"
    tutorial = cases["makemore_part4_backprop.ipynb"]   # drafted as blocks (issue 23)
    assert tutorial["status"] == "passed"
    assert (tutorial["derivatives"]["checked"], tutorial["derivatives"]["found"]) == (33, 47)
    assert exercise1["sympy_at"] == {"vocab_size": 4, "block_size": 2, "n_embd": 3,
                                     "n_hidden": 6, "batch_size": 5}
    # Exercise 2's dlogits and Exercise 3's dhprebn: a pass of their own, beside Exercise 1's
    exercise2 = cases["makemore_part4_backprop_loss_in10_again_in229"]
    exercise3 = cases["makemore_part4_backprop_loss_in10_again_in279"]
    assert checked_entries(exercise2) == ["dlogits"]
    assert "dhprebn" in checked_entries(exercise3)
    assert exercise2["status"] == exercise3["status"] == "passed"
    # Exercise 4's training loop (left out) reassigns every d-name: Exercise 1's stand
    said = " ".join(result.output.split())   # as the terminal wraps it
    assert "changes it and was left out" not in said
    # the size len(itos) would give is printed later: logits.shape, Yb.shape (In [225])
    assert ("vocab_size: vocab_size = len(itos) is not known without running the notebook; "
            "logits.shape printed torch.Size([32, 27]) (In [225], line 1) says 27") in said
    # report.json's inputs_from: C, the first draw from the seeded g at sizes the notebook
    # says, is its own; the rest stand in. It validates against report.schema.json, and merge
    # reads it back
    out = tmp_path / "reports" / "report.json"
    report = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(CliRunner().invoke(main, ["schema", "--report"]).output)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert exercise1["inputs_from"] == {
        "bngain": "stand-in", "C": "notebook", "W1": "stand-in", "b1": "stand-in",
        "bnbias": "stand-in", "W2": "stand-in", "b2": "stand-in", "Yb": "stand-in",
        "Xb": "stand-in"}
    assert "inputs_from" not in cases["makemore_part4_backprop.ipynb"]   # the tutorial's own
    back = {r.name: r for r in read_report_cases(out, report)}
    assert back[exercise1["name"]].inputs_from == exercise1["inputs_from"]
    # every number the notebook printed depends on a stand-in (the loss on Yb, softmax's row
    # on W2): none is claimed, the formulas are checked
    assert [c["claims"] for c in report["cases"]] == [[], [], [], []]


def test_makemore_backprop_with_a_wrong_dcounts_fails_naming_it(tmp_path):
    notebook = json.loads(NINJA.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = [line for line in cell["source"]
                          if not line.startswith("dcounts += ")]
    wrong = tmp_path / "makemore_part4_backprop.ipynb"
    wrong.write_text(json.dumps(notebook), encoding="utf-8")
    result, cases = checked_notebook(wrong, tmp_path)
    assert result.exit_code == 1, result.output
    exercise1 = cases["makemore_part4_backprop_loss_in10"]
    assert exercise1["status"] == "failed"
    assert checked_entries(exercise1, "failed")[0] == "dcounts"
    assert any(p.startswith(f"{wrong} In [210], line") and "backward dcounts:" in p
               for p in exercise1["problems"]), exercise1["problems"]


def test_with_stand_ins_what_cmp_printed_is_not_claimed(makemore_part4_blocks):
    done = makemore_part4_blocks
    [first] = [w for w in done.files if w.name == "makemore_part4_backprop_loss_in10"]
    header = " ".join(line[2:] for line in first.path.read_text(encoding="utf-8").splitlines()
                      if line.startswith("# "))
    assert ("are not the notebook's numbers (stand-ins, said below), so what cmp() printed is "
            "not claimed here: each entry is checked for agreement with autograd and "
            "SymPy.") in header
    notes = [str(n) for n in done.notes]
    assert ("In [9], line 5: not the notebook's numbers: Xb is a stand-in for Xtr[ix], data the "
            "notebook reads from outside it: its formulas are checked, its numbers are not the "
            "notebook's, which a case cannot draw (it draws each value from a fresh generator): "
            "seed 1001 stands in, and no number that depends on Xb is claimed") in notes


# --- students' forks: their own d-names and order; a one-hot built by index assignment ------

FORK_RENAMED = STANDINS / "makemore_fork_renamed.ipynb"
EXERCISE_1_RENAMED_ORDER = [
    "dlogprobs", "dprobs", "dcounts_sum_inv", "dcounts_sum", "dcounts", "dnorm_logits",
    "dlogit_maxes", "dlogits", "dW2", "db2", "dh", "dhpreact", "dbnbias", "dbngain", "dbnraw",
    "dbnvar_inv", "dbnvar", "dbndiff2", "dbndiff", "dbnmeani", "dhprebn", "db1", "dW1",
    "dembcat", "demb", "dC"]


def test_a_fork_with_its_own_d_names_is_checked_by_what_its_cmp_calls_claim(tmp_path):
    # dprobs_log, dcounts_ = dcounts_1 + dcounts_2, ...: each cmp() names the entry it claims
    result, cases = checked_notebook(FORK_RENAMED, tmp_path)
    assert result.exit_code == 0, result.output
    exercise1 = cases["makemore_fork_renamed_loss_in10"]
    assert exercise1["status"] == "passed"
    assert checked_entries(exercise1) == EXERCISE_1_RENAMED_ORDER   # the fork's own order
    exercise2 = cases["makemore_fork_renamed_loss_in10_again_in14"]
    assert checked_entries(exercise2) == ["dlogits"]                # its dlogits_fast
    assert [c["claims"] for c in cases.values()] == [[], [], []]   # cmp()'s rows: not claimed
    said = " ".join(result.output.split())
    assert "28 of 28 hand-written derivatives checked" in said
    assert ("logits.shape printed torch.Size([32, 27]) (In [13], line 1) says 27") in said


def test_a_fork_with_a_piece_of_a_sum_dropped_fails_naming_the_entry(tmp_path):
    notebook = json.loads(FORK_RENAMED.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = [line.replace("dcounts_ = dcounts_1 + dcounts_2", "dcounts_ = dcounts_1")
                          for line in cell["source"]]
    wrong = tmp_path / "makemore_fork_renamed.ipynb"
    wrong.write_text(json.dumps(notebook), encoding="utf-8")
    result, cases = checked_notebook(wrong, tmp_path)
    assert result.exit_code == 1, result.output
    exercise1 = cases["makemore_fork_renamed_loss_in10"]
    assert exercise1["status"] == "failed"
    assert checked_entries(exercise1, "failed")[0] == "dcounts"
    assert any(p.startswith(f"{wrong} In [11], line 9") and "backward dcounts:" in p
               for p in exercise1["problems"]), exercise1["problems"]


FORK_ONE_HOT = STANDINS / "makemore_fork_one_hot.ipynb"


def test_a_fork_building_its_one_hots_by_index_assignment_is_checked(tmp_path):
    # maxes_at = torch.zeros_like(logits); maxes_at[torch.arange(n), logits.max(1).indices] = 1
    # and Exercise 2's one_hot[range(n), Yb] = 1: each written in place as F.one_hot
    result, cases = checked_notebook(FORK_ONE_HOT, tmp_path)
    assert result.exit_code == 0, result.output
    exercise1 = cases["makemore_fork_one_hot_loss_in10"]
    assert exercise1["status"] == "passed"
    assert sorted(checked_entries(exercise1)) == sorted(EXERCISE_1)
    exercise2 = cases["makemore_fork_one_hot_loss_in10_again_in12"]
    exercise3 = cases["makemore_fork_one_hot_loss_in10_again_in14"]
    assert checked_entries(exercise2) == ["dlogits"]
    assert "dhprebn" in checked_entries(exercise3)
    said = " ".join(result.output.split())
    assert "32 of 32 hand-written derivatives checked" in said


def test_a_fork_with_a_wrong_one_hot_fails_naming_the_entry(tmp_path):
    # (the one-hot of the maxes would not do: dlogit_maxes is zero in exact arithmetic)
    notebook = json.loads(FORK_ONE_HOT.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = [line.replace("one_hot[range(n), Yb] = 1", "one_hot[range(n), Yb] = 0.5")
                          for line in cell["source"]]
    wrong = tmp_path / "makemore_fork_one_hot.ipynb"
    wrong.write_text(json.dumps(notebook), encoding="utf-8")
    result, cases = checked_notebook(wrong, tmp_path)
    assert result.exit_code == 1, result.output
    exercise2 = cases["makemore_fork_one_hot_loss_in10_again_in12"]
    assert exercise2["status"] == "failed"
    assert checked_entries(exercise2, "failed") == ["dlogits"]
    assert any(p.startswith(f"{wrong} In [12], line 4") and "backward dlogits:" in p
               for p in exercise2["problems"]), exercise2["problems"]
    assert cases["makemore_fork_one_hot_loss_in10"]["status"] == "passed"


def test_a_printed_shape_is_read_only_when_the_output_is_the_shapes():
    assert printed_sizes("(torch.Size([32, 27]), torch.Size([32]))", 2) == [(32, 27), (32,)]
    assert printed_sizes("torch.Size([])", 1) == [()]
    assert printed_sizes("torch.Size([32, 27])", 2) is None          # one shape, two asked
    assert printed_sizes("torch.Size([32, 27]) and more", 1) is None  # something else too


def test_linspace_arange_a_listed_tensor_and_an_unpacked_shape_are_the_scripts_own(tmp_path):
    result, cases = checked_notebook(STANDINS / "made_and_unpacked.py", tmp_path)
    assert result.exit_code == 0, result.output
    case = cases["made_and_unpacked_loss_inc1"]
    assert checked_entries(case) == ["dh", "dy", "dW"]
    assert case["inputs_from"] == {"xs": "notebook", "W": "notebook", "ks": "notebook"}
    done = draft(STANDINS / "made_and_unpacked.py", tmp_path / "out")
    text = done.files[0].path.read_text(encoding="utf-8")
    assert "  xs: [-2.0, -1.0, 0.0, 1.0, 2.0]" in text        # torch.linspace(-2.0, 2.0, 5)
    assert "  ks: {value: [0, 1, 2, 3, 4], dtype: int64}" in text   # torch.arange(5)
    assert "  loss: sum(h**2)/5 " in text                       # k, n = W.shape


def test_an_nn_linear_layer_is_its_two_parameters_standing_in(tmp_path):
    # layer(x) is x @ layer_weight.T + layer_bias; torch.allclose(dW, layer.weight.grad)
    # names dW the gradient of layer_weight
    result, cases = checked_notebook(STANDINS / "linear_layer.py", tmp_path)
    assert result.exit_code == 0, result.output
    case = cases["linear_layer_loss_inc1"]
    assert checked_entries(case) == ["dh", "dout", "dlayer_weight", "dlayer_bias"]
    assert case["inputs_from"] == {"layer_weight": "stand-in", "layer_bias": "stand-in",
                                   "x": "notebook"}
    said = " ".join(result.output.split())
    assert ("not the notebook's numbers: layer_weight is nn.Linear(3, 2)'s initial weight, "
            "which torch draws from its global generator by its own scheme") in said


def test_a_wrong_gradient_of_a_linear_layers_weight_fails_named(tmp_path):
    wrong = tmp_path / "linear_layer.py"
    wrong.write_text((STANDINS / "linear_layer.py").read_text(encoding="utf-8").replace(
        "dW = dout.T @ x", "dW = dout.T @ (2 * x)"), encoding="utf-8")
    result, cases = checked_notebook(wrong, tmp_path)
    assert result.exit_code == 1, result.output
    assert checked_entries(cases["linear_layer_loss_inc1"], "failed") == ["dlayer_weight"]
