"""Image knowledge: what the image a stage builds on is, and what the stage adds to it.

``stage_traits`` answers, for a stage of a Dockerfile: which distribution family, is
there a shell, ``useradd`` or BusyBox ``adduser``, curl/wget, python, a compiler
toolchain, the base image's ENTRYPOINT, a ready-made non-root user.  It starts from the
``FROM`` image (the table in ``table.py``) or, for ``FROM <earlier stage>``, from that
stage's answer, then adds what the stage itself installs.  ``None`` means unknown.
"""

from __future__ import annotations

import weakref
from dataclasses import replace

from dockfix.images.table import TABLE, Family, ImageRow, ImageTraits, lookup
from dockfix.syntax import Dockerfile, Stage

__all__ = ["TABLE", "Family", "ImageRow", "ImageTraits", "base_traits", "lookup", "stage_traits"]

#: Packages that bring a tool, by tool, across apt/apk/dnf names.
_PROVIDES = {
    "curl": ("curl",),
    "wget": ("wget",),
    "python": ("python3", "python", "python3-minimal", "python3.11", "python3.12"),
    "useradd": ("passwd", "shadow", "shadow-utils", "adduser"),
    "toolchain": ("build-essential", "gcc", "g++", "build-base", "make"),
}


def base_traits(document: Dockerfile, stage: Stage) -> ImageTraits | None:
    """Traits of the image a stage starts from (an earlier stage's, or the table's)."""
    image = stage.image
    if image.has_variables:
        return None
    for earlier in document.stages[: stage.index]:
        if earlier.alias and earlier.alias.lower() == image.text.lower():
            return stage_traits(document, earlier)
    name = f"{image.registry}/{image.name}" if image.registry else image.name
    if image.text.lower() == "scratch":
        name = "scratch"
    return lookup(name, image.tag)


_STAGE_CACHE: weakref.WeakKeyDictionary[Dockerfile, dict[int, ImageTraits | None]] = (
    weakref.WeakKeyDictionary()
)


def stage_traits(document: Dockerfile, stage: Stage) -> ImageTraits | None:
    """What the stage's image has at its end: the base plus what the stage installs.

    Trees are immutable, so the answer is kept for as long as the tree lives: several
    rules ask about the same stages in every engine round.
    """
    per_document = _STAGE_CACHE.setdefault(document, {})
    if stage.index not in per_document:
        per_document[stage.index] = _stage_traits(document, stage)
    return per_document[stage.index]


def _stage_traits(document: Dockerfile, stage: Stage) -> ImageTraits | None:
    traits = base_traits(document, stage)
    if traits is None:
        return None
    installed = _installed_packages(stage)
    updates: dict[str, bool] = {}
    for tool, packages in _PROVIDES.items():
        if installed.intersection(packages):
            updates[tool] = True
    return replace(traits, **updates) if updates else traits


def _installed_packages(stage: Stage) -> set[str]:
    from dockfix.model.runs import RunShell, run_shell

    names: set[str] = set()
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.action in ("install", "add"):
                names.update(word.value.split("=")[0] for word in package.packages)
    return names


def is_family(traits: ImageTraits | None, *families: Family) -> bool:
    return traits is not None and traits.family in families
