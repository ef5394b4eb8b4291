"""The terminal: colour as rich detects it, a progress bar for many cases, lines that wrap
between words and name each problem's place once."""
from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys

from rich.console import Console

from autograd_lab.reports import _terminal as terminal
from autograd_lab.result import CaseResult, Problem


def test_colour_is_rich_s_to_detect(monkeypatch):
    """Off a terminal no colour; FORCE_COLOR turns it on there (the project had forced it
    off whenever output was piped); NO_COLOR turns it off."""
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    assert terminal.console().color_system is None  # pytest's stdout is not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert terminal.console().color_system is not None
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal.console().no_color


class _Tty(io.StringIO):
    """A buffer that says it is a terminal, as a person's is."""

    def isatty(self) -> bool:
        return True


def _at_80_columns() -> Console:
    out = terminal.console()
    out.file, out.width = _Tty(), 80
    out.soft_wrap = False   # as console() makes it on a terminal
    out._force_terminal = True
    return out


def test_a_long_problem_wraps_between_words_under_its_bullet():
    out = _at_80_columns()
    problem = Problem("gradient W: manual gives 1.427380915 where SymPy gives -1.203940982 at "
                      "the base point element [0, 1]: off by 2.63, more than float64's "
                      "tolerance", line=14, column=7)
    terminal.show(CaseResult("missing_transpose", "m.yaml", "failed", problems=[problem]), out)
    lines = [_plain(line) for line in out.file.getvalue().splitlines()]
    assert lines[1].startswith("      - m.yaml:14:7: gradient W: manual gives 1.427380915")
    assert len(lines) == 4 and all(len(line) <= 80 for line in lines)
    assert all(line.startswith(" " * 8) and line[8] != " " for line in lines[2:])
    words = " ".join(line[8:] for line in lines[1:]).split()
    assert words == f"m.yaml:14:7: {problem}".split()   # no word broken


def _plain(line: str) -> str:
    return re.sub("\x1b\\[[0-9;]*m", "", line)


def test_every_verdict_line_carries_file_and_line():
    """PASS, FAIL and ERROR alike: the verdict's line names the place (a log grepped for
    FAIL finds it there), the first problem's line where it has one, and each problem's
    bullet its own file:line:column."""
    out = Console(file=io.StringIO(), width=200)
    message = "s3.yaml:9:10: point 1: x has shape (2,), the input (3,)"
    terminal.show(CaseResult("s3", "s3.yaml", "error", line=9,
                             problems=[Problem(message, 9, 10)]), out)
    terminal.show(CaseResult("z", "z.yaml", "failed", line=1,
                             problems=[Problem("claim z = 2 is false", 17, 3)]), out)
    terminal.show(CaseResult("e", "e.yaml", "error", problems=["e.yaml: not a file"]), out)
    terminal.show(CaseResult("p", "p.yaml", "passed", line=1), out)
    assert [line.rstrip() for line in out.file.getvalue().splitlines()] == [
        f"ERROR {'s3':<28} s3.yaml:9", f"      - {message}",
        f"FAIL  {'z':<28} z.yaml:17", "      - z.yaml:17:3: claim z = 2 is false",
        f"ERROR {'e':<28} e.yaml", "      - e.yaml: not a file",
        f"PASS  {'p':<28} p.yaml:1"]


def test_a_problem_prints_as_written_not_as_emoji(monkeypatch):
    out = terminal.console()
    out.file = io.StringIO()
    problem = "a.yaml:4:8: a slice takes no step (a:b, not a:b:c): x[0:3:2] :smile:"
    terminal.show(CaseResult("s", "a.yaml", "error", problems=[problem]), out)
    assert out.file.getvalue().splitlines()[1] == f"      - {problem}"


def test_many_cases_on_a_terminal_show_a_bar_and_only_what_failed():
    out = Console(file=_Tty(), force_terminal=True, width=100)
    results = [CaseResult(f"c{i}", "f.yaml", "passed") for i in range(25)]
    results[3] = CaseResult("broken", "f.yaml", "failed", problems=["edge y/x is wrong"])
    with terminal.progress(out, len(results)) as advance:
        assert advance.shown
        for r in results:
            terminal.show(r, out, quiet=advance.shown)
            advance()
    text = out.file.getvalue()
    assert "broken" in text and "edge y/x is wrong" in text and "c4 " not in text


def test_few_cases_or_no_terminal_list_every_case():
    out = Console(file=io.StringIO(), force_terminal=False)
    with terminal.progress(out, 500) as advance:
        assert not advance.shown
    with terminal.progress(Console(file=io.StringIO(), force_terminal=True), 3) as advance:
        assert not advance.shown


def test_summary_table_counts_verdicts_and_names_failures():
    out = Console(file=io.StringIO(), width=100, no_color=True)
    results = [CaseResult("a", "a.yaml", "passed", worst=1e-9),
               CaseResult("b", "b.yaml", "failed", worst=6.0),
               CaseResult("c", "c.yaml", "error")]
    terminal.summary(results, out, "reports")
    lines = out.file.getvalue().splitlines()
    assert lines[1].split() == ["PASS", "1", "1e-09"]
    assert lines[2].split() == ["FAIL", "1", "6", "b"]
    assert lines[3].split() == ["ERROR", "1", "c"]
    assert lines[-1] == "3 cases: 1 passed, 1 failed, 1 error  (reports in reports)"


def test_one_case_is_one_case_and_a_clean_run_names_none():
    out = Console(file=io.StringIO(), width=100)
    terminal.summary([CaseResult("a", "a.yaml", "passed")], out)
    assert out.file.getvalue() == "1 case: 1 passed, 0 failed, 0 errors\n"
    out = Console(file=io.StringIO(), width=100)
    terminal.summary([CaseResult("a", "a.yaml", "passed", worst=1e-9),
                      CaseResult("b", "b.yaml", "passed")], out)
    head, *_ = out.file.getvalue().splitlines()
    assert head.split() == ["verdict", "cases", "worst", "gap"]   # no empty "which"


def test_the_bar_shows_for_more_than_20_cases():
    on_a_terminal = Console(file=_Tty(), force_terminal=True)
    with terminal.progress(on_a_terminal, 20) as advance:
        assert not advance.shown
    with terminal.progress(on_a_terminal, 21) as advance:
        assert advance.shown


def test_case_text_reaches_the_terminal_as_text_and_markup_as_itself():
    """A path with rich markup (cases/p[/]q.yaml) had raised MarkupError; [foo]a.yaml had
    shown as a.yaml; an escape sequence had erased the line; :smile: had become an emoji."""
    out = terminal.console()   # the project's own console, into a buffer
    out.file = io.StringIO()
    out.width = 200
    bad = CaseResult("p[/]q", "cases/p[/]q.yaml", "failed", line=1,
                     problems=["hand-written 3*x # \x1b[2K\x1b[32mPASS [bold]x[/] :smile:"])
    terminal.show(bad, out)
    terminal.show(CaseResult("[foo]a", "cases/[foo]a.yaml", "passed"), out)
    text = out.file.getvalue()
    assert "p[/]q" in text and "cases/p[/]q.yaml:1" in text and "cases/[foo]a.yaml" in text
    assert "hand-written 3*x # \\x1b[2K\\x1b[32mPASS [bold]x[/] :smile:" in text
    assert "\x1b[2K" not in text and "😄" not in text


LONG = ("inputs:\n  x: {value: 3.0, grad: true}\nforward:\n  y: x**2\nchain_rule:\n"
        "  y/x: 3*x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*x\n")


def _on_a_pty(args, env) -> bytes:
    """What the command prints on a terminal (a pseudo-terminal, 80 columns by default)."""
    leader, follower = pty.openpty()
    done = subprocess.Popen([sys.executable, "-m", "autograd_lab", *args], stdin=follower,
                            stdout=follower, stderr=follower, env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:   # the follower closed: all is read
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert done.wait(timeout=120) == 1, out
    return out


def _env(**set_) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm-256color", **set_}


def test_no_color_prints_no_escape_byte_on_a_terminal(tmp_path):
    """rich's NO_COLOR drops colours but had kept bold and dim: no escape at all now."""
    (tmp_path / "long.yaml").write_text(LONG)
    args = ["check", str(tmp_path / "long.yaml"), "--format", "json", "--out", str(tmp_path)]
    coloured = _on_a_pty(args, _env())
    assert b"\x1b[" in coloured   # a terminal has colour,
    plain = _on_a_pty(args, _env(NO_COLOR="1"))
    assert b"\x1b" not in plain and b"FAIL  long" in plain   # and with NO_COLOR none


def test_force_color_into_a_pipe_keeps_each_line_whole(tmp_path):
    """Coloured for a CI log, but no terminal's width: a problem is one line, however long."""
    (tmp_path / "long.yaml").write_text(LONG)
    done = subprocess.run([sys.executable, "-m", "autograd_lab", "check",
                           str(tmp_path / "long.yaml"), "--format", "json", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120,
                          env=_env(FORCE_COLOR="1"))
    assert done.returncode == 1
    assert "\x1b[" in done.stdout   # coloured
    bullets = [_plain(line) for line in done.stdout.splitlines() if ": chain_rule edge" in line]
    assert len(bullets) == 1 and len(bullets[0]) > 120
    assert bullets[0].endswith("differs at the base point (x=3) by 3 (9 vs 6)")


def test_a_worst_gap_at_rounding_level_is_said_so_never_in_digits():
    """5.6e-17 here is 1.1e-16 on another CPU (issue 22): its digits are never shown."""
    noise = CaseResult("a", "a.yaml", "passed", worst=5.6e-17, worst_at_rounding=True)
    assert terminal.line(noise).endswith("a.yaml  worst gap at rounding level")
    real = CaseResult("b", "b.yaml", "passed", worst=2e-9, worst_at_rounding=False)
    assert terminal.line(real).endswith("b.yaml  worst gap 2e-09")
    out = Console(file=io.StringIO(), width=100, no_color=True)
    terminal.summary([noise, CaseResult("c", "c.yaml", "passed", worst=1e-17,
                                        worst_at_rounding=True)], out)
    assert out.file.getvalue().splitlines()[1].split() == ["PASS", "2", "at", "rounding",
                                                            "level"]
