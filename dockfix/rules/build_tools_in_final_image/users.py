"""DF202's checks of who runs pip: the runtime libraries' install needs root, and
the builder must build as the user the original installed as (``FixRefused`` otherwise)."""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.checks import SYSTEM_MANAGERS, BuildInstall, Site
from dockfix.rules.refusal import FixRefused
from dockfix.shell import iter_simple_commands
from dockfix.syntax import Instruction, Stage


def check_users(
    facts: StageFacts,
    sites: list[Site],
    installs: list[BuildInstall],
    strategy: str = "wheels",
    *,
    root_base: bool = False,
) -> Instruction | None:
    """Who runs pip: root, or one user the stage switches to from root.

    The builder repeats the stage in order, ``USER`` lines and the user's creation
    included, so each ``pip wheel`` runs as its ``pip install`` did and each ``apt-get``
    as root.  Where pip runs as a user, the returned ``USER`` line is where the stage last
    runs as root before it: the builder opens ``/wheels`` and the scan's list to every
    user there (a user cannot create them at ``/``), and the final stage installs the
    runtime libraries there (``apt-get`` needs root).  Where the model does not know the
    image's user, a stage with no ``USER`` before an ``apt-get install`` runs as root
    there: apt-get needs root; so does one with no ``USER`` yet on a base the split
    knows runs as root (``root_base``: the official python image, whose tag is an ARG)."""
    root = _RootTest(facts, installs, root_base)
    users = [(site, _pip_user(facts, site, root)) for site in sites]
    others = [(site, user) for site, user in users if user is not None]
    if not others:
        return None
    site, user = others[0]
    line = site.shell.instruction.line
    if strategy != "wheels":
        raise FixRefused(
            f"pip runs as USER {user} on line {line}: the environment copied from the "
            "builder would belong to root; split it by hand"
        )
    _check_one_user(users)
    instructions = facts.stage.instructions
    index = instructions.index(site.shell.instruction)
    switch = next(
        (
            instruction
            for instruction in reversed(instructions[:index])
            if instruction.cmd == "USER" and root.at(instruction)
        ),
        None,
    )
    if switch is None:
        raise FixRefused(
            f"pip runs as USER {user} on line {line}, and no step before it is known to run "
            "as root: the runtime libraries' install needs root"
        )
    _check_user_steps(instructions[instructions.index(switch) + 1 : index], user)
    return switch


def runs_as_root(
    facts: StageFacts,
    installs: list[BuildInstall],
    instruction: Instruction,
    *,
    root_base: bool = False,
) -> bool:
    """The stage runs ``instruction`` as root, as ``check_users`` tells it for pip."""
    return _RootTest(facts, installs, root_base).at(instruction)


def _pip_user(facts: StageFacts, site: Site, root: _RootTest) -> str | None:
    """The user a pip install runs as, None for root.  Where the model does not know it:
    ``(not known)``, with the ``USER`` line that named it (``$NAME (not known, named on
    line 6)``), so that installs under two such lines count as two users."""
    instruction = site.shell.instruction
    if root.at(instruction):
        return None
    step = facts.at(instruction)
    if step.user is not None:
        return step.user
    index = facts.stage.instructions.index(instruction)
    switch = next((i for i in reversed(facts.stage.instructions[:index]) if i.cmd == "USER"), None)
    if switch is None or not switch.value:
        return "(not known)"
    return f"{switch.value[0]} (not known, named on line {switch.line})"


@dataclass(frozen=True)
class _RootTest:
    """Whether the stage runs as root at an instruction (see ``at``)."""

    facts: StageFacts
    installs: list[BuildInstall]
    #: The base image runs as root though the model does not know its user.
    root_base: bool = False

    def at(self, instruction: Instruction) -> bool:
        """The model says so, or the user is the base's, not known, and the base is known
        to run as root or an earlier ``apt-get install`` (no ``sudo``) ran as it."""
        facts = self.facts
        step = facts.at(instruction)
        if step.is_root is not None:
            return step.is_root
        if _user_before(facts, instruction):
            return False
        if self.root_base:
            return True
        index = facts.stage.instructions.index(instruction)
        stage = facts.stage
        revealed = any(
            stage.instructions.index(i.shell.instruction) <= index for i in self.installs
        )
        return revealed and not _runs_sudo(stage)  # ``sudo apt-get``: not root


def _check_one_user(users: list[tuple[Site, str | None]]) -> None:
    """The builder's ``/wheels`` serves one user: pip of another user (or of root between
    two of the user's installs, whose wheels the user could not replace) cannot rewrite
    a wheel of the same name there."""
    first_site, first = next((site, user) for site, user in users if user is not None)
    seen_root_after = None
    for site, user in users:
        line = site.shell.instruction.line
        if user is not None and user != first:
            raise FixRefused(
                f"pip runs as USER {first} on line {first_site.shell.instruction.line} and "
                f"as USER {user} on line {line}: the builder's /wheels serves one user (a "
                "wheel another user left there cannot be replaced); split it by hand"
            )
        if user is not None and seen_root_after is not None:
            raise FixRefused(
                f"pip runs as root on line {seen_root_after}, between installs as USER "
                f"{first}: the user could not replace root's wheels in the builder's "
                "/wheels; split it by hand"
            )
        if user is None and site.shell.instruction.line > first_site.shell.instruction.line:
            seen_root_after = line


def _check_user_steps(steps: Sequence[Instruction], user: str) -> None:
    """The runtime libraries' install moves above the switch to ``user``: no step after it
    may change the system's packages or sources (``sudo``, a package manager)."""
    for instruction in steps:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        sudo = any(
            command.words and command.words[0].value in _ROOT_TOOLS
            for command in iter_simple_commands(shell.script)
        )
        if sudo or any(p.manager in SYSTEM_MANAGERS for p in shell.packages()):
            raise FixRefused(
                f"the RUN on line {instruction.line} runs as USER {user} and changes system "
                "packages: the runtime libraries' install, above the switch to that user, "
                "would come before it; split it by hand"
            )


_ROOT_TOOLS = frozenset({"sudo", "su", "doas", "gosu", "su-exec"})


def _runs_sudo(stage: Stage) -> bool:
    """The stage runs ``sudo``: its user is not root (``anibali/pytorch`` runs as
    ``user``), so its ``apt-get install`` does not show that pip runs as root."""
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell) and any(
            command.words and command.words[0].value == "sudo"
            for command in iter_simple_commands(shell.script)
        ):
            return True
    return False


def _user_before(facts: StageFacts, instruction: Instruction) -> bool:
    for earlier in facts.stage.instructions:
        if earlier is instruction:
            return False
        if earlier.cmd == "USER":
            return True
    return False
