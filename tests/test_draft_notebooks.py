"""`autograd-lab draft` rule by rule, on small .ipynb notebooks written here with their outputs
(the outputs are what torch 2.x printed for these cells)."""
from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from autograd_lab.api import check_paths, load_case
from autograd_lab.cli import main
from autograd_lab.draft import draft

from .notebooks import printed, raised, shown, write_notebook


def drafted_cases(tmp_path, *cells):
    path = write_notebook(tmp_path / "lesson.ipynb", *cells)
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []            # each draft loads back through the project's loader
    return done


def case_of(done, kind: str, index: int = 0) -> dict:
    written = [w for w in done.files if w.kind == kind][index]
    return yaml.safe_load(written.path.read_text(encoding="utf-8"))


def text_of(done, kind: str, index: int = 0) -> str:
    return [w for w in done.files if w.kind == kind][index].path.read_text(encoding="utf-8")


def statuses(done) -> dict:
    return {r.name.split("lesson_")[1]: r.status for r in check_paths([done.folder])}


def test_a_derivative_function_its_calls_as_points_and_statements_split_by_semicolons(tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch\nimport math",),
        ("def dz_dx(x):\n    return 2*x*math.cos(x**2)",),
        ("dz_dx(2)", shown("-2.6145744834544478")),
        ("dz_dx(3)", shown("-5.466781571308061")),
        ("dz_dx(4)", shown("-7.661275842587077")),
        ("x = torch.tensor(3.0, requires_grad=True); y = x**2; z = torch.sin(y)",),
        ("z", shown("tensor(0.4121, grad_fn=<SinBackward0>)")),
        ("z.backward(); print(x.grad.item())", printed("-5.4667816162109375\n")))
    case = case_of(done, "gradient")
    assert case["inputs"] == {"x": {"value": 3.0, "grad": True}}
    assert case["forward"] == {"y": "x**2", "z": "sin(y)"}
    assert case["output"] == "z"
    assert case["gradient"] == {"x": "2*x*cos(x**2)"}
    assert "chain_rule" not in case
    assert case["expect"] == {"z": 0.4121, "grad/x": -5.4667816162109375}  # .item() of x.grad
    assert case["points"] == [  # dz_dx(3) claims more digits than x.grad.item(): a point of its own
        {"at": {"x": 2.0}, "expect": {"grad/x": -2.6145744834544478}},
        {"at": {}, "expect": {"grad/x": -5.466781571308061}},
        {"at": {"x": 4.0}, "expect": {"grad/x": -7.661275842587077}}]
    text = text_of(done, "gradient")
    assert "  z: sin(y)                             # In [6], line 1: x = torch.tensor(3.0, " \
           "requires_grad=True); y = x**2; z = torch.sin(y)\n" in text
    assert "  x: 2*x*cos(x**2)                      # In [2], line 1: def dz_dx(x):\n" in text
    assert "  - at: {x: 2.0}" in text
    steps = case_of(done, "behaviour")["steps"]
    assert steps[1] == {"z": "sin(y)", "expect": {"z": 0.4121, "grad_fn/z": "SinBackward0"}}
    assert steps[2] == {"backward": "z", "expect": {"grad/x": -5.4667816162109375}}
    assert statuses(done) == {"cells_6-8": "passed", "z_in8": "passed"}


def test_a_double_made_from_float32_keeps_float32_s_rounding(tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch",),
        ("t = torch.Tensor([6.8813735870195432]).double()\nt.requires_grad_()\n"
         "u = torch.exp(t)\ns = u.sum()\ns",
         shown("tensor(973.9631, dtype=torch.float64, grad_fn=<SumBackward0>)")),
        ("s.backward()\nprint(t.grad)\nprint(t.grad.item())",
         printed("tensor([973.9631], dtype=torch.float64)\n973.9630878662996\n")),
        ("ds_dt = torch.exp(t)\nds_dt",
         shown("tensor([973.9631], dtype=torch.float64, grad_fn=<ExpBackward0>)")))
    case = case_of(done, "gradient")
    assert case["dtype"] == "float64"
    assert case["inputs"] == {"t": {"value": [6.881373405456543], "grad": True}}  # float32's
    assert case["gradient"] == {"t": "exp(t)"}      # ds_dt: the output's total derivative
    assert case["expect"] == {"grad/t": [973.9631], "s": 973.9631}  # print(t.grad); s
    assert case["points"] == [{"at": {}, "expect": {"grad/t": 973.9630878662996}}]  # .item()
    behaviour = case_of(done, "behaviour")
    assert behaviour["inputs"] == {"t": [6.881373405456543]}
    assert behaviour["steps"][0] == {"requires_grad": {"t": True}}
    assert set(statuses(done).values()) == {"passed"}
    # the float64 value as written in the cell is not what the notebook computed with
    path = next(w.path for w in done.files if w.kind == "gradient")
    path.write_text(path.read_text().replace("6.881373405456543", "6.8813735870195432"))
    [result] = check_paths([path])
    assert result.status == "failed"
    assert any("grad/t" in p and "973.9630878662996" in p for p in result.problems)


def test_the_perceptron_with_a_helper_manual_derivatives_and_three_ways_to_require_grad(tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch",),
        ("x = torch.tensor(6.7)\ny = torch.tensor(0.0)\nw = torch.tensor(1.0)\n"
         "w.requires_grad = True\nb = torch.tensor(0.0).requires_grad_()",),
        ("def bce(p, t):\n    eps = 1e-8\n    p = torch.clamp(p, eps, 1 - eps)\n"
         "    return -(t*torch.log(p) + (1 - t)*torch.log(1 - p))",),
        ("z = w*x + b\ny_pred = torch.sigmoid(z)\nloss = bce(y_pred, y)\nloss",
         shown("tensor(6.7012, grad_fn=<NegBackward0>)")),
        ("dloss_dy_pred = (y_pred - y)/(y_pred*(1 - y_pred))\ndy_pred_dz = y_pred*(1 - y_pred)\n"
         "dz_dw = x\ndz_db = 1\ndL_dw = dloss_dy_pred*dy_pred_dz*dz_dw\n"
         "dL_db = dloss_dy_pred*dy_pred_dz*dz_db",),
        ("loss.backward()\nprint(f\"loss: {loss.item():.4f}\")\n"
         "print(w.grad.item(), b.grad.item())",
         printed("loss: 6.7012\n6.6917619705200195 0.9987704753875732\n")))
    case = case_of(done, "gradient")
    assert case["dtype"] == "float32"
    assert case["inputs"] == {"x": 6.699999809265137, "y": 0.0, "w": {"value": 1.0, "grad": True},
                              "b": {"value": 0.0, "grad": True}}
    assert case["forward"]["loss"] == ("-(y*log(clamp(y_pred, 1e-08, 1 - 1e-08)) + "
                                       "(1 - y)*log(1 - clamp(y_pred, 1e-08, 1 - 1e-08)))")
    assert case["chain_rule"] == {"loss/y_pred": "(y_pred - y)/(y_pred*(1 - y_pred))",
                                  "y_pred/z": "y_pred*(1 - y_pred)", "z/w": "x", "z/b": 1}
    assert case["gradient"] == {
        "w": "(y_pred - y)/(y_pred*(1 - y_pred))*y_pred*(1 - y_pred)*x",
        "b": "(y_pred - y)/(y_pred*(1 - y_pred))*y_pred*(1 - y_pred)*1"}
    assert case["expect"] == {"grad/w": 6.6917619705200195, "grad/b": 0.9987704753875732,
                              "loss": 6.7012}
    steps = case_of(done, "behaviour")["steps"]
    assert steps[0] == {"requires_grad": {"w": True}}   # w.requires_grad = True
    assert steps[3]["expect"] == {"loss": 6.7012, "grad_fn/loss": "NegBackward0"}
    assert set(statuses(done).values()) == {"passed"}


def test_autograd_state_becomes_a_behaviour_case_and_a_graph_without_derivatives_a_skeleton(
        tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch",),
        ("v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\nm = (v**3).sum() / 3\nm",
         shown("tensor(12., grad_fn=<DivBackward0>)")),
        ("m.backward()\nv.grad", shown("tensor([1., 4., 9.])")),
        ("v.grad.zero_()", shown("tensor([0., 0., 0.])")),
        ("with torch.no_grad():\n    q = v * 2\nq", shown("tensor([2., 4., 6.])")),
        ("s = q.sum()\ns.backward()",
         raised("RuntimeError", "element 0 of tensors does not require grad and does not have "
                                "a grad_fn")),
        ("d = v.detach()\nd.requires_grad", shown("False")),
        ("v.requires_grad_(False)", shown("tensor([1., 2., 3.])")))
    steps = case_of(done, "behaviour")["steps"]
    assert steps == [
        {"m": "sum(v**3)/3", "expect": {"m": 12, "grad_fn/m": "DivBackward0"}},
        {"backward": "m", "expect": {"grad/v": [1, 4, 9]}},
        {"zero_grad": "v", "expect": {"grad/v": [0, 0, 0]}},
        {"no_grad": [{"q": "v*2"}]},
        {"expect": {"q": [2, 4, 6], "grad_fn/q": None, "requires_grad/q": False}},
        {"s": "sum(q)"},
        {"backward": "s", "expect": {"raises": "element 0 of tensors does not require grad and "
                                               "does not have a grad_fn"}},
        {"detach": {"d": "v"}, "expect": {"requires_grad/d": False}},
        {"requires_grad": {"v": False}, "expect": {"v": [1, 2, 3], "requires_grad/v": False}}]
    assert statuses(done) == {"cells_2-8": "passed"}
    [todo] = [w for w in done.files if w.to_write]
    assert todo.path.name == "lesson_m_in3.yaml.todo" and todo.to_write == ["m/v"]
    assert yaml.safe_load(todo.path.read_text())["chain_rule"] == {"m/v": None}
    assert "  m/v: ~                                # to write: d(m)/d(v) where m = sum(v**3)/3" \
        in todo.path.read_text()
    with pytest.raises(Exception, match=r"lesson_m_in3.yaml.todo:\d+:\d+: chain_rule edge still "
                                        r"to be written: m/v"):
        load_case(todo.path)


def test_what_the_language_cannot_say_is_left_out_with_its_cell_and_line(tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch",),
        ("W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n"
         "x = torch.tensor([1.0, 1.0])\nh = torch.kron(x, x)\nr = x // 2\nevery = x[::2]\n"
         "noise = torch.randn(2)\nfor i in range(2):\n    x = x * 2",),
        ("h", shown("tensor([[1., 1.],\n        [1., 1.]])")),
        ("loss = (W**2).mean() + (noise**2).sum()\ndloss = W / 2\nloss.backward()\nW.grad",
         shown("tensor([[0.5000, 1.0000],\n        [1.5000, 2.0000]])")))
    notes = [str(n) for n in done.notes]
    assert notes == [
        "In [2]: no behaviour case drafted for In [2] to In [4]: none of its steps shows a "
        "value, a gradient or an error to compare (it would check nothing)",
        "In [2], line 3: left out: h = torch.kron(x, x): torch.kron(): the draft does not "
        "translate it",
        "In [2], line 4: left out: r = x // 2: floor division //: not in the expression language",
        "In [2], line 5: left out: every = x[::2]: a slice with a step (a:b:c): the language "
        "takes a:b",
        "In [2], line 6: not the notebook's numbers: noise is drawn from torch's global "
        "generator, never seeded (torch.manual_seed), which a case cannot draw (it draws each "
        "value from a fresh generator): seed 0 stands in, and no number that depends on noise "
        "is claimed",
        "In [2], line 7: left out: for i in range(2): …: a for statement: the draft follows "
        "straight-line code",
        "In [3], line 1: not checked: h shows tensor([[1., 1.],\\n        [1., 1.]]): not a "
        "tensor the draft follows",
        "In [4], line 2: not an entry of backward: dloss, the gradient of the output loss by "
        "itself, is 1 (or the upstream gradient)",
        "In [4], line 4: not checked: W.grad shows tensor([[0.5000, 1.0000],\\n        [1.5000, "
        "2.0000]]): the graph of loss holds noise, whose numbers are not the notebook's (In [2], "
        "line 6)"]
    # W.grad is not claimed, so the behaviour case would compare nothing: none is written
    # (it passed, having checked nothing, before)
    assert not [w for w in done.files if w.kind == "behaviour"]
    [todo] = [w for w in done.files if w.to_write]
    assert todo.to_write == ["loss/W"]  # the adjoint dloss is not taken for an edge


def test_the_cli_drafts_says_what_it_wrote_and_what_it_left_out(tmp_path):
    path = write_notebook(
        tmp_path / "lesson.ipynb",
        ("import torch\nimport os",),
        ("x = torch.tensor(2.0, requires_grad=True)\ny = x**3\ny.backward()\nx.grad",
         shown("tensor(12.)")))
    result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (f"wrote {tmp_path / 'out' / 'lesson_cells_2-2.yaml'}  behaviour case, "
                        "In [2], 1 claim")
    assert lines[1].startswith(f"wrote {tmp_path / 'out' / 'lesson_y_in2.yaml.todo'}  gradient, "
                               "In [2]: no hand-written derivative for y/x; write it, then "
                               "rename the file to .yaml")
    assert lines[2] == (f"{path}: In [1], line 2: left out: import os: a module the draft does "
                        "not read (nothing of it is used)")
    assert lines[3] == (f"drafted 1 case and 1 to finish from {path} into {tmp_path / 'out'}; "
                        "1 thing left out or not checked (above)")


def test_a_file_that_is_not_a_notebook_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {path}:1:12: the notebook's JSON is broken (")
    assert result.output.count("\n") == 1


def test_each_tensor_keeps_the_dtype_and_the_value_its_constructor_gave_it(tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch",),
        ("a = torch.tensor([2.0])\nb = torch.Tensor([0.1])\nc = torch.tensor(0.1)\n"
         "k = torch.tensor([1.0]).requires_grad_()\ns = (a*b*c*k).sum()\ns.backward()\n"
         "k.grad", shown("tensor([0.0200])")))
    case = case_of(done, "behaviour")
    assert case["dtype"] == "float32"
    assert case["inputs"] == {"a": [2.0], "b": [0.10000000149011612], "c": 0.10000000149011612,
                              "k": {"value": [1.0], "grad": True}}
    assert statuses(done) == {"cells_2-2": "passed"}
    text = text_of(done, "behaviour")
    assert "  b: [0.10000000149011612]              # In [2], line 2: b = torch.Tensor([0.1])\n" \
        in text


def test_a_float64_tensor_keeps_its_digits(tmp_path):
    done = drafted_cases(
        tmp_path,
        ("import torch\nx = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)\n"
         "y = torch.exp(x)\ny.backward()\nx.grad",
         shown("tensor(1.1052, dtype=torch.float64)")))
    case = case_of(done, "behaviour")
    assert case["dtype"] == "float64"
    assert case["inputs"] == {"x": {"value": 0.1, "grad": True}}
    assert case["steps"][-1] == {"backward": "y", "expect": {"grad/x": 1.1052}}


def test_a_gradient_shown_after_a_backward_left_out_is_not_claimed(tmp_path):
    path = write_notebook(
        tmp_path / "lesson.ipynb",
        ("import torch\nv = torch.tensor([1.0, 2.0], requires_grad=True)\n"
         "u = torch.kron(v, v).sum()\nu.backward()\nv.grad", shown("tensor([6., 6.])")))
    done = draft(path, tmp_path / "drafts")
    assert [str(n) for n in done.notes] == [
        "In [1], line 3: left out: u = torch.kron(v, v).sum(): torch.kron(): the draft does "
        "not translate it",
        "In [1], line 4: left out: u.backward(): u is not a tensor the draft follows",
        "In [1], line 5: not checked: v.grad shows tensor([6., 6.]): the u.backward() before it "
        "(In [1], line 4) was left out, so the case would not have its gradients"]
    assert done.files == []


def test_a_function_is_a_table_entry_away(tmp_path):
    """softplus and log1p joined the language as table entries; so they join the draft's."""
    done = drafted_cases(
        tmp_path,
        ("import torch\nimport torch.nn.functional as F\n"
         "x = torch.tensor(0.5, requires_grad=True)\ny = F.softplus(x) + x.log1p()\n"
         "y.backward()\nx.grad", shown("tensor(1.2891)")))
    assert case_of(done, "behaviour")["steps"][0] == {"y": "softplus(x) + log1p(x)"}
    assert statuses(done) == {"cells_1-1": "passed"}


EXPORT = """In [1]:
import torch
x = torch.tensor(2.0, requires_grad=True)
y = x**2 + 3*x + 1
dy_dx = 2*x + 3
y

tensor(11., grad_fn=<AddBackward0>)

In [2]:
y.backward()
print(x.grad, dy_dx)

tensor(7.) tensor(7., grad_fn=<AddBackward0>)

In [3]:
y = x**2 + 3*x + 1
y.backward()
x.grad, y.grad

(tensor(14.), None)

Gradients add up: markdown between cells is passed by.
"""


def test_a_text_export_with_an_accumulated_gradient_and_a_tuple_shown(tmp_path):
    path = tmp_path / "lesson.txt"
    path.write_text(EXPORT, encoding="utf-8")
    done = draft(path, tmp_path / "drafts")
    assert done.problems == [] and done.notes == []
    gradient = case_of(done, "gradient")
    assert gradient["chain_rule"] == {"y/x": "2*x + 3"}     # dy_dx: y's own derivative by x
    assert gradient["expect"] == {"grad/x": 7, "y": 11}    # 14 is two backward() runs added
    steps = case_of(done, "behaviour")["steps"]
    assert steps[-1] == {"backward": "y", "expect": {"grad/x": 14, "grad/y": None}}
    assert steps[2] == {"backward": "y", "expect": {"grad/x": 7, "dy_dx": 7,
                                                    "grad_fn/dy_dx": "AddBackward0"}}
    assert set(statuses(done).values()) == {"passed"}
