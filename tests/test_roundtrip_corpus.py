"""Losslessness on real-world Dockerfiles: parse then print gives back every byte.

One test over the whole corpus (not one per file): 2,093 parametrized cases would be
slow to collect and drown a real failure in noise.  Failures are collected and listed.
"""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from conftest import OracleCannotTell, oracle_records

from dockfix import ParseError, parse

pytestmark = pytest.mark.corpus


def _first_difference(printed: bytes, source: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(printed, source, strict=False)) if a != b),
        min(len(printed), len(source)),
    )
    return (
        f"differs at byte {at}: printed {printed[at : at + 30]!r}, source {source[at : at + 30]!r}"
    )


def test_every_corpus_file_round_trips(corpus_files: list[Path]) -> None:
    """Bytes -> text -> tree -> text -> bytes gives the file back, for every file.

    Files are decoded as dockfix reads them (UTF-8, undecodable bytes kept as
    surrogates).  A file dockfix rejects must be one BuildKit rejects too (the oracle
    corpus test checks the messages), or a parser bug could hide as a "rejection".
    """
    failures: list[str] = []
    rejected = 0
    for path in corpus_files:
        source = path.read_bytes()
        text = source.decode("utf-8", errors="surrogateescape")
        try:
            printed = parse(text).to_string().encode("utf-8", errors="surrogateescape")
        except ParseError as error:
            rejected += 1
            try:
                oracle_records(text)
            except (dockerfile.GoParseError, OracleCannotTell):
                continue
            failures.append(f"{path.name}: rejected ({error}) but BuildKit accepts it")
            continue
        if printed != source:
            failures.append(f"{path.name}: {_first_difference(printed, source)}")
    print(
        f"\nround trip: {len(corpus_files)} files, {len(corpus_files) - rejected} printed "
        f"back byte for byte, {rejected} rejected (as BuildKit does), "
        f"{len(failures)} failures"
    )
    assert not failures, "\n".join(failures)


def test_assembled_tree_is_larks_tree_on_the_corpus(corpus_texts: dict[str, str]) -> None:
    """The one-pass tree builder (``loader.assemble``) replaced Lark's LALR parser on the
    hot path; the grammar stays the authority.  On every corpus file the two must build
    the same tree (or both hand the file to the error path)."""
    from test_syntax_nodes import _same_tree

    from dockfix.syntax.lark_reference import lark_parse
    from dockfix.syntax.lexer import tokenize
    from dockfix.syntax.loader import assemble

    differ: list[str] = []
    checked = 0
    for name, text in corpus_texts.items():
        try:
            reference = lark_parse(text)
        except ParseError:
            continue
        assembled = assemble(list(tokenize(text)))
        checked += 1
        if assembled is None or not _same_tree(assembled, reference):
            differ.append(name)
    assert not differ, f"{len(differ)} files build another tree: {differ[:10]}"
    assert checked > 2000
