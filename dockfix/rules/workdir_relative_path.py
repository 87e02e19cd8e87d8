"""DF010 workdir-relative-path: a relative ``WORKDIR`` before any absolute one.

What it does
    Finds a ``WORKDIR`` with a relative path (``WORKDIR app``) in a stage where no
    absolute ``WORKDIR`` came before it (in the stage or the stages it builds on), and
    writes the absolute path it resolves to when the folder it is relative to is known.

Why is this bad?
    A relative ``WORKDIR`` is relative to the base image's working directory, which the
    image's maintainers may change at any time: the build then puts files somewhere
    else without a warning (BuildKit check ``WorkdirRelativePath``).

Example
    ``FROM nginx`` + ``WORKDIR usr/share/nginx/html`` becomes ``FROM nginx`` +
    ``WORKDIR /usr/share/nginx/html``.

Fix safety
    Safe when the folder the path is relative to is known: the previous ``WORKDIR`` of
    the stage (or of a stage it builds on) when that one is absolute and has no
    variables the model cannot resolve, or the base image's own working directory when
    the image table knows it (``/`` for Debian, Ubuntu, Alpine, BusyBox, ``python``,
    ``node``, ``nginx`` and ``scratch``, which set none; ``/go`` for ``golang``).  The
    result is the path BuildKit computes (``..`` and ``.`` resolved).  Reported without
    a fix for other base images (``php`` sets ``/var/www/html``, not in the table),
    unresolved variables, quoted paths and Windows stages.

References
    BuildKit check ``WorkdirRelativePath``; hadolint DL3000.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.images.table import workdir_of_every_tag
from dockfix.model import Platform, StageFacts
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Instruction


def _is_relative(path: str) -> bool:
    path = path.strip("\"'")
    return not (path.startswith(("/", "$", "\\")) or (len(path) > 1 and path[1] == ":"))


def _plain(path: str) -> bool:
    """A path written without quotes, escapes, blanks or variables."""
    return not any(char in path for char in "\"'\\$ \t")


def _base_workdir(facts: StageFacts, aliases: tuple[tuple[str, str], ...]) -> str | None:
    """The working directory the root of the lineage starts in, when the image table
    knows it (``ImageTraits.workdir``).  A tag given by a build argument
    (``debian:${VERSION}``) leaves the repository known: its working directory is
    known when every tag of it has the same."""
    if facts.traits is not None:
        return facts.traits.workdir
    raw, image = facts.root.stage.image, facts.root.image
    if image is None or image.has_variables or "$" in raw.name or "$" in (raw.registry or ""):
        return None
    name = f"{image.registry}/{image.name}" if image.registry else image.name
    return workdir_of_every_tag(name, aliases)


def _resolve(
    facts: StageFacts, instruction: Instruction, aliases: tuple[tuple[str, str], ...]
) -> tuple[bool, str | None, str]:
    """Whether an absolute WORKDIR came before ``instruction`` (in the lineage); else the
    absolute path it resolves to (None when unknown) and why it is unknown."""
    earlier: list[str] = []
    for ancestor in reversed(facts.lineage):
        for candidate in ancestor.stage.instructions:
            if candidate is instruction:
                break
            if candidate.cmd == "WORKDIR" and candidate.value:
                earlier.append(candidate.value[0])
    if any(not _is_relative(path) for path in earlier):
        return True, None, ""
    current = _base_workdir(facts, aliases)
    if current is None:
        return False, None, "the base image's working directory is not known"
    for path in (*earlier, instruction.value[0]):
        if not _plain(path):
            return False, None, "the path is quoted or has variables"
        current = posixpath.normpath(posixpath.join(current, path))
    if current.startswith("//"):
        current = "/" + current.lstrip("/")
    return False, current, ""


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    aliases = context.settings.image_aliases
    for facts in context.model.stages:
        if facts.platform is Platform.WINDOWS:
            continue
        for instruction in facts.stage.instructions:
            if instruction.cmd != "WORKDIR" or len(instruction.value) != 1:
                continue
            path = instruction.value[0]
            if not _is_relative(path):
                continue
            absolute, resolved, why = _resolve(facts, instruction, aliases)
            if absolute:
                continue  # relative to a WORKDIR the file sets: BuildKit does not warn
            message = (
                f"relative workdir '{path}' can have unexpected results if the base image changes"
            )
            arguments = instruction.arguments
            if resolved is None or len(arguments) != 1 or arguments[0].text != path:
                yield rule.finding(message, instruction, note=why or "the path is quoted")
                continue
            new = document.replace_piece(instruction, arguments[0], resolved)
            yield rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF010",
    name="workdir-relative-path",
    summary="Write `WORKDIR` as an absolute path when the folder it is relative to is known",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"WORKDIR"}),
)
