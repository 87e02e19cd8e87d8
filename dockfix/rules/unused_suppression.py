"""DF900 unused-suppression: a ``# dockfix: ignore`` that silences nothing.

What it does
    Reports ``# dockfix: ignore[...]`` and ``# dockfix: ignore-file[...]`` comments, or
    codes in them, that silenced no finding in this run, and codes that name no rule.
    Opt-in (``--select DF900``), like ruff's RUF100.

Why is this bad?
    A suppression outlives the problem it was written for: once the instruction is
    fixed, the stale comment would silently hide the next real finding there.

Example
    ``# dockfix: ignore[DF104]`` above ``RUN apt-get install -y curl``: nothing to
    silence, remove the comment.

Fix safety
    No fix (display only): removing a comment is left to the author.  Only dockfix's own
    comments are judged (``# hadolint ignore=`` and ``# check=skip=`` serve those tools),
    and a code whose rule did not run (not selected) is not judged.  The findings are
    computed by the engine after the other rules ran on the input, so this check itself
    does nothing.

References
    ruff's RUF100 (unused-noqa).
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext

CODE = "DF900"


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    """Nothing: the engine knows which pragmas were used only after all rules ran."""
    return iter(())


RULE = Rule(
    code=CODE,
    name="unused-suppression",
    summary="A `# dockfix: ignore` comment that silences nothing (opt-in)",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    default_enabled=False,
)
