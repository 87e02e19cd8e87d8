"""Every fixture pair: findings, output, idempotence, round trip, minimal change.

Regenerate expectations with ``python tests/fixture_cases.py`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_cases import (
    case_options,
    cases,
    context_of,
    expected_paths,
    findings_text,
    read,
    run_case,
)

from dockfix.syntax import parse

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
    # A rule whose fixes are all unsafe changes nothing without --unsafe-fixes.
    if unsafe or not unsafe_out.exists():
        assert result.output != original, "a fixture that changes nothing should be named ok-*"
    # idempotent: a second run finds nothing more to fix
    again = run_case_text(case, result.output, unsafe=unsafe)
    assert again == result.output
    # lossless round trip of the result
    assert parse(result.output).to_string() == result.output


def result_document(case: Path):  # type: ignore[no-untyped-def]
    """The tree the findings' edits refer to (the first round's)."""
    from dockfix.engine import run_rules
    from dockfix.rules import lookup
    from dockfix.rules.base import RuleContext, Settings

    document = parse(read(case))
    rule = lookup(case.parent.name)
    assert rule is not None
    options = {k: v for k, v in case_options(case).items() if k != "rules"}
    settings = Settings(**{**options, "unsafe_fixes": True})
    context = RuleContext(document, case, context_of(case), settings)
    result_document.findings = run_rules((rule,), context)  # type: ignore[attr-defined]
    return document


def run_case_text(case: Path, text: str, *, unsafe: bool) -> str:
    """``text`` run as the case itself runs: its rules and ``.settings.json`` settings."""
    from dockfix.engine import fix_document
    from dockfix.rules import lookup
    from dockfix.rules.base import Settings

    rule = lookup(case.parent.name)
    assert rule is not None
    options = case_options(case)
    rules = (rule, *(lookup(code) for code in options.pop("rules", ())))
    assert None not in rules, f"{case.name}: unknown rule in its settings"
    settings = Settings(unsafe_fixes=unsafe, **options)
    result = fix_document(
        parse(text),
        rules,  # type: ignore[arg-type]
        settings,
        path=case,
        context_dir=context_of(case),
    )
    return result.output


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_only_lines_of_flagged_instructions_change(case: Path) -> None:
    """Every line outside the nodes a fix edits survives, byte for byte and in order."""
    result = run_case(case, unsafe=True)
    document = result_document(case)
    findings = result_document.findings  # type: ignore[attr-defined]
    edited = {id(edit.old) for f in findings if f.fix for edit in f.fix.edits}
    kept = [node.to_string() for node in document.nodes if id(node) not in edited]
    output = result.output
    cursor = 0
    for text in kept:
        found = output.find(text, cursor)
        assert found >= 0, f"unedited text {text!r} changed or moved out of order"
        cursor = found + len(text)
