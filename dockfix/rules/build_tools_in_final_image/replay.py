"""Node installs that compile, replayed from the builder (DF202).

Why: a Python stage often also runs ``npm install`` (or yarn, pnpm) for its front end,
and a package with a native addon compiles it there with ``node-gyp``, which needs the
build tools the split takes out of the final stage.  Such a RUN runs in the builder,
with the build tools.  The builder lists every file and folder whose status changed
while it ran (``find / -xdev -cnewer`` a marker made a second before, so the kernel's
coarse clock cannot hide a file made in the same tick) and packs them in a tar, which
the final stage unpacks where the RUN was.  So the final stage has what the RUN wrote,
as the builder wrote it, without running it.  One after the last pip install makes the
builder go on to it: the builder then installs what it builds as the final stage does
(the steps after the last install run there as in the original) and scans at its end.

What differs, said in the reason: a file the RUN deleted is not deleted; where the
builder stops at the last install, the RUN ran after the original's steps with ``pip
wheel`` in place of ``pip install`` (a lifecycle script that imports a Python package
installed before it fails there).  The builder's library scan also reads the files it
lists, so the final stage installs the libraries a compiled addon links.

Only on Debian and Ubuntu (GNU ``find`` and ``tar``; BusyBox's ``find`` has no
``-cnewer``), for a RUN that runs as root (the unpack writes anywhere) and runs nothing
but the Node package managers and a few shell commands (``checks._REPLAYABLE``).
"""

from __future__ import annotations

from dockfix.model import StageFacts
from dockfix.rules.build_tools_in_final_image.checks import BuildInstall, Replay
from dockfix.rules.build_tools_in_final_image.runtime_scan import REPLAY_DIR, bind_flag
from dockfix.rules.build_tools_in_final_image.users import runs_as_root
from dockfix.rules.refusal import FixRefused
from dockfix.syntax import Instruction


def check_replays(
    facts: StageFacts,
    replays: list[Replay],
    family: str,
    installs: list[BuildInstall],
    *,
    root_base: bool = False,
) -> None:
    """A replay needs GNU find and tar, and root: otherwise the RUN's refusal stands."""
    for replay in replays:
        if family != "debian":
            raise FixRefused(
                f"{replay.refusal} (a Node install is replayed from the builder only on "
                "Debian or Ubuntu, whose find and tar it needs)"
            )
        if not runs_as_root(facts, installs, replay.instruction, root_base=root_base):
            raise FixRefused(
                f"{replay.refusal} (a Node install is replayed from the builder only where "
                "it runs as root: the final stage unpacks its files anywhere)"
            )


def replay_caveat(instruction: Instruction, *, installed: bool) -> str:
    """What the reason says of a replayed RUN; ``installed``: the builder installs what
    it builds (it goes on past the last install, see ``split.Split.extended``)."""
    line = instruction.line
    before = (
        "the builder's steps before it, which install what they build as the final stage does"
        if installed
        else "the builder's steps before it, which build wheels where the original installed "
        "them (a script of it that imports a Python package installed before it fails)"
    )
    return (
        f"the RUN on line {line} (a Node install, which may compile) runs in the builder "
        "with the build tools, and the final stage unpacks in its place the files and "
        f"folders it made or changed there: a file it deleted stays, and it ran after {before}"
    )


def capture_commands(line: int) -> tuple[str, str]:
    """What the builder runs before and after the RUN on ``line``."""
    start = f"{REPLAY_DIR}/{line}.start"
    listed = f"{REPLAY_DIR}/{line}.list"
    before = f"mkdir -p {REPLAY_DIR} && touch {start} && sleep 1"
    after = (
        f"find / -xdev -cnewer {start} ! -path '{REPLAY_DIR}*' -print0 > {listed} && "
        f"tar --null --no-recursion -cf {REPLAY_DIR}/{line}.tar -T {listed}"
    )
    return before, after


def unpack_command(alias: str, line: int) -> tuple[str, str]:
    """The final stage's mount flag and command for the RUN on ``line``."""
    mounted = f"/tmp/dockfix-replay-{line}.tar"
    return bind_flag(alias, f"{REPLAY_DIR}/{line}.tar", mounted), f"tar -xf {mounted} -C /"
