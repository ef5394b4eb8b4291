"""Bad input, case by case: each gives its one-line message at file:line:column, never a
traceback, and never stops the other cases (tests/corpus, and inputs too big to commit)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_lab.check import check_file

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECT = re.compile(r"# expect: ([12]) (.+)")
GOOD = "inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x**2\nchain_rule:\n  y/x: 2*x\n"
CASE = "inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: %s\ngradient:\n  x: 1\n"


def _chain(count: int, formula: str) -> str:
    """A case of `count` nodes, each node{i} a formula in node{i-1}."""
    nodes = "".join(f"  n{i}: {formula.format(p=f'n{i - 1}')}\n" for i in range(1, count + 1))
    return (f"inputs:\n  x: {{value: 0.5, grad: true}}\nforward:\n  n0: x\n{nodes}"
            "gradient:\n  x: 1\n")


def _billion_laughs() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


TENSOR = ("inputs:\n  x: {value: %s, grad: true}\nforward:\n  y: %s\nbackward:\n"
          "  dx: %s\n")
ONES = ", ".join(["1"] * 100)


def _stacked(count: int) -> str:
    """A backward entry stacked from `count` expressions, one a line."""
    rows = "".join(f"    - x[{i % 3}]*2\n" for i in range(count))
    return TENSOR % ("[1.0, 2.0, 3.0]", "(x**2).sum()", "") + rows


# inputs generated here rather than committed: too big, binary, or not UTF-8
GENERATED = {
    "empty": (b"", 2, ":1:1: the file is empty"),
    "comment_only": (b"# nothing here\n", 2, ":1:1: the file is empty"),
    "binary": (bytes(range(256)) * 16, 2, ": this is a binary file, not YAML text"),
    "not_utf8": (GOOD.replace("x**2", "x**2  # caf\xe9").encode("latin-1"), 2,
                 ":4: the file is not UTF-8 text"),
    "alias_bomb": (_billion_laughs().encode(), 2, "the YAML holds more than 100,000 values"),
    "parentheses_100000": ((CASE % ("(" * 100_000 + "x" + ")" * 100_000)).encode(), 2,
                           ":4:6: the expression is 200,001 characters long"),
    "expression_10mb": ((CASE % "+".join(["x"] * 5_000_000)).encode(), 2,
                        ": the file is larger than 1,000,000 bytes"),
    "expression_900kb": ((CASE % "+".join(["x"] * 450_000)).encode(), 2,
                         ":4:6: the expression is 899,999 characters long; at most 10,000"),
    "sum_of_3000": ((CASE % "+".join(["x"] * 3000)).encode(), 2,
                    ":4:6: the expression is too long or deep to parse"),
    "minus_9000": ((CASE % ("-" * 9000 + "x")).encode(), 2,
                   ":4:6: the expression is too long or deep to parse"),
    # libyaml's composer crashed the whole process on this (SIGSEGV)
    "yaml_nested_100000": (("inputs: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(), 2,
                           ":1:58: the YAML is nested more than 50 deep"),
    "yaml_1mb_of_numbers": (("inputs:\n  x: [" + ",".join(["1"] * 490_000) + "]\n").encode(),
                            2, ":2:199997: the YAML holds more than 100,000 values"),
    "doubling_chain": (_chain(16, "sin({p})*{p}").encode(), 2,
                       ":20:8: the output n16 with every node written out (as SymPy "
                       "differentiates it) has 196,606 operations"),
    "nodes_150_deep": (_chain(150, "sin({p})").encode(), 2,
                       ":154:9: the output n150 with every node written out (as SymPy "
                       "differentiates it) is nested 151 deep"),
    "nodes_600": (_chain(600, "{p} + 1").encode(), 2,
                  ":3:1: the case has 1 inputs and 601 nodes; at most 500"),
    "values_50_nodes_of_a_million": (_chain(50, "{p} + 1").replace(
        "{value: 0.5, grad: true}", "{value: {linspace: [0, 1, 1000000]}, grad: true}").replace(
        "gradient:", "  y: sum(n50)\ngradient:").encode(), 2,
        ":3:1: the case holds 53,000,000 values (53 inputs and nodes x 1 points x 1,000,000 "
        "elements); at most 40,000,000 fit in memory"),
    "behaviour_1000_steps_of_ten_million": (
        ("inputs:\n  x: {value: {linspace: [0, 1, 10000000]}, grad: true}\nsteps:\n"
         + "".join(f"  - y{i}: x*{i}\n" for i in range(1000))).encode(), 2,
        ":3:1: the case holds up to 10,020,000,000 values (1002 tensors x 10,000,000 elements)"),
    # tensors: ranks past what torch and numpy hold (64), and a long stacked list
    "tensor_view_of_100_sizes": ((TENSOR % ("[1.0]", f"x.view({ONES}).sum()",
                                            "torch.ones_like(x)")).encode(), 2,
                                 f":4:6: view(x, size=({ONES})): its value would have 100 "
                                 "dimensions; at most 32 are allowed"),
    "tensor_randn_of_100_dimensions": ((TENSOR % (f"{{randn: [{ONES}], seed: 0}}", "x.sum()",
                                                  "torch.ones_like(x)")).encode(), 2,
                                       ":2:15: a value may have at most 32 dimensions, not 100"),
    "tensor_list_40_deep": ((TENSOR % ("[" * 40 + "1.0" + "]" * 40, "x.sum()",
                                       "torch.ones_like(x)")).encode(), 2,
                            ":2:7: a value may have at most 32 dimensions, not 40"),
    "tensor_subscripts_60": ((TENSOR % ("[1.0, 2.0, 3.0]", "x" + "[0]" * 60,
                                        "torch.ones_like(x)")).encode(), 2,
                             ":4:6: x[0][0]: 1 index for a tensor of 0 dimensions"),
    "tensor_backward_stacked_3000": (_stacked(3000).encode(), 1,   # a wrong entry, quoted cut
                                     "backward dx: hand-written [x[0]*2, x[1]*2, x[2]*2, "
                                     "x[0]*2, x[1]*2, x[2]*2, x[0]*2, x[1]*2, x[2]*2, x[0]*2, "
                                     "x[1]*2, x[2]*2, x[0]*2, x[1]*2, x[2]*2, ... has shape "
                                     "(3000,) where autograd's gradient has shape (3,)"),
}


def corpus() -> list[tuple[Path, int, str]]:
    """Every committed bad case with the exit status and message its first line expects."""
    table = []
    for path in sorted(CORPUS.glob("*.yaml")):
        match = EXPECT.fullmatch(path.read_text(encoding="utf-8").split("\n", 1)[0])
        assert match, f"{path.name}: the first line must be '# expect: STATUS MESSAGE'"
        table.append((path, int(match[1]), match[2]))
    return table


def generate(folder: Path) -> list[tuple[Path, int, str]]:
    table = []
    for name, (data, status, message) in GENERATED.items():
        path = folder / f"{name}.yaml"
        path.write_bytes(data)
        table.append((path, status, message))
    folder.joinpath("a_directory.yaml").mkdir()
    table.append((folder / "a_directory.yaml", 2, ": not a regular file but a folder"))
    folder.joinpath("endless.yaml").symlink_to("/dev/zero")
    table.append((folder / "endless.yaml", 2, ": not a regular file"))
    return table


WRONG_EDGE = GOOD.replace("y/x: 2*x", "y/x: 3*x")
WRONG = (1, "chain_rule edge y/x: hand-written 3*x, SymPy 2*x; differs at the base point (x=3)")
# names a case file may have that no committed file can: bytes that are not UTF-8, control
# characters, rich markup; and a folder 990 deep (Path.rglob raised RecursionError)
SPECIAL_NAMES = [os.fsdecode(b"caf\xe9.yaml"), "esc\x1b[2K\x1b[31mred.yaml", "p[/]q.yaml",
                 "[foo]a.yaml", "new\nline.yaml", "bell\x07\u202eevil.yaml"]
DEPTH = 990


@pytest.fixture
def deep_folders():
    """Folders made DEPTH deep are removed a level at a time after the test: shutil.rmtree
    (pytest's own clean-up of its temporary folders) recurses as deep and fails."""
    made: list[Path] = []
    yield made
    for top in made:
        levels = [top]
        while (levels[-1] / "d").is_dir():
            levels.append(levels[-1] / "d")
        for level in reversed(levels):
            for entry in level.iterdir():
                if not entry.is_dir() or entry.is_symlink():
                    entry.unlink()
            level.rmdir()


def special(folder: Path, deep_folders: list) -> list[tuple[Path, int, str]]:
    """Case files whose names or places are the attack: each a wrong edge, failed as such."""
    table = []
    for name in SPECIAL_NAMES:
        path = folder / name
        path.parent.mkdir(exist_ok=True)   # p[/]q.yaml: a folder p[ holding ]q.yaml
        path.write_text(WRONG_EDGE)
        table.append((path, *WRONG))
    deep = folder
    for _ in range(DEPTH):   # a level at a time: mkdir(parents=True) recurses as deep
        deep = deep / "d"
        deep.mkdir()
    deep_folders.append(folder / "d")
    (deep / "deep.yaml").write_text(WRONG_EDGE)
    return table + [(deep / "deep.yaml", *WRONG)]


STATUS = {2: "error", 1: "failed"}
# what must never reach a report file or a terminal raw: C0 but LF, DEL, C1, the line and
# paragraph separators, the bidirectional controls, lone surrogates
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                 "\ud800-\udfff]")


def assert_reported(problem: str, path: Path, status: int, message: str) -> None:
    """The message, after the file's own name where it gives a place, on one line."""
    expected = f"{path}{message}" if message.startswith(":") else message
    assert expected in problem
    assert "\n" not in problem and "Traceback" not in problem
    assert "internal error" not in problem


def test_the_corpus_covers_the_issue():
    assert len(corpus()) + len(GENERATED) >= 40


@pytest.mark.parametrize("path,status,message", corpus(), ids=lambda v: getattr(v, "stem", ""))
def test_each_bad_case_says_what_and_where(path, status, message):
    result = check_file(path)
    assert result.status == STATUS[status]
    assert_reported(result.problems[0], path, status, message)


@pytest.mark.parametrize("name", GENERATED)
def test_each_generated_bad_input_says_what_and_where(tmp_path, name):
    data, status, message = GENERATED[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(data)
    result = check_file(path)
    assert result.status == STATUS[status]
    assert_reported(result.problems[0], path, status, message)


def test_one_run_over_every_bad_input_reports_them_all(tmp_path, deep_folders):
    """The CLI, once, in its own process, every report written: a crash (as libyaml's was,
    or a writer's on a lone surrogate) would lose every case; and nothing a case holds
    reaches the terminal or a report file raw."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    table = [(Path(shutil.copy(p, folder)), s, m) for p, s, m in corpus()] + generate(folder)
    table += special(folder, deep_folders)
    (folder / "zz_good.yaml").write_text(GOOD + "expect:\n  grad/x: 6\n")
    run = subprocess.run([sys.executable, "-m", "autograd_lab.cli", "check", "mixed", "--out",
                          "out", "-j", "2"], cwd=tmp_path, capture_output=True, timeout=600)
    stdout, stderr = (os.fsdecode(b) for b in (run.stdout, run.stderr))
    assert run.returncode == 2, stderr
    assert "Traceback" not in stdout + stderr
    assert "Warning" not in stderr  # numpy's overflow warnings: the problems say it in words
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    by_file = {Path(c["file"]).name: c for c in report["cases"]}
    assert len(by_file) == report["summary"]["cases"] == len(table) + 1
    assert by_file["zz_good.yaml"]["status"] == "passed"
    for path, status, message in table:
        case = by_file[path.name]
        assert case["status"] == STATUS[status], path.name
        assert_reported(case["problems"][0], path.relative_to(tmp_path), status, message)
    assert not (tmp_path / "pwned-by-a-case").exists()  # no payload ran
    assert_shown_safely(stdout, tmp_path / "out")


def assert_shown_safely(stdout: str, out: Path) -> None:
    """No control character from a case on the terminal (not one: into a pipe rich writes no
    colour) nor in report.md or junit.xml; no forged line; report.md holds no raw HTML, and
    links only its own headings and plots, which exist; junit.xml is XML."""
    from markdown_it import MarkdownIt

    assert RAW.search(stdout) is None
    assert not [line for line in stdout.splitlines() if line.startswith("PASS  fake_case")]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert RAW.search(md) is None
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(md)
    inline = [child for t in tokens for child in (t.children or [])]
    assert not [t for t in tokens + inline if t.type in ("html_block", "html_inline")]
    heads = {t.map[0] for t in tokens if t.type == "heading_open"}
    assert len(heads) == md.count("\n## ") + md.count("\n### ") + 1   # none made by a case
    for t in inline:
        if t.type == "image":
            assert t.attrGet("src").startswith("plots/") and (out / t.attrGet("src")).is_file()
        if t.type == "link_open":
            assert t.attrGet("href").startswith("#")
    junit = (out / "junit.xml").read_text(encoding="utf-8")   # text.xml's rule: no C0 but
    assert re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]", junit) is None
    ET.fromstring(junit)   # TAB, LF, CR; no DEL, C1 or lone surrogate


@pytest.mark.slow   # a thousand files through the CLI
def test_a_thousand_files_a_tenth_of_them_bad_are_all_reported(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(900):
        (folder / f"good_{i:03}.yaml").write_text(GOOD.replace("3.0", str(1 + i / 100)))
    bad = corpus()[:100]
    for i, (path, _, _) in enumerate(bad):
        shutil.copy(path, folder / f"bad_{i:03}.yaml")
    run = subprocess.run([sys.executable, "-m", "autograd_lab.cli", "check", "many", "-j", "2",
                          "--out", "out", "--format", "json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 2, run.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    statuses = [status for _, status, _ in bad]
    assert report["summary"] == {"cases": 1000, "passed": 900, "failed": statuses.count(1),
                                 "errors": statuses.count(2)}
    by_file = {Path(c["file"]).name: c for c in report["cases"]}
    assert by_file["good_899.yaml"]["points"][0]["gradients"]["x"]["sympy"] == 2 * 9.99
    for i, (_, status, message) in enumerate(bad):
        case = by_file[f"bad_{i:03}.yaml"]
        assert case["status"] == STATUS[status]
        assert_reported(case["problems"][0], Path("many") / f"bad_{i:03}.yaml", status, message)


WRITER = """
import itertools, json, sys
from pathlib import Path
from autograd_lab.reports import write_atomic
for run in itertools.count():
    write_atomic(Path(sys.argv[1]), json.dumps({"run": run, "cases": ["x" * 100] * 50_000}))
    print(run, flush=True)
"""


def test_a_killed_run_leaves_a_whole_report(tmp_path):
    """Killed while writing, the report is the last one written whole, never half of one."""
    target = tmp_path / "report.json"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                              stdout=subprocess.PIPE, text=True)
    for _ in range(3):
        writer.stdout.readline()  # a few whole reports written; the next is under way
    writer.kill()
    writer.wait()
    report = json.loads(target.read_text())
    assert report["run"] >= 2 and len(report["cases"]) == 50_000


# --- the project's own YAML bound, whichever PyYAML is installed ----------------------------

@pytest.mark.parametrize("text, where", [
    ("inputs: " + "[" * 60 + "]" * 60, (1, 58)),                              # flow brackets
    ("".join(" " * i + "a:\n" for i in range(60)) + " " * 60 + "x\n", (51, 51)),  # indentation
    ("- " * 60 + "x\n", (1, 101)),                                            # block entries
])
def test_too_deep_finds_where_the_nesting_passes_the_bound(text, where):
    from autograd_lab.reading import too_deep
    assert too_deep(text) == where


@pytest.mark.parametrize("text", [
    "inputs: " + "[" * 40 + "]" * 40,
    "x: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['",   # quoted
    "x: C[" + "[" * 100 + "]",                                                # a plain scalar
    "x: [a]  # " + "[" * 100,                                                 # a comment
])
def test_too_deep_counts_no_level_that_is_not_there(text):
    from autograd_lab.reading import too_deep
    assert too_deep(text) is None


def test_a_yaml_library_with_a_bound_of_its_own_still_gives_our_words(tmp_path, monkeypatch):
    """A PyYAML that stops nesting itself (6.0.4 does, at 1,000 levels, in its own words and
    at its own place) does not change what the project says, nor where."""
    import yaml

    def refuse(*args, **kwargs):
        raise yaml.YAMLError("exceeded maximum nesting depth (a library's words)")
    monkeypatch.setattr(yaml, "compose", refuse)
    monkeypatch.setattr(yaml, "parse", refuse)
    path = tmp_path / "deep.yaml"
    path.write_text("inputs: " + "[" * 80 + "]" * 80 + "\n")
    assert check_file(path).problems == [f"{path}:1:58: the YAML is nested more than 50 deep"]
