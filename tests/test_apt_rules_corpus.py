"""The package hygiene rules (DF103-DF109) fix the real-world corpus without harm.

The engine runs with just these rules, unsafe fixes included, over every corpus file
dockfix parses.  For every file a rule changed: BuildKit (the ``dockerfile`` wheel)
still accepts the output when it accepted the input, and reads it as dockfix does; no
comment line is lost; a second run changes nothing; and the engine reported no
internal error.  One function runs the whole corpus and lists every failure, as in
``test_oracle_corpus.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import dockerfile
import pytest
from conftest import OracleCannotTell, dockfix_records, oracle_records, record_differences

from dockfix import ParseError, parse
from dockfix.engine import FixResult, comment_lines, fix_document
from dockfix.rules import select_rules
from dockfix.rules.base import Settings

pytestmark = pytest.mark.corpus

CODES = ("DF103", "DF104", "DF105", "DF106", "DF107", "DF108", "DF109")
RULES = select_rules(CODES)
SETTINGS = Settings(unsafe_fixes=True)


@dataclass(frozen=True)
class Outcome:
    """One corpus file after the fix: its text before and the engine's result."""

    name: str
    text: str
    result: FixResult


@pytest.fixture(scope="module")
def outcomes(corpus_texts: dict[str, str]) -> list[Outcome]:
    found = []
    for name, text in corpus_texts.items():
        try:
            document = parse(text)
        except ParseError:
            continue  # BuildKit rejects it too (see test_oracle_corpus)
        found.append(Outcome(name, text, fix_document(document, RULES, SETTINGS)))
    return found


def _accepted(text: str) -> bool | None:
    """Whether BuildKit accepts ``text``; None when the oracle cannot tell."""
    try:
        oracle_records(text)
    except dockerfile.GoParseError:
        return False
    except OracleCannotTell:
        return None
    return True


def test_fixes_keep_files_valid_and_stable(outcomes: list[Outcome]) -> None:
    failures: list[str] = []
    changed: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    for outcome in outcomes:
        name, result = outcome.name, outcome.result
        findings.update(finding.code for finding in result.findings)
        failures += [f"{name}: engine problem: {problem}" for problem in result.problems]
        if not result.changed:
            continue
        changed.update(result.fixed.keys())
        if _accepted(outcome.text) and not _accepted(result.output):
            failures.append(f"{name}: BuildKit rejects the output")
        elif _accepted(result.output):
            theirs, ours = oracle_records(result.output), dockfix_records(result.output)
            failures += [f"{name}: {d}" for d in record_differences(theirs, ours)][:1]
        output = parse(result.output)
        lost = comment_lines(parse(outcome.text)) - comment_lines(output)
        if lost:
            failures.append(f"{name}: comment lines lost: {sorted(lost)[:3]}")
        if fix_document(output, RULES, SETTINGS).changed:
            failures.append(f"{name}: a second run changes the output again")
    files = sum(1 for outcome in outcomes if outcome.result.changed)
    print(
        f"\npackage hygiene rules over {len(outcomes)} files: {files} changed; "
        f"files changed per rule {dict(sorted(changed.items()))}; "
        f"findings per rule {dict(sorted(findings.items()))}; {len(failures)} failures"
    )
    assert files, "the corpus has apt/apk/dnf files; none were changed"
    assert not failures, "\n".join(failures[:200])
