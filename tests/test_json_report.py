"""report.json: entries rendered as the results come give the very text rendered at the end."""
from __future__ import annotations

import json

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
