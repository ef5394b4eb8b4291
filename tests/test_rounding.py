"""float32 against SymPy's exact value: the error reported, and where a large one comes from."""
from __future__ import annotations

import numpy as np
import pytest

from autograd_lab.check import check_file
from autograd_lab.rounding import ulps

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
