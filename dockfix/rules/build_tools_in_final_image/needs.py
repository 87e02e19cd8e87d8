"""What the split's final stage installs in place of the build packages: runtime
libraries, by name (generated data) and by the documented pip table."""

from __future__ import annotations

import posixpath
import re

from dockfix.images.python_packages import PURE_OR_WHEELS
from dockfix.images.python_requirements import (
    Requirements,
    image_reader,
    read_requirement_files,
    requirements_of,
    source_build_needs,
)
from dockfix.images.runtime_libs import NoRuntimeKnown, package_name, runtime_packages
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, StageFacts
from dockfix.model.copied import Origin, copy_destination, file_origin, inside
from dockfix.rules.build_tools_in_final_image.checks import APT, BuildInstall, Site
from dockfix.rules.build_tools_in_final_image.project import is_local_wheel
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, Subshell, command_name, iter_simple_commands
from dockfix.syntax import Instruction


def requirements_named(facts: StageFacts, sites: list[Site], context: BuildContext) -> Requirements:
    """What the split installs name (command lines and requirement files)."""
    found = Requirements()
    for site in sites:
        if site.package is None:
            found.unread.append("setup.py")  # the project's own requirements
            continue
        if site.locked is not None:  # the pins of a lock file: ``pipenv.py``, ``poetry.py``
            found.names += [(name, "") for name in site.locked.names]
            continue
        read = image_reader(facts, site.shell.instruction, context)
        found.extend(requirements_of(site.package, read))
    return found


def check_needs_compiling(requirements: Requirements) -> None:
    """A builder stage is for packages that compile: when every requirement is known to
    be pure Python or to have wheels, there is nothing to build."""
    names = [name for name, _ in requirements.names]
    if requirements.unread or not names or not set(names) <= PURE_OR_WHEELS:
        return
    listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    raise FixRefused(
        f"no requirement needs compiling ({listed}: pure Python or wheels): the build "
        "packages serve something the Dockerfile does not show (a program that compiles "
        "or builds at run time, as pip-compile does for sdists), or nothing"
    )


def linked_libraries(
    release: str | None,
    requirements: Requirements,
    runtime: dict[int, tuple[str, ...]],
    from_base: bool,
    distro: str = "debian",
) -> tuple[tuple[str, ...], list[str]]:
    """Runtime packages the documented pip table names for the requirements (``psycopg2``
    -> ``libpq5``; on the full image also those linked when headers are there): the
    final stage installs them besides what the builder's scan finds, so that a library
    loaded with ``ctypes`` (``python-magic``) stays too.  Requirements that cannot be
    read are a caveat (on the full image, ``unread_on_full_base`` decides).  A library's
    unknown name for a package that loads it itself blocks the fix."""
    caveats = []
    if requirements.unread and not from_base:  # the full base: see ``unread_on_full_base``
        caveats.append(
            f"`{requirements.unread[0]}` could not be read: a package in it that loads a "
            "library with ctypes may miss it"
        )
    needs = source_build_needs(
        requirements, release, linked_found=True, optional=from_base, distro=distro
    )
    if needs.blockers:
        raise FixRefused(needs.blockers[0])
    named = {name for names in runtime.values() for name in names}
    linked = tuple(name for name in needs.packages if name not in named)
    return linked, [*needs.caveats, *caveats]


def runtime_words(
    installs: list[BuildInstall],
    release: str | None,
    python_image: bool,
    alpine: bool = False,
    rhel: bool = False,
) -> tuple[dict[int, tuple[str, ...]], list[str]]:
    """For each build package word, the library packages to install in its place, and
    caveats.

    The names come from the generated data of the image's Debian release (every library
    the package brought: ``gcc`` -> ``libgomp1`` ...).  Where the release has no data,
    the tag names none, or the image is Alpine's, the word goes with no name in its
    place: the builder's scan (``runtime_scan``) finds what the built packages link, and
    the caveat says that a library loaded only with ``dlopen``/``ctypes`` is not found
    that way.  A runtime package that the same command already installs, or that an
    earlier word of the command already brings, is not named twice.
    """
    result: dict[int, tuple[str, ...]] = {}
    unknown: list[str] = ["runtime libraries of Alpine are not known"] if alpine else []
    managers = frozenset({Manager.APK}) if alpine else APT
    if rhel:  # yum/dnf/microdnf: no generated names either (``rhel``)
        unknown = ["runtime libraries of the RHEL family are not known"]
        managers = frozenset({Manager.YUM, Manager.DNF, Manager.MICRODNF})
    for install in installs:
        if install.package.manager not in managers:
            raise FixRefused(
                f"`{install.package.manager.value}` is not the image's package manager"
            )
        named = {package_name(w.value) for w in install.package.packages}
        for word in install.package.packages:
            if not word.is_literal:
                raise FixRefused(
                    f"the package list on line {install.shell.instruction.line} uses a variable"
                )
        for word in install.build_words:
            names: tuple[str, ...] = ()
            if not alpine and not rhel:
                try:
                    names = runtime_packages(word.value, release, python_image=python_image)
                except NoRuntimeKnown as error:
                    if not unknown:
                        unknown.append(str(error))
            fresh = tuple(name for name in names if name not in named)
            named.update(fresh)
            result[id(word)] = fresh
    caveats = (
        [
            f"{unknown[0]}: the final stage installs the packages the built code links, "
            "found at build time, but not a library loaded only with dlopen/ctypes"
        ]
        if unknown
        else []
    )
    return result, caveats


#: Why ``file_origin`` has no text for a file a COPY brings from the build context.
_CONTEXT_UNREAD = "cannot be read from the build context"
#: What -slim may lack that the builder's scan does not find.
_SLIM_MAY_LACK = (
    "the builder's scan finds the libraries that compiled code links, but a package that "
    "loads a library of the full image with ctypes/dlopen, or runs one of its programs "
    "(git, curl, ssh, ImageMagick's convert ...), finds neither on -slim"
)


#: Source archives pip builds (a project's sdist).
_ARCHIVE = re.compile(r"\.(?:tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$")


@dataclass(frozen=True)
class _Unread:
    """Something an install reads that could not be: a requirement file or a project."""

    what: str
    origin: Origin | None
    project: bool


def unread_on_full_base(facts: StageFacts, sites: list[Site], context: BuildContext) -> list[str]:
    """The caveat for requirements the installs read that could not be read, on the
    full image (every library and program -slim lacks is there, so what the installs
    name decides what the final stage needs), or FixRefused.

    Requirement files that a COPY brings from a build context that is not on disk, and
    local projects, sdists and wheels a COPY brings (their metadata is not read), are a
    caveat naming them and what may change.  Anything that could not be checked even
    with the build context is refused: a file no COPY brings (a clone, a download, the
    base image, a ``cd`` to a path not known), one from another stage or an archive, a
    file missing from the context that is there, a URL pip fetches.
    """
    files: list[str] = []
    projects: list[str] = []
    for site in sites:
        for unread in _unread_of(facts, site, context):
            _check_readable_later(unread, context)
            (projects if unread.project else files).append(unread.what)
    caveats = []
    if files:
        caveats.append(f"{_listed(files)} could not be read (no build context): {_SLIM_MAY_LACK}")
    if projects:
        caveats.append(
            f"the requirements that the project or archive {_listed(projects)} declares are "
            f"not read: {_SLIM_MAY_LACK}"
        )
    return caveats


def _listed(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(f"`{name}`" for name in unique[:3]) + (", ..." if len(unique) > 3 else "")


def _unread_of(facts: StageFacts, site: Site, context: BuildContext) -> list[_Unread]:
    """What ``site`` installs from that could not be read, with where it comes from."""
    instruction = site.shell.instruction
    folder = run_directory(facts, site)

    def origin(path: str) -> Origin | None:
        if folder is None and not path.startswith("/"):
            return None  # relative to a directory that is not known
        return file_origin(facts, instruction, posixpath.join(folder or "/", path), context)

    if site.package is None:
        return [_Unread(".", project_origin(facts, site, ".", context), project=True)]
    found = []
    for word in site.projects:
        url = "://" in word.value
        where = None if url else project_origin(facts, site, word.value, context)
        if not url and _ARCHIVE.search(word.value):
            where = origin(word.value)  # an sdist: the file itself
        found.append(_Unread(word.value, where, project=not url))
    for word in site.package.packages:
        if word.is_literal and is_local_wheel(word.value):
            found.append(_Unread(word.value, origin(word.value), project=True))
    files = [
        word.value
        for word in site.package.option_values("-r", "--requirement", "--requirements")
        if word.is_literal
    ]
    read = image_reader(facts, instruction, context)
    for name in read_requirement_files(files, read).unread:
        found.append(_Unread(name, origin(name), project=False))
    return found


def run_directory(facts: StageFacts, site: Site) -> str | None:
    """The directory the install runs in: the WORKDIR, moved by the literal ``cd`` commands
    of the RUN's ``&&`` chain before it; None when not known (no WORKDIR, a ``cd`` to a
    variable or inside a group)."""
    folder = facts.at(site.shell.instruction).workdir
    items = site.shell.script.body.items
    # The ``cd``s of a ``( cd dir && pip install ... )`` that runs the install as if it
    # stood alone (``wrappers.top_item``) move it too; a ``cd`` in any other subshell
    # or group makes the folder unknown.
    wrapper = site.item
    inner = wrapper.body.items if isinstance(wrapper, Subshell) else ()
    for command in iter_simple_commands(site.shell.script):
        if command.end > site.command.start:
            break
        if command_name(command) not in ("cd", "pushd"):
            continue
        words = command.words[1:]
        top = any(item is command for item in (*items, *inner))
        if not top or len(words) != 1 or not words[0].is_literal:
            return None
        target = words[0].value
        if not target.startswith("/") and folder is None:
            return None
        folder = posixpath.normpath(posixpath.join(folder or "/", target))
    return folder


def project_origin(
    facts: StageFacts, site: Site, path: str, context: BuildContext
) -> Origin | None:
    """Where the project folder ``path`` of ``site`` comes from: the COPY that brings its
    ``setup.py`` or ``pyproject.toml``; None when no COPY of the stage does."""
    folder = run_directory(facts, site)
    if folder is None and not path.startswith("/"):
        return None
    project = posixpath.join(folder or "/", path)
    for name in ("setup.py", "pyproject.toml"):
        where = posixpath.normpath(posixpath.join(project, name))
        found = file_origin(facts, site.shell.instruction, where, context)
        if found is not None:
            return found
    return None


def _check_readable_later(unread: _Unread, context: BuildContext) -> None:
    """FixRefused unless ``unread`` would be read with the build context on disk (a
    project is never read, but then a COPY of the context must bring it)."""
    tail = (
        "the packages it installs cannot be checked, and one may load a library or run "
        "a program of the full image that -slim lacks"
    )
    origin = unread.origin
    if "://" in unread.what:
        raise FixRefused(f"`{unread.what}` is fetched by pip: {tail}")
    if origin is None:
        raise FixRefused(
            f"`{unread.what}` is not copied from the build context by the stage (it comes "
            f"from the base image, a download, a clone, or a `cd` first): {tail}"
        )
    if origin.text is None and origin.why != _CONTEXT_UNREAD:
        why = origin.why.split(", so ", 1)[0]  # what follows is about scripts
        raise FixRefused(f"`{unread.what}` {why}: {tail}")
    if not unread.project and context.present:
        raise FixRefused(f"`{unread.what}` is not a file of the build context: {tail}")


def check_no_later_copy(facts: StageFacts, site: Site, path: str, context: BuildContext) -> None:
    """An editable install sees what the stage copies into its folder afterwards
    (``pip install -e .`` of ``setup.py`` alone, then ``COPY . /code``: the usual way to
    cache dependencies); the project's wheel, built when the install ran, would not
    hold those files, and may not build at all.  FixRefused when a later COPY/ADD may
    write into the folder (or where either place is not known)."""
    line = site.shell.instruction.line
    folder = run_directory(facts, site)
    if folder is None and not path.startswith("/"):
        raise FixRefused(f"the folder of the editable install on line {line} is not known")
    project = posixpath.normpath(posixpath.join(folder or "/", path))
    instructions = facts.stage.instructions
    for later in instructions[instructions.index(site.shell.instruction) + 1 :]:
        if later.cmd not in ("COPY", "ADD") or len(later.value) < 2:
            continue
        target = _destination(facts, later)
        if target is None or _may_write_into(later, target, project, context):
            raise FixRefused(
                f"the {later.cmd} on line {later.line} writes into `{project}` after its "
                f"editable install on line {line}: the install sees those files, a wheel "
                "built before them would not"
            )


#: A source named like a file (``entrypoint.sh``, ``app.conf``), not a folder.
_FILE_NAME = re.compile(r"[^./]\.[A-Za-z0-9]{1,5}$")


def _may_write_into(copy: Instruction, target: str, project: str, context: BuildContext) -> bool:
    """Whether the COPY/ADD to ``target`` may put files in ``project``: a target in it, or
    a target above it that receives a folder's contents (a folder of the context, or one
    not known as a file) or a file named like the project's path."""
    if inside(target, project):
        return True
    if not inside(project, target):
        return False
    for item in copy.value[:-1]:
        name = posixpath.basename(posixpath.normpath(item))
        folder = context.is_dir(item) if copy.flag("from") is None else None
        if folder is None:
            folder = not _FILE_NAME.search(name)
        if folder or inside(project, posixpath.join(target, name)):
            return True
    return False


def _destination(facts: StageFacts, copy: Instruction) -> str | None:
    """Where a COPY/ADD writes, as an absolute path; None when not known."""
    return copy_destination(facts.at(copy), copy)
