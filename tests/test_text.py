"""text.py: case text made safe for each medium, from issue 19's own attacks, and properties
over any text.

The Markdown is read back by markdown-it-py (CommonMark with raw HTML on, plus GFM's tables
and strikethrough; it comes with rich), the terminal through a real rich Console, the XML
through ElementTree: each test asserts what a reader would see."""
from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console
from rich.errors import MarkupError

from autograd_lab.text import (
    STEM_BYTES,
    code_span,
    file_stem,
    is_name,
    markdown,
    markdown_cell,
    mermaid,
    one_line,
    plot_label,
    terminal,
    xml,
)

# issue 19's attacks
CURSOR = "2*x # \x1b[1A\x1b[2K\x1b[32mPASS\x1b[0m"      # a comment that erases the FAIL line
OSC = "\x1b]0;title\x07"                                 # sets the terminal's title
FORGED = "bad edge\nPASS  fake_case  cases/fake.yaml:1"  # a second, forged line
TITLE = "x\r# Heading\r![img](http://evil/x.png)"      # a heading and a remote image
SCRIPT = "<script>alert(1)</script>"
SURROGATE = "\udfff"
NOT_UTF8 = os.fsdecode(b"caf\xe9")                       # 'caf\udce9', as a file name reads

# pure functions of microseconds: many examples, the same ones every run
PROPERTY = settings(max_examples=400, derandomize=True, deadline=None)


def shown(markup: str, **options) -> str:
    """What a terminal receives when the project's kind of Console prints markup."""
    out = Console(file=io.StringIO(), force_terminal=True, highlight=False, soft_wrap=True,
                  emoji=False, **options)
    out.print(markup)
    return out.file.getvalue()


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["y", "y_pred", "W1", "a_b_c2"])
def test_a_name_is_a_letter_then_letters_digits_or_underscores(name):
    assert is_name(name)


@pytest.mark.parametrize("name", ["y\n", "y\r", " y", "y ", "1y", "_y", "", "y-1", "ÿ", "y\x00",
                                  "y.z", None, 3])
def test_anything_else_is_no_name_not_even_with_a_trailing_newline(name):
    assert not is_name(name)


# --- the terminal -------------------------------------------------------------------------

def test_a_cursor_movement_reaches_the_terminal_as_text():
    assert terminal(CURSOR) == "2*x # \\x1b[1A\\x1b[2K\\x1b[32mPASS\\x1b[0m"
    assert shown(terminal(CURSOR)) == "2*x # \\x1b[1A\\x1b[2K\\x1b[32mPASS\\x1b[0m\n"


def test_an_osc_title_and_a_bell_are_shown():
    assert terminal(OSC) == "\\x1b]0;title\\x07"
    assert shown(terminal(OSC)) == "\\x1b]0;title\\x07\n"


def test_a_message_cannot_forge_a_second_line():
    assert shown(f"[red]FAIL[/]  {terminal(FORGED)}") == \
        "\x1b[31mFAIL\x1b[0m  bad edge\\nPASS  fake_case  cases/fake.yaml:1\n"


@pytest.mark.parametrize("char, escape", [
    ("\r", "\\r"), ("\t", "\\t"), ("\x00", "\\x00"), ("\x7f", "\\x7f"), ("\x85", "\\x85"),
    ("\x9b", "\\x9b"), ("\x9d", "\\x9d"), ("\u202e", "\\u202e"), ("\u2066", "\\u2066"),
    ("\u2069", "\\u2069"), ("\u200f", "\\u200f"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"),
    (SURROGATE, "\\udfff")])
def test_each_kind_of_control_character_is_shown_as_python_writes_it(char, escape):
    assert terminal(f"a{char}b") == f"a{escape}b"
    assert terminal(f"a{char}b", markup=False) == f"a{escape}b"


@pytest.mark.parametrize("path", ["cases/p[/]q.yaml", "[foo]a.yaml", "[bold red]x[/bold red]",
                                  "[link=http://evil]x[/link]", "[@click=quit]x", "a\\[b]c"])
def test_rich_markup_in_a_path_prints_as_written(path):
    assert shown(terminal(path)) == path + "\n"
    assert shown(f"[dim]{terminal(path)}[/] after") == f"\x1b[2m{path}\x1b[0m after\n"


def test_unescaped_markup_is_what_killed_the_run_and_hid_a_folder():
    with pytest.raises(MarkupError):
        shown("cases/p[/]q.yaml")
    assert shown("[foo]a.yaml") == "a.yaml\n"


def test_the_escapes_for_rich_are_rich_s_own_and_only_before_a_tag():
    assert terminal("cases/p[/]q.yaml") == "cases/p\\[/]q.yaml"
    assert terminal("[foo]a.yaml") == "\\[foo]a.yaml"
    assert terminal("x[1, 2] [Foo] [") == "x[1, 2] [Foo] ["   # not tags: shown as they are
    assert terminal("a\\[b]") == "a\\\\\\[b]"


def test_a_trailing_backslash_cannot_escape_the_closing_tag_after_it():
    for text in ("a\\", "a\\\\", "a\\\\\\"):
        assert shown(f"[dim]{terminal(text)}[/] z") == f"\x1b[2m{text}\x1b[0m z\n"


def test_without_markup_only_the_control_characters_change():
    assert terminal("[foo]a.yaml\x1b[2K\\", markup=False) == "[foo]a.yaml\\x1b[2K\\"


def test_emoji_codes_print_as_written_on_a_console_without_emoji():
    assert shown(terminal("grad :smile: x")) == "grad :smile: x\n"


def test_one_line_escapes_each_line_break_and_nothing_else():
    assert one_line(FORGED) == "bad edge\\nPASS  fake_case  cases/fake.yaml:1"
    assert one_line("a\r\nb\x0bc\x0cd\x1ce\x85f\u2028g\u2029h") == \
        "a\\r\\nb\\x0bc\\x0cd\\x1ce\\x85f\\u2028g\\u2029h"
    assert one_line("x\x1b[1A\t[b]") == "x\x1b[1A\t[b]"


# --- Markdown -----------------------------------------------------------------------------

RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def read(document: str) -> list[tuple[str, str]]:
    """(type, content) of every token and inline child a Markdown reader makes."""
    out = []
    for token in RENDERER.parse(document):
        out.append((token.type, token.content if token.type == "inline" else ""))
        out += [(child.type, child.content) for child in token.children or ()]
    return out


def test_a_title_with_carriage_returns_makes_no_heading_link_or_image():
    assert markdown(TITLE) == "x\\\\r\\# Heading\\\\r!\\[img\\](http://evil/x.png)"
    text = "x\\r# Heading\\r![img](http://evil/x.png)"
    assert read(f"*{markdown(TITLE)}*\n") == [
        ("paragraph_open", ""), ("inline", f"*{markdown(TITLE)}*"), ("em_open", ""),
        ("text", text), ("em_close", ""), ("paragraph_close", "")]
    assert read(f"## {markdown(TITLE)}\n") == [
        ("heading_open", ""), ("inline", markdown(TITLE)), ("text", text),
        ("heading_close", "")]


def test_a_script_in_a_cell_is_text_in_one_row():
    assert markdown_cell(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    cell = markdown_cell(f"2*x # {SCRIPT}\n| b | c |")
    assert cell == "2\\*x \\# &lt;script&gt;alert(1)&lt;/script&gt;\\\\n\\| b \\| c \\|"
    html = RENDERER.render(f"| edge | verdict |\n|---|---|\n| {cell} | ok |\n")
    assert "<script>" not in html
    assert html.count("<tr>") == 2 and html.count("<td>") == 2
    assert "<td>2*x # &lt;script&gt;alert(1)&lt;/script&gt;\\n| b | c |</td>" in html


@pytest.mark.parametrize("text, escaped", [
    ("1. first", "1\\. first"), ("2) second", "2\\) second"), ("- item", "\\- item"),
    ("+ item", "\\+ item"), ("=== ", "\\==="), ("> quote", "&gt; quote"),
    ("    indented code", "indented code"), ("```fence", "\\`\\`\\`fence"),
    ("*em* _u_ ~s~ $m$", "\\*em\\* \\_u\\_ \\~s\\~ \\$m\\$"),
    ("[x]: http://evil", "\\[x\\]: http://evil"), ("&lt; &#60;", "&amp;lt; &amp;\\#60;"),
    ("<http://evil>", "&lt;http://evil&gt;"), ("a\\", "a\\\\"), ("x - 1", "x - 1"),
    (SURROGATE, "\\\\udfff"), ("a\u2028# b", "a\\\\u2028\\# b"), ("a\x85b", "a\\\\x85b")])
def test_markdown_block_and_inline_syntax_is_escaped(text, escaped):
    assert markdown(text) == escaped


def test_markdown_text_in_a_list_item_reads_back_as_itself():
    for text in ("1. first", "- item", "# h", "    code", "---", "> q", "a\\", "x*y*z"):
        tokens = read(f"- {markdown(text)}\n")
        assert [t for t, _ in tokens] == ["bullet_list_open", "list_item_open", "paragraph_open",
                                         "inline", "text", "paragraph_close", "list_item_close",
                                         "bullet_list_close"], text
        assert tokens[4][1] == text.strip()


def test_code_spans_take_a_longer_fence_than_any_backticks_inside():
    assert code_span("y*(1 - y)") == "`y*(1 - y)`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`a``") == "``` `a`` ```"
    assert code_span(" a ") == "`  a  `"
    assert code_span("") == ""
    assert code_span(f"x {SCRIPT}\n") == "`x <script>alert(1)</script>\\n`"
    assert read(f"x {code_span('`a``')}\n")[3] == ("code_inline", "`a``")


def test_a_code_span_in_a_cell_escapes_its_pipes():
    assert code_span("a|b", cell=True) == "`a\\|b`"
    assert code_span("a|b") == "`a|b`"
    html = RENDERER.render(f"| e |\n|---|\n| {code_span('a|b`', cell=True)} |\n")
    assert "<td><code>a|b`</code></td>" in html
    # a backslash before a pipe has no form every renderer reads alike: plain escaped text
    assert code_span("a\\|b", cell=True) == "a\\\\\\|b"


# --- Mermaid ------------------------------------------------------------------------------

def test_mermaid_labels_carry_entity_codes():
    assert mermaid('y = "x" # 1; <b>&`|%\\') == \
        "y = #quot;x#quot; #35; 1#59; #lt;b#gt;#amp;#96;#124;#37;#92;"
    assert mermaid("a\nb") == "a#92;nb"
    assert mermaid(TITLE) == "x#92;r#35; Heading#92;r![img](http://evil/x.png)"


# --- XML ----------------------------------------------------------------------------------

def test_xml_replaces_what_xml_cannot_carry():
    assert xml(f"a{SURROGATE}b\x1b[2K\x00\x7f\x9b\ufffe") == \
        "a\ufffdb\ufffd[2K\ufffd\ufffd\ufffd\ufffd"
    assert xml("a\r\nb\rc\n\td") == "a\nb\nc\n\td"
    assert xml(SCRIPT) == SCRIPT     # ElementTree's part


def test_xml_text_reads_back_through_elementtree():
    message = xml(f"{FORGED} {SCRIPT} & \"q\"\x1b")
    case = ET.Element("testcase", {"name": message})
    ET.SubElement(case, "failure", {"message": message}).text = message
    back = ET.fromstring(ET.tostring(case, encoding="unicode"))
    assert back.get("name") == back.find("failure").get("message") == message
    assert back.find("failure").text == message


# --- matplotlib ---------------------------------------------------------------------------

def drawn_title(title: str) -> bytes:
    from matplotlib.figure import Figure
    figure = Figure(figsize=(2, 1), dpi=20)
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_a_case_name_with_dollars_is_no_formula_in_a_plot_title():
    name = "$\\frac{$ x $1$"
    # read as mathtext, it stopped the drawing (matplotlib's words are its own: no match)
    with pytest.raises(ValueError):  # noqa: PT011
        drawn_title(f"{name}: dy/dx")
    assert plot_label(name) == "\\$\\frac{\\$ x \\$1\\$"
    assert drawn_title(plot_label(f"{name}: dy/dx\n{SURROGATE}")).startswith(b"\x89PNG")
    assert plot_label("a\\$\n\x1b") == "a\\\\$\\n\\x1b"


# --- file names ---------------------------------------------------------------------------

@pytest.mark.parametrize("names, stems", [
    (["a", "a", "a-1"], ["a", "a--2", "a-1"]),
    (["a-1", "a", "a"], ["a-1", "a", "a--2"]),
    (["a", "a-1", "a"], ["a", "a-1", "a--2"]),
    (["a", "A", "a"], ["a", "A--2", "a--3"]),
    (["x y", "x_y", "x/y"], ["x_y", "x_y--2", "x_y--3"]),
])
def test_repeated_names_are_numbered_apart_from_every_real_name(names, stems):
    taken: set[str] = set()
    assert [file_stem(n, taken) for n in names] == stems


@pytest.mark.parametrize("name, stem", [
    ("perceptron_bce", "perceptron_bce"), ("", "case"), (".", "case"), ("..", "case"),
    ("../../etc/passwd", "_.._etc_passwd"), ("con", "con_"), ("CON.x", "CON_.x"), ("lpt1", "lpt1_"),
    ("café", "cafe"), (NOT_UTF8, "caf_"), (SURROGATE, "_"), ("y\n", "y_"), ("-rf", "rf"),
    ("a--b", "a-b"), ("a.", "a"), ("x\x1b[2Ky", "x_2Ky"), ("日本", "_"),
])
def test_a_stem_is_sanitised(name, stem):
    assert file_stem(name, set()) == stem


def test_a_200_character_name_is_cut_and_still_numbered_apart():
    name = "p" * 200
    taken: set[str] = set()
    first, second = file_stem(name, taken), file_stem(name, taken)
    assert first == "p" * STEM_BYTES
    assert second == "p" * (STEM_BYTES - 3) + "--2"


# --- properties ---------------------------------------------------------------------------

SPECIAL = "\\[]`|*_#<>&\"%;!-+=.()$~:/@ \t\n\r\x0b\x0c\x1b\x07\x00\x7f\x85\x9b\u2028\u2029\u202e" \
          "\u2066\ufeff\u00a0bdi1"
texts = st.text(st.one_of(st.characters(),
                          st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF,
                                        categories=["Cs"]),
                          st.sampled_from(SPECIAL)), max_size=40)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069\ud800-\udfff]")


@PROPERTY
@given(texts)
@example("[/]")
@example("a\\")
@example("\\[b]\\")
def test_terminal_text_has_no_control_character_and_prints_as_itself(text):
    plain = terminal(text, markup=False)
    assert not CONTROL.search(plain) and len(plain.splitlines()) <= 1
    assert not CONTROL.search(terminal(text))
    # through rich with markup on: exactly the plain text, whatever markup it held
    assert shown(f"[bold]>{terminal(text)}[/]<", color_system=None) == f">{plain}<\n"


@PROPERTY
@given(texts)
def test_one_line_is_one_line(text):
    assert len(one_line(text).splitlines()) <= 1


@PROPERTY
@given(texts)
@example("1. x")
@example("| a |")
def test_a_markdown_cell_is_one_row_of_plain_text(text):
    cell = markdown_cell(text)
    assert not re.search("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029<]", cell)
    assert not re.search(r"(?<!\\)(\\\\)*\|", cell)        # each | after an odd run of \
    tokens = read(f"| h |\n|---|\n| {cell} |\n")
    kinds = [t for t, _ in tokens]
    assert kinds.count("tr_open") == 2 and kinds.count("td_open") == 1
    inside = [c for t, c in tokens[kinds.index("td_open") + 1:kinds.index("td_close")]
              if t not in ("inline",)]
    assert "".join(inside) == terminal(text, markup=False).strip()
    assert set(kinds) <= {"table_open", "thead_open", "tr_open", "th_open", "inline", "text",
                          "th_close", "tr_close", "thead_close", "tbody_open", "td_open",
                          "td_close", "tbody_close", "table_close"}


@PROPERTY
@given(texts)
def test_markdown_text_reads_back_as_itself_in_a_list_item_and_a_heading(text):
    expected = terminal(text, markup=False).strip()
    for document, kinds in ((f"- {markdown(text)}\n", {"bullet_list_open", "list_item_open",
                                                       "paragraph_open", "paragraph_close",
                                                       "list_item_close", "bullet_list_close"}),
                            (f"## {markdown(text)}\n", {"heading_open", "heading_close"})):
        tokens = read(document)
        assert {t for t, _ in tokens} - {"inline", "text"} <= kinds
        assert "".join(c for t, c in tokens if t == "text") == expected


@PROPERTY
@given(texts, st.booleans())
def test_a_code_span_reads_back_as_the_text(text, cell):
    span = code_span(text, cell=cell)
    document = f"| h |\n|---|\n| {span} |\n" if cell else f"x {span}\n"
    tokens = read(document)
    expected = terminal(text, markup=False)
    code = [c for t, c in tokens if t == "code_inline"]
    assert code == ([expected] if expected and span.startswith("`") else [])
    if not code and expected:
        assert "".join(c for t, c in tokens if t == "text").endswith(expected.strip())


MERMAID_CODES = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}


@PROPERTY
@given(texts)
def test_a_mermaid_label_holds_only_entity_codes_and_decodes_to_the_text(text):
    label = mermaid(text)
    assert not re.search(r'["<>&;`|%\\\n]', re.sub(r"#\w+;", "", label))
    assert "#" not in re.sub(r"#\w+;", "", label)
    decoded = re.sub(r"#(\w+);", lambda m: MERMAID_CODES.get(m.group(1))
                     or chr(int(m.group(1))), label)
    assert decoded == terminal(text, markup=False)


@PROPERTY
@given(texts)
def test_xml_text_is_xml_and_reads_back(text):
    clean = xml(text)
    element = ET.Element("e", {"a": clean})
    element.text = clean
    back = ET.fromstring(ET.tostring(element, encoding="unicode").encode("utf-8"))
    assert back.get("a") == clean and (back.text or "") == clean


@PROPERTY
@given(texts)
def test_every_dollar_of_a_plot_label_is_escaped(text):
    label = plot_label(text)
    assert label.count("$") == label.count("\\$")    # matplotlib's rule: no mathtext
    assert label.replace("\\$", "$") == terminal(text, markup=False)


@PROPERTY
@given(st.lists(texts, max_size=12))
@example(["a", "a", "a-1"])
@example(["p" * 200, "p" * 200, "p" * 80])
def test_file_stems_are_short_safe_unique_and_deterministic(names):
    taken: set[str] = set()
    stems = [file_stem(n, taken) for n in names]
    for stem in stems:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", stem)
        assert len(stem.encode("utf-8")) <= STEM_BYTES
        assert stem not in (".", "..") and stem[0] not in ".-"
    assert len({s.lower() for s in stems}) == len(stems)
    again: set[str] = set()
    assert [file_stem(n, again) for n in names] == stems
    # a name's own stem never holds "--": a numbered stem is nobody's name
    assert all("--" not in file_stem(n, set()) for n in names)
