"""plots/: what is planned for each parameter, and the files drawn."""
from __future__ import annotations

from autograd_lab.check import check_file
from autograd_lab.reports import _plots as plots
from autograd_lab.result import CaseResult, PointResult

from .conftest import CASES


def _result(shapes: dict, grads: dict | None = None) -> CaseResult:
    graph = {"output": "loss", "nodes": {},
             "inputs": {n: {"value": 0.0 if not s else [0.0] * s[0], "grad": g, "shape": s}
                        for n, (s, g) in shapes.items()}}
    points = [PointResult({}, grads)] if grads else []
    return CaseResult("big", "big.yaml", "passed", graph=graph, points=points)


def test_plan_caps_bars_and_skips_curves_over_huge_vectors(write_case):
    path = write_case("""
        name: big
        inputs:
          x: {value: {uniform: [0, 1], shape: [1000000]}}
          w: {value: 1.0, grad: true}
          v: {value: {uniform: [0, 1], shape: [1000000]}, grad: true}
        forward:
          loss: mean(w*x*v)
        gradient:
          w: mean(x*v)
          v: w*x/1000000
        """)
    result = check_file(path, sweep="always")
    w, v = plots.plan(result, plots.Files().of(result))
    assert (w.kind, w.path) == ("none", "")
    assert w.note == ("∂loss/∂w is not drawn across a range: each value of w evaluates "
                      "1,000,000 elements.")
    assert (v.kind, v.path) == ("bars", "plots/big-v.png")
    assert v.note == "v has 1,000,000 elements; the first 50 are drawn."


def test_plan_for_an_error_is_empty():
    assert plots.plan(CaseResult("bad", "bad.yaml", "error"), {}) == []


def test_curves_and_bars_are_written(tmp_path):
    results = [check_file(CASES / "x_squared.yaml", sweep="always"),
               check_file(CASES / "vector_mean_square.yaml", sweep="always"),
               _result({"v": ([80], True)}, {"v": {"manual": list(range(80)),
                                                  "sympy": list(range(80))}})]
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "gone-x.png").write_bytes(b"from an earlier run")
    written = plots.write(results, tmp_path)
    assert sorted(p.name for p in written) == ["big-v.png", "vector_mean_square-x.png",
                                               "x_squared-x.png"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(
        p.name for p in written)
    for path in written:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5_000


def test_the_span_covers_every_checked_value():
    from autograd_lab.check._sweep import checked, span
    result = check_file(CASES / "sin_x_squared.yaml", sweep="always")
    assert checked(result, "x") == [0, 1, 2]
    assert span(result, "x") == (0.5, 5.5)   # 2 to 4, widened by 3 = |x| at base
    assert result.sweeps["x"].marked == [0, 1, 2] and len(result.sweeps["x"].xs) == 161


def test_no_sweep_unless_asked_and_only_for_what_did_not_pass():
    assert check_file(CASES / "x_squared.yaml").sweeps == {}
    assert check_file(CASES / "x_squared.yaml", sweep="unless passed").sweeps == {}
    assert list(check_file(CASES / "x_squared.yaml", sweep="always").sweeps) == ["x"]


def test_a_run_draws_plots_for_the_failing_cases_first():
    results = [CaseResult(f"c{i}", "f", "passed") for i in range(plots.MAX_CASES + 5)]
    results[-1].status = "failed"
    chosen = plots.drawn(results)
    assert chosen[-1] and sum(chosen) == plots.MAX_CASES and not chosen[-2]
    result = _result({"w": ([], True)})
    (plot,) = plots.plan(result, plots.Files().of(result), draw=False)
    assert plot.kind == "none" and plot.note.startswith("No plots: a run draws them for 40 cases")


def test_plot_files_are_unique_capped_and_the_same_however_named():
    """Cases a, a and a-1 had made two PNGs (the second a's numbered name was a-1's own);
    a 200-character parameter had made a name too long to write."""
    long = "p" + "a" * 199
    results = [_result({"x": ([], True)}) for _ in range(3)] + [_result({long: ([], True)})]
    for r, name in zip(results, ["a", "a", "a-1", "a"]):
        r.name = name
    paths = [f for r in plots.files(results) for f in r.values()]
    assert paths == ["plots/a-x.png", "plots/a-x--2.png", "plots/a-1-x.png",
                     f"plots/a-{long[:78]}.png"]
    one_by_one = plots.Files()
    assert [p for r in results for p in one_by_one.of(r).values()] == paths


def _kinked(name: str, status: str = "passed") -> CaseResult:
    result = _result({"w": ([], True)})
    result.name, result.status = name, status
    result.points = [PointResult({}, {}, {"w": {"differentiable": False, "kink": "relu"}})]
    return result


def test_auto_draws_what_did_not_pass_and_what_sits_on_a_kink():
    plain, failed, kinked = _result({"w": ([], True)}), _kinked("f", "failed"), _kinked("k")
    failed.points = []
    results = [plain, failed, kinked]
    assert [r.telling for r in results] == [False, True, True]
    assert plots.drawn(results, "auto") == [False, True, True]
    assert plots.drawn(results, "all") == [True, True, True]
    assert plots.drawn(results, "none") == [False, False, False]
    files = plots.Files().of(plain)
    (why,) = plots.plan(plain, files, draw=False, policy="auto")
    assert why.note == ("No plots: it passed and sits on no kink (this run draws those that "
                        "did not pass or sit on a kink; --plots all draws every case).")
    (why,) = plots.plan(plain, files, draw=False, policy="none")
    assert why.note == "No plots: this run draws none (--plots none)."
    (why,) = plots.plan(kinked, files, draw=False, policy="auto")   # past MAX_CASES
    assert why.note == ("No plots: a run draws them for 40 cases, those that did not pass or "
                        "sit on a kink, those that did not pass first.")


def test_auto_sweeps_a_pass_on_a_kink_and_not_a_plain_pass():
    assert check_file(CASES / "x_squared.yaml", sweep="where telling").sweeps == {}
    kink = check_file(CASES / "relu_neuron_at_its_kink.yaml", sweep="where telling")
    assert kink.status == "passed" and sorted(kink.sweeps) == ["b", "w"]
