"""Printed outputs read as numbers, with the digits as printed kept as text.

`tensor(6.7012, grad_fn=<NegBackward0>)`, `tensor([0.6667, 1.3333, 2.0000])`, a bare `6`, the
number after a label in a print, an `.item()`: each becomes a Shown, whose written digits are
the claim (a claim holds to the digits printed). Nothing is evaluated: this is a small reader."""
from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"
TENSOR = r"(?:Parameter containing:\n)?tensor\([^()]*\)"  # a tensor's repr holds no ( or )
SLOT = (rf"(?:{TENSOR}|{NUMBER}|None|True|False|<\w+ object at 0x[0-9a-fA-F]+>"
        r"|'[^'\n]*')")
_NUMBER = re.compile(rf"^{NUMBER}$")
_GRAD_FN = re.compile(r"^<(\w+) object at 0x[0-9a-fA-F]+>$")
_KEYWORD = re.compile(r",\s*(\w+)=(<\w+>|'[^']*'|[\w.]+)")
_TOKEN = re.compile(rf"\s*(\[|\]|,|\.\.\.|{NUMBER})")
MAX_ELEMENTS = 10_000   # of one printed tensor
MAX_NESTING = 8         # of its lists
MATCHED_CHARS = 20_000  # of a cell's output, matched against its prints


@dataclass(frozen=True)
class Shown:
    """One printed value. written: the digits as printed ('6.7012', or nested lists of them),
    None where there is nothing to claim (None printed, nan, a summarised tensor)."""

    kind: str                      # "tensor", "number", "none", "bool", "grad_fn", "text"
    written: object = None
    grad_fn: str | None = None     # the name in grad_fn=<...>
    requires_grad: bool = False    # requires_grad=True printed
    dtype: str | None = None       # dtype=torch.float64 printed
    text: str = ""                 # as printed

    @property
    def number(self) -> bool:
        return self.kind in ("tensor", "number") and self.written is not None


def parse(text: str) -> Shown | None:
    """A printed value, or None when the text is not one."""
    t = text.strip()
    if t == "None":
        return Shown("none", text=t)
    if t in ("True", "False"):
        return Shown("bool", t == "True", text=t)
    if _NUMBER.match(t):
        return Shown("number", _digits(t, tensor=False), text=t)
    grad_fn = _GRAD_FN.match(t)
    if grad_fn:
        return Shown("grad_fn", grad_fn=grad_fn.group(1), text=t)
    if t.startswith("'") and t.endswith("'") and len(t) > 1:
        return Shown("text", text=t)
    parameter = t.startswith("Parameter containing:")
    if parameter:
        t = t[len("Parameter containing:"):].strip()
    if t.startswith("tensor(") and t.endswith(")"):
        return _tensor(t, parameter)
    return None


def _tensor(t: str, parameter: bool) -> Shown | None:
    inner = t[len("tensor("):-1]
    data, keywords = _data_and_keywords(inner)
    if data is None:
        return None
    options = dict(_KEYWORD.findall(keywords))
    grad_fn = options.get("grad_fn", "").strip("<>") or None
    written = _elements(data)
    if written is _BAD:
        return None
    dtype = options.get("dtype", "").replace("torch.", "") or None
    return Shown("tensor", written, grad_fn,
                 parameter or options.get("requires_grad") == "True", dtype, text=t)


def _data_and_keywords(inner: str) -> tuple[str | None, str]:
    inner = inner.strip()
    if not inner.startswith("["):
        data, _, rest = inner.partition(",")
        return data.strip(), ("," + rest if rest else "")
    depth = 0
    for i, ch in enumerate(inner):
        depth += (ch == "[") - (ch == "]")
        if depth == 0:
            return inner[: i + 1], inner[i + 1:]
    return None, ""


_BAD = object()


def _elements(data: str):
    """'6.7000' -> '6.7000'; '[1., 2.]' -> ['1', '2']; a summarised tensor ('...') -> None."""
    tokens, pos, data = [], 0, data.strip()
    while pos < len(data):
        m = _TOKEN.match(data, pos)
        if not m:
            return _BAD
        tokens.append(m.group(1))
        pos = m.end()
        if len(tokens) > 4 * MAX_ELEMENTS:
            return None
    if "..." in tokens:
        return None  # torch printed only the corners: no element can be claimed by position
    return _nest(tokens)


def _nest(tokens: list[str]):
    stack: list[list] = [[]]
    for token in tokens:
        if token == "[":
            if len(stack) > MAX_NESTING:
                return _BAD
            stack.append([])
        elif token == "]":
            if len(stack) < 2:
                return _BAD
            done = stack.pop()
            stack[-1].append(done)
        elif token != ",":
            digits = _digits(token, tensor=True)
            if digits is None:
                return None  # nan or inf: nothing to claim
            stack[-1].append(digits)
    if len(stack) != 1 or len(stack[0]) != 1:
        return _BAD
    return stack[0][0]


def _digits(text: str, tensor: bool) -> str | None:
    """The digits as a claim: torch's '6.' and Python's '3.0' are the integer they print."""
    t = text.strip()
    if t.lstrip("+-") in ("nan", "inf"):
        return None
    if tensor and t.endswith("."):
        return t[:-1] or "0"
    if not tensor and re.fullmatch(r"[-+]?\d+\.0", t):
        return t[:-2]
    return t


def all_values(text: str) -> bool:
    """Whether a block of lines is nothing but printed values (used to find where code ends)."""
    pieces, current, depth = [], [], 0
    for line in text.splitlines():
        current.append(line)
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            pieces.append("\n".join(current))
            current, depth = [], 0
    if current or not pieces:
        return False
    return all(_value_like(p) for p in pieces)


def _value_like(piece: str) -> bool:
    """A printed value, or a tuple or list of them: (tensor(14.), None)."""
    p = piece.strip()
    if len(p) > 1 and p[0] + p[-1] in ("()", "[]") and not p.startswith("[["):
        return all(_value_like(item) for item in _items(p[1:-1]))
    shown = parse(p)
    return (shown is not None and shown.kind != "text") or _quoted(p)


def _items(inner: str) -> list[str]:
    """The items of a tuple's or list's repr, split at its own commas."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += (ch in "([") - (ch in ")]")
        if ch == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    return [item for item in items if item.strip()]


def _quoted(piece: str) -> bool:
    p = piece.strip()
    return len(p) > 1 and p[0] == p[-1] and p[0] in "'\""


def match(parts: list[str | None], text: str) -> tuple[list[Shown | None], str] | None:
    """Match printed text against a print's shape: literal parts (str) and value slots (None).
    Returns each slot's value (None where it is not a value) and the text after, or None."""
    pattern = "".join(re.escape(p) if p is not None else f"({SLOT})" for p in parts)
    head = text[:MATCHED_CHARS]
    found = re.match(pattern, head if head.endswith("\n") else head + "\n")
    if not found:
        return None
    return [parse(g) for g in found.groups()], text[found.end():]
