"""Notebook text made safe for a YAML comment or a terminal line: one line, no control characters.

A stand-in until the project's shared escaping module lands; it keeps to the same promise."""
from __future__ import annotations

import unicodedata

LONGEST = 160  # characters of notebook text shown in one comment or message


def one_line(text: str, longest: int = LONGEST) -> str:
    """text on one line: line breaks and tabs shown as \\n and \\t, every other control or
    format character (ANSI escapes, bidi overrides, NUL, ...) as \\uXXXX; cut at longest."""
    out = []
    for ch in str(text):
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
        if len(out) > longest:
            return "".join(out[:longest]) + "…"
    return "".join(out)
