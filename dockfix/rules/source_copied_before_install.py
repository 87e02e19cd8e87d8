"""DF101 source-copied-before-install: ``COPY . .`` before the dependency install.

What it does
    Finds a stage that copies the whole build context (``COPY . .``, ``COPY . /app``)
    and only then installs dependencies from manifest files.  The fix copies the
    manifests first, runs the install, and copies the rest afterwards::

        COPY requirements.txt ./          # new: only what the install reads
        RUN pip install -r requirements.txt
        COPY . .                          # moved below the install

Why is this bad?
    Docker caches layers in order.  With the source copied first, any edit to any source
    file invalidates the install layer, so every build re-installs every package
    (practice 2 of the source article).  Copying the manifests first keeps the install
    cached until the dependencies themselves change.

Fix safety
    Safe only when the install provably reads nothing but the manifests: every command
    of the RUN is a recognised install from manifest files (pip ``-r``/``-c``, ``npm
    ci``/``install``, ``yarn``, ``pnpm``, ``go mod download``, ``pipenv`` with its
    lock file) or a command that reads no source (``apt-get``, ``pip install`` of named
    packages, ``rm``, ``echo``...).  Installs that need the source (``pip install .``,
    ``-e .``, ``setup.py``, ``poetry install`` without ``--no-root``) are reported, not
    rewritten.  Nothing may stand between the copy and the install that reads files or
    changes paths (``RUN``, ``COPY``, ``ADD``, ``WORKDIR``, ``SHELL``, ``ONBUILD``).
    When the build context is on disk (the Dockerfile's folder), every manifest must
    exist there, requirement files are read to follow their ``-r``/``-c`` includes
    (and a local path or ``-e`` inside them stops the fix), and ``package.json`` must
    have no install scripts.  Without the context on disk those checks cannot be made,
    so the fix is offered as *unsafe*.

References
    practices.md row 2; hadolint has no equivalent.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import Manager, PackageCommand, command_name, iter_simple_commands
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.nodes import Comment

#: Commands that read nothing from the application source.
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
#: Instructions that may stand between the copy and the install (they read no files).
_TRANSPARENT = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "USER", "STOPSIGNAL", "HEALTHCHECK"})
_ROOT_SOURCES = frozenset({".", "./", "*", "./*"})
_LOCKS = {
    Manager.NPM: ("package-lock.json", "npm-shrinkwrap.json"),
    Manager.YARN: ("yarn.lock", ".yarnrc.yml"),
    Manager.PNPM: ("pnpm-lock.yaml",),
}
_REQUIREMENT_INCLUDE = re.compile(r"^\s*(-r|-c|--requirement|--constraint)[\s=]+(\S+)")


class Unprovable(Exception):
    """The install may read more than the manifests (the message says why)."""


@dataclass(frozen=True)
class Plan:
    """Manifests to copy first (context-relative paths) and how sure we are."""

    manifests: tuple[str, ...]
    checked_on_disk: bool
    installs: bool


def _is_root_copy(instruction: Instruction) -> bool:
    if instruction.cmd != "COPY" or instruction.heredocs:
        return False
    if any(flag.name not in ("chown", "chmod", "link") for flag in instruction.flags):
        return False
    values = instruction.value
    return len(values) >= 2 and all(source in _ROOT_SOURCES for source in values[:-1])


def _workdirs(document: Dockerfile) -> dict[int, str | None]:
    """The working directory in force at each instruction (None when unknown)."""
    result: dict[int, str | None] = {}
    for stage in document.stages:
        # The base image (or an earlier stage) may set its own WORKDIR: only an
        # explicit absolute WORKDIR in this stage makes it known.
        workdir: str | None = None
        for instruction in stage.instructions:
            if instruction.cmd == "WORKDIR" and instruction.value:
                target = instruction.value[0]
                if "$" in target:
                    workdir = None
                elif target.startswith("/"):
                    workdir = posixpath.normpath(target)
                elif workdir is not None:
                    workdir = posixpath.normpath(posixpath.join(workdir, target))
            result[id(instruction)] = workdir
    return result


def _requirement_closure(context_dir: Path | None, files: list[str]) -> tuple[list[str], bool]:
    """Requirement files plus their ``-r``/``-c`` includes (context-relative)."""
    if context_dir is None:
        return files, False
    seen: list[str] = []
    queue = list(files)
    while queue:
        name = posixpath.normpath(queue.pop(0))
        if name in seen:
            continue
        path = context_dir / name
        if not path.is_file():
            raise Unprovable(f"{name} is not in the build context")
        seen.append(name)
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stripped = line.split(" #", 1)[0].strip()
            if not stripped or stripped.startswith("#"):
                continue
            include = _REQUIREMENT_INCLUDE.match(stripped)
            if include:
                queue.append(posixpath.join(posixpath.dirname(name), include.group(2)))
                continue
            if stripped.startswith(("-e", "--editable", ".", "/", "file:")) or (
                "@ file:" in stripped
            ):
                raise Unprovable(f"{name} installs a local path ({stripped})")
    return seen, True


def _plan_for(shell: RunShell, workdir: str, copy_dest: str, context_dir: Path | None) -> Plan:
    """The manifests this RUN reads, or ``Unprovable``."""
    manifests: list[str] = []
    checked = context_dir is not None
    installs = False
    for command in iter_simple_commands(shell.script):
        package = _classify(command)
        name = command_name(command)
        if package is None:
            if name in _NEUTRAL_COMMANDS:
                continue
            raise Unprovable(f"`{name or 'a command'}` may read the source")
        files, on_disk = _manifests_of(package, context_dir)
        installs = installs or _installs_dependencies(package)
        checked = checked and on_disk
        for image_path in files:
            absolute = posixpath.normpath(posixpath.join(workdir, image_path))
            relative = posixpath.relpath(absolute, copy_dest)
            if relative.startswith(".."):
                raise Unprovable(f"{image_path} is not copied by the broad COPY")
            if relative not in manifests:
                manifests.append(relative)
    if context_dir is not None:
        expanded: list[str] = []
        for name in manifests:
            if name.endswith(".txt") or "requirements" in name:
                closure, _ = _requirement_closure(context_dir, [name])
                expanded.extend(n for n in closure if n not in expanded)
            elif not (context_dir / name).is_file():
                raise Unprovable(f"{name} is not in the build context")
            elif name not in expanded:
                expanded.append(name)
        manifests = expanded
    return Plan(tuple(manifests), checked or not manifests, installs)


def _classify(command: object) -> PackageCommand | None:
    from dockfix.shell import classify

    return classify(command)  # type: ignore[arg-type]


def _manifests_of(package: PackageCommand, context_dir: Path | None) -> tuple[list[str], bool]:
    """Files an install reads (image paths, relative to its workdir)."""
    manager, action = package.manager, package.action
    if manager in (Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF):
        return [], True
    if manager in (Manager.PIP, Manager.UV) and action in ("install", "sync"):
        if package.has_option("-e", "--editable"):
            raise Unprovable("an editable install needs the source")
        for word in package.packages:
            value = word.value
            if value.startswith((".", "/", "file:")) or value.endswith((".whl", ".tar.gz")):
                raise Unprovable(f"`{word.text}` installs from the source tree")
        if package.manager is Manager.UV and action == "sync":
            raise Unprovable("uv sync installs the project itself")
        return list(package.requirement_files), context_dir is not None
    if manager in (Manager.NPM, Manager.YARN, Manager.PNPM) and action in ("install", "ci"):
        if package.packages:
            return [], True  # `npm install left-pad`: named packages only
        files = ["package.json"]
        on_disk = False
        if context_dir is not None:
            on_disk = True
            files += [lock for lock in _LOCKS[manager] if (context_dir / lock).is_file()]
            _check_package_json(context_dir / "package.json")
        return files, on_disk
    if manager is Manager.GO and action == "mod-download":
        files = ["go.mod"]
        if context_dir is None or (context_dir / "go.sum").is_file():
            files.append("go.sum")
        return files, context_dir is not None
    if manager is Manager.PIPENV and action in ("install", "sync"):
        if package.packages:
            return [], True
        return ["Pipfile", "Pipfile.lock"], context_dir is not None
    if manager is Manager.POETRY and action == "install":
        if not package.has_option("--no-root"):
            raise Unprovable("poetry install without --no-root installs the project itself")
        files = ["pyproject.toml"]
        if context_dir is None or (context_dir / "poetry.lock").is_file():
            files.append("poetry.lock")
        return files, context_dir is not None
    raise Unprovable(f"`{manager.value} {action}` may read the source")


def _check_package_json(path: Path) -> None:
    try:
        scripts = json.loads(path.read_text(encoding="utf-8")).get("scripts", {})
    except (OSError, ValueError, AttributeError) as error:
        raise Unprovable(f"package.json cannot be read: {error}") from None
    for hook in ("preinstall", "install", "postinstall", "prepare"):
        if hook in scripts:
            raise Unprovable(f"package.json has a {hook} script")


def _leading_comments(document: Dockerfile, instruction: Instruction) -> list[Comment]:
    """Comment lines directly above an instruction: they describe it, so they move with it."""
    index = next(i for i, node in enumerate(document.nodes) if node is instruction)
    comments: list[Comment] = []
    while index > 0 and isinstance(document.nodes[index - 1], Comment):
        index -= 1
        comments.insert(0, document.nodes[index])  # type: ignore[arg-type]
    return comments


def _copy_line(document: Dockerfile, copy: Instruction, manifests: tuple[str, ...]) -> str:
    """``COPY [flags] manifests... dest`` in the style of the broad copy."""
    dest = copy.value[-1]
    by_dir: dict[str, list[str]] = {}
    for name in manifests:
        by_dir.setdefault(posixpath.dirname(name), []).append(name)
    flags = " ".join(piece.text for piece in copy.pieces_of("flag"))
    keyword = copy.keyword
    indent = copy.pieces[0].text if copy.pieces[0].kind == "ws" else ""
    lines = []
    for directory, names in by_dir.items():
        target = posixpath.join(dest, directory) if directory else dest
        if not target.endswith("/"):
            target += "/"
        if target == "./":
            target = "./"
        parts = [keyword, *([flags] if flags else []), *names, target]
        lines.append(indent + " ".join(parts))
    eol = copy.eol or document.style.eol
    return "".join(line + eol for line in lines)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    workdirs = _workdirs(document)
    for stage in document.stages:
        instructions = stage.instructions
        for index, copy in enumerate(instructions):
            if not _is_root_copy(copy):
                continue
            finding = _check_copy(rule, context, document, instructions, index, workdirs)
            if finding is not None:
                yield finding


def _check_copy(
    rule: Rule,
    context: RuleContext,
    document: Dockerfile,
    instructions: tuple[Instruction, ...],
    index: int,
    workdirs: dict[int, str | None],
) -> Finding | None:
    """Move the broad COPY below the last install that reads only manifests.

    Walks forward over instructions that read no files (ENV, ARG, LABEL...) and RUNs
    that provably read no source, collecting the manifests they need; stops at the
    first step that might read the source, changes paths or copies files.
    """
    copy = instructions[index]
    message = (
        "The whole source is copied before dependencies are installed; "
        "every source change re-runs the install"
    )
    dest = copy.value[-1]
    plans: list[Plan] = []
    last_install: Instruction | None = None
    blocked = ""
    for later in instructions[index + 1 :]:
        if later.cmd in _TRANSPARENT:
            continue
        if later.cmd != "RUN":
            break  # WORKDIR, COPY, ADD, SHELL, ... between: order matters
        parsed = run_shell(later)
        if not isinstance(parsed, RunShell):
            break
        workdir = workdirs.get(id(later))
        if workdir is None or "$" in dest:
            installs = any(_installs_dependencies(p) for p in parsed.packages())
            if installs and last_install is None:
                why = (
                    "working directory unknown"
                    if workdir is None
                    else "destination uses a variable"
                )
                return rule.finding(message, copy, note=why)
            break
        copy_dest = posixpath.normpath(posixpath.join(workdir, dest))
        try:
            plan = _plan_for(parsed, workdir, copy_dest, context.context_dir)
        except Unprovable as why:
            if any(_installs_dependencies(p) for p in parsed.packages()):
                blocked = str(why)
            break
        plans.append(plan)
        if plan.installs:
            last_install = later
    if last_install is None:
        return rule.finding(message, copy, note=blocked) if blocked else None
    if not last_install.eol:
        return rule.finding(message, copy, note="the install is the last line, without a line end")
    manifests: list[str] = []
    for plan in plans:
        manifests.extend(name for name in plan.manifests if name not in manifests)
    comments = _leading_comments(document, copy)
    # The broad COPY (with the comment lines that describe it) moves below the install;
    # a COPY of just the manifests takes its place.
    replacement: tuple[Instruction, ...] = ()
    if manifests:
        replacement = document.parse_instructions(_copy_line(document, copy, tuple(manifests)))
    edits = [Edit(copy, replacement)]
    edits.extend(Edit(comment, ()) for comment in comments)
    edits.append(Edit(last_install, (last_install, *comments, copy)))
    checked = all(plan.checked_on_disk for plan in plans)
    applicability = Applicability.SAFE if checked else Applicability.UNSAFE
    reason = (
        ""
        if checked
        else "the build context is not on disk, so the manifests and their -r/-c includes "
        "were not checked"
    )
    return rule.finding(message, copy, edits=edits, applicability=applicability, reason=reason)


def _installs_dependencies(package: PackageCommand) -> bool:
    return package.action in ("install", "ci", "sync", "mod-download") and package.manager not in (
        Manager.APT_GET,
        Manager.APT,
        Manager.APK,
        Manager.YUM,
        Manager.DNF,
        Manager.MICRODNF,
    )


RULE = Rule(
    code="DF101",
    name="source-copied-before-install",
    summary="Copy dependency manifests and install before copying the whole source",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
)
