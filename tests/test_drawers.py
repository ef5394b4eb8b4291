"""plots/ drawn by processes of their own: the same files, and no plot lost when one fails."""
from __future__ import annotations

import os

import pytest

from autograd_lab.check import check_file
from autograd_lab.reports import _drawers
from autograd_lab.reports import _plots as plots
from autograd_lab.reports._drawers import Drawers
from autograd_lab.result import CaseResult, PointResult

from .conftest import CASES


@pytest.fixture(scope="module")
def results():
    return [check_file(CASES / "x_squared.yaml", sweep="always"),
            check_file(CASES / "vector_mean_square.yaml", sweep="always")]


def _drawn_by(out, results) -> list:
    with Drawers(out) as drawers:
        assert drawers.pid
        drawers.expect(len(results))
        for result in results:
            drawers.add(result)
        return drawers.finish(results)


def test_the_same_files_as_drawn_here(results, tmp_path, capsys):
    here = plots.write(results, tmp_path / "here")
    there = _drawn_by(tmp_path / "there", results)
    assert [p.name for p in there] == [p.name for p in here] == [
        "x_squared-x.png", "vector_mean_square-x.png"]
    for a, b in zip(here, there):
        assert a.read_bytes() == b.read_bytes()
    assert capsys.readouterr().err == ""


def test_a_drawing_that_fails_there_is_reported_and_drawn_here(results, tmp_path, monkeypatch,
                                                              capsys):
    _fail_in_children(monkeypatch, lambda: (_ for _ in ()).throw(RuntimeError("no fonts")))
    written = _drawn_by(tmp_path, results)
    assert [p.name for p in written] == ["x_squared-x.png", "vector_mean_square-x.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    err = capsys.readouterr().err
    assert "plots/x_squared-x.png was not drawn by its drawing process" in err
    assert "RuntimeError: no fonts" in err


def test_a_drawing_process_that_dies_loses_no_plot(results, tmp_path, monkeypatch, capsys):
    _fail_in_children(monkeypatch, lambda: os._exit(9))
    written = _drawn_by(tmp_path, results)
    assert [p.name for p in written] == ["x_squared-x.png", "vector_mean_square-x.png"]
    err = capsys.readouterr().err
    assert "plots/x_squared-x.png was not drawn by its drawing process" in err
    assert "its drawing process died" in err


def test_past_the_cap_the_plots_are_chosen_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "MAX_CASES", 2)
    results = [_bars(f"c{i}") for i in range(3)]
    results[2].status = "failed"   # drawn first: only c0 of the passing ones gets plots
    written = _drawn_by(tmp_path, results)
    assert [p.name for p in written] == ["c0-v.png", "c2-v.png"]


def test_a_run_that_fails_stops_its_drawing_processes(tmp_path):
    with pytest.raises(KeyError), Drawers(tmp_path) as drawers:
        pid = drawers.pid
        raise KeyError("the run failed")
    assert drawers.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)   # reaped already


def _fail_in_children(monkeypatch, fail) -> None:
    """plots.png fails in the drawing processes (forked after this) for the cases' plots, and
    works here."""
    here, png = os.getpid(), plots.png

    def failing(sketch, *rest):
        return png(sketch, *rest) if os.getpid() == here or not sketch.path else fail()
    monkeypatch.setattr(plots, "png", failing)


def _bars(name: str) -> CaseResult:
    graph = {"output": "y", "nodes": {}, "inputs": {"v": {"value": [0.0] * 3, "grad": True,
                                                          "shape": [3]}}}
    grads = {"v": {"sympy": [1.0, 2.0, 3.0], "autograd": [1.0, 2.0, 3.0]}}
    return CaseResult(name, f"{name}.yaml", "passed", graph=graph, points=[PointResult({}, grads)])


def test_past_the_cap_likely_plots_are_drawn_as_the_results_come(tmp_path, monkeypatch):
    """A run of many cases draws while it checks: the first MAX_CASES cases, and those that did
    not pass among the first MAX_CASES such; one pushed out by a later failure is removed."""
    monkeypatch.setattr(plots, "MAX_CASES", 2)
    results = [_bars(f"c{i}") for i in range(5)]
    for i in (2, 3):
        results[i].status = "failed"
    with Drawers(tmp_path) as drawers:
        for result in results:
            drawers.add(result)
        assert sorted(drawers.sketched) == [0, 1, 2, 3]   # c4: neither
        written = drawers.finish(results)
    assert [p.name for p in written] == ["c2-v.png", "c3-v.png"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["c2-v.png", "c3-v.png"]


def test_the_wait_for_the_plots_is_said(results, tmp_path, monkeypatch):
    """What is left to draw once the cases are checked is said in a line (a run of 302 cases
    had been silent for 8.5 s there), when it is many (here 2 are); here no process drew
    ahead, so all of it is left."""
    monkeypatch.setattr(_drawers, "SAY_FROM", 2)
    said: list[str] = []
    with Drawers(tmp_path, processes=0, say=said.append) as drawers:
        for result in results:
            drawers.add(result)
        written = drawers.finish(results)
    assert [p.name for p in written] == ["x_squared-x.png", "vector_mean_square-x.png"]
    assert said == ["drawing 2 plots ..."]


def test_a_few_plots_left_are_not_said(results, tmp_path):
    said: list[str] = []
    with Drawers(tmp_path, processes=0, say=said.append) as drawers:
        for result in results:
            drawers.add(result)
        drawers.finish(results)
    assert said == []


def test_auto_draws_only_the_telling_cases_as_they_come(tmp_path):
    """--plots auto: a pass on no kink is neither sketched nor drawn; a failure is."""
    results = [_bars("plain"), _bars("bad")]
    results[1].status = "failed"
    with Drawers(tmp_path, policy="auto") as drawers:
        for result in results:
            drawers.add(result)
        assert sorted(drawers.sketched) == [1]
        written = drawers.finish(results)
    assert [p.name for p in written] == ["bad-v.png"]
