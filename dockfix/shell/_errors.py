"""The one exception the shell parser raises (its own module so every stage can raise it)."""

from __future__ import annotations


class ShellParseError(ValueError):
    """The text is not shell that we can model; rules must leave such a RUN alone.

    ``offset`` is the ``str`` index where the problem was seen (0 when unknown), so
    callers can point at it; ``message`` quotes the offending source text as written.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.message = message
        self.offset = offset
