"""DF004 add-local-source: ``ADD`` used where ``COPY`` does the job.

What it does
    Rewrites ``ADD`` to ``COPY`` when every source is a local path that ``ADD`` would
    merely copy: not a URL, not a git repository, and not a tar archive (which ``ADD``
    unpacks).

Why is this bad?
    ``ADD`` also downloads URLs and unpacks local archives, so a reader must check every
    source to know what it does.  ``COPY`` says "copy" and nothing else.  hadolint
    reports it as DL3020; the source article (practice 6) recommends ``COPY``.

Example
    ``ADD requirements.txt /app/`` becomes ``COPY requirements.txt /app/``.

Fix safety
    Safe where proven: each source must be a plain path with no URL scheme, no
    ``git@``/``.git`` form, and no archive-like name (``.tar``, ``.tgz``, ``.gz``,
    ``.xz``, ...).  When the build context is on disk, a named source that is a file is
    opened and checked for tar/gzip/bzip2/xz/zstd magic bytes.  Globs and variables
    (``ADD *.whl``, ``ADD $SRC``) could match an archive: they are rewritten only when
    the context is on disk and no matching file is an archive; otherwise reported.
    ``--checksum`` and ``--keep-git-dir`` only apply to remote sources: kept as ``ADD``.
    A relative destination in a stage without ``WORKDIR`` is reported, not rewritten
    (the destination is the smell to fix first; hadolint DL3045 flags it on ``COPY``).

References
    practices.md row 6; hadolint DL3020.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from pathlib import Path

from dockfix.model.preconditions import Precondition
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Dockerfile, Instruction

_REMOTE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://|git@)")
_ARCHIVE_SUFFIXES = (
    ".tar",
    ".tgz",
    ".tbz",
    ".tbz2",
    ".txz",
    ".tzst",
    ".taz",
    ".tlz",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".lz",
    ".lzma",
    ".z",
)
_MAGIC = (
    (0, b"\x1f\x8b"),  # gzip
    (0, b"BZh"),  # bzip2
    (0, b"\xfd7zXZ\x00"),  # xz
    (0, b"\x28\xb5\x2f\xfd"),  # zstd
    (257, b"ustar"),  # tar
)
_ADD_ONLY_FLAGS = ("checksum", "keep-git-dir")


def looks_like_archive_name(source: str) -> bool:
    lowered = source.lower().rstrip("/")
    return lowered.endswith(_ARCHIVE_SUFFIXES)


def is_archive_file(path: Path) -> bool:
    """True when ``path`` starts like something ``ADD`` would unpack."""
    try:
        with path.open("rb") as handle:
            head = handle.read(262)
    except OSError:
        return True  # unreadable: cannot prove it is not an archive
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _MAGIC)


def _context_matches(context_dir: Path, source: str) -> list[Path] | None:
    """Files in the context a source names; None when that cannot be known."""
    if "$" in source:
        return None
    pattern = source.lstrip("/")
    if pattern in ("", "."):
        return []
    matches = [Path(p) for p in glob.glob(str(context_dir / pattern))]
    files: list[Path] = []
    for match in matches:
        if match.is_file():
            files.append(match)
    return files


class AddNeeded(Exception):
    """ADD does something COPY cannot here (download, git, unpack): no finding at all."""


def unproven_reason(instruction: Instruction, context_dir: Path | None) -> str | None:
    """Why this ADD cannot be proven to act like COPY, or None when it can.

    Raises ``AddNeeded`` when ADD is the right instruction.
    """
    for name in _ADD_ONLY_FLAGS:
        if instruction.flag(name):
            raise AddNeeded(f"--{name} only applies to ADD")
    values = instruction.value
    if len(values) < 2:
        return "fewer than two arguments"
    sources = [v for v in values[:-1] if not v.startswith("<<")]
    for source in sources:
        if _REMOTE.match(source) or source.endswith(".git") or "git@" in source:
            raise AddNeeded(f"source {source!r} is remote")
        if looks_like_archive_name(source):
            raise AddNeeded(f"source {source!r} looks like an archive that ADD unpacks")
        dynamic = any(ch in source for ch in "*?[$")
        if context_dir is None:
            if dynamic:
                return f"source {source!r} may match an archive (no build context on disk)"
            continue
        matches = _context_matches(context_dir, source)
        if matches is None:
            return f"source {source!r} uses a variable"
        for match in matches:
            if is_archive_file(match):
                raise AddNeeded(f"source {match.name!r} is an archive that ADD unpacks")
    return None


def _relative_without_workdir(document: Dockerfile) -> set[int]:
    """ADDs whose destination is relative while their stage has set no WORKDIR yet.

    Rewriting those to COPY would trade DL3020 for hadolint's DL3045 ("COPY to a
    relative destination without WORKDIR set"); the relative path is the real smell.
    """
    found: set[int] = set()
    for stage in document.stages:
        workdir_seen = False
        for instruction in stage.instructions:
            if instruction.cmd == "WORKDIR":
                workdir_seen = True
            elif instruction.cmd == "ADD" and not workdir_seen and instruction.value:
                destination = instruction.value[-1]
                if not destination.startswith(("/", "$")):
                    found.add(id(instruction))
    return found


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    relative = _relative_without_workdir(document)
    for instruction in document.instructions:
        if instruction.cmd != "ADD":
            continue
        message = "Use COPY instead of ADD for files and folders"
        if id(instruction) in relative:
            yield rule.finding(message, instruction, note="relative destination and no WORKDIR set")
            continue
        try:
            reason = unproven_reason(instruction, context.context_dir)
        except AddNeeded:
            continue  # ADD is the right tool here
        if reason is not None:
            yield rule.finding(message, instruction, note=reason)
            continue
        keyword = instruction.keyword
        copy = "COPY" if keyword.isupper() else "copy" if keyword.islower() else "Copy"
        new = document.set_keyword(instruction, copy)
        yield rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF004",
    name="add-local-source",
    summary="Use `COPY` instead of `ADD` for local files and folders",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.BUILD_CONTEXT,),
)
