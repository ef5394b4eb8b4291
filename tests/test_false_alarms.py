"""A correct tutorial passes (issue 22's false alarms), and the same case with a real mistake
still fails naming the entry: names that are functions' names, data held where a formula is
checked elsewhere, float32 at reduced dims, listed inputs past SymPy's budget."""
from __future__ import annotations

import json

import numpy as np

from autograd_lab.check import check_file
from autograd_lab.reports import write

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


# --- item 2: the formula check moves parameters and holds data -------------------------------

SOFTMAX_CE = """\
name: softmax_ce
inputs:
  z: {value: [1.0, 2.0, 0.5], grad: true}
  y: [0.0, 1.0, 0.0]
forward:
  p: exp(z) / sum(exp(z))
  loss: -sum(y * log(p))
gradient:
  z: p - y
"""

CE_ROW = """\
name: ce_row
inputs:
  z0: {value: 1.0, grad: true}
  z1: {value: 2.0, grad: true}
  z2: {value: 0.5, grad: true}
  y0: 0.0
  y1: 1.0
  y2: 0.0
forward:
  s: exp(z0) + exp(z1) + exp(z2)
  p0: exp(z0)/s
  p1: exp(z1)/s
  p2: exp(z2)/s
  loss: -(y0*log(p0) + y1*log(p1) + y2*log(p2))
gradient:
  z0: p0 - y0
  z1: p1 - y1
  z2: p2 - y2
"""

BATCHNORM_UNIT = """\
name: bn_unit
inputs:
  x: {value: [1.0, 2.0, 4.0, 7.0], grad: true}
  n: 4
forward:
  mu: sum(x)/n
  d: x - mu
  loss: sum(d**2)/n
chain_rule:
  loss/d: 2*d/4
  d/x: 1
  d/mu: -1
  mu/x: 1/4
"""


def test_softmax_cross_entropy_p_minus_y_with_a_one_hot_y_passes(write_case):
    """p - y is d(-sum(y log softmax(z)))/dz only where sum(y) = 1: y is data, held."""
    result = check_file(write_case(SOFTMAX_CE))
    assert result.status == "passed", result.problems
    assert result.formulas_at == {"points": 4, "moved": ["z"], "held": ["y"]}
    softmax_minus_y = [0.2312238976, -0.3714682808, 0.1402443832]
    assert all(abs(a - b) < 1e-9 for a, b in zip(result.points[0].gradients["z"]["sympy"],
                                                 softmax_minus_y))


def test_softmax_cross_entropy_with_a_wrong_sign_fails(write_case):
    result = check_file(write_case(SOFTMAX_CE.replace("z: p - y", "z: y - p")))
    assert result.status == "failed"
    assert result.problems[0].startswith("gradient z: manual gives ")


def test_a_cross_entropy_row_passes_and_its_mistake_fails(write_case):
    result = check_file(write_case(CE_ROW))
    assert result.status == "passed", result.problems
    assert result.formulas_at == {"points": 4, "moved": ["z0", "z1", "z2"],
                                  "held": ["y0", "y1", "y2"]}
    wrong = check_file(write_case(CE_ROW.replace("z1: p1 - y1", "z1: p1 + y1"), "wrong"))
    assert [p.split(":")[0] for p in wrong.problems] == ["gradient z1"]


def test_a_batchnorm_units_one_over_n_passes(write_case):
    """1/4 is d(mean)/dx for the batch's n = 4: n is data, held at 4."""
    result = check_file(write_case(BATCHNORM_UNIT))
    assert result.status == "passed", result.problems
    assert result.formulas_at == {"points": 4, "moved": ["x"], "held": ["n"]}


def test_a_batchnorm_units_mistakes_still_fail(write_case):
    """A forgotten 1/n fails at the base point; an edge right only at the parameters' values
    (the mean 3.5 written in) still fails as a formula: parameters still move."""
    forgot = check_file(write_case(BATCHNORM_UNIT.replace("mu/x: 1/4", "mu/x: 1")))
    assert forgot.status == "failed"
    assert forgot.problems[0].startswith("chain_rule edge mu/x: hand-written 1, SymPy 1/n; ")
    frozen = check_file(write_case(BATCHNORM_UNIT.replace("loss/d: 2*d/4",
                                                          "loss/d: 2*(x - 3.5)/4"), "frozen"))
    assert frozen.status == "failed"
    assert frozen.problems[0].startswith(
        "chain_rule edge loss/d: hand-written 2*(x - 3.5)/4, SymPy 2*d/n; right at the case's "
        "points, wrong as a formula: at n=4 (and x scaled at random) element [")


def test_the_report_says_which_inputs_moved(write_case, tmp_path):
    write([check_file(write_case(SOFTMAX_CE))], tmp_path, ("json",))
    case = json.loads((tmp_path / "report.json").read_text())["cases"][0]
    assert case["formulas_at"] == {"points": 4, "moved": ["z"], "held": ["y"]}


# --- item 3: float32 at reduced dims ---------------------------------------------------------

EXERCISE3 = """\
name: makemore_exercise3
source: 'Karpathy, "Becoming a Backprop Ninja", exercise 3 (float32, as the notebook)'
dtype: float32
dims: {n: 32, n_hidden: 64}
inputs:
  hprebn: {value: {randn: [n, n_hidden], seed: 1}, grad: true}
  bngain: {value: {randn: [1, n_hidden], seed: 2}, grad: true}
  bnbias: {value: {randn: [1, n_hidden], seed: 3, scale: 0.1}, grad: true}
forward:
  bnmeani: 1/n*hprebn.sum(0, keepdim=True)
  bndiff: hprebn - bnmeani
  bndiff2: bndiff**2
  bnvar: 1/(n-1)*(bndiff2).sum(0, keepdim=True)
  bnvar_inv: (bnvar + 1e-5)**-0.5
  bnraw: bndiff * bnvar_inv
  hpreact: bngain * bnraw + bnbias
upstream: {randn: [n, n_hidden], seed: 4, scale: 10.0}
backward:
  dhprebn: >-
    bngain*bnvar_inv/n * (n*dhpreact - dhpreact.sum(0) - n/(n-1)*bnraw*(dhpreact*bnraw).sum(0))
"""


def test_exercise3_in_float32_passes_with_its_rounding_in_a_note(write_case):
    """At the reduced dims (n=2: the variance of two rows) float32 autograd misses SymPy by
    6.7e-05 while float64 autograd and the hand-written line agree with it: rounding."""
    result = check_file(write_case(EXERCISE3))
    assert result.status == "passed", result.problems
    assert result.sympy_at == {"n": 2, "n_hidden": 3}
    (note,) = [n for n in result.notes if "rounding" in n]
    assert note.startswith("at the reduced dims n=2, n_hidden=3: gradient hprebn: float32 "
                           "autograd gives -2.08148")
    assert note.endswith("while float64 autograd agrees with it: float32's rounding, not a "
                         "wrong derivative")
    assert [b.status for b in result.backward] == ["passed"]


def test_exercise3_without_bessels_factor_fails_naming_the_entry(write_case):
    result = check_file(write_case(EXERCISE3.replace("n/(n-1)*bnraw", "bnraw")))
    assert result.status == "failed"
    assert result.problems[0].startswith(
        "backward dhprebn: hand-written bngain*bnvar_inv/n * (n*dhpreact - dhpreact.sum(0) - "
        "bnraw*(dhpreact*bnraw).sum(0)) differs from the gradient of hprebn (autograd) by ")
    assert [b.status for b in result.backward] == ["failed"]


# --- item 7: past SymPy's budget with listed inputs ------------------------------------------

def _listed(a) -> str:
    return json.dumps(np.round(a, 8).tolist())


def cs231n_toy_net() -> str:
    """CS231n's two-layer toy net as its notebook makes it (init_toy_model, init_toy_data),
    every input listed as printed: 35,650 partial derivatives, past SymPy's 30,000."""
    rng = np.random.RandomState(0)
    w1 = 1e-1 * rng.randn(4, 10)
    w2 = 1e-1 * rng.randn(10, 3)
    x = 10 * np.random.RandomState(1).randn(5, 4)
    return f"""\
name: cs231n_two_layer_toy
inputs:
  X: {_listed(x)}
  y: {{value: [0, 1, 2, 2, 1], dtype: int64}}
  W1: {{value: {_listed(w1)}, grad: true}}
  b1: {{value: {_listed(np.zeros(10))}, grad: true}}
  W2: {{value: {_listed(w2)}, grad: true}}
  b2: {{value: [0.0, 0.0, 0.0], grad: true}}
  reg: 0.05
forward:
  z1: X @ W1 + b1
  h1: max(0, z1)
  scores: h1 @ W2 + b2
  loss: cross_entropy(scores, y) + reg*((W1*W1).sum() + (W2*W2).sum())
backward:
  dscores: (softmax(scores, 1) - one_hot(y, num_classes=3)) / 5
  dW2: h1.T @ dscores + 2*reg*W2
  db2: dscores.sum(0)
  dh1: dscores @ W2.T
  dz1: dh1 * step(z1)
  dW1: X.T @ dz1 + 2*reg*W1
  db1: dz1.sum(0)
expect:
  loss: 1.30378789133
"""


def test_cs231n_toy_net_with_listed_inputs_is_checked_not_refused(write_case):
    """Its lengths 5 (written in / 5) and 3 (num_classes=3) are kept, 4 and 10 cut to 2 and
    4; SymPy checks every formula there, the printed loss is checked at full size."""
    result = check_file(write_case(cs231n_toy_net()))
    assert result.status == "passed", result.problems
    assert result.sympy_at == {"4": 2, "10": 4}
    assert [c.status for c in result.claims] == ["passed"]
    assert abs(result.claims[0].value - 1.30378789133) < 1e-8
    assert [b.status for b in result.backward] == ["passed"] * 7
    assert result.notes[-1].startswith(
        "SymPy ran at reduced sizes (the lengths 3, 5 kept: the expressions write them): the "
        "inputs at X 5×2, W1 2×4, b1 4, W2 4×3 (")


def test_cs231n_toy_nets_missing_relu_gate_fails_at_both_sizes(write_case):
    result = check_file(write_case(cs231n_toy_net().replace("dz1: dh1 * step(z1)",
                                                            "dz1: dh1")))
    assert result.status == "failed"
    own = [p for p in result.problems if p.endswith("every d-name it uses (dh1) is right")]
    assert [p.split(":")[0] for p in own] == ["backward dz1",
                                              "at the reduced sizes 4→2, 10→4"]
    assert own[0].startswith("backward dz1: hand-written dh1 differs from the gradient of z1 "
                             "(autograd) by ")
    assert own[1].startswith("at the reduced sizes 4→2, 10→4: backward dz1: hand-written dh1 "
                             "differs from the gradient of z1 (SymPy) by ")


def test_a_right_float32_scalar_case_with_a_rounding_gap_passes_with_a_note(write_case):
    """(x - 1.0001)**2 at x = 1 in float32 loses three of float32's digits: autograd misses
    SymPy's -0.2 by 3.3e-05, past float32's tolerance, while float64 autograd agrees."""
    text = """\
        dtype: float32
        inputs:
          x: {value: 1.0, grad: true}
        forward:
          d: x - 1.0001
          y: 1000*d**2
        chain_rule:
          y/d: 2000*d
          d/x: 1
    """
    result = check_file(write_case(text))
    assert result.status == "passed", result.problems
    assert result.notes[0].startswith("gradient x: float32 autograd misses SymPy at the base "
                                      "point (x=1) while float64 autograd agrees with it: ")
    assert result.notes[0].endswith("This is float32 rounding, not a wrong derivative")
    wrong = check_file(write_case(text.replace("y/d: 2000*d", "y/d: 200*d"), "wrong"))
    assert wrong.status == "failed"
    assert wrong.problems[0].startswith("chain_rule edge y/d: hand-written 200*d, SymPy 2000*d")
