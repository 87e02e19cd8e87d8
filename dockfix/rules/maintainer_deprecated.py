r"""DF003 maintainer-deprecated: ``MAINTAINER`` instead of an authors label.

What it does
    Replaces ``MAINTAINER text`` with ``LABEL org.opencontainers.image.authors="text"``.

Why is this bad?
    ``MAINTAINER`` has been deprecated since Docker 1.13; the OCI annotation is what
    registries and scanners read.  BuildKit warns about it (check
    ``MaintainerDeprecated``); hadolint reports it as DL4000.

Example
    ``MAINTAINER Jane <jane@example.com>`` becomes
    ``LABEL org.opencontainers.image.authors="Jane <jane@example.com>"``.

Fix safety
    Safe.  The text is put in double quotes with ``"``, ``$`` and the escape character
    escaped, so the label holds exactly the old text (``MAINTAINER`` never expanded
    variables; ``LABEL`` would).  Quotes around the whole text
    (``MAINTAINER "John <j@x>"``) are delimiters the author wrote for the shell habit,
    not part of the name: they are dropped (``authors="John <j@x>"``), not doubled
    into ``"\"John <j@x>\""``.  The image's ``Author`` field is no longer set; the
    label replaces it, which is the point of the deprecation.  Not rewritten when the
    instruction spans lines holding comments, or stands before the first ``FROM``.

References
    practices.md, last paragraph; BuildKit ``MaintainerDeprecated``; hadolint DL4000.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext

AUTHORS_LABEL = "org.opencontainers.image.authors"


def quote_label_value(text: str, escape: str) -> str:
    """Double-quote ``text`` so that BuildKit's word expansion gives ``text`` back."""
    out = []
    for ch in text:
        if ch in ('"', "$", escape):
            out.append(escape)
        out.append(ch)
    return '"' + "".join(out) + '"'


def unwrap_quotes(text: str) -> str:
    """``"John <j@x>"`` -> ``John <j@x>``: one pair of quotes around the whole text."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        inner = stripped[1:-1]
        if stripped[0] not in inner and inner.strip():
            return inner
    return text


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    seen_from = False
    for instruction in document.instructions:
        if instruction.cmd == "FROM":
            seen_from = True
        if instruction.cmd != "MAINTAINER":
            continue
        message = "MAINTAINER is deprecated; use an org.opencontainers.image.authors label"
        if not seen_from:
            yield rule.finding(message, instruction, note="before the first FROM")
            continue
        if not instruction.value:
            continue  # a bare MAINTAINER is a build error, reported by validation
        if instruction.comments:
            yield rule.finding(message, instruction, note="spans lines with comments")
            continue
        style = document.style
        label = style.keyword("LABEL")
        value = quote_label_value(unwrap_quotes(instruction.value[0]), document.escape)
        indent = instruction.pieces[0].text if instruction.pieces[0].kind == "ws" else ""
        new = document.make_instruction(
            f"{indent}{label} {AUTHORS_LABEL}={value}", eol=instruction.eol
        )
        yield rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF003",
    name="maintainer-deprecated",
    summary="Replace deprecated `MAINTAINER` with an `org.opencontainers.image.authors` label",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"MAINTAINER"}),
)
