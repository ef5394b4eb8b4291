"""Names shared by the reports: each case's heading anchor in report.md."""
from __future__ import annotations

import re

from ..result import CaseResult
from ..text import terminal

_NOT_IN_SLUG = re.compile(r"[^\w\- ]")


def anchors(results: list[CaseResult]) -> list[str]:
    """GitHub's heading anchors for the case headings (github-slugger's rules): taken from
    the text the heading shows (its escapes as a reader sees them), lower-cased, everything
    but letters, digits, `_`, `-` and spaces dropped, spaces as `-`; a slug already given,
    by a heading or by a number added to one, gets the next free `-1`, `-2`..., so that
    cases `a`, `a` and `a-1` link a, a-1 and a-1-1, each its own heading."""
    seen: dict[str, int] = {}
    out = []
    for r in results:
        shown = terminal(r.name, markup=False).strip() or "case"
        first = slug = _NOT_IN_SLUG.sub("", shown.lower()).replace(" ", "-")
        while slug in seen:
            seen[first] += 1
            slug = f"{first}-{seen[first]}"
        seen[slug] = 0
        out.append(slug)
    return out
