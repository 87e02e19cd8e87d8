"""DF014 reserved-stage-name: a stage named ``scratch`` or ``context``.

What it does
    Reports ``FROM ... AS scratch`` and ``FROM ... AS context``.

Why is this bad?
    ``scratch`` is the empty image and ``context`` names the build context in
    ``COPY --from`` and named contexts: a stage with either name makes ``FROM scratch``
    or ``--from=context`` ambiguous, and BuildKit warns about it (check
    ``ReservedStageName``).

Example
    ``FROM alpine AS scratch`` is reported.

Fix safety
    No fix: a new name is the author's choice, and which later ``scratch`` means the
    stage and which the empty image cannot be known.

References
    BuildKit check ``ReservedStageName``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext

_RESERVED = frozenset({"scratch", "context"})


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    for stage in context.document.stages:
        name = stage.alias
        if name is None or name.lower() not in _RESERVED:
            continue
        words = stage.from_instruction.pieces_of("word")
        yield rule.finding(
            f"'{name}' is reserved and should not be used as a stage name",
            words[2] if len(words) >= 3 else stage.from_instruction,
            note="a new name is the author's choice",
        )


RULE = Rule(
    code="DF014",
    name="reserved-stage-name",
    summary="Do not name a stage `scratch` or `context`",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
