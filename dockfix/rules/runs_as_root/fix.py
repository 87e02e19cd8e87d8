"""The DF201 fix: the user's creation, the ``USER`` switch and ``--chown`` flags."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterator

from dockfix.edits import Edit, FixBuilder, FixRefused
from dockfix.model.copied import inside
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.runs_as_root.cwd import cwd_use
from dockfix.rules.runs_as_root.image import (
    Folders,
    Image,
    created_users,
    expanded_words,
    is_recursive,
    positionals,
    resolve,
    run_commands,
    user_of,
    volume_paths,
    writes_outside,
)
from dockfix.rules.runs_as_root.modes import ModeChange, mode_refusals
from dockfix.rules.runs_as_root.policy import (
    APP_TOOLS,
    CHOWN_VALUE_OPTIONS,
    GROUP_ZERO,
    HARMLESS,
    MKDIR_VALUE_OPTIONS,
    PYTHON,
)
from dockfix.rules.runs_as_root.user import Target
from dockfix.shell import command_name, iter_simple_commands
from dockfix.syntax import BlankLine, Dockerfile, Instruction
from dockfix.syntax.nodes import Node

# -- which build steps need root -----------------------------------------------------------


def _needs_root(instruction: Instruction, folders: Folders, image: Image) -> bool:
    """Whether a RUN must stay before the switch: every RUN not known to write only to
    the application folder (package installs, chmod, writes elsewhere, unknown tools)."""
    if instruction.cmd != "RUN":
        return False
    if instruction.flags:
        return True  # cache mounts and the like are made for root
    if instruction.is_json:
        return not _is_app_step(list(instruction.value))
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return True  # heredocs, or shell we cannot read
    workdir = folders.at.get(id(instruction))
    for command in iter_simple_commands(shell.script):
        values = expanded_words(command, image.variables)
        if values is None:
            return True  # a variable we cannot read
        if values and not (_is_app_step(values) or values[0] in HARMLESS):
            return True
        if writes_outside(command, workdir, folders.app or "/", image.variables):
            return True
    return False


def _is_app_step(words: list[str]) -> bool:
    """A build step that writes only into the application folder (migrations, static
    files, compiled translations)."""
    if not words:
        return False
    program = posixpath.basename(words[0])
    if program in APP_TOOLS or program == "manage.py":
        return True
    if PYTHON.fullmatch(program):
        operands = [word for word in words[1:] if not word.startswith("-")]
        return bool(operands) and posixpath.basename(operands[0]) == "manage.py"
    return False


# -- the fix -------------------------------------------------------------------------------


def _insertion_index(image: Image, folders: Folders) -> int:
    """Index in the final stage after which the switch goes (-1: right after FROM).

    After the last step that needs root and the last USER; with a shell also after the
    WORKDIR of the application folder, so that the new RUN can give it to the user.
    """
    index = -1
    for position, instruction in enumerate(image.final.instructions):
        if (
            instruction.cmd == "USER"
            or _needs_root(instruction, folders, image)
            or (image.has_shell and instruction is folders.app_workdir)
        ):
            index = position
    return index


def _run_text(document: Dockerfile, commands: list[str]) -> str:
    style = document.style
    separator = f" && {style.escape}{style.eol}{style.indent}"
    return f"{style.keyword('RUN')} {separator.join(commands)}"


def _already_owned(image: Image, folders: Folders, target: Target) -> bool:
    """The application folder is the user's already: its home, made before any WORKDIR
    made the folder, or given to it by a chown."""
    app = folders.app
    order = image.instructions
    for user in created_users(image):
        if user.name == target.user and user.home == app and user.instruction is not None:
            workdir = folders.app_workdir
            if workdir is None or order.index(user.instruction) < order.index(workdir):
                return True
    return any(app in paths for paths, _ in _chowns_to(image, target))


def _chowns_to(image: Image, target: Target) -> Iterator[tuple[list[str], bool]]:
    """Paths the image's RUNs give to the target user, and whether recursively."""
    for _, command in run_commands(image):
        values = (
            expanded_words(command, image.variables) if command_name(command) == "chown" else None
        )
        operands = positionals(values[1:], CHOWN_VALUE_OPTIONS) if values else []
        if len(operands) >= 2 and user_of(operands[0]) == target.user:
            options = [word for word in (values or [])[1:] if word.startswith("-")]
            yield [posixpath.normpath(path) for path in operands[1:]], is_recursive(options)


def _root_made_subfolders(image: Image, folders: Folders, target: Target, index: int) -> list[str]:
    """Folders inside the application folder that RUNs before the switch make as root
    (``mkdir -p data logs``): a chown of the folder alone leaves them closed to the user.

    Each is named by its top folder below the application folder (``data`` for
    ``mkdir -p data/db``), to be chowned recursively.
    """
    app = folders.app
    assert app is not None
    after = {id(instruction) for instruction in image.final.instructions[index + 1 :]}
    owned = [path for paths, recursive in _chowns_to(image, target) if recursive for path in paths]
    found: list[str] = []
    for instruction, command in run_commands(image):
        if id(instruction) in after or command_name(command) != "mkdir":
            continue
        values = expanded_words(command, image.variables) or []
        for operand in positionals(values[1:], MKDIR_VALUE_OPTIONS):
            path = resolve(operand, folders.at.get(id(instruction)), image.variables)
            if path is None or path == app or not inside(path, app):
                continue
            top = posixpath.join(app, posixpath.relpath(path, app).split("/")[0])
            if top not in found and not any(inside(top, done) for done in owned):
                found.append(top)
    return found


def _volumes_below_app(
    image: Image, folders: Folders, chowned: list[str]
) -> dict[str, Instruction]:
    """Folders below the application folder that a VOLUME declares and no recursive
    chown of the fix covers (the app writes its data there, as root did), with the
    VOLUME that first declares each."""
    app = folders.app
    assert app is not None
    found: dict[str, Instruction] = {}
    for instruction in image.instructions:
        if instruction.cmd != "VOLUME":
            continue
        for path in volume_paths(instruction, folders, image):
            if path is None or path == app or not inside(path, app):
                continue
            if path not in found and not any(inside(path, done) for done in chowned):
                found[path] = instruction
    return found


def _volume_before_switch(
    image: Image, folders: Folders, index: int, declared: dict[str, Instruction], target: Target
) -> Instruction | None:
    """The final stage's first VOLUME before the switch over the application folder or
    one below it, when the user can be made (or exists) and its folders given to it
    right before that VOLUME; None otherwise (the reason then names what may be lost)."""
    if not image.has_shell:
        return None
    below = {id(volume) for volume in declared.values()}
    first = next(
        (
            instruction
            for instruction in image.final.instructions[: index + 1]
            if instruction.cmd == "VOLUME"
            and (id(instruction) in below or _volume_covers(instruction, folders, image))
        ),
        None,
    )
    if first is None or target.create:
        return first
    if image.traits is not None and target.user == image.traits.nonroot_user:
        return first
    order = image.instructions
    for user in created_users(image):
        if user.name == target.user and user.instruction is not None:
            return first if order.index(user.instruction) < order.index(first) else None
    return None


def _insert_before_volume(builder: FixBuilder, volume: Instruction, text: str) -> None:
    """The user's RUN right above the VOLUME and the comments that describe it, apart
    from a RUN just before (DF102 would join them; the creation is a RUN of its own)."""
    document = builder.document
    anchor = document.with_comments_above(volume)
    added: list[Node] = [document.make_instruction(text, eol=document.style.eol)]
    nodes = document.nodes
    position = next(i for i, node in enumerate(nodes) if node is anchor)
    previous = nodes[position - 1] if position > 0 else None
    if isinstance(previous, Instruction) and previous.cmd == "RUN":
        added.insert(0, BlankLine("", document.style.eol, 0))
    try:
        builder.insert_before(anchor, *added)
    except ValueError as error:
        raise FixRefused(str(error), kind="layout") from error


def _check_modes(
    image: Image, folders: Folders, target: Target, index: int, chowned: list[str]
) -> None:
    """FixRefused when a mode closes a file the fix leaves root's to the user
    (``modes``): files the fix gives the user are its own, whatever their mode."""
    after = {id(instruction) for instruction in image.final.instructions[index + 1 :]}
    app = folders.app
    given = list(_chowns_to(image, target))
    recursive = [*chowned, *(path for paths, deep in given if deep for path in paths)]
    single = [path for paths, deep in given if not deep for path in paths]
    if app is not None and image.has_shell:
        single.append(app)  # the fix's own `chown app:app /app`
    users = {target.user, (target.uid or "").split(":", 1)[0]} - {""}

    def owned(change: ModeChange) -> bool:
        if change.owner in users:
            return True
        instruction = change.instruction
        if (
            app is not None
            and id(instruction) in after
            and _copies_into(instruction, folders, image, app)
        ):
            return True  # the fix adds `--chown`
        if any(inside(change.path, folder) for folder in recursive):
            return True
        return not change.recursive and change.path in single

    group_zero = target.group in GROUP_ZERO
    refusals = list(mode_refusals(image, folders, group_zero, owned))
    if refusals:
        raise FixRefused.combined(refusals)


def _listed(paths: list[str]) -> str:
    return ", ".join(f"`{path}`" for path in paths)


def _folder_stays_roots(image: Image, folders: Folders, index: int) -> bool:
    """Without a shell the folder cannot be chowned: the switch must precede its WORKDIR."""
    if image.has_shell or folders.app_workdir is None:
        return False
    ahead = image.final.instructions[index + 1 :]
    return folders.app_workdir not in ahead


def build_fix(image: Image, folders: Folders, target: Target) -> tuple[list[Edit], str]:
    """The edits and what may change (the fix's reason); FixRefused when there is none."""
    document, stage, app = image.document, image.final, folders.app
    if app is None:
        return _switch_in_root(image, folders, target)
    index = _insertion_index(image, folders)
    if _folder_stays_roots(image, folders, index):
        raise FixRefused(f"the image has no shell to give `{app}` to the user", kind="workdir")
    anchor = stage.instructions[index] if index >= 0 else stage.from_instruction
    commands = list(target.create)
    if image.has_shell and not _already_owned(image, folders, target):
        commands.append(f"chown {target.owner} {shlex.quote(app)}")
    subfolders = _root_made_subfolders(image, folders, target, index) if image.has_shell else []
    declared = _volumes_below_app(image, folders, subfolders) if image.has_shell else {}
    volumes = list(declared)
    if volumes:
        # A VOLUME's mount point is made as root when the image does not have it, and a
        # new volume takes the owner of the image's folder: the user's, once made here.
        commands.append("mkdir -p " + " ".join(shlex.quote(path) for path in volumes))
    _check_modes(image, folders, target, index, [*subfolders, *volumes])
    if subfolders or volumes:
        paths = " ".join(shlex.quote(path) for path in [*subfolders, *volumes])
        commands.append(f"chown -R {target.owner} {paths}")
    builder = FixBuilder(document)
    volume_first = _volume_before_switch(image, folders, index, declared, target)
    if volume_first is not None:
        # The VOLUME comes first: the classic builder and buildah/podman drop a change
        # made to its folder after it, so the user and its folders are made before it.
        made = [
            *target.create,
            "mkdir -p " + " ".join(shlex.quote(path) for path in [app, *volumes]),
            f"chown {target.owner} {shlex.quote(app)}",
        ]
        if volumes:
            made.append(f"chown -R {target.owner} " + " ".join(map(shlex.quote, volumes)))
        _insert_before_volume(builder, volume_first, _run_text(document, made))
        commands = (
            [f"chown -R {target.owner} " + " ".join(map(shlex.quote, subfolders))]
            if subfolders
            else []
        )
    early = (
        _early_chown_anchor(image, folders, target, anchor)
        if len(commands) == 1 and volume_first is None
        else None
    )
    if early is not None:
        # A lone `RUN chown` goes right after the WORKDIR that makes the folder, where
        # it does not sit next to another one-command RUN (hadolint DL3059).
        chown = document.make_instruction(_run_text(document, commands))
        _insert(builder, early, [chown])
        commands = []
    texts = [_run_text(document, commands)] if commands else []
    texts.append(f"{document.style.keyword('USER')} {target.spec}")
    _insert_after(builder, anchor, texts)
    for instruction in stage.instructions[index + 1 :]:
        if _copies_into(instruction, folders, image, app):
            flag = f"--chown={target.owner}"
            builder.replace(instruction, document.add_flag(instruction, flag))
    reason = _reason(
        image, folders, target, index, [*subfolders, *volumes], chown_first=bool(volume_first)
    )
    if volumes:
        after = {id(instruction) for instruction in stage.instructions[index + 1 :]}
        before = [path for path, volume in declared.items() if id(volume) not in after]
        kept = (
            f" (the VOLUME on line {declared[before[0]].line} comes first: BuildKit keeps a "
            "change made after it; the classic builder and buildah/podman drop it, and "
            "there the folder stays root's)"
            if before and volume_first is None
            else ""
        )
        reason += (
            f"; {'the VOLUMEs' if len(volumes) > 1 else 'the VOLUME'} {_listed(volumes)} "
            f"inside `{app}` {'are' if len(volumes) > 1 else 'is'} made and given to the "
            f"user{kept}, but a bind mount or an existing volume there keeps its own owner, "
            "which the user may not be able to write"
        )
    return list(builder.edits()), reason


def _switch_in_root(image: Image, folders: Folders, target: Target) -> tuple[list[Edit], str]:
    """No WORKDIR, and a command shown not to write there: the user (made with a home)
    and the switch after the last RUN or USER; ``/`` and the copied files stay root's."""
    stage = image.final.instructions
    index = max((p for p, i in enumerate(stage) if i.cmd in ("RUN", "USER")), default=-1)
    anchor = stage[index] if index >= 0 else image.final.from_instruction
    document = image.document
    _check_modes(image, folders, target, index, [])
    if len(target.create) == 1 and _is_one_command_run(anchor):
        # Two one-command RUNs in a row: hadolint DL3059.
        raise FixRefused("the user's one-command RUN would follow another", kind="user")
    texts = [_run_text(document, list(target.create))] if target.create else []
    texts.append(f"{document.style.keyword('USER')} {target.spec}")
    uid = target.uid.split(":")[0] if target.uid else target.user
    uid = f" (uid {uid})" if uid != target.user else ""
    use = cwd_use(image, folders)
    where = (
        f"the container then runs as `{target.user}`{uid} in `/`, which stays root's (no WORKDIR)"
    )
    if use.writes is False:
        text = (
            f"{where}: {use.why}; what it writes at run time outside its home and `/tmp` "
            "fails with a permission error"
        )
    else:
        program = f"`{use.program}`" if use.program else "the command"
        text = (
            f"{where} and `{target.user}` cannot write there: if {program} writes files "
            "relative to its working directory, or anywhere outside its home and `/tmp`, "
            f"that fails with a permission error ({use.why})"
        )
    parts = [text]
    if image.derived:
        parts.append(image.derived)
    builder = FixBuilder(document)
    _insert_after(builder, anchor, texts)
    return list(builder.edits()), "; ".join(parts)


def _insert_after(builder: FixBuilder, anchor: Instruction, texts: list[str]) -> None:
    """New instructions after ``anchor``, with the file's line ending (the builder keeps
    a file that ends without one ending that way)."""
    document = builder.document
    added: list[Node] = [document.make_instruction(t, eol=document.style.eol) for t in texts]
    new_run = texts[0].split(" ", 1)[0].upper() == "RUN"
    if anchor.heredocs or (anchor.cmd == "RUN" and new_run):
        # hadolint cannot parse an instruction right after a heredoc's terminator line
        # (DL1000); an empty line between keeps it reading the file.  After a RUN, the
        # empty line also keeps the user's creation in a RUN of its own: DF102 does not
        # join RUNs across one (`go build ... && groupadd ...` would rebuild with it).
        added.insert(0, BlankLine("", document.style.eol, 0))
    _insert(builder, anchor, added)


def _insert(builder: FixBuilder, anchor: Instruction, added: list[Node]) -> None:
    try:
        builder.insert_after(anchor, *added)
    except ValueError as error:  # after a dangling continuation line
        raise FixRefused(str(error), kind="layout") from error


def _is_one_command_run(instruction: Instruction | None) -> bool:
    """A flagless RUN of one command: hadolint DL3059 flags two of them in a row."""
    if instruction is None or instruction.cmd != "RUN" or instruction.flags:
        return False
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return instruction.is_json
    return len(list(iter_simple_commands(shell.script))) <= 1


def _early_chown_anchor(
    image: Image, folders: Folders, target: Target, anchor: Instruction
) -> Instruction | None:
    """The application folder's WORKDIR, when a lone chown is better placed after it."""
    workdir = folders.app_workdir
    stage = image.final.instructions
    if not _is_one_command_run(anchor) or workdir is None or workdir not in stage:
        return None
    position = stage.index(workdir)
    if position >= stage.index(anchor) or not anchor.eol:
        return None
    following = stage[position + 1] if position + 1 < len(stage) else None
    if _is_one_command_run(following) or not workdir.eol:
        return None
    # The user must exist by then: the image's own, or created by an earlier RUN.
    if image.traits is not None and target.user == image.traits.nonroot_user:
        return workdir
    for instruction, command in run_commands(image):
        if instruction is workdir or instruction in stage[position:]:
            return None
        if command_name(command) in ("useradd", "adduser"):
            values = expanded_words(command, image.variables) or []
            if target.user in values:
                return workdir
    return None


def _copies_into(instruction: Instruction, folders: Folders, image: Image, app: str) -> bool:
    """A COPY/ADD without --chown whose destination is in the application folder."""
    if instruction.cmd not in ("COPY", "ADD") or instruction.flag("chown") is not None:
        return False
    if len(instruction.value) < 2:
        return False
    dest = resolve(instruction.value[-1], folders.at.get(id(instruction)), image.variables)
    return dest is not None and inside(dest, app)


def _volume_covers(instruction: Instruction, folders: Folders, image: Image) -> bool:
    app = folders.app or "/"
    paths = volume_paths(instruction, folders, image)
    return any(path is not None and inside(app, path) for path in paths)


def _is_broad_copy(instruction: Instruction) -> bool:
    """A copy of the context or of folders: it may bring data the app writes to."""
    return any(s in (".", "./", "*") or s.endswith("/") for s in instruction.value[:-1])


def _reason(
    image: Image,
    folders: Folders,
    target: Target,
    index: int,
    chowned: list[str],
    *,
    chown_first: bool = False,
) -> str:
    app = folders.app or "/"
    uid = target.uid.split(":")[0] if target.uid else target.user
    uid = f" (uid {uid})" if uid != target.user else ""
    parts = [
        f"the container then runs as `{target.user}`{uid}: what it writes at run time outside "
        f"`{app}` fails with a permission error"
    ]
    workdir = _workdir_below_app(image, folders, chowned)
    if workdir is not None:
        parts.append(
            f"the fix gives the user `{app}` itself, not its working directory "
            f"`{folders.at.get(id(workdir))}` (WORKDIR on line {workdir.line}): if the build "
            "makes that folder as root, writes there fail too"
        )
    ancestors = tuple(i for stage in image.stages[:-1] for i in stage.instructions)
    before = ancestors + image.final.instructions[: index + 1]
    copied = next(
        (i for i in before if _copies_into(i, folders, image, app) and _is_broad_copy(i)), None
    )
    if copied is not None:
        parts.append(
            f"files copied into `{app}` before the switch (line {copied.line}) stay owned by "
            "root: readable, not writable"
        )
    if not image.has_shell:
        parts.append(f"BuildKit creates `{app}` owned by the user; the classic builder does not")
    volumes = [i for i in before if i.cmd == "VOLUME" and _volume_covers(i, folders, image)]
    if volumes and image.has_shell and not chown_first:
        parts.append(
            f"`{app}` is a VOLUME (line {volumes[0].line}) before the chown: BuildKit keeps "
            "the change; the classic builder and buildah/podman drop it, and there the "
            "folder stays root's"
        )
    if image.derived:
        parts.append(image.derived)
    return "; ".join(parts)


def _workdir_below_app(image: Image, folders: Folders, chowned: list[str]) -> Instruction | None:
    """The container's last WORKDIR, when it is a folder below the application folder
    (``WORKDIR /app`` then ``WORKDIR src``, or a clone entered with a relative WORKDIR)
    that no recursive chown of the fix gives to the user."""
    app = folders.app
    workdirs = [i for i in image.instructions if i.cmd == "WORKDIR"]
    if app is None or not workdirs or workdirs[-1] is folders.app_workdir:
        return None
    last = workdirs[-1]
    path = folders.at.get(id(last))
    if path is None or path == app or not inside(path, app):
        return None
    if any(inside(path, folder) for folder in chowned):
        return None
    return last
