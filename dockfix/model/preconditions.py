"""Preconditions a rule declares for its fix, checked against the model by the engine.

A fix written for Linux with a POSIX shell must not reach a Windows stage or a
PowerShell ``SHELL``; a fix that adds ``RUN --mount`` must not reach a file pinned to a
frontend without mounts.  Rules declare what their fixes assume (``Rule.preconditions``)
and the engine enforces it for every fix, so no rule can forget: a precondition that
fails withdraws the fix (the finding stays, with the reason); one that cannot be
decided makes a safe fix unsafe, with the reason.
"""

from __future__ import annotations

import enum

from dockfix.lazy_dataclass import dataclass
from dockfix.model.build import FileModel
from dockfix.model.platform import Platform
from dockfix.model.shells import ShellDialect
from dockfix.model.stages import StageFacts
from dockfix.syntax import Instruction


class Precondition(enum.Enum):
    """What a fix assumes about the stage it edits."""

    LINUX = "linux"
    POSIX_SHELL = "posix-shell"
    RUN_MOUNTS = "run-mounts"
    BUILD_CONTEXT = "build-context"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Precondition.LINUX: "the stage runs a Linux image (not Windows, not unknown)",
    Precondition.POSIX_SHELL: "RUN's shell form runs in a POSIX shell (sh or bash, "
    "not PowerShell, cmd or another SHELL)",
    Precondition.RUN_MOUNTS: "the Dockerfile frontend supports `RUN --mount` (no "
    "`# syntax=docker/dockerfile:1.0`/`1.1` pin, no unknown frontend)",
    Precondition.BUILD_CONTEXT: "the build context is on disk (not stdin)",
}


@dataclass(frozen=True)
class Verdict:
    """``holds`` True (fine), False (the fix must not be applied) or None (unknown)."""

    holds: bool | None
    reason: str = ""


HOLDS = Verdict(True)


def evaluate(
    precondition: Precondition,
    model: FileModel,
    stage: StageFacts | None,
    instruction: Instruction | None,
    *,
    may_add_syntax: bool = True,
) -> Verdict:
    """Does ``precondition`` hold for a fix of ``instruction`` in ``stage``?"""
    if precondition is Precondition.BUILD_CONTEXT:
        if model.context.present:
            return HOLDS
        return Verdict(False, "no build context on disk")
    if precondition is Precondition.RUN_MOUNTS:
        supported = model.syntax.run_mounts
        if supported:
            return HOLDS
        if supported is False:
            return Verdict(False, f"`# syntax={model.syntax.frontend}` has no RUN --mount")
        if model.syntax.present:
            return Verdict(
                None, f"frontend `{model.syntax.frontend}` is not known to support RUN --mount"
            )
        if may_add_syntax:
            return HOLDS  # the fix adds `# syntax=docker/dockerfile:1`
        return Verdict(
            None,
            "RUN --mount needs `# syntax=docker/dockerfile:1` on older builders and the "
            "configuration forbids adding it (syntax-directive = false)",
        )
    if stage is None:
        return HOLDS  # before the first FROM: nothing platform-specific runs there
    if precondition is Precondition.LINUX:
        if stage.platform is Platform.LINUX:
            return HOLDS
        if stage.platform is Platform.WINDOWS:
            return Verdict(False, f"Windows stage ({stage.platform_reason}); the fix is Linux-only")
        image = stage.image.text if stage.image else stage.stage.image.text
        return Verdict(None, f"the platform of `{image}` is not known; the fix is Linux-only")
    # POSIX_SHELL
    step = stage.at(instruction) if instruction is not None else stage.end
    dialect = step.dialect
    if dialect.is_posix:
        return HOLDS
    if dialect is ShellDialect.UNKNOWN:
        image = stage.image.text if stage.image else stage.stage.image.text
        return Verdict(None, f"the shell of `{image}` is not known (sh on Linux, cmd on Windows)")
    where = f"`SHELL {' '.join(step.shell)}`" if step.shell else "the Windows default"
    return Verdict(False, f"RUN runs in {dialect.value} ({where}), not a POSIX shell")
