"""DF006 consistent-instruction-casing: instruction keywords in more than one case.

What it does
    Writes every instruction keyword in the case most of the file's keywords use
    (upper case on a tie): ``From``, ``Run`` and ``run`` in a file of upper-case
    keywords become ``FROM`` and ``RUN``.  The keyword wrapped by ``ONBUILD`` follows too.

Why is this bad?
    Mixed keyword casing reads as carelessness and makes instructions harder to tell
    apart from their arguments; BuildKit warns about it (check
    ``ConsistentInstructionCasing``).

Example
    In a file of upper-case instructions, ``EntRYpOiNT ["cat", "/greeting.txt"]``
    becomes ``ENTRYPOINT ["cat", "/greeting.txt"]``.

Fix safety
    Safe: Dockerfile keywords are case-insensitive.  The ``AS`` of a ``FROM`` whose
    keyword changes case is then matched by DF002 (from-as-casing).

References
    BuildKit check ``ConsistentInstructionCasing``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Instruction, Piece


def _cased(word: str, upper: bool) -> str:
    return word.upper() if upper else word.lower()


def _keyword_pieces(instruction: Instruction) -> tuple[Piece, ...]:
    """The keyword and, for ``ONBUILD``, the keywords it wraps: only an instruction read
    with a wrapped command (``reading.sub_cmd``) has those, so the others' pieces need
    no search."""
    if instruction.reading.sub_cmd is None:
        return (instruction.keyword_piece,)
    return (instruction.keyword_piece, *instruction.pieces_of("subkeyword"))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    instructions = document.instructions
    keywords = [i.keyword for i in instructions]
    lower = sum(1 for k in keywords if k.islower())
    upper = sum(1 for k in keywords if k.isupper())
    majority_upper = upper >= lower
    casing = "upper" if majority_upper else "lower"
    for instruction in instructions:
        changes: list[tuple[Piece, str]] = []
        for piece in _keyword_pieces(instruction):
            wanted = _cased(piece.text, majority_upper)
            if piece.text != wanted:
                changes.append((piece, wanted))
        if not changes:
            continue
        new = document.edit_pieces(instruction, changes)
        shown = changes[0][0].text
        yield rule.finding(
            f"instruction '{shown}' should be written in {casing} case like the rest of the file",
            changes[0][0],
            edits=[Edit(instruction, (new,))],
        )


RULE = Rule(
    code="DF006",
    name="consistent-instruction-casing",
    summary="Write every instruction keyword in the case most of the file uses",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
)
