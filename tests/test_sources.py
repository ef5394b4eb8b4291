"""Derivatives stated in Python source (issue 26): micrograd's Value rules and its `.grad =`
assignments, torch.autograd.Function's backward, gradient functions called beside autograd,
and the API that reads a user's own functions. All read statically: nothing here runs the
code it reads."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lab
from autograd_lab.api import check_file, diagnosis
from autograd_lab.reading import cases_from_cells, cases_from_source

pytest_plugins = ["pytester"]

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
LECTURE = SOURCES / "nn-zero-to-hero"     # the micrograd lecture's cells, outputs left out
FIRST = LECTURE / "micrograd_lecture_first_half_roughly.ipynb"
SECOND = LECTURE / "micrograd_lecture_second_half_roughly.ipynb"


def cells(path: Path, old: str = "", new: str = "") -> list[tuple[str, int]]:
    """A notebook's code cells with their first lines, counted as the cells' lines stacked
    (the place a reader of the cells says), one cell's text changed where asked."""
    out, line = [], 1
    for cell in json.loads(path.read_text())["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            out.append((text.replace(old, new) if old else text, line))
        line += text.count("\n") + 1
    return out


def line_of(cell_list, needle: str) -> int:
    for text, first in cell_list:
        if needle in text:
            return first + text[: text.index(needle)].count("\n")
    raise AssertionError(needle)


def statuses(read) -> dict[str, str]:
    return {case.name: check_file(case).status for case in read.cases}


def test_the_lectures_value_operators_backward_rules_are_checked_against_sympy():
    read = cases_from_cells(cells(SECOND), "lecture.ipynb")
    assert statuses(read) == {
        "Value-__add__": "passed", "Value-__mul__": "passed", "Value-__pow__": "passed",
        "Value-tanh": "passed", "Value-exp": "passed",
        # written with the others: checked through the nodes and rules they build
        "Value-__truediv__": "passed", "Value-__neg__": "passed", "Value-__sub__": "passed",
        "Value-__rmul__": "passed", "Value-__radd__": "passed"}
    tanh = next(c for c in read.cases if c.name == "Value-tanh")
    assert tanh.gradient["self"][1] == "1 - t ** 2"
    assert {n: node.text for n, node in tanh.nodes.items()} == {
        "x": "self", "t": "(exp(2 * x) - 1) / (exp(2 * x) + 1)", "out": "t"}
    sub = next(c for c in read.cases if c.name == "Value-__sub__")
    assert {k: e.text for k, e in sub.edges.items()} == {
        "mul1/other": "(-1)", "add2/self": "1.0", "add2/mul1": "1.0"}
    # the rules, once each: + (2), * (2), ** (1), tanh (1), exp (1)
    assert read.counts() == {"found": 7, "checked": 7, "unchecked": 0}


def test_tanhs_rule_written_wrong_fails_naming_the_rule_and_its_line():
    wrong = cells(SECOND, "self.grad += (1 - t**2) * out.grad", "self.grad += (1 - t) * out.grad")
    read = cases_from_cells(wrong, "lecture.ipynb")
    assert {n: s for n, s in statuses(read).items() if s != "passed"} == {"Value-tanh": "failed"}
    result = check_file(next(c for c in read.cases if c.name == "Value-tanh"))
    line = line_of(wrong, "self.grad += (1 - t) * out.grad")
    assert len(result.problems) == 1
    assert result.problems[0].startswith("gradient self: manual gives ")
    assert (result.problems[0].line, result.problems[0].column) == (line, 7)
    assert f"case Value-tanh failed (lecture.ipynb:{line_of(wrong, 'def tanh')})" \
        in diagnosis(result)


def test_the_lectures_manual_backpropagation_is_checked_node_by_node():
    read = cases_from_cells(cells(FIRST), "lecture.ipynb")
    manual = next(c for c in read.cases if c.name == "o-manual-backward")
    # nine assignments, o.grad = 1.0 the seed; in the graph's order, not the cells'
    assert list(manual.backward) == ["dn", "dx1w1x2w2", "dx2w2", "dx1w1", "db", "dw2", "dw1",
                                     "dx2", "dx1"]
    assert check_file(manual).status == "passed"
    wrong = cells(FIRST, "x2.grad = w2.data * x2w2.grad", "x2.grad = x2.data * x2w2.grad")
    result = check_file(next(c for c in cases_from_cells(wrong, "l.ipynb").cases
                             if c.name == "o-manual-backward"))
    assert result.status == "failed"
    dx2 = next(b for b in result.backward if b.name == "dx2")
    assert (dx2.status, dx2.hand, dx2.line) == (
        "failed", "x2 * dx2w2", line_of(wrong, "x2.grad = x2.data"))


def test_legendre_polynomials_backward_passes_and_a_wrong_one_fails_naming_backward():
    text = (SOURCES / "legendre.py").read_text()
    read = cases_from_source(text, "legendre.py")
    assert statuses(read) == {"LegendrePolynomial3-backward": "passed"}
    case = read.cases[0]
    assert (case.nodes["out"].text, case.gradient["input"][1]) == (
        "0.5 * (5 * input ** 3 - 3 * input)", "1.5 * (5 * input ** 2 - 1)")
    wrong = text.replace("1.5 * (5 * input ** 2 - 1)", "1.5 * (5 * input ** 2)")
    result = check_file(cases_from_source(wrong, "legendre.py").cases[0])
    assert result.status == "failed" and result.name == "LegendrePolynomial3-backward"
    assert result.problems[0].startswith("gradient input: manual gives ")
    assert (result.problems[0].line, result.problems[0].column) == (36, 16)


@pytest.mark.parametrize("call, status", [
    ("analytical_gradient(2.0)", "passed"),
    ("analytical_gradient(x)", "passed"),
    ("analytical_gradient(x.item())", "passed"),
    ("analytical_gradient(1.0)", "failed"),
])
def test_a_gradient_function_called_at_the_wrong_point_fails_naming_the_call(call, status):
    text = (SOURCES / "lab_gradient.py").read_text().replace("analytical_gradient(2.0)", call)
    read = cases_from_source(text, "lab.py")
    assert statuses(read) == {"analytical_gradient-line18": status}
    result = check_file(read.cases[0])
    if status == "failed":
        # the call is what is wrong: said first, before the numbers of the formula
        assert result.problems == ["analytical_gradient is called at x = 1.0 where autograd "
                                   "ran at x = 2: gradient x: manual gives 61 where SymPy "
                                   "gives 326 at the base point (x=2): off by 265, more than "
                                   "float64's tolerance (rtol 1e-07, atol 1e-07)"]
        assert (result.problems[0].line, result.problems[0].column) == (18, 20)


def test_what_cannot_be_read_is_counted_unchecked_with_its_line_and_reason():
    text = '''\
import torch

class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input.masked_fill_(input < 0, 0)
        return grad_input

class Sneaky(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return __import__("os").getcwd()

    @staticmethod
    def backward(ctx, g):
        return g * 2
'''
    read = cases_from_source(text, "relu.py", line=10)
    assert read.cases == []
    assert [str(u) for u in read.unchecked] == [
        "relu.py:22:9: MyReLU.backward: not checked: a statement in backward that is not "
        "`name = ...` (an in-place change, a branch): the gradient cannot be read",
        "relu.py:28:16: Sneaky.backward: not checked: unknown function __import__(); allowed: "
        + " ".join(sorted(__import__("autograd_lab.ops", fromlist=["FUNCTIONS"]).FUNCTIONS)),
    ]
    assert read.counts() == {"found": 2, "checked": 0, "unchecked": 2}
    assert str(cases_from_source("def f(:\n", "bad.py", line=5).unchecked[0]) == (
        "bad.py:5:1: the code: not checked: not valid Python, so nothing in it was read")


def test_check_function_and_check_autograd_function_read_the_users_source(tmp_path, monkeypatch):
    (tmp_path / "mine.py").write_text((SOURCES / "mine.py").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    import mine
    right = autograd_lab.check_function(mine.f, mine.grad_f, at={"x": 0.3, "y": 1.2})
    assert right.status == "passed" and right.name == "grad_f"
    assert set(right.points[0].gradients) == {"x", "y"}
    wrong = autograd_lab.check_function(mine.f, mine.grad_f_wrong, at=[{"x": 0.3, "y": 1.2}])
    assert wrong.status == "failed" and wrong.name == "grad_f_wrong"
    assert wrong.problems[0].startswith("gradient y: manual gives 1.480769047 where SymPy "
                                        "gives 2.680769047 at the base point")
    assert (wrong.problems[0].line, wrong.problems[0].column) == (17, 33)  # the return's y
    with pytest.raises(AssertionError, match=r"case grad_f_wrong failed \(.*mine.py:16\)"):
        autograd_lab.assert_passes(wrong)
    tensors = {"w": [0.5, -0.5], "X": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}
    mse = autograd_lab.check_function(mine.mse, mine.grad_mse_without_the_mean, at=tensors,
                                      wrt=["w"])
    assert mse.status == "failed"
    by_method = mse.points[0].gradients["w"]    # three times the mean's: the 1/n left out
    assert (by_method["manual"], by_method["sympy"]) == ([-9.0, -12.0], [-3.0, -4.0])
    assert by_method["autograd"] == pytest.approx([-3.0, -4.0], rel=1e-12)
    legendre = autograd_lab.check_autograd_function(mine.Legendre, at={"input": 0.4})
    assert (legendre.status, legendre.name) == ("passed", "Legendre-backward")
    vector = autograd_lab.check_autograd_function(mine.Legendre, at={"input": [0.5, -2.0]})
    assert vector.status == "passed"
    assert vector.points[0].gradients["input"]["sympy"] == [0.375, 28.5]  # 1.5 (5 x² - 1)
    unsaid = autograd_lab.check_autograd_function(mine.Legendre, at={"x": 0.4})
    assert unsaid.status == "error" and unsaid.problems[0].endswith(
        "mine.py:22:5: at= gives no value of input")
    lam = autograd_lab.check_function(mine.f, lambda x, y: y, at={"x": 1.0, "y": 1.0})
    assert lam.status == "error"
    assert lam.problems[0].endswith("<lambda> is not defined by a `def` statement in its "
                                    "source") or "cannot be read" in lam.problems[0]


def test_case_from_dict_reads_a_dict_as_a_case_file():
    case = autograd_lab.case_from_dict({
        "name": "square", "inputs": {"x": {"value": 3.0, "grad": True}},
        "forward": {"y": "x**2"}, "chain_rule": {"y/x": "2*x"}})
    assert check_file(case).status == "passed"
    with pytest.raises(autograd_lab.CaseError, match=r"^<dict>: the attribute \.real is not"):
        autograd_lab.case_from_dict({"inputs": {"x": {"value": 3.0, "grad": True}},
                                     "forward": {"y": "x**2"}, "chain_rule": {"y/x": "2*x.real"}})


def test_check_function_in_a_users_pytest_run_names_the_wrong_function(pytester):
    pytester.makepyfile(mine=(SOURCES / "mine.py").read_text(), test_mine="""
import autograd_lab
import mine

def test_right():
    autograd_lab.assert_passes(autograd_lab.check_function(mine.f, mine.grad_f,
                                                           at={"x": 0.3, "y": 1.2}))

def test_wrong():
    autograd_lab.assert_passes(autograd_lab.check_function(mine.f, mine.grad_f_wrong,
                                                           at={"x": 0.3, "y": 1.2}))
""")
    pytester.makeini("[pytest]\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n"
                     "addopts = -p no:unraisableexception -p no:hypothesispytest\n")
    import torch  # noqa: F401  (loaded once here: the in-process run keeps what was loaded)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*gradient y: manual gives 1.480769047 where SymPy gives 2.680769047*mine.py:17:33)",
        "*case grad_f_wrong failed (*mine.py:16)",
        "FAILED test_mine.py::test_wrong - AssertionError: gradient y: manual gives*"])


LEAST_SQUARES = '''\
import torch
X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
y = torch.tensor([1.0, 0.0, 2.0])
w = torch.tensor([0.5, -0.5], requires_grad=True)

def manual_gradient(X, y, w):
    return X.T @ (X @ w - y)

loss = torch.mean((X @ w - y) ** 2) / 2
loss.backward()
print(torch.allclose(w.grad, manual_gradient(X, y, w)))
'''


def test_a_gradient_function_off_by_n_beside_a_mean_loss_fails_and_divided_by_n_passes():
    read = cases_from_source(LEAST_SQUARES, "ls.py")
    result = check_file(read.cases[0])
    assert (result.name, result.status) == ("manual_gradient-line11", "failed")
    assert result.points[0].gradients["w"]["manual"] == [-15.5, -20.0]   # 3 times autograd's
    assert (result.problems[0].line, result.problems[0].column) == (11, 30)   # the call
    right = LEAST_SQUARES.replace("X.T @ (X @ w - y)", "X.T @ (X @ w - y) / 3")
    assert statuses(cases_from_source(right, "ls.py")) == {"manual_gradient-line11": "passed"}


def test_a_local_name_doubled_past_the_parsers_length_is_unchecked_not_expanded():
    lines = "".join(f"    a{i + 1} = a{i} * a{i}\n" for i in range(40))
    text = f"class Twice(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, a0):" \
           f"\n        return a0\n    @staticmethod\n    def backward(ctx, g):\n" \
           f"{lines.replace('    a', '        a')}        return g * a40\n"
    read = cases_from_source(text, "twice.py")
    assert read.cases == []
    assert read.unchecked[0].reason == ("written out with its local names, it is longer than "
                                        "10,000 characters")


def test_micrograds_engine_every_operator_checked_relu_included():
    """relu's forward is micrograd's conditional, `0 if self.data < 0 else self.data`: read
    as relu(self), so its rule `(out.data > 0) * out.grad` is checked as the others are."""
    text = (SOURCES / "micrograd_engine.py").read_text()
    read = cases_from_source(text, "engine.py")
    assert set(statuses(read).values()) == {"passed"}
    assert sorted(statuses(read)) == [
        "Value-__add__", "Value-__mul__", "Value-__neg__", "Value-__pow__", "Value-__radd__",
        "Value-__rmul__", "Value-__rsub__", "Value-__rtruediv__", "Value-__sub__",
        "Value-__truediv__", "Value-relu"]
    assert read.unchecked == []
    assert read.counts() == {"found": 6, "checked": 6, "unchecked": 0}
    wrong = cases_from_source(text.replace("(out.data > 0) * out.grad",
                                           "(out.data < 0) * out.grad"), "engine.py")
    assert statuses(wrong)["Value-relu"] == "failed"
    other = cases_from_source(text.replace("0 if self.data < 0 else self.data",
                                           "1 if self.data < 0 else self.data"), "engine.py")
    assert [u.reason for u in other.unchecked] == ["conditional expressions are not allowed"]


def test_a_name_python_allows_and_a_case_name_does_not_is_kept_readable():
    text = (SOURCES / "legendre.py").read_text().replace("LegendrePolynomial3", "Légendre3")
    assert [c.name for c in cases_from_source(text, "l.py").cases] == ["L_gendre3-backward"]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_source_cut_or_changed_anywhere_is_read_or_counted_unchecked_never_a_crash(data):
    text = (SOURCES / "micrograd_engine.py").read_text() + (SOURCES / "legendre.py").read_text() \
        + (SOURCES / "lab_gradient.py").read_text() + (SOURCES / "layers.py").read_text()
    lines = text.splitlines()
    cut = data.draw(st.integers(0, len(lines) - 1))
    word = data.draw(st.sampled_from(["", "x", "self", "out.grad", "(", "ctx", "**", "-1",
                                      "grad_output", "__import__('os')", "1e309", "'s'"]))
    lines[cut] = lines[cut].replace(data.draw(st.sampled_from(
        ["self", "other", "input", "x", "*", "+", "(", "out", "1"])), word, 1)
    read = cases_from_source("\n".join(lines), "cut.py")
    for item in read.unchecked:
        assert item.file == "cut.py" and item.line >= 1 and item.reason
        assert set(item.as_dict()) == {"file", "line", "column", "what", "reason"}
    assert read.counts()["found"] == read.counts()["checked"] + len(read.unchecked)


def test_a_rule_set_with_equals_is_checked_and_noted_since_a_value_used_twice_loses_one():
    slip = cells(SECOND, "self.grad += out.data * out.grad", "self.grad = out.data * out.grad")
    exp = next(c for c in cases_from_cells(slip, "lecture.ipynb").cases if c.name == "Value-exp")
    result = check_file(exp)
    line = line_of(slip, "self.grad = out.data")
    assert result.status == "passed"
    assert result.notes == [f"line {line}: self.grad is set with = where += adds: a value used "
                            "twice (a + a) keeps only its last gradient; the local derivative "
                            "is checked as written"]


def test_layer_classes_backward_beside_forward_and_a_layer_on_matrices_counted_unchecked():
    text = (SOURCES / "layers.py").read_text()
    read = cases_from_source(text, "layers.py")
    assert statuses(read) == {"Sigmoid-backward": "passed", "Scale-backward": "passed"}
    scale = next(c for c in read.cases if c.name == "Scale-backward")
    assert {k: a.text for k, a in scale.backward.items()} == {"dw": "dout * x ** 2",
                                                               "dx": "dout * 2 * w * x"}
    assert [str(u) for u in read.unchecked] == [
        "layers.py:26:16: Linear.backward: not checked: a layer on matrices: its shapes are "
        "not in its code (write it as a case with dims: to check it)"]
    wrong = cases_from_source(text.replace("dout * 2 * self.w * self.x", "dout * 2 * self.w"),
                              "layers.py")
    result = check_file(next(c for c in wrong.cases if c.name == "Scale-backward"))
    dx = next(b for b in result.backward if b.name == "dx")
    assert (result.status, dx.status, dx.line) == ("failed", "failed", 21)


# --- checked where they live: `autograd-lab check TUTORIAL` and `pytest --autograd-lab` -------

def check_tutorial(path: Path, out: Path) -> tuple:
    """`autograd-lab check path`: its output, exit code, and report.json's results by name."""
    from click.testing import CliRunner

    from autograd_lab.cli import main
    ran = CliRunner().invoke(main, ["check", str(path), "--out", str(out / "r"),
                                    "--format", "json"])
    assert "Traceback" not in ran.output, ran.output
    report = json.loads((out / "r" / "report.json").read_text(encoding="utf-8"))
    return ran, {c["name"]: c for c in report["cases"]}


def cell_line(path: Path, needle: str) -> str:
    """`cell 8, line 67`: where the tutorial's reader places a statement."""
    from autograd_lab.draft._sources import read
    for cell in read(path).cells:
        for number, line in enumerate(cell.code.split("\n"), 1):
            if needle in line:
                return f"{cell.label}, line {number}"
    raise AssertionError(needle)


def copy_changed(source: Path, folder: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    changed = folder / source.name
    changed.write_text(text.replace(old, new), encoding="utf-8")
    return changed


def test_check_a_lecture_checks_each_value_rule_and_counts_them_checked(tmp_path):
    ran, results = check_tutorial(SECOND, tmp_path)
    assert ran.exit_code == 0, ran.output
    source = results.pop(SECOND.name)
    assert {n: r["status"] for n, r in results.items()} == {
        "Value-__add__": "passed", "Value-__mul__": "passed", "Value-__pow__": "passed",
        "Value-tanh": "passed", "Value-exp": "passed", "Value-__truediv__": "passed",
        "Value-__neg__": "passed", "Value-__sub__": "passed", "Value-__rmul__": "passed",
        "Value-__radd__": "passed"}
    assert results["Value-tanh"]["file"] == f"{SECOND} {cell_line(SECOND, 'def tanh')}"
    # the seven rules checked; draw_dot (a graph's picture, named like dz_dx) is no derivative
    assert (source["status"], source["derivatives"]["found"],
            source["derivatives"]["checked"]) == ("passed", 7, 7)
    assert source["derivatives"]["unchecked"] == []
    assert f"{SECOND.name}  7 of 7 hand-written derivatives checked" in ran.output


def test_check_a_lecture_with_tanhs_rule_wrong_fails_naming_the_rule_and_its_cell(tmp_path):
    wrong = copy_changed(SECOND, tmp_path, "self.grad += (1 - t**2) * out.grad",
                         "self.grad += (1 - t) * out.grad")
    ran, results = check_tutorial(wrong, tmp_path)
    assert ran.exit_code == 1, ran.output
    assert [n for n, r in results.items() if r["status"] != "passed"] == [
        "Value-tanh", wrong.name]    # a lecture with a wrong rule has not passed
    assert results[wrong.name]["problems"] == ["1 of its cases failed: Value-tanh"]
    [problem] = results["Value-tanh"]["problems"]
    assert problem.startswith(f"{wrong} {cell_line(wrong, 'self.grad += (1 - t) * out.grad')}: "
                              "gradient self: manual gives ")
    assert results[wrong.name]["derivatives"]["checked"] == 7   # compared, and failed


def test_check_a_lecture_checks_its_manual_backpropagation(tmp_path):
    ran, results = check_tutorial(FIRST, tmp_path)
    assert ran.exit_code == 0, ran.output
    assert results["o-manual-backward"]["status"] == "passed"
    count = results[FIRST.name]["derivatives"]
    # 5 rules and 9 assignments (the draft found the 4 that compute, the reading all 9)
    assert (count["found"], count["checked"]) == (14, 14)   # draw_dot is no derivative
    assert not any(".grad =" in u["text"] for u in count["unchecked"])
    wrong = copy_changed(FIRST, tmp_path, "x2.grad = w2.data * x2w2.grad",
                         "x2.grad = x2.data * x2w2.grad")
    ran, results = check_tutorial(wrong, tmp_path / "wrong")
    assert ran.exit_code == 1
    assert results["o-manual-backward"]["problems"][0].startswith(
        f"{wrong} {cell_line(wrong, 'x2.grad = x2.data')}: backward dx2: hand-written "
        "x2 * dx2w2 differs from the gradient of x2")


PRINTED = LECTURE / "micrograd_lecture_printed.ipynb"   # 4 cells, with their outputs


def test_the_lectures_printed_torch_gradients_are_claims_and_hold(tmp_path):
    ran, results = check_tutorial(PRINTED, tmp_path)
    assert ran.exit_code == 0, ran.output
    [case] = [r for n, r in results.items() if "_cells_" in n]
    claims = {c["claim"]: (c["written"], c["status"]) for c in case["claims"]}
    # torch.Tensor([6.8813735870195432]) is float32: b is rounded before .double(), which is
    # why torch prints 0.5000001283844369 where micrograd has 0.5; modelled, so it holds
    assert claims == {
        "step 8 (o.backward()): grad/x2": ("0.5000001283844369", "passed"),
        "step 8 (o.backward()): grad/w2": ("0", "passed"),
        "step 8 (o.backward()): grad/x1": ("-1.5000003851533106", "passed"),
        "step 8 (o.backward()): grad/w1": ("1.0000002567688737", "passed")}
    assert abs(case["claims"][0]["value"][0] - 0.5) > 1e-7   # b's float32 rounding shows


def test_a_printed_torch_gradient_changed_fails_naming_the_claim_and_its_cell(tmp_path):
    wrong = copy_changed(PRINTED, tmp_path, "x2 0.5000001283844369", "x2 0.5000101283844369")
    ran, results = check_tutorial(wrong, tmp_path / "wrong")
    assert ran.exit_code == 1, ran.output
    [case] = [r for n, r in results.items() if "_cells_" in n]
    assert case["status"] == "failed"
    assert [(c["claim"], c["status"]) for c in case["claims"] if c["status"] != "passed"] == [
        ("step 8 (o.backward()): grad/x2", "failed")]
    [problem] = case["problems"]
    assert problem.startswith(f"{wrong} {cell_line(wrong, 'x2.grad.item()')}: step 8 "
                              "(o.backward(), In [376], line 11): expected grad/x2 = "
                              "0.5000101283844369, but x2.grad is [0.5000001284]")


def test_the_data_and_grad_draw_dot_showed_are_claims_on_the_value_graph(tmp_path):
    ran, results = check_tutorial(PRINTED, tmp_path)
    assert ran.exit_code == 0, ran.output
    drawn = results["o-drawn"]
    assert (drawn["status"], drawn["file"]) == ("passed", f"{PRINTED} In [319], line 1")
    claims = {c["claim"].split(": ")[1]: (c["written"], c["status"]) for c in drawn["claims"]}
    # each labelled node's data and grad, to the 4 decimals the picture shows
    assert len(claims) == 20 and {s for _, s in claims.values()} == {"passed"}
    assert (claims["grad/x1"], claims["grad/x2"], claims["o"], claims["grad/w2"]) == (
        ("-1.5000", "passed"), ("0.5000", "passed"), ("0.7071", "passed"), ("0.0000", "passed"))
    # micrograd's picture is no hand-written derivative: the count is unchanged
    assert results[PRINTED.name]["derivatives"]["found"] == 0


def test_a_number_draw_dot_showed_changed_fails_naming_the_claim_and_its_cell(tmp_path):
    wrong = copy_changed(PRINTED, tmp_path, "grad &#45;1.5000", "grad &#45;1.4000")
    ran, results = check_tutorial(wrong, tmp_path / "wrong")
    assert ran.exit_code == 1, ran.output
    drawn = results["o-drawn"]
    assert [c["claim"] for c in drawn["claims"] if c["status"] != "passed"] == [
        "step 12 (o.backward()): grad/x1"]
    [problem] = drawn["problems"]
    assert problem == (f"{wrong} In [319], line 1: step 12 (o.backward()): "
                       "expected grad/x1 = -1.4000, but x1.grad is [-1.5]")


def test_check_legendres_script_passes_and_a_wrong_backward_fails_naming_it(tmp_path):
    ran, results = check_tutorial(SOURCES / "legendre.py", tmp_path)
    assert ran.exit_code == 0, ran.output
    assert results["LegendrePolynomial3-backward"]["status"] == "passed"
    assert results["legendre.py"]["derivatives"] == {"found": 1, "checked": 1, "unchecked": []}
    wrong = copy_changed(SOURCES / "legendre.py", tmp_path, "1.5 * (5 * input ** 2 - 1)",
                         "1.5 * (5 * input ** 2)")
    ran, results = check_tutorial(wrong, tmp_path / "wrong")
    assert ran.exit_code == 1
    assert "FAIL  LegendrePolynomial3-backward" in ran.output
    assert results["LegendrePolynomial3-backward"]["problems"][0].startswith(
        f"{wrong} line 36: gradient input: manual gives ")


@pytest.mark.parametrize("lab, old, new, line, failing", [
    # the draft compares the call itself: the reading's case of it is left out
    (HERE / "tutorials" / "course" / "lab_polynomial.py", "", "", 15, "lab_polynomial_y_inc1"),
    # the draft follows no comparison here: the reading's case checks the call
    (SOURCES / "lab_gradient.py", "analytical_gradient(2.0)", "analytical_gradient(1.0)", 18,
     "analytical_gradient-line18"),
])
def test_a_gradient_function_called_at_the_wrong_point_fails_once(tmp_path, lab, old, new,
                                                                  line, failing):
    wrong = copy_changed(lab, tmp_path, old, new) if old else lab
    ran, results = check_tutorial(wrong, tmp_path)
    assert ran.exit_code == 1, ran.output
    assert [n for n, r in results.items() if r["status"] == "failed"] == [failing, wrong.name]
    assert results[failing]["problems"][0].startswith(f"{wrong} line {line}: ")
    assert "gradient x: manual gives 61 where SymPy gives 326" in results[failing]["problems"][0]
    assert results[wrong.name]["derivatives"] == {"found": 1, "checked": 1, "unchecked": []}


def test_pytest_collects_a_tutorials_classes_as_items(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:unraisableexception -p no:hypothesispytest\n")
    shutil.copy(SOURCES / "legendre.py", pytester.path / "legendre.py")
    copy_changed(SECOND, pytester.path, "self.grad += (1 - t**2) * out.grad",
                 "self.grad += (1 - t) * out.grad")
    result = pytester.runpytest("--autograd-lab", "legendre.py", SECOND.name, "-rA")
    failed = [line.split(" - ")[0] for line in result.outlines if line.startswith("FAILED ")]
    assert failed == [f"FAILED {SECOND.name}::Value-tanh", f"FAILED {SECOND.name}::derivatives"]
    result.stdout.fnmatch_lines([f"{SECOND.name} {cell_line(SECOND, 'self.grad += (1 - t**2)')}"
                                 ": gradient self: manual gives *"])
    assert "PASSED legendre.py::LegendrePolynomial3-backward" in result.outlines
    result.assert_outcomes(passed=11, failed=2)   # 9 other rules, Legendre's, 2 counts


RELU_AND_CUBE = '''\
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input.masked_fill_(input < 0, 0)
        return grad_input


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2
'''


def test_a_rule_the_reading_cannot_read_is_counted_once_with_its_reason(tmp_path):
    script = tmp_path / "functions.py"
    script.write_text(RELU_AND_CUBE, encoding="utf-8")
    ran, results = check_tutorial(script, tmp_path)
    assert ran.exit_code == 0, ran.output
    assert results["Cube-backward"]["status"] == "passed"
    # MyReLU's backward: the draft finds its return, the reading says why in the same function
    assert results["functions.py"]["derivatives"] == {"found": 2, "checked": 1, "unchecked": [{
        "line": 15, "cell": "", "text": "return grad_input",
        "reason": "a statement in backward that is not `name = ...` (an in-place change, a "
                  "branch): the gradient cannot be read"}]}


LINEAR = """\
import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(input, weight, bias):
        output = input * weight
        if bias is not None:
            output += bias
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        return grad_output * weight, grad_output * input, grad_output
"""


def test_a_function_whose_forward_is_not_read_counts_its_backward_once_naming_the_statement(
        tmp_path):
    script = tmp_path / "linear.py"
    script.write_text(LINEAR, encoding="utf-8")
    _, results = check_tutorial(script, tmp_path)
    # one derivative, the backward's; the forward's branch is why, at its own line
    assert results["linear.py"]["derivatives"] == {"found": 1, "checked": 0, "unchecked": [{
        "line": 20, "cell": "", "text": "return grad_output * weight, grad_output * input, "
                                        "grad_output",
        "reason": "line 8: `if bias is not None:`: a statement in forward that is not "
                  "`name = ...`"}]}


def test_checking_micrograds_engine_counts_as_the_reading_does(tmp_path):
    engine = tmp_path / "engine.py"
    text = (SOURCES / "micrograd_engine.py").read_text(encoding="utf-8")
    engine.write_text(text + "import torch\n", encoding="utf-8")   # a tutorial mentions torch
    ran, results = check_tutorial(engine, tmp_path)
    assert ran.exit_code == 0, ran.output
    assert results["engine.py"]["derivatives"] == {"found": 6, "checked": 6, "unchecked": []}
    # a conditional that is no relu: its rule (line 41) is unchecked once, with the reason the
    # reading gave in relu (line 38), not twice
    engine.write_text(text.replace("0 if self.data < 0", "1 if self.data < 0") + "import torch\n",
                      encoding="utf-8")
    ran, results = check_tutorial(engine, tmp_path)
    count = results["engine.py"]["derivatives"]
    assert (count["found"], count["checked"]) == (6, 5)
    assert [(u["line"], u["reason"]) for u in count["unchecked"]] == [
        (41, "conditional expressions are not allowed")]


def line_in(file: str, needle: str) -> int:
    lines = (SOURCES / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def trial(name: str):
    """The case of one Function in functions_trial.py, checked."""
    read = cases_from_source((SOURCES / "functions_trial.py").read_text(), "trial.py")
    return check_file(next(c for c in read.cases if c.name == f"{name}-backward"))


def test_a_function_summing_its_input_is_checked_without_an_internal_error():
    result = trial("Total")
    assert (result.status, result.problems) == ("passed", [])


def test_finite_differences_of_a_forward_returning_its_input_agree():
    result = trial("Same")
    assert result.status == "passed"
    assert not any("finite difference" in n for n in result.notes), result.notes


def test_a_backward_returning_none_says_zero_and_fails_where_forward_moves():
    result = trial("Detach")
    assert result.status == "failed"
    assert result.problems[0].startswith("gradient a: manual gives 0 where SymPy gives ")
    assert result.problems[0].line == line_in("functions_trial.py", "return None")


def test_a_backward_not_linear_in_its_upstream_gradient_fails_as_a_vector_jacobian_product():
    result = trial("Logistic")
    assert result.status == "failed"
    assert result.problems[0].startswith("gradient a: manual gives ")
    assert "g=" in result.problems[0]      # the upstream gradient is a point's coordinate
    assert result.problems[0].line == line_in("functions_trial.py", "grad_a = s + (1 - s)")
    text = (SOURCES / "functions_trial.py").read_text()
    for rule, status in [("s * (1 - s) * g * g", "failed"),     # right only where g = 1
                         ("g * s - g * s * s", "passed")]:       # right, not as local * g
        read = cases_from_source(text.replace("s + (1 - s) * g", rule), "trial.py")
        case = next(c for c in read.cases if c.name == "Logistic-backward")
        assert check_file(case).status == status, rule


@pytest.mark.parametrize("mask, status", [("input < 0", "passed"), ("input <= 0", "passed"),
                                          ("input < 1", "failed"), ("input > 0", "failed")])
def test_pytorchs_relu_backward_a_clone_zeroed_by_a_mask_is_read_and_a_wrong_mask_fails(
        mask, status):
    text = (SOURCES / "functions_trial.py").read_text()
    read = cases_from_source(text.replace("grad_input[input < 0]", f"grad_input[{mask}]"),
                             "trial.py")
    result = check_file(next(c for c in read.cases if c.name == "MyReLU-backward"))
    assert result.status == status, result.problems
    if status == "failed":
        assert result.problems[0].startswith("gradient input: manual gives ")
        # named at the mask, the line that is wrong
        assert result.problems[0].line == line_in("functions_trial.py", "grad_input[input")


def test_a_masked_assignment_of_another_value_is_unchecked_with_its_reason():
    text = (SOURCES / "functions_trial.py").read_text()
    read = cases_from_source(text.replace("grad_input[input < 0] = 0",
                                          "grad_input[input < 0] = 1"), "trial.py")
    assert "MyReLU-backward" not in {c.name for c in read.cases}
    (why,) = [u for u in read.unchecked if u.what == "MyReLU.backward"]
    assert why.line == line_in("functions_trial.py", "grad_input[input < 0]")
    assert why.reason == ("a masked assignment of something other than 0: the gradient "
                          "cannot be read")


def test_print_logging_and_pass_in_a_function_are_read_past_and_saved_variables_unpacked():
    result = trial("Chatty")
    assert (result.status, result.problems) == ("passed", [])


def test_a_gradient_not_summed_back_to_its_inputs_shape_fails_naming_both_shapes(
        tmp_path, monkeypatch):
    (tmp_path / "functions_trial.py").write_text((SOURCES / "functions_trial.py").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    import functions_trial
    at = {"a": [[1.0, 2.0], [3.0, 4.0]], "w": [0.5, -1.0]}
    wrong = autograd_lab.check_autograd_function(functions_trial.Scale, at=at)
    assert wrong.status == "failed"
    assert wrong.problems[0] == ("backward dw: hand-written dout * a has shape (2, 2) where "
                                 "autograd's gradient has shape (2,)")   # grad_output: dout
    assert wrong.problems[0].line == line_in("functions_trial.py", "grad_w = g * a")
    right = autograd_lab.check_autograd_function(functions_trial.ScaleSummed, at=at)
    assert (right.status, right.problems) == ("passed", [])
    # a weight the input's shape needs no sum: the same backward is right
    same = autograd_lab.check_autograd_function(functions_trial.Scale, at=dict(at, w=at["a"]))
    assert same.status == "passed"


def test_checking_a_script_of_functions_counts_each_backward_once_and_fails_the_script(
        tmp_path):
    ran, results = check_tutorial(SOURCES / "functions_trial.py", tmp_path)
    assert ran.exit_code == 1, ran.output
    assert {n: r["status"] for n, r in results.items()} == {
        "Same-backward": "passed", "Total-backward": "passed", "Detach-backward": "failed",
        "Logistic-backward": "failed", "Chatty-backward": "passed", "Scale-backward": "passed",
        "ScaleSummed-backward": "passed", "MyReLU-backward": "passed",
        "functions_trial.py": "failed"}
    assert results["functions_trial.py"]["problems"] == [
        "2 of its cases failed: Detach-backward, Logistic-backward"]
    # `grad_a = ...` then `return grad_a` is one derivative, not two; a statement is counted
    # once (ScaleSummed returns both of its gradients on one line)
    assert results["functions_trial.py"]["derivatives"] == {
        "found": 9, "checked": 9, "unchecked": []}
