"""junit.xml: parsed back, one testcase per case with the terminal's diagnosis."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from autograd_lab.check import check_file
from autograd_lab.reports import _junit as junit

from .conftest import CASES


def test_parsed_junit_carries_verdicts_diagnoses_and_gradients(write_case):
    wrong = write_case("""
        inputs: {x: {value: 2.0, grad: true}}
        forward: {y: x**3}
        chain_rule: {y/x: 3*x}
        """, "cube")
    bad = write_case("inputs: {x: 1}\nforward: {y: x.real}\n", "bad")
    results = [check_file(CASES / "x_squared.yaml"), check_file(wrong), check_file(bad)]
    root = ET.fromstring(junit.render(results))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert [(c.get("classname").split(".")[-2:], c.get("name")) for c in cases] == [
        (["x_squared", "yaml"], "x_squared"), (["cube", "yaml"], "cube"), (["bad", "yaml"], "bad")]
    props = {p.get("name"): p.get("value") for p in cases[0].iter("property")}
    assert props["grad/x/sympy"] == "6.0" and props["grad/x/autograd"] == "6.0"
    failure = cases[1].find("failure")
    assert failure.get("type") == "autograd-lab.WrongEdge"
    assert failure.get("message") == results[1].problems[0]
    assert failure.get("message").startswith("chain_rule edge y/x: hand-written 3*x, SymPy 3*x**2")
    assert failure.text == "\n".join(results[1].problems)
    error = cases[2].find("error")
    assert error.get("message").startswith(f"{bad}:2") and "attribute" in error.get("message")
    assert cases[0].find("failure") is None and cases[0].get("line") == "1"


def test_classname_is_pytests_dotted_path():
    assert junit.classname("cases/perceptron_bce.yaml") == "cases.perceptron_bce.yaml"
    assert junit.classname("/tmp/a/b.c.yaml") == "tmp.a.b.c.yaml"
    assert junit.classname("../x.yml") == "x.yml"
    assert junit.classname("./cases/x.yaml") == "cases.x.yaml"


def test_text_xml_cannot_carry_is_replaced():
    assert junit._clean("a\x00b\x1bc") == "a\ufffdb\ufffdc"
