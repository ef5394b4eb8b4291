"""A correct tutorial passes (issue 22's false alarms), and the same case with a real mistake
still fails naming the entry: names that are functions' names, data held where a formula is
checked elsewhere, float32 at reduced dims, listed inputs past SymPy's budget."""
from __future__ import annotations

import json

from autograd_lab.check import check_file
from autograd_lab.reading import load

# --- item 4: any identifier is a name --------------------------------------------------------

CS231N_NEURON = """\
name: cs231n_neuron
source: "CS231n, Backprop in practice: staged computation (a 2-D neuron)"
inputs:
  w: {value: [2.0, -3.0, -3.0], grad: true}
  x: {value: [-1.0, -2.0], grad: true}
forward:
  dot: w[0]*x[0] + w[1]*x[1] + w[2]
  f: 1.0 / (1 + exp(-dot))
backward:
  ddot: (1 - f) * f
  dx:
    - w[0] * ddot
    - w[1] * ddot
  dw:
    - x[0] * ddot
    - x[1] * ddot
    - 1.0 * ddot
expect:
  f: 0.7310585786
  grad/w: [-0.19661193, -0.39322387, 0.19661193]
  grad/x: [0.39322387, -0.5898358]
"""


def test_a_node_named_dot_is_the_node_and_the_report_notes_it(write_case):
    result = check_file(write_case(CS231N_NEURON))
    assert result.status == "passed", result.problems
    assert [c.status for c in result.claims] == ["passed"] * 3
    assert result.notes[0] == ("the node dot is the case's own dot: written bare, dot means "
                               "the node; dot(...) and .dot() still call the function dot")


def test_a_node_named_dot_and_the_function_dot_in_one_case(write_case):
    text = CS231N_NEURON.replace("w[0]*x[0] + w[1]*x[1] + w[2]",
                                 "dot(w[0:2], x) + w[2]").split("expect:")[0]
    result = check_file(write_case(text))
    assert result.status == "passed", result.problems
    assert result.graph["nodes"]["dot"]["value"] == 1.0


BATCHNORM_VAR = """\
name: batchnorm_var
dims: {n: 4}
inputs:
  x: {value: {randn: [n], seed: 0}, grad: true}
forward:
  mean: x.mean()
  var: ((x - mean)**2).sum() / (n - 1)
  y: (x - mean) / sqrt(var + 1e-5)
upstream: {randn: [n], seed: 1}
backward:
  dx: (dy - dy.mean() - y*(dy*y).sum()/(n - 1)) / sqrt(var + 1e-5)
"""


def test_a_batchnorm_with_nodes_named_mean_and_var_passes(write_case):
    result = check_file(write_case(BATCHNORM_VAR))
    assert result.status == "passed", result.problems
    assert [b.name for b in result.backward if b.status == "passed"] == ["dx"]
    assert [n.split(":")[0] for n in result.notes[:2]] == [
        "the node mean is the case's own mean", "the node var is the case's own var"]


def test_its_bessel_mistake_fails_naming_the_entry(write_case):
    """The variance is unbiased (n - 1); the backward written with the biased n is wrong."""
    result = check_file(write_case(BATCHNORM_VAR.replace("/(n - 1)) / sqrt", "/n) / sqrt")))
    assert result.status == "failed"
    assert result.problems[0].startswith(
        "backward dx: hand-written (dy - dy.mean() - y*(dy*y).sum()/n) / sqrt(var + 1e-5) "
        "differs from the gradient of x (SymPy) by ")
    assert result.problems[0].endswith("its own formula is wrong")
    assert [b.status for b in result.backward] == ["failed"]


def test_a_function_name_the_case_does_not_declare_is_still_refused(write_case):
    result = check_file(write_case(BATCHNORM_VAR.replace("  mean: x.mean()\n", "")))
    assert result.status == "error"
    assert result.problems[0].endswith(
        "case.yaml:6:14: mean is a function; call it as mean(...): ((x - mean)**2).sum() / (n - 1)")


def test_e_and_pi_as_inputs(write_case):
    result = check_file(write_case("""
        inputs:
          e: {value: 2.0, grad: true}
          pi: {value: 3.0, grad: true}
        forward:
          y: e*pi
        gradient:
          e: pi
          pi: e
    """))
    assert result.status == "passed", result.problems
    assert len(result.notes) >= 2 and "not the constant e = 2.71828" in result.notes[0]
