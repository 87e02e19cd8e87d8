"""The syntax tree's nodes, pieces, positions and views, case by case.

These pin down what rules and edits rely on: which text lands in which node and piece
kind, where it is (1-based line and column, columns counted in characters), and what
the derived views (flags, embedded comments, stages, style) say.
"""

from __future__ import annotations

import pytest

from dockfix import ParseError, parse
from dockfix.syntax import (
    BlankLine,
    Comment,
    Directive,
    Dockerfile,
    Heredoc,
    Instruction,
    parse_image_ref,
)


def only_instruction(text: str) -> Instruction:
    (instruction,) = parse(text).instructions
    return instruction


def kinds_and_texts(instruction: Instruction) -> list[tuple[str, str]]:
    return [(piece.kind, piece.text) for piece in instruction.pieces]


# -- nodes -------------------------------------------------------------------------

NODE_FILE = (
    "\ufeff# syntax=docker/dockerfile:1\r\n"
    "#ESCAPE = `\r\n"
    "\r\n"
    "  # Comment here  \r\n"
    " \t\r\n"
    "FROM a\r\n"
    "COPY <<-EOF /x\r\n"
    "\tbody\r\n"
    "\tEOF\r\n"
    "RUN <<A <<B\n"
    "x\n"
    "A\n"
    "y\n"
    "B"
)


def test_node_kinds_in_order() -> None:
    """Directives, blank lines, comments and instructions are separate top-level nodes."""
    document = parse(NODE_FILE)
    assert document.bom == "\ufeff"
    assert [type(node) for node in document.nodes] == [
        Directive,
        Directive,
        BlankLine,
        Comment,
        BlankLine,
        Instruction,
        Instruction,
        Instruction,
    ]
    assert [getattr(node, "line", None) for node in document.nodes] == [1, 2, 3, 4, 5, 6, 7, 10]
    assert document.to_string() == NODE_FILE


@pytest.mark.parametrize(
    ("index", "kind", "text", "eol"),
    [
        (0, Directive, "# syntax=docker/dockerfile:1", "\r\n"),
        (1, Directive, "#ESCAPE = `", "\r\n"),
        (2, BlankLine, "", "\r\n"),
        (3, Comment, "  # Comment here  ", "\r\n"),
        (4, BlankLine, " \t", "\r\n"),
    ],
)
def test_line_nodes_keep_text_and_line_ending(index: int, kind: type, text: str, eol: str) -> None:
    """Line nodes keep their whitespace and line ending apart, so edits can reuse them."""
    node = parse(NODE_FILE).nodes[index]
    assert isinstance(node, kind)
    assert (node.text, node.eol) == (text, eol)  # type: ignore[attr-defined]
    assert node.to_string() == text + eol


def test_directive_name_and_value() -> None:
    """Names are case-insensitive and values trimmed, as BuildKit reads them."""
    document = parse(NODE_FILE)
    syntax, escape = document.directives
    assert (syntax.name, syntax.value) == ("syntax", "docker/dockerfile:1")
    assert (escape.name, escape.value) == ("escape", "`")
    assert document.escape == "`"


def test_comment_body() -> None:
    """``body`` is the comment as BuildKit records it: no ``#``, no surrounding blanks."""
    comment = parse(NODE_FILE).nodes[3]
    assert isinstance(comment, Comment)
    assert comment.body == "Comment here"


def test_instruction_lines_span_heredocs() -> None:
    """An instruction ends on its last heredoc's terminator line."""
    document = parse(NODE_FILE)
    assert [(i.start_line, i.end_line) for i in document.instructions] == [
        (6, 6),
        (7, 9),
        (10, 14),
    ]


def test_heredoc_nodes() -> None:
    """Heredocs keep raw body lines (tabs and CRLF too) and the terminator as written."""
    copy, run = parse(NODE_FILE).instructions[1:]
    (chomped,) = copy.heredocs
    assert chomped == Heredoc("EOF", ("\tbody\r\n",), "\tEOF", "\r\n", 9)
    assert chomped.content == "\tbody\r\n"  # <<- strips tabs only when building
    assert chomped.to_string() == "\tbody\r\n\tEOF\r\n"
    first, last = run.heredocs
    assert (first.name, first.content, first.terminator, first.eol) == ("A", "x\n", "A", "\n")
    assert (last.name, last.content, last.terminator, last.eol) == ("B", "y\n", "B", "")
    # ``line`` is the terminator's line (the body starts on the line after the
    # instruction's last line).
    assert (first.line, last.line) == (12, 14)


# -- pieces ------------------------------------------------------------------------

PIECE_CASES = {
    "keyword+shell": (
        "RUN echo hi\n",
        [("keyword", "RUN"), ("ws", " "), ("shell", "echo hi"), ("eol", "\n")],
    ),
    "flag+flag_end+word": (
        "COPY --from=b -- /a /b\n",
        [
            ("keyword", "COPY"),
            ("ws", " "),
            ("flag", "--from=b"),
            ("ws", " "),
            ("flag_end", "--"),
            ("ws", " "),
            ("word", "/a"),
            ("ws", " "),
            ("word", "/b"),
            ("eol", "\n"),
        ],
    ),
    "bare flags": (
        "COPY --link --chown=1:1 a b\n",
        [
            ("keyword", "COPY"),
            ("ws", " "),
            ("flag", "--link"),
            ("ws", " "),
            ("flag", "--chown=1:1"),
            ("ws", " "),
            ("word", "a"),
            ("ws", " "),
            ("word", "b"),
            ("eol", "\n"),
        ],
    ),
    "subkeyword": (
        "ONBUILD COPY --from=b /a /b\n",
        [
            ("keyword", "ONBUILD"),
            ("ws", " "),
            ("subkeyword", "COPY"),
            ("ws", " "),
            ("flag", "--from=b"),
            ("ws", " "),
            ("word", "/a"),
            ("ws", " "),
            ("word", "/b"),
            ("eol", "\n"),
        ],
    ),
    "json": (
        'CMD ["python", "app.py"]\n',
        [("keyword", "CMD"), ("ws", " "), ("json", '["python", "app.py"]'), ("eol", "\n")],
    ),
    "json with ignored tail": (
        'RUN ["a"] x\n',
        [("keyword", "RUN"), ("ws", " "), ("json", '["a"] x'), ("eol", "\n")],
    ),
    "json list": (
        'VOLUME ["/a"]\n',
        [("keyword", "VOLUME"), ("ws", " "), ("json", '["/a"]'), ("eol", "\n")],
    ),
    "words": (
        "EXPOSE 80 443/udp\n",
        [
            ("keyword", "EXPOSE"),
            ("ws", " "),
            ("word", "80"),
            ("ws", " "),
            ("word", "443/udp"),
            ("eol", "\n"),
        ],
    ),
    "quote-aware words": (
        'ARG A="1 2" B\n',
        [
            ("keyword", "ARG"),
            ("ws", " "),
            ("word", 'A="1 2"'),
            ("ws", " "),
            ("word", "B"),
            ("eol", "\n"),
        ],
    ),
    "text": (
        "USER me:grp\n",
        [("keyword", "USER"), ("ws", " "), ("text", "me:grp"), ("eol", "\n")],
    ),
    "ignored": (
        "FOO bar  baz\n",
        [("keyword", "FOO"), ("ws", " "), ("ignored", "bar  baz"), ("eol", "\n")],
    ),
    "pair": (
        'ENV A=1 B="two words"\n',
        [
            ("keyword", "ENV"),
            ("ws", " "),
            ("pair", "A=1"),
            ("ws", " "),
            ("pair", 'B="two words"'),
            ("eol", "\n"),
        ],
    ),
    "legacy key/value": (
        "ENV K value with  spaces\r\n",
        [
            ("keyword", "ENV"),
            ("ws", " "),
            ("legacy_key", "K"),
            ("ws", " "),
            ("legacy_value", "value with  spaces"),
            ("eol", "\r\n"),
        ],
    ),
    "health_type none": (
        "HEALTHCHECK NONE\n",
        [("keyword", "HEALTHCHECK"), ("ws", " "), ("health_type", "NONE"), ("eol", "\n")],
    ),
    "health_type cmd": (
        "HEALTHCHECK --interval=5s CMD curl -f http://x/\n",
        [
            ("keyword", "HEALTHCHECK"),
            ("ws", " "),
            ("flag", "--interval=5s"),
            ("ws", " "),
            ("health_type", "CMD"),
            ("ws", " "),
            ("shell", "curl -f http://x/"),
            ("eol", "\n"),
        ],
    ),
    "linebreak between pieces": (
        "COPY a \\\n  # note\n\n  b\n",
        [
            ("keyword", "COPY"),
            ("ws", " "),
            ("word", "a"),
            ("ws", " "),
            ("linebreak", "\\\n  # note\n\n"),
            ("ws", "  "),
            ("word", "b"),
            ("eol", "\n"),
        ],
    ),
    "continuation inside shell text": (
        "  RUN\ta \\ \t\r\n\r\n  # c\r\n\tb\r\n",
        [
            ("ws", "  "),
            ("keyword", "RUN"),
            ("ws", "\t"),
            ("shell", "a \\ \t\r\n\r\n  # c\r\n\tb"),
            ("eol", "\r\n"),
        ],
    ),
    "no final newline": ("RUN a", [("keyword", "RUN"), ("ws", " "), ("shell", "a"), ("eol", "")]),
    "lone continuation": ("\\\n", [("keyword", ""), ("linebreak", "\\\n"), ("eol", "")]),
    "backtick escape": (
        "# escape=`\nRUN dir `\n  c:\\\n",
        [("keyword", "RUN"), ("ws", " "), ("shell", "dir `\n  c:\\"), ("eol", "\n")],
    ),
}


@pytest.mark.parametrize(("text", "expected"), PIECE_CASES.values(), ids=PIECE_CASES.keys())
def test_piece_kinds(text: str, expected: list[tuple[str, str]]) -> None:
    """Every character lands in exactly one piece, of the kind BuildKit gives it."""
    instruction = parse(text).instructions[0]
    assert kinds_and_texts(instruction) == expected
    assert instruction.to_string() == "".join(piece_text for _, piece_text in expected)


def test_every_piece_kind_is_covered() -> None:
    """The table above exercises each piece kind the grammar has."""
    seen = {
        piece.kind
        for text, _ in PIECE_CASES.values()
        for instruction in parse(text).instructions
        for piece in instruction.pieces
    }
    assert seen == {
        "keyword",
        "subkeyword",
        "flag",
        "flag_end",
        "json",
        "shell",
        "word",
        "text",
        "ignored",
        "pair",
        "legacy_key",
        "legacy_value",
        "health_type",
        "ws",
        "linebreak",
        "eol",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "FROM a\nRUN --mount=type=cache \\\n\t# c\n\t  apt-get  é\r\n",
            [
                ("keyword", 2, 1),
                ("ws", 2, 4),
                ("flag", 2, 5),
                ("ws", 2, 23),
                ("linebreak", 2, 24),
                ("ws", 4, 1),
                ("shell", 4, 4),
                ("eol", 4, 14),
            ],
        ),
        (
            "FROM a\n\t  COPY\té \\\n中 b\n",
            [
                ("ws", 2, 1),
                ("keyword", 2, 4),
                ("ws", 2, 8),
                ("word", 2, 9),
                ("ws", 2, 10),
                ("linebreak", 2, 11),
                ("word", 3, 1),
                ("ws", 3, 2),
                ("word", 3, 3),
                ("eol", 3, 4),
            ],
        ),
    ],
    ids=["continuation-with-comment", "tabs-and-non-ascii"],
)
def test_piece_positions(text: str, expected: list[tuple[str, int, int]]) -> None:
    """Lines and columns are 1-based; columns count characters, a tab is one."""
    instruction = parse(text).instructions[1]
    assert [(p.kind, p.line, p.column) for p in instruction.pieces] == expected
    assert (instruction.line, instruction.column) == (
        expected[0][1],
        instruction.keyword_piece.column,
    )


def test_bom_takes_no_column() -> None:
    document = parse("\ufeffFROM a\n")
    assert document.instructions[0].keyword_piece.column == 1


# -- flags view --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "RUN --mount=type=cache,target=/x --network=none --link --x= echo\n",
            [
                ("mount", "type=cache,target=/x"),
                ("network", "none"),
                ("link", None),
                ("x", ""),
            ],
        ),
        ('COPY --from="a b" x y\n', [("from", "a b")]),  # quotes removed, as BuildKit does
        ("ONBUILD RUN --mount=a b\n", [("mount", "a")]),  # the wrapped instruction's flags
        ("RUN -- --not-a-flag\n", []),
        ("RUN echo --not-a-flag\n", []),
        ("FROM --platform=$BUILDPLATFORM a\n", [("platform", "$BUILDPLATFORM")]),
    ],
)
def test_flags_view(text: str, expected: list[tuple[str, str | None]]) -> None:
    """``flags`` pairs each flag piece with BuildKit's name and value."""
    instruction = only_instruction(text)
    assert [(flag.name, flag.value) for flag in instruction.flags] == expected
    assert [flag.piece for flag in instruction.flags] == list(instruction.pieces_of("flag"))
    for name, value in expected:
        found = instruction.flag(name)
        assert found is not None and found.value == value
    assert instruction.flag("nope") is None


def test_onbuild_record_has_no_outer_flags() -> None:
    """BuildKit records ONBUILD's own (empty) flags; the view shows the inner ones."""
    instruction = only_instruction("ONBUILD COPY --from=a x y\n")
    assert instruction.record()["flags"] == []
    assert instruction.flag("from") is not None


# -- embedded comments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RUN a \\\n  # one\n\n   # two\r\n  b\n", ("  # one", "   # two")),
        ("COPY a \\\n# between words\n  b\n", ("# between words",)),
        ("RUN a \\\n\n  b\n", ()),
        ("RUN a # not a comment\n", ()),
        ("RUN a\n# after the instruction\n", ()),
    ],
)
def test_instruction_comments(text: str, expected: tuple[str, ...]) -> None:
    """Comment lines inside continuations, without their line endings; nothing else."""
    assert parse(text).instructions[0].comments == expected


# -- stages ------------------------------------------------------------------------

STAGES_FILE = (
    "ARG B=x\n"
    "FROM --platform=linux/amd64 ${B} AS one\n"
    "RUN a\n"
    "FROM one\n"
    "COPY --from=one a b\n"
    "from scratch as Last\n"
)


def test_stages() -> None:
    """A stage runs from its FROM to the next; what precedes the first FROM is in none."""
    stages = parse(STAGES_FILE).stages
    assert [s.index for s in stages] == [0, 1, 2]
    assert [s.alias for s in stages] == ["one", None, "Last"]
    assert [s.platform for s in stages] == ["linux/amd64", None, None]
    assert [s.from_instruction.line for s in stages] == [2, 4, 6]
    assert [[i.cmd for i in s.instructions] for s in stages] == [["RUN"], ["COPY"], []]
    assert [s.image.text for s in stages] == ["${B}", "one", "scratch"]
    assert stages[0].image.has_variables


def test_no_stages_without_from() -> None:
    assert parse("ARG A\nRUN x\n").stages == ()


@pytest.mark.parametrize(
    ("text", "registry", "name", "tag", "digest", "repository"),
    [
        ("python:3.11-slim", None, "python", "3.11-slim", None, "python"),
        (
            "docker.io/library/python:3.11@sha256:" + "a" * 64,
            "docker.io",
            "library/python",
            "3.11",
            "sha256:" + "a" * 64,
            "python",
        ),
        ("localhost:5000/a/b:c", "localhost:5000", "a/b", "c", None, "a/b"),
        ("ghcr.io/o/r", "ghcr.io", "o/r", None, None, "o/r"),
        ("${BASE}", None, "${BASE}", None, None, "${BASE}"),
        ("localhost/x", "localhost", "x", None, None, "x"),
        ("a/b:1", None, "a/b", "1", None, "a/b"),
        ("python@sha256:abc", None, "python", None, "sha256:abc", "python"),
    ],
)
def test_parse_image_ref(
    text: str,
    registry: str | None,
    name: str,
    tag: str | None,
    digest: str | None,
    repository: str,
) -> None:
    """A registry is a first component that looks like a host (``.``, ``:``, localhost)."""
    ref = parse_image_ref(text)
    assert (ref.text, ref.registry, ref.name, ref.tag, ref.digest) == (
        text,
        registry,
        name,
        tag,
        digest,
    )
    assert ref.repository == repository
    assert ref.has_variables == ("$" in text)


# -- style -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "upper", "eol", "escape", "indent"),
    [
        ("FROM a\nCOPY \\\n  --from=x \\\n  a b\n", True, "\n", "\\", "  "),
        ("# escape=`\r\nfrom a\r\nrun b\r\nCOPY a b\r\n", False, "\r\n", "`", "    "),
        ("FROM a\r\nRUN b\r\nRUN c\n", True, "\r\n", "\\", "    "),
        ("FROM a\nRUN b\r\nRUN c\n", True, "\n", "\\", "    "),
        ("FROM a\nCOPY \\\n\ta \\\n\tb\n", True, "\n", "\\", "\t"),
    ],
    ids=["upper-lf-two-spaces", "lower-crlf-backtick", "mostly-crlf", "mostly-lf", "tabs"],
)
def test_style(text: str, upper: bool, eol: str, escape: str, indent: str) -> None:
    """New text should look like the file: keyword case, line ending, escape, indent."""
    style = parse(text).style
    assert (style.upper_keywords, style.eol, style.escape, style.indent) == (
        upper,
        eol,
        escape,
        indent,
    )
    assert style.keyword("run") == ("RUN" if upper else "run")


def test_style_indent_inside_shell_text() -> None:
    assert parse("FROM a\nRUN a \\\n\t&& b \\\n\t&& c\n").style.indent == "\t"


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("FROM a\nRUN \\\n  <<EOF\nx\n", "unterminated heredoc", 2, 1),
        ("# escape=x\nFROM a\n", "invalid escape token 'x' does not match ` or \\", 1, 10),
        (
            "  #  escape = ab \nFROM a\n",
            "invalid escape token 'ab' does not match ` or \\",
            1,
            15,
        ),
        (
            "# escape=`\n# syntax=a\n# escape=`\nFROM a\n",
            "only one escape parser directive can be used",
            3,
            1,
        ),
        ("# syntax=a\n#SYNTAX=b\nFROM a\n", "only one syntax parser directive can be used", 2, 1),
        ("FROM a\nENV \\\n  A\n", "ENV must have two arguments", 2, 1),
        ("FROM a\nLABEL x\n", "LABEL must have two arguments", 2, 1),
        (
            "FROM a\nENV a=b c\n",
            'Syntax error - can\'t find = in "c". Must be of the form: name=value',
            2,
            1,
        ),
        (
            'FROM a\n\nCMD ["a", \\\n 1]\n',
            "when using JSON array syntax, arrays must be comprised of strings only",
            3,
            1,
        ),
        ("", "file with no instructions", 1, 1),
        ("\ufeff", "file with no instructions", 1, 1),
        ("# a\n# b\n", "file with no instructions", 2, 1),
        ("# a\n# b", "file with no instructions", 2, 1),
        ("\n\n\n", "file with no instructions", 3, 1),
        ("# syntax=x\n", "file with no instructions", 1, 1),
    ],
    ids=[
        "unterminated-heredoc",
        "bad-escape-value",
        "bad-escape-value-indented",
        "duplicate-escape",
        "duplicate-syntax",
        "env-without-value",
        "label-without-value",
        "env-pair-without-equals",
        "json-with-number",
        "empty-file",
        "bom-only",
        "comments-only",
        "comments-only-no-final-newline",
        "blank-lines-only",
        "directive-only",
    ],
)
def test_parse_error_positions(text: str, message: str, line: int, column: int) -> None:
    """BuildKit's message, at the instruction's first line (or the directive's value)."""
    with pytest.raises(ParseError) as caught:
        parse(text)
    error = caught.value
    assert (error.message, error.line, error.column) == (message, line, column)
    assert str(error) == f"{line}:{column}: {message}"


def test_dockerfile_is_exported() -> None:
    """``dockfix.parse`` returns the ``Dockerfile`` of ``dockfix.syntax``."""
    assert isinstance(parse("FROM a\n"), Dockerfile)


# -- the one-pass tree assembly agrees with Lark's parser ---------------------------


def _same_tree(ours: object, theirs: object) -> bool:
    from dockfix.syntax.tokens import Token, Tree

    if isinstance(ours, Token) or isinstance(theirs, Token):
        return ours is theirs or (
            type(ours) is type(theirs)
            and isinstance(ours, Token)
            and isinstance(theirs, Token)
            and (ours.type, str(ours), ours.start_pos)
            == (theirs.type, str(theirs), theirs.start_pos)
        )
    return (
        isinstance(ours, Tree)
        and isinstance(theirs, Tree)
        and ours.data == theirs.data
        and len(ours.children) == len(theirs.children)
        and all(_same_tree(a, b) for a, b in zip(ours.children, theirs.children, strict=True))
    )


def _tree_samples() -> list[str]:
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    texts = [NODE_FILE, "", "\ufeff", "FROM a", "FROM a\n\n# c\n", "# escape=`\nRUN a `\n  b\n"]
    texts += ["ONBUILD RUN --mount=type=cache,target=/x a\n", "RUN <<EOF\nx\nEOF\nFROM b\n"]
    texts += ["HEALTHCHECK --interval=5s CMD curl x\nENV a b c\nLABEL a=b\n"]
    for path in sorted(fixtures.glob("*/*.Dockerfile")):
        texts.append(path.read_bytes().decode("utf-8", "surrogateescape"))
    return texts


def test_assembled_tree_is_larks_tree() -> None:
    """``parse_tree`` builds the grammar's tree from the tokens in one pass; Lark's
    LALR parser (the grammar's authority) must give exactly the same tree."""
    from dockfix.syntax.lark_reference import lark_parse
    from dockfix.syntax.lexer import tokenize
    from dockfix.syntax.loader import assemble

    checked = 0
    for text in _tree_samples():
        try:
            reference = lark_parse(text)
        except ParseError:
            continue
        assembled = assemble(list(tokenize(text)))
        assert assembled is not None and _same_tree(assembled, reference), text[:200]
        checked += 1
    assert checked > 100


def test_assemble_hands_unknown_sequences_to_lark() -> None:
    from dockfix.syntax.loader import assemble
    from dockfix.syntax.tokens import Token

    assert assemble([Token("COMMENT", "# x", 0)]) is None  # no EOL
    assert assemble([Token("WORD", "x", 0), Token("EOL", "\n", 1)]) is None  # no keyword
    assert assemble([Token("KEYWORD", "FROM", 0)]) is None  # instruction without EOL


def test_parsing_does_not_load_lark() -> None:
    """Lark is the grammar's reference, not a run-time need: a fresh ``dockfix --check``
    must not pay for importing it."""
    import subprocess
    import sys

    code = "import sys, dockfix; dockfix.parse('FROM a\\nRUN b\\n'); print('lark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
