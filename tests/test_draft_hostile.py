"""A hostile notebook is drafted as far as it can be, the rest said a line each, and nothing in
it runs: cells that import os, open files, use __import__ or exec, megabytes of code, a million
lines of output, nesting past every parser's depth, control characters, broken files."""
from __future__ import annotations

import json
import re
import time

from click.testing import CliRunner

from autograd_lab.api import check_paths
from autograd_lab.cli import main

from .notebooks import printed, write_notebook

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def code_cell(count: int, source: str, *outputs) -> dict:
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "source": source,
            "outputs": list(outputs)}


def stdout(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def hostile(tmp_path):
    deep = "torch.sin(" * 150 + "x" + ")" * 150
    cells = [
        code_cell(1, "import os\nos.system('touch ran_os_system')"),
        code_cell(2, "open('ran_open.txt', 'w').write('ran')"),
        code_cell(3, "__import__('os').system('touch ran_dunder_import')\n"
                     "exec(\"open('ran_exec.txt', 'w')\")"),
        code_cell(4, "x0 = 1\n" * 400_000),                      # 2.8 MB of code
        code_cell(5, "for i in range(10**6):\n    print(i)",
                  stdout("".join(f"{i}\n" for i in range(10**6)))),
        code_cell(6, "import torch\nx = torch.tensor(2.0, requires_grad=True)\ny = x**3\n"
                     "y.backward()\nx.grad",
                  {"output_type": "execute_result", "execution_count": 6, "metadata": {},
                   "data": {"text/plain": "tensor(12.)"}}),
        code_cell(7, f"z = {deep}"),
        code_cell(8, "q = '\x1b[2J\u202e' # \x1b[31mred\nq = x * 2 \x0c\nprint('\x1b[31m', q)",
                  stdout("\x1b[31m tensor(4., grad_fn=<MulBackward0>)\n")),
        code_cell(9, "def f(:\n    pass"),
        code_cell(10, "w = " + "1 + " * 20_000 + "1"),          # past Python's own parser
    ]
    path = tmp_path / "hostile.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_a_hostile_notebook_drafts_what_it_can_and_runs_nothing(tmp_path, monkeypatch):
    path = hostile(tmp_path)
    monkeypatch.chdir(tmp_path)       # where the cells would have written their files
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "out")])
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert seconds < 30
    for name in ("ran_os_system", "ran_open.txt", "ran_dunder_import", "ran_exec.txt"):
        assert not (tmp_path / name).exists()
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert not any(CONTROL.search(line) for line in lines)
    said = [line[len(f"{path}: "):] for line in lines if line.startswith(f"{path}: ")]
    assert said[:6] == [
        "In [1], line 1: left out: import os: a module the draft does not read (nothing of it "
        "is used)",
        "In [1], line 2: left out: os.system('touch ran_os_system'): a call the draft does not "
        "follow",
        "In [2], line 1: left out: open('ran_open.txt', 'w').write('ran'): a call the draft "
        "does not follow",
        "In [3], line 1: left out: __import__('os').system('touch ran_dunder_import'): a call "
        "the draft does not follow",
        "In [3], line 2: left out: exec(\"open('ran_exec.txt', 'w')\"): a call the draft does "
        "not follow",
        "In [4]: left out: the cell's code is 2,800,000 characters long (at most 100,000 are "
        "read)"]
    assert said[6:9] == [
        "In [5]: output cut to its first 2,000 lines and 200,000 characters",
        "In [5], line 1: left out: for i in range(10**6): …: a for statement: the draft follows "
        "straight-line code",
        "In [7], line 1: left out: z = torch.sin(torch.sin(torch.sin(torch.sin(torch.sin(torch…: "
        "the expression is nested more than 100 deep"]
    assert said[9].startswith("In [8], line 1: left out: q = '\\x1b[2J\\u202e': the constant ")
    assert said[10] == "In [9], line 1: left out: the cell is not valid Python (invalid syntax)"
    assert said[11] == "In [10]: left out: the cell is nested too deep to parse"
    assert len(said) == 12
    # what could be drafted was: the gradient of x**3, as a behaviour case that passes
    [case] = [p for p in (tmp_path / "out").iterdir() if p.suffix == ".yaml"]
    assert case.name == "hostile_cells_6-8.yaml"
    text = case.read_text(encoding="utf-8")
    assert not CONTROL.search(text)
    assert "  # In [7], line 1: left out: z = torch.sin(" in text
    [checked] = check_paths([case])
    assert checked.status == "passed", checked.problems
    assert [c.claim for c in checked.claims] == [
        "step 2 (y.backward()): grad/x", "step 3 (q = x*2): q", "step 3 (q = x*2): grad_fn/q"]


def test_files_that_are_not_notebooks_are_one_line_each(tmp_path):
    cases = {
        "broken.ipynb": ('{"cells": [{"cell_type": "code",', ":1:33: the notebook's JSON is "
                                                              "broken ("),
        "binary.ipynb": (b"\xff\xfe\x00garbage", ":1: the notebook is not UTF-8 text"),
        "nested.ipynb": ("[" * 100_000 + "]" * 100_000, ": the notebook's JSON is nested too "
                                                         "deep"),
        "list.ipynb": ("[1, 2, 3]", ": not a Jupyter notebook that nbformat can read"),
        "plain.txt": ("just some text\n", ": no `In [n]:` cell markers: neither an .ipynb nor "
                                          "a text export of one"),
    }
    for name, (content, said) in cases.items():
        path = tmp_path / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, name
        assert result.output.startswith(f"error: {path}{said}"), result.output
        assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_a_notebook_too_large_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.ipynb"
    with open(path, "wb") as f:
        f.truncate(32_000_001)
    result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output == f"error: {path}: the notebook is larger than 32,000,000 bytes\n"


def test_check_reports_an_unreadable_notebook_as_an_error_and_checks_the_rest(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{", encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text("inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x**2\n"
                    "gradient:\n  x: 2*x\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(broken), str(good), "--out",
                                       str(tmp_path / "r"), "--format", "json"])
    assert result.exit_code == 2
    assert f"{broken}:1:2: the notebook's JSON is broken" in result.output
    assert "PASS  good" in result.output


def test_cells_past_the_bound_are_left_out_with_a_count(tmp_path):
    cells = [code_cell(i, f"a{i} = {i}") for i in range(1, 2_006)]
    path = tmp_path / "many.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0
    assert f"{path}: In [2001]: left out: 5 code cells from here on (at most 2,000 are read)" \
        in result.output.splitlines()


def test_draws_too_large_or_out_of_range_are_left_out_a_line_each(tmp_path):
    """A draw of 10^12 elements, a randint whose range does not fit int64 or holds nothing, a
    size of 10^12: each one line, nothing drawn, and what follows still drafted (the generator
    they drew from is then in an unknown state, which is said too)."""
    path = write_notebook(
        tmp_path / "huge.ipynb",
        ("import torch\ng = torch.Generator().manual_seed(0)\n"
         "big = torch.randn(10**6, 10**6, generator=g)\n"
         "labels = torch.randint(0, 10**30, (3,), generator=g)\n"
         "n = 10**12\nwide = torch.randn(n, 2)\nempty = torch.randint(5, 0, (2,))\n"
         "w = torch.randn(3, generator=g, requires_grad=True)\n"
         "x = torch.tensor([1.0, 2.0, 3.0])\nloss = (w * x).sum()\nloss.backward()",),
        ("dw = x\nprint(torch.allclose(dw, w.grad))", printed("True\n")))
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["draft", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 30
    assert "Traceback" not in result.output
    said = [line[len(f"{path}: "):] for line in result.output.splitlines()
            if line.startswith(f"{path}: ")]
    assert said == [
        "In [1]: no behaviour case drafted for In [1] to In [2]: none of its steps shows a "
        "value, a gradient or an error to compare (it would check nothing)",
        "In [1], line 3: left out: big = torch.randn(10 ** 6, 10 ** 6, generator=g): a draw of "
        "1,000,000,000,000 elements; at most 10,000,000 are written in a case",
        "In [1], line 4: left out: labels = torch.randint(0, 10 ** 30, (3,), generator=g): "
        "torch.randint's range [0, 10**30) must hold a value and fit int64",
        "In [1], line 6: left out: wide = torch.randn(n, 2): a draw of 2,000,000,000,000 "
        "elements; at most 10,000,000 are written in a case",
        "In [1], line 7: left out: empty = torch.randint(5, 0, (2,)): torch.randint's range "
        "[5, 0) must hold a value and fit int64",
        "In [1], line 8: not the notebook's numbers: w is drawn from g after a statement that "
        "uses it was left out (In [1], line 3), which a case cannot draw (it draws each value "
        "from a fresh generator): seed 0 stands in, and no number that depends on w is claimed",
        "1 of 1 hand-written derivative in a drafted case"]
    [result] = check_paths([tmp_path / "out" / "huge_loss_in1.yaml"])
    assert result.status == "passed", result.problems     # dw = x, checked on the stand-in w
