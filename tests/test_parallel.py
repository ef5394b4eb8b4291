"""check_files over processes gives the serial results, in file order."""
from __future__ import annotations

import os

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


def _dies_on_crash(path, sweep=None):
    """check_file, except that a file named crash takes its process down, as a segfault would."""
    from autograd_lab.check import check_file
    if "crash" in str(path):
        os._exit(139)
    return check_file(path, sweep)


def test_a_file_that_kills_its_worker_is_an_error_and_the_rest_are_checked(monkeypatch,
                                                                         write_case):
    import autograd_lab.parallel as parallel
    files = [write_case(f"inputs: {{x: {{value: {i}.0, grad: true}}}}\nforward: {{y: x**2}}\n"
                        f"gradient: {{x: 2*x}}\n", name=name)
             for i, name in enumerate(["a", "b_crash", "c", "d"], 1)]
    monkeypatch.setattr(parallel, "check_file", _dies_on_crash)
    results = list(parallel.check_files(files, jobs=2))
    assert [r.name for r in results] == ["a", "b_crash", "c", "d"]
    assert [r.status for r in results] == ["passed", "error", "passed", "passed"]
    assert "the process checking this file died" in results[1].problems[0]
