"""DF016 invalid-default-arg-in-from: a ``FROM`` that needs ``--build-arg`` to be valid.

What it does
    Expands the image of each ``FROM`` with the defaults of the ``ARG``s declared before
    the first ``FROM`` (an ``ARG`` without a default is empty) and reports the line when
    the result is not a valid image reference (``busybox:`` from ``busybox:${TAG}``).

Why is this bad?
    A plain ``docker build .`` fails with an invalid reference: the file only builds
    when the caller knows which ``--build-arg`` to pass.  BuildKit warns about it
    (check ``InvalidDefaultArgInFrom``).

Example
    ``ARG TAG`` + ``FROM busybox:${TAG}`` is reported; ``ARG TAG=latest`` or
    ``FROM busybox:${TAG:-latest}`` is not.

Fix safety
    No fix: the right default is the author's decision.

References
    BuildKit check ``InvalidDefaultArgInFrom``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model.expand import expand
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell.model import unquote

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*(?::[0-9]+)?/)?"
_REFERENCE = lazy_re.compile(
    rf"{_DOMAIN}{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@[A-Za-z0-9_+.-]+:[A-Fa-f0-9]+)?"
)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    # BuildKit removes the quotes of an ARG default (`ARG VARIANT="bookworm"`).
    defaults = {
        name: unquote(value or "") or (value or "")
        for name, value in context.model.global_args.items()
    }
    for stage in context.document.stages:
        instruction = stage.from_instruction
        words = instruction.pieces_of("word")
        if not words or "$" not in words[0].text or not instruction.value:
            continue
        image = instruction.value[0]
        names = re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", image)
        if not names or any(name not in defaults for name in names):
            continue  # undeclared variables are DF015's
        resolved = expand(image, defaults)
        if resolved is None or _REFERENCE.fullmatch(resolved):
            continue
        yield rule.finding(
            f"default value for global ARG results in an invalid base image name '{resolved}'",
            words[0],
            note="the build needs --build-arg to be valid",
        )


RULE = Rule(
    code="DF016",
    name="invalid-default-arg-in-from",
    summary="Give `ARG`s used in `FROM` defaults that make a valid image name",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    severity="error",
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"FROM"}),
)
