"""What an image outside the image table is built on: the family decides the tool that
creates a user (``useradd`` or BusyBox ``adduser``), so DF201 looks for it elsewhere.

In order: the ``ARG`` default a variable base names; the repository behind a well-known
mirror (``mcr.microsoft.com/mirror/docker/library/python`` is ``python``); a few common
images outside the table, from their own Dockerfiles; and the package manager the
Dockerfile itself runs (``apt-get`` is Debian or Ubuntu, whose essential ``passwd``
package brings ``useradd``; ``apk`` is Alpine, with BusyBox ``adduser``).  What the stage
shows does not tell the base image's ``ENTRYPOINT``: those traits leave it unknown.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dockfix.images import Family, ImageTraits, lookup
from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.shell import Manager, classify, iter_simple_commands
from dockfix.syntax.images import ImageRef

#: Mirrors of Docker Hub's official images (prefix aliases, like ``image_aliases``).
MIRRORS: tuple[tuple[str, str], ...] = (
    ("mcr.microsoft.com/mirror/docker/library", "docker.io/library"),
    ("mirror.gcr.io/library", "docker.io/library"),
    ("public.ecr.aws/docker/library", "docker.io/library"),
    ("public.ecr.aws/amazonlinux", "docker.io/library"),
    ("stackbrew", "docker.io/library"),
    *(
        (arch, "docker.io/library")
        for arch in ("amd64", "arm64v8", "arm32v7", "arm32v6", "i386", "ppc64le", "s390x")
    ),
)
#: A mirror without ``library/`` (``mirror.gcr.io/busybox``).
_BARE_MIRRORS = (("mirror.gcr.io", "docker.io/library"),)

_DEBIAN = ImageTraits(Family.DEBIAN, useradd=True, package_manager="apt-get")
_ALPINE = ImageTraits(Family.ALPINE, busybox_adduser=True, package_manager="apk")
_RHEL = ImageTraits(Family.RHEL, useradd=True, package_manager="dnf")
_NO_SHELL = ImageTraits(Family.DISTROLESS, shell=False, entrypoint=None)


def _with_app(traits: ImageTraits) -> ImageTraits:
    """.NET 8 and later ship the user ``app`` (uid 1654, ``$APP_UID``) for ``USER``."""
    return replace(traits, nonroot_user="app", nonroot_uid=1654)


#: Before .NET 8 the images set ``ASPNETCORE_URLS=http://+:80``.
ASPNET_PORT_80 = "the image makes ASP.NET Core apps bind port 80 (ASPNETCORE_URLS)"
_DOTNET = r"mcr\.microsoft\.com/dotnet/(runtime-deps|runtime|aspnet|sdk)"
_DOTNET_8 = r"([89]|\d\d)\."
_OLD_DOTNET = r"(mcr\.microsoft\.com/dotnet/(core/)?|microsoft/)\S+"


@dataclass(frozen=True)
class Row:
    """The traits of the images whose repository and tag match these patterns."""

    repository: str
    tag: str
    traits: ImageTraits


#: Common images outside the image table, from their Dockerfiles; first match wins.
ROWS: tuple[Row, ...] = (
    Row(_OLD_DOTNET, r".*(nanoserver|servercore).*", ImageTraits(Family.WINDOWS)),
    Row(_DOTNET, _DOTNET_8 + r".*(chiseled|distroless).*", _with_app(_NO_SHELL)),
    Row(_OLD_DOTNET, r".*(chiseled|distroless).*", _NO_SHELL),
    Row(_OLD_DOTNET, r".*(mariner|azurelinux).*", ImageTraits(Family.RHEL)),
    Row(_DOTNET, _DOTNET_8 + r".*alpine.*", _with_app(_ALPINE)),
    Row(_DOTNET, _DOTNET_8 + r".*", _with_app(_DEBIAN)),
    Row(_OLD_DOTNET, r".*alpine.*", replace(_ALPINE, notes=(ASPNET_PORT_80,))),
    Row(_OLD_DOTNET, r".*", replace(_DEBIAN, notes=(ASPNET_PORT_80,))),
    Row(r"(gcr\.io/)?tensorflow/tensorflow|pytorch/pytorch|kalilinux/kali-\S+", r".*", _DEBIAN),
    Row(r"phusion/baseimage|gcr\.io/google_appengine/\S+", r".*", _DEBIAN),
    Row(r"java|adoptopenjdk(/openjdk\d+)?", r".*alpine.*", _ALPINE),
    Row(r"java|adoptopenjdk(/openjdk\d+)?", r".*(ubi|centos).*", _RHEL),
    Row(r"java|adoptopenjdk(/openjdk\d+)?", r".*", _DEBIAN),
    Row(
        r"mhart/alpine-node|gliderlabs/alpine|multiarch/alpine|frolvlad/alpine-\S+|"
        r"jfloff/alpine-\S+",
        r".*",
        _ALPINE,
    ),
)
FAMILY_NAMES = {
    Family.DEBIAN: "Debian or Ubuntu",
    Family.ALPINE: "Alpine",
    Family.RHEL: "RHEL",
    Family.WINDOWS: "Windows",
}
_MANAGER_FAMILY = {
    Manager.APT_GET: _DEBIAN,
    Manager.APT: _DEBIAN,
    Manager.APK: _ALPINE,
    Manager.YUM: ImageTraits(Family.RHEL, package_manager="yum"),
    Manager.DNF: ImageTraits(Family.RHEL, package_manager="dnf"),
    Manager.MICRODNF: ImageTraits(Family.RHEL, package_manager="microdnf"),
}


def _from_ref(ref: ImageRef, aliases: tuple[tuple[str, str], ...]) -> ImageTraits | None:
    name = f"{ref.registry}/{ref.name}" if ref.registry else ref.name
    for mirrors in (MIRRORS, _BARE_MIRRORS):
        traits = lookup(name, ref.tag, (*aliases, *mirrors))
        if traits is not None:
            return traits
    repository = name.lower().removeprefix("docker.io/").removeprefix("library/")
    tag = ref.tag or "latest"
    for row in ROWS:
        if re.fullmatch(row.repository, repository) and re.fullmatch(row.tag, tag):
            return replace(row.traits, entrypoint=())  # none of these sets an ENTRYPOINT
    return None


def _from_stage(facts: StageFacts) -> ImageTraits | None:
    """The family of the system package manager the image's RUNs use; None when they use
    none, or managers of two families (``apk add ... || apt-get install ...``)."""
    found: list[ImageTraits] = []
    for stage in reversed(facts.lineage):
        for instruction in stage.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            for command in iter_simple_commands(shell.script):
                package = classify(command)
                if package is not None and package.manager in _MANAGER_FAMILY:
                    found.append(_MANAGER_FAMILY[package.manager])
    if not found or len({traits.family for traits in found}) > 1:
        return None
    return replace(found[0], entrypoint=None)


def _name(traits: ImageTraits) -> str:
    return FAMILY_NAMES.get(traits.family, traits.family.value)


def derived_traits(
    facts: StageFacts, aliases: tuple[tuple[str, str], ...]
) -> tuple[ImageTraits | None, str]:
    """Traits of an image the table does not know, and how they were found ("" if not)."""
    ref = facts.root.image
    variable = facts.root.stage.image.has_variables
    if ref is not None and not ref.has_variables:
        traits = _from_ref(ref, aliases)
        if traits is not None:
            if variable:
                how = f"the base image is `{ref.text}`, the default of its ARG"
            else:
                how = f"`{ref.text}` is taken as an image of the {_name(traits)} family"
            return traits, how
    traits = _from_stage(facts)
    if traits is not None:
        manager = traits.package_manager
        how = f"the base image is not known; the Dockerfile runs `{manager}`, so it is "
        return traits, how + f"of the {_name(traits)} family"
    return None, ""
