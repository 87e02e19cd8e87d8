"""Downloads the builder repeats: each stage fetches on its own.

The builder runs the stage's steps up to the last install, downloads included (``git
clone`` of a branch, ``wget``/``curl`` of a tarball, ``ADD <url>``).  The original
fetched once, and its install read that copy.  After the split, the final stage installs
what the builder built from the builder's own copy, while its files come from its own
fetch: when one of the two steps comes from the layer cache and the other does not (the
final stage's earlier lines changed, a branch moved), the two copies differ.  That is a
fact of the fix the reason must name; it is not a reason to refuse (with ``--no-cache``
and on a first build both fetch at the same moment).
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.model.copied import is_remote_source
from dockfix.model.runs import RunShell, run_shell
from dockfix.shell import command_name, command_words, iter_simple_commands
from dockfix.syntax import Instruction

#: Commands that fetch from the network, with the subcommands that do (None: any).
_FETCHERS: dict[str, frozenset[str] | None] = {
    "wget": None,
    "curl": None,
    "git": frozenset({"clone", "fetch", "pull"}),
    "svn": frozenset({"checkout", "co", "export", "update", "up"}),
    "hg": frozenset({"clone", "pull"}),
}


def repeated_fetch_caveat(instructions: Sequence[Instruction]) -> str | None:
    """The caveat for the first download among the builder's ``instructions``, or None."""
    for instruction in instructions:
        what = _fetch_of(instruction)
        if what is not None:
            return (
                f"the builder repeats the download on line {instruction.line} ({what}): "
                "if the install reads what it fetched, the final stage installs what the "
                "builder built from its own copy, which differs from the final stage's "
                "when only one of the two steps comes from the layer cache (a branch "
                "that moved)"
            )
    return None


def _fetch_of(instruction: Instruction) -> str | None:
    if instruction.cmd == "ADD":
        sources = instruction.value[:-1] if not instruction.heredocs else ()
        url = next((source for source in sources if is_remote_source(source)), None)
        return f"`ADD {url}`" if url is not None else None
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return None
    for command in iter_simple_commands(shell.script):
        name = command_name(command)
        if name not in _FETCHERS:
            continue
        subcommands = _FETCHERS[name]
        words = [word.value for word in command_words(command)]
        if subcommands is None:
            return f"`{name}`"
        found = next((word for word in words[1:] if word in subcommands), None)
        if found is not None:
            return f"`{name} {found}`"
    return None
