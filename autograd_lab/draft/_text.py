"""Notebook text for a YAML comment or a terminal line: the project's escaping, then cut short.

autograd_lab.text.terminal (markup off) shows every control character and line break as an
escape; what YAML's reader still refuses in a comment (U+FFFE, U+FFFF) is escaped here too."""
from __future__ import annotations

import re

from ..text import terminal

LONGEST = 160  # characters of notebook text shown in one comment or message
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def one_line(text: str, longest: int = LONGEST) -> str:
    """text on one line with nothing a terminal or YAML would act on; cut at longest."""
    shown = _NOT_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", terminal(str(text),
                                                                         markup=False))
    return shown if len(shown) <= longest else shown[:longest] + "…"
