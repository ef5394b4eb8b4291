"""Blocks of a tutorial's statements (forward: | and backward: |): the published code read as
it is printed, checked entry by entry, every problem at its own line."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lab.check._tensor import check_tensor
from autograd_lab.errors import CaseError
from autograd_lab.reading import load

HERE = Path(__file__).parent / "blocks"
MAKEMORE = (HERE / "makemore_exercise1.yaml").read_text()
NUMPY = (HERE / "cs231n_two_layer.yaml").read_text()
SMALL_SOFTMAX = (HERE / "softmax_pieces.yaml").read_text()


def _case(tmp_path, text: str, name: str = "case.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load(path)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_makemore_exercise1_pasted_whole_passes_in_float32(tmp_path):
    case = _case(tmp_path, MAKEMORE)
    assert case.dtype == "float32"
    result = check_tensor(case)
    assert result.status == "passed", result.problems
    entries = {b.name: b for b in result.backward}
    # every cmp() line of the notebook is an entry here, dcounts at its total
    assert {"dlogprobs", "dcounts", "dlogits", "dbndiff", "dhprebn", "dC"} <= set(entries)
    assert "ix" not in entries and not any("#" in n for n in entries)
    assert all(b.agree for b in entries.values())
    assert any("26 statements of the block at lines" in n for n in case.notes)


def _own(result, name: str):
    """The problem naming a backward entry at the case's own sizes, and its result."""
    own = [p for p in result.problems if f"backward {name}:" in p and "reduced dims" not in p]
    assert len(own) == 1, own
    return own[0], next(b for b in result.backward if b.name == name)


PLUS = "  dcounts += torch.ones_like(counts) * dcounts_sum\n"
COUNTS_SUM = "`counts_sum = counts.sum(1, keepdims=True)` (line {})"
PROBS = "`probs = counts * counts_sum_inv` (line {})"


def test_makemore_without_the_second_piece_of_dcounts_fails_at_its_line(tmp_path):
    text = MAKEMORE.replace(PLUS, "")
    result = check_tensor(_case(tmp_path, text))
    assert result.status == "failed"
    own, entry = _own(result, "dcounts")
    assert "its own formula is wrong" in own
    assert own.line == _line(text, "  dcounts = counts_sum_inv * dprobs")
    # the message says what the entry lacks: the gradient through counts' other use
    assert ("; it lacks a piece: what it gives is the gradient through "
            + PROBS.format(_line(text, "  probs = ")) + " alone, and no statement adds the "
            "gradient through " + COUNTS_SUM.format(_line(text, "  counts_sum = "))) in own
    assert entry.piece == {"finding": "missing", "line": own.line, "column": 3,
                           "statement": "dcounts = counts_sum_inv * dprobs",
                           "lines": [own.line], "through": ["counts_sum"]}
    follows = {b.name: b.follows_from for b in result.backward if b.status == "failed"}
    assert follows["dcounts"] is None
    assert follows["dnorm_logits"] == "dcounts" and follows["dW1"] == "dcounts"
    # dcounts_sum is built from dcounts_sum_inv, not from dcounts: it stays right
    assert "dcounts_sum" not in follows


@pytest.mark.parametrize("wrong, case", [
    ("  dcounts += 2 * torch.ones_like(counts) * dcounts_sum\n", "makemore"),   # its factor
    ("  dcounts -= torch.ones_like(counts) * dcounts_sum\n", "small"),          # its sign
])
def test_a_wrong_plus_equals_piece_of_dcounts_is_named_at_its_own_line(tmp_path, wrong, case):
    text = (MAKEMORE if case == "makemore" else SMALL_SOFTMAX).replace(PLUS, wrong)
    result = check_tensor(_case(tmp_path, text))
    own, entry = _own(result, "dcounts")
    first, second = _line(text, "  dcounts = counts_sum_inv"), _line(text, wrong.rstrip())
    assert (own.line, own.column) == (second, 3)
    assert own.startswith(f"backward dcounts: hand-written dcounts, as the statements at lines "
                          f"{first}, {second} build it, differs from the gradient of counts")
    assert (f"the statement at line {second}, `{wrong.strip()}`, is the wrong one: what it "
            "adds should be the gradient through "
            + COUNTS_SUM.format(_line(text, "  counts_sum = "))) in own
    assert own.endswith(f"; line {first} is right")
    assert entry.piece == {"finding": "wrong", "line": second, "column": 3,
                           "statement": wrong.strip(), "lines": [first, second],
                           "through": ["counts_sum"]}


def test_a_wrong_first_piece_of_dcounts_is_named_at_the_first_line(tmp_path):
    text = MAKEMORE.replace("  dcounts = counts_sum_inv * dprobs\n",
                            "  dcounts = 2 * counts_sum_inv * dprobs\n")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    first, second = _line(text, "  dcounts = 2 *"), _line(text, "  dcounts += ")
    assert (own.line, own.column) == (first, 3)
    assert ("`dcounts = 2 * counts_sum_inv * dprobs`, is the wrong one: what it adds should "
            "be the gradient through " + PROBS.format(_line(text, "  probs = "))) in own
    assert own.endswith(f"; line {second} is right")
    assert entry.piece["finding"] == "wrong" and entry.piece["through"] == ["probs"]


def test_a_piece_too_many_is_named_left_out(tmp_path):
    text = SMALL_SOFTMAX.replace(PLUS, PLUS + "  dcounts += dprobs\n")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    extra = _line(text, "  dcounts += dprobs")
    assert own.line == extra
    assert (f"the statement at line {extra}, `dcounts += dprobs`, is the wrong one: left out, "
            "the entry is right") in own
    assert entry.piece["finding"] == "extra" and entry.piece["through"] == []


def test_two_wrong_pieces_are_said_untold_and_listed(tmp_path):
    text = SMALL_SOFTMAX.replace(PLUS, "  dcounts += 2 * torch.ones_like(counts) * dcounts_sum\n")
    text = text.replace("  dcounts = counts_sum_inv * dprobs\n",
                        "  dcounts = 2 * counts_sum_inv * dprobs\n")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    first, second = _line(text, "  dcounts = 2 *"), _line(text, "  dcounts += 2")
    assert own.line == second            # the last, as an entry's place is
    assert own.endswith(f"; which of the statements at lines {first}, {second} is wrong cannot "
                        "be told: their parts, beside the gradient through each use of counts, "
                        "single out none of them; this is the last")
    assert entry.piece["finding"] == "untold" and entry.piece["lines"] == [first, second]


def test_the_same_piece_twice_names_both_lines_that_could_go(tmp_path):
    text = SMALL_SOFTMAX.replace(PLUS, PLUS + "  dcounts += counts_sum_inv * dprobs\n")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    first, again = _line(text, "  dcounts = counts_sum_inv"), _line(text, "  dcounts += counts_s")
    assert f"cannot be told: any one of lines {first}, {again}, changed alone, would make it " \
        "right; this is the last" in own
    assert entry.piece["finding"] == "untold"


def test_a_wrong_loop_piece_is_named_at_its_line_and_column(tmp_path):
    text = MAKEMORE.replace("dC[ix] += demb[k,j]", "dC[ix] += 2 * demb[k,j]")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dC")
    line = _line(text, "dC[ix] += 2")
    assert (own.line, own.column) == (line, 7)       # inside the two loops
    assert ("`dC[ix] += 2 * demb[k,j]`, is the wrong one: what it adds should be the gradient "
            f"through `emb = C[Xb]` (line {_line(text, '  emb = C[Xb]')})") in own
    assert entry.piece["lines"] == [_line(text, "  dC = torch.zeros_like(C)"), line]


def test_published_numpy_two_layer_net_passes(tmp_path):
    result = check_tensor(_case(tmp_path, NUMPY))
    assert result.status == "passed", result.problems
    assert {b.name for b in result.backward} == {"dscores", "dW2", "db2", "dh1", "dW1", "db1"}


def test_numpy_without_the_1_over_n_fails_naming_the_entry(tmp_path):
    text = NUMPY.replace("  dscores /= N\n", "")
    result = check_tensor(_case(tmp_path, text))
    assert result.status == "failed"
    own = next(p for p in result.problems if "backward dscores:" in p)
    assert own.line == _line(text, "dscores[range(N), y] -= 1")
    # a statement that scales the others (the /= N left out) cannot be taken apart by uses
    assert "is wrong cannot be told" in own
    follows = {b.name: b.follows_from for b in result.backward if b.status == "failed"}
    assert follows == {"dscores": None, "dW2": "dscores", "db2": "dscores", "dh1": "dscores",
                       "dW1": "dscores", "db1": "dscores"}


def test_numpy_without_a_transpose_names_the_entry_and_both_shapes(tmp_path):
    text = NUMPY.replace("dW1 = np.dot(X.T, dh1)", "dW1 = np.dot(X, dh1)")
    with pytest.raises(CaseError) as caught:
        _case(tmp_path, text)
    assert "cannot be multiplied" in caught.value.message
    assert caught.value.line == _line(text, "dW1 = np.dot(X, dh1)")


def test_numpy_with_a_transposed_entry_fails_naming_both_shapes(tmp_path):
    text = NUMPY.replace("dW2 = np.dot(h1.T, dscores)", "dW2 = np.dot(dscores.T, h1)")
    result = check_tensor(_case(tmp_path, text))
    assert result.status == "failed"
    own = next(p for p in result.problems if "backward dW2:" in p)
    assert "has shape (3, 10) where autograd's gradient has shape (10, 3): a transpose?" in own
    assert own.line == _line(text, "dW2 = np.dot(dscores.T, h1)")


def test_a_forward_block_s_versions_are_nodes_of_their_own(tmp_path):
    case = _case(tmp_path, NUMPY)
    assert [n for n in case.nodes if n.startswith("scores")] == ["scores#1", "scores"]
    assert case.output == "loss"


SMALL = """\
dims: {n: 3}
inputs:
  x: {value: [1.0, -2.0, 3.0], grad: true}
  w: {value: [0.5, 0.25, -1.0], grad: true}
forward: |
  z = x * w
  loss = np.sum(np.maximum(0, z))
backward: |
"""


@pytest.mark.parametrize("body, gradients, ok", [
    ("  dz = (z > 0) * 1.0\n  dx = dz * w\n  dw = dz * x\n", "", True),
    ("  grad_z = np.where(z > 0, 1.0, 0.0)\n  x_grad = grad_z * w\n  dL_dw = grad_z * x\n",
     "", True),
    ("  dloss_dz = np.ones_like(z)\n  dloss_dz[z <= 0] = 0\n  dx = dloss_dz * w\n"
     "  dw = dloss_dz * x\n", "", True),
    ("  delta = (z > 0) * 1.0\n  dx = delta * w\n  dw = delta * x\n", "gradients: {delta: z}\n",
     True),
    ("  x.grad = (z > 0) * w\n  w.grad = (z > 0) * x\n", "", True),
    ("  dx = (z > 0) * w\n  dw = (z > 0) * w\n", "", False),
])
def test_gradient_names(tmp_path, body, gradients, ok):
    result = check_tensor(_case(tmp_path, SMALL + body + gradients))
    assert result.status == ("passed" if ok else "failed"), result.problems
    assert len(result.backward) >= 2


@pytest.mark.parametrize("body, message, needle", [
    ("  dq = z * 2\n", "backward dq is the gradient of nothing", "dq = z * 2"),
    ("  for i in range(10**8):\n    dx = z\n", "the loop runs 100,000,000 times", "for i"),
    ("  for i in range(z):\n    dx = z\n", "is not known when the case is read", "for i"),
    ("  dx = np.zeros_like(x)\n  dx[5] = 1\n", "index 5 is out of range", "dx[5] = 1"),
    ("  dx = np.zeros_like(x)\n  dx[w[0:2] > 0] = 1\n", "the mask w[0:2] > 0 has shape (2,), "
     "but dx has shape (3,)", "dx[w[0:2]"),
    ("  dx += 1\n", "dx is changed before it is assigned", "dx += 1"),
    ("  while True:\n    dx = 1\n", "while is not allowed", "while True"),
    ("  import os\n", "import is not allowed", "import os"),
    ("  dx = x.zero_()\n", ".zero_() is not allowed in an expression", "dx = x.zero_()"),
    ("  dx.fill_(0)\n", "an in-place method is written x = x + ...", "dx.fill_(0)"),
    ("".join(f"{'  ' * (i + 1)}for i{i} in range(2):\n" for i in range(9)) + "  " * 10
     + "dx = x\n", "loops are nested more than 8 deep", "for i8"),
])
def test_hostile_statements_are_one_located_line(tmp_path, body, message, needle):
    text = SMALL + body
    with pytest.raises(CaseError) as caught:
        _case(tmp_path, text)
    assert message in caught.value.message
    assert caught.value.file.endswith("case.yaml")
    assert caught.value.line == _line(text, needle)


def test_a_name_assigned_a_million_times_stops_at_the_bound(tmp_path):
    looped = SMALL + "  for i in range(1000):\n    for j in range(1000):\n      dx = x\n"
    with pytest.raises(CaseError) as caught:
        _case(tmp_path, looped)
    assert "more than the 10,000 statements" in caught.value.message
    assert caught.value.line == _line(looped, "for j in range(1000)")
    many = SMALL + "  dx = x\n" * 20_000
    with pytest.raises(CaseError) as caught:
        _case(tmp_path, many)
    assert "the block runs more than 10,000 statements" in caught.value.message
    assert caught.value.line == 9 + 10_000


def test_the_values_a_block_holds_are_bounded(tmp_path):
    text = """\
dims: {n: 2000}
inputs:
  x: {value: {randn: [n, n], seed: 1}, grad: true}
forward: |
  loss = x.sum()
backward: |
  for i in range(3000):
    dx = x * 1.0
"""
    with pytest.raises(CaseError) as caught:
        _case(tmp_path, text)
    assert "the backward block holds 12,000,000,000 values" in caught.value.message


def test_draws_from_one_generator_are_the_notebook_s(tmp_path):
    import numpy as np
    import torch
    case = _case(tmp_path, MAKEMORE)
    g = torch.Generator().manual_seed(2147483647)
    c = torch.randn((27, 10), generator=g)
    torch.randn((30, 64), generator=g)
    b1 = torch.randn(64, generator=g) * 0.1
    assert np.array_equal(case.inputs["C"].value, c.numpy())
    assert np.array_equal(case.inputs["b1"].value, b1.numpy())
    bngain = case.inputs["bngain"].value
    assert 0.5 < bngain.mean() < 1.5          # randn(...)*0.1 + 1.0: the shift applied


def test_a_generator_gives_one_seed(tmp_path):
    text = MAKEMORE.replace(
        "b1: {value: {randn: [n_hidden], generator: g, seed: 2147483647,",
        "b1: {value: {randn: [n_hidden], generator: g, seed: 5,")
    with pytest.raises(CaseError) as caught:
        _case(tmp_path, text)
    assert "generator g is seeded 2147483647 above; every draw from it gives that seed, not 5" \
        in caught.value.message
    assert caught.value.line == _line(text, "  b1:")


_PIECES = ["dx = z * w", "dx += 1", "dx[0] = 2", "dx[z > 0] = 0", "dw = dx * x", "  ",
           "for i in range(2):", "for i in range(n):", "    dx[i] += z[i]", "dz = (z > 0)",
           "ix = 1", "dx[ix] -= 1", "# a comment", "dx = np.dot(x, w)", "dx = x[:, None]",
           "dx = dx.reshape(3)", "dx /= len(x)", "N, = x.shape", "print(dx)", "dx.zero_()",
           "dx = (", "dx = x[[0, 2]]", "x.grad = w", "dq = 1", "while 1:", "if x:", "dx =",
           "dx = np.zeros_like(x)", "dx[5] = 1", "dx[w[0:2] > 0] = 1", "dx = x.shape[7]"]


@given(st.lists(st.sampled_from(_PIECES) | st.text(
    st.characters(min_codepoint=32, max_codepoint=126), max_size=12), max_size=8))
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_block_loads_or_is_one_located_line(tmp_path, lines):
    body = "".join(f"  {line}\n" for line in lines if "\n" not in line and "\r" not in line)
    text = SMALL + body
    try:
        _case(tmp_path, text)
    except CaseError as exc:
        assert exc.file.endswith("case.yaml")
        assert "\n" not in exc.message
        assert exc.line is None or 1 <= exc.line <= text.count("\n") + 1


def test_the_located_piece_reaches_report_json_report_md_and_reads_back(tmp_path):
    """report.json's `piece` (valid under its schema, read back by merge's model) and
    report.md's verdict name the wrong statement."""
    import json

    import jsonschema
    from click.testing import CliRunner

    from autograd_lab.cli import main
    from autograd_lab.reports import report_schema_text
    from autograd_lab.reports._readback import Case as ReadBack
    from autograd_lab.result import CaseResult

    wrong = "  dcounts += 2 * torch.ones_like(counts) * dcounts_sum\n"
    text = SMALL_SOFTMAX.replace(PLUS, wrong)
    (tmp_path / "case.yaml").write_text(text)
    run = CliRunner().invoke(main, ["check", str(tmp_path / "case.yaml"), "--out",
                                    str(tmp_path / "out"), "--format", "json,md"])
    line = _line(text, wrong.rstrip())
    assert run.exit_code == 1 and f"case.yaml:{line}:3: backward dcounts:" in run.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    jsonschema.validate(report, json.loads(report_schema_text()))
    case = report["cases"][0]
    entry = next(b for b in case["backward"] if b["name"] == "dcounts")
    assert entry["piece"]["finding"] == "wrong" and entry["piece"]["line"] == line
    ReadBack.model_validate(case)
    back = CaseResult.from_dict(case)
    assert next(b for b in back.backward if b.name == "dcounts").piece == entry["piece"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"| 3×4 | no | no | 0.1 | ❌ failed (line {line} is the wrong statement) |" in md


@pytest.mark.parametrize("piece, said", [
    ({"finding": "wrong", "line": 66}, "line 66 is the wrong statement"),
    ({"finding": "extra", "line": 67}, "line 67 is a statement too many"),
    ({"finding": "missing", "through": ["counts_sum"]},
     "lacks the gradient through counts_sum"),
    ({"finding": "untold", "lines": [64, 66]}, "which of lines 64, 66 is wrong is untold"),
    (None, ""),
])
def test_a_piece_in_a_few_words(piece, said):
    from autograd_lab.result import piece_line
    assert piece_line(piece) == said


def test_the_small_softmax_as_written_passes(tmp_path):
    result = check_tensor(_case(tmp_path, SMALL_SOFTMAX))
    assert result.status == "passed", result.problems
    assert all(b.piece is None for b in result.backward)


def test_more_statements_than_are_matched_are_listed_untold(tmp_path):
    many = "".join("  dcounts += 0 * dprobs\n" for _ in range(8))
    text = SMALL_SOFTMAX.replace(PLUS, "  dcounts -= torch.ones_like(counts) * dcounts_sum\n"
                                 + many)
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    lines = [i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  dcounts ")]
    assert len(lines) == 10 and own.line == lines[-1]
    assert own.endswith(f"; which of the statements at lines {', '.join(map(str, lines))} is "
                        "wrong cannot be told; this is the last")
    assert entry.piece["finding"] == "untold"


def test_matching_past_its_bound_of_work_is_untold(tmp_path, monkeypatch):
    from autograd_lab.check import _pieces
    monkeypatch.setattr(_pieces, "MAX_WORK", 1)
    text = SMALL_SOFTMAX.replace(PLUS, "  dcounts -= torch.ones_like(counts) * dcounts_sum\n")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    assert own.endswith("is wrong cannot be told; this is the last")
    assert entry.piece["finding"] == "untold"


def test_a_first_statement_too_many_should_give_zero(tmp_path):
    """The first statement assigns the name: it cannot be left out, it should give zero."""
    text = SMALL_SOFTMAX.replace("  dcounts = counts_sum_inv * dprobs\n",
                                 "  dcounts = dprobs\n  dcounts += counts_sum_inv * dprobs\n")
    own, entry = _own(check_tensor(_case(tmp_path, text)), "dcounts")
    first = _line(text, "  dcounts = dprobs")
    assert own.line == first
    assert (f"the statement at line {first}, `dcounts = dprobs`, is the wrong one: what it "
            "gives should be zero (the rest already adds the gradient through every use; "
            f"lines {first + 1}, {_line(text, '  dcounts += torch')} are right)") in own
    assert entry.piece["finding"] == "wrong" and entry.piece["through"] == []
