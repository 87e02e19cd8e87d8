"""DF101 source-copied-before-install: ``COPY . .`` before the dependency install.

What it does
    Finds a stage that copies the whole build context (``COPY . .``, ``COPY . /app``)
    and only then installs dependencies from manifest files.  The fix copies what the
    install reads first, runs the install, and copies the rest afterwards::

        COPY requirements.txt ./          # new: only what the install reads
        RUN pip install -r requirements.txt
        COPY . .                          # moved below the install

Why is this bad?
    Docker caches layers in order.  With the source copied first, any edit to any source
    file invalidates the install layer, so every build re-installs every package
    (practice 2 of the source article).  Copying the manifests first keeps the install
    cached until the dependencies themselves change.

Fix safety
    Safe only when the first COPY provably gives the install everything it reads.  Every
    command of the RUN must be a recognised install (pip/uv ``-r``/``-c``, ``npm
    ci``/``install``, ``yarn``, ``pnpm``, ``go mod download``, ``pipenv``, ``poetry
    install --no-root``) or a command that reads no source and writes nothing into the
    copied folder (``apt-get``, ``pip install`` of named packages, ``echo``, ``rm``/
    ``mkdir``/``ln`` outside it...).  ``ENV``, ``ARG``, ``LABEL``, ``USER``... may stand
    between the copy and the install, and a ``WORKDIR`` when the destination is absolute
    (``COPY . /app`` + ``WORKDIR /app`` + ``RUN pip install -r requirements.txt``).

    With the build context on disk (read through the model's ``BuildContext``; see
    ``dockfix/images/install_reads.py``) the files copied first are: the requirement files and their
    nested ``-r``/``-c`` includes, local paths, wheels, ``file:`` URLs and
    ``--find-links`` folders they name (``-e .`` stops the fix: it needs the whole
    project); ``package.json`` (no install hooks), the lock files, ``.npmrc``,
    ``.yarnrc``/``.yarnrc.yml`` and its ``yarnPath``, the ``.yarn`` folder (releases,
    plugins, patches, cache), npm/yarn workspaces and ``pnpm-workspace.yaml`` packages
    (their ``package.json`` files), ``file:``/``link:``/``portal:`` dependencies and
    patch files, ``.pnpmfile.cjs``; ``go.mod``, ``go.sum`` and the ``go.mod`` of every
    local ``replace`` target (``go.work`` stops the fix); ``Pipfile``/``Pipfile.lock``/
    ``.env`` and path dependencies; ``pyproject.toml``/``poetry.lock``/``poetry.toml``
    and path dependencies.  ``.dockerignore`` is honoured, and a ``node_modules`` (or
    in-project ``.venv``) in the context that the later ``COPY . .`` would lay over the
    installed one stops the fix.  What cannot be read or followed is reported, not
    fixed.

    ``uv pip install -r pyproject.toml`` is fixed only when the file's ``[project]``
    table lists ``dependencies`` statically (``dynamic`` names neither
    ``dependencies`` nor ``optional-dependencies``): otherwise (no ``[project]`` table,
    a Poetry or setup.py project) uv builds the project's metadata, which needs the
    whole source; ``file:`` references and ``[tool.uv.sources]`` paths are copied first,
    a uv workspace is refused, and ``-r setup.py``/``setup.cfg`` is refused.  uv's
    ``uv.toml``/``pyproject.toml``/``.python-version`` of the working folder and the
    folders above it (inside the copy) are copied first; a local ``find-links`` or
    index they name in the copied folder stops the fix.  Install hooks are npm's
    ``preinstall``/``install``/``postinstall``, ``preprepare``/``prepare``/
    ``postprepare``, ``prepublish`` and ``dependencies``, and pnpm's
    ``pnpm:devPreinstall``.

    Settings read from the environment that name a file or folder (``PIP_CONSTRAINT``,
    ``PIP_CONFIG_FILE``, ``PIP_REQUIREMENT``, ``PIP_FIND_LINKS``, ``PIP_CERT``,
    ``UV_CONSTRAINT``, ``UV_OVERRIDE``, ``UV_CONFIG_FILE``, ``UV_FIND_LINKS``,
    ``SSL_CERT_FILE``, ``NPM_CONFIG_USERCONFIG``, ``NODE_EXTRA_CA_CERTS``... and a
    ``file:`` or path index URL), set by ``ENV``, an ``ARG`` in effect, ``export`` in
    the RUN or a ``VAR=value`` prefix, stop the fix when the value is relative, inside
    the copied folder, uses a variable dockfix cannot resolve or is unknown: the moved
    install would run before the COPY brings the file (pip fails on a missing
    constraint file and silently ignores a missing config file).  A path clearly
    outside the copied folder (``/etc/pip.conf`` an earlier RUN wrote) keeps the fix.

    Without the context on disk (stdin) nothing can be read: the fix copies what the
    command names (and the lock a frozen install needs) and is *unsafe*, its reason
    saying what was not checked; node installs that are not frozen are reported.

References
    practices.md row 2; hadolint has no equivalent.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import Applicability, FixAvailability, FixBuilder
from dockfix.images.install_reads import IgnoreFile, ReadsSource, Scope, Unprovable, reads_of
from dockfix.lazy_dataclass import dataclass
from dockfix.model import FileModel, StageFacts, mounts_of, path_within
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Finding, Rule, RuleContext
from dockfix.shell import (
    Manager,
    PackageCommand,
    SimpleCommand,
    classify,
    command_name,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.nodes import BlankLine, Comment

#: Commands that read nothing from the application source (their path arguments are
#: still checked: ``rm -rf /app/tests`` before the move would be undone by the COPY).
_NEUTRAL_COMMANDS = frozenset(
    {
        "apt-get",
        "apt",
        "apk",
        "yum",
        "dnf",
        "microdnf",
        "rm",
        "echo",
        "true",
        "mkdir",
        "useradd",
        "groupadd",
        "adduser",
        "addgroup",
        "ln",
        "update-ca-certificates",
        "locale-gen",
        "export",
    }
)
#: Neutral commands whose operands are paths (all of them are checked).
_PATH_COMMANDS = frozenset({"rm", "mkdir", "ln"})
#: Neutral commands whose absolute operands may be paths (``useradd -d /app``).
_MAYBE_PATHS = frozenset({"useradd", "groupadd", "adduser", "addgroup"})
_SYSTEM = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)
#: Instructions that may stand between the copy and the install (they read no files).
_TRANSPARENT = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "USER", "STOPSIGNAL", "HEALTHCHECK"})
_ROOT_SOURCES = frozenset({".", "./", "*", "./*"})
_MESSAGE = (
    "The whole source is copied before dependencies are installed; "
    "every source change re-runs the install"
)


@dataclass(frozen=True)
class Plan:
    """What one RUN needs copied first (context-relative) and what stayed unchecked."""

    files: tuple[str, ...]
    dirs: tuple[str, ...]
    unchecked: str
    installs: bool


def _is_root_copy(instruction: Instruction) -> bool:
    if instruction.cmd != "COPY" or instruction.heredocs:
        return False
    if any(flag.name not in ("chown", "chmod", "link") for flag in instruction.flags):
        return False
    values = instruction.value
    return len(values) >= 2 and all(source in _ROOT_SOURCES for source in values[:-1])


def _known_workdir(facts: StageFacts, instruction: Instruction) -> str | None:
    """The working directory at ``instruction`` when a WORKDIR of the lineage set it.

    The base image may set its own WORKDIR, which the model cannot see: without an
    explicit one before ``instruction`` it is unknown.
    """
    for index, stage in enumerate(facts.lineage):
        for earlier in stage.stage.instructions:
            if index == 0 and earlier is instruction:
                break
            if earlier.cmd == "WORKDIR":
                return facts.at(instruction).workdir
    return None


def _touches(command: SimpleCommand, scope: Scope, name: str) -> None:
    """Refuse a command that writes into the copied folder (moving the COPY below it
    would undo or reorder that write)."""
    words = [w for w in command.words[1:] if not w.value.startswith("-")]
    if name in _PATH_COMMANDS:
        candidates = words
    elif name in _MAYBE_PATHS:
        candidates = [w for w in words if w.value.startswith("/")]
    else:
        candidates = []
    targets = [r.target for r in command.redirects if r.target is not None]
    for word in [*candidates, *targets]:
        if not word.is_literal:
            raise Unprovable(f"`{name}` writes to a path dockfix cannot read")
        try:
            path = scope.image_path(word.value)
        except Unprovable as why:
            raise Unprovable(f"`{name} {word.value}`: {why}") from None
        if path_within(path, scope.copy_dest) or path_within(scope.copy_dest, path):
            raise Unprovable(f"`{name}` changes {word.value} in the copied folder")


def _exported(command: SimpleCommand, scope: Scope) -> None:
    """``export VAR=value`` puts the value in the environment of the later commands (one
    that is not literal is unknown)."""
    for word in command.words[1:]:
        name, equals, value = word.value.partition("=")
        if equals and name.isidentifier():
            scope.env[name] = value if word.is_literal else None


def _plan_for(shell: RunShell, scope: Scope) -> Plan:
    """What this RUN reads, or ``Unprovable``."""
    unchecked: list[str] = []
    installs = False
    if any(m.type == "bind" and m.from_stage is None for m in mounts_of(shell.instruction)):
        raise Unprovable("the RUN bind-mounts the context")
    for command in iter_simple_commands(shell.script):
        package = classify(command)
        name = command_name(command) or ""
        if package is None:
            if name not in _NEUTRAL_COMMANDS:
                raise ReadsSource(f"`{name or 'a command'}` may read the source")
            _touches(command, scope, name)
            if name == "export":
                _exported(command, scope)
            continue
        _touches(command, scope, name)
        if package.manager in _SYSTEM:
            continue
        installs = installs or _installs_dependencies(package)
        note = reads_of(package, scope)
        if note and note not in unchecked:
            unchecked.append(note)
    return Plan(tuple(scope.files), tuple(scope.dirs), "; ".join(unchecked), installs)


def _leading_comments(document: Dockerfile, instruction: Instruction) -> list[Comment]:
    """Comment lines directly above an instruction: they describe it, so they move with it."""
    index = next(i for i, node in enumerate(document.nodes) if node is instruction)
    comments: list[Comment] = []
    while index > 0 and isinstance(document.nodes[index - 1], Comment):
        index -= 1
        comments.insert(0, document.nodes[index])  # type: ignore[arg-type]
    return comments


def _separator_to_move(
    document: Dockerfile, block: list[Comment] | list[Instruction], copy: Instruction
) -> tuple[BlankLine, ...]:
    """The blank line below a block that leaves whole, when one is above it too: it moves
    with the block (above it, at its new place), so the old place keeps one blank line
    between its neighbours, not two, and the block stays set apart as it was."""
    nodes = document.nodes
    first = next(i for i, node in enumerate(nodes) if node is block[0])
    last = next(i for i, node in enumerate(nodes) if node is copy)
    if first == 0 or last + 1 >= len(nodes):
        return ()
    above, below = nodes[first - 1], nodes[last + 1]
    if isinstance(above, BlankLine) and isinstance(below, BlankLine):
        return (below,)
    return ()


_UNQUOTED = lazy_re.compile(r"^[A-Za-z0-9_@%+=:,./~-]+$")


def _copy_lines(document: Dockerfile, copy: Instruction, files: list[str], dirs: list[str]) -> str:
    """``COPY [flags] files... dest`` (one line per folder) and ``COPY [flags] dir dest/dir/``
    for each folder, in the style of the broad copy."""
    dest = copy.value[-1]
    groups: dict[str, list[str]] = {}
    for name in files:
        groups.setdefault(posixpath.dirname(name), []).append(name)
    lines: list[tuple[list[str], str]] = [
        (names, posixpath.join(dest, folder) if folder else dest)
        for folder, names in groups.items()
    ]
    lines.extend(([folder], posixpath.join(dest, folder)) for folder in dirs)
    flags = " ".join(piece.text for piece in copy.pieces_of("flag"))
    indent = copy.pieces[0].text if copy.pieces[0].kind == "ws" else ""
    eol = copy.eol or document.style.eol
    out = []
    for names, target in lines:
        if any(not _UNQUOTED.match(name) for name in names):
            raise Unprovable(f"{names[0]!r} needs quoting in a COPY")
        target = target if target.endswith("/") else target + "/"
        parts = [copy.keyword, *([flags] if flags else []), *names, target]
        out.append(indent + " ".join(parts) + eol)
    return "".join(out)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    model = context.model
    name = context.path.name if context.path is not None else None
    ignore: IgnoreFile | str = IgnoreFile()
    if model.context.present:
        try:
            ignore = IgnoreFile.of(model.context, name)
        except Unprovable as why:
            ignore = str(why)
    for facts in model.stages:
        instructions = facts.stage.instructions
        for index, copy in enumerate(instructions):
            if not _is_root_copy(copy):
                continue
            if isinstance(ignore, str):
                yield rule.finding(_MESSAGE, copy, note=ignore)
                continue
            finding = _check_copy(rule, context.document, model, facts, index, ignore)
            if finding is not None:
                yield finding


def _copy_dest(facts: StageFacts, copy: Instruction) -> str | None:
    dest = copy.value[-1]
    if "$" in dest:
        return None
    if dest.startswith("/"):
        return posixpath.normpath(dest)
    workdir = _known_workdir(facts, copy)
    return posixpath.normpath(posixpath.join(workdir, dest)) if workdir else None


def _installs_in(shell: RunShell) -> bool:
    return any(_installs_dependencies(p) for p in shell.packages())


def _install_follows(facts: StageFacts, instruction: Instruction) -> bool:
    """A later RUN of the stage installs dependencies (so the finding still stands)."""
    own = facts.stage.instructions
    later = own[next(i for i, c in enumerate(own) if c is instruction) + 1 :]
    return any(
        isinstance(shell, RunShell) and _installs_in(shell) for shell in map(run_shell, later)
    )


def _check_copy(
    rule: Rule,
    document: Dockerfile,
    model: FileModel,
    facts: StageFacts,
    index: int,
    ignore: IgnoreFile,
) -> Finding | None:
    """Move the broad COPY below the last install whose reads can all be copied first.

    Walks forward over instructions that read no files (ENV, ARG, LABEL...), WORKDIRs
    (absolute destination only) and RUNs whose reads are known, collecting what they
    need; stops at the first step that might read the source or copies files.
    """
    instructions = facts.stage.instructions
    copy = instructions[index]
    copy_dest = _copy_dest(facts, copy)
    plans: list[Plan] = []
    workdirs: list[str] = []  # WORKDIRs that end up before the moved COPY
    pending: list[str] = []
    last_install: Instruction | None = None
    blocked = ""
    for later in instructions[index + 1 :]:
        if later.cmd in _TRANSPARENT:
            continue
        if later.cmd == "WORKDIR" and copy.value[-1].startswith("/"):
            after = _workdir_after(facts, later)
            if after is None:
                break
            pending.append(after)
            continue
        if later.cmd != "RUN":
            break  # COPY, ADD, SHELL, ONBUILD... between: order matters
        parsed = run_shell(later)
        if not isinstance(parsed, RunShell):
            break
        if copy_dest is None:
            if _installs_in(parsed) and last_install is None:
                why = (
                    "destination uses a variable"
                    if "$" in copy.value[-1]
                    else "working directory unknown"
                )
                return rule.finding(_MESSAGE, copy, note=why)
            break
        scope = Scope(model.context, ignore, copy_dest, _known_workdir(facts, later))
        scope.home = facts.at(later).home
        scope.env = dict(facts.at(later).variables)
        try:
            plan = _plan_for(parsed, scope)
        except Unprovable as why:
            reads = isinstance(why, ReadsSource)
            if _installs_in(parsed) or (not reads and _install_follows(facts, later)):
                blocked = str(why)
            break
        plans.append(plan)
        if plan.installs:
            last_install = later
            workdirs.extend(pending)
            pending = []
    if last_install is None:
        return rule.finding(_MESSAGE, copy, note=blocked) if blocked else None
    if not last_install.eol:
        return rule.finding(_MESSAGE, copy, note="the install is the last line, without a line end")
    return _fix(rule, document, copy, copy_dest, plans, workdirs, last_install)


def _workdir_after(facts: StageFacts, workdir: Instruction) -> str | None:
    """The working directory a WORKDIR sets (None: unknown)."""
    own = facts.stage.instructions
    position = next(i for i, c in enumerate(own) if c is workdir)
    step = facts.at(own[position + 1]) if position + 1 < len(own) else facts.end
    target = workdir.value[0] if workdir.value else ""
    if "$" in target or step.workdir is None:
        return None
    return step.workdir if target.startswith("/") or _known_workdir(facts, workdir) else None


def _fix(
    rule: Rule,
    document: Dockerfile,
    copy: Instruction,
    copy_dest: str | None,
    plans: list[Plan],
    workdirs: list[str],
    last_install: Instruction,
) -> Finding:
    assert copy_dest is not None
    files: list[str] = []
    dirs: list[str] = []
    for plan in plans:
        files.extend(name for name in plan.files if name not in files)
        dirs.extend(name for name in plan.dirs if name not in dirs)
    files = [f for f in files if not any(path_within(f, d) for d in dirs)]
    if any("*" in source for source in copy.value[:-1]):
        nested = [n for n in files + dirs if "/" in n or n.startswith(".")]
        if nested or dirs:
            # `COPY * dest` copies folder contents one level up, and whether it takes
            # dotfiles is the builder's choice: only top-level files map one to one.
            return rule.finding(
                _MESSAGE, copy, note=f"`COPY *` does not copy {(nested or dirs)[0]} as is"
            )
    copied = [posixpath.join(copy_dest, name) for name in files + dirs]
    for target in workdirs:
        # WORKDIR creates a folder inside the copied one: the first COPY must create it
        # as the broad COPY did, so some copied file must lie below it.
        if path_within(target, copy_dest) and not any(
            path_within(c, target) and c != target for c in copied
        ):
            return rule.finding(
                _MESSAGE, copy, note=f"WORKDIR {target} would be created before the copy"
            )
    try:
        text = _copy_lines(document, copy, files, dirs) if files or dirs else ""
    except Unprovable as why:
        return rule.finding(_MESSAGE, copy, note=str(why))
    comments = _leading_comments(document, copy)
    # The broad COPY (with the comment lines that describe it) moves below the install;
    # a COPY of just what the install reads takes its place.
    replacement: tuple[Instruction, ...] = document.parse_instructions(text) if text else ()
    builder = FixBuilder(document).replace(copy, *replacement)
    for comment in comments:
        builder.delete(comment)
    separator = () if replacement else _separator_to_move(document, comments or [copy], copy)
    for blank in separator:
        builder.delete(blank)
    try:
        edits = builder.insert_after(last_install, *separator, *comments, copy).edits()
    except ValueError as refused:  # the install ends the file in a continuation
        return rule.finding(_MESSAGE, copy, note=str(refused))
    unchecked = "; ".join(dict.fromkeys(p.unchecked for p in plans if p.unchecked))
    if not unchecked:
        return rule.finding(_MESSAGE, copy, edits=edits)
    reason = f"the build context is not on disk: {unchecked}"
    return rule.finding(
        _MESSAGE, copy, edits=edits, applicability=Applicability.UNSAFE, reason=reason
    )


def _installs_dependencies(package: PackageCommand) -> bool:
    return (
        package.action in ("install", "ci", "sync", "mod-download")
        and package.manager not in _SYSTEM
    )


RULE = Rule(
    code="DF101",
    name="source-copied-before-install",
    summary="Copy dependency manifests and install before copying the whole source",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
)
