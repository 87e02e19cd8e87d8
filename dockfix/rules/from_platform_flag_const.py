"""DF017 from-platform-flag-const: ``FROM --platform=`` with a constant value.

What it does
    Reports ``FROM --platform=linux/amd64 image`` (a value without variables) unless the
    stage's name says which platform it is for (``AS build_amd64``), the pattern of
    per-architecture stages.

Why is this bad?
    A constant platform ties the stage to one architecture: a multi-platform build
    (``--platform linux/amd64,linux/arm64``) gets amd64 binaries in its arm64 image, and
    a build on another machine runs under emulation.  Leave the flag out (the target
    platform is the default), or use ``$BUILDPLATFORM`` for stages that only build.
    BuildKit warns about it (check ``FromPlatformFlagConstDisallowed``).

Example
    ``FROM --platform=linux/amd64 alpine AS base`` is reported.

Fix safety
    No fix: removing the flag changes which image is pulled on other machines, and
    ``$BUILDPLATFORM`` is only right for stages whose output does not run in the image.

References
    BuildKit check ``FromPlatformFlagConstDisallowed``; hadolint DL3029.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    for stage in context.document.stages:
        instruction = stage.from_instruction
        flag = instruction.flag("platform")
        if flag is None or not flag.value or "$" in flag.value:
            continue
        name = (stage.alias or "").lower()
        parts = [part for part in flag.value.lower().split("/") if part]
        if name and any(part in name for part in parts):
            continue
        yield rule.finding(
            f'FROM --platform flag should not use constant value "{flag.value}"',
            flag.piece,
            note="leaving it out or using $BUILDPLATFORM is the author's decision",
        )


RULE = Rule(
    code="DF017",
    name="from-platform-flag-const",
    summary="Do not pin `FROM --platform` to a constant value",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
