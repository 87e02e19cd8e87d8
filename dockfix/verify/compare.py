"""Compare two images of the same app: configuration, files and rebuild cost.

Why: a dockfix rewrite is only acceptable if the rewritten image behaves like the original,
apart from the changes the rewrite intends (a non-root USER, an exec-form CMD, ...). These
helpers produce plain, flat differences so that a caller can subtract the intended ones with
a few glob patterns and show whatever is left.
"""

from __future__ import annotations

import fnmatch
import shlex
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from dockfix.verify.builders import BUILD_TIMEOUT, Builder, BuildResult
from dockfix.verify.inspect import FileEntry, FileTree, ImageFacts

__all__ = [
    "Change",
    "config_diff",
    "normalize_command",
    "rebuild_after_touch",
    "tree_diff",
    "unexpected",
]


class Change(NamedTuple):
    """A value before and after; None on one side means absent there."""

    before: Any
    after: Any


# Characters that give a shell-form command a meaning an argv list cannot express.
_SHELL_SYNTAX = frozenset("$`\\|&;<>()*?[]#~{}\n")
_SHELLS = (("/bin/sh", "-c"), ("sh", "-c"), ("/bin/bash", "-c"))


def normalize_command(argv: Iterable[str] | None) -> tuple[str, ...] | None:
    """The argv a command really executes, so that equivalent spellings compare equal.

    `CMD gunicorn app:app` is stored as `["/bin/sh", "-c", "gunicorn app:app"]`. When the
    string has no shell syntax, the shell only splits words and execs the program, so it is
    the same program as the exec form `["gunicorn", "app:app"]` (the signal handling dockfix
    fixes is a property of PID 1, not a different program). A leading `exec ` is the same too.
    Anything with variables, operators, globs or redirections is kept as it is.
    """
    if argv is None:
        return None
    args = tuple(argv)
    if len(args) == 3 and args[:2] in _SHELLS and not (_SHELL_SYNTAX & set(args[2])):
        try:
            words = shlex.split(args[2])
        except ValueError:
            return args
        if words[:1] == ["exec"]:
            words = words[1:]
        if words:
            return tuple(words)
    return args


def _map_diff(
    prefix: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, Change]:
    out: dict[str, Change] = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            out[f"{prefix}.{key}"] = Change(before.get(key), after.get(key))
    return out


def config_diff(before: ImageFacts, after: ImageFacts) -> dict[str, Change]:
    """Every configuration difference between two images, as flat keys.

    Keys: "User", "WorkingDir", "Entrypoint", "Cmd", "ExposedPorts", "Healthcheck",
    "Volumes", "StopSignal", "Env.<NAME>" and "Labels.<NAME>". Env and labels are compared
    per variable so that one added `PYTHONUNBUFFERED` does not hide a changed `PATH`.
    Cmd/Entrypoint are compared after `normalize_command`. Size and layers are costs, not
    configuration, and are left to the caller.
    """
    pairs: dict[str, Change] = {
        "User": Change(before.user, after.user),
        "WorkingDir": Change(before.working_dir, after.working_dir),
        "Entrypoint": Change(
            normalize_command(before.entrypoint), normalize_command(after.entrypoint)
        ),
        "Cmd": Change(normalize_command(before.cmd), normalize_command(after.cmd)),
        "ExposedPorts": Change(before.exposed_ports, after.exposed_ports),
        "Healthcheck": Change(before.healthcheck, after.healthcheck),
        "Volumes": Change(before.volumes, after.volumes),
        "StopSignal": Change(before.stop_signal, after.stop_signal),
    }
    out = {key: change for key, change in pairs.items() if change.before != change.after}
    out.update(_map_diff("Env", before.env_map, after.env_map))
    out.update(_map_diff("Labels", before.labels, after.labels))
    return out


def unexpected(diff: Mapping[str, Change], allowed: Iterable[str]) -> dict[str, Change]:
    """The differences that no pattern in `allowed` (fnmatch globs, e.g. "Env.PYTHON*")
    explains: what a verification must show to the user."""
    patterns = tuple(allowed)
    return {
        key: change
        for key, change in diff.items()
        if not any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)
    }


def tree_diff(
    before: FileTree, after: FileTree, *, ignore_fields: Iterable[str] = ()
) -> dict[str, Change]:
    """Paths added, removed or changed between two trees of the same folder.

    `ignore_fields` names `FileEntry` fields to leave out, e.g. ("uid", "gid") when a rewrite
    intends `COPY --chown` for a non-root user.
    """
    ignored = set(ignore_fields)
    unknown = ignored - set(FileEntry._fields)
    if unknown:
        raise ValueError(f"unknown FileEntry fields: {sorted(unknown)}")

    def key(entry: FileEntry | None) -> tuple[object, ...] | None:
        if entry is None:
            return None
        return tuple(v for name, v in zip(entry._fields, entry, strict=True) if name not in ignored)

    out: dict[str, Change] = {}
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if key(old) != key(new):
            out[path] = Change(old, new)
    return out


#: How to append a harmless line to a file, by suffix; the default is a "#" comment.
_COMMENT_STYLE = {
    ".html": "<!-- {} -->",
    ".htm": "<!-- {} -->",
    ".in": "<!-- {} -->",
    ".xml": "<!-- {} -->",
    ".md": "<!-- {} -->",
    ".js": "// {}",
    ".ts": "// {}",
    ".go": "// {}",
    ".c": "/* {} */",
    ".css": "/* {} */",
}


def rebuild_after_touch(
    builder: Builder,
    dockerfile: Path,
    context: Path,
    tag: str,
    touched: str | Path,
    *,
    timeout: float = BUILD_TIMEOUT,
) -> BuildResult:
    """Change one source file the way a developer would, rebuild, and restore the file.

    Why: the layer-cache rule promises cheap rebuilds after code edits. Builders key their cache
    on file content, not modification time, so the file gets a new comment line with a unique
    nonce (a plain `touch` would change nothing, and a fixed text would hit the cache of an
    earlier run). The file is restored byte for byte even if the build fails.
    """
    path = context / touched
    original = path.read_bytes()
    style = _COMMENT_STYLE.get(path.suffix.lower(), "# {}")
    nonce = f"dockfix-e2e touched {time.time_ns()}"
    newline = b"" if original.endswith(b"\n") or not original else b"\n"
    try:
        path.write_bytes(original + newline + style.format(nonce).encode() + b"\n")
        return builder.build(dockerfile, context, tag, timeout=timeout)
    finally:
        path.write_bytes(original)
