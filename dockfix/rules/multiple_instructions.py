"""DF011 multiple-instructions: several ``CMD``, ``ENTRYPOINT`` or ``HEALTHCHECK`` in a stage.

What it does
    Deletes every ``CMD``, ``ENTRYPOINT`` and ``HEALTHCHECK`` of a stage but the last of
    each kind.

Why is this bad?
    An image has one command, one entrypoint and one health check: only the last of each
    in a stage takes effect, so the earlier ones are dead lines that mislead the reader
    (BuildKit check ``MultipleInstructionsDisallowed``).

Example
    ``CMD echo "Hello, Norway!"`` followed by ``CMD echo "Hello, Sweden!"``: the first
    line is removed.  (Docker's documentation suggests joining both commands into one;
    that would change what the container runs, so dockfix keeps the one that ran.)

Fix safety
    Safe: the image configuration is the same.  ``ENTRYPOINT`` clears a ``CMD``
    inherited from the base image only while the stage has set no ``CMD`` of its own;
    deleting an earlier duplicate never changes that, because the kept ``CMD`` (the
    last) is still set before or after the ``ENTRYPOINT`` exactly as before.  A
    ``CMD`` before a later ``ENTRYPOINT`` is a different kind and is kept.  A later
    ``HEALTHCHECK`` replaces an earlier one completely (options included).  ``ONBUILD``
    triggers run in other builds and are not counted.  An earlier instruction with
    comment lines inside its continuation is reported, not deleted.

References
    BuildKit check ``MultipleInstructionsDisallowed``; practices.md row 10.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability, FixBuilder
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext

_KINDS = ("CMD", "ENTRYPOINT", "HEALTHCHECK")


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for stage in document.stages:
        for kind in _KINDS:
            found = [i for i in stage.instructions if i.cmd == kind]
            if len(found) < 2:
                continue
            last = found[-1]
            for instruction in found[:-1]:
                message = (
                    f"multiple {kind} instructions in one stage: only the last one "
                    f"(line {last.line}) is used"
                )
                if instruction.comments:
                    yield rule.finding(
                        message, instruction, note="comment lines inside it would be lost"
                    )
                    continue
                edits = FixBuilder(document).delete(instruction).edits()
                yield rule.finding(message, instruction, edits=edits)


RULE = Rule(
    code="DF011",
    name="multiple-instructions",
    summary="Keep only the last `CMD`, `ENTRYPOINT` and `HEALTHCHECK` of a stage",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset(_KINDS),
)
