"""DF009 redundant-target-platform: ``FROM --platform=$TARGETPLATFORM``.

What it does
    Removes ``--platform=$TARGETPLATFORM`` (or ``${TARGETPLATFORM}``) from a ``FROM``
    that pulls an image.

Why is this bad?
    The target platform is already the default platform of a ``FROM``: the flag says
    nothing, and BuildKit warns about it (check ``RedundantTargetPlatform``).

Example
    ``FROM --platform=$TARGETPLATFORM alpine AS builder`` becomes
    ``FROM alpine AS builder``.

Fix safety
    Safe when the file does not declare ``TARGETPLATFORM`` itself: a global
    ``ARG TARGETPLATFORM=...`` could give it another value than the target platform,
    and then the flag is not redundant (reported).  A ``FROM`` that builds on another
    stage of the file is reported too: its platform comes from that stage.

References
    BuildKit check ``RedundantTargetPlatform``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext

_REDUNDANT = frozenset({"$TARGETPLATFORM", "${TARGETPLATFORM}"})


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    model = context.model
    for facts in model.stages:
        instruction = facts.stage.from_instruction
        flag = instruction.flag("platform")
        if flag is None or flag.value not in _REDUNDANT:
            continue
        message = (
            "setting platform to predefined $TARGETPLATFORM in FROM is redundant as this "
            "is the default behavior"
        )
        if "TARGETPLATFORM" in model.global_args:
            yield rule.finding(
                message, flag.piece, note="the file declares its own ARG TARGETPLATFORM"
            )
            continue
        if facts.parent is not None:
            yield rule.finding(message, flag.piece, note="the FROM builds on a stage of the file")
            continue
        new = document.remove_flag(instruction, "platform")
        yield rule.finding(message, flag.piece, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF009",
    name="redundant-target-platform",
    summary="Drop `--platform=$TARGETPLATFORM` from `FROM`: it is the default",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
