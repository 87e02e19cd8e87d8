"""The text being parsed, and tree-sitter's UTF-8 byte view of it.

tree-sitter reports byte offsets into the UTF-8 encoding, but the model promises
``str`` indices (``Word.text == script[start:end]``), so every offset goes through
``Source.index``.  ASCII text, nearly every RUN, needs no table at all.
"""

from __future__ import annotations

from tree_sitter import Node as TSNode

from dockfix.shell.model import Word

__all__ = ["ShellSource", "TSNode"]


def _utf8_length(char: str) -> int:
    code = ord(char)
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    return 3 if code < 0x10000 else 4


class ShellSource:
    """``text`` plus its UTF-8 bytes and a lazy byte-offset -> ``str``-index table."""

    __slots__ = ("_index", "ascii", "data", "parsed", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        # surrogatepass: any ``str`` encodes, and each code point takes the byte count
        # ``_utf8_length`` gives it, so the index table below stays exact.
        self.data = text.encode("utf-8", "surrogatepass")
        self.ascii = len(self.data) == len(text)
        #: The bytes tree-sitter actually parsed (``_tree`` masks some spans).
        self.parsed = self.data
        self._index: list[int] | None = None

    def index(self, byte_offset: int) -> int:
        """The ``str`` index of a byte offset (a byte inside a character maps to it)."""
        if self.ascii:
            return byte_offset
        if self._index is None:
            table: list[int] = []
            for position, char in enumerate(self.text):
                table.extend([position] * _utf8_length(char))
            table.append(len(self.text))
            self._index = table
        return self._index[min(byte_offset, len(self._index) - 1)]

    def span(self, node: TSNode) -> tuple[int, int]:
        """``(start, end)`` of a node as ``str`` indices."""
        if self.ascii:  # byte offsets are the indices: no calls (this runs for most nodes)
            return node.start_byte, node.end_byte
        return self.index(node.start_byte), self.index(node.end_byte)

    def word(self, node: TSNode) -> Word:
        """The node's source text as a ``Word``."""
        start, end = self.span(node)
        return Word(self.text[start:end], start, end)
