"""Which case files a run checks: pytest's habits on the command line (-k EXPR, --lf).

-k takes pytest's keyword expressions (`x_squared or neuron`, `not slow and mlp`): each
word matches, case-insensitively and as a substring, a name the file is known by, as
pytest's -k matches a test's name and its parents' names: the case's name (its `name:`, else
the file's stem), the file's name and its folders. Written here rather than taken from
pytest, which is no dependency of the command line."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

TOKEN = re.compile(r"\(|\)|[^\s()]+")
OPERATORS = ("and", "or", "not")
NAME_KEY = re.compile(r"""^name[ \t]*:[ \t]*(["']?)([^"'\n#]*?)\1[ \t]*(?:#.*)?$""", re.MULTILINE)
SNIFF_BYTES = 1 << 16   # of a file read to find its `name:` (it comes first in a case)


class BadExpression(ValueError):
    """A -k expression that cannot be read: one line saying where."""


class Keywords:
    """A compiled -k expression: Keywords("a and not b").matches({"a", "c"}) -> True."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = TOKEN.findall(text)
        self.at = 0
        self.tree = self._or() if self.tokens else ("true",)
        if self.at < len(self.tokens):
            self._fail(f"unexpected {self.tokens[self.at]!r}")

    def matches(self, names: Iterable[str]) -> bool:
        folded = [n.casefold() for n in names]
        return _evaluate(self.tree, lambda word: any(word.casefold() in n for n in folded))

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _or(self):
        tree = self._and()
        while self._peek() == "or":
            self.at += 1
            tree = ("or", tree, self._and())
        return tree

    def _and(self):
        tree = self._not()
        while self._peek() == "and":
            self.at += 1
            tree = ("and", tree, self._not())
        return tree

    def _not(self):
        token = self._peek()
        if token is None:
            self._fail("it ends where a name or '(' was expected")
        self.at += 1
        if token == "not":
            return ("not", self._not())
        if token == "(":
            tree = self._or()
            if self._peek() != ")":
                self._fail("a '(' is not closed")
            self.at += 1
            return tree
        if token in OPERATORS or token == ")":
            self._fail(f"{token!r} where a name or '(' was expected")
        return ("word", token)

    def _fail(self, why: str):
        raise BadExpression(f"-k {self.text!r}: {why}")


def _evaluate(tree, has) -> bool:
    kind = tree[0]
    if kind == "word":
        return has(tree[1])
    if kind == "not":
        return not _evaluate(tree[1], has)
    if kind == "and":
        return _evaluate(tree[1], has) and _evaluate(tree[2], has)
    if kind == "or":
        return _evaluate(tree[1], has) or _evaluate(tree[2], has)
    return True


def names(path: Path) -> set[str]:
    """The names -k matches for a case file: its case's name, its file's name and stem, and
    its folders' names."""
    found = {path.stem, path.name, *path.parent.parts} - {"", ".", "/"}
    declared = _declared_name(path)
    if declared:
        found.add(declared)
    return found


def _declared_name(path: Path) -> str | None:
    """The case's `name:` as written at the top level, read as text (the file is not parsed
    for a selection: a broken one is still selected by its file's name)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    found = NAME_KEY.search(text)
    return found[2].strip() if found and found[2].strip() else None


def keyword_selected(files: list[Path], chosen: Keywords) -> list[Path]:
    """The files -k EXPR keeps, in order."""
    return [f for f in files if chosen.matches(names(f))]


def last_failed(report: Path) -> set[str] | None:
    """The files of the cases that failed or were in error in the run that wrote report.json
    (its `file` entries, as that run named them); None when there is no such report to read."""
    try:
        cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
        return {c["file"] for c in cases if c["status"] in ("failed", "error")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def failed_selected(files: list[Path], failed: set[str]) -> list[Path]:
    """The files among these that failed last time, in order; a path matches as written or
    resolved, so that `cases/x.yaml` and `./cases/x.yaml` are one file."""
    wanted = {_key(f) for f in failed}
    return [f for f in files if str(f) in failed or _key(f) in wanted]


def _key(path) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return str(path)
