"""Which pip a distribution's own Python packages ship, by release and command name.

Why: DF202 splits a stage on Alpine's or a RHEL-family system Python only when the pip
the stage runs is known to be 9 or newer (``pip install wheel`` picks a ``wheel`` for the
running Python by ``Requires-Python`` only from pip 9).  The stage may upgrade its pip
itself; otherwise this table says which pip the distribution's package is.

One row: a distribution release, a package the stage installs, the pip version that
package has there (as the release's package page or an ``apk``/``dnf`` build log shows
it; for a pip bundled with Python, the lowest that Python bundles), its Python, and the
commands that run that pip (``pip`` and ``pip3`` may be different pips on one release).
A row below 9 only makes the caller refuse with a precise reason.  Every row cites
its source; a release, package or command not in the table is not known, and the caller
refuses.

An extra repository (``apk add -X``, EPEL, a copr ``.repo``) does not make a row wrong
for this purpose: ``apk`` and ``yum``/``dnf`` install the highest version any enabled
repository offers, so the pip can only be newer.  A pinned version (``py3-pip=20.1.1-r0``,
``python2-pip-9.0.1-11.fc26``) is not matched by name: the caller refuses.

Moving tags (``alpine:latest``, ``alpine``, ``alpine:edge``) name the newest release at
build time.  They are accepted only for ``py3-pip`` (and ``py-pip``, which the current
``py3-pip`` provides): every Alpine release since 3.12 ships ``py3-pip`` 20.1.1 or newer
(rows below), ``latest`` names 3.25 today (the newest branch on pkgs.alpinelinux.org,
py3-pip 26.2.1) and ``edge`` is at least as new,
and a later release will not go back below pip 9.  Python 2 packages (``python``,
``py2-pip``) are not in Alpine's current releases' rows, so a moving tag with them is
refused.  ``centos:latest`` is frozen at CentOS 8 since the project ended and
``amazonlinux:latest`` is 2023; the table has no row for either (not confirmed), so
they are refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockfix.syntax import ImageRef

#: The release a moving tag names: the newest at build time.
MOVING = "newest"


@dataclass(frozen=True)
class PipRow:
    """One package's pip on one distribution release."""

    distro: str
    release: str
    package: str
    version: tuple[int, ...]
    python: int
    commands: frozenset[str]
    source: str


def _row(distro: str, release: str, package: str, version: str, python: int, *rest: str) -> PipRow:
    *commands, source = rest
    parts = tuple(int(part) for part in version.split("."))
    return PipRow(distro, release, package, parts, python, frozenset(commands), source)


_PKGS = "https://pkgs.alpinelinux.org/package/"
#: pip's console scripts on Python 3: ``pip``, ``pip3`` (and ``pip3.X``); Alpine's
#: py3-pip keeps ``/usr/bin/pip`` (its APKBUILD runs ``"$pkgdir"/usr/bin/pip``;
#: lavabit/robox#209 shows ``/usr/bin/pip`` loading pip 20.3.4 on Alpine 3.13).
_PY3 = ("pip", "pip3", "python3 -m pip")
#: Python 2's pip: ``pip``, ``pip2`` (``pip2.7``); ``python`` is not in the list: which
#: Python it names differs by release.
_PY2 = ("pip", "pip2", "python2 -m pip")

TABLE: tuple[PipRow, ...] = (
    # -- Alpine: py-pip was Python 2's pip up to 3.4 (alpine:3.5 renamed it py2-pip:
    #    William-Yeh/docker-ansible#51).  Versions from apk output in build logs.
    _row("alpine", "3.2", "py-pip", "6.1.1", 2, *_PY2,
         "streamparse_quickstart README (Docker Hub gchiam/streamparse_quickstart): apk "
         "output fetching alpine/v3.2, py-pip (6.1.1-r0)"),
    _row("alpine", "3.3", "py-pip", "7.1.2", 2, *_PY2,
         "apk output fetching alpine/v3.3 in a GitHub pre-receive hook README: "
         "py-pip (7.1.2-r0)"),
    _row("alpine", "3.4", "py-pip", "8.1.2", 2, *_PY2,
         "rcarmo/alpine-python README: apk output on Alpine 3.4, py-pip (8.1.2-r0); "
         "aports main/py-pip/APKBUILD pkgver=8.1.2"),
    # Alpine 3.11: py2-pip, and python3 built with ensurepip (pip3 only: ensurepip
    # installs pipX and pipX.Y, not pip).  Alpine 3.12's release notes: "python3 no
    # longer provides pip3 ... Python3 is now built with --without-ensurepip"
    # (quoted in fission/fission#1632).  3.11's python3 is 3.8.2-r0 (apk output in
    # build logs); CPython 3.8 bundles pip 19 or newer (python/cpython#12192 moved
    # ensurepip from 18.1 to 19.0.3 before 3.8.0).
    _row("alpine", "3.11", "py2-pip", "18.1", 2, *_PY2,
         _PKGS + "v3.11/main/aarch64/py2-pip (18.1-r0)"),
    _row("alpine", "3.11", "python3", "19.0.3", 3, "pip3", "python3 -m pip",
         "Alpine 3.12 release notes (python3 had pip3 from ensurepip); python/cpython#12192"),
    # Alpine 3.12 on: py3-pip (community, main from 3.23).
    _row("alpine", "3.12", "py3-pip", "20.1.1", 3, *_PY3, _PKGS + "v3.12/community/mips64/py3-pip"),
    _row("alpine", "3.13", "py3-pip", "20.3.4", 3, *_PY3,
         _PKGS + "v3.13/community/aarch64/py3-pip-doc (origin py3-pip 20.3.4-r0)"),
    _row("alpine", "3.15", "py3-pip", "20.3.4", 3, *_PY3, _PKGS + "v3.15/community/s390x/py3-pip"),
    _row("alpine", "3.16", "py3-pip", "22.1.1", 3, *_PY3, _PKGS + "v3.16/community/s390x/py3-pip"),
    _row("alpine", "3.17", "py3-pip", "22.3.1", 3, *_PY3, _PKGS + "v3.17/community/s390x/py3-pip"),
    _row("alpine", "3.19", "py3-pip", "23.3.1", 3, *_PY3, _PKGS + "v3.19/community/s390x/py3-pip"),
    _row("alpine", "3.21", "py3-pip", "24.3.1", 3, *_PY3,
         _PKGS + "v3.21/community/loongarch64/py3-pip"),
    _row("alpine", "3.22", "py3-pip", "25.1.1", 3, *_PY3,
         _PKGS + "v3.22/community/aarch64/py3-pip"),
    _row("alpine", "3.23", "py3-pip", "25.1.1", 3, *_PY3, _PKGS + "v3.23/main/loongarch64/py3-pip"),
    _row("alpine", "3.24", "py3-pip", "26.1.2", 3, *_PY3, _PKGS + "v3.24/main/s390x/py3-pip"),
    _row("alpine", "3.25", "py3-pip", "26.2.1", 3, *_PY3, _PKGS + "v3.25/main/x86_64/py3-pip"),
    # Moving tags (see the module's doc): the lowest py3-pip of 3.12 and later.
    _row("alpine", MOVING, "py3-pip", "20.1.1", 3, *_PY3, "every py3-pip row above"),
    _row("alpine", MOVING, "py-pip", "20.1.1", 3, *_PY3,
         'aports main/py3-pip/APKBUILD (26.0.1): provides="py-pip=$pkgver-r$pkgrel"'),
    # -- CentOS 7: EPEL's python2-pip (``python-pip`` was renamed python2-pip and is
    #    provided by it: voxpupuli/puppet-python#348).
    _row("centos", "7", "python2-pip", "8.1.2", 2, *_PY2,
         "https://packages.fedoraproject.org/pkgs/python-pip-epel/python2-pip/ "
         "(EPEL 7: 8.1.2-14.el7)"),
    _row("centos", "7", "python-pip", "8.1.2", 2, *_PY2, "as python2-pip (EPEL 7)"),
    # -- Fedora 26: ``python-pip`` means python2-pip and ``pip`` runs Python 2's pip up
    #    to Fedora 30 (fedoraproject.org/wiki/FinalizingFedoraSwitchtoPython3, "Currently
    #    (in Fedora 27)"; Changes/Python_means_Python3 for Fedora 31).  Version: the
    #    release repository's python2-pip-9.0.1-9.fc26.noarch.rpm, updates 9.0.1-11.fc26.
    _row("fedora", "26", "python2-pip", "9.0.1", 2, *_PY2,
         "dl.fedoraproject.org .../releases/26/Everything/.../python2-pip-9.0.1-9.fc26.noarch.rpm"),
    _row("fedora", "26", "python-pip", "9.0.1", 2, *_PY2, "as python2-pip (Fedora 26)"),
)  # fmt: skip


def distro_release(image: ImageRef) -> tuple[str, str] | None:
    """``(distribution, release)`` of an official Alpine/CentOS/Fedora image tag
    (``alpine:3.8.4`` -> ``("alpine", "3.8")``; ``alpine``, ``:latest`` and ``:edge``
    -> ``("alpine", MOVING)``), or None for any other image or tag."""
    registry = (image.registry or "docker.io").lower()
    if registry not in ("docker.io", "index.docker.io") or image.digest:
        return None
    repository, tag = image.repository, (image.tag or "latest").lower()
    if repository == "alpine":
        if tag in ("latest", "edge"):
            return "alpine", MOVING
        match = re.fullmatch(r"(3\.\d+)(\.\d+)?", tag)
        return ("alpine", match[1]) if match else None
    if repository == "centos":
        match = re.fullmatch(r"(?:centos)?(\d+)(\.[\d.]+)?", tag)
        return ("centos", match[1]) if match else ("centos", tag)
    if repository == "fedora" and re.fullmatch(r"\d+", tag):
        return "fedora", tag
    if repository in ("centos", "fedora", "amazonlinux"):
        return repository, tag
    return None


@dataclass(frozen=True)
class SystemPip:
    """The answer: the row the command runs, or why it is not known."""

    row: PipRow | None
    why: str = ""


def system_pip(image: ImageRef, installed: set[str], command: str) -> SystemPip:
    """The pip ``command`` (``pip``, ``pip3``, ``python3 -m pip``) runs on ``image`` when
    the stage installed ``installed`` (literal package names, no versions)."""
    shown = image.text
    release = distro_release(image)
    rows = [r for r in TABLE if release is not None and (r.distro, r.release) == release]
    if not rows:
        return SystemPip(None, f"the table of distribution pips has no row for `{shown}`")
    here = [r for r in rows if r.package in installed]
    if not here:
        known = ", ".join(sorted({r.package for r in rows}))
        return SystemPip(
            None,
            f"the stage installs no package the table of distribution pips knows on "
            f"`{shown}` ({known})",
        )
    runs = [r for r in here if command in r.commands]
    if not runs:
        names = ", ".join(sorted(r.package for r in here))
        return SystemPip(None, f"`{command}` is not a command of {names} on `{shown}`")
    if len({(r.version, r.python) for r in runs}) > 1:
        names = ", ".join(sorted(r.package for r in runs))
        return SystemPip(None, f"`{command}` may be the pip of any of {names} on `{shown}`")
    return SystemPip(runs[0])
