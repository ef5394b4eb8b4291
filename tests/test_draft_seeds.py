"""`autograd-lab draft` on the five tutorial notebooks in shared/seeds: every number they print
becomes a claim, and the drafts give each tutorial's verdict: 000, 001 and 003 pass, 002 fails
on the cross-entropy target of 4, 004 on x.grad shown after a backward that never ran."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from autograd_lab.api import check_paths
from autograd_lab.cli import main
from autograd_lab.draft import draft

# the five notebooks of shared/seeds, copied here so that the suite needs nothing beside it
SEEDS = Path(__file__).resolve().parent / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def seed(number: str) -> Path:
    return next(p for p in SEED_FILES if p.name.startswith(number))


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Each seed drafted and its drafts checked once: number -> (Drafted, results)."""
    out = {}
    for path in SEED_FILES:
        folder = tmp_path_factory.mktemp(path.stem[:3])
        drafted = draft(path, folder)
        assert drafted.problems == []          # every draft loads back through load_case
        out[path.name[:3]] = (drafted, check_paths([folder]))
    return out


@pytest.mark.parametrize("number", ["000", "001", "003"])
def test_the_good_tutorials_pass(checked, number):
    drafted, results = checked[number]
    assert {r.status for r in results} == {"passed"}, [r.problems for r in results]
    kinds = {w.kind for w in drafted.cases}
    assert kinds == ({"behaviour", "gradient", "values"} if number == "000"
                     else {"behaviour", "gradient"})


def test_002_fails_naming_the_cross_entropy_target_of_4(checked):
    _, results = checked["002"]
    failed = [r for r in results if r.status != "passed"]
    assert [r.name for r in failed] == ["002_19a36fb4192590c5_cells_80-87"]
    assert failed[0].status == "failed"
    assert any("binary cross-entropy in loss = " in p and "its target y is 4, outside [0, 1]" in p
               and "(here it comes out -5.8731)" in p for p in failed[0].problems)


def test_004_fails_saying_backward_was_never_called(checked):
    drafted, results = checked["004"]
    failed = [r for r in results if r.status != "passed"]
    assert [r.name for r in failed] == ["004_849a914171c054d3_cells_10-16"]
    assert failed[0].problems == [
        "step 2 (x.grad, line 19): expected grad/x = 6, but x.grad is None: no backward() ran "
        "before this step (writing y.backward without the parentheses does not call it)"]
    assert "In [15], line 1: y.backward is not called (no parentheses): no backward() runs " \
           "here, so no gradient is computed" in [str(n) for n in drafted.notes]


def test_the_perceptron_is_drafted_as_the_tutorial_wrote_it(checked):
    """The manual derivatives of In [16] meet the autograd graph of In [18] to In [26]."""
    drafted, results = checked["000"]
    case = _yaml(next(w for w in drafted.files if w.name.endswith("_loss_in26")))
    assert case["dtype"] == "float32"
    assert case["inputs"] == {"x": 6.699999809265137, "y": 0.0, "w": {"value": 1.0, "grad": True},
                              "b": {"value": 0.0, "grad": True}}
    assert case["forward"]["loss"] == ("-(y*log(clamp(y_pred, 1e-08, 1 - 1e-08)) + "
                                       "(1 - y)*log(1 - clamp(y_pred, 1e-08, 1 - 1e-08)))")
    assert case["chain_rule"] == {"loss/y_pred": "(y_pred - y)/(y_pred*(1 - y_pred))",
                                  "y_pred/z": "y_pred*(1 - y_pred)", "z/w": "x", "z/b": 1}
    assert case["gradient"]["w"] == "(y_pred - y)/(y_pred*(1 - y_pred))*y_pred*(1 - y_pred)*x"
    assert case["points"] == [{"at": {}, "expect": {"grad/w": 6.691762447357178,
                                                     "grad/b": 0.998770534992218}}]
    result = next(r for r in results if r.name.endswith("_loss_in26"))
    assert result.points[0].gradients["w"]["sympy"] == pytest.approx(6.691762837, rel=1e-9)
    assert [e.edge for e in result.edges] == ["loss/y_pred", "y_pred/z", "z/w", "z/b"]


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_every_number_the_seed_prints_is_a_claim(checked, number):
    drafted, _ = checked[number]
    claimed = set()
    for written in drafted.files:
        claimed |= set(_claims(_yaml(written)))
    printed = _printed_numbers(seed(number).read_text(encoding="utf-8"))
    assert printed and printed <= claimed, sorted(printed - claimed)


def test_a_graph_without_hand_written_derivatives_lists_its_edges_to_write(checked):
    drafted, _ = checked["000"]
    todo = next(w for w in drafted.files if w.to_write)
    assert todo.path.name == "000_7a1dc45c2486f83f_y_in31.yaml.todo" and todo.to_write == ["y/x"]
    assert _yaml(todo)["chain_rule"] == {"y/x": None}
    [result] = check_paths([todo.path])
    assert result.status == "error"
    assert result.problems == [f"{todo.path}:17:8: chain_rule edge still to be written: y/x "
                               "(each the local derivative of node by parent, where it says ~)"]


def test_check_takes_the_notebook_itself_and_names_its_cells(tmp_path):
    result = CliRunner().invoke(main, ["check", str(seed("004")), "--out", str(tmp_path),
                                       "--format", "json"])
    assert result.exit_code == 1
    name = str(seed("004"))
    assert f"FAIL  004_849a914171c054d3_cells_10-16 {name} In [10] to In [16]" in result.output
    assert "step 2 (x.grad, In [16], line 1): expected grad/x = 6, but x.grad is None" \
        in result.output
    assert f"PASS  004_849a914171c054d3_y_in10  {name} In [10]" in result.output
    assert "Traceback" not in result.output


def _yaml(written) -> dict:
    return yaml.safe_load(written.path.read_text(encoding="utf-8"))


def _claims(case: dict):
    """Every number claimed anywhere in a case: expect, points, steps."""
    blocks = [case.get("expect", {})] + [p.get("expect", {}) for p in case.get("points", [])]
    stack = list(case.get("steps", []))
    while stack:
        step = stack.pop()
        blocks.append(step.get("expect", {}))
        stack += step.get("no_grad", []) or []
    for block in blocks:
        for value in block.values():
            yield from _numbers(value)


def _numbers(value):
    if isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield float(value)


def _printed_numbers(text: str) -> set[float]:
    """The numbers a text export shows as output, found without the drafter: tensor reprs
    (not torch.tensor( calls), lines that are a bare number, and the number that ends a
    printed `label: value` line."""
    found = set()
    for line in text.splitlines():
        for inner in re.findall(r"(?<![\w.])tensor\(([^()]*)\)", line):
            data = inner.split(", requires_grad")[0].split(", grad_fn")[0]
            found |= {float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", data)}
        if re.fullmatch(r"-?\d+(\.\d+)?", line.strip()):
            found.add(float(line))
        end = re.search(r"\w \s*: (-?\d+\.\d+)\.?$", line)
        if end and "tensor(" not in line:
            found.add(float(end.group(1)))
    return found
