"""DF202 (build-tools-in-final-image) and DF203 (full-python-base-image) over the corpus.

The engine runs with just these two rules, unsafe fixes included, over every corpus file
dockfix parses, once per split strategy.  For every file they changed: BuildKit (the
``dockerfile`` wheel) accepts the output and reads it as dockfix does, no comment line
is lost, a second run changes nothing, and the engine reported no internal error.  The
counts per rule are printed (``pytest -s``) for the record.
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

RULES = select_rules(("DF202", "DF203"))
STRATEGIES = ("wheels", "venv")


@dataclass(frozen=True)
class Outcome:
    """One corpus file after the fix: its text before and the engine's result."""

    name: str
    text: str
    result: FixResult


def _outcomes(corpus_texts: dict[str, str], settings: Settings) -> list[Outcome]:
    found = []
    for name, text in corpus_texts.items():
        try:
            document = parse(text)
        except ParseError:
            continue  # BuildKit rejects it too (see test_oracle_corpus)
        found.append(Outcome(name, text, fix_document(document, RULES, settings)))
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


def _failures(outcome: Outcome, settings: Settings) -> list[str]:
    name, result = outcome.name, outcome.result
    failures = [f"{name}: engine problem: {problem}" for problem in result.problems]
    if not result.changed:
        return failures
    accepted = _accepted(result.output)
    if accepted is False:
        failures.append(f"{name}: BuildKit rejects the output")
    elif accepted:
        theirs, ours = oracle_records(result.output), dockfix_records(result.output)
        failures += [f"{name}: {d}" for d in record_differences(theirs, ours)][:1]
    output = parse(result.output)
    lost = comment_lines(parse(outcome.text)) - comment_lines(output)
    if lost:
        failures.append(f"{name}: comment lines lost: {sorted(lost)[:3]}")
    if fix_document(output, RULES, settings).changed:
        failures.append(f"{name}: a second run changes the output again")
    return failures


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_split_keeps_files_valid_and_stable(corpus_texts: dict[str, str], strategy: str) -> None:
    settings = Settings(unsafe_fixes=True, split_strategy=strategy)
    outcomes = _outcomes(corpus_texts, settings)
    failures: list[str] = []
    fixed: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    report_only: Counter[str] = Counter()
    for outcome in outcomes:
        for finding in outcome.result.findings:
            findings[finding.code] += 1
            if finding.fix is None:
                report_only[finding.code] += 1
        fixed.update(outcome.result.fixed.keys())
        failures += _failures(outcome, settings)
    changed = sum(1 for outcome in outcomes if outcome.result.changed)
    print(
        f"\nDF202+DF203 ({strategy}) over {len(outcomes)} files: {changed} changed; "
        f"findings per rule {dict(sorted(findings.items()))}; "
        f"report-only {dict(sorted(report_only.items()))}; "
        f"files fixed per rule {dict(sorted(fixed.items()))}; {len(failures)} failures"
    )
    assert changed, "the corpus has single-stage python images; none were split or slimmed"
    assert not failures, "\n".join(failures[:200])
