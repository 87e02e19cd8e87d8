"""Prove a Dockerfile rewrite by building and running the images before and after it.

Shared by the future `dockfix verify` command and the end-to-end tests (`tests/e2e`):
`builders` drives docker, podman or buildah; `inspect` turns their output into comparable
facts; `compare` reports what differs between two images of the same app; `libraries` finds
the shared libraries an image cannot load and names their packages; `repair` adds them.
"""

from dockfix.verify.builders import (
    Builder,
    BuilderKind,
    BuilderUnavailable,
    BuildResult,
    HttpResult,
    RunResult,
    find_builder,
    port_is_free,
)
from dockfix.verify.compare import (
    Change,
    config_diff,
    normalize_command,
    rebuild_after_touch,
    tree_diff,
    unexpected,
)
from dockfix.verify.inspect import FileEntry, FileTree, ImageFacts
from dockfix.verify.libraries import LibraryScan, MissingLibrary, scan_image

__all__ = [
    "BuildResult",
    "Builder",
    "BuilderKind",
    "BuilderUnavailable",
    "Change",
    "FileEntry",
    "FileTree",
    "HttpResult",
    "ImageFacts",
    "LibraryScan",
    "MissingLibrary",
    "RunResult",
    "config_diff",
    "find_builder",
    "normalize_command",
    "port_is_free",
    "rebuild_after_touch",
    "scan_image",
    "tree_diff",
    "unexpected",
]
