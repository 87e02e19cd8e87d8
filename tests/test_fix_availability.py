"""The registry tells the truth about fixes: every fix a rule emits on the fixtures has an
applicability the rule declares, a rule declaring ``NEVER`` emits none, and one declaring
``ALWAYS`` fixes every finding it makes (before the engine's preconditions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_cases import case_options, cases, context_of, read, run_case

from dockfix.edits import Applicability, FixAvailability
from dockfix.rules import lookup
from dockfix.rules.base import Rule, RuleContext, Settings
from dockfix.syntax import parse

CASES = cases()


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.in.Dockerfile')}"


def _rules(case: Path) -> tuple[list[Rule], dict[str, object]]:
    options = case_options(case)
    codes = options.pop("rules", ())
    found = [lookup(case.parent.name), *(lookup(code) for code in codes)]
    return [rule for rule in found if rule is not None], options


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_emitted_fixes_match_the_declarations(case: Path) -> None:
    rules, options = _rules(case)
    document = parse(read(case))
    for unsafe in (False, True):
        settings = Settings(unsafe_fixes=unsafe, **options)  # type: ignore[arg-type]
        context = RuleContext(document, case, context_of(case), settings)
        for rule in rules:
            for finding in rule.run(context):
                if finding.fix is None:
                    assert rule.fix_availability is not FixAvailability.ALWAYS, (
                        f"{rule.code} declares ALWAYS but left {finding.message!r} unfixed"
                    )
                    continue
                assert rule.fix_availability is not FixAvailability.NEVER, rule.code
                assert finding.fix.applicability in rule.kinds, (
                    f"{rule.code} emitted a {finding.fix.applicability.value} fix; "
                    f"it declares {rule.fix_label}"
                )


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_reported_fixes_match_the_declarations(case: Path) -> None:
    """What users see: the engine may only make a declared safe fix unsafe, and only for a
    rule with preconditions (one it cannot decide)."""
    result = run_case(case, unsafe=True)
    for finding in result.findings:
        rule = lookup(finding.code)
        assert rule is not None
        if finding.fix is None:
            continue
        allowed = set(rule.kinds)
        if rule.preconditions and Applicability.SAFE in allowed:
            allowed.add(Applicability.UNSAFE)
        assert finding.fix.applicability in allowed, finding
