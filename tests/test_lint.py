"""The lints: the cross-entropy shape found in its written forms, its target checked (mistake a)."""
from __future__ import annotations

import pytest

from autograd_lab import case as E
from autograd_lab.check import check_file
from autograd_lab.check._lint import CrossEntropy, cross_entropies

from .conftest import CASES

MISTAKES = CASES.parent / "examples" / "mistakes"


@pytest.mark.parametrize("text", [
    "-(y*log(p) + (1 - y)*log(1 - p))",       # as the tutorials write it
    "-((1 - y)*log(1 - p) + y*log(p))",       # terms swapped
    "-(log(p)*y + log(1 - p)*(1 - y))",       # factors swapped
    "-y*log(p) - (1 - y)*log(1 - p)",         # negated term by term
    "y*log(p) + (1.0 - y)*log(1 - p)",        # the log-likelihood, 1 written 1.0
    "mean(-(y*log(p) + (1 - y)*log(1 - p)))",  # inside a reduction
])
def test_the_cross_entropy_shape_is_found(text):
    assert cross_entropies(E.parse(text)) == [CrossEntropy(E.Name("y"), E.Name("p"))]


@pytest.mark.parametrize("text", [
    "-(y*log(p) - (1 - y)*log(1 - p))",       # the terms' signs differ
    "-(y*log(p) + (1 - t)*log(1 - p))",       # two different targets
    "-(y*log(p) + (1 - y)*log(p))",           # not 1 - p in the second log
    "-(y*log(p) + (1 - y)*log(1 - p)*2)",     # a third factor
    "y*log(p)",
])
def test_other_shapes_are_not_cross_entropy(text):
    assert cross_entropies(E.parse(text)) == []


def test_a_compound_target_is_found_whole():
    found = cross_entropies(E.parse("-(x**2*log(p) + (1 - x**2)*log(1 - p))"))
    assert [str(f.target) for f in found] == ["x**2"]


def test_mistake_a_fails_naming_the_target_outside_0_1():
    result = check_file(MISTAKES / "bce_target_outside_0_1.yaml")
    assert (result.status, result.kind) == ("failed", "gradient")
    assert result.problems == [
        "binary cross-entropy in loss = -(y*log(p) + (1 - y)*log(1 - p)): its target y is 4 at "
        "the base point (x=2, w=1, b=0), outside [0, 1]; a cross-entropy target is a "
        "probability (a label, 0 or 1), so this loss means nothing (here it comes out -5.8731)"]
    # the arithmetic is right: every method agrees and the printed -5.8731 holds
    assert [c.status for c in result.claims] == ["passed"] * 3
    assert result.edges and all(e.status == "passed" for e in result.edges)


def test_the_perceptron_target_of_0_passes_the_lint():
    assert check_file(CASES / "perceptron_bce.yaml").status == "passed"


def test_a_target_outside_at_one_element_of_one_point(write_case):
    result = check_file(write_case("""
        inputs:
          t: [0.0, 1.0, 0.5]
          p: {value: [0.2, 0.7, 0.4], grad: true}
        forward:
          loss: mean(-(t*log(p) + (1 - t)*log(1 - p)))
        gradient:
          p: (p - t)/(p*(1 - p))/3
        points:
          - at: {t: [0.0, 1.5, 0.5]}
    """))
    assert result.status == "failed"
    assert result.problems[0].startswith(
        "binary cross-entropy in loss = mean(-(t*log(p) + (1 - t)*log(1 - p))): its target t is "
        "1.5 at point 1 element [1], outside [0, 1]")


def test_a_constant_target_is_checked_too(write_case):
    result = check_file(write_case("""
        inputs:
          p: {value: 0.3, grad: true}
        forward:
          loss: -(2*log(p) + (1 - 2)*log(1 - p))
        gradient:
          p: -2/p - 1/(1 - p)
    """))
    assert "its target 2 is 2 at the base point (p=0.3), outside [0, 1]" in result.problems[0]


def test_a_behaviour_step_with_a_bad_target_fails(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 2.0, grad: true}
        steps:
          - y: x**2
          - p: sigmoid(x)
          - loss: -(y*log(p) + (1 - y)*log(1 - p))
            expect: {loss: -5.8731}
    """))
    assert (result.status, result.kind) == ("failed", "behaviour")
    assert result.problems == [
        "step 3 (loss = -(y*log(p) + (1 - y)*log(1 - p)), line 6): binary cross-entropy in loss "
        "= -(y*log(p) + (1 - y)*log(1 - p)): its target y is 4, outside [0, 1]; a cross-entropy "
        "target is a probability (a label, 0 or 1), so this loss means nothing (here it comes "
        "out -5.8731)"]


def test_sqrt_outside_its_domain_at_a_point_is_reported(write_case):
    result = check_file(write_case("""
        inputs:
          x: {value: 4.0, grad: true}
        forward:
          y: sqrt(x - 1)
        gradient:
          x: 1/(2*sqrt(x - 1))
        points:
          - at: {x: 0.5}
    """))
    assert result.status == "failed"
    assert result.problems[0] == (f"{result.file}:4:6: sqrt(x - 1) (argument < 0) is outside "
                                  "its domain at point 1 (x=0.5)")


def test_a_cross_entropy_split_over_nodes_is_found():
    nodes = {"a": E.parse("y*log(p)"), "q": E.parse("1 - y"), "l1": E.parse("log(1 - p)"),
             "b": E.parse("q*l1")}
    assert cross_entropies(E.parse("-(a + b)"), nodes) == [CrossEntropy(E.Name("y"),
                                                                         E.Name("p"))]
    assert cross_entropies(E.parse("-(a + b)")) == []  # without the nodes, nothing to see


def test_a_cross_entropy_among_other_terms_is_found():
    text = " + ".join(["x"] * 50) + " - (y*log(p) + (1 - y)*log(1 - p))"
    assert cross_entropies(E.parse(text)) == [CrossEntropy(E.Name("y"), E.Name("p"))]


def test_a_split_loss_in_a_case_is_reported_once(write_case):
    result = check_file(write_case("""
        inputs:
          y: 2.0
          p: {value: 0.3, grad: true}
        forward:
          a: y*log(p)
          b: (1 - y)*log(1 - p)
          loss: -(a + b)
        gradient:
          p: -y/p + (1 - y)/(1 - p)
    """))
    assert result.problems == [
        "binary cross-entropy in loss = -(a + b): its target y is 2 at the base point (y=2, "
        "p=0.3), outside [0, 1]; a cross-entropy target is a probability (a label, 0 or 1), so "
        "this loss means nothing (here it comes out 2.0513)"]
