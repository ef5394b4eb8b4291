"""float32 against SymPy's exact value: the error reported, and where a large one comes from."""
from __future__ import annotations

import numpy as np
import pytest

from autograd_lab.check import check_file, ulps

from .conftest import CASES


def test_an_ulp_is_float32s_last_place():
    assert ulps(2.0 ** -23, 1.0) == 1.0
    assert ulps(2.0 ** -22, 3.0) == 1.0


def test_the_perceptrons_float32_gradient_error_is_reported():
    point = check_file(CASES / "perceptron_bce.yaml").to_dict()["points"][0]
    w = point["gradients"]["w"]
    assert w["float32_error"] == pytest.approx(1.0587e-6, rel=1e-3)
    assert w["float64_error"] < 1e-14
    assert w["float32_ulps"] == pytest.approx(2.22, abs=0.01)
    assert "float32_cause" not in w   # two ulps: ordinary rounding


def test_the_loss_error_is_traced_to_one_minus_p():
    rounding = check_file(CASES / "perceptron_bce.yaml").points[0].rounding
    assert rounding["node"] == "loss"
    assert rounding["float32"] == pytest.approx(6.701176166534424, rel=1e-12)
    assert rounding["exact"] == pytest.approx(6.7012301549517135, rel=1e-15)
    assert rounding["float32_ulps"] == pytest.approx(113.2, abs=0.1)
    cause = rounding["float32_cause"]
    assert cause.startswith("float32's 1 - p is off by 5.4e-05 relative (about 453 float32 ulps)")
    assert "subtracts nearly equal numbers (1 and 0.998770535)" in cause
    assert "starts in sigmoid(z)" in cause
    assert cause.endswith("This is float32 rounding, not a wrong derivative")


def test_a_float64_case_has_no_float32_keys():
    point = check_file(CASES / "x_squared.yaml").to_dict()["points"][0]
    assert "rounding" not in point and "float32_error" not in point["gradients"]["x"]
    assert np.isfinite(point["gradients"]["x"]["finite_difference"])


def test_a_float32_breakdown_is_told_from_a_wrong_derivative(write_case):
    text = (CASES / "perceptron_bce.yaml").read_text()
    text = text.replace("w: {value: 1.0", "w: {value: 3.0").split("expect:")[0]
    result = check_file(write_case(text))   # z = 20.1: float32 holds y_pred and 1 - 1e-8 as 1
    assert result.status == "failed"        # float32 autograd gives nan; the clamp binds
    assert result.problems[0].startswith("chain_rule edge p/y_pred: hand-written 1")
    note = next(n for n in result.notes if n.startswith("gradient w: float32 autograd"))
    assert "while float64 autograd agrees with it: float32's 1 - p is off by 1 relative" in note
    assert "float32 holds as the same 1, so none of their difference survives" in note
    w = result.to_dict()["points"][0]["gradients"]["w"]
    assert w["kink"].startswith("clamp(y_pred, 1e-08, 1 - 1e-08) sits on its switch point in "
                                "float32 (argument = a bound), but the one-sided derivatives "
                                "agree")
    assert w["differentiable"] is True
