"""Every rule over the real-world corpus: the safety contract, measured on 2,093 files.

For all rules together, with safe fixes and then with unsafe fixes too: no output that
BuildKit's parser rejects (when it accepted the input), no lost comment line, no file
that a second run changes again, no internal error (dropped fix, non-convergence).
"""

from __future__ import annotations

from collections import Counter

import dockerfile
import pytest

from dockfix.engine import comment_lines, fix_document
from dockfix.rules import ALL_RULES
from dockfix.rules.base import Settings
from dockfix.syntax import ParseError, parse

pytestmark = pytest.mark.corpus


def _accepted_by_buildkit(text: str) -> bool:
    try:
        dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return False
    return True


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixes_keep_files_valid_comments_and_stable(
    corpus_texts: dict[str, str], unsafe: bool
) -> None:
    settings = Settings(unsafe_fixes=unsafe)
    rejected, lost, unstable, problems = [], [], [], []
    changed = 0
    fixed: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    for name, text in corpus_texts.items():
        try:
            document = parse(text)
        except ParseError:
            continue
        result = fix_document(document, ALL_RULES, settings, context_dir=None)
        findings.update(f.code for f in result.findings)
        fixed.update(result.fixed)
        if result.problems:
            problems.append((name, result.problems[:2]))
        if not result.changed:
            continue
        changed += 1
        if _accepted_by_buildkit(text) and not _accepted_by_buildkit(result.output):
            rejected.append(name)
        if comment_lines(document) - comment_lines(parse(result.output)):
            lost.append(name)
        again = fix_document(parse(result.output), ALL_RULES, settings, context_dir=None)
        if again.output != result.output:
            unstable.append(name)
    print(
        f"\n{'unsafe' if unsafe else 'safe'}: {changed} of {len(corpus_texts)} files changed; "
        f"findings {dict(sorted(findings.items()))}; fixed {dict(sorted(fixed.items()))}"
    )
    assert not problems, problems[:5]
    assert not rejected, rejected[:5]
    assert not lost, lost[:5]
    assert not unstable, unstable[:5]
