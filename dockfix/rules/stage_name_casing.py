"""DF005 stage-name-casing: a stage name with upper-case letters.

What it does
    Lowercases the name of a stage (``FROM image AS Builder``) and every reference to
    it: ``FROM Builder``, ``COPY --from=Builder`` and ``RUN --mount=...,from=Builder``.

Why is this bad?
    Stage names are case-insensitive (BuildKit lowercases them), so mixed case only
    hides that ``Builder`` and ``builder`` are the same stage; lowercase names also
    tell stage names apart from instruction keywords.  BuildKit warns about it (check
    ``StageNameCasing``).

Example
    ``FROM alpine AS BuilderBase`` becomes ``FROM alpine AS builderbase``, and
    ``COPY --from=BuilderBase /out /out`` becomes ``COPY --from=builderbase /out /out``.

Fix safety
    Safe: BuildKit resolves stage names and references case-insensitively, so every
    reference still names the same stage; ``docker build --target Builder`` keeps
    working too.  A name with a variable is left alone.

References
    BuildKit check ``StageNameCasing``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Dockerfile, Instruction, Piece


def _references(instruction: Instruction, name: str) -> list[tuple[Piece, str]]:
    """Piece edits that lowercase the references to stage ``name`` in ``instruction``."""
    wanted = name.lower()
    edits: list[tuple[Piece, str]] = []
    if instruction.cmd == "FROM":
        words = instruction.pieces_of("word")
        if words and words[0].text.lower() == wanted and words[0].text != wanted:
            edits.append((words[0], wanted))
    for flag in instruction.flags:
        if flag.name == "from" and flag.value is not None and flag.value.lower() == wanted:
            if flag.value != wanted and flag.piece.text == f"--from={flag.value}":
                edits.append((flag.piece, f"--from={wanted}"))
        elif flag.name == "mount" and flag.value:
            pattern = re.compile(r"(?<=[=,])from=" + re.escape(name) + r"(?=,|$)", re.IGNORECASE)
            text = pattern.sub(f"from={wanted}", flag.piece.text)
            if text != flag.piece.text:
                edits.append((flag.piece, text))
    return edits


def _rename(document: Dockerfile, definition: Instruction, piece: Piece, name: str) -> list[Edit]:
    edits = [Edit(definition, (document.replace_piece(definition, piece, name.lower()),))]
    seen = False
    for instruction in document.instructions:
        if instruction is definition:
            seen = True
            continue
        if not seen:
            continue
        changes = _references(instruction, name)
        if changes:
            edits.append(Edit(instruction, (document.edit_pieces(instruction, changes),)))
    return edits


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for stage in document.stages:
        instruction = stage.from_instruction
        words = instruction.pieces_of("word")
        if len(words) < 3 or words[1].text.lower() != "as":
            continue
        piece = words[2]
        name = piece.text
        if name.lower() == name or "$" in name:
            continue
        yield rule.finding(
            f"stage name '{name}' should be lowercase",
            piece,
            edits=_rename(document, instruction, piece, name),
        )


RULE = Rule(
    code="DF005",
    name="stage-name-casing",
    summary="Write stage names in lowercase, and every reference to them",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
