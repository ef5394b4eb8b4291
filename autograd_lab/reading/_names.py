"""Names and expressions where a case writes them: checked, parsed, and located at
file:line:column in characters."""
from __future__ import annotations

import difflib
import re

from ..case import Expr, Locator, Name, declared, parse, walk
from ..errors import CaseError
from ..ops import CONSTANTS, FUNCTIONS
from ._yaml import Source

# a letter, then letters, digits or _, matched whole: $ would let a trailing newline through
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def shadowing(names, kind: str) -> list[str]:
    """A note for each declared name that is also a constant's (colah's e = (a + b)(b + 1)):
    wherever it is written it means the case's own, as in Python."""
    return [f"the {kind} {n} is the case's own {n}, not the constant {n} = "
            f"{CONSTANTS[n][0]:.6g}: wherever {n} is written it means the {kind}"
            for n in names if n in CONSTANTS]


def check_name(name: str, path: tuple, where: Source) -> None:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise where.error(f"{name!r} is not a valid name (a letter, then letters, digits or _)",
                          path)
    if name in FUNCTIONS:
        raise where.error(f"the name {name!r} shadows the function {name}", path)


def parse_at(text, path: tuple, where: Source) -> tuple[Expr, str]:
    text = text_of(text)
    try:
        return declared(parse(text), where.declared), text
    except CaseError as exc:
        raise located(exc, path, where, text) from None


def located(exc: CaseError, path: tuple, where: Locator, text: str) -> CaseError:
    line, column = where.locate(path)
    if column is not None and exc.column is not None:
        column += exc.column - 1 + quote_offset(where, path, text)
    return CaseError(exc.message, where.file, line, column, exc.text)


def failing(where: Source, path: tuple, text: str):
    """message -> a CaseError at path: what a shape check raises where shapes do not meet."""
    return lambda message: where.error(message, path, text)


def quote_offset(where: Locator, path: tuple, text: str) -> int:
    return 1 if path in where.quoted else 0


def text_of(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def unknown_name(used, name, order, known, where, path, tree, text) -> CaseError:
    col = next((n.col for n in walk(tree) if isinstance(n, Name) and n.id == used), 0)
    if used in order[order.index(name):]:
        msg = f"the node {used!r} is used before it is defined"
    else:
        close = difflib.get_close_matches(used, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"undeclared name {used!r}{hint}"
    line, column = where.locate(path)
    column = column + col + quote_offset(where, path, text) if column else None
    return CaseError(msg, where.file, line, column, text)


def check_names(tree, known: set, where, path, text) -> None:
    for used in sorted(tree.names() - known):
        raise unknown_name(used, "", [""], sorted(known), where, path, tree, text)
