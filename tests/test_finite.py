"""The finite-difference opinion: gradcheck's central difference, beside every gradient."""
from __future__ import annotations

import numpy as np
import pytest

from autograd_lab.check import check_file
from autograd_lab.methods import _finite as finite
from autograd_lab.reading import load

from .conftest import CASES

SEEDS = sorted(CASES.glob("*.yaml"))


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_finite_differences_match_on_the_seed_cases(path):
    result = check_file(path)
    assert result.status == "passed"
    assert not [n for n in result.notes if n.startswith("finite difference")]
    if result.sympy_at is not None:   # a tensor case: its quotient is a note where it disagrees
        return
    for point in result.to_dict()["points"]:
        for entry in point["gradients"].values():
            if "kink" in entry:   # cases/relu_neuron_at_its_kink: tested in test_kinks
                continue
            assert entry["differentiable"] is True
            fd = entry["finite_difference"]
            value, exact = (fd["value"], fd["sympy"]) if isinstance(fd, dict) \
                else (fd, entry["sympy"])
            assert value == pytest.approx(exact, rel=finite.RTOL, abs=finite.ATOL)


def test_central_difference_of_a_cube(write_case):
    case = load(write_case("""
        inputs:
          x: {value: 2.0, grad: true}
        forward:
          y: x**3
        gradient:
          x: 3*x**2
        points:
          - at: {x: -1.0}
    """))
    opinion = finite.opinion(case)
    # (f(x+h) - f(x-h))/2h = 3x² + h², and float64 rounding costs about eps*|f|/h
    assert opinion.values["x"] == pytest.approx([12.0, 3.0], abs=1e-7)
    assert opinion.directions["x"] is None and opinion.straddles["x"] == ["", ""]


def test_an_output_that_is_its_input_is_differenced_before_the_input_moves_back(write_case):
    # `return input`: the output is the input's own tensor, so it must be copied at each step
    case = load(write_case("""
        inputs:
          x: {value: 2.0, grad: true}
        forward:
          y: x
        gradient:
          x: 1
    """))
    assert finite.opinion(case).values["x"] == pytest.approx([1.0], abs=1e-7)


def test_a_vector_is_checked_along_a_fixed_unit_direction():
    case = load(CASES / "vector_mean_square.yaml")
    u = finite.direction(case, "x")
    assert np.linalg.norm(u.dense()) == pytest.approx(1.0) and u.dense().shape == (3,)
    assert np.array_equal(u.dense(), finite.direction(case, "x").dense())
    along = finite.project(np.array([[2 / 3, 4 / 3, 2.0]]), u)
    assert finite.opinion(case).values["x"] == pytest.approx(along, abs=1e-8)


def test_a_long_vector_moves_a_sample_of_its_elements(write_case):
    case = load(write_case("""
        inputs:
          x: {value: {linspace: [-3, 3, 5000]}, grad: true}
        forward:
          y: mean(x**2)
        gradient:
          x: 2*x/5000
    """))
    u = finite.direction(case, "x")
    dense = u.dense()
    assert np.count_nonzero(dense) == finite.MOVED and np.linalg.norm(dense) == pytest.approx(1.0)
    grad = 2 * case.points["x"] / 5000
    along = np.tensordot(grad, dense, axes=1)
    assert finite.project(grad, u) == pytest.approx(along, rel=1e-12)
    assert finite.opinion(case).values["x"] == pytest.approx(along, abs=1e-8)
    assert str(u) == "a random unit direction over 1,024 of its 5,000 elements (seed 0)"


def test_a_step_across_a_kink_is_a_note_not_a_failure(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 1e-7, grad: true}
        forward:
          y: abs(x)
        gradient:
          x: sign(x)
    """))
    assert result.status == "passed" and result.problems == []
    assert result.notes == [
        "finite difference for x disagrees with every exact method at the base point "
        "(x=1e-07): 0.1 where SymPy gives 1 (gradcheck's tolerance rtol 0.001, atol 1e-05); "
        "the step ±1e-06 crosses the switch point of abs(x); it is an opinion and does not "
        "decide the verdict"]


def test_a_torch_without_gradchecks_helper_gets_the_same_quotients(monkeypatch):
    import types
    case = load(CASES / "vector_mean_square.yaml")
    scalar = load(CASES / "sin_x_squared.yaml")
    expected = finite.opinion(case).values["x"], finite.opinion(scalar).values["x"]
    monkeypatch.setattr(finite, "_gradcheck", lambda: types.SimpleNamespace())
    assert finite.opinion(case).values["x"] == pytest.approx(expected[0], rel=1e-12)
    assert finite.opinion(scalar).values["x"] == pytest.approx(expected[1], rel=1e-12)
