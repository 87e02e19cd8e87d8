"""Every fixture pair: findings, output, idempotence, round trip, minimal change.

Regenerate expectations with ``python tests/fixture_cases.py`` and review the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from dockfix.syntax import parse
from fixture_cases import cases, expected_paths, findings_text, read, run_case

CASES = cases()


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.in.Dockerfile')}"


def test_every_rule_has_fixtures() -> None:
    from dockfix.rules import ALL_RULES

    folders = {path.parent.name for path in CASES}
    missing = [rule.name for rule in ALL_RULES if rule.name not in folders]
    assert not missing, f"rules without fixtures: {missing}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_findings(case: Path) -> None:
    _, _, findings = expected_paths(case)
    assert findings_text(run_case(case, unsafe=False)) == findings.read_text(encoding="utf-8")


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_output_and_idempotence(case: Path, unsafe: bool) -> None:
    original = read(case)
    result = run_case(case, unsafe=unsafe)
    assert not result.problems
    out, unsafe_out, _ = expected_paths(case)
    if case.name.startswith("ok-"):
        assert result.output == original, "an ok-* case must stay unchanged"
        return
    expected_file = unsafe_out if unsafe and unsafe_out.exists() else out
    assert result.output == read(expected_file)
    assert result.output != original, "a fixture that changes nothing should be named ok-*"
    # idempotent: a second run finds nothing more to fix
    again = run_case_text(case, result.output, unsafe=unsafe)
    assert again == result.output
    # lossless round trip of the result
    assert parse(result.output).to_string() == result.output


def run_case_text(case: Path, text: str, *, unsafe: bool) -> str:
    from dockfix.engine import fix_document
    from dockfix.rules import lookup
    from dockfix.rules.base import Settings

    rule = lookup(case.parent.name)
    assert rule is not None
    result = fix_document(
        parse(text), (rule,), Settings(unsafe_fixes=unsafe), context_dir=case.parent
    )
    return result.output


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_only_lines_of_flagged_instructions_change(case: Path) -> None:
    original = read(case)
    result = run_case(case, unsafe=True)
    document = parse(original)
    flagged_lines: set[int] = set()
    finding_lines = {finding.line for finding in result.findings}
    for instruction in document.instructions:
        span = range(instruction.start_line, instruction.end_line + 1)
        if finding_lines & set(span):
            flagged_lines.update(span)
    old_lines = original.split("\n")
    new_lines = result.output.split("\n")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        touched = set(range(i1 + 1, i2 + 1)) or {i1}
        assert touched <= flagged_lines | {i1}, f"lines {sorted(touched)} changed without a finding"
