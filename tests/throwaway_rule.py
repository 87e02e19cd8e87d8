"""A throwaway rule for engine tests: one finding carrying the fix a function builds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dockfix.edits import Applicability, Fix
from dockfix.rules.base import Finding, Rule, RuleContext
from dockfix.syntax import Dockerfile


def one_fix_rule(make_fix: Callable[[Dockerfile], Fix | None]) -> Rule:
    """Rule DF999 whose one finding (line 2) carries the fix ``make_fix(document)`` builds."""

    def check(rule: Rule, context: RuleContext) -> Iterable[Finding]:
        fix = make_fix(context.document)
        if fix is not None:
            yield Finding(rule.code, rule.name, "test", 2, 1, fix)

    return Rule("DF999", "test-rule", "test", Applicability.SAFE, check)
