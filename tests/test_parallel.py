"""check_files over processes gives the serial results, in file order."""
from __future__ import annotations

from autograd_lab.check import case_files
from autograd_lab.parallel import _chunk, check_files

from .conftest import CASES


def test_two_processes_give_the_serial_results_in_order(write_case):
    bad = write_case("inputs: {x: 1}\nforward: {y: x**}\n", name="zz_bad")
    files = case_files([CASES]) + [bad]
    serial = [r.to_dict() for r in check_files(files, jobs=1)]
    parallel = [r.to_dict() for r in check_files(files, jobs=2)]
    assert parallel == serial
    assert [r["name"] for r in parallel][-1] == "zz_bad"
    assert parallel[-1]["status"] == "error"
    assert {r["status"] for r in parallel[:-1]} == {"passed"}
    assert {"perceptron_bce", "x_squared", "grad_accumulation"} <= {r["name"] for r in parallel}


def test_chunks_stay_small_enough_to_balance():
    assert _chunk(4, 2) == 1
    assert _chunk(1000, 2) == 16
    assert _chunk(100, 2) == 6
