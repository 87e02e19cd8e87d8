"""Parse with tree-sitter-bash, working around the ways it misreads sh.

tree-sitter-bash is an error-tolerant editor grammar; on a few inputs it returns a
tree without any ``ERROR`` node that still says something other than sh would.
Each workaround below rewrites bytes *without changing their number* (so every
offset stays valid; words are sliced from the original text anyway) and parses
again.

* Backticks: sh ends a ```...``` substitution at the first backtick no backslash
  escapes, whatever quotes lie between.  tree-sitter reads ```a` `b``` as one
  substitution holding ``a` `b`` (its grammar has a "`` ` ` ``" concatenation
  token), and in ``pkg `# why` pkg2`` its comment swallows the closing backtick.
  So each substitution tree-sitter opens is replaced by ``x`` characters, one
  placeholder word; its inside is parsed on its own (backslash escapes removed as
  sh does) and must be valid too, so masking never hides a syntax error.
* Assignments: ``--opt=v`` is taken for an assignment to a variable ``--opt``;
  when only such words follow, tree-sitter then reports a missing command name.
  On an error tree the ``=`` of each assignment with an invalid name becomes
  ``,`` (``_convert`` reads a valid tree's invalid assignments as plain words).
* Dropped text: ``apt-key add - 2>/dev/null`` comes back without the ``-`` and
  without an error.  Every byte not covered by a token must be a blank, so
  ``unread`` text is an error, except a lone ``-`` there, which becomes ``x``.
"""

from __future__ import annotations

import functools

from tree_sitter import Language, Parser

from dockfix import lazy_re
from dockfix.shell._source import TSNode
from dockfix.shell._words import WORD_NODES

#: A name sh accepts on the left of ``=`` (``a[i]=x``, bash's array element, has one too).
VALID_NAME = lazy_re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Backticks inside backticks (each level escaped once more) deeper than this are refused.
MAX_NESTING = 16

#: Nodes whose whole span counts as read by the coverage check.
_READ_WHOLE = WORD_NODES | {"command_name", "comment", "heredoc_body"}
# What may lie between two tokens: blanks, newlines and line continuations.
_BETWEEN_TOKENS = lazy_re.compile(rb"(?:[ \t\r\n\v\f]|\\\r?\n)*")
_LONE_DASH = lazy_re.compile(rb"-(?=[ \t])")
#: The one-byte gaps ``_BETWEEN_TOKENS`` accepts.
_BLANK_BYTES = frozenset(b" \t\r\n\v\f")


class TreeError(Exception):
    """Text tree-sitter cannot be trusted on; ``offset`` is a byte offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@functools.cache
def parser() -> Parser:
    import tree_sitter_bash

    return Parser(Language(tree_sitter_bash.language()))


def parse_bytes(data: bytes, nesting: int = 0) -> tuple[TSNode, bytes]:
    """The root node of ``data``'s tree after the workarounds, and the bytes it was parsed from.

    A tree with ``has_error`` is returned as is, for the caller to report.  The one root
    node object is what the caller converts: tree-sitter builds a node's ``children``
    list once per node object, so the coverage walk's lists serve the conversion too
    (``tree.root_node`` would be a new object with none built).
    """
    root = parser().parse(data).root_node
    while b"`" in data:
        masked = _mask_backticks(root, data, nesting)
        if masked is None:
            break
        data, root = masked, parser().parse(masked).root_node
    if root.has_error:
        renamed = _without_invalid_assignments(root, data)
        if renamed is not None:
            data, root = renamed, parser().parse(renamed).root_node
        return root, data
    while (offset := unread(root, data)) is not None:
        if not _LONE_DASH.match(data, offset):
            raise TreeError("text the shell grammar skipped", offset)
        data = data[:offset] + b"x" + data[offset + 1 :]
        root = parser().parse(data).root_node
        if root.has_error:  # pragma: no cover - a plain word cannot add errors
            return root, data
    return root, data


# -- backticks ---------------------------------------------------------------------------


def _mask_backticks(root: TSNode, data: bytes, nesting: int) -> bytes | None:
    """Mask every substitution whose opener tree-sitter saw; None when there is none."""
    buffer = bytearray(data)
    masked_to = -1
    position = data.find(b"`")
    while position >= 0:
        if position > masked_to and _is_opener(root, data, position):
            closer = _closer(data, position)
            if closer is None:
                raise TreeError("unterminated backtick", position)
            _check_inside(data[position + 1 : closer], position, nesting)
            buffer[position : closer + 1] = b"x" * (closer + 1 - position)
            masked_to = closer
        position = data.find(b"`", position + 1)
    return bytes(buffer) if masked_to >= 0 else None


def _is_opener(root: TSNode, data: bytes, position: int) -> bool:
    """A backtick tree-sitter opened a substitution with, or one before a comment it choked on."""
    token = root.descendant_for_byte_range(position, position + 1)
    if token is None or token.type != "`" or token.start_byte != position:
        return False
    parent = token.parent
    if parent is None:
        return False
    if parent.type == "command_substitution":
        return parent.start_byte == position
    return parent.type == "ERROR" and data[position + 1 :].lstrip(b" \t").startswith(b"#")


def _closer(data: bytes, opener: int) -> int | None:
    """The first backtick after ``opener`` that no backslash escapes."""
    i = opener + 1
    while i < len(data):
        byte = data[i]
        if byte == 0x5C:  # backslash
            i += 2
        elif byte == 0x60:  # backtick
            return i
        else:
            i += 1
    return None


def _check_inside(inside: bytes, opener: int, nesting: int) -> None:
    """Refuse a substitution whose command would not parse (sh removes ``\\$ \\` \\\\`` first)."""
    if nesting >= MAX_NESTING:
        raise TreeError("backticks nested too deep", opener)
    try:
        root, _ = parse_bytes(_unescape(inside), nesting + 1)
    except TreeError as error:
        raise TreeError(f"inside backticks: {error.message}", opener) from error
    if root.has_error:
        raise TreeError("the command inside backticks does not parse", opener)


def _unescape(inside: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(inside):
        byte = inside[i]
        if byte == 0x5C and i + 1 < len(inside) and inside[i + 1] in b"$`\\":
            out.append(inside[i + 1])
            i += 2
        else:
            out.append(byte)
            i += 1
    return bytes(out)


# -- assignments -------------------------------------------------------------------------


def is_valid_assignment(node: TSNode) -> bool:
    """Whether a ``variable_assignment`` node is one in sh (its name is a valid name)."""
    name = node.child_by_field_name("name")
    if name is not None and name.type == "subscript":
        name = name.child_by_field_name("name")
    if name is None or name.text is None:  # text is None only for trees without source
        return False
    return VALID_NAME.fullmatch(name.text.decode("utf-8", "replace")) is not None


def _without_invalid_assignments(root: TSNode, data: bytes) -> bytes | None:
    buffer = bytearray(data)
    changed = False
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "variable_assignment" and not is_valid_assignment(node):
            for child in node.children:
                if child.type in ("=", "+="):
                    buffer[child.end_byte - 1] = ord(",")
                    changed = True
                    break
        stack.extend(node.children)
    return bytes(buffer) if changed else None


# -- coverage ----------------------------------------------------------------------------


def unread(root: TSNode, data: bytes) -> int | None:
    """The byte offset of the first non-blank text no token covers, or None.

    Words, comments and here-document bodies count as read whole, which keeps
    the walk short (it never enters a word).  Tokens are visited in source order
    from a stack of ``children`` lists: cheaper than a ``TreeCursor`` (which makes a
    node object at every step), and the lists are kept for the conversion.
    """
    position = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count and node.type not in _READ_WHOLE:
            stack += reversed(node.children)
            continue
        start = node.start_byte
        if (
            start > position
            # Cheap test first: one blank byte between tokens (the common gap).
            and not (start == position + 1 and data[position] in _BLANK_BYTES)
            and not _BETWEEN_TOKENS.fullmatch(data, position, start)
        ):
            return _first_non_blank(data, position)
        end = node.end_byte
        if end > position:
            position = end
    if _BETWEEN_TOKENS.fullmatch(data, position):
        return None
    return _first_non_blank(data, position)


def _first_non_blank(data: bytes, position: int) -> int:
    match = _BETWEEN_TOKENS.match(data, position)
    return match.end() if match else position
