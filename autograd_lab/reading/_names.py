"""Names and expressions where a case writes them: checked, parsed, and located at
file:line:column in characters."""
from __future__ import annotations

import difflib

from ..case import Expr, Locator, Name, declared, parse, walk
from ..errors import CaseError
from ..ops import CONSTANTS, FUNCTIONS
from ..text import is_name
from ._yaml import Source


def shadowing(names, kind: str) -> list[str]:
    """A note for each declared name that is also a constant's (colah's e = (a + b)(b + 1))
    or a function's (CS231n's node dot): written bare it means the case's own, as in Python;
    a call of the function keeps its meaning."""
    return [f"the {kind} {n} is the case's own {n}, not the constant {n} = "
            f"{CONSTANTS[n][0]:.6g}: wherever {n} is written it means the {kind}"
            if n in CONSTANTS else _function_shadowed(n, kind)
            for n in map(str, names) if n in CONSTANTS or n in FUNCTIONS]


def _function_shadowed(name: str, kind: str) -> str:
    calls = f"{name}(...)" + (f" and .{name}()" if FUNCTIONS[name].method else "")
    return (f"the {kind} {name} is the case's own {name}: written bare, {name} means the "
            f"{kind}; {calls} still call the function {name}")


def check_name(name: str, path: tuple, where: Source) -> None:
    # text.is_name matches whole: a $ would have let a trailing newline through
    if not is_name(name):
        raise where.error(f"{name!r} is not a valid name (a letter, then letters, digits or _)",
                          path)


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
    """(message, col) -> a CaseError at path: what a shape check raises where shapes do not
    meet; col, where given, is the offset of the part of the expression at fault."""
    def fail(message: str, col: int | None = None) -> CaseError:
        offset = 0 if col is None else col + quote_offset(where, path, text)
        return where.error(message, path, text, offset)
    return fail


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
    elif used in FUNCTIONS:   # a function's name, written bare, that the case does not declare
        msg = f"{used} is a function; call it as {used}(...)"
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
