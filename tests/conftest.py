"""Shared helpers for the parser tests: the real-world corpus and the BuildKit oracle.

The oracle is the ``dockerfile`` package: BuildKit v0.12.5's own Go parser in a wheel.
Its ``Command`` records are normalised here to the dict shape of
``Instruction.record()`` so that the two can be compared field by field.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dockerfile
import pytest

#: The fields of a record, in the order the comparisons report them.
RECORD_FIELDS = (
    "cmd",
    "sub_cmd",
    "json",
    "flags",
    "value",
    "heredocs",
    "start_line",
    "end_line",
    "original",
)


class OracleCannotTell(Exception):
    """The oracle cannot give an answer to compare with, through no fault of dockfix.

    * BuildKit accepted the file but handed back bytes that are not UTF-8: it splits
      flags and HEALTHCHECK's type word byte by byte and can cut a character in two, and
      the wheel then fails to decode the record;
    * the text holds a NUL: the wheel passes a C string, so BuildKit would see only the
      text before it;
    * the text holds lone surrogates (undecodable bytes read with ``surrogateescape``):
      the wheel cannot encode them and crashes the whole process (SIGSEGV), so they are
      never sent.
    """


#: Points the corpus tests at other real files: a corpus folder (holding ``dockerfiles/``)
#: or a folder of Dockerfiles. A team runs the safety contract over its own files this way.
CORPUS_ENV = "DOCKFIX_CORPUS"


def corpus_dir() -> Path:
    """The real-world corpus: ``$DOCKFIX_CORPUS`` if set, else the shared one next to the
    checkout (``../shared/corpus``)."""
    override = os.environ.get(CORPUS_ENV)
    if override:
        return Path(override).resolve()
    return (Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus").resolve()


def corpus_files_dir() -> Path:
    """The folder holding the corpus Dockerfiles (``dockerfiles/`` of a corpus folder)."""
    root = corpus_dir()
    nested = root / "dockerfiles"
    return nested if nested.is_dir() or not root.is_dir() else root


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    """Every corpus Dockerfile, sorted; skips (not fails) where the corpus is absent."""
    root = corpus_dir()
    files_dir = corpus_files_dir()
    if not files_dir.is_dir():
        pytest.skip(f"real-world corpus not found at {root}; these tests need ../shared/corpus")
    files = sorted(path for path in files_dir.iterdir() if path.is_file())
    if not files:
        pytest.skip(f"real-world corpus at {root} is empty; these tests need ../shared/corpus")
    return files


def read_text(path: Path) -> str:
    """Read a file the way dockfix does: bytes kept exactly, undecodable ones escaped."""
    return path.read_bytes().decode("utf-8", errors="surrogateescape")


@pytest.fixture(scope="session")
def corpus_texts(corpus_files: list[Path]) -> dict[str, str]:
    """File name -> text, read once per session for all corpus tests."""
    return {path.name: read_text(path) for path in corpus_files}


def oracle_records(text: str) -> list[dict[str, object]]:
    """BuildKit's reading of ``text`` in the format of ``Instruction.record()``.

    Raises ``dockerfile.GoParseError`` when BuildKit rejects the file and
    ``OracleCannotTell`` when the oracle cannot answer (see there).  ``cmd`` and ``sub_cmd``
    are upper-cased (the oracle keeps the written case); an empty keyword or original
    text comes back as ``None`` from the wheel and is normalised to ``""``.
    """
    if "\x00" in text:
        raise OracleCannotTell("text holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise OracleCannotTell("text holds undecodable bytes") from error
    try:
        commands = dockerfile.parse_string(text)
    except UnicodeDecodeError as error:
        raise OracleCannotTell(f"BuildKit's answer is not UTF-8: {error}") from error
    return [
        {
            "cmd": (command.cmd or "").upper(),
            "sub_cmd": command.sub_cmd.upper() if command.sub_cmd else None,
            "json": command.json,
            "original": command.original or "",
            "start_line": command.start_line,
            "end_line": command.end_line,
            "flags": list(command.flags),
            "value": list(command.value),
            "heredocs": [
                {"name": heredoc.name, "content": heredoc.content} for heredoc in command.heredocs
            ],
        }
        for command in commands
    ]


def dockfix_records(text: str) -> list[dict[str, object]]:
    """dockfix's records for ``text`` (raises ``dockfix.ParseError``)."""
    from dockfix import parse

    return [instruction.record() for instruction in parse(text).instructions]


def record_differences(
    theirs: list[dict[str, object]], ours: list[dict[str, object]]
) -> Iterator[str]:
    """Human-readable differences between two record lists, field by field."""
    if len(theirs) != len(ours):
        yield f"instruction count: oracle {len(theirs)}, dockfix {len(ours)}"
    for index, (their, our) in enumerate(zip(theirs, ours, strict=False)):
        for name in RECORD_FIELDS:
            if their[name] != our[name]:
                yield (
                    f"instruction {index} (line {their['start_line']}) {name}: "
                    f"oracle {their[name]!r}, dockfix {our[name]!r}"
                )


def first_difference(text: str) -> str | None:
    """The first way dockfix disagrees with the oracle on ``text``, or None.

    Both rejecting counts as agreement only with the same message.
    """
    from dockfix import ParseError

    try:
        theirs: list[dict[str, object]] | None = oracle_records(text)
        their_error = None
    except dockerfile.GoParseError as error:
        theirs, their_error = None, str(error)
    try:
        ours: list[dict[str, object]] | None = dockfix_records(text)
        our_error = None
    except ParseError as error:
        ours, our_error = None, error.message
    if theirs is None or ours is None:
        if theirs is None and ours is None and their_error == our_error:
            return None
        return f"oracle error {their_error!r}, dockfix error {our_error!r}"
    return next(record_differences(theirs, ours), None)
