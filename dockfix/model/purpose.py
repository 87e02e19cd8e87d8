"""What a Dockerfile is for, where its path tells: a development container.

The Dev Containers specification (containers.dev) keeps a project's development image in
``.devcontainer/`` (``devcontainer.json`` names its Dockerfile).  Such an image is where
people build, debug and install: its compilers and its user are its purpose, and the
configuration (``remoteUser``, ``containerUser``) chooses who runs in it.  The rules that
shrink a shipped image or change its user leave it as written.
"""

from __future__ import annotations

from pathlib import PurePath

#: The folder the Dev Containers specification reads.
DEV_CONTAINER_FOLDER = ".devcontainer"


def dev_container_reason(path: PurePath | None) -> str | None:
    """Why a fix that removes tools or changes the user does not apply, or None."""
    if path is None or DEV_CONTAINER_FOLDER not in path.parts[:-1]:
        return None
    return (
        f"the file builds a development container (`{DEV_CONTAINER_FOLDER}/`): people build "
        "and install in it, and its Dev Containers configuration chooses the user"
    )
