"""Tutorials read where they live (.py, Markdown, MyST, d2l, .qmd, notebooks), their
hand-written derivatives counted, and nothing compared never a pass (issue 24)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from autograd_lab.api import check_paths, load_case
from autograd_lab.cli import main
from autograd_lab.draft import draft
from autograd_lab.draft._count import find
from autograd_lab.draft._sources import read
from autograd_lab.reports import report_schema_text
from autograd_lab.result import CaseResult

COURSE = Path(__file__).parent / "tutorials" / "course"
pytest_plugins = ["pytester"]


def code_at(path: Path, text: str) -> tuple[str, int]:
    """(the cell, the line) where a statement stands, as the reader gives it."""
    for cell in read(path).cells:
        for number, line in enumerate(cell.code.split("\n"), 1):
            if line.strip() == text:
                return cell.label, number
    raise AssertionError(f"{text!r} not read from {path}")


def line_of(path: Path, text: str) -> int:
    return [line.strip() for line in path.read_text().splitlines()].index(text) + 1


# --- reading ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, statement", [
    ("blitz_autograd_tutorial.py", "Q = 3*a**3 - b**2"),        # sphinx-gallery ####
    ("lab_polynomial.py", "print(analytical_gradient(1.0) == x.grad)"),   # a plain script
    ("chain_rule_cells.py", "dy_dx = 2*x + 2"),                 # percent cells
    ("myst_gradients.md", "assert torch.allclose(dy_dx, x.grad)"),    # MyST code-cell
    ("d2l_autograd.md", "x.grad == 4 * x"),                     # d2l's {.python .input}
])
def test_each_format_is_read_with_the_files_own_line_numbers(name, statement):
    _, line = code_at(COURSE / name, statement)
    assert line == line_of(COURSE / name, statement)


def test_d2l_keeps_the_pytorch_tab_and_drops_the_others():
    code = "\n".join(c.code for c in read(COURSE / "d2l_autograd.md").cells)
    assert "mxnet" not in code and "%%tab" not in code
    assert "import torch" in code


def test_a_scripts_out_comments_are_what_it_printed():
    cells = read(COURSE / "chain_rule_cells.py").cells
    shown = [(c.label, [o.text for o in c.outputs]) for c in cells]
    assert shown == [("cell 1", []), ("cell 2", ["tensor(8.)"]),
                     ("cell 3", ["tensor(8., grad_fn=<AddBackward0>)"])]


def test_a_quarto_page_is_read(tmp_path):
    page = tmp_path / "grad.qmd"
    page.write_text('---\ntitle: "Gradients"\n---\n\n```{python}\n#| echo: true\nimport torch\n'
                    "w = torch.tensor(1.5, requires_grad=True)\nL = (w - 4)**2\nL.backward()\n"
                    "```\n\n```{python}\ndL_dw = 2*(w - 4)\nprint(torch.allclose(dL_dw, w.grad))\n"
                    "```\n", encoding="utf-8")
    assert code_at(page, "dL_dw = 2*(w - 4)") == ("cell 2", 14)


# --- the count ----------------------------------------------------------------------------

def test_every_form_of_a_hand_written_derivative_is_found(tmp_path):
    script = tmp_path / "forms.py"
    script.write_text("""\
import torch

class Value:
    def __mul__(self, other):
        out = Value(self.data * other.data)
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

class Square(torch.autograd.Function):
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g

w = torch.tensor(1.0, requires_grad=True)
x = torch.tensor(2.0)
loss = (w * x - 1) ** 2
loss.backward()
dL_dw = 2 * (w * x - 1) * x
grad_w = dL_dw
dloss = 2 * (w * x - 1)
w_grad = dloss * x
def f_prime(x): return 2 * x
print(torch.allclose(2 * (w * x - 1) * x, w.grad))
w.grad = None
external_grad = torch.tensor([1.0])
""", encoding="utf-8")
    found = [(f.line, f.kind) for f in find(read(script))]
    assert found == [(7, "class"), (8, "class"), (16, "class"), (22, "variable"),
                     (23, "variable"), (24, "variable"), (25, "variable"), (26, "function"),
                     (27, "compared")]


@pytest.fixture(scope="module")
def checked_course(tmp_path_factory):
    """`autograd-lab check` run once over the course folder: its output and report.json."""
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["check", str(COURSE), "--out", str(out),
                                       "--format", "json,md,junit"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return result, report, out


def sources(report) -> dict:
    return {Path(c["file"]).name: c for c in report["cases"] if c["kind"] == "source"}


def test_check_reads_each_tutorial_and_counts_its_derivatives(checked_course):
    result, report, _ = checked_course
    assert result.exit_code == 2, result.output     # the notebook that compares nothing
    assert "Traceback" not in result.output
    counts = {name: (s["status"], s["derivatives"]["found"], s["derivatives"]["checked"])
              for name, s in sources(report).items()}
    assert counts == {
        "blitz_autograd_tutorial.py": ("passed", 2, 2),
        "chain_rule_cells.py": ("passed", 1, 1),
        "d2l_autograd.md": ("passed", 1, 1),
        "lab_polynomial.py": ("failed", 1, 1),     # its one derivative is wrong
        "myst_gradients.md": ("passed", 1, 1),
        "nothing_to_compare.ipynb": ("unchecked", 0, 0)}
    assert report["summary"] == {"cases": 12, "passed": 9, "failed": 2, "errors": 0,
                                 "unchecked": 1}
    assert "blitz_autograd_tutorial.py  2 of 2 hand-written derivatives checked" in result.output


def test_the_blitz_tutorial_is_checked_from_its_source(tmp_path):
    done = draft(COURSE / "blitz_autograd_tutorial.py", tmp_path)
    [case] = done.cases
    written = yaml.safe_load(case.path.read_text(encoding="utf-8"))
    assert written["forward"] == {"Q": "3*a**3 - b**2"}
    assert written["gradient"] == {"a": "9*a**2", "b": "-2*b"}
    assert written["upstream"] == [1.0, 1.0]
    [result] = check_paths([case.path])
    assert result.status == "passed", result.problems


def test_the_gradient_at_the_wrong_point_fails_naming_its_line(checked_course):
    _, report, _ = checked_course
    [case] = [c for c in report["cases"] if c["name"] == "lab_polynomial_y_inc1"]
    assert case["status"] == "failed"
    line = line_of(COURSE / "lab_polynomial.py", "print(analytical_gradient(1.0) == x.grad)")
    assert case["problems"][0].startswith(f"{COURSE / 'lab_polynomial.py'} line {line}: "
                                          "gradient x: manual gives 61 where SymPy gives 326")


def test_a_notebook_with_nothing_to_compare_is_unchecked_with_its_reason(checked_course):
    result, report, out = checked_course
    source = sources(report)["nothing_to_compare.ipynb"]
    assert source["problems"] == [
        "nothing compared: no cell of it makes a case; it computes no derivative by hand and "
        "shows no printed number the draft could claim"]
    assert "UNCHECKED nothing_to_compare.ipynb" in result.output
    assert "⚠️ unchecked" in (out / "report.md").read_text(encoding="utf-8")
    assert 'type="autograd-lab.Unchecked"' in (out / "junit.xml").read_text(encoding="utf-8")


def test_the_report_with_tutorials_validates(checked_course):
    _, report, _ = checked_course
    schema = json.loads(report_schema_text())
    jsonschema.Draft202012Validator(schema).validate(report)


def test_the_schema_holds_the_count_and_the_unchecked_status(checked_course):
    _, report, _ = checked_course
    validator = jsonschema.Draft202012Validator(json.loads(report_schema_text()))
    source = sources(report)["nothing_to_compare.ipynb"]
    for broken in ({**source, "status": "hollow"},
                   {**source, "derivatives": {"found": 0, "checked": 0}},
                   {**source, "derivatives": {**source["derivatives"],
                                              "unchecked": [{"line": 3, "text": "dx = 2"}]}}):
        assert not validator.is_valid({**report, "cases": [broken]})


def test_unchecked_derivatives_are_listed_with_line_and_reason(tmp_path):
    lab = tmp_path / "lab.py"
    lab.write_text((COURSE / "lab_polynomial.py").read_text(encoding="utf-8")
                   + "print(32*1.0**3 + 9*1.0**2 + 14*1.0 + 6 == x.grad)\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(lab), "--out", str(tmp_path / "r"),
                                       "--format", "json,md"])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    count = sources(report)["lab.py"]["derivatives"]
    assert count["found"] == 2 and count["checked"] == 1
    assert count["unchecked"] == [{
        "line": 16, "cell": "", "text": "print(32*1.0**3 + 9*1.0**2 + 14*1.0 + 6 == x.grad)",
        "reason": "not checked: a second hand-written gradient for x; the case holds the first "
                  "(line 15)"}]
    assert "1 of 2 hand-written derivatives checked" in result.output
    markdown = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "**Hand-written derivatives**: 1 of 2 hand-written derivatives checked" in markdown
    assert "| line 16 |" in markdown


def test_pytest_collects_the_tutorials_in_place(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:unraisableexception -p no:hypothesispytest\n")
    shutil.copytree(COURSE, pytester.path / "course")
    result = pytester.runpytest("--autograd-lab", "course", "-rA")
    outcomes = {line.split(" ")[1]: line.split(" ")[0] for line in result.outlines
                if line.startswith(("PASSED ", "FAILED ", "ERROR "))}
    assert outcomes == {
        "course/blitz_autograd_tutorial.py::blitz_autograd_tutorial_Q_inc4": "PASSED",
        "course/blitz_autograd_tutorial.py::derivatives": "PASSED",
        "course/chain_rule_cells.py::chain_rule_cells_cells_c1-c3": "PASSED",
        "course/chain_rule_cells.py::chain_rule_cells_y_inc2": "PASSED",
        "course/chain_rule_cells.py::derivatives": "PASSED",
        "course/d2l_autograd.md::d2l_autograd_y_inc3": "PASSED",
        "course/d2l_autograd.md::derivatives": "PASSED",
        "course/lab_polynomial.py::lab_polynomial_y_inc1": "FAILED",
        "course/lab_polynomial.py::derivatives": "FAILED",
        "course/myst_gradients.md::myst_gradients_y_inc1": "PASSED",
        "course/myst_gradients.md::derivatives": "PASSED",
        "course/nothing_to_compare.ipynb::derivatives": "ERROR"}
    assert result.ret == 1
    assert "2 of 2 hand-written derivatives checked" in result.outlines   # blitz's, shown
    result.assert_outcomes(passed=9, failed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of autograd-lab case derivatives*",
                                 "nothing compared: no cell of it makes a case; it computes no "
                                 "derivative by hand*"])


# --- nothing compared is never a pass -------------------------------------------------------

HOLLOW = """\
name: hollow
inputs:
  x: {value: 2.0, grad: true}
steps:
  - y: x**2
  - backward: y
"""


def test_a_behaviour_case_that_expects_nothing_is_unchecked(tmp_path):
    case = tmp_path / "hollow.yaml"
    case.write_text(HOLLOW, encoding="utf-8")
    [result] = check_paths([case])
    assert result.status == "unchecked"
    assert result.problems == ["nothing compared: no step expects a value, a gradient, a "
                               "grad_fn or an error, so the steps ran and nothing was checked"]
    runner = CliRunner()
    said = runner.invoke(main, ["check", str(case), "--out", str(tmp_path / "r"),
                                "--format", "json"])
    assert said.exit_code == 2
    assert "UNCHECKED hollow" in said.output
    allowed = runner.invoke(main, ["check", str(case), "--out", str(tmp_path / "r"),
                                   "--format", "json", "--allow-unchecked"])
    assert allowed.exit_code == 0
    assert "1 case: 0 passed, 0 failed, 0 errors, 1 unchecked" in allowed.output


# --- drafts right about themselves ----------------------------------------------------------

def test_a_no_grad_block_with_nothing_followed_drafts_a_case_that_loads(tmp_path):
    script = tmp_path / "descent.py"
    script.write_text("import torch\n\nw = torch.tensor(2.0, requires_grad=True)\n"
                      "loss = (w - 5) ** 2\nloss.backward()\nprint(w.grad)\n# Out: tensor(-6.)\n"
                      "with torch.no_grad():\n    w -= 0.1 * w.grad\n", encoding="utf-8")
    done = draft(script, tmp_path / "out")
    [behaviour] = [w for w in done.files if w.kind == "behaviour"]
    load_case(behaviour.path)
    said = [str(n) for n in done.notes]
    assert "cell 2, line 8: left out: with torch.no_grad():: nothing in the block is a step " \
           "the draft follows" in said
    assert [result.status for result in check_paths([behaviour.path])] == ["passed"]


def test_a_gradient_after_a_kept_backward_is_claimed_despite_an_earlier_one_left_out(tmp_path):
    script = tmp_path / "two.py"
    script.write_text("import torch\n\na = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                      "b = torch.outer(a, a)\nb.sum().backward(retain_graph=True)\n"
                      "x = torch.tensor(3.0, requires_grad=True)\ny = x**2\ny.backward()\n"
                      "print(x.grad)\n# Out: tensor(6.)\nprint(a.grad)\n# Out: tensor([6., 6.])\n",
                      encoding="utf-8")
    done = draft(script, tmp_path / "out")
    [behaviour] = [w for w in done.files if w.kind == "behaviour"]
    steps = yaml.safe_load(behaviour.path.read_text(encoding="utf-8"))["steps"]
    assert steps[-1] == {"backward": "y", "expect": {"grad/x": 6}}   # x is made after it
    assert ("cell 2, line 11: not checked: a.grad shows tensor([6., 6.]): the "
            "b.sum().backward(retain_graph=True) before it (cell 1, line 5) was left out, so the "
            "case would not have its gradients"
            in [str(n) for n in done.notes])                          # a's may include it


def test_an_output_folder_named_like_a_notebook_works(tmp_path):
    out = tmp_path / "drafts.ipynb"
    result = CliRunner().invoke(main, ["draft", str(COURSE / "blitz_autograd_tutorial.py"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    checked = CliRunner().invoke(main, ["check", str(out), "--out", str(tmp_path / "r"),
                                        "--format", "json"])
    assert checked.exit_code == 0, checked.output
    assert "1 case: 1 passed" in checked.output


# --- untrusted files ------------------------------------------------------------------------

@pytest.mark.parametrize("name, content, said", [
    ("binary.py", b"import torch\x00\x01", "binary.py: the script is not text (it holds NUL "
                                            "bytes)"),
    ("latin.md", b"# caf\xe9\n", "latin.md:1: the page is not UTF-8 text"),
])
def test_a_file_that_is_no_tutorial_is_one_line(tmp_path, name, content, said):
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["check", str(path), "--out", str(tmp_path / "r"),
                                       "--format", "json"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert said in result.output


def test_check_does_not_read_a_script_as_yaml(tmp_path):
    script = tmp_path / "plain.py"
    shutil.copy(COURSE / "lab_polynomial.py", script)
    result = CliRunner().invoke(main, ["check", str(script), "--out", str(tmp_path / "r"),
                                       "--format", "json"])
    assert "invalid YAML" not in result.output
    assert result.exit_code == 1   # the wrong point


def test_a_tutorials_result_reads_back_from_its_report(checked_course):
    """merge rebuilds results from report.json: a tutorial's count and status come back."""
    _, report, _ = checked_course
    for entry in report["cases"]:
        again = CaseResult.from_dict(entry)
        assert again.to_dict() == entry
        if entry["kind"] == "source":
            assert again.derivatives == entry["derivatives"]


def test_a_script_too_large_or_of_too_many_cells_is_bounded(tmp_path):
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 700_000, encoding="utf-8")     # 4.2 MB
    result = CliRunner().invoke(main, ["draft", str(big), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {big}: the script is larger than 4,000,000 bytes"
    many = tmp_path / "many.py"
    many.write_text("# %%\nx = 1\n\n" * 2_100, encoding="utf-8")
    notebook = read(many)
    assert len(notebook.cells) == 2_000
    assert [str(n) for n in notebook.notes] == [
        "line 6001: left out: the rest of the file (at most 2,000 cells are read)"]


def test_a_derivative_whose_values_alone_are_checked_says_so(tmp_path):
    done = draft(Path(__file__).parent / "seeds" / "000_7a1dc45c2486f83f.txt", tmp_path,
                 verify=False)
    count = done.derivatives()
    assert count["found"] == 8 and count["checked"] == 7   # dz_db = 1 among them
    assert count["unchecked"] == [{
        "line": 3, "cell": "In [3]", "text": "def dz_dx(x):",
        "reason": "only the values it printed are checked, against its own formula (its "
                  "arithmetic): the tutorial builds no graph that autograd differentiates "
                  "for it"}]


def test_a_folder_reads_the_tutorials_about_torch_and_skips_tools_folders(tmp_path):
    shutil.copy(COURSE / "chain_rule_cells.py", tmp_path / "lesson.py")
    (tmp_path / "README.md").write_text("# Notes\n\n```python\nprint(1)\n```\n", encoding="utf-8")
    (tmp_path / ".venv").mkdir()
    shutil.copy(COURSE / "lab_polynomial.py", tmp_path / ".venv" / "vendored.py")
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--out", str(tmp_path / "r"),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert sorted(Path(c["file"]).name for c in report["cases"] if c["kind"] == "source") == [
        "lesson.py"]


def test_a_graph_without_a_derivative_names_those_the_draft_did_not_match(tmp_path):
    script = tmp_path / "slope.py"
    script.write_text("import torch\n\nx = torch.tensor(2.0, requires_grad=True)\ny = x**3\n"
                      "y.backward()\ngrad_of_y = 3 * x**2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(script), "--out", str(tmp_path / "r"),
                                       "--format", "json"])
    assert result.exit_code == 2
    assert (f"note: {script} cell 1: not checked: the graph has no hand-written derivative for "
            "y/x (autograd-lab draft writes it for you to fill in); the tutorial writes "
            "derivatives by hand the draft matched to no graph (line 6): see its count"
            in result.output)
