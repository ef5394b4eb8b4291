"""The benchmark's case generator writes valid cases that pass, the same ones for a seed."""
from __future__ import annotations

import sympy as sp

from autograd_lab.check import check_file
from benchmarks.floor import bare
from benchmarks.generate import case_text, generate


def test_generated_cases_are_valid_and_pass(tmp_path):
    cases = generate(tmp_path, 4, seed=3)
    texts = [c.path.read_text() for c in cases]
    assert "chain_rule:" in texts[0] and "gradient:" in texts[1]
    results = [check_file(c.path) for c in cases]
    assert [r.status for r in results] == ["passed"] * 4, [r.problems for r in results]


def test_the_same_seed_gives_the_same_cases(tmp_path):
    first = [c.path.read_text() for c in generate(tmp_path / "a", 3, seed=5)]
    again = [c.path.read_text() for c in generate(tmp_path / "b", 3, seed=5)]
    assert first == again


def test_the_floor_computes_the_same_gradient(tmp_path):
    case = generate(tmp_path, 1, seed=1)[0]
    floor = bare([case])[0]
    checked = check_file(case.path).points[0].gradients
    for p in ("x", "w"):
        assert abs(floor["sympy"][p] - checked[p]["sympy"]) < 1e-9
        assert abs(floor["torch"][p] - checked[p]["autograd"]) < 1e-9


def test_formulas_are_printed_in_the_case_language():
    x = sp.Symbol("x", real=True)
    assert case_text(sp.Heaviside(x)) == "step(x)"
    assert case_text(sp.Abs(x) + sp.Max(0, x)) in ("abs(x) + relu(x)", "relu(x) + abs(x)")
    assert case_text(sp.E * x) == "e*x"


def test_the_peer_script_checks_every_node_of_the_case(capsys):
    """benchmarks/peer_mlp.py, the reference of the MLP figure, does the work it is timed for:
    one cmp() line for each of the case's 26 backward entries, all agreeing, and gradcheck."""
    from benchmarks import peer_mlp
    assert peer_mlp.main()
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if "| approximate: True" in line]) == 26
    assert lines[-1] == "gradcheck: True"
