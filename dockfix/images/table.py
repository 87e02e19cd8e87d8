"""What dockfix knows about well-known base images: one data table, easy to extend.

Each row matches a repository (with Docker Hub's ``library/`` implied) and a tag
pattern, and says what the image is built on and what it ships.  Rows are tried in
order; the first match wins, so put specific variants (``python:*-alpine``) before the
general row (``python:*``).  An image that matches no row is *unknown*, and rules that
need this knowledge report instead of fixing.

Facts come from the images' own Dockerfiles (docker-library, distroless, UBI docs).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Sequence
from dataclasses import field, replace

from dockfix.lazy_dataclass import dataclass


class Family(enum.Enum):
    """The distribution family, which decides the tools a fix may use."""

    DEBIAN = "debian"  # Debian and Ubuntu
    ALPINE = "alpine"
    RHEL = "rhel"  # RHEL/UBI, Fedora, CentOS, Rocky, Alma, Amazon Linux
    DISTROLESS = "distroless"
    SCRATCH = "scratch"
    WINDOWS = "windows"


@dataclass(frozen=True)
class ImageTraits:
    """What an image ships.  ``None`` means "not known" (rules must not guess)."""

    family: Family
    shell: bool = True
    #: ``useradd``/``groupadd`` (shadow: Debian ``passwd``, RHEL ``shadow-utils``).
    useradd: bool = False
    #: BusyBox ``adduser``/``addgroup`` (Alpine).
    busybox_adduser: bool = False
    curl: bool = False
    wget: bool = False
    python: bool = False
    #: Compilers and headers for building wheels (gcc, make, ``*-dev`` packages).
    toolchain: bool = False
    #: The image's own ENTRYPOINT, as exec-form words; ``()`` when it has none.
    entrypoint: tuple[str, ...] | None = ()
    #: A non-root user the image already has (name), e.g. ``node`` or distroless ``nonroot``.
    nonroot_user: str | None = None
    #: Uid of ``nonroot_user`` (for numeric ``USER`` where names cannot be resolved).
    nonroot_uid: int | None = None
    #: The user the image runs as when the Dockerfile sets none.
    default_user: str = "root"
    #: Package manager used to add tools (``apt-get``, ``apk``, ``dnf``, ``microdnf``...).
    package_manager: str | None = None
    #: Facts worth telling the user (shown in findings).
    notes: tuple[str, ...] = field(default=())
    #: The working directory the image leaves (``/`` when its Dockerfile sets no
    #: WORKDIR); a relative WORKDIR of a stage built on it starts there.
    workdir: str | None = None


@dataclass(frozen=True)
class ImageRow:
    """One table row: repository pattern, tag pattern, traits.

    ``traits=None`` says the matching tags are *not* known (their base varies in ways
    the tag does not show), so that a general row below cannot claim them.
    """

    repository: str
    tag: str
    traits: ImageTraits | None

    def matches(self, repository: str, tag: str) -> bool:
        return bool(re.fullmatch(self.repository, repository)) and bool(re.fullmatch(self.tag, tag))


_DEBIAN_FULL = ImageTraits(
    Family.DEBIAN,
    useradd=True,
    curl=True,
    wget=True,
    toolchain=True,
    package_manager="apt-get",
)
_DEBIAN_SLIM = ImageTraits(Family.DEBIAN, useradd=True, package_manager="apt-get")
_ALPINE = ImageTraits(Family.ALPINE, busybox_adduser=True, wget=True, package_manager="apk")
_RHEL = ImageTraits(Family.RHEL, useradd=True, curl=True, package_manager="dnf")
_RHEL_MINIMAL = ImageTraits(Family.RHEL, curl=True, package_manager="microdnf")
#: Amazon Linux 2 and 2023 container images: no shadow-utils; ``yum`` works on both.
_AMAZON_LINUX = ImageTraits(Family.RHEL, package_manager="yum")
_DISTROLESS = ImageTraits(
    Family.DISTROLESS,
    shell=False,
    entrypoint=None,
    nonroot_user="nonroot",
    nonroot_uid=65532,
    notes=("distroless images have no shell and no package manager",),
)
_NODE_ENTRYPOINT = ("docker-entrypoint.sh",)
_SERVER_NOTE = "the server binds port 80 and manages its own workers"


def _nginx(traits: ImageTraits) -> ImageTraits:
    return replace(
        traits, notes=(_SERVER_NOTE,), workdir="/", entrypoint=("/docker-entrypoint.sh",)
    )


def _php(traits: ImageTraits) -> ImageTraits:
    return replace(traits, notes=(_SERVER_NOTE,), entrypoint=("docker-php-entrypoint",))


def _node(traits: ImageTraits) -> ImageTraits:
    return replace(
        traits, entrypoint=_NODE_ENTRYPOINT, nonroot_user="node", nonroot_uid=1000, workdir="/"
    )


TABLE: tuple[ImageRow, ...] = (
    # -- Windows tags of language images (before their Linux rows) ------------------------
    ImageRow(
        r"golang|rust|gcc|openjdk|eclipse-temurin|amazoncorretto|maven|gradle|node|ruby|php",
        r".*(windowsservercore|nanoserver|ltsc20\d\d).*",
        ImageTraits(Family.WINDOWS),
    ),
    # -- Python (docker-library/python) --------------------------------------------
    # Its Dockerfiles set no WORKDIR (they end in ``CMD ["python3"]``).
    ImageRow(r"python", r".*alpine.*", replace(_ALPINE, python=True, workdir="/")),
    ImageRow(r"python", r".*windowsservercore.*|.*nanoserver.*", ImageTraits(Family.WINDOWS)),
    ImageRow(r"python", r".*slim.*", replace(_DEBIAN_SLIM, python=True, workdir="/")),
    ImageRow(r"python", r".*", replace(_DEBIAN_FULL, python=True, workdir="/")),
    # -- Node (ships user `node`, uid 1000; no WORKDIR) -----------------------------------
    ImageRow(r"node", r".*alpine.*", _node(_ALPINE)),
    ImageRow(r"node", r".*slim.*", _node(_DEBIAN_SLIM)),
    ImageRow(r"node", r".*", _node(_DEBIAN_FULL)),
    # -- Distributions ---------------------------------------------------------------------
    # Root file systems with a CMD and no WORKDIR (docker-library/official-images).
    ImageRow(r"debian", r".*slim.*", replace(_DEBIAN_SLIM, workdir="/")),
    ImageRow(r"debian|ubuntu", r".*", replace(_DEBIAN_SLIM, workdir="/")),
    ImageRow(r"buildpack-deps", r".*", replace(_DEBIAN_FULL, workdir="/")),
    ImageRow(r"alpine", r".*", replace(_ALPINE, workdir="/")),
    ImageRow(r"busybox", r".*", replace(_ALPINE, package_manager=None, workdir="/")),
    ImageRow(
        r"(registry\.access\.redhat\.com/|redhat/)?ubi\d*/ubi-minimal|ubi\d*-minimal",
        r".*",
        _RHEL_MINIMAL,
    ),
    ImageRow(
        r"(registry\.access\.redhat\.com/|redhat/)?ubi\d*/ubi-micro|ubi\d*-micro",
        r".*",
        replace(_RHEL_MINIMAL, package_manager=None, curl=False),
    ),
    ImageRow(r"(registry\.access\.redhat\.com/|redhat/)?ubi\d*(/ubi)?", r".*", _RHEL),
    # `-minimal` variants ship microdnf and no shadow-utils (no useradd), like ubi-minimal.
    ImageRow(r"rockylinux|almalinux|amazonlinux", r".*minimal.*", _RHEL_MINIMAL),
    ImageRow(r"fedora|centos|rockylinux|almalinux|oraclelinux", r".*", _RHEL),
    # Amazon Linux container images have no shadow-utils (no useradd); 2023 uses dnf.
    ImageRow(r"amazonlinux", r"2023.*", replace(_RHEL, useradd=False)),
    ImageRow(r"amazonlinux", r".*", replace(_RHEL, useradd=False, package_manager="yum")),
    # -- CUDA (gitlab.com/nvidia/container-images/cuda) -----------------------------------
    # The tag's suffix names the distribution (``-ubuntu22.04``, ``-ubi9``, ``-centos7``,
    # ``-rockylinux9``, ``-amzn2023``); old tags without one (``9.0-devel``) are Ubuntu.
    # No Python.  ``-devel`` has nvcc and the CUDA headers (the RHEL rows do not tell the
    # variants apart: compilers are assumed there).  CUDA 12 images start
    # through ``/opt/nvidia/nvidia_entrypoint.sh``, older ones set none: not known.
    ImageRow(
        r"(nvcr\.io/)?nvidia/cuda",
        r".*amzn.*",
        replace(_RHEL, useradd=False, curl=False, entrypoint=None, toolchain=True),
    ),
    ImageRow(
        r"(nvcr\.io/)?nvidia/cuda",
        r".*centos.*",
        replace(_RHEL, package_manager="yum", curl=False, entrypoint=None, toolchain=True),
    ),
    ImageRow(
        r"(nvcr\.io/)?nvidia/cuda",
        r".*(ubi|rockylinux|oraclelinux).*",
        replace(_RHEL, curl=False, entrypoint=None, toolchain=True),
    ),
    ImageRow(
        r"(nvcr\.io/)?nvidia/cuda",
        r".*devel.*",
        replace(_DEBIAN_SLIM, entrypoint=None, toolchain=True),
    ),
    ImageRow(r"(nvcr\.io/)?nvidia/cuda", r".*", replace(_DEBIAN_SLIM, entrypoint=None)),
    # -- conda (github.com/ContinuumIO/docker-images): Debian, conda's Python 3 on PATH
    # (``/opt/conda/bin``), root.  The Python 2 images (miniconda, anaconda) are left out:
    # rules read ``python`` as a Python 3.
    ImageRow(
        r"continuumio/(miniconda3|anaconda3)",
        r".*",
        replace(_DEBIAN_SLIM, python=True, wget=True, entrypoint=None),
    ),
    # -- bitnami/minideb (github.com/bitnami/minideb): a minimal Debian, root, no tools.
    ImageRow(r"bitnami/minideb", r".*", _DEBIAN_SLIM),
    # -- Language images on Debian ------------------------------------------------------
    # docker-library/golang ends with ``WORKDIR $GOPATH`` (``/go``, mode 1777).
    ImageRow(r"golang", r".*alpine.*", replace(_ALPINE, toolchain=True, workdir="/go")),
    ImageRow(
        r"rust|gcc|openjdk|eclipse-temurin|amazoncorretto|maven|gradle", r".*alpine.*", _ALPINE
    ),
    ImageRow(r"golang", r".*", replace(_DEBIAN_FULL, workdir="/go")),
    # Java images are not all Debian: `-ubi9-minimal` tags are UBI minimal (microdnf, no
    # useradd); amazoncorretto (and the maven/gradle tags built on it) is Amazon Linux,
    # whose images have no shadow-utils (`yum` works on 2 and 2023); openjdk from 17 on
    # (and maven's `-openjdk-17`...) is Oracle Linux 8 slim, except its Debian tags.
    ImageRow(
        r"openjdk|eclipse-temurin|amazoncorretto|maven|gradle",
        r".*ubi\d*-minimal.*",
        replace(_RHEL_MINIMAL, curl=False),
    ),
    ImageRow(r"amazoncorretto", r".*", _AMAZON_LINUX),
    ImageRow(r"maven|gradle", r".*corretto.*", _AMAZON_LINUX),
    ImageRow(
        r"openjdk",
        r".*(slim|buster|bullseye|bookworm|stretch|jessie).*|(7|8|11)([u.-].*)?",
        replace(_DEBIAN_SLIM, curl=True),
    ),
    ImageRow(r"openjdk", r".*(windowsservercore|nanoserver).*", ImageTraits(Family.WINDOWS)),
    ImageRow(r"openjdk", r".*", replace(_RHEL_MINIMAL, curl=False)),
    ImageRow(r"maven|gradle", r".*(graal|oracle|ubi).*", None),
    ImageRow(r"maven|gradle", r".*openjdk-(1[7-9]|[2-9]\d)(?!.*slim).*", None),
    ImageRow(r"rust|gcc|maven|gradle", r".*", _DEBIAN_FULL),
    # Recent eclipse-temurin tags start through /__cacert_entrypoint.sh, older ones
    # through none: which one a tag has is not known.
    ImageRow(r"eclipse-temurin", r".*", replace(_DEBIAN_SLIM, curl=True, entrypoint=None)),
    ImageRow(r"ruby", r".*alpine.*", _ALPINE),
    ImageRow(r"ruby", r".*slim.*", _DEBIAN_SLIM),
    ImageRow(r"ruby", r".*", _DEBIAN_FULL),
    # -- Servers that bind privileged ports or run their own entrypoint ----------------
    # nginx sets no WORKDIR; httpd's is /usr/local/apache2, php's /var/www/html.  nginx
    # starts through /docker-entrypoint.sh (it runs /docker-entrypoint.d, templates
    # included, only when the command is `nginx`), php through docker-php-entrypoint
    # (it prepends `php` to arguments starting with `-`); httpd has no ENTRYPOINT.
    ImageRow(r"nginx", r".*alpine.*", _nginx(_ALPINE)),
    ImageRow(r"nginx", r".*", _nginx(_DEBIAN_SLIM)),
    ImageRow(r"httpd", r".*alpine.*", replace(_ALPINE, notes=(_SERVER_NOTE,))),
    ImageRow(r"httpd", r".*", replace(_DEBIAN_SLIM, notes=(_SERVER_NOTE,))),
    ImageRow(r"php", r".*alpine.*", _php(_ALPINE)),
    ImageRow(r"php", r".*", _php(_DEBIAN_SLIM)),
    # -- Distroless and scratch ------------------------------------------------------------
    # The :nonroot tags run as nonroot (uid 65532) by default.
    ImageRow(
        r"gcr\.io/distroless/.*",
        r".*debug-nonroot.*",
        replace(
            _DISTROLESS,
            shell=True,
            default_user="nonroot",
            notes=("the :debug variant has a busybox shell",),
        ),
    ),
    ImageRow(
        r"gcr\.io/distroless/python.*",
        r".*nonroot.*",
        replace(_DISTROLESS, python=True, default_user="nonroot"),
    ),
    ImageRow(
        r"gcr\.io/distroless/.*", r".*nonroot.*", replace(_DISTROLESS, default_user="nonroot")
    ),
    ImageRow(
        r"gcr\.io/distroless/.*",
        r".*debug.*",
        replace(_DISTROLESS, shell=True, notes=("the :debug variant has a busybox shell",)),
    ),
    ImageRow(r"gcr\.io/distroless/python.*", r".*", replace(_DISTROLESS, python=True)),
    ImageRow(r"gcr\.io/distroless/.*", r".*", _DISTROLESS),
    ImageRow(r"cgr\.dev/chainguard/.*", r".*", _DISTROLESS),
    ImageRow(
        r"scratch",
        r".*",
        ImageTraits(
            Family.SCRATCH, shell=False, entrypoint=None, notes=("scratch is empty",), workdir="/"
        ),
    ),
    # -- Windows ---------------------------------------------------------------------------
    ImageRow(
        r"mcr\.microsoft\.com/(windows|dotnet/framework|powershell).*",
        r".*",
        ImageTraits(Family.WINDOWS),
    ),
)


def canonical_image(name: str, aliases: Sequence[tuple[str, str]] = ()) -> str:
    """*name* with a configured alias applied: the first exact or folder-prefix match.

    ``("registry.corp/python", "python")`` maps that repository; a prefix alias such as
    ``("mirror.gcr.io", "docker.io")`` maps every repository under it.
    """
    lower = name.lower()
    for alias, canonical in aliases:
        if lower == alias:
            return canonical
    for alias, canonical in aliases:
        if lower.startswith(alias + "/"):
            return canonical + lower[len(alias) :]
    return lower


def lookup(
    repository: str, tag: str | None, aliases: Sequence[tuple[str, str]] = ()
) -> ImageTraits | None:
    """Traits of ``repository:tag`` (Docker Hub ``library/`` stripped), or None if unknown.

    *aliases* (``Settings.image_aliases``) map internal registries and mirrors first.
    """
    return _lookup(repository, tag, tuple((alias, canonical) for alias, canonical in aliases))


def _table_name(repository: str, aliases: Sequence[tuple[str, str]]) -> str:
    """The name the table's rows match: aliases applied, Docker Hub's prefixes dropped."""
    return canonical_image(repository, aliases).removeprefix("docker.io/").removeprefix("library/")


@functools.lru_cache(maxsize=2048)
def _lookup(
    repository: str, tag: str | None, aliases: tuple[tuple[str, str], ...]
) -> ImageTraits | None:
    """``lookup``, once per question: the table is fixed, and a file's rules ask about the
    same few images again and again (each question matches every row's patterns)."""
    repository = _table_name(repository, aliases)
    for row in TABLE:
        if row.matches(repository, tag or "latest"):
            return row.traits
    return None


def workdir_of_every_tag(repository: str, aliases: Sequence[tuple[str, str]] = ()) -> str | None:
    """The working directory every tag of ``repository`` leaves, or None.

    For a base whose tag a build argument gives (``debian:${VERSION}``): the repository
    is known but the tag is not, so the answer holds only if every row that can match
    the repository agrees (``python`` cannot: its Windows tags are not known).  A row's
    tag pattern is taken to match some tag; a row whose repository pattern matches is
    taken to apply.
    """
    repository = _table_name(repository, tuple(aliases))
    answers = {
        row.traits.workdir if row.traits is not None else None
        for row in TABLE
        if re.fullmatch(row.repository, repository)
    }
    if len(answers) != 1:
        return None
    return answers.pop()
