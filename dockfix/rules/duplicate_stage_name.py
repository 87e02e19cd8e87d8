"""DF013 duplicate-stage-name: two stages with the same name.

What it does
    Reports a ``FROM ... AS name`` whose name (compared case-insensitively, as BuildKit
    does) an earlier stage already has.

Why is this bad?
    ``FROM name`` and ``COPY --from=name`` cannot tell the two stages apart: BuildKit
    refuses the file (check ``DuplicateStageName``).

Example
    ``FROM debian AS builder`` and later ``FROM golang AS builder`` is reported on the
    second.

Fix safety
    No fix: which stage each reference means, and so which one to rename, is the
    author's decision.

References
    BuildKit check ``DuplicateStageName``; hadolint DL3024.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for stage in context.document.stages:
        instruction = stage.from_instruction
        name = stage.alias
        if name is None:
            continue
        words = instruction.pieces_of("word")
        at = words[2] if len(words) >= 3 else instruction
        key = name.lower()
        if key in seen:
            yield rule.finding(
                f"duplicate stage name '{name}' (first on line {seen[key]}): stage names "
                "should be unique",
                at,
                note="which stage to rename is the author's decision",
            )
        else:
            seen[key] = instruction.line


RULE = Rule(
    code="DF013",
    name="duplicate-stage-name",
    summary="Give every stage its own name",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    severity="error",
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
