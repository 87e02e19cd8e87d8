"""DF015 undefined-arg-in-from: a ``FROM`` that uses a variable no ``ARG`` declares.

What it does
    Reports ``$NAME`` and ``${NAME}`` in a ``FROM`` line (image or ``--platform``) when
    no ``ARG NAME`` comes before the first ``FROM`` and ``NAME`` is not one of the
    platform arguments BuildKit predefines (``TARGETPLATFORM``, ``BUILDARCH``...).

Why is this bad?
    An undeclared variable expands to an empty string, so ``FROM node:22${VARIANT}``
    silently pulls ``node:22``, and ``--build-arg VARIANT=...`` has no effect.  A
    misspelt platform argument (``$TARGETARCh``) is the usual cause.  BuildKit warns
    about it (check ``UndefinedArgInFrom``).

Example
    ``FROM node:22${VARIANT} AS jsbuilder`` with no ``ARG VARIANT`` above it is
    reported.

Fix safety
    No fix: the default value (or the name that was meant) is the author's decision.

References
    BuildKit check ``UndefinedArgInFrom``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext

PREDEFINED = frozenset(
    {
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
    }
)
_VARIABLE = lazy_re.compile(r"(?<!\\)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    declared = context.model.global_args
    for stage in context.document.stages:
        instruction = stage.from_instruction
        texts = [piece for piece in instruction.pieces_of("word", "flag")]
        for piece in texts:
            for match in _VARIABLE.finditer(piece.text):
                name = match.group(1) or match.group(2)
                if name in declared or name in PREDEFINED:
                    continue
                close = [p for p in PREDEFINED if p.lower() == name.lower()]
                hint = f" (did you mean ${close[0]}?)" if close else ""
                yield rule.finding(
                    f"FROM argument '{name}' is not declared{hint}",
                    piece,
                    note="an undeclared ARG expands to an empty string",
                )


RULE = Rule(
    code="DF015",
    name="undefined-arg-in-from",
    summary="Declare with `ARG` before the first `FROM` every variable a `FROM` uses",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
