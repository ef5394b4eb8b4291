"""Each tutorial example in cases/ passes, with the values the tutorials print."""
from __future__ import annotations

import pytest

from autograd_lab.check import check_file

from .conftest import CASES


def grads(result, param, point=0):
    return result.points[point].gradients[param]


def test_x_squared_gradient_is_six():
    result = check_file(CASES / "x_squared.yaml")
    assert result.status == "passed", result.problems
    exact = {m: v for m, v in grads(result, "x").items() if m != "finite_difference"}
    assert exact == {"manual": 6.0, "sympy": 6.0, "autograd": 6.0}
    assert grads(result, "x")["finite_difference"] == pytest.approx(6.0, abs=1e-7)


def test_sin_x_squared_at_three_points():
    result = check_file(CASES / "sin_x_squared.yaml")
    assert result.status == "passed", result.problems
    expected = [-5.466781571308061, -2.6145744834544478, -7.661275842587077]
    for point, value in enumerate(expected):
        for method, got in grads(result, "x", point).items():
            rel = 1e-8 if method == "finite_difference" else 1e-12
            assert got == pytest.approx(value, rel=rel), method
    assert set(grads(result, "x")) == {"manual", "manual_total", "sympy", "autograd",
                                       "finite_difference"}


def test_perceptron_float32_and_float64():
    result = check_file(CASES / "perceptron_bce.yaml")
    assert result.status == "passed", result.problems
    w = grads(result, "w")
    assert w["sympy"] == pytest.approx(6.691763029, rel=1e-9)
    assert w["autograd_float64"] == pytest.approx(w["sympy"], rel=1e-12)
    assert w["autograd"] == pytest.approx(6.6917619705, rel=1e-8)  # float32, as the tutorial ran
    assert grads(result, "b")["sympy"] == pytest.approx(0.9987706014, rel=1e-9)
    assert [c.status for c in result.claims] == ["passed"] * 7
    assert [e.edge for e in result.edges] == ["loss/p", "p/y_pred", "y_pred/z", "z/w", "z/b"]


def test_vector_mean_square():
    result = check_file(CASES / "vector_mean_square.yaml")
    assert result.status == "passed", result.problems
    for got in grads(result, "x").values():
        assert got == pytest.approx([2 / 3, 4 / 3, 2.0], rel=1e-12)
