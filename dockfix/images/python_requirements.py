"""What Python installs name, and the libraries packages built from source load.

The requirements of an install (its command line and its ``-r`` files, read through the
model's build context as the stage's COPY put them there), and the Debian runtime
packages that those built from source need (the pip table ``data/pip_system_libs.json``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import field

from dockfix import lazy_re
from dockfix.images.python import BUILDING_ACTIONS
from dockfix.images.python_packages import requirement_name, variable_version_name
from dockfix.images.runtime_data import PipSystemLibs, pip_package
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, StageFacts
from dockfix.model.copied import file_origin
from dockfix.model.runs import RunShell, run_shell
from dockfix.shell import Manager, PackageCommand
from dockfix.syntax import Instruction

_INCLUDE = lazy_re.compile(r"^\s*(?:-r|--requirements?)[\s=]+(\S+)")


@dataclass
class Requirements:
    """What one or more Python installs name: packages, and what could not be read."""

    #: ``(name, extras)``, PEP 503 names.
    names: list[tuple[str, str]] = field(default_factory=list)
    #: ``(file, line)`` of every requirement-file line read (comments dropped).
    lines: list[tuple[str, str]] = field(default_factory=list)
    #: Requirement files that could not be read (no context, missing, a variable).
    unread: list[str] = field(default_factory=list)

    def extend(self, other: Requirements) -> None:
        self.names += other.names
        self.lines += other.lines
        self.unread += other.unread


#: Reads a file of the image by its path (relative to the WORKDIR of the install).
Reader = Callable[[str], "str | None"]


def read_requirement_files(files: Sequence[str], read: Reader) -> Requirements:
    """The lines of requirement files (and the files they include with ``-r``), read
    with ``read``; files it cannot read are listed as unread."""
    found = Requirements()
    queue: list[str] = list(files)
    seen: set[str] = set()
    while queue and len(seen) < 50:
        name = posixpath.normpath(queue.pop(0))
        if name in seen:
            continue
        seen.add(name)
        text = read(name)
        if text is None:
            found.unread.append(name)
            continue
        for line in text.splitlines():
            line = line.split(" #", 1)[0]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            include = _INCLUDE.match(line)
            if include:
                queue.append(posixpath.join(posixpath.dirname(name), include.group(1)))
                continue
            found.lines.append((name, line))
            if not line.lstrip().startswith("-"):
                parsed = requirement_name(line)
                if parsed is not None:
                    found.names.append(parsed)
    return found


def requirements_of(package: PackageCommand, read: Reader) -> Requirements:
    """The packages a pip/uv install names on its command line and in its ``-r`` files."""
    found = Requirements()
    for word in package.packages:
        parsed = (
            requirement_name(word.value) if word.is_literal else variable_version_name(word.text)
        )
        if parsed is None:
            found.unread.append(word.text)
        else:
            found.names.append(parsed)
    files = []
    for word in package.option_values("-r", "--requirement", "--requirements"):
        if word.is_literal:
            files.append(word.value)
        else:
            found.unread.append(word.text)
    found.extend(read_requirement_files(files, read))
    if package.manager not in (Manager.PIP, Manager.UV):
        found.unread.append(f"{package.manager.value} {package.action}")
    return found


def image_reader(facts: StageFacts, instruction: Instruction, context: BuildContext) -> Reader:
    """Reads files as ``instruction`` sees them: a relative path is in its WORKDIR, and
    the text is the build-context file that the stage's COPY/ADD put there."""

    def read(path: str) -> str | None:
        origin = file_origin(facts, instruction, path, context)
        return origin.text if origin is not None else None

    return read


def installs_in(facts: StageFacts, context: BuildContext) -> Requirements:
    """What every pip/uv/poetry/pipenv install of the stage and its lineage names."""
    found = Requirements()
    for ancestor in facts.lineage:
        for instruction in ancestor.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            read = image_reader(ancestor, instruction, context)
            for package in shell.packages():
                if package.action in BUILDING_ACTIONS.get(package.manager, ()):
                    found.extend(requirements_of(package, read))
    return found


@dataclass
class RuntimeNeeds:
    """Runtime packages that compiled requirements load, and what stands in the way."""

    packages: list[str] = field(default_factory=list)
    #: Why the needs cannot be named (the fix must not be offered).
    blockers: list[str] = field(default_factory=list)
    #: What may still be missing (for the unsafe fix's reason).
    caveats: list[str] = field(default_factory=list)


def source_build_needs(
    requirements: Requirements,
    release: str | None,
    *,
    linked_found: bool = False,
    optional: bool = False,
    distro: str = "debian",
) -> RuntimeNeeds:
    """The Debian runtime packages that ``requirements`` need at run time beyond the
    wheels, by the documented pip table (``runtime_data.pip_package``).

    A package that loads its library itself (``wheel: needs``: psycopg 3, python-magic,
    LightGBM) or that PyPI has no wheel for (``none``: psycopg2, mysqlclient) needs the
    runtime packages: a name the table does not know for ``release`` (None: the tag names
    none, so only a name shared by every release serves) blocks the fix.  With
    ``linked_found`` the caller finds what compiled code links at build time, so a
    ``none`` row without a name for the release does not block.  ``optional`` adds the
    libraries a build links when their headers are there (as on the full image).  A
    package whose wheels bundle the library (``bundles``) is installed from them unless
    none fits the platform: only a caveat.
    """
    needs = RuntimeNeeds()
    for name, extras in requirements.names:
        row = pip_package(name)
        if row is None or _binary_extra(row, extras):
            continue
        names = row.libraries(distro, release or "*", optional=optional)
        if row.wheel == "bundles":
            listed = " ".join(names or ()) or "its libraries"
            needs.caveats.append(
                f"{row.name} built from source (no wheel for the platform) would need {listed}"
            )
        elif names is None and row.wheel == "none" and linked_found:
            continue
        elif names is None:
            where = f"{distro} {release}" if release else f"every {distro} release"
            needs.blockers.append(
                f"{row.name} loads {row.links} at run time, and its package on {where} is not known"
            )
        else:
            needs.packages += [n for n in names if n not in needs.packages]
    return needs


def _binary_extra(row: PipSystemLibs, extras: str) -> bool:
    """``psycopg[binary]``: the extra installs the wheel that bundles the library."""
    binary = row.binary or ""
    if "[" not in binary or not binary.startswith(row.name + "["):
        return False
    extra = binary[len(row.name) + 1 : -1]
    return extra in extras.strip("[]").replace(" ", "").split(",")
