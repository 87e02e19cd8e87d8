"""DF205 python-env-unset: a Python image without ``PYTHONUNBUFFERED``/``PYTHONDONTWRITEBYTECODE``.

What it does
    In the final stage of a Python image, adds
    ``ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1`` (only the variables that are
    missing) on the line right after the stage's ``FROM``.

Why is this bad?
    Without ``PYTHONUNBUFFERED`` Python buffers stdout when it is not a terminal, as in a
    container: log lines arrive late, in bursts, or are lost when the process dies.
    Without ``PYTHONDONTWRITEBYTECODE`` every import writes ``__pycache__`` files into
    the container's writable layer (or fails to, for a read-only file system or a user
    who does not own the code), where they are thrown away with the container.

Example
    ``FROM python:3.12-slim`` followed by ``ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1``.

Fix safety
    Safe.  The variables only change where output is buffered and whether imports write
    bytecode caches; the program's results are the same.  A variable already set by an
    ``ENV`` of the stage or of a stage it builds on counts as set, whatever its value and
    form (``ENV PYTHONUNBUFFERED 1``, ``ENV PYTHONUNBUFFERED=${PYTHONUNBUFFERED}``).  A
    variable declared only by an ``ARG`` is not added: an ``ENV`` of the same name would
    override the build argument in every ``RUN``; the finding says that the build
    argument never reaches the running container.

    Where: right after ``FROM``, before any comment, ``ARG`` or ``LABEL`` lines that
    follow it.  The comments stay with the instructions they describe, the variables
    hold for every later step of the stage (``RUN`` steps that run Python too), and the
    line's place is the same in every file, so it is easy to find and review.

    Only the final stage is changed (the one that runs by default); a Python image is
    one the image table says ships Python (also when the stage installs it), or an image
    the table does not know whose repository is named ``python``.  Windows images are
    left alone.

References
    practices.md rows 19 and 20 (the seed's examples set both variables).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.images import base_traits, stage_traits
from dockfix.rules._runtime import (
    arg_names,
    inherited_env,
    is_windows,
    lineage,
)
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Dockerfile, Instruction, Stage

#: The variables, in the order they are written, and the value given.
VARIABLES = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")


def is_python_image(document: Dockerfile, stage: Stage) -> bool:
    """The image model says the stage has Python, or an unknown image is named ``python``."""
    traits = base_traits(document, stage)
    if traits is None:
        root = lineage(document, stage)[-1].image
        return posixpath.basename(root.repository.lower()) == "python"
    # Only when the base has no Python: does the stage install it?  (Slower to find.)
    return traits.python or bool((stage_traits(document, stage) or traits).python)


def declared_args(document: Dockerfile, stage: Stage) -> frozenset[str]:
    """Names declared by ``ARG`` in the stage or a stage it builds on."""
    return frozenset(
        name
        for ancestor in lineage(document, stage)
        for instruction in ancestor.instructions
        for name in arg_names(instruction)
    )


def env_lines(
    document: Dockerfile, anchor: Instruction, names: list[str]
) -> tuple[Instruction, ...]:
    """``FROM`` (given a line ending if it had none) followed by the new ``ENV`` line."""
    indent = anchor.pieces[0].text if anchor.pieces[0].kind == "ws" else ""
    text = f"{indent}{document.style.keyword('ENV')} " + " ".join(f"{n}=1" for n in names)
    if anchor.eol.endswith("\n"):
        return (anchor, document.make_instruction(text, eol=document.style.eol))
    # The FROM is the last line and has no line ending: it gets one, the ENV does not.
    return (document.make_instruction(anchor.text), document.make_instruction(text, eol=""))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    if not document.stages:
        return
    stage = document.stages[-1]
    if is_windows(document, stage):
        return  # Windows images: the rules about Linux containers leave them alone
    if not is_python_image(document, stage):
        return
    set_by_env = inherited_env(document, stage)
    missing = [name for name in VARIABLES if name not in set_by_env]
    if not missing:
        return
    args = declared_args(document, stage)
    arg_only = [name for name in missing if name in args]
    to_add = [name for name in missing if name not in args]
    anchor = stage.from_instruction
    if to_add:
        message = "Python image without " + " and ".join(f"{n}=1" for n in to_add)
        new = env_lines(document, anchor, to_add)
        yield rule.finding(message, anchor, edits=[Edit(anchor, new)])
    if arg_only:
        message = "Python image without " + " and ".join(f"{n}=1" for n in arg_only)
        note = "set only by ARG, which the running container does not see; use ENV"
        yield rule.finding(message, anchor, note=note)


RULE = Rule(
    code="DF205",
    name="python-env-unset",
    summary="Set `PYTHONUNBUFFERED=1` and `PYTHONDONTWRITEBYTECODE=1` in a Python image",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
)
