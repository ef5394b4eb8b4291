"""Issue 27, draft: a text export built to cost quadratic time, a time bound, output that
never goes through a link or over a file without --force, two notebooks whose names draft to
the same files, a name that is a regex template, and a loop past the unrolling bound."""
from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograd_lab.cli import main
from autograd_lab.draft import _draft, _notebook
from autograd_lab.draft._notebook import PARSE_BUDGET, NotebookError, read

ROOT = Path(__file__).resolve().parent.parent
# a notebook that drafts one behaviour case, whose printed gradient (7) is wrong (x.grad is 6)
WRONG = ("In [1]:\nimport torch\n\nIn [2]:\nx = torch.tensor(3.0, requires_grad=True)\n"
         "y = x ** 2\ny.backward()\nx.grad\n\ntensor(7.)\n")
RIGHT = WRONG.replace("tensor(7.)", "tensor(6.)")


def invoke(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def one_error(run) -> str:
    assert run.exit_code == 2, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    errors = [line for line in run.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in run.output, run.output
    return errors[0]


@pytest.fixture
def parsed(monkeypatch) -> list[int]:
    """The characters ast.parse is given while a notebook is read: the work of telling code
    from output (speed itself is measured in benchmarks/, never in a test)."""
    sizes: list[int] = []
    real = ast.parse

    def counting(source, *args, **kwargs):
        sizes.append(len(source))
        return real(source, *args, **kwargs)
    monkeypatch.setattr(_notebook.ast, "parse", counting)
    return sizes


def test_a_cell_of_3000_blocks_is_read_in_linear_work(tmp_path, parsed):
    """3,000 statements, a blank line between each: every prefix had been parsed again
    (50 s for 60 KB); now each block is parsed alone, once or twice."""
    path = tmp_path / "blocks.txt"
    path.write_text("In [1]:\n" + "".join(f"a{i} = {i}\n\n" for i in range(3000)))
    notebook = read(path)
    assert notebook.cells[0].code.count("\n") + 1 == 2 * 3000 - 1
    assert sum(parsed) < 5 * path.stat().st_size


def test_a_cell_that_never_parses_stops_at_the_parse_bound_and_says_so(tmp_path, parsed):
    path = tmp_path / "open.txt"
    path.write_text("In [1]:\nx = (\n\n" + "".join(f"{i},\n\n" for i in range(3000)))
    notebook = read(path)
    assert sum(parsed) < PARSE_BUDGET + 2 * path.stat().st_size
    assert str(notebook.notes[0]) == (
        "In [1]: its code and what it printed could not be told apart within the bound "
        "(2,000,000 characters parsed): read as code through its line 1")


def test_drafting_has_a_time_limit(tmp_path, monkeypatch):
    def endless(record):
        time.sleep(30)
    monkeypatch.setattr(_draft, "walk", endless)
    path = tmp_path / "nb.txt"
    path.write_text(RIGHT)
    with pytest.raises(NotebookError, match=r"drafting stopped after 0.5 s, the time limit "
                                            r"\(--timeout or \$AUTOGRAD_LAB_TIMEOUT sets it\)"):
        _draft.draft(path, tmp_path / "out", timeout=0.5)
    assert not (tmp_path / "out").exists()


def test_a_second_draft_never_overwrites_an_edited_case_without_force(tmp_path):
    path, out = tmp_path / "nb.txt", tmp_path / "out"
    path.write_text(RIGHT)
    assert invoke("draft", path, "--out", out).exit_code == 0
    case = out / "nb_cells_2-2.yaml"   # and nb_y_in2.yaml.todo, its gradient case to finish
    case.write_text(case.read_text() + "# my own edit\n")
    line = one_error(invoke("draft", path, "--out", out))
    assert line == (f"error: {case} and 1 more exist already (an earlier draft, perhaps "
                    "edited since, or another notebook's of the same name): draft writes only "
                    "new files; give --force to replace them, or another --out")
    assert case.read_text().endswith("# my own edit\n")
    assert invoke("draft", path, "--out", out, "--force").exit_code == 0
    assert "# my own edit" not in case.read_text()


def test_a_link_in_the_output_folder_is_never_written_through(tmp_path):
    path, out = tmp_path / "nb.txt", tmp_path / "out"
    path.write_text(RIGHT)
    assert invoke("draft", path, "--out", out).exit_code == 0
    case = out / "nb_cells_2-2.yaml"
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    case.unlink()
    case.symlink_to(outside)
    assert "exist already" in one_error(invoke("draft", path, "--out", out))
    assert invoke("draft", path, "--out", out, "--force").exit_code == 0
    assert outside.read_text() == "not yours"
    assert not case.is_symlink() and case.read_text().startswith("# Drafted by")


def test_two_notebooks_drafting_to_the_same_names_do_not_replace_each_other(tmp_path,
                                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a b.txt").write_text(RIGHT)
    Path("a_b.txt").write_text(WRONG)
    assert invoke("draft", "a b.txt").exit_code == 0
    case = Path("cases", "a_b", "a_b_cells_2-2.yaml")
    first = case.read_text()
    assert "exist already" in one_error(invoke("draft", "a_b.txt"))
    assert case.read_text() == first


def test_a_notebook_named_like_a_regex_template_is_relabelled_as_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("nb\\9.txt").write_text(WRONG)
    run = invoke("check", "nb\\9.txt", "--format", "json", "--out", "r")
    assert run.exit_code == 1, run.output
    assert "nb\\9.txt In [2], line 4: step 2 (y.backward(), In [2], line 3): expected " \
        "grad/x = 7, but x.grad is 6" in run.output


def test_a_loop_past_the_unrolling_bound_names_the_bound(tmp_path):
    names = ", ".join(f"w{i}" for i in range(3000))
    made = "".join(f"w{i} = torch.tensor(1.0, requires_grad=True)\n" for i in range(3000))
    path = tmp_path / "loop.txt"
    path.write_text(f"In [1]:\nimport torch\n{made}\nIn [2]:\nparameters = [{names}]\n"
                    "for p in parameters:\n    p.requires_grad = True\n")
    run = invoke("draft", path, "--out", tmp_path / "out")
    assert (f"{path}: In [2], line 2: left out: for p in parameters: …: a for statement over "
            "3,000 names: the draft unrolls a loop over at most 1,000") in run.output


def test_a_bug_of_the_draft_is_never_a_silent_pass(tmp_path, monkeypatch):
    """A cell the draft failed on (a bug of ours) is said, and makes `draft` exit 2 and
    `check NOTEBOOK` report an error, never a run that passes without it."""
    from autograd_lab.draft import _walk

    real = _walk._Walk.cell

    def failing(self, cell):
        if cell.label == "In [2]":
            raise ZeroDivisionError("a bug")
        return real(self, cell)
    monkeypatch.setattr(_walk._Walk, "cell", failing)
    path = tmp_path / "nb.txt"
    path.write_text(RIGHT)
    run = invoke("draft", path, "--out", tmp_path / "out")
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert (f"{path}: In [2]: left out: the draft failed on this cell (ZeroDivisionError); "
            "please report it") in run.output
    run = invoke("check", path, "--format", "json", "--out", tmp_path / "r")
    assert run.exit_code == 2, run.output
    assert "left out: the draft failed on this cell (ZeroDivisionError)" in run.output


def test_a_chain_of_a_thousand_names_is_one_line(tmp_path):
    cells = ["In [1]:\nimport torch\n", "In [2]:\nx = torch.tensor(3.0, requires_grad=True)\n"]
    cells += [f"In [{i + 3}]:\nv{i} = {'x' if i == 0 else f'v{i - 1}'} * 1.001\n"
              for i in range(1000)]
    cells.append("In [1003]:\nv999.backward()\nx.grad\n\ntensor(1.)\n")
    path = tmp_path / "chain.txt"
    path.write_text("\n".join(cells))
    line = one_error(invoke("draft", path, "--out", tmp_path / "out"))
    assert line == (f"error: {path}: a graph in it is nested too deep to draft (a case holds "
                    "at most 500 inputs and nodes)")
