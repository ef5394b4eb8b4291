"""Safe YAML reading that remembers where every value stood and how numbers were written."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import CaseError

MAX_BYTES = 1_000_000      # a case is a page of YAML, not a data set
MAX_NODES = 100_000        # values, aliases counted each time used ("billion laughs")
MAX_DEPTH = 50             # mappings and lists inside each other
# libyaml's composer recurses in C and crashes the process (SIGSEGV) somewhere past 20,000
# levels, and composes 100,000 values a second: text that could nest deeply or hold more
# values than allowed is first walked as libyaml's flat event stream, which stops early
_PRECHECK_OPENERS = 5_000
_PRECHECK_BYTES = 100_000
_TAGS = {"str", "int", "float", "bool", "null", "map", "seq"}
_SCALAR = yaml.SafeLoader("")  # only its scalar constructors are used
_CONSTRUCTORS = {"int": _SCALAR.construct_yaml_int, "float": _SCALAR.construct_yaml_float,
                 "bool": _SCALAR.construct_yaml_bool, "null": _SCALAR.construct_yaml_null}
# libyaml's composer is ten times faster; the pure one words errors as the tests know them
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Source:
    """Where each value of a case file stands: path tuple -> (line, column), both 1-based."""

    file: str
    marks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    texts: dict[tuple, str] = field(default_factory=dict)  # numbers as written
    quoted: set[tuple] = field(default_factory=set)  # strings written in quotes
    # the names the case declares (inputs, nodes, dims): a constant's name among them (e)
    # is read as the name
    declared: set[str] = field(default_factory=set)
    # a block of statements (`forward: |`): path -> (the file's line of its first line, the
    # column where its lines begin), so that a statement's problem is placed in the file
    blocks: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: tuple) -> tuple[int | None, int | None]:
        """The position of path, or of its nearest located ancestor."""
        path = tuple(path)
        while path not in self.marks and path:
            path = path[:-1]
        return self.marks.get(path, (None, None))

    def error(self, message: str, path: tuple = (), text: str | None = None,
              offset: int = 0) -> CaseError:
        line, column = self.locate(path)
        if column is not None:
            column += offset
        return CaseError(message, self.file, line, column, text)


def read(path: str | Path) -> tuple[object, Source]:
    """Read a case file into plain Python data and a Source of positions."""
    path = Path(path)
    source = Source(str(path))
    try:
        if path.exists() and not path.is_file():  # a FIFO, or a link to /dev/zero, never ends
            raise CaseError("not a regular file" + (" but a folder" if path.is_dir() else
                                                    ": a case is a YAML text file"),
                            str(path))
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CaseError(f"cannot read the file ({exc.strerror})", str(path)) from None
    if len(raw) > MAX_BYTES:
        raise CaseError(f"the file is larger than {MAX_BYTES:,} bytes", str(path))
    if b"\0" in raw:
        raise CaseError("this is a binary file, not YAML text", str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CaseError("the file is not UTF-8 text", str(path), line) from None
    return parse(text, source), source


def parse(text: str, source: Source) -> object:
    """Compose YAML safely (no tags are constructed) and build plain data from the nodes."""
    try:
        node = _compose(text, source)
    except (yaml.YAMLError, RecursionError) as exc:
        # PyYAML has bounds of its own (6.0.4's libyaml stops at 1,000 levels, in its own
        # words, from a look-ahead far past our bound): our bound is found by our own reading
        deep = too_deep(text)
        if deep is not None:
            raise CaseError(_TOO_DEEP, source.file, *deep) from None
        if isinstance(exc, RecursionError):
            raise CaseError(_TOO_DEEP, source.file) from None
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise CaseError(f"invalid YAML: {problem}", source.file, line, col) from None
    if node is None:
        raise CaseError("the file is empty", source.file, 1, 1)
    return _Builder(source, text).build(node, ())


def _compose(text: str, source: Source):
    """The fast composer when the text is valid YAML; the pure one says what is wrong."""
    big = len(text) > _PRECHECK_BYTES
    if big or _openers(text) >= _PRECHECK_OPENERS:
        _precheck(text, source)
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        if big:  # the pure composer would take seconds to reach the same error
            raise
        return yaml.compose(text, Loader=yaml.SafeLoader)


def _openers(text: str) -> int:
    """An upper bound on how deep the text can nest: every mark that can open a level
    (indentation nests too, but 1 MB of it reaches only about 1,400 levels)."""
    return sum(text.count(c) for c in ("[", "{", "- ", "? "))


def _precheck(text: str, source: Source) -> None:
    """Refuse deep nesting and too many values from libyaml's events, before composing."""
    depth = count = 0
    for event in yaml.parse(text, Loader=_FAST_LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        count += isinstance(event, yaml.NodeEvent)
        if depth > MAX_DEPTH or count > MAX_NODES:
            mark = event.start_mark
            assert mark is not None   # the parser marks every event it makes
            raise CaseError(_TOO_DEEP if depth > MAX_DEPTH else _TOO_MANY, source.file,
                            mark.line + 1, mark.column + 1)


def too_deep(text: str, limit: int = MAX_DEPTH) -> tuple[int, int] | None:
    """(line, column) where the text first nests deeper than limit, read without PyYAML:
    block levels by indentation and `- `/`? ` entries, flow levels by brackets outside
    quotes and comments. A level is counted as YAML opens one; a mapping and a sequence
    that share a column count once, so this never finds a level that is not there."""
    blocks: list[int] = []   # the columns of the open block levels
    flow = 0                 # open [ and {
    quote = ""               # the quote a flow scalar is inside, across lines
    for number, line in enumerate(text.splitlines(), 1):
        at = 0
        if not flow and not quote:
            content = line.lstrip(" ")
            if not content or content.startswith("#"):
                continue
            at = len(line) - len(content)
            while blocks and blocks[-1] > at:
                blocks.pop()
            if not blocks or blocks[-1] < at:
                blocks.append(at)
            while line.startswith(("- ", "? "), at) or line[at:] in ("-", "?"):
                at += 2
                blocks.append(at)
                if len(blocks) > limit:
                    return number, at + 1
            if len(blocks) > limit:
                return number, at + 1
        found = _flow(line, at, blocks, flow, quote, limit)
        if isinstance(found[0], tuple):
            return number, found[0][1]
        flow, quote = found
    return None


def _flow(line: str, at: int, blocks: list, flow: int, quote: str, limit: int):
    """Scan one line for flow brackets: (new flow depth, open quote), or ((hit, column), _)."""
    value_starts = {at} if not flow else set()
    i = at
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                if quote == "'" and line.startswith("''", i):
                    i += 1
                else:
                    quote = ""
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        elif ch in "'\"" and (flow or i in value_starts):
            quote = ch
        elif ch in "[{" and (flow or i in value_starts):
            flow += 1
            if len(blocks) + flow > limit:
                return (True, i + 1), ""
        elif ch in "]}" and flow:
            flow -= 1
        elif ch == ":" and not flow and line.startswith(": ", i):
            value_starts.add(i + 2 + len(line[i + 2:]) - len(line[i + 2:].lstrip(" ")))
        i += 1
    return flow, quote


_TOO_DEEP = f"the YAML is nested more than {MAX_DEPTH} deep"
_TOO_MANY = (f"the YAML holds more than {MAX_NODES:,} values (an alias counts each time it "
             "is used); generate a long vector with {linspace: [lo, hi, n]} or "
             "{uniform: [lo, hi], shape: [n]}")


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording positions."""

    def __init__(self, source: Source, text: str = ""):
        self.source = source
        self.count = 0
        self.text = text

    def build(self, node, path: tuple, depth: int = 0):
        self.count += 1
        if self.count > MAX_NODES:
            raise self._error(node, _TOO_MANY)
        if depth > MAX_DEPTH:
            raise self._error(node, _TOO_DEEP)
        self.source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        tag = node.tag.rsplit(":", 1)[-1]
        if not node.tag.startswith("tag:yaml.org,2002:") or tag not in _TAGS:
            shown = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise self._error(node, f"the YAML tag {shown} is not allowed: a case file holds "
                                    "plain numbers, text, lists and mappings, nothing else")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node, path, tag)

    def _mapping(self, node, path, depth) -> dict:
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag.endswith(":merge"):
                raise self._error(key_node, "YAML merge keys (<<) are not allowed in a case file")
            key = self.build(key_node, path + ("<key>",), depth + 1)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise self._error(key_node, "a mapping key must be a plain name")
            if key in out:
                raise self._error(key_node, f"duplicate key {key!r}")
            out[key] = self.build(value_node, path + (key,), depth + 1)
            if not isinstance(value_node, yaml.ScalarNode):
                # a block below its key is best pointed at by the key's line
                mark = key_node.start_mark
                self.source.marks[path + (key,)] = (mark.line + 1, mark.column + 1)
        return out

    def _scalar(self, node, path, tag):
        if tag in ("int", "float"):
            self.source.texts[path] = node.value
        if node.style in ("'", '"'):  # the text starts one column after its mark
            self.source.quoted.add(path)
        if node.style == "|":
            self.source.blocks[path] = self._block_start(node)
        if tag in _CONSTRUCTORS:
            return _CONSTRUCTORS[tag](node)
        return node.value

    def _block_start(self, node) -> tuple[int, int]:
        """A literal block's first line (the one after `|`) and its lines' column: the
        indentation of its first line that is not blank, as YAML finds it."""
        first = node.start_mark.line + 1            # 0-based: the line after the indicator
        lines = self.text.split("\n", node.end_mark.line + 1)
        for line in lines[first:node.end_mark.line + 1]:
            if line.strip():
                return first + 1, len(line) - len(line.lstrip(" ")) + 1
        return first + 1, 1

    def _error(self, node, message: str) -> CaseError:
        mark = node.start_mark
        return CaseError(message, self.source.file, mark.line + 1, mark.column + 1)
