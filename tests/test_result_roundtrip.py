"""CaseResult.from_dict undoes to_dict through report.json: a result read back renders the same
report.md, junit.xml and report.json entry as the result itself (what `merge` relies on)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lab.check import case_files, check_file
from autograd_lab.reports import _json as json_report
from autograd_lab.reports import _junit as junit
from autograd_lab.reports import _markdown as markdown
from autograd_lab.result import CaseResult, _restored, json_ready

ROOT = Path(__file__).resolve().parent.parent
FILES = case_files([ROOT / "cases", ROOT / "examples", ROOT / "tests" / "golden" / "examples"])

OUT_OF_DOMAIN = {   # NaN and inf in values, gradients, edges and the worst gap
    "log_of_negative": "inputs:\n  x: {value: -1.0, grad: true}\nforward:\n  y: log(x)\n"
                       "chain_rule:\n  y/x: 1/x\n",
    "sqrt_of_vector": "inputs:\n  x: {value: [-1.0, -2.0, 2.0, 0.0], grad: true}\nforward:\n"
                      "  s: sqrt(x)\n  y: sum(s)\nchain_rule:\n  y/s: 1\n  s/x: 1/(2*sqrt(x))\n",
    "overflow": "inputs:\n  x: {value: 1000.0, grad: true}\nforward:\n  y: exp(x)\n"
                "gradient:\n  x: exp(x)\n",
}


def read_back(result: CaseResult) -> CaseResult:
    back = CaseResult.from_dict(json.loads(json_report.case(result)))
    back.seconds = result.seconds   # a timing: not in report.json
    return back


def assert_same_reports(result: CaseResult) -> None:
    back = read_back(result)
    assert markdown.render([back], "T") == markdown.render([result], "T")
    assert junit.render([back], "T") == junit.render([result], "T")
    assert json_report.case(back) == json_report.case(result)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_case_reads_back_to_the_same_reports(path):
    assert_same_reports(check_file(path, "always"))   # "always": with its plots' sweeps


@pytest.mark.parametrize("name", sorted(OUT_OF_DOMAIN))
def test_nan_and_inf_read_back_as_themselves(name, write_case):
    result = check_file(write_case(OUT_OF_DOMAIN[name], name=name), "always")
    assert result.status == "failed"
    assert_same_reports(result)


def test_a_vector_outside_its_domain_is_listed_as_runs(write_case):
    result = check_file(write_case(OUT_OF_DOMAIN["sqrt_of_vector"]))
    entry = json.loads(json_report.case(result))
    assert entry["points"][0]["gradients"]["x"]["sympy"][:2] == [None, None]
    assert entry["non_finite"]["/points/0/gradients/x/sympy"] == [[0, 2, "nan"], [3, 1, "nan"]]
    assert entry["non_finite"]["/graph/nodes/y/value"] == "nan"
    back = CaseResult.from_dict(entry)
    assert math.isinf(back.points[0].gradients["x"]["manual"][3])


def test_details_part_from_the_methods_values():
    result = check_file(ROOT / "cases" / "perceptron_bce.yaml")
    back = read_back(result)
    assert back.points[0].gradients == result.points[0].gradients
    assert back.points[0].details == result.points[0].details
    assert list(back.points[0].gradients["w"]) == ["manual", "sympy", "autograd",
                                                   "autograd_float64", "finite_difference"]
    assert back.points[0].details["w"]["differentiable"] is True


def test_a_sweep_reads_back_as_its_sample_count():
    result = check_file(ROOT / "cases" / "x_squared.yaml", "always")
    entry = json.loads(json_report.case(result))
    assert entry["sweeps"] == {"x": 161}
    assert len(CaseResult.from_dict(entry).sweeps["x"].xs) == 161


finite = st.floats(allow_nan=False, allow_infinity=False)
odd = st.sampled_from([math.nan, math.inf, -math.inf])
numbers = st.one_of(finite, odd, st.integers(), st.none(), st.booleans())
keys = st.text(alphabet="ab/~0", min_size=1, max_size=4)
values = st.recursive(numbers, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(keys, inner, max_size=4)), max_leaves=20)


@given(st.dictionaries(keys, values, max_size=5))
def test_json_ready_is_undone_by_from_dicts_reading(entry):
    text = json.dumps(json_ready(entry), allow_nan=False)
    assert _same(_restored(json.loads(text)), entry)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)
