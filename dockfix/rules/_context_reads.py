"""What a Dockerfile reads from its build context, and the context's ``.dockerignore``.

Shared by DF018 (copy-ignored-file) and DF212 (missing-dockerignore): every ``COPY`` and
``ADD`` source without ``--from`` and every ``RUN --mount=type=bind`` without ``from=``
reads the build context; the ``.dockerignore`` that applies is
``<Dockerfile>.dockerignore`` when it exists, else ``.dockerignore`` (BuildKit's order).

Given the ``FileModel`` (``context_reads(document, model)``), a source's ``$VAR``s are
resolved with the ARG/ENV values in effect at its instruction, a reference that cannot be
resolved becomes ``*`` (the read may match any name there), and an ``ADD`` source is
remote only with a URL scheme or ``git@`` (BuildKit reads ``ADD .git /src/.git`` from
the context).  Without it (DF018), sources with a variable have no path and an ``ADD``
source ending in ``.git`` is taken for a repository, as before.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.images.install_reads import IgnoreFile, Unprovable
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, FileModel
from dockfix.model.copied import is_remote_source
from dockfix.model.expand import expand
from dockfix.model.mounts import mounts_of
from dockfix.syntax import Dockerfile, Instruction

_WILDCARDS = frozenset("*?[")
#: ``$NAME`` and ``${...}`` references, replaced by ``*`` when they cannot be resolved.
_REFERENCE = lazy_re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[^}]*\})")


@dataclass(frozen=True)
class ContextRead:
    """One source the build reads from the context, as written and normalised."""

    instruction: Instruction
    #: As written (``./tmp/a.txt``, ``.``, ``src/*.py``).
    source: str
    #: Context-relative and normalised (``tmp/a.txt``; ``.`` for the whole context);
    #: None when it uses a variable (with the model: resolved, ``*`` where unknown).
    path: str | None

    @property
    def whole_context(self) -> bool:
        return self.path == "."

    @property
    def has_wildcard(self) -> bool:
        return self.path is not None and any(ch in _WILDCARDS for ch in self.path)


def normal_path(source: str) -> str | None:
    """``./a/../b/`` -> ``b``; ``.``/``./``/``/`` -> ``.``; None with a variable."""
    if "$" in source:
        return None
    normal = posixpath.normpath("/" + source.replace("\\", "/")).lstrip("/")
    return normal or "."


def context_reads(document: Dockerfile, model: FileModel | None = None) -> Iterator[ContextRead]:
    """Every COPY/ADD source and bind-mount source that comes from the build context
    (``model``: with variables resolved and ``.git`` sources read as local, see above)."""
    for instruction in document.instructions:
        if instruction.cmd in ("COPY", "ADD"):
            if instruction.flag("from") is not None:
                continue
            values = instruction.value
            if len(values) < 2:
                continue
            for source in values[:-1]:
                if source.startswith("<<"):
                    continue  # a heredoc: text in the Dockerfile, not a context file
                if model is not None:
                    resolved = _resolved(source, instruction, model)
                    if instruction.cmd == "ADD" and is_remote_source(resolved):
                        continue
                    yield ContextRead(instruction, source, _normal(resolved))
                    continue
                remote = is_remote_source(source) or source.endswith(".git")
                if instruction.cmd == "ADD" and remote:
                    continue
                yield ContextRead(instruction, source, normal_path(source))
        elif instruction.cmd == "RUN":
            for mount in mounts_of(instruction):
                if mount.type != "bind" or mount.from_stage is not None:
                    continue
                source = mount.source or "."
                if model is not None:
                    resolved = _resolved(source, instruction, model)
                    yield ContextRead(instruction, source, _normal(resolved))
                    continue
                yield ContextRead(instruction, source, normal_path(source))


def _resolved(source: str, instruction: Instruction, model: FileModel) -> str:
    """``source`` with its variables' values in effect at ``instruction``; a reference
    that cannot be resolved becomes ``*`` (and so does all of it when one cannot)."""
    if "$" not in source:
        return source
    step = model.step_at(instruction)
    expanded = expand(source, step.variables) if step is not None else None
    if expanded is not None and "$" not in expanded:
        return expanded
    return _REFERENCE.sub("*", source)


def _normal(source: str) -> str:
    """``normal_path`` of a resolved source (a ``$`` left means an unknown name: ``*``)."""
    return normal_path(source.replace("$", "*")) or "*"


def dockerignore_name(context: BuildContext, dockerfile_name: str | None) -> str:
    """The ignore file BuildKit reads for this Dockerfile (it may not exist yet)."""
    if dockerfile_name and context.is_file(f"{dockerfile_name}.dockerignore"):
        return f"{dockerfile_name}.dockerignore"
    return ".dockerignore"


def ignore_file(context: BuildContext, dockerfile_name: str | None) -> IgnoreFile | str:
    """The context's ignore rules, or why they cannot be read (a bad pattern)."""
    try:
        return IgnoreFile.of(context, dockerfile_name)
    except Unprovable as why:
        return str(why)
