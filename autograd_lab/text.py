"""Text from a case file, made safe for each medium it is shown in: one function a medium.

A case file is untrusted: its names, titles, expressions (comments included), file paths and
every message that quotes them may hold escape sequences, line breaks, markup or bytes that
are not UTF-8. Whatever shows such text passes it through the function of its medium, at the
last step, on the piece that came from the case (never on markup of our own):

    terminal(s)           a rich console (markup on) or, with markup=False, any terminal
    one_line(s)           a message in any plain-text medium: one line
    markdown(s)           running text in Markdown (report.md, the step summary)
    markdown_cell(s)      a Markdown table cell
    code_span(s)          inline code in Markdown (cell=True inside a table)
    mermaid(s)            a quoted Mermaid label: id["..."] or -->|"..."|
    xml(s)                an XML attribute value or element body, given to ElementTree
    plot_label(s)         a matplotlib title, axis label or legend entry
    file_stem(s, taken)   a file name's stem, unique in a run

and a node's or input's name is one only when `is_name` says so (matched whole).

Control characters are shown, never dropped: `\\x1b`, `\\n`, `\\u202e`, as Python writes them,
so that a reader sees what the file holds. Standard library only: everything may import this.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = [
    "NAME",
    "STEM_BYTES",
    "code_span",
    "file_stem",
    "is_name",
    "markdown",
    "markdown_cell",
    "mermaid",
    "one_line",
    "plot_label",
    "terminal",
    "xml",
]

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")   # a node's or input's name; use with fullmatch

# Every character str.splitlines() breaks at, CR LF taken one by one.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{_LINE_BREAKS}]")
# What can move a terminal's cursor, recolour it, set its title, start a line or reorder what
# follows: C0 (ESC, BEL, CR, LF, TAB...), DEL, C1 (CSI, OSC, NEL...), the bidirectional
# marks, embeddings, overrides and isolates, the line and paragraph separators; and lone
# surrogates, which no UTF-8 writer can encode.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(match: re.Match) -> str:
    """A character as Python's repr writes it inside a string: \\n, \\x1b, \\u202e."""
    c = match.group()
    if c in _SHORT:
        return _SHORT[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _visible(s: str) -> str:
    return _CONTROL.sub(_shown, str(s))


def is_name(s) -> bool:
    """A node's or input's name: a letter, then letters, digits or _, and nothing after it
    (`re.match` with `$` would let a trailing newline through)."""
    return isinstance(s, str) and NAME.fullmatch(s) is not None


# --- the terminal -------------------------------------------------------------------------

# rich's own escape pattern (rich.markup.escape): a tag is `[` then a-z # / or @, up to the
# next `]` without another `[`. Only these take a backslash: rich shows any other backslash
# as it is, so escaping more would print stray backslashes.
_RICH_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_TRAILING_BACKSLASHES = re.compile(r"(\\+)$")


def terminal(s: str, markup: bool = True) -> str:
    """Text for a terminal, on one line: every control character shown as an escape, so
    nothing can move the cursor, erase a line, recolour, set the title or start a new line;
    with markup (the default: text put into a rich Console's markup), rich's tags made inert,
    as rich.markup.escape does, and a trailing backslash doubled so that a closing tag written
    after the text still closes (with nothing written after it, rich shows it doubled).

    markup=False: for a sink that does not read rich markup (click.echo, pytest's report,
    print to stderr). rich also turns `:smile:` into an emoji: a Console that shows case
    text wants emoji=False."""
    text = _visible(s)
    if not markup:
        return text
    text = _RICH_TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    return _TRAILING_BACKSLASHES.sub(lambda m: m.group(1) * 2, text)


def one_line(s: str) -> str:
    """A message on one line in any plain-text medium: each line break (LF, CR, VT, FF,
    NEL, the file, group and record separators, U+2028, U+2029) shown as an escape. The
    rest is left as it is; a terminal wants `terminal`."""
    return _LINE_BREAK.sub(_shown, str(s))


# --- Markdown (report.md, GitHub's step summary) -------------------------------------------

# Backslash escapes for what can open or close an inline construct anywhere in a line:
# escapes, code, emphasis, strikethrough, links, images, footnotes, table cells, math, and
# `#` (a heading's closing sequence). `<`, `>` and `&` become entities: no raw HTML, no
# autolink, no entity read from the case. (A bare http:// or www. address is still linked
# by GitHub, which does so after escapes are read: no escape can stop it.)
_MARKDOWN = {**{c: "\\" + c for c in "\\`*_~[]|$#"}, "<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN)
# What starts a block at the start of a line or list item: a bullet, a setext underline,
# an ordered list's number (its . or ) escaped).
_BLOCK_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def markdown(s: str) -> str:
    """Text shown as itself in running Markdown: one line (every line break and control
    character an escape), no raw HTML, no heading, list, quote, code, link, image, emphasis
    or table syntax that takes effect. Leading and trailing whitespace, which Markdown
    would not show, is dropped, so that no indentation makes a code block."""
    text = _visible(s).strip().translate(_MARKDOWN_TABLE)
    return _BLOCK_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1)
                            else f"{m.group(2)}\\{m.group(3)}", text)


def markdown_cell(s: str) -> str:
    """Text for a Markdown table cell: as `markdown`, whose escapes already keep every `|`
    and line break from ending the cell or the row."""
    return markdown(s)


_BACKTICKS = re.compile(r"`+")


def code_span(s: str, cell: bool = False) -> str:
    """Inline code showing s as it is: fenced by more backticks than any run in it, padded
    with a space where it starts or ends with a backtick (or with a space at both ends, which
    Markdown would take off). Inside code nothing is read as Markdown or HTML; line breaks
    and control characters are escapes as elsewhere. In a table cell (cell=True) each `|`
    takes a backslash, which GitHub removes even inside code; a backslash just before a
    pipe cannot be written so in every renderer, so such text is given as escaped text."""
    text = _visible(s)
    if not text:
        return ""
    if cell and "\\|" in text:
        return markdown_cell(s)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    if text[0] == "`" or text[-1] == "`" or (text[0] == text[-1] == " " and text.strip()):
        text = f" {text} "
    if cell:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


# --- Mermaid ------------------------------------------------------------------------------

# Mermaid's entity codes (#name; or #number;), for what could end the quoted label, start a
# comment (%%) or a directive, end a statement, be read as HTML or as a Markdown string,
# or, with a backslash, as an escape.
_MERMAID = str.maketrans({'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
                          ";": "#59;", "`": "#96;", "|": "#124;", "%": "#37;", "\\": "#92;"})


def mermaid(s: str) -> str:
    """Text inside a quoted Mermaid label, node `id["..."]` or edge `-->|"..."|`: one line,
    each character that Mermaid or HTML would read given as Mermaid's entity code, so
    `"` is `#quot;` and `#` is `#35;` (our own `<br/>` between escaped pieces still works)."""
    return _visible(s).translate(_MERMAID)


# --- XML (junit.xml) ----------------------------------------------------------------------

# XML 1.0's Char production leaves out C0 but for TAB, LF and CR, the surrogates, U+FFFE and
# U+FFFF; its section 2.2 asks authors to avoid DEL and C1 too, which a CI page or log that
# prints the XML would pass to a terminal.
_NOT_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CR = re.compile("\r\n?")


def xml(s: str) -> str:
    """Text for an XML attribute value or element body, to be handed to ElementTree.

    Ours: every character XML 1.0 cannot carry, lone surrogates among them, and DEL and C1,
    which it advises against, become U+FFFD; CR and CR LF become LF, as an XML reader would
    turn them in an element's body (so attribute and body read back alike).
    ElementTree's: `<`, `&`, `>` and `"` as entities, and in an attribute LF and TAB as
    character references. So never write the result into XML by hand."""
    return _NOT_XML.sub("\ufffd", _CR.sub("\n", str(s)))


# --- matplotlib (plots/) ------------------------------------------------------------------

def plot_label(s: str) -> str:
    """Text for a matplotlib title, axis label or legend entry: one line, and each `$`
    escaped, so that no pair of them is read as mathtext (a formula that does not parse stops
    the drawing); matplotlib shows `\\$` as `$`, and a backslash before it stays."""
    return _visible(s).replace("$", "\\$")


# --- file names ---------------------------------------------------------------------------

STEM_BYTES = 80       # a stem's most bytes: with a suffix, far below any file system's 255
_NOT_IN_STEM = re.compile(r"[^A-Za-z0-9_.-]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DASHES = re.compile(r"-{2,}")    # "--" is kept for the numbers of repeated names
# names Windows keeps for devices, whatever the extension
_DEVICES = {"con", "prn", "aux", "nul", *(f"{p}{i}" for p in ("com", "lpt") for i in range(10))}


def file_stem(name: str, taken: set[str]) -> str:
    """A file name's stem for name, never one in taken, which it is then added to.

    Only A-Z a-z 0-9 _ . - (accents dropped, anything else a `_`), at most STEM_BYTES, never
    starting or ending in `.` or `-`, never empty, `.`, `..` or a Windows device name. A name
    whose stem is taken is numbered `--2`, `--3`...: a name's own stem never holds `--`, so a
    numbered stem cannot be what another name, earlier or later, is called (cases `a`, `a`,
    `a-1` give a, a--2, a-1 in any order). taken holds stems lower-cased, for the file
    systems that do not tell `A.png` from `a.png`. The same names in the same order give
    the same stems."""
    base = _base(name)
    stem, n = base, 1
    while stem.lower() in taken:
        n += 1
        suffix = f"--{n}"
        stem = _cut(base, STEM_BYTES - len(suffix)) + suffix
    taken.add(stem.lower())
    return stem


def _base(name: str) -> str:
    # a lone surrogate (a byte that was not UTF-8, read with surrogateescape) is no letter
    decomposed = unicodedata.normalize("NFKD", _SURROGATE.sub("_", str(name)))
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _DASHES.sub("-", _NOT_IN_STEM.sub("_", text)).strip(".-")
    head, dot, rest = text.partition(".")
    if head.lower() in _DEVICES:
        text = f"{head}_{dot}{rest}"
    return _cut(text, STEM_BYTES) or "case"


def _cut(text: str, most: int) -> str:
    return text[:most].rstrip(".-")
