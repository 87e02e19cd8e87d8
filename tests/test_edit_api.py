"""The edit API changes one instruction's lines and nothing else.

Every edit runs on two files that make edits easy to get wrong: one with the
``# escape=`` directive set to a backtick (new text must be parsed with it) and one with
CRLF line endings (new text must get CRLF).  After each edit:

(i)   the printed file differs from the original only in the edited instruction's lines
      (a line diff: every other line is byte-identical);
(ii)  the result round-trips through the parser;
(iii) BuildKit (the oracle) reads the edited instruction as intended and every other
      instruction exactly as before;
(iv)  the parser directives are still directives (an edit above them would silently
      turn them into comments and change how the rest of the file is read).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import oracle_records

from dockfix import ParseError, parse
from dockfix.syntax import Comment, Dockerfile, Instruction

BACKTICK = (
    "# escape=`\n"
    "# build for Windows\n"
    "FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS build\n"
    "RUN powershell -Command `\n"
    "      Install-Thing `\n"
    "    ; echo done\n"
    "COPY --chown=app:app src C:\\app\\\n"
    "WORKDIR C:\\app\n"
    "ENV A=1\n"
    'CMD ["cmd", "/c", "run.bat"]\n'
)

CRLF = (
    "# syntax=docker/dockerfile:1\r\n"
    "FROM python:3.11-slim\r\n"
    "RUN --mount=type=cache,target=/root/.cache \\\r\n"
    "    pip install -r requirements.txt\r\n"
    "COPY . /app\r\n"
    "\r\n"
    "USER app\r\n"
    'CMD ["python", "app.py"]\r\n'
)

FILES = {"backtick": BACKTICK, "crlf": CRLF}

#: What BuildKit makes of an instruction, without its position or original text.
Reading = tuple[str, str | None, bool, tuple[str, ...], tuple[str, ...]]


def reading(record: dict[str, object]) -> Reading:
    return (
        str(record["cmd"]),
        record["sub_cmd"],  # type: ignore[return-value]
        bool(record["json"]),
        tuple(record["flags"]),  # type: ignore[arg-type]
        tuple(record["value"]),  # type: ignore[arg-type]
    )


def find(document: Dockerfile, cmd: str, nth: int = 0) -> Instruction:
    return [i for i in document.instructions if i.cmd == cmd][nth]


@dataclass(frozen=True)
class Edit:
    """An edit and what it should do.

    ``apply`` returns the edited file and the instruction it created or changed (None
    for a deletion); ``removed`` is the index of the instruction the edit takes away or
    changes in the original (None for an insertion); ``intended`` is BuildKit's reading
    of the new instruction.
    """

    apply: Callable[[Dockerfile], tuple[Dockerfile, Instruction | None]]
    removed: int | None
    intended: Reading | None


def _replace(doc: Dockerfile, old: Instruction, new: Instruction) -> tuple[Dockerfile, Instruction]:
    return doc.replace(old, new), new


def _make_and(
    how: str, anchor_cmd: str, text: str
) -> Callable[[Dockerfile], tuple[Dockerfile, Instruction]]:
    def apply(doc: Dockerfile) -> tuple[Dockerfile, Instruction]:
        new = doc.make_instruction(text)
        anchor = find(doc, anchor_cmd)
        if how == "before":
            return doc.insert_before(anchor, new), new
        if how == "after":
            return doc.insert_after(anchor, new), new
        return doc.replace(anchor, new), new

    return apply


def _within(
    cmd: str, edit: Callable[[Dockerfile, Instruction], Instruction]
) -> Callable[[Dockerfile], tuple[Dockerfile, Instruction]]:
    """Edit the first ``cmd`` instruction in place (an edit inside one instruction)."""

    def apply(document: Dockerfile) -> tuple[Dockerfile, Instruction]:
        old = find(document, cmd)
        return _replace(document, old, edit(document, old))

    return apply


def _delete(cmd: str) -> Callable[[Dockerfile], tuple[Dockerfile, None]]:
    def apply(doc: Dockerfile) -> tuple[Dockerfile, None]:
        return doc.delete(find(doc, cmd)), None

    return apply


def _move(cmd: str, before: str) -> Callable[[Dockerfile], tuple[Dockerfile, Instruction]]:
    def apply(doc: Dockerfile) -> tuple[Dockerfile, Instruction]:
        node = find(doc, cmd)
        return doc.move_before(node, find(doc, before)), node

    return apply


def _prepend(text: str) -> Callable[[Dockerfile], tuple[Dockerfile, Instruction]]:
    def apply(doc: Dockerfile) -> tuple[Dockerfile, Instruction]:
        new = doc.make_instruction(text)
        return doc.prepend(new), new

    return apply


def _piece(kind: str, nth: int, text: str) -> Callable[[Dockerfile, Instruction], Instruction]:
    return lambda doc, old: doc.replace_piece(old, old.pieces_of(kind)[nth], text)


EDITS: dict[str, dict[str, object]] = {
    "backtick": {
        "replace": Edit(
            _make_and("replace", "ENV", "ENV A=2 `\n    B=3"),
            4,
            ("ENV", None, False, (), ("A", "2", "B", "3")),
        ),
        "delete": Edit(_delete("WORKDIR"), 3, None),
        "insert_before": Edit(
            _make_and("before", "FROM", "ARG TAG=ltsc2022"),
            None,
            ("ARG", None, False, (), ("TAG=ltsc2022",)),
        ),
        "insert_after": Edit(
            _make_and("after", "RUN", "RUN echo `\n  again"),
            None,
            ("RUN", None, False, (), ("echo   again",)),
        ),
        "move_before": Edit(_move("WORKDIR", "RUN"), 3, ("WORKDIR", None, False, (), ("C:\\app",))),
        # prepend goes below the parser directives: above them, `# escape=` would
        # become a comment and the backtick continuations would break.
        "prepend": Edit(_prepend("ARG TAG=1"), None, ("ARG", None, False, (), ("TAG=1",))),
        "replace_piece": Edit(
            _within("RUN", _piece("shell", 0, "powershell -Command Install-Thing")),
            1,
            ("RUN", None, False, (), ("powershell -Command Install-Thing",)),
        ),
        "replace_piece_word": Edit(
            _within("COPY", _piece("word", 0, "lib")),
            2,
            ("COPY", None, False, ("--chown=app:app",), ("lib", "C:\\app\\")),
        ),
        "add_flag": Edit(
            _within("RUN", lambda d, i: d.add_flag(i, "--network=none")),
            1,
            (
                "RUN",
                None,
                False,
                ("--network=none",),
                ("powershell -Command       Install-Thing     ; echo done",),
            ),
        ),
        "add_flag_after_flags": Edit(
            _within("COPY", lambda d, i: d.add_flag(i, "--link")),
            2,
            ("COPY", None, False, ("--chown=app:app", "--link"), ("src", "C:\\app\\")),
        ),
        "remove_flag": Edit(
            _within("COPY", lambda d, i: d.remove_flag(i, "chown")),
            2,
            ("COPY", None, False, (), ("src", "C:\\app\\")),
        ),
        "set_keyword": Edit(
            _within("WORKDIR", lambda d, i: d.set_keyword(i, "workdir")),
            3,
            ("WORKDIR", None, False, (), ("C:\\app",)),
        ),
        "replace_arguments": Edit(
            _within("CMD", lambda d, i: d.replace_arguments(i, 'powershell "a b"')),
            5,
            ("CMD", None, False, (), ('powershell "a b"',)),
        ),
    },
    "crlf": {
        "replace": Edit(
            _make_and("replace", "USER", "USER 1000:1000"),
            3,
            ("USER", None, False, (), ("1000:1000",)),
        ),
        "delete": Edit(_delete("COPY"), 2, None),
        "insert_before": Edit(
            _make_and("before", "CMD", "EXPOSE 8000"),
            None,
            ("EXPOSE", None, False, (), ("8000",)),
        ),
        "insert_after": Edit(
            _make_and("after", "COPY", "RUN python -m compileall /app"),
            None,
            ("RUN", None, False, (), ("python -m compileall /app",)),
        ),
        "move_before": Edit(_move("USER", "COPY"), 3, ("USER", None, False, (), ("app",))),
        "prepend": Edit(_prepend("ARG PY=3.11"), None, ("ARG", None, False, (), ("PY=3.11",))),
        "replace_piece": Edit(
            _within("COPY", _piece("word", 0, "src")),
            2,
            ("COPY", None, False, (), ("src", "/app")),
        ),
        "add_flag": Edit(
            _within("COPY", lambda d, i: d.add_flag(i, "--link")),
            2,
            ("COPY", None, False, ("--link",), (".", "/app")),
        ),
        "add_flag_after_flags": Edit(
            _within("RUN", lambda d, i: d.add_flag(i, "--network=none")),
            1,
            (
                "RUN",
                None,
                False,
                ("--mount=type=cache,target=/root/.cache", "--network=none"),
                ("pip install -r requirements.txt",),
            ),
        ),
        "remove_flag": Edit(
            _within("RUN", lambda d, i: d.remove_flag(i, "mount")),
            1,
            ("RUN", None, False, (), ("pip install -r requirements.txt",)),
        ),
        "set_keyword": Edit(
            _within("USER", lambda d, i: d.set_keyword(i, "user")),
            3,
            ("USER", None, False, (), ("app",)),
        ),
        "replace_arguments": Edit(
            _within("CMD", lambda d, i: d.replace_arguments(i, '["gunicorn", "app:app"]')),
            4,
            ("CMD", None, True, (), ("gunicorn", "app:app")),
        ),
    },
}


def _cases() -> list[object]:
    cases = []
    for file_name, edits in EDITS.items():
        for edit_name, edit in edits.items():
            if isinstance(edit, Edit):
                cases.append(pytest.param(file_name, edit, id=f"{file_name}-{edit_name}"))
            else:  # a pytest.param carrying marks
                cases.append(
                    pytest.param(
                        file_name,
                        edit.values[0],  # type: ignore[attr-defined]
                        id=f"{file_name}-{edit_name}",
                        marks=edit.marks,  # type: ignore[attr-defined]
                    )
                )
    return cases


def _changed_lines(before: str, after: str) -> tuple[set[int], set[int]]:
    """1-based numbers of the lines a line diff marks as changed, in each text."""
    old_lines = before.splitlines(keepends=True)
    new_lines = after.splitlines(keepends=True)
    old_changed: set[int] = set()
    new_changed: set[int] = set()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            old_changed.update(range(i1 + 1, i2 + 1))
            new_changed.update(range(j1 + 1, j2 + 1))
    return old_changed, new_changed


@pytest.mark.parametrize(("file_name", "edit"), _cases())
def test_edit_touches_only_its_instruction(file_name: str, edit: Edit) -> None:
    original_text = FILES[file_name]
    original = parse(original_text)
    result, new = edit.apply(original)
    text = result.to_string()

    # (ii) the result round-trips, and it is the tree the edit returned.
    reparsed = parse(text)
    assert reparsed.to_string() == text
    assert original.to_string() == original_text  # edits never mutate

    # (i) only the edited instruction's lines differ.
    old_changed, new_changed = _changed_lines(original_text, text)
    allowed_old: set[int] = set()
    if edit.removed is not None:
        removed = original.instructions[edit.removed]
        allowed_old = set(range(removed.start_line, removed.end_line + 1))
    allowed_new: set[int] = set()
    new_index = None
    if new is not None:
        new_index = next(k for k, i in enumerate(result.instructions) if i is new)
        placed = reparsed.instructions[new_index]
        allowed_new = set(range(placed.start_line, placed.end_line + 1))
    assert old_changed <= allowed_old, (old_changed, allowed_old, text)
    assert new_changed <= allowed_new, (new_changed, allowed_new, text)

    # (iii) BuildKit reads the new instruction as intended and the rest as before.
    before = [reading(record) for record in oracle_records(original_text)]
    after = [reading(record) for record in oracle_records(text)]
    if new_index is not None:
        assert after[new_index] == edit.intended
        del after[new_index]
    if edit.removed is not None:
        del before[edit.removed]
    assert after == before

    # (iv) the directives are still the directives, in the same order.
    assert [d.text for d in reparsed.directives] == [d.text for d in original.directives]


@pytest.mark.parametrize(
    ("file_name", "eol"), [("backtick", "\n"), ("crlf", "\r\n")], ids=["lf", "crlf"]
)
def test_make_instruction_takes_the_file_line_ending(file_name: str, eol: str) -> None:
    """A new instruction without a line ending gets the file's own."""
    document = parse(FILES[file_name])
    new = document.make_instruction("LABEL a=b")
    assert new.to_string() == "LABEL a=b" + eol
    assert new.eol == eol
    kept = document.make_instruction("LABEL a=b\n")
    assert kept.eol == "\n"  # an explicit line ending is kept as given
    assert document.make_instruction("LABEL a=b", eol="").eol == ""


def test_make_instruction_uses_the_file_escape() -> None:
    """In a backtick file, a backtick continues the line and a backslash is plain text."""
    document = parse(BACKTICK)
    new = document.make_instruction("RUN dir C:\\ `\n  /s")
    assert new.value == ("dir C:\\   /s",)
    assert new.end_line - new.start_line == 1


def test_make_instruction_rejects_non_instructions() -> None:
    """Comments, nothing, or two instructions are not "an instruction"."""
    document = parse(CRLF)
    for text in ("# just a comment", "", "RUN a\nRUN b"):
        with pytest.raises((ValueError, ParseError)):
            document.make_instruction(text)


def test_edits_inside_an_instruction_keep_heredocs() -> None:
    """Splicing the instruction line keeps the heredoc bodies after it."""
    document = parse("FROM a\r\nRUN <<EOF\r\necho hi\r\nEOF\r\n")
    run = document.instructions[1]
    new = document.add_flag(run, "--network=none")
    assert new.to_string() == "RUN --network=none <<EOF\r\necho hi\r\nEOF\r\n"
    assert [h.content for h in new.heredocs] == ["echo hi\r\n"]


def test_replace_arguments_dropping_a_heredoc_is_refused() -> None:
    """Heredoc bodies without their ``<<EOF`` would become instructions: refuse."""
    document = parse("FROM a\nRUN <<EOF\nhi\nEOF\n")
    with pytest.raises(ValueError):
        document.replace_arguments(document.instructions[1], "echo x")


def test_insert_after_a_last_line_without_line_ending_is_refused() -> None:
    document = parse("FROM a\nRUN b")
    with pytest.raises(ValueError):
        document.insert_after(document.instructions[1], document.make_instruction("RUN c"))


def test_nodes_of_another_file_are_refused() -> None:
    document = parse("FROM a\n")
    other = parse("FROM a\n")
    with pytest.raises(ValueError):
        document.delete(other.instructions[0])


def test_insert_after_a_dangling_continuation_is_refused() -> None:
    """``RUN a \\`` ending the file would swallow the new line (BuildKit: RUN 'a RUN b')."""
    document = parse("FROM a\nRUN a \\\n")
    with pytest.raises(ValueError, match="line continuation"):
        document.insert_after(document.instructions[1], document.make_instruction("RUN b"))


def test_move_before_a_last_line_without_line_ending() -> None:
    """The moved last line gets a line ending instead of running into the anchor."""
    document = parse("FROM a\nRUN b\nUSER x")
    result = document.move_before(document.instructions[2], document.instructions[1])
    assert [reading(r)[0] for r in oracle_records(result.to_string())] == ["FROM", "USER", "RUN"]


def test_move_before_a_comment() -> None:
    """Comments are nodes too: moving one leaves the instructions alone."""
    document = parse(CRLF)
    comment = Comment("# moved", "\r\n", 0)
    with_comment = document.insert_before(find(document, "CMD"), comment)
    moved = with_comment.move_before(comment, find(with_comment, "COPY"))
    assert moved.to_string() == CRLF.replace("COPY . /app\r\n", "# moved\r\nCOPY . /app\r\n")


@pytest.mark.parametrize("where", ["before-first", "after-first"])
def test_inserting_among_directives_keeps_them(where: str) -> None:
    document = parse("# escape=`\n# syntax=x\nFROM a\nRUN a `\n b\n")
    new = document.make_instruction("ARG X")
    first = document.directives[0]
    if where == "before-first":
        result = document.insert_before(first, new)
    else:
        result = document.insert_after(first, new)
    reparsed = parse(result.to_string())
    assert [d.text for d in reparsed.directives] == ["# escape=`", "# syntax=x"]
    assert [reading(r)[0] for r in oracle_records(result.to_string())] == ["ARG", "FROM", "RUN"]
