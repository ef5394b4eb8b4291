"""report.json: entries rendered as the results come give the very text rendered at the end."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lab.check import check_file
from autograd_lab.reports import Run, write
from autograd_lab.reports import _json as json_report
from autograd_lab.result import error

from .conftest import CASES


def _results():
    return [check_file(CASES / "x_squared.yaml"), check_file(CASES / "vector_mean_square.yaml"),
            error("bad", "bad.yaml", "bad.yaml:3: no such function 'sinn'", line=3)]


def test_entries_rendered_as_they_come_give_the_same_text():
    results = _results()
    at_the_end = json_report.render(results, "T")
    as_they_came = json_report.render(results, "T", [json_report.case(r) for r in results])
    assert as_they_came == at_the_end
    report = json.loads(at_the_end)
    assert at_the_end == json.dumps(report, indent=2) + "\n"   # json's own layout
    assert report["summary"] == {"cases": 3, "passed": 2, "failed": 0, "errors": 1}
    assert [c["name"] for c in report["cases"]] == ["x_squared", "vector_mean_square", "bad"]
    assert report["cases"][0]["points"][0]["gradients"]["x"]["sympy"] == 6.0


def test_no_cases_is_an_empty_list():
    text = json_report.render([], "T")
    assert json.loads(text)["cases"] == [] and text == json.dumps(json.loads(text), indent=2) + "\n"


def test_a_run_fed_case_by_case_writes_what_write_does(tmp_path):
    results = _results()
    with Run(tmp_path / "run", ("json", "md")) as run:
        for result in results:
            run.add(result)
        fed = run.finish(results)
    at_once = write(results, tmp_path / "once", ("json", "md"))
    assert [p.name for p in fed] == [p.name for p in at_once] == ["report.json", "report.md"]
    a, b = (json.loads(p.read_text()) for p in (fed[0], at_once[0]))
    assert a.pop("generated") and b.pop("generated")   # the only part that may differ
    assert a == b


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
              st.floats(allow_nan=True, allow_infinity=True)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(), st.integers()), inner,
                                            max_size=4)),
    max_leaves=25)


@given(json_values)
def test_the_fast_writer_writes_what_json_does(value):
    """report.json's entries are written by json_report.pretty where it can: byte for byte
    json.dumps(indent=2); whatever it leaves (NaN, inf, keys that are not text) goes to json."""
    try:
        expected = json.dumps(value, indent=2, allow_nan=False)
    except ValueError:   # a NaN or inf: pretty leaves it to json_ready
        with pytest.raises(json_report._Unusual):
            json_report.pretty(value)
        return
    try:
        assert json_report.pretty(value) == expected
    except json_report._Unusual:
        assert any(not isinstance(k, str) for k in _keys(value))


def _keys(value):
    if isinstance(value, dict):
        yield from value
        for v in value.values():
            yield from _keys(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _keys(v)


def test_an_entry_with_nan_is_written_by_json_with_its_places_listed(write_case):
    result = check_file(write_case("inputs:\n  x: {value: -1.0, grad: true}\nforward:\n"
                                   "  y: log(x)\nchain_rule:\n  y/x: 1/x\n"))
    entry = json.loads(json_report.case(result))
    assert entry["graph"]["nodes"]["y"]["value"] is None
    assert entry["non_finite"] == {"/graph/nodes/y/value": "nan",
                                   "/points/0/gradients/x/finite_difference": "nan"}
