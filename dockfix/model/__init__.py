"""The stage model: facts about a Dockerfile that every rule reads, built once a round.

Rules used to re-derive the little they knew (lineage in five places, mount parsing in
four); now the engine builds one ``FileModel`` per round and hands it to every rule in
``RuleContext.model``.  Unknown facts stay ``None``/``UNKNOWN``: a rule must not guess.
"""

from dockfix.model.build import FileModel, image_traits
from dockfix.model.context import NO_CONTEXT, BuildContext
from dockfix.model.mounts import Mount, has_mount_over, mounts_of, parse_mount, path_within
from dockfix.model.platform import Platform
from dockfix.model.shells import ShellDialect, dialect_of
from dockfix.model.stages import StageFacts, Step, is_root_user
from dockfix.model.syntax_version import SyntaxInfo, syntax_info

__all__ = [
    "NO_CONTEXT",
    "BuildContext",
    "FileModel",
    "Mount",
    "Platform",
    "ShellDialect",
    "StageFacts",
    "Step",
    "SyntaxInfo",
    "dialect_of",
    "has_mount_over",
    "image_traits",
    "is_root_user",
    "mounts_of",
    "parse_mount",
    "path_within",
    "syntax_info",
]
