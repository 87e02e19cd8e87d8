"""dockfix reads every real-world Dockerfile exactly as BuildKit v0.12.5 does.

The oracle is BuildKit's own parser (the ``dockerfile`` wheel).  Each test runs over
the whole corpus in one function, collects every failure and prints a summary line:
2,093 parametrized cases would be slow and noisy.
"""

from __future__ import annotations

import dockerfile
import pytest
from conftest import (
    OracleCannotTell,
    dockfix_records,
    first_difference,
    oracle_records,
    record_differences,
)

from dockfix import ParseError, parse

pytestmark = pytest.mark.corpus

#: Corpus files (by name) where dockfix knowingly reads differently from the oracle,
#: each with the reason.  Only differences due to the oracle's old BuildKit version
#: belong here (dockfix follows current BuildKit); anything else is a dockfix bug.  The
#: records test skips these files and ``test_known_divergences_still_diverge`` checks
#: that each one still does, so that a stale entry cannot hide a regression.
KNOWN_DIVERGENCES: dict[str, str] = {}


def test_records_match_oracle(corpus_texts: dict[str, str]) -> None:
    """For every file BuildKit accepts, each instruction's record matches field by field:
    cmd, sub_cmd, json, flags, value, heredocs, start_line, end_line, original."""
    failures: list[str] = []
    compared = instructions = rejected = known = cannot_tell = 0
    for name, text in corpus_texts.items():
        if name in KNOWN_DIVERGENCES:
            known += 1
            continue
        try:
            theirs = oracle_records(text)
        except dockerfile.GoParseError:
            rejected += 1
            continue
        except OracleCannotTell as reason:
            cannot_tell += 1
            print(f"\n{name}: not compared, the oracle cannot tell: {reason}")
            continue
        try:
            ours = dockfix_records(text)
        except ParseError as error:
            failures.append(f"{name}: dockfix rejects it ({error}), BuildKit accepts it")
            continue
        compared += 1
        instructions += len(theirs)
        failures += [f"{name}: {difference}" for difference in record_differences(theirs, ours)]
    print(
        f"\noracle records: {len(corpus_texts)} files, {compared} compared "
        f"({instructions} instructions), {rejected} rejected by BuildKit, {known} known "
        f"divergences, {cannot_tell} the oracle cannot tell, {len(failures)} failures"
    )
    assert not failures, "\n".join(failures[:200])


def test_rejected_files_raise_parse_error(corpus_texts: dict[str, str]) -> None:
    """Every file BuildKit rejects raises ``ParseError`` with BuildKit's message and a
    1-based line number (the oracle gives no position to compare with)."""
    failures: list[str] = []
    rejected: list[str] = []
    for name, text in corpus_texts.items():
        try:
            oracle_records(text)
            continue
        except OracleCannotTell:
            continue
        except dockerfile.GoParseError as error:
            message = str(error)
        rejected.append(name)
        try:
            parse(text)
        except ParseError as error:
            if error.message != message:
                failures.append(f"{name}: message {error.message!r}, BuildKit {message!r}")
            if not 1 <= error.line <= text.count("\n") + 1:
                failures.append(f"{name}: line {error.line} is not a line of the file")
            if error.column < 1:
                failures.append(f"{name}: column {error.column} is not 1-based")
            continue
        failures.append(f"{name}: BuildKit rejects it ({message}), dockfix accepts it")
    print(f"\nrejected by BuildKit: {len(rejected)} files {rejected}, {len(failures)} failures")
    assert rejected, "the corpus has files BuildKit rejects; none were found"
    assert not failures, "\n".join(failures)


def test_known_divergences_still_diverge(corpus_texts: dict[str, str]) -> None:
    """Each ``KNOWN_DIVERGENCES`` entry names a corpus file, gives a reason and still
    really diverges; delete the entry once dockfix and the oracle agree on it."""
    failures: list[str] = []
    for name, reason in KNOWN_DIVERGENCES.items():
        if not reason.strip():
            failures.append(f"{name}: no reason given")
        if name not in corpus_texts:
            failures.append(f"{name}: not in the corpus")
            continue
        if first_difference(corpus_texts[name]) is None:
            failures.append(f"{name}: dockfix and the oracle now agree; remove the entry")
    print(f"\nknown divergences: {len(KNOWN_DIVERGENCES)} listed, {len(failures)} failures")
    assert not failures, "\n".join(failures)
