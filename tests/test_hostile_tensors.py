"""Issue 27, class 7: tensor cases at the edge of their bounds: int64's largest value is one,
and explain counts a big tensor's elements, not the few a report keeps of it."""
from __future__ import annotations

import numpy as np

from autograd_lab.check import check_file
from autograd_lab.explain import fmt

INT64 = """inputs:
  i: {value: [%d, 0], dtype: int64}
  w: {value: [1.0, 2.0], grad: true}
forward:
  y: (w * w).sum()
backward:
  dw: 2 * w
"""


def test_int64_holds_its_largest_value_and_not_one_more(tmp_path):
    case = tmp_path / "largest.yaml"
    case.write_text(INT64 % (2**63 - 1))
    assert check_file(case).status == "passed"
    case.write_text(INT64 % 2**63)
    result = check_file(case)
    assert result.status == "error"
    assert result.problems[0] == (f"{case}:2:7: an int64 input holds whole numbers from "
                                  "-2**63 to 2**63 - 1 only")


def test_explain_counts_every_element_of_a_value_it_shows_a_few_of():
    assert fmt(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 2500 * 2500) == \
        "[1, 2, 3, 4, …] (6,250,000 elements)"
    assert fmt(np.array([1.0, 2.0])) == "[1, 2]"
