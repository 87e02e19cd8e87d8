"""Every rule over the real-world corpus: the safety contract, measured on 2,093 files.

All rules together, in three configurations (safe fixes; unsafe fixes with the wheels
split; unsafe with the venv split).  For every file: no internal error, and for every
file a run changed (see ``corpus_checks``): BuildKit still accepts it and reads it as
dockfix does, no comment line is lost, added ``USER``s name real users, exec-form
conversions run what the shell ran, the final image's configuration changes only as
the fixes declare, and a second run changes nothing.  Files are spread
over worker processes: this is the slowest test of the suite.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pytest
from corpus_checks import output_failures

from dockfix.engine import fix_document
from dockfix.rules import ALL_RULES
from dockfix.rules.base import Settings
from dockfix.syntax import ParseError, parse

pytestmark = pytest.mark.corpus

CONFIGURATIONS = {
    "safe": Settings(),
    "unsafe-wheels": Settings(unsafe_fixes=True, split_strategy="wheels"),
    "unsafe-venv": Settings(unsafe_fixes=True, split_strategy="venv"),
}


@dataclass
class Outcome:
    """What the contract check found for one file."""

    name: str
    changed: bool = False
    failures: list[str] = field(default_factory=list)
    findings: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)


def check_file(item: tuple[str, str, Settings]) -> Outcome:
    name, text, settings = item
    outcome = Outcome(name)
    try:
        document = parse(text)
    except ParseError:
        return outcome  # BuildKit rejects it too (see test_oracle_corpus)
    result = fix_document(document, ALL_RULES, settings, context_dir=None)
    outcome.findings.update(f.code for f in result.findings)
    outcome.fixed.update(result.fixed)
    outcome.failures += [f"engine problem: {problem}" for problem in result.problems]
    if not result.changed:
        return outcome
    outcome.changed = True
    outcome.failures += output_failures(text, result.output, unsafe=settings.unsafe_fixes)
    again = fix_document(parse(result.output), ALL_RULES, settings, context_dir=None)
    if again.output != result.output:
        outcome.failures.append("a second run changes the output again")
    return outcome


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_fixes_keep_the_contract(corpus_texts: dict[str, str], configuration: str) -> None:
    settings = CONFIGURATIONS[configuration]
    items = [(name, text, settings) for name, text in corpus_texts.items()]
    # spawn, not fork: a forked child of a threaded pytest can deadlock on a held lock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        outcomes = list(pool.map(check_file, items, chunksize=32))
    findings: Counter[str] = Counter()
    fixed: Counter[str] = Counter()
    for outcome in outcomes:
        findings.update(outcome.findings)
        fixed.update(outcome.fixed)
    changed = sum(o.changed for o in outcomes)
    print(
        f"\n{configuration}: {changed} of {len(outcomes)} files changed\n"
        f"  findings {dict(sorted(findings.items()))}\n  fixed {dict(sorted(fixed.items()))}"
    )
    failures = [f"{o.name}: {failure}" for o in outcomes for failure in o.failures]
    assert not failures, failures[:10]
