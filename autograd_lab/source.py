"""Safe YAML reading that remembers where every value stood and how numbers were written."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import CaseError

MAX_BYTES = 1_000_000      # a case is a page of YAML, not a data set
MAX_NODES = 200_000        # bounds alias expansion ("billion laughs")
_TAGS = {"str", "int", "float", "bool", "null", "map", "seq"}
_SCALAR = yaml.SafeLoader("")  # only its scalar constructors are used
# libyaml's composer is ten times faster; the pure one words errors as the tests know them
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Source:
    """Where each value of a case file stands: path tuple -> (line, column), both 1-based."""

    file: str
    marks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    texts: dict[tuple, str] = field(default_factory=dict)  # numbers as written

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
        raw = path.read_bytes()[: MAX_BYTES + 1]
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
        node = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise CaseError(f"invalid YAML: {problem}", source.file, line, col) from None
    except RecursionError:
        raise CaseError("invalid YAML: nested too deeply", source.file) from None
    if node is None:
        raise CaseError("the file is empty", source.file, 1, 1)
    return _Builder(source).build(node, ())


def _compose(text: str):
    """The fast composer when the text is valid YAML; the pure one says what is wrong."""
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording positions."""

    def __init__(self, source: Source):
        self.source = source
        self.count = 0

    def build(self, node, path: tuple, depth: int = 0):
        self.count += 1
        if self.count > MAX_NODES or depth > 50:
            raise self._error(node, "the YAML is too large or nested too deeply "
                                    "(anchors and aliases expand to more than allowed)")
        self.source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        tag = node.tag.rsplit(":", 1)[-1]
        if not node.tag.startswith("tag:yaml.org,2002:") or tag not in _TAGS:
            raise self._error(node, f"the YAML tag {node.tag} is not allowed in a case file")
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
        constructor = {"int": _SCALAR.construct_yaml_int, "float": _SCALAR.construct_yaml_float,
                       "bool": _SCALAR.construct_yaml_bool, "null": _SCALAR.construct_yaml_null}
        if tag in ("int", "float"):
            self.source.texts[path] = node.value
        if tag in constructor:
            return constructor[tag](node)
        return node.value

    def _error(self, node, message: str) -> CaseError:
        mark = node.start_mark
        return CaseError(message, self.source.file, mark.line + 1, mark.column + 1)
