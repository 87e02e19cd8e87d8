"""Which build-context file a ``COPY``/``ADD`` put at a path of the image (DF201, DF203).

Rules that judge a script the container or a ``RUN`` runs (does it need root, does it
call ``git``?) must read the file the image really has: the last ``COPY``/``ADD`` that
can put something at that path decides.  A file from the build context is read through
the model's cached view; one copied from another stage (``COPY --from``), downloaded or
unpacked from an archive by ``ADD`` cannot be read, and the answer says why.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass
from dockfix.model.context import BuildContext
from dockfix.model.expand import expand
from dockfix.syntax import Instruction

if TYPE_CHECKING:
    from dockfix.model.stages import StageFacts, Step

#: Source names ``ADD`` may unpack when the context cannot tell (BuildKit reads the bytes).
_ARCHIVE_NAME = lazy_re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|lz4)$", re.IGNORECASE)
#: Where a bare command name is looked up (the usual PATH of Linux images).
SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_URL = lazy_re.compile(r"[a-z][a-z0-9+.-]*://|git@", re.IGNORECASE)


def is_remote_source(source: str) -> bool:
    """An ``ADD`` source BuildKit fetches (a URL or a git remote), not a context path."""
    return bool(_URL.match(source))


@dataclass(frozen=True)
class Origin:
    """The file at a path: its text, or (``text`` None) why it cannot be known."""

    text: str | None
    why: str = ""
    #: A COPY of the build context puts it there, and the context has no such file.
    missing: bool = False


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def origin_of(
    path: str,
    instructions: Iterable[Instruction],
    destination: Callable[[Instruction], str | None],
    context: BuildContext,
) -> Origin | None:
    """The file at ``path`` as the last COPY/ADD of ``instructions`` that can put it
    there leaves it; None when none does.  ``destination`` gives a COPY's absolute
    destination (None: not known)."""
    found: Origin | None = None
    for instruction in instructions:
        if instruction.cmd not in ("COPY", "ADD"):
            continue  # (most instructions: their arguments need not be read)
        values = instruction.value
        if len(values) < 2 or instruction.heredocs:
            continue
        dest = destination(instruction)
        if dest is None:
            continue
        into_folder = values[-1].endswith("/") or len(values) > 2
        for item in values[:-1]:
            unpacked = _unpacked_over(instruction, item, dest, path, context)
            if unpacked is not None:
                found = unpacked
                continue
            matches = _matches(item, context)
            for match in matches:
                folder = context.is_dir(match) is not False  # unknown: it may be a folder
                into = into_folder or len(matches) > 1  # several files go into a folder
                source = context_source(match, dest, into, path, folder=folder)
                if source is not None:
                    found = _copied(instruction, source, context)
    return found


def _matches(item: str, context: BuildContext) -> list[str]:
    """The context names a COPY source stands for: a pattern (``Pipfile*``) the files
    it matches in the build context, when there is one; else the source as written."""
    if not any(char in item for char in "*?[") or item.startswith("/"):
        return [item]
    if context.kind(".") != "dir":
        return [item]
    matches = context.glob(item)
    return list(matches) if matches is not None else [item]


def _unpacked_over(
    instruction: Instruction, item: str, dest: str, path: str, context: BuildContext
) -> Origin | None:
    """An ``ADD`` that may put ``path`` in place by download or by unpacking an archive."""
    if instruction.cmd != "ADD" or instruction.flag("from") is not None:
        return None
    line = instruction.line
    if is_remote_source(item):
        if dest == path or posixpath.join(dest, posixpath.basename(item)) == path:
            return Origin(None, f"is downloaded by ADD (line {line})")
        return None
    archive = context.is_archive(item)
    if archive is None:
        archive = bool(_ARCHIVE_NAME.search(item)) or "*" in item or "?" in item
    if archive and inside(path, dest):
        return Origin(None, f"may come from `{item}`, which ADD unpacks (line {line})")
    return None


def _copied(instruction: Instruction, source: str, context: BuildContext) -> Origin:
    """The text of ``source`` as COPY/ADD brings it: from the build context, or not known."""
    stage = instruction.flag("from")
    if stage is not None:
        return Origin(
            None,
            f"comes from `{stage.value}` (COPY --from, line {instruction.line}), "
            "so what it runs cannot be read",
        )
    text = context.read_text(source) if context.is_file(source) else None
    if text is None:
        missing = context.kind(source) == "missing"
        return Origin(None, "cannot be read from the build context", missing=missing)
    return Origin(text)


def context_source(
    item: str, dest: str, into_folder: bool, path: str, *, folder: bool = True
) -> str | None:
    """Where in the build context ``path`` would come from, if this COPY source put it
    (``folder``: the source may be a folder, whose contents go into ``dest``)."""
    item = posixpath.normpath(item)
    if not into_folder and dest == path:
        return item
    if posixpath.join(dest, posixpath.basename(item)) == path:
        return item
    if folder and inside(path, dest) and path != dest:
        return posixpath.join(item, posixpath.relpath(path, dest))
    return None


def file_origin(
    facts: StageFacts,
    instruction: Instruction,
    path: str,
    context: BuildContext,
    *,
    on_path: bool = False,
) -> Origin | None:
    """The file at ``path`` (relative to ``instruction``'s WORKDIR, or looked up on
    ``PATH``) as the stage's COPY/ADD put it there; None when none did."""
    step = facts.at(instruction)
    if on_path:
        candidates = [posixpath.join(folder, path) for folder in SEARCH_PATH]
    elif path.startswith("/") or step.workdir is not None:
        candidates = [posixpath.normpath(posixpath.join(step.workdir or "/", path))]
    else:
        return None

    def destination(copy: Instruction) -> str | None:
        return copy_destination(_step_in_lineage(facts, copy), copy)

    instructions = [i for ancestor in reversed(facts.lineage) for i in ancestor.stage.instructions]
    if instruction.cmd == "RUN" and instruction in instructions:
        # A RUN sees what was copied before it; CMD/ENTRYPOINT see the finished image.
        instructions = instructions[: instructions.index(instruction)]
    for candidate in candidates:
        origin = origin_of(candidate, instructions, destination, context)
        if origin is not None:
            return origin
    return None


def _step_in_lineage(facts: StageFacts, instruction: Instruction) -> Step:
    """The state before ``instruction`` in whichever stage of the lineage holds it."""
    for ancestor in facts.lineage:
        if ancestor.contains(instruction):
            return ancestor.at(instruction)
    return facts.end


def copy_destination(step: Step, copy: Instruction) -> str | None:
    """Where a COPY/ADD writes, as an absolute path (``step``: the state it runs in);
    None when not known."""
    target = expand(copy.value[-1], step.variables)
    if target is None:
        return None
    if not target.startswith("/"):
        if step.workdir is None:
            return None
        target = posixpath.join(step.workdir, target)
    return posixpath.normpath(target)
