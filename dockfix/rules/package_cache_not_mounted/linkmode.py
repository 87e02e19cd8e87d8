"""uv's link mode (DF110): ``symlink`` leaves the installed packages pointing into the
cache, so that cache must stay in the image.

uv installs a package by linking its files from the cache into the environment: with
``copy``, ``hardlink`` (which falls back to copying when the cache is another file
system, as a cache mount is) or ``clone`` the environment owns its files, and the cache
can be a build-time mount.  With ``symlink`` (``--link-mode symlink`` or
``UV_LINK_MODE=symlink``) site-packages holds symlinks into the cache: a mount is absent
from the image, so the links would dangle, and a later mount over that folder hides the
packages an earlier ``RUN`` linked there.  pip and Poetry copy files out of their caches
(Poetry's virtualenvs folder is handled in ``caches``), so only uv needs this.
"""

from __future__ import annotations

from dockfix.lazy_dataclass import dataclass
from dockfix.model import NO_CONTEXT, StageFacts, path_within
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.package_cache_not_mounted.caches import caches_of
from dockfix.rules.package_cache_not_mounted.state import Where, user_of, where_of
from dockfix.shell import Manager, PackageCommand
from dockfix.syntax import Instruction

_VARIABLE = "UV_LINK_MODE"
_DANGLE = "with the cache as a build mount the links would dangle in the image"


@dataclass(frozen=True)
class Linked:
    """A uv command that links (or may link) packages into ``path`` (None: unknown)."""

    path: str | None
    why: str
    line: int
    #: In the RUN being planned (else in an earlier one, at ``line``).
    here: bool


def link_mode(package: PackageCommand, where: Where) -> str:
    """Why ``package`` (uv) links or may link into its cache (``symlink``), or ''."""
    if package.manager is not Manager.UV:
        return ""
    options = [option for option in package.parsed_options if option.flag == "--link-mode"]
    if options:  # the command line wins over the variable
        option = options[-1]
        word = option.value
        written = " ".join(w.text for w in option.words)
        if word is None or not word.is_literal:
            return f"uv may link packages into its cache (`{written}`)"
        if word.value.strip() == "symlink":
            return f"uv links packages into its cache (`{written}`)"
        return ""
    defined, value = _wrapper_value(package)
    if not defined:
        defined, value = where.lookup(_VARIABLE)
    if not defined:
        defined, value = _inherited_arg(where.facts)
    if not defined:
        return ""
    if value is None:
        return f"uv may link packages into its cache (`{_VARIABLE}` is not known at this step)"
    if value.strip() == "symlink":
        return f"uv links packages into its cache (`{_VARIABLE}={value}`)"
    return ""


def _wrapper_value(package: PackageCommand) -> tuple[bool, str | None]:
    """``env UV_LINK_MODE=x uv ...`` / ``sudo UV_LINK_MODE=x uv ...``: (defined, value)."""
    found: tuple[bool, str | None] = (False, None)
    first = package.program_words[0].start if package.program_words else None
    for word in package.command.words:
        if first is not None and word.start >= first:
            break
        name, equals, _ = word.text.partition("=")
        if equals and name == _VARIABLE:
            found = (True, word.value.partition("=")[2] if word.is_literal else None)
    return found


def _inherited_arg(facts: StageFacts) -> tuple[bool, str | None]:
    """An ``ARG UV_LINK_MODE`` of a stage this one builds on (BuildKit hands ARGs down to
    child stages; the step's variables may not show it): (defined, value)."""
    found: tuple[bool, str | None] = (False, None)
    for member in reversed(facts.lineage[1:]):
        for instruction in member.stage.instructions:
            if instruction.cmd != "ARG":
                continue
            for word in instruction.value:
                name, equals, default = word.partition("=")
                if name == _VARIABLE:
                    literal = equals and "$" not in default
                    found = (True, default.strip("\"'") if literal else None)
    return found


def _linked_in(
    facts: StageFacts, instruction: Instruction, shell: RunShell, here: bool
) -> list[Linked]:
    """The caches the uv commands of one RUN link (or may link) packages into."""
    found: list[Linked] = []
    packages = [package for package in shell.packages() if package.manager is Manager.UV]
    if not packages:
        return found
    user = user_of(facts, instruction)
    for package in packages:
        where = where_of(facts, instruction, shell, package.command, user)
        why = link_mode(package, where)
        if not why:
            continue
        # uv only: the build context is read for yarn, never here.
        for cache in caches_of(package, where, shell, NO_CONTEXT):
            found.append(Linked(cache.path, why, instruction.line, here))
    return found


def symlinked(facts: StageFacts, instruction: Instruction, shell: RunShell) -> list[Linked]:
    """Caches uv links packages into, in this RUN or in an earlier RUN of the lineage
    (a mount over those hides the packages from this RUN, and from the image)."""
    found: list[Linked] = []
    for member in reversed(facts.lineage):
        for earlier in member.stage.instructions:
            if earlier is instruction:
                break
            parsed = run_shell(earlier)
            if isinstance(parsed, RunShell):
                found.extend(_linked_in(member, earlier, parsed, here=False))
    # The RUN's own commands first: their reason is the one to tell.
    return _linked_in(facts, instruction, shell, here=True) + found


def blocked(path: str, linked: list[Linked]) -> str:
    """Why ``path`` must not be mounted (uv links packages there), or ''."""
    for link in linked:
        if link.path is not None and not (
            path_within(path, link.path) or path_within(link.path, path)
        ):
            continue
        if link.here:
            return f"{link.why}: {_DANGLE}"
        folder = link.path or "a cache folder that is not known"
        return (
            f"{link.why} at line {link.line}: a cache mount on {path} would hide the "
            f"packages linked into {folder} from this RUN"
        )
    return ""
