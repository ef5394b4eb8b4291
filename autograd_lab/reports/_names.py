"""Names shared by the reports: each case's heading anchor, which its plot files share."""
from __future__ import annotations

import re

from ..result import CaseResult


def anchors(results: list[CaseResult]) -> list[str]:
    """GitHub's heading anchors for the case headings, numbered where names repeat."""
    seen: dict[str, int] = {}
    out = []
    for r in results:
        slug = re.sub(r"[^\w\- ]", "", r.name.lower()).replace(" ", "-") or "case"
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.append(slug if n == 0 else f"{slug}-{n}")
    return out
