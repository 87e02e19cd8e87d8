"""File modes that close files to the new user: ``COPY``/``ADD --chmod`` and ``RUN chmod``.

``COPY`` and ``ADD`` make their files owned by root (``root:root``) whatever the ``USER``,
unless ``--chown`` names someone else, and a ``chmod`` run as root keeps the owner.  The
new user then reads such a file (and runs it, and enters such a folder) only through the
permission bits for others, and for the group where it is in the root group (OpenShift's
``USER 10001:0``).  A mode that leaves those without read permission (``--chmod=700``,
``chmod 600 key``, ``chmod -R 750 /app``, ``chmod -R go-rwx .``), or without execute
permission on the program the container runs or on the folders of a recursive change,
closes the file to the user unless the fix gives it to the user: the container fails at
start.  Every path counts, not only the application's: the Dockerfile does not show what
the program reads.  A ``chmod u+x`` of the program the container runs gives execute
permission to root alone: the file had none for others, or the chmod would not be there.
A mode the Dockerfile does not show (``--chmod=$MODE``) cannot be judged, and is
reported as such.  A later mode that opens the same path again (``chmod -R o+rX``)
settles an earlier one.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator

from dockfix.lazy_dataclass import dataclass
from dockfix.model.copied import inside
from dockfix.model.expand import expand
from dockfix.rules.refusal import FixRefused
from dockfix.rules.runs_as_root.image import (
    Folders,
    Image,
    candidates,
    chmod_arguments,
    is_recursive,
    resolve,
    run_commands,
    runtime_scripts,
    user_of,
    workdir_at_end,
)
from dockfix.rules.runs_as_root.policy import (
    INIT_WRAPPERS,
    OCTAL_MODE,
    SYMBOLIC_ACTION,
    SYMBOLIC_CLAUSE,
)
from dockfix.shell import command_name, command_words, iter_simple_commands
from dockfix.syntax import Instruction

#: Bits of a permission digit.
_READ, _EXECUTE = 4, 1
#: Where each class's digit sits in a numeric mode.
_SHIFT = {"u": 6, "g": 3, "o": 0}


@dataclass(frozen=True)
class Access:
    """What a mode leaves the new user's classes (others; the group too for group 0):
    True given, False taken, None unchanged (the file keeps what it had)."""

    read: bool | None
    #: Execute permission on files.
    execute: bool | None
    #: Execute permission on folders (``X`` gives it to folders only).
    enter: bool | None
    #: Execute is given to other classes only (``u+x``): the user's stays as it was.
    others_left_out: bool = False


@dataclass(frozen=True)
class ModeChange:
    """A mode that a ``COPY``/``ADD --chmod`` or a ``chmod`` gives a path."""

    instruction: Instruction
    #: The path made absolute, or as written when that cannot be done.
    path: str
    #: The change covers the files and folders below ``path`` too.
    recursive: bool
    #: The mode as written.
    mode: str
    #: None: the mode cannot be read (a variable, ``--reference``).
    access: Access | None
    #: The user ``COPY --chown`` gives the files to ("" for root).
    owner: str = ""


def _any(values: list[bool | None]) -> bool | None:
    """True if any class has the permission, False if none has, None if not known."""
    if any(value is True for value in values):
        return True
    return False if values and all(value is False for value in values) else None


def access_of(mode: str, classes: str) -> Access | None:
    """What ``mode`` (numeric or symbolic) leaves ``classes`` (``o``, or ``go``)."""
    if OCTAL_MODE.fullmatch(mode):
        digits = [(int(mode, 8) >> _SHIFT[name]) & 7 for name in classes]
        runs = any(digit & _EXECUTE for digit in digits)
        return Access(any(digit & _READ for digit in digits), runs, runs)
    state: dict[str, list[bool | None]] = {name: [None, None, None] for name in classes}
    others_left_out = False
    for clause in mode.split(","):
        match = SYMBOLIC_CLAUSE.fullmatch(clause)
        if match is None:
            return None
        who = match.group(1).replace("a", "ugo") or "ugo"
        for operator, perms in SYMBOLIC_ACTION.findall(match.group(2)):
            if operator == "+" and "x" in perms and not set(who) & set(classes):
                others_left_out = True
            for name in set(who) & set(classes):
                _apply(state[name], operator, perms)
    read, execute, enter = (_any([state[name][i] for name in classes]) for i in range(3))
    return Access(read, execute, enter, others_left_out and execute is None)


def _apply(bits: list[bool | None], operator: str, perms: str) -> None:
    """One ``+``/``-``/``=`` action on a class's [read, execute, enter]."""
    if perms in ("u", "g", "o"):
        # Copied from another class: the owner's (root's) read is near certain.
        if operator != "-":
            bits[:] = [True if perms == "u" else None, None, None]
        return
    read, execute, folders = "r" in perms, "x" in perms, "x" in perms or "X" in perms
    if operator == "+":
        bits[0] = True if read else bits[0]
        bits[1] = True if execute else bits[1]
        bits[2] = True if folders else bits[2]
    elif operator == "-":
        bits[0] = False if read else bits[0]
        bits[1] = False if folders else bits[1]
        bits[2] = False if folders else bits[2]
    else:
        bits[:] = [read, True if execute else None if "X" in perms else False, folders]


def mode_changes(image: Image, folders: Folders, classes: str) -> list[ModeChange]:
    """Every mode the image's ``COPY``/``ADD --chmod`` and ``chmod`` give, in order."""
    commands: dict[int, list[ModeChange]] = {}
    for instruction, command in run_commands(image):
        if command_name(command) == "chmod":
            words = [word.value for word in command_words(command)][1:]
            commands.setdefault(id(instruction), []).extend(
                _chmod_changes(image, folders, instruction, words, classes)
            )
    found: list[ModeChange] = []
    for instruction in image.instructions:
        if instruction.cmd in ("COPY", "ADD"):
            found.extend(_copy_changes(image, folders, instruction, classes))
        found.extend(commands.get(id(instruction), ()))
    return found


def _chmod_changes(
    image: Image, folders: Folders, instruction: Instruction, words: list[str], classes: str
) -> Iterator[ModeChange]:
    mode, paths = chmod_arguments(words)
    options = [word for word in words if word.startswith("-") and word != mode]
    variables = image.step(instruction).variables
    value = expand(mode, variables) if mode is not None else None
    access = access_of(value, classes) if value is not None else None
    workdir = folders.at.get(id(instruction))
    for path in paths:
        resolved = resolve(path, workdir, variables)
        yield ModeChange(
            instruction, resolved or path, is_recursive(options), mode or "--reference", access
        )


def _copy_changes(
    image: Image, folders: Folders, instruction: Instruction, classes: str
) -> Iterator[ModeChange]:
    flag = instruction.flag("chmod")
    if flag is None or len(instruction.value) < 2:
        return
    mode = flag.value or ""
    variables = image.step(instruction).variables
    value = expand(mode, variables) if mode else None
    access = access_of(value, classes) if value else None
    chown = instruction.flag("chown")
    given = chown.value if chown is not None and chown.value else ""
    owner = user_of(expand(given, variables) or given)
    *sources, target = instruction.value
    dest = resolve(target, folders.at.get(id(instruction)), variables) or target
    into = target.endswith("/") or len(sources) > 1
    for source in sources:
        folder = (
            source in (".", "./")
            or source.endswith("/")
            or (instruction.flag("from") is None and image.context.is_dir(source) is True)
        )
        path = dest if folder or not into else posixpath.join(dest, posixpath.basename(source))
        yield ModeChange(instruction, path, folder, mode, access, owner)


def executed_paths(image: Image, folders: Folders) -> set[str]:
    """Where the programs the container runs may be (a bare name: on the usual PATH)."""
    found: set[str] = set()
    workdir = workdir_at_end(image, folders)
    for script in runtime_scripts(image):
        for command in iter_simple_commands(script):
            words = [word.value for word in command_words(command)]
            if words and posixpath.basename(words[0]) in INIT_WRAPPERS:
                rest = words[1:]  # `tini -- start.sh`: the program is its argument
                words = rest[rest.index("--") + 1 :] if "--" in rest else rest
                words = [word for word in words if not word.startswith("-")]
            if words and "$" not in words[0]:
                found.update(candidates(words[0], workdir, image.variables))
    return found


def _covers(change: ModeChange, path: str) -> bool:
    return change.path == path or (change.recursive and inside(path, change.path))


def _problem(change: ModeChange, earlier: list[ModeChange], executed: set[str]) -> str | None:
    """What ``change`` takes from the new user (None: nothing)."""
    access = change.access
    if access is None:
        return None
    runs = sorted(path for path in executed if _covers(change, path))
    program = "it" if runs == [change.path] else f"`{runs[0]}`" if runs else ""
    if runs and (access.read is False or access.execute is False):
        return f": the new user could not run {program}"
    if runs and access.others_left_out:
        given = any(
            _covers(before, path) and before.access is not None and before.access.execute
            for before in earlier
            for path in runs
        )
        if not given:
            return f" (others get no execute permission): the new user could not run {program}"
    if access.read is False:
        return f": the new user could not read {'them' if change.recursive else 'it'}"
    if change.recursive and access.enter is False:
        return ": the new user could not open the folders in it"
    return None


def _settled(change: ModeChange, later: list[ModeChange], executed: set[str]) -> bool:
    """A later mode opens the path again (``chmod -R o+rX``, ``chmod 755``)."""
    runs = any(_covers(change, path) for path in executed)
    for after in later:
        access = after.access
        if access is None or not _covers(after, change.path):
            continue
        if (
            access.read is True
            and (not runs or access.execute is True)
            and (not change.recursive or access.enter is True)
        ):
            return True
    return False


def mode_refusals(
    image: Image, folders: Folders, group_zero: bool, owned: Callable[[ModeChange], bool]
) -> Iterator[FixRefused]:
    """The first mode that closes a file the fix leaves root's to the new user, or that
    cannot be read (``owned``: the fix, or the Dockerfile, gives the path to the user)."""
    changes = mode_changes(image, folders, "go" if group_zero else "o")
    executed = executed_paths(image, folders)
    for position, change in enumerate(changes):
        if owned(change):
            continue
        line = change.instruction.line
        if change.access is None:
            yield FixRefused(
                f"line {line} gives `{change.path}` the mode `{change.mode}`, which cannot be "
                "read: whether the new user could still read it (and run it) is not known",
                kind="permissions",
            )
            return
        problem = _problem(change, changes[:position], executed)
        if problem is not None and not _settled(change, changes[position + 1 :], executed):
            what = f"`{change.path}` and what is in it" if change.recursive else f"`{change.path}`"
            yield FixRefused(
                f"line {line} gives {what} mode {change.mode}{problem}",
                kind="permissions",
            )
            return
