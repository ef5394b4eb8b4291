"""What an outside trial on public tutorials found wrong in the drafter and the count, each
on a small tutorial of our own (tests/tutorials/trial/)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import yaml
from click.testing import CliRunner, Result

from autograd_lab.api import check_paths
from autograd_lab.cli import main
from autograd_lab.draft import draft
from autograd_lab.draft._count import find
from autograd_lab.draft._sources import read

TRIAL = Path(__file__).parent / "tutorials" / "trial"


def drafted(name: str, tmp_path: Path):
    done = draft(TRIAL / name, tmp_path / "out")
    cases = [w.path for w in done.files if w.kind == "behaviour"]
    return done, [str(n) for n in done.notes], check_paths(cases)


# --- a step left out never fails the case -------------------------------------------------

def test_a_zero_after_a_loop_left_out_is_left_out_too(tmp_path):
    _, notes, results = drafted("accumulate_then_zero.py", tmp_path)
    assert "cell 3, line 12: left out: w.grad.zero_(): the for step in range(3): before it " \
           "(cell 2, line 7) was left out, so the case would not have w.grad to zero" in notes
    assert "cell 2, line 10: not checked: w.grad shows tensor(36.): the for step in range(3): " \
           "before it (cell 2, line 7) was left out, so the case would not have its " \
           "gradients" in notes
    assert [r.status for r in results] == ["passed"]


def test_a_gradient_carried_into_a_later_case_is_not_claimed(tmp_path):
    _, notes, results = drafted("carried_gradient.py", tmp_path)
    assert "cell 1, line 8: not checked: w.grad shows tensor(6.): w.grad was set by steps of " \
           "an earlier case (cell 1, line 4 onwards), which this case does not repeat" in notes
    assert "cell 2, line 10: left out: w.grad.zero_(): w.grad was set by steps of an earlier " \
           "case (cell 1, line 4 onwards), which this case does not repeat: the case would " \
           "not have w.grad to zero" in notes
    assert "failed" not in [r.status for r in results]


# --- the count: what is a hand-written derivative ------------------------------------------

def texts(name: str) -> list[str]:
    return [f.text for f in find(read(TRIAL / name))]


def test_autograds_value_read_back_and_helpers_named_like_gradients_are_not_counted():
    assert texts("read_back_not_by_hand.py") == []


def test_finite_difference_estimates_and_drawing_helpers_are_not_counted(tmp_path):
    # (f(x + h) - f(x)) / h is measured, not written by hand; draw_dot only looks like dz_dx;
    # a quotient whose divisor is no step (dq_dx) is still a derivative
    assert texts("measured_not_by_hand.py") == ["def df_dx(x):", "dq_dx = (x - 1) / x"]


def test_a_formula_kept_in_a_name_and_compared_by_an_assert_method_is_counted():
    # z = x * 18 is compared with x.grad by assertTrue(torch.equal(...)); w is printed beside
    # x.grad, counted as a formula printed beside it is (print(w.grad, 2 * x * ...))
    found = find(read(TRIAL / "compared_by_name.py"))
    assert [(f.text, f.kind) for f in found] == [("z = x * 18", "compared"),
                                                 ("w = x + 1", "printed")]


def test_a_parameters_derivative_is_counted_and_a_repeated_loop_keeps_its_own_line():
    # dW of loss_and_grad(W, X): W is a parameter; the page's second block repeats the loop,
    # and its line is the second block's, not the first's
    found = [(f.cell, f.line, f.text) for f in find(read(TRIAL / "loop_repeated.md"))]
    assert found == [("cell 1", 9, "dW[:, k] += X.sum(0) * k"),
                     ("cell 2", 17, "dW[:, k] += X.sum(0) * k")]


def test_the_forms_of_a_hand_written_derivative_tutorials_use_are_each_counted():
    assert texts("hand_forms.py") == [
        "print(w.grad, 2 * x * (w * x - t))",     # beside autograd's, not compared
        "print(2 * x * (w * x - t))",             # a print below autograd's
        "dLdW = 2 * (w * x - t) * x",
        "dydx = 2 * x",
        "du_db = 1",                              # a constant derivative
        "out.g = 2 * (out - t)",                  # fast.ai's attribute
        "w.g = out.g * x",
        "dw = 2 * (w * x - t) * x",               # each formula of one function
        "dx = 2 * (w * x - t) * w",
        "dt = -2 * (w * x - t)",
    ]


# --- reasons that say what happened ---------------------------------------------------------

def test_a_call_compared_with_a_grad_lines_below_is_paired_with_it(tmp_path):
    """np.isclose(manual_grad, x_tensor.grad.item()) three lines below the call pairs it
    with x_tensor.grad; when a later backward() is the run the reader follows, the reason
    says so (never a comparison with the wrong run)."""
    source = TRIAL / "compared_lines_below.py"
    said = CliRunner().invoke(main, ["check", str(source), "--out", str(tmp_path / "r")]).output
    assert (f"{source}:11: `manual_grad = df_dx(x)`: x_tensor.grad, which it is compared "
            "with, is not of the last backward() (y.backward()), the one the reader follows"
            in " ".join(said.split()))
    alone = tmp_path / "alone.py"
    alone.write_text("\n".join(source.read_text(encoding="utf-8").split("\n")[:18]) + "\n",
                     encoding="utf-8")
    said = CliRunner().invoke(main, ["check", str(alone), "--out", str(tmp_path / "a")]).output
    assert "PASS  df_dx-line11" in said and "2 of 2 hand-written derivatives checked" in said


def test_a_file_that_does_not_parse_says_so_not_that_it_computes_nothing(tmp_path):
    source = TRIAL / "not_python.py"
    said = CliRunner().invoke(main, ["check", str(source), "--out", str(tmp_path / "r")]).output
    assert ("nothing compared: no cell of it makes a case; a cell of it could not be parsed, "
            "so what it computes is not known (line 6: the cell is not valid Python (invalid "
            "character '，' (U+FF0C)))" in " ".join(said.split()))


def test_an_import_of_several_unread_modules_is_one_note(tmp_path):
    _, notes, results = drafted("many_imports.py", tmp_path)
    assert [n for n in notes if "import" in n] == [
        "cell 1, line 1: left out: import pickle, gzip, shutil, torch: a module the draft does "
        "not read (nothing of it is used)"]
    assert [r.status for r in results] == ["passed"]


def test_a_derivative_written_into_a_draft_to_finish_says_so(tmp_path):
    source = TRIAL / "edges_to_finish.py"
    said = CliRunner().invoke(main, ["check", str(source), "--out", str(tmp_path / "r")]).output
    flat = " ".join(said.split())
    # check drafts into a folder it removes: the draft to finish is named as `draft` writes it
    assert (f"{source}:9: `du_dw = x`: in a draft to finish, edges_to_finish_v_inc1.yaml.todo, "
            f"which `autograd-lab draft {source}` writes: the edge v/u of its graph must still "
            "be written by hand before it is checked" in flat)
    assert "matched to no graph" not in flat
    assert not list(tmp_path.rglob("*.todo"))
    wrote = CliRunner().invoke(main, ["draft", str(source), "--out", str(tmp_path / "d")])
    assert ("`du_dw = x`: written into edges_to_finish_v_inc1.yaml.todo, a draft to finish"
            in " ".join(wrote.output.split()))
    assert (tmp_path / "d" / "edges_to_finish_v_inc1.yaml.todo").is_file()


def test_numbers_given_in_one_tuple_assignment_are_each_assigned(tmp_path):
    # `scale, shift = 3.0, -1.0` was an assignment to something other than a name: every
    # derivative after it was lost; now each name is a number and a wrong rule fails
    right, wrong = right_then_wrong("tuple_numbers.py", tmp_path, "2 * scale * x", "2 * shift * x")
    assert right.cases["tuple_numbers.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert wrong.cases["tuple_numbers.py"]["status"] == "failed"


def check_source(path: Path, out: Path) -> tuple:
    ran = CliRunner().invoke(main, ["check", str(path), "--out", str(out), "--format", "json"])
    assert "Traceback" not in ran.output, ran.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return ran, {c["name"]: c for c in report["cases"]}


class Checked(NamedTuple):
    path: Path
    ran: Result
    cases: dict   # report.json's cases by name
    said: str     # what the run printed, as one line (however the terminal wrapped it)


def right_then_wrong(name: str, tmp_path: Path, line: str, wrong_line: str
                     ) -> tuple[Checked, Checked]:
    """TRIAL/name checked as it is (exit 0), then a copy with line changed to wrong_line (exit
    1): the right source passes and the wrong copy fails, whatever else each test asks."""
    source = TRIAL / name
    text = source.read_text(encoding="utf-8")
    assert line in text, line
    wrong = tmp_path / name
    wrong.write_text(text.replace(line, wrong_line), encoding="utf-8")
    runs = []
    for path, folder, code in ((source, "right", 0), (wrong, "wrong", 1)):
        ran, cases = check_source(path, tmp_path / folder)
        assert ran.exit_code == code, ran.output
        runs.append(Checked(path, ran, cases, " ".join(ran.output.split())))
    return runs[0], runs[1]


# --- ordinary torch the drafter translates ---------------------------------------------------

def test_operators_spelled_as_functions_and_methods_are_translated(tmp_path):
    done, _, results = drafted("spelled_operators.py", tmp_path)
    [behaviour] = [w for w in done.files if w.kind == "behaviour"]
    steps = yaml.safe_load(behaviour.path.read_text(encoding="utf-8"))["steps"]
    assert steps[:4] == [{"s": "a + b"}, {"p": "s*a"}, {"q": "p @ b"}, {"r": "(q - a)/2"}]
    assert [r.status for r in results] == ["passed"]


def test_a_tensor_a_left_out_call_may_change_is_not_claimed(tmp_path):
    _, notes, results = drafted("changed_by_calls.py", tmp_path)
    assert "cell 1, line 10: not checked: w shows tensor(0., requires_grad=True): the " \
           "opt.step() before it (cell 1, line 9) was left out and may have changed w" in notes
    assert "cell 2, line 19: not checked: v shows tensor(2., requires_grad=True): the " \
           "shrink(v) before it (cell 2, line 18) was left out and may have changed v" in notes
    assert "failed" not in [r.status for r in results]


def test_a_derivative_printed_or_inside_a_function_says_why_it_is_not_checked(tmp_path):
    done = draft(TRIAL / "hand_forms.py", tmp_path, verify=False)
    why = {u["line"]: u["reason"] for u in done.derivatives()["unchecked"]}
    assert why[9] == ("no case uses it: it is printed beside autograd's .grad, not compared "
                      "with it (==, torch.allclose or assert make a comparison the draft "
                      "checks)")
    assert why[21] == ("no case uses it: it is written inside hand_gradients(), which the "
                       "tutorial never calls (the draft follows a function's body where it is "
                       "called)")


# --- third trial: internal errors ------------------------------------------------------------

def test_a_derivative_named_after_a_function_that_was_a_tensor_is_no_internal_error(tmp_path):
    # f = x**2 + 3*x, then def f(x): df_dx's f is the function, never the first graph's f
    ran, results = check_source(TRIAL / "function_after_tensor.py", tmp_path / "r")
    assert "draft failed" not in ran.output
    assert [c["status"] for c in results.values()] == ["unchecked"]
    assert results["function_after_tensor.py"]["derivatives"]["found"] == 1


# --- third trial: what the count missed ------------------------------------------------------

def found_in(name: str) -> list[tuple[int, str, str]]:
    return [(f.line, f.kind, f.text) for f in find(read(TRIAL / name))]


def test_derivatives_under_names_that_do_not_say_of_what_are_counted():
    assert found_in("vague_names.py") == [
        (9, "variable", "grad = 3 * x ** 2"),
        (10, "variable", "manualGrad = 3 * x ** 2"),
        (11, "variable", "my_gradient_here = 3 * x ** 2"),     # .eq() with auto = x.grad
        (13, "printed", "analytical = 3 * x ** 2"),            # printed beside x.grad
        (15, "compared", "t = 3 * x ** 2"),                    # t.item() with x.grad.item()
        (17, "variable", "dy_dx = 3 * x ** 2"),
    ]   # not: manual_grad = dy_dx.item(), grads = [...], grad_fn, pytorch_gradient()


def test_a_function_that_runs_backward_and_returns_autograds_values_is_not_counted(tmp_path):
    _, results = check_source(TRIAL / "vague_names.py", tmp_path / "r")
    derivatives = results["vague_names.py"]["derivatives"]
    assert derivatives["found"] == 6
    assert "pytorch_gradient" not in " ".join(u["text"] for u in derivatives["unchecked"])


def test_derivatives_put_together_edge_by_edge_are_counted_once():
    # the product printed (line 11) is dz/dx; printed again (12) it is the same one; a part
    # of dL_dw's sum printed (21) is no new one; a sum of edges kept in a plain name (22) is
    assert [(line, kind) for line, kind, _ in found_in("chain_totals.py")] == [
        (9, "variable"), (10, "variable"), (11, "total"), (16, "variable"), (17, "variable"),
        (18, "variable"), (19, "variable"), (20, "variable"), (22, "variable")]


def test_a_formula_printed_just_below_autograds_gradient_is_counted():
    # print(b.grad); fo = ...; print(fo): counted; w_new reads w.grad (an update); loss2 is
    # printed two statements after its assignment
    assert found_in("printed_below.py") == [(12, "printed", "fo = 2 * o - 1.6"),
                                            (15, "printed", "fob = 1 - torch.tanh(n) ** 2")]


def test_a_formula_a_cell_shows_after_a_cell_showing_a_grad_is_counted():
    assert found_in("shown_cells.md") == [
        (28, "printed", "X.t() @ (2/N * (out - Y))"),
        (32, "printed", "(2/N * (out - Y)).sum()"),
    ]   # not out * 2: X.shape shown between ends the run of cells after W.grad's


def test_a_function_called_where_the_draft_does_not_follow_says_where(tmp_path):
    done = draft(TRIAL / "called_in_an_if.py", tmp_path, verify=False)
    [unchecked] = done.derivatives()["unchecked"]
    assert unchecked["text"] == "def gradf(theta):"
    assert unchecked["reason"] == (
        "its call on line 15: left out: if torch.allclose(gradf(theta), theta.grad): …: a if "
        "statement: the draft follows straight-line code")


def test_a_gradient_function_the_reading_could_not_pair_says_why_at_its_call(tmp_path):
    # the reading of functions tried the call in the if, and says why it made no case
    _, results = check_source(TRIAL / "called_in_an_if.py", tmp_path / "r")
    [unchecked] = results["called_in_an_if.py"]["derivatives"]["unchecked"]
    assert unchecked["reason"] == ("its call on line 15: no autograd run (y.backward() on a "
                                   "computed y) before it")


def test_a_gradient_named_after_its_tensor_is_checked_and_a_wrong_one_fails(tmp_path):
    # analytic_grad_w and manual_b_grad are w's and b's gradients, whatever words they carry
    right, wrong = right_then_wrong(
        "gradient_of_a_name.py", tmp_path,
        "manual_b_grad = 2 * (y - t).mean()", "manual_b_grad = (y - t).mean()")
    assert right.cases["gradient_of_a_name.py"]["derivatives"] == {
        "found": 2, "checked": 2, "unchecked": []}
    assert f"{wrong.path} line 12: backward db: hand-written" in wrong.said


def test_a_function_returning_nothing_is_followed_where_it_is_called(tmp_path):
    # main() calls backprop_by_hand(), whose body backward()s and writes dLdw by hand
    right, wrong = right_then_wrong(
        "inside_a_function.py", tmp_path, "dLdw = 2 * (w * x - 1) * x", "dLdw = 2 * (w * x - 1)")
    assert right.cases["inside_a_function.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert f"{wrong.path} line 10: backward dw: hand-written 2*(w*x - 1) differs" in wrong.said


def test_a_derivative_inside_a_function_the_draft_does_not_follow_says_so(tmp_path):
    done = draft(TRIAL / "not_followed_call.py", tmp_path, verify=False)
    assert "cell 1, line 14: left out: backprop_by_hand(1.5): backprop_by_hand() is not " \
           "followed: its arguments are not names, one a parameter" in map(str, done.notes)
    [unchecked] = done.derivatives()["unchecked"]
    assert unchecked["reason"] == (
        "no case uses it: it is written inside backprop_by_hand(), and no case was made from "
        "that function's body (the draft follows a function where it is called when it "
        "returns nothing and is given names, or is assignments and one return: see the note "
        "at its call)")


# --- a name paired with the .grad it is compared with or printed beside ----------------------

def test_a_name_compared_or_printed_with_a_grad_is_that_leafs_entry_and_a_wrong_one_fails(
        tmp_path):
    # slope, offset, cubes say nothing; allclose, a print beside b.grad and .eq pair them
    right, wrong = right_then_wrong(
        "paired_names.py", tmp_path, "cubes = 3 * u ** 2", "cubes = 3 * u")
    assert right.cases["paired_names.py"]["derivatives"] == {
        "found": 3, "checked": 3, "unchecked": []}
    assert f"{wrong.path} line 15: backward du: hand-written 3*u differs" in wrong.said


def test_a_pair_is_made_only_when_the_line_says_which_leaf_and_the_same_way_round():
    import ast

    from autograd_lab.draft._claims import paired

    def pairs_of(code: str) -> dict[str, str]:
        return paired([ast.parse(code)])
    assert pairs_of("print(torch.allclose(x.grad, h))") == {"h": "x"}
    assert pairs_of("print(h.item(), x.grad.item())") == {"h": "x"}
    assert pairs_of("auto = x.grad\nprint(h.eq(auto).all())") == {"h": "x"}
    assert pairs_of("print(W.grad)\nprint(h)") == {"h": "W"}           # on the line below
    assert pairs_of("print(h)\nprint(W.grad)") == {}                   # above: closes a pair
    assert pairs_of("print(g)\nprint(W.grad)\nprint(h)") == {}        # which of g and h?
    assert pairs_of("assert torch.allclose(W.grad.T, h.T)") == {"h": "W"}
    assert pairs_of("assert torch.allclose(W.grad.T, h)") == {}        # h is W's, transposed
    assert pairs_of("print(h, k, x.grad)") == {}                      # which one?
    assert pairs_of("print(x.grad, y.grad, h)") == {}
    assert pairs_of("print(h == x.grad)\nprint(h == y.grad)") == {}  # compared with two


# --- a script's main guard, and an if that compares a gradient --------------------------------

def test_the_main_guards_body_is_followed_and_an_ifs_comparison_is_checked(tmp_path):
    right, wrong = right_then_wrong(
        "main_guard.py", tmp_path, "manual_b = 3 * b ** 2", "manual_b = 3 * b")
    assert right.cases["main_guard.py"]["derivatives"] == {
        "found": 3, "checked": 3, "unchecked": []}
    assert "line 9: left out: if torch.allclose(x.grad, 2 * w * x): …: what the if runs: the " \
           "draft reads its test as the comparison, and follows straight-line code" in \
        right.ran.output
    assert f"{wrong.path} line 16: backward db: hand-written 3*b differs" in wrong.said


# --- a cell showing a formula after one showing a .grad ---------------------------------------

def test_a_formula_shown_after_a_grad_is_compared_with_it_at_its_shape(tmp_path):
    # X.t() @ (...) after W.grad is W's gradient; (...).t() @ X, lying down, is not compared
    right, wrong = right_then_wrong(
        "shown_after_grad.md", tmp_path, "X.t() @ (2/N * (out-Y))\n", "X.t() @ (1/N * (out-Y))\n")
    derivatives = right.cases["shown_after_grad.md"]["derivatives"]
    assert (derivatives["found"], derivatives["checked"]) == (3, 2)
    assert derivatives["unchecked"][0]["reason"] == (
        "left out: (2 / N * (out - Y)).t() @ X: a formula shown after W.grad, of shape (1, 3), "
        "not W's (3, 1): not compared with it")
    assert f"{wrong.path} line 32: gradient W: manual gives" in wrong.said


# --- torch.rand, .item(), (z > 0).float(), a tensor of formulas -------------------------------

def test_a_uniform_draw_stands_in_and_its_gradient_by_hand_is_checked(tmp_path):
    right, wrong = right_then_wrong(
        "drawn_uniform.py", tmp_path,
        "manual = 2.0 * (predicted - real)", "manual = 2.0 * (predicted + real)")
    assert right.cases["drawn_uniform.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert "line 4: not the notebook's numbers: real is drawn by torch.rand from [0, 1) (its " \
           "stand-in a normal draw times 0.25 plus 0.5, mostly in that range), which a case " \
           "cannot draw" in right.said
    assert f"{wrong.path} line 9: backward dpredicted: hand-written" in wrong.said


def test_item_in_a_gradient_by_hand_is_its_value_and_a_wrong_one_fails(tmp_path):
    # manual_gradient = 14 * x.item(): the same number as 14 * x, never differentiated
    right, wrong = right_then_wrong(
        "item_in_hand.py", tmp_path,
        "manual_gradient = 14 * x.item()", "manual_gradient = 7 * x.item()")
    assert right.cases["item_in_hand.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert f"{wrong.path} line 7: backward dx: hand-written 7*x differs" in wrong.said


def test_item_in_the_forward_graph_is_still_left_out(tmp_path):
    # y = x.item() * x cuts the graph at x.item(): read as x, autograd's x.grad would differ
    source = tmp_path / "cut.py"
    source.write_text("import torch\n\nx = torch.tensor(3.0, requires_grad=True)\n"
                      "y = x.item() * x\ny.backward()\nprint(x.grad)\n", encoding="utf-8")
    done = draft(source, tmp_path / "out", verify=False)
    assert "cell 1, line 4: left out: y = x.item() * x: x.item() is x's value cut from the " \
           "graph: the draft reads it as x only in a derivative by hand, and y is not one it " \
           "knows (its name does not say of what, and no line compares it with a .grad or " \
           "prints it beside one)" in map(str, done.notes)


def test_a_mask_made_a_float_is_a_relus_derivative_and_a_wrong_one_fails(tmp_path):
    right, wrong = right_then_wrong(
        "relu_mask.py", tmp_path, "(z > 0).float()", "(z >= -3).float()")
    assert right.cases["relu_mask.py"]["derivatives"] == {"found": 1, "checked": 1, "unchecked": []}
    assert f"{wrong.path} line 7: backward dz: hand-written (z >= -3).float() differs" in wrong.said


def test_a_gradient_by_hand_of_an_x_made_again_is_checked_on_its_own_graph_only(tmp_path):
    # df_dx_manual is the second x's; the first graph (f of the first x) never takes it
    right, wrong = right_then_wrong(
        "rebound_leaf.py", tmp_path, "torch.cos(x ** 2 + 1) * 2 * x", "torch.cos(x ** 2 + 1) * x")
    assert right.cases["rebound_leaf.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert "rebound_leaf_f_in" not in right.ran.output
    assert f"{wrong.path} line 11: backward dx: hand-written cos(x**2 + 1)*x differs" in wrong.said


def test_a_name_shown_above_the_next_grad_is_not_paired_with_it(tmp_path):
    # print(o.grad); dLdo = ...; print(dLdo); print(w.grad): dLdo is o's, never w's
    right, wrong = right_then_wrong("alternating_prints.py", tmp_path, "** 2) * 3\n", "** 2)\n")
    assert right.cases["alternating_prints.py"]["derivatives"] == {
        "found": 3, "checked": 3, "unchecked": []}
    assert f"{wrong.path} line 15: backward dw: hand-written" in wrong.said


def test_backward_of_an_unnamed_expression_is_named_and_its_comparison_checked(tmp_path):
    right, wrong = right_then_wrong(
        "unnamed_backward.py", tmp_path, "x.grad == 2 * x", "x.grad == 3 * x")
    assert right.cases["unnamed_backward.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert "line 6: y.sum(): backward() of an unnamed expression, named y_sum in the case" in \
        right.said
    assert f"{wrong.path} line 7: gradient x: manual gives" in wrong.said


# --- fourth trial: a forward node printed beside its own .grad --------------------------------

def test_a_node_printed_beside_its_own_grad_is_its_value_not_a_derivative(tmp_path):
    # print(f"a : {a} a.grad: {a.grad}"): a's value, never a's gradient by hand (the count
    # listed a = 3 * x and b = a ** 2 as derivatives printed beside autograd's .grad)
    right, wrong = right_then_wrong(
        "own_grads_printed.py", tmp_path, "db_da = 2 * a", "db_da = 2 * x")
    assert right.cases["own_grads_printed.py"]["derivatives"] == {
        "found": 3, "checked": 3, "unchecked": []}   # the product printed as db_dx too
    assert f"{wrong.path} line 14: chain_rule edge b/a: hand-written 2*x, SymPy 2*a" in wrong.said


def test_a_name_beside_its_own_grad_is_never_paired_and_leaves_the_other_name_paired():
    import ast

    from autograd_lab.draft._claims import paired
    assert paired([ast.parse("print(a, a.grad)")]) == {}
    assert paired([ast.parse("print(f'x: {x} x.grad: {x.grad} by hand: {h}')")]) == {"h": "x"}
    assert [text for _, _, text in found_in("own_grads_printed.py")] == [
        "db_da = 2 * a", "da_dx = 3", 'print(f"db_dx: {db_da * da_dx}")']


def test_a_graphs_value_printed_beside_a_grad_is_not_a_derivative_and_a_wrong_one_fails(
        tmp_path):
    # y = x ** 3; y.backward(); print(y, x.grad): y is the function's value (it failed as a
    # wrong derivative x**3 of x); slope, which no backward() ran through, is still x's
    right, wrong = right_then_wrong(
        "graph_value_printed.py", tmp_path, "slope = 3 * x ** 2", "slope = 3 * x")
    assert right.cases["graph_value_printed.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert found_in("graph_value_printed.py") == [(9, "printed", "slope = 3 * x ** 2")]
    assert f"{wrong.path} line 9: backward dx: hand-written 3*x differs" in wrong.said


def test_a_node_a_backward_ran_through_is_paired_only_when_compared_or_given_again():
    import ast

    from autograd_lab.draft._claims import paired

    def pairs_of(code: str) -> dict[str, str]:
        return paired([ast.parse(code)])
    assert pairs_of("y = x ** 3\ny.backward()\nprint(y, x.grad)") == {}
    assert pairs_of("a = 2 * x\ny = a ** 3\ny.sum().backward()\nprint(x.grad)\nprint(a)") == {}
    assert pairs_of("y = x ** 3\ny.backward()\ny = 3 * x ** 2\nprint(y, x.grad)") == {"y": "x"}
    # d2l: z = u * x with u = y.detach(); x.grad == u compares, so u is claimed as x's
    assert pairs_of("u = y.detach()\nz = u * x\nz.sum().backward()\nprint(x.grad == u)") == {
        "u": "x"}
    # two cells: the value given in the first, shown in the second
    assert paired([ast.parse("y = x ** 3\ny.backward()"), ast.parse("print(y, x.grad)")]) == {}


def test_a_total_printed_under_a_derivatives_name_is_that_gradient_and_a_wrong_one_fails(
        tmp_path):
    # print(f"df_dx: {df_da * da_dx}") inside analytical_gradient(): read as df_dx = ...,
    # x's gradient of f (it was listed as inside a body the draft does not follow)
    right, wrong = right_then_wrong(
        "printed_total.py", tmp_path, "{df_da * da_dx}", "{df_da * da_dx * 2}")
    assert right.cases["printed_total.py"]["derivatives"] == {
        "found": 3, "checked": 3, "unchecked": []}
    assert "line 15: df_da * da_dx: printed as df_dx, read as df_dx = df_da * da_dx in the " \
           "case" in right.said
    assert f"{wrong.path} line 15: gradient x: manual_total gives" in wrong.said


def test_item_in_a_derivative_of_nothing_known_says_why_it_is_left_out(tmp_path):
    # manual_grad = 2 * x.item(), printed beside no .grad: x.item() is x only in a derivative
    # by hand, and nothing says manual_grad is x's (it said: .item() is not translated)
    _, results = check_source(TRIAL / "item_unpaired.py", tmp_path / "r")
    assert results["item_unpaired.py"]["derivatives"] == {
        "found": 1, "checked": 0, "unchecked": [{
            "line": 8, "cell": "", "text": "manual_grad = 2 * x.item()",
            "reason": "left out: x.item() is x's value cut from the graph: the draft reads it as "
                      "x only in a derivative by hand, and manual_grad is not one it knows (its "
                      "name does not say of what, and no line compares it with a .grad or "
                      "prints it beside one)"}]}


def test_a_derivative_in_a_followed_body_of_a_graph_left_out_says_where_it_was_followed(
        tmp_path):
    # analytical_gradient() returns nothing: its body is followed at its call (line 17); no
    # case is made because a = max(u, 0) and so a.backward() are left out (it said the draft
    # does not follow that body)
    _, results = check_source(TRIAL / "followed_no_case.py", tmp_path / "r")
    derivatives = results["followed_no_case.py"]["derivatives"]
    assert (derivatives["found"], derivatives["checked"]) == (2, 0)
    assert {u["reason"] for u in derivatives["unchecked"]} == {
        "no case uses it: it is written inside analytical_gradient(), whose body the draft "
        "follows where it is called (line 17), and no case was made there: see the lines the "
        "draft left out"}


def test_a_label_is_a_derivatives_name_the_text_ends_with():
    from autograd_lab.draft._assigning import _label
    assert [_label(t) for t in ("df_dy: ", "total df_dy = ", "adf_dy: ", "a.df_dy:", "df_dy",
                                "x" * 100 + " dz_dx: ", "x" * 100 + "dz_dx: ")] == [
        "df_dy", "df_dy", "", "", "", "dz_dx", ""]
    assert _label("d" + "a_d" * 100_000 + "!") == ""   # only the text's end is searched


def test_the_function_shown_below_a_grad_still_none_is_not_a_derivative(tmp_path):
    # print(x.grad); y = 2 * torch.dot(x, x); print(y); y.backward(): y is the value the
    # backward() runs from (the count took it for a formula shown below a .grad: 0 of 3)
    assert found_in("none_first.py") == [(13, "compared", "print(x.grad == 4 * x)")]
    right, wrong = right_then_wrong("none_first.py", tmp_path, "4 * x)", "4 * x * x)")
    assert right.cases["none_first.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert f"{wrong.path} line 13: gradient x: manual gives 36 where SymPy gives 12 at the " \
           "base point element [3]" in wrong.said


def test_fp_beside_f_is_fs_derivative_at_the_leaf_it_is_called_on_and_a_wrong_one_fails(
        tmp_path):
    # def f(x); def fp(x); print(fp(x)); print(x.grad) of leaves a, b and x: fp is f's
    # derivative by hand, x's (it was not found at all: 0 of 0, nothing compared)
    right, wrong = right_then_wrong(
        "primed.py", tmp_path, "return 2 * (x - 2)", "return 2 * (x + 2)")
    assert right.cases["primed.py"]["derivatives"] == {"found": 1, "checked": 1, "unchecked": []}
    assert right.cases["fp-line23"]["title"] == "fp called as fp(x) beside autograd's x.grad"
    assert found_in("primed.py") == [(11, "function", "def fp(x):")]
    assert f"{wrong.path} line 23: gradient x: manual gives 6 where SymPy gives -2 at the base " \
           "point (x=1)" in wrong.said


def test_a_function_is_primed_only_beside_the_function_it_primes():
    from autograd_lab.reading import primed
    defined = {"f", "g", "loss", "setup"}
    assert [primed(n, defined) for n in ("fp", "f_p", "gprime", "loss_prime", "setup", "hp",
                                         "fpp")] == [True, True, True, True, False, False, False]


def test_a_name_shown_just_below_a_grad_is_counted_where_the_draft_checks_it(tmp_path):
    # manual = ...; print(x.grad); print(manual): the draft checked manual as x's gradient
    # and the count said 0 of 0 (it knew only a formula assigned between the two prints)
    right, wrong = right_then_wrong(
        "kept_above.py", tmp_path, "torch.cos(x ** 2) * 2 * x ", "torch.cos(x ** 2) * x ")
    assert right.cases["kept_above.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert found_in("kept_above.py") == [
        (10, "printed", "manual = torch.cos(x ** 2) * 2 * x  # dg/dx = cos(x^2) * 2x")]
    assert f"{wrong.path} line 10: backward dx: hand-written cos(x**2)*x differs" in wrong.said


def test_detach_in_a_gradient_by_hand_is_its_value_and_a_wrong_one_fails(tmp_path):
    # manual = 2 * x.detach(): x's value, as x.item() is (it said: the method .detach(): the
    # draft does not translate it)
    right, wrong = right_then_wrong(
        "detach_in_hand.py", tmp_path, "2 * x.detach()", "3 * x.detach()")
    assert right.cases["detach_in_hand.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert f"{wrong.path} line 9: backward dx: hand-written 3*x differs" in wrong.said


def test_detach_in_a_derivative_of_nothing_known_says_why_it_is_left_out(tmp_path):
    source = tmp_path / "unknown.py"
    source.write_text("import torch\n\nx = torch.tensor(3.0, requires_grad=True)\n"
                      "y = x ** 2\ny.backward()\ngrad_manual = 2 * x.detach()\n",
                      encoding="utf-8")
    done = draft(source, tmp_path / "out", verify=False)
    assert "cell 1, line 6: left out: grad_manual = 2 * x.detach(): x.detach() is x's value " \
           "cut from the graph: the draft reads it as x only in a derivative by hand, and " \
           "grad_manual is not one it knows (its name does not say of what, and no line " \
           "compares it with a .grad or prints it beside one)" in map(str, done.notes)


def test_backward_of_one_element_and_a_d_name_compared_with_a_grad_and_a_wrong_one_fails(
        tmp_path):
    # x = torch.randn(1); y = x ** 4; y.backward(): torch hands y torch.ones_like(y) (the
    # draft made no case: not a scalar); dy compared with x.grad is x's, not y's own (1)
    right, wrong = right_then_wrong("one_element.py", tmp_path, "4 * (x ** 3)", "3 * (x ** 3)")
    assert right.cases["one_element.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    done = draft(TRIAL / "one_element.py", tmp_path / "out", verify=False)
    text = next(w.path for w in done.files if w.kind == "gradient").read_text(encoding="utf-8")
    assert "upstream: torch.ones_like(y)" in text
    assert f"{wrong.path} line 12: backward dx: hand-written 3*x**3 differs from the gradient " \
           "of x (SymPy)" in wrong.said


def test_a_d_name_compared_with_another_leafs_grad_is_that_leafs():
    from autograd_lab.draft._translate import derivative

    def known(name: str) -> bool:
        return name in {"x", "y"}
    assert derivative("dy", known) == ("adjoint", "y", "")
    assert derivative("dy", known, {"dy": "x"}) == ("adjoint", "x", "")    # x.grad == dy
    assert derivative("dy", known, {"dy": "y"}) == ("adjoint", "y", "")


def test_partials_of_every_edge_and_a_total_of_one_input_are_checked_and_a_wrong_one_fails(
        tmp_path):
    # the total given for x alone: drawing y's curve asked manual_total for y (internal
    # error KeyError: 'y', which hid a wrong edge dc_db = a/b**2 in a public script)
    right, wrong = right_then_wrong(
        "partials_one_total.py", tmp_path, "dc_db = -a / b ** 2", "dc_db = a / b ** 2")
    assert right.cases["partials_one_total.py"]["derivatives"] == {
        "found": 8, "checked": 8, "unchecked": []}
    assert f"{wrong.path} line 17: chain_rule edge c/b: hand-written a/b**2, SymPy -c/b" \
        in wrong.said
    drawn = CliRunner().invoke(main, ["check", str(wrong.path), "--out", str(tmp_path / "drawn")])
    said = " ".join(drawn.output.split())   # the default formats draw the curves (plots)
    assert drawn.exit_code == 1 and "internal error" not in said, said
    assert f"{wrong.path} line 17: chain_rule edge c/b: hand-written a/b**2" in said


def test_a_derivative_in_numbers_alone_shown_just_below_a_grad_is_counted(tmp_path):
    # manual = torch.cos(torch.tensor(1.0) ** 2) * 2 * 1.0; print(x.grad); print(manual):
    # the draft pairs it with x (it was not found); scale, shown beside no .grad, is not
    assert found_in("numbers_below.py") == [
        (12, "printed", "manual = torch.cos(torch.tensor(1.0) ** 2) * 2 * 1.0")]
    _, results = check_source(TRIAL / "numbers_below.py", tmp_path / "r")
    assert results["numbers_below.py"]["derivatives"]["unchecked"] == [{
        "line": 12, "cell": "", "text": "manual = torch.cos(torch.tensor(1.0) ** 2) * 2 * 1.0",
        "reason": "left out: torch.tensor(): the draft does not translate it"}]


# --- a tolerance written out: the size of a difference held under it -------------------------

def test_a_held_grad_compared_by_a_tolerance_pairs_its_name_and_a_wrong_one_fails(tmp_path):
    # grad_auto = x.grad.detach().clone(); assert (grad_auto - grad_manual).abs().max() < 1e-6
    right, wrong = right_then_wrong(
        "tolerance_held.py", tmp_path, "grad_manual = 3 * x.detach() ** 2",
        "grad_manual = 3 * x.detach()")
    assert right.cases["tolerance_held.py"]["derivatives"] == {
        "found": 1, "checked": 1, "unchecked": []}
    assert f"{wrong.path} line 10: backward dx: hand-written 3*x differs from the gradient " \
           "of x (SymPy)" in wrong.said


def test_a_summed_absolute_difference_under_a_tolerance_pairs_its_names_and_a_wrong_one_fails(
        tmp_path):
    # assert torch.sum(torch.abs(grad_a - a.grad)) < 1e-6, b.grad first and <= for b
    right, wrong = right_then_wrong(
        "tolerance_sum.py", tmp_path, "grad_b = 2 * a * b", "grad_b = a * b")
    assert right.cases["tolerance_sum.py"]["derivatives"] == {
        "found": 2, "checked": 2, "unchecked": []}
    assert f"{wrong.path} line 10: backward db: hand-written a*b differs from the gradient " \
           "of b (SymPy)" in wrong.said


def test_only_the_size_of_a_difference_under_a_tolerance_compares_its_sides():
    import ast

    from autograd_lab.draft._claims import paired

    def pairs_of(code: str) -> dict[str, str]:
        return paired([ast.parse(code)])
    assert pairs_of("assert (h - x.grad).abs().max() < 1e-6") == {"h": "x"}
    assert pairs_of("print((x.grad - h).norm() <= tol)") == {"h": "x"}
    assert pairs_of("assert abs(h - x.grad) < 1e-6") == {"h": "x"}
    assert pairs_of("assert torch.max(torch.abs(torch.from_numpy(h) - x.grad)) < 1e-6") \
        == {"h": "x"}
    assert pairs_of("auto = x.grad.clone()\nassert torch.sum(torch.abs(auto - h)) < 1e-6") \
        == {"h": "x"}
    assert pairs_of("diff = (x.grad - h).abs().max().item()\nassert diff < 1e-6") \
        == {"h": "x"}                                                  # the size held first
    assert pairs_of("diff = (x.grad - h).abs().max()\ndiff = 0\nassert diff < 1e-6") == {}
    assert pairs_of("assert (h - x.grad).max() < 1e-6") == {}          # signed: not a size
    assert pairs_of("assert (h - x.grad).abs().max() > 1e-6") == {}    # not held under it
    assert pairs_of("assert (h + x.grad).abs().max() < 1e-6") == {}    # not a difference
