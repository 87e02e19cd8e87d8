"""A problem at a place in a file, as a value: the engine's internal errors carry their
position as fields, so no consumer parses ``"line:col: message"`` text back."""

from __future__ import annotations

from dockfix.lazy_dataclass import dataclass


@dataclass(frozen=True)
class Problem:
    """Something wrong at a 1-based ``line`` and ``column`` (0, 0: the whole file)."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"
