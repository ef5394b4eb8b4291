"""The terminal: no colour off a terminal or with NO_COLOR, a progress bar for many cases."""
from __future__ import annotations

import io

from rich.console import Console

from autograd_lab.reports import _terminal as terminal
from autograd_lab.result import CaseResult


def test_no_colour_with_no_color_or_off_a_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal.console().no_color
    monkeypatch.delenv("NO_COLOR")
    assert terminal.console().no_color  # pytest's stdout is not a terminal


def test_a_problem_prints_as_written_not_as_emoji(monkeypatch):
    out = terminal.console()
    out.file = io.StringIO()
    problem = "a.yaml:4:8: a slice takes no step (a:b, not a:b:c): x[0:3:2] :smile:"
    terminal.show(CaseResult("s", "a.yaml", "error", problems=[problem]), out)
    assert out.file.getvalue().splitlines()[1] == f"      - {problem}"


def test_many_cases_on_a_terminal_show_a_bar_and_only_what_failed():
    out = Console(file=io.StringIO(), force_terminal=True, width=100)
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
    assert lines[-1] == "3 cases: 1 passed, 1 failed, 1 errors  (reports in reports)"


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
