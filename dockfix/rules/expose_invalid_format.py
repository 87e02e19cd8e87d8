"""DF012 expose-invalid-format: an IP address or host port in ``EXPOSE``.

What it does
    Keeps only the container port (and protocol) of an ``EXPOSE`` port written with an
    IP address or a host port: ``EXPOSE 127.0.0.1:8080:80`` and ``EXPOSE 8080:80``
    become ``EXPOSE 80``.

Why is this bad?
    ``EXPOSE`` documents the ports the container listens on; which host address and
    port they are published to is decided when the container runs (``docker run -p``,
    compose ``ports:``).  Docker ignores the host part already, and BuildKit warns that
    it will become an error (check ``ExposeInvalidFormat``).

Example
    ``EXPOSE 127.0.0.1:80:80/udp`` becomes ``EXPOSE 80/udp``.

Fix safety
    Safe: the image records the same exposed ports, since Docker parses the
    ``ip:host:container`` form and keeps only the container port.  A port with
    variables or quotes is reported, not rewritten.

References
    BuildKit check ``ExposeInvalidFormat``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Piece


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for instruction in document.instructions:
        if instruction.cmd != "EXPOSE":
            continue
        changes: list[tuple[Piece, str]] = []
        unfixable: list[Piece] = []
        for piece in instruction.pieces_of("word"):
            if ":" not in piece.text:
                continue
            if any(char in piece.text for char in "$\"'\\"):
                unfixable.append(piece)
                continue
            changes.append((piece, piece.text.rsplit(":", 1)[1]))
        for piece in unfixable:
            yield rule.finding(_message(piece), piece, note="the port has variables or quotes")
        if changes:
            new = document.edit_pieces(instruction, changes)
            yield rule.finding(
                _message(changes[0][0]), changes[0][0], edits=[Edit(instruction, (new,))]
            )


def _message(piece: Piece) -> str:
    return f"EXPOSE should not define an IP address or host-port mapping, found '{piece.text}'"


RULE = Rule(
    code="DF012",
    name="expose-invalid-format",
    summary="Keep only the container port in `EXPOSE` (no IP address or host port)",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"EXPOSE"}),
)
