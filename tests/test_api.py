"""The Python API: the same checking path and result object as the CLI and the plugin."""
from __future__ import annotations

import subprocess
import sys

import pytest

import autograd_lab
from autograd_lab import check as check_module

from .conftest import CASES


def test_importing_the_package_and_the_plugin_stays_light():
    code = ("import sys, autograd_lab, autograd_lab.plugin; autograd_lab.CaseError; "
            "print(sorted({'torch', 'sympy', 'numpy', 'pydantic'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_api_is_the_checking_path_the_cli_uses():
    assert autograd_lab.check_file is check_module.check_file
    assert autograd_lab.check_paths is check_module.check_paths
    assert "load_case" in dir(autograd_lab)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = autograd_lab.nope


def test_load_a_case_and_check_it():
    case = autograd_lab.load_case(CASES / "x_squared.yaml")
    assert case.params == ["x"] and float(case.inputs["x"].value) == 3.0
    result = autograd_lab.check_file(case)
    assert isinstance(result, autograd_lab.CaseResult)
    assert result.status == autograd_lab.PASSED
    by_method = result.points[0].gradients["x"]
    assert [by_method[m] for m in ("manual", "sympy", "autograd")] == [6.0, 6.0, 6.0]
    assert result.points[1].gradients["x"]["sympy"] == 4.0


def test_check_paths_checks_a_folder_in_order_and_goes_on_after_a_bad_file(write_case):
    write_case((CASES / "x_squared.yaml").read_text(), name="b_square")
    write_case("inputs: [1]\n", name="a_bad")
    results = autograd_lab.check_paths([write_case("inputs: {}\n", name="c_empty").parent])
    assert [(r.file.rsplit("/", 1)[-1], r.status) for r in results] == [
        ("a_bad.yaml", "error"), ("b_square.yaml", "passed"), ("c_empty.yaml", "error")]


def test_a_bad_file_raises_case_error_on_load_and_is_an_error_result_on_check(write_case):
    path = write_case("inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x.real\n")
    with pytest.raises(autograd_lab.CaseError) as caught:
        autograd_lab.load_case(path)
    assert (caught.value.line, caught.value.column) == (4, 6)
    result = autograd_lab.check_file(path)
    assert result.status == autograd_lab.ERROR and result.line == 4
    assert result.problems == [f"{path}:4:6: the attribute .real is not allowed; allowed: "
                               ".T, .values, .indices and the methods of the functions "
                               "(x.sum(1)): x.real"]


def test_assert_passes_returns_the_result_or_raises_the_diagnosis(write_case):
    assert autograd_lab.assert_passes(CASES / "x_squared.yaml").ok
    path = write_case((CASES / "sin_x_squared.yaml").read_text().replace(
        "z/y: cos(y)", "z/y: -cos(y)"), name="wrong")
    with pytest.raises(AssertionError) as caught:
        autograd_lab.assert_passes(path)
    first = str(caught.value).splitlines()[0]
    assert first == f"{path}:10: chain_rule z/y is wrong: you wrote -cos(y), " \
                    "SymPy's derivative is cos(y)"
