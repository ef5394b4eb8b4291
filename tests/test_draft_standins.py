"""Stand-ins (issue 25): what only running would tell (a size read from data, a dataset) is
stood in for by a small free dim or a seeded draw, so the hand-written formulas are checked;
numbers that depend on a stand-in are not claimed."""
from __future__ import annotations

from pathlib import Path

from autograd_lab.api import check_paths
from autograd_lab.draft import draft

STANDINS = Path(__file__).parent / "tutorials" / "standins"


def drafted(name: str, tmp_path: Path):
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
    _, _, results = drafted("vocab_from_data_wrong.py", tmp_path)
    assert [r.status for r in results] == ["failed"]
    failed = {e.name: e.follows_from for e in results[0].backward if e.status == "failed"}
    assert list(failed) == ["dcounts", "dnorm_logits"]
    assert failed["dcounts"] is None        # its own formula is the wrong one
