"""A notebook's statements read by the reader a case's blocks are read by (case.Statements):
the same assignments and refusals, loops written for a gradient unrolled at the sizes the draft
knows (or left out whole), and `--blocks` writing the notebook's own lines back."""
from __future__ import annotations

import json

import pytest
import yaml

from autograd_lab.case import Reader
from autograd_lab.check import check_file
from autograd_lab.draft import draft
from autograd_lab.errors import CaseError

from .conftest import MAKEMORE_PART4
from .test_draft_tensors import BACKWARD, FORWARD, ninja

# dW1 = embcat.T @ dhpre, written as a sum over the batch's rows, one outer product a row
LOOP = """dW1 = torch.zeros_like(W1)
for k in range(n):
    dW1 += embcat[k].view(-1, 1) @ dhpre[k].view(1, -1)
"""


def drafted(tmp_path, loop: str, blocks: bool = False):
    path = ninja(tmp_path, BACKWARD.replace("dW1 = embcat.T @ dhpre\n", loop))
    done = draft(path, tmp_path / "drafts", blocks=blocks)
    assert done.problems == []
    [written] = [w for w in done.files if w.kind == "gradient"]
    return done, written


def test_a_loop_over_the_batch_is_unrolled_into_its_entry_and_checked(tmp_path):
    done, written = drafted(tmp_path, LOOP)
    case = yaml.safe_load(written.path.read_text(encoding="utf-8"))
    # the entry is the loop's steps at the notebook's n = 4, one after the other
    assert case["backward"]["dW1"] == (
        "torch.zeros_like(W1) + " + " + ".join(
            f"embcat[{k}].view(-1, 1) @ dhpre[{k}].view(1, -1)" for k in range(4)))
    assert not [n for n in done.notes if "dW1" in str(n) or "for k" in str(n)]
    result = check_file(written.path)
    assert result.status == "passed", result.problems
    assert "dW1" in {b.name for b in result.backward}


def test_with_blocks_the_loop_is_written_once_as_the_notebook_wrote_it(tmp_path):
    _, written = drafted(tmp_path, LOOP, blocks=True)
    text = written.path.read_text(encoding="utf-8")
    block = yaml.safe_load(text)["backward"]
    lines = [line.split("  #")[0].rstrip() for line in block.splitlines()]
    assert lines[lines.index("dW1 = torch.zeros_like(W1)") + 1:][:2] == [
        "for k in range(n):", "    dW1 += embcat[k].view(-1, 1) @ dhpre[k].view(1, -1)"]
    assert "  for k in range(n):                    # In [6], line 19" in text   # its +=
    result = check_file(written.path)
    assert result.status == "passed", result.problems
    assert "dW1" in {b.name for b in result.backward}


def test_a_wrong_step_of_the_loop_fails_naming_its_entry(tmp_path):
    wrong = LOOP.replace("dhpre[k].view(1, -1)", "dhpre[k].view(1, -1) * 2")
    _, written = drafted(tmp_path, wrong)
    result = check_file(written.path)
    assert result.status == "failed"
    assert [b.name for b in result.backward if b.status == "failed"] == ["dW1"]


def test_a_loop_the_draft_cannot_follow_is_left_out_whole_at_the_step_it_stopped(tmp_path):
    """dW1[k] = ...: an assignment into an entry by a row number the draft does not read; the
    loop is left out once (not once a step), at that line, and nothing of its steps stays."""
    rows = """dW1 = torch.zeros_like(W1)
for k in range(n_embd * block_size):
    dW1[k] = embcat[:, k] @ dhpre
"""
    done, written = drafted(tmp_path, rows)
    said = [str(n) for n in done.notes if "for k" in str(n)]
    assert said == ["In [6], line 19: left out: for k in range(n_embd * block_size): …: "
                    "dW1[0]: the draft reads d[range(n), idx] into a matrix"]
    case = yaml.safe_load(written.path.read_text(encoding="utf-8"))
    assert "dW1" not in case["backward"]
    result = check_file(written.path)
    assert result.status == "passed", result.problems


def test_a_statement_a_block_refuses_is_left_out_of_a_draft_in_the_same_words(tmp_path):
    """One allow-list: `a = b = ...` is refused by a block and by the drafter alike."""
    done, _ = drafted(tmp_path, LOOP + "dW1_again = dW1_copy = dW1 * 1\n")
    said = [str(n) for n in done.notes if "dW1_again" in str(n)]
    assert said == ["In [6], line 20: left out: dW1_again = dW1_copy = dW1 * 1: assign one "
                    "name a statement (not a = b = ...)"]
    with pytest.raises(CaseError, match=r"assign one name a statement \(not a = b = \.\.\.\)"):
        list(Reader("x = y = a", "case.yaml", 1, 1, {}, lambda key: None, {"a"}).read())


def test_a_loop_whose_bound_the_draft_does_not_know_is_left_out_saying_why(tmp_path):
    unknown = LOOP.replace("range(n)", "range(m)")
    done, _ = drafted(tmp_path, unknown)
    said = [str(n) for n in done.notes if "for k" in str(n)]
    assert said == ["In [6], line 18: left out: for k in range(m): …: m is not defined by an "
                    "earlier statement the draft understood"]


def test_a_loop_too_long_to_unroll_is_left_out_with_the_bound(tmp_path):
    huge = """dW1 = torch.zeros_like(W1)
for k in range(10**6):
    dW1 += embcat[0].view(-1, 1) @ dhpre[0].view(1, -1)
"""
    done, _ = drafted(tmp_path, huge)
    said = [str(n) for n in done.notes if "for k" in str(n)]
    assert said == ["In [6], line 18: left out: for k in range(10**6): …: the loop runs "
                    "1,000,000 times, more than the 10,000 statements a block may run once its "
                    "loops are unrolled"]


# --- forward blocks: the notebook's own forward lines ----------------------------------------

def forward_drafted(tmp_path, forward: str = FORWARD, helpers: str = ""):
    path = ninja(tmp_path, forward=forward, helpers=helpers)
    done = draft(path, tmp_path / "drafts", blocks=True)
    assert done.problems == []
    [written] = [w for w in done.files if w.kind == "gradient"]
    return written


def test_with_blocks_the_forward_pass_is_the_notebook_s_own_lines(tmp_path):
    written = forward_drafted(tmp_path)
    text = written.path.read_text(encoding="utf-8")
    forward = yaml.safe_load(text)["forward"]
    assert isinstance(forward, str)
    lines = [line.split("  #")[0].rstrip() for line in forward.splitlines()]
    assert lines == FORWARD.split("\nfor p in parameters")[0].splitlines()   # as printed
    assert "  embcat = emb.view(emb.shape[0], -1)   # In [4], line 2" in text
    result = check_file(written.path)
    assert result.status == "passed", result.problems
    assert {"dlogprobs", "dcounts", "demb", "dC"} <= {b.name for b in result.backward}


def test_a_forward_line_the_case_cannot_read_as_written_is_changed_and_says_so(tmp_path):
    """h = act(hpre), act a helper of the notebook: the block cannot call it, so the line is
    the node as the case writes it, and the notebook's own line is said beside it."""
    written = forward_drafted(tmp_path, FORWARD.replace("h = torch.tanh(hpre)", "h = act(hpre)"),
                              "\ndef act(x):\n    return torch.tanh(x)")
    text = written.path.read_text(encoding="utf-8")
    assert "  h = tanh(hpre)                        # In [4], line 4, changed from: " \
           "h = act(hpre)" in text
    assert "  hpre = embcat @ W1 + b1               # In [4], line 3" in text
    result = check_file(written.path)
    assert result.status == "passed", result.problems


def test_makemore_part4_drafts_into_the_notebook_s_own_lines_and_passes(makemore_part4_blocks):
    """The published notebook with --blocks: its forward cell and Exercise 1's backward cell
    as blocks; `n = batch_size` is one size of the case, so a line reading n is written with
    batch_size and says what it changed."""
    done = makemore_part4_blocks
    assert done.problems == []
    [first] = [w for w in done.files if w.name == "makemore_part4_backprop_loss_in10"]
    text = first.path.read_text(encoding="utf-8")
    case = yaml.safe_load(text)
    assert isinstance(case["forward"], str) and isinstance(case["backward"], str)
    assert "  hprebn = embcat @ W1 + b1 # hidden layer pre-activation" in text   # verbatim
    assert ("  dlogprobs[range(batch_size), Yb] = -1.0 / batch_size  # In [210], line 6, "
            "changed from: dlogprobs[range(n), Yb] = -1.0/n") in text
    assert "  dcounts += torch.ones_like(counts) * dcounts_sum  # In [210], line 11" in text
    assert ("  loss = -logprobs[range(batch_size), Yb].mean()  # In [10], line 27, changed "
            "from: loss = -logprobs[range(n), Yb].mean()") in text   # the notebook's spelling
    result = check_file(first.path)
    assert result.status == "passed", result.problems
    assert sorted(b.name for b in result.backward if b.status == "passed") == sorted([
        "dlogprobs", "dprobs", "dcounts_sum_inv", "dcounts_sum", "dcounts", "dnorm_logits",
        "dlogit_maxes", "dlogits", "dh", "dW2", "db2", "dhpreact", "dbngain", "dbnbias",
        "dbnraw", "dbnvar_inv", "dbnvar", "dbndiff2", "dbndiff", "dbnmeani", "dhprebn",
        "dembcat", "dW1", "db1", "demb", "dC"])   # all 26 of Exercise 1


def test_a_training_loop_left_out_leaves_nothing_of_its_steps(tmp_path):
    """A loop writing an entry that then steps the parameters (W1.data += ...) is begun, found
    unfollowable at its third line, and undone: no backward() of it makes a case, and the
    entry written before it stands as it was checked."""
    def notebook(folder, *more):
        return draft(ninja(folder, more=more), folder / "drafts")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before = notebook(tmp_path / "a")
    after = notebook(tmp_path / "b", ("for i in range(2):\n    dW1 = embcat.T @ dhpre\n"
                                      "    loss.backward()\n    W1.data += -0.1 * dW1",))
    assert [w.path.name for w in after.files] == [w.path.name for w in before.files]
    def case(w):
        return w.path.read_text(encoding="utf-8").split("\nname:")[1].replace(
            str(w.path.parent.parent), "")
    assert [case(w) for w in after.files] == [case(w) for w in before.files]
    said = [str(n) for n in after.notes if n.cell == "In [8]"]
    assert said == ["In [8], line 4: left out: for i in range(2): …: an in-place update: the "
                    "draft follows assignments only (and +=, -=, *=, /= on an entry of a "
                    "backward pass)"]


def test_loops_nested_deeper_than_a_block_allows_are_left_out_with_the_bound(tmp_path):
    nested = "dW1 = torch.zeros_like(W1)\n" + "".join(
        "    " * depth + f"for k{depth} in range(1):\n" for depth in range(9)) + \
        "    " * 9 + "dW1 += embcat.T @ dhpre\n"
    done, _ = drafted(tmp_path, nested)
    said = [str(n) for n in done.notes if "for k0" in str(n)]
    assert said == ["In [6], line 26: left out: for k0 in range(1): …: loops are nested more "
                    "than 8 deep"]


def test_makemore_part4_without_dcounts_plus_equals_drafts_into_blocks_that_fail_naming_it(
        tmp_path):
    notebook = json.loads(MAKEMORE_PART4.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        cell["source"] = [line for line in cell["source"] if not line.startswith("dcounts += ")]
    wrong = tmp_path / "makemore_part4_backprop.ipynb"
    wrong.write_text(json.dumps(notebook), encoding="utf-8")
    done = draft(wrong, tmp_path / "drafts", blocks=True)
    [first] = [w for w in done.files if w.name == "makemore_part4_backprop_loss_in10"]
    assert isinstance(yaml.safe_load(first.path.read_text(encoding="utf-8"))["backward"], str)
    result = check_file(first.path)
    assert result.status == "failed"
    failed = [b.name for b in result.backward if b.status == "failed"]
    assert failed[0] == "dcounts" and "dcounts_sum" not in failed   # the first wrong one
    [dcounts] = [b for b in result.backward if b.name == "dcounts"]
    lines = first.path.read_text(encoding="utf-8").splitlines()
    assert lines[dcounts.line - 1] == ("  dcounts = counts_sum_inv * dprobs     # In [210], "
                                       "line 9")   # at its own line, the notebook's beside it
    assert dcounts.piece["finding"] == "missing" and dcounts.piece["through"] == ["counts_sum"]
