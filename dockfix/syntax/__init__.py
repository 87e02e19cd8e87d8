"""The lossless Dockerfile syntax tree: grammar, lexer, nodes, printer and edits."""

from dockfix.syntax.document import Dockerfile, Stage, Style, parse
from dockfix.syntax.images import ImageRef, parse_image_ref
from dockfix.syntax.lexer import ParseError
from dockfix.syntax.nodes import BlankLine, Comment, Directive, Heredoc, Instruction, Piece

__all__ = [
    "BlankLine",
    "Comment",
    "Directive",
    "Dockerfile",
    "Heredoc",
    "ImageRef",
    "Instruction",
    "ParseError",
    "Piece",
    "Stage",
    "Style",
    "parse",
    "parse_image_ref",
]
