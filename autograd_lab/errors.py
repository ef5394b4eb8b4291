"""The one error a case file can raise: what is wrong, and where."""
from __future__ import annotations


class CaseError(Exception):
    """A problem with a case file, located at file:line:column where known."""

    def __init__(self, message: str, file: str = "", line: int | None = None,
                 column: int | None = None, text: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.text = text
        self.kind = "gradient"   # the kind of case it was found in: "gradient" or "behaviour"
        self.shapes = False      # shapes an operation cannot take (a hand-written entry's: wrong)

    @property
    def where(self) -> str:
        parts = [self.file or "<case>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        shown = f": {self.text}" if self.text and self.text not in self.message else ""
        return f"{self.where}: {self.message}{shown}"
