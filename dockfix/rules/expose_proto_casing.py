"""DF008 expose-proto-casing: a protocol in ``EXPOSE`` written in upper or mixed case.

What it does
    Lowercases the protocol of ``EXPOSE`` ports: ``EXPOSE 80/TCP`` becomes
    ``EXPOSE 80/tcp``.

Why is this bad?
    BuildKit reads the protocol case-insensitively, so the upper-case spelling only
    differs from the documented one, and BuildKit warns about it (check
    ``ExposeProtoCasing``).

Example
    ``EXPOSE 53/UDP 80/TcP`` becomes ``EXPOSE 53/udp 80/tcp``.

Fix safety
    Safe: the image records the same exposed ports.  Only the letters after the last
    ``/`` of a port change; a word with a variable in its protocol is left alone.

References
    BuildKit check ``ExposeProtoCasing``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext

_PROTO = lazy_re.compile(r"^(?P<port>.*/)(?P<proto>[A-Za-z]+)$")


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for instruction in document.instructions:
        if instruction.cmd != "EXPOSE":
            continue
        edits = []
        for piece in instruction.pieces_of("word"):
            match = _PROTO.match(piece.text)
            if match is None or match["proto"].islower():
                continue
            edits.append((piece, match["port"] + match["proto"].lower()))
        if not edits:
            continue
        new = document.edit_pieces(instruction, edits)
        names = ", ".join(f"'{piece.text}'" for piece, _ in edits)
        yield rule.finding(
            f"protocol of {names} in EXPOSE should be lowercase",
            edits[0][0],
            edits=[Edit(instruction, (new,))],
        )


RULE = Rule(
    code="DF008",
    name="expose-proto-casing",
    summary="Write the protocol of `EXPOSE` ports in lowercase (`80/tcp`)",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"EXPOSE"}),
)
