"""The time limit and the size bounds that keep any case from hanging or exhausting a run."""
from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from autograd_lab import check as guard
from autograd_lab import reading
from autograd_lab.check import check_file
from autograd_lab.cli import main
from autograd_lab.reading import load


def chain(count: int, node: str = "sin({p})*{p}") -> str:
    """Nodes that each use the one before twice: the written-out output doubles a node."""
    nodes = "".join(f"  n{i}: {node.format(p=f'n{i - 1}')}\n" for i in range(1, count + 1))
    return (f"inputs:\n  x: {{value: 0.5, grad: true}}\nforward:\n  n0: x\n{nodes}"
            "gradient:\n  x: 1\n")


def test_the_deadline_stops_a_slow_block():
    with pytest.raises(guard.TooSlow), guard.deadline(0.2):
        while True:
            time.sleep(0.01)


def test_no_deadline_when_the_limit_is_zero_or_a_timer_is_already_set():
    with guard.deadline(0):
        time.sleep(0.05)
    import signal
    signal.setitimer(signal.ITIMER_REAL, 5)
    try:
        with guard.deadline(0.01):  # must not replace the caller's timer
            time.sleep(0.05)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 4
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def test_a_case_that_runs_out_of_time_is_an_error_naming_the_cause(tmp_path, monkeypatch,
                                                                   slow_sympy):
    path = tmp_path / "chain.yaml"
    # under the size bound, and about 0.3 s on a quiet 2-core machine (2 s before SymPy's
    # derivatives were cached, each repeated part of the written-out output differentiated
    # once; 20 s before methods' derivative() kept sympy.diff's Derivatives out): 6x the limit
    path.write_text(chain(14, "sin({p})*{p} + 1"))
    monkeypatch.setenv(guard.ENV, "0.05")
    result = check_file(path)
    assert result.status == "error"
    assert result.problems[0].startswith(
        f"{path}: checking stopped after 0.05 s, the time limit for one case (--timeout or "
        "$AUTOGRAD_LAB_TIMEOUT sets it): the output with every node written out has 81,916 "
        "operations")


def test_the_written_out_output_is_measured_without_writing_it_out(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text(chain(14))
    case = load(path)
    assert reading.output_size(case) == 49_150
    assert reading.output_depth(case) == 29


@pytest.mark.parametrize("value,expected", [("", 60.0), ("2.5", 2.5), ("0", 0.0),
                                            ("soon", 60.0), ("-3", 0.0), ("nan", 60.0),
                                            ("1e20", 1_000_000.0), ("inf", 1_000_000.0)])
def test_the_limit_comes_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(guard.ENV, value) if value else monkeypatch.delenv(guard.ENV, False)
    assert guard.seconds() == expected


def test_the_cli_takes_the_limit_and_goes_on_with_the_next_case(tmp_path, slow_sympy):
    # 81,916 operations written out, about 0.3 s on a quiet machine; the quick one 0.01 s
    (tmp_path / "a_slow.yaml").write_text(chain(14, "sin({p})*{p} + 1"))
    (tmp_path / "b_quick.yaml").write_text(chain(2))
    run = CliRunner().invoke(main, ["check", str(tmp_path),
                                    # the quick case must finish inside it even when busy
                                    "--timeout", "0.1", "--format", "json",
                                    "--out", str(tmp_path / "out")])
    assert run.exit_code == 2, run.output
    cases = json.loads((tmp_path / "out" / "report.json").read_text())["cases"]
    assert [c["status"] for c in cases] == ["error", "failed"]  # gradient: 1 is wrong
    assert "checking stopped after 0.1 s" in cases[0]["problems"][0]


def test_a_budget_gives_up_its_work_and_the_deadline_resumes_after_it():
    import signal
    start = time.monotonic()
    with guard.deadline(30):
        with pytest.raises(guard.OverBudget), guard.budget(0.2):
            while True:
                time.sleep(0.01)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 29 < left < 30   # paused meanwhile, then resumed with what was left of it
    assert time.monotonic() - start < 5
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_a_budget_never_outlasts_the_deadline():
    # the budget ends with the case's time, and that is the case's timeout
    with pytest.raises(guard.TooSlow), guard.deadline(0.3), guard.budget(10):
        time.sleep(1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped
@pytest.mark.parametrize("limit", ["deadline", "budget"])
def test_a_limit_whose_signal_python_drops_is_raised_again(limit):
    """A signal that lands in a garbage-collector callback (hypothesis installs one) has its
    exception printed and dropped by Python; the limit must still end the block, not let it
    run on unlimited (a formula's factor() ran 105 s past its 2 s budget that way)."""
    import gc

    def slow_callback(phase, info):
        if phase == "start":
            time.sleep(0.3)   # the timer fires in here: its exception is dropped
    expected = guard.TooSlow if limit == "deadline" else guard.OverBudget
    context = guard.deadline(0.1) if limit == "deadline" else guard.budget(0.1)
    gc.callbacks.append(slow_callback)
    start = time.monotonic()
    try:
        with pytest.raises(expected), context:
            gc.collect()
            gc.callbacks.remove(slow_callback)
            while time.monotonic() - start < 5:
                time.sleep(0.01)
    finally:
        if slow_callback in gc.callbacks:
            gc.callbacks.remove(slow_callback)
    assert time.monotonic() - start < 2
