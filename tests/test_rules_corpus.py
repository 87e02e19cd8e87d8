"""Every rule over the real-world corpus: the safety contract, measured on 2,093 files.

For all rules together, with safe fixes and then with unsafe fixes too: no output that
BuildKit's parser rejects (when it accepted the input), no lost comment line, no file
that a second run changes again, no internal error (dropped fix, non-convergence).
Files are spread over worker processes: this is the slowest test of the suite.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import dockerfile
import pytest

from dockfix.engine import comment_lines, fix_document
from dockfix.rules import ALL_RULES
from dockfix.rules.base import Settings
from dockfix.syntax import ParseError, parse

pytestmark = pytest.mark.corpus


@dataclass
class Outcome:
    """What the contract check found for one file."""

    name: str
    changed: bool = False
    rejected: bool = False
    lost: bool = False
    unstable: bool = False
    problems: tuple[str, ...] = ()
    findings: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)


def _accepted_by_buildkit(text: str) -> bool:
    try:
        dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return False
    return True


def check_file(item: tuple[str, str, bool]) -> Outcome:
    name, text, unsafe = item
    outcome = Outcome(name)
    try:
        document = parse(text)
    except ParseError:
        return outcome
    settings = Settings(unsafe_fixes=unsafe)
    result = fix_document(document, ALL_RULES, settings, context_dir=None)
    outcome.findings.update(f.code for f in result.findings)
    outcome.fixed.update(result.fixed)
    outcome.problems = result.problems
    if not result.changed:
        return outcome
    outcome.changed = True
    outcome.rejected = _accepted_by_buildkit(text) and not _accepted_by_buildkit(result.output)
    outcome.lost = bool(comment_lines(document) - comment_lines(parse(result.output)))
    again = fix_document(parse(result.output), ALL_RULES, settings, context_dir=None)
    outcome.unstable = again.output != result.output
    return outcome


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixes_keep_files_valid_comments_and_stable(
    corpus_texts: dict[str, str], unsafe: bool
) -> None:
    items = [(name, text, unsafe) for name, text in corpus_texts.items()]
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
        f"\n{'unsafe' if unsafe else 'safe'}: {changed} of {len(outcomes)} files changed; "
        f"findings {dict(sorted(findings.items()))}; fixed {dict(sorted(fixed.items()))}"
    )
    assert not [(o.name, o.problems[:2]) for o in outcomes if o.problems]
    assert not [o.name for o in outcomes if o.rejected]
    assert not [o.name for o in outcomes if o.lost]
    assert not [o.name for o in outcomes if o.unstable]
