"""Find shared libraries a built image cannot load, and name the package that provides each.

Why: a builder/final split moves compilers out of the final image, and every library that came
in with them (``gcc`` -> ``libgomp1``) leaves too. A LightGBM wheel then fails at import, long
after the build passed. Building the image proves little; asking its dynamic loader does. The
scan runs ``ldd`` inside a throw-away container (no network) over the Python packages'
extension modules (``site-packages``/``dist-packages`` anywhere, so virtualenvs count too),
``/usr/local/lib`` and the programs the image's ENTRYPOINT/CMD start, and collects the sonames
reported ``not found``.

Naming the package: Debian's policy (section 8.1) derives a shared-library package's name
from the soname (``libfoo.so.3`` -> ``libfoo3``, ``libfoo-1.2.so`` -> ``libfoo-1.2``); the
name is checked against the generated package data of ``dockfix.images.runtime_data`` and
reported as a guess when the data cannot confirm it. The parsing and naming here need no
builder, so they are unit-tested; only ``scan_image`` runs a container. Note that ``ldd`` may
run the scanned program's loader, which is why it runs inside the image, never on the host.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import field
from functools import cache

from dockfix.images.runtime_data import (
    base_packages,
    build_packages,
    pip_runtime_libraries,
    runtime_libraries,
)
from dockfix.lazy_dataclass import dataclass
from dockfix.verify.builders import Builder
from dockfix.verify.compare import normalize_command
from dockfix.verify.inspect import ImageFacts

__all__ = [
    "LibraryScan",
    "MissingLibrary",
    "PackageName",
    "apt_line",
    "command_words",
    "package_for_soname",
    "parse_scan",
    "scan_image",
    "scan_script",
]

#: Markers the scan script prints (never the start of an ``ldd`` line).
_OS, _NO_LDD = "@@os", "@@no-ldd"
#: ``ldd`` given several files starts each one's list with a ``/path/of/file:`` line.
_FILE = re.compile(r"^(/\S.*):$")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")
#: ``libfoo.so.1.2`` -> ("libfoo", "1.2"); ``libfoo-1.2.so`` -> ("libfoo-1.2", "").
_SONAME = re.compile(r"^(?P<name>lib[^/\s]+?)\.so(?:\.(?P<version>[0-9][0-9.]*))?$")
#: Debian library packages whose name does not follow the soname (documented in each
#: package's own control data: zlib1g ships libz.so.1, libssl3 ships libcrypto.so.3 ...).
_DEBIAN_EXCEPTIONS: dict[str, str] = {
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libresolv.so.2": "libc6",
    "libutil.so.1": "libc6",
    "libz.so.1": "zlib1g",
    "libcrypto.so.3": "libssl3",
    "libcrypto.so.1.1": "libssl1.1",
    "libssl.so.1.1": "libssl1.1",
    "libxml2.so.2": "libxml2",
    "libxslt.so.1": "libxslt1.1",
    "libexslt.so.0": "libxslt1.1",
    "liblber-2.5.so.0": "libldap-2.5-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgmodule-2.0.so.0": "libglib2.0-0",
    "libopenblas.so.0": "libopenblas0",
    "libblas.so.3": "libblas3",
    "liblapack.so.3": "liblapack3",
    "libmysqlclient.so.21": "libmysqlclient21",
}
#: Suffixes Debian appends to a policy name (ABI transitions, variants): libharfbuzz0b,
#: libgeos-c1v5, libjpeg62-turbo, libcurl3-gnutls ...
_SUFFIX = re.compile(r"^(?:[a-z]|v5|t64|c2|ldbl|-[a-z][a-z0-9]*)$")
_NOT_RUNTIME = ("-dev", "-dbg", "-doc", "-bin", "-utils")


@dataclass(frozen=True)
class PackageName:
    """The Debian package that provides one soname, and how sure that is."""

    soname: str
    package: str
    #: True when the release's package data lists the name (or a documented exception).
    known: bool
    note: str = ""


@dataclass(frozen=True)
class MissingLibrary:
    """A soname the loader cannot find, the files that need it, and its package."""

    soname: str
    needed_by: tuple[str, ...]
    package: PackageName | None


@dataclass(frozen=True)
class LibraryScan:
    """What the scan of one image found; ``ran`` is False when it could not check."""

    ran: bool
    reason: str = ""
    os_id: str = ""
    release: str = ""
    checked: int = 0
    missing: tuple[MissingLibrary, ...] = ()
    #: Sonames not found by the loader but present as files in the image (a package that
    #: loads its own bundled libraries by path): reported, not counted as missing.
    bundled: tuple[str, ...] = field(default=())

    @property
    def packages(self) -> tuple[str, ...]:
        """The packages to install, in soname order, without duplicates."""
        out: list[str] = []
        for item in self.missing:
            if item.package is not None and item.package.package not in out:
                out.append(item.package.package)
        return tuple(out)

    @property
    def unnamed(self) -> tuple[str, ...]:
        """Missing sonames no package could be named for."""
        return tuple(item.soname for item in self.missing if item.package is None)


def scan_script() -> str:
    """The POSIX sh program run in the image; its arguments are the entrypoint's programs."""
    return (
        "if [ -r /etc/os-release ]; then . /etc/os-release; fi\n"
        f'echo "{_OS} ${{ID:-unknown}} ${{VERSION_CODENAME:--}} ${{ID_LIKE:-}}"\n'
        f'command -v ldd >/dev/null 2>&1 || {{ echo "{_NO_LDD}"; exit 0; }}\n'
        "{\n"
        "  find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f"
        " \\( -path '*/site-packages/*' -o -path '*/dist-packages/*'"
        " -o -path '/usr/local/lib/*' \\) \\( -name '*.so' -o -name '*.so.*' \\)"
        " -print 2>/dev/null\n"
        '  for word in "$@"; do command -v "$word" 2>/dev/null; done\n'
        # One ldd for every file: /dev/null first, or a lone file would get no header line.
        "} | grep '^/' | sort -u | tr '\\n' '\\0' | xargs -0 ldd /dev/null 2>&1\n"
        "exit 0\n"
    )


def command_words(facts: ImageFacts) -> tuple[str, ...]:
    """The programs the image's ENTRYPOINT and CMD start (first word of each command).

    A shell-form command (``/bin/sh -c "gunicorn app:app"``) gives the shell and the first
    program of its script, after ``exec`` and variable assignments.
    """
    words: list[str] = []
    for argv in (facts.entrypoint, facts.cmd):
        args = normalize_command(argv)
        if not args:
            continue
        words.append(args[0])
        if len(args) >= 3 and args[1] == "-c":
            try:
                script = shlex.split(args[2])
            except ValueError:
                continue
            for word in script:
                if word == "exec" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
                    continue
                words.append(word)
                break
    return tuple(dict.fromkeys(w for w in words if w and not w.startswith("$")))


def parse_scan(output: str) -> LibraryScan:
    """Turn the scan script's output into a ``LibraryScan`` (packages named for Debian)."""
    os_id, release, apt_based = "", "", False
    files: list[str] = []
    needed: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith(_OS + " "):
            parts = line.split()
            os_id = parts[1] if len(parts) > 1 else ""
            release = parts[2] if len(parts) > 2 and parts[2] != "-" else ""
            # ID_LIKE names the family of a derivative (Ubuntu, Raspbian: "debian").
            apt_based = bool({"debian", "ubuntu"} & {os_id, *parts[3:]})
        elif line.strip() == _NO_LDD:
            return LibraryScan(
                False,
                "the image has no ldd (Debian's libc-bin): shared libraries were not checked",
                os_id,
                release,
            )
        elif (header := _FILE.match(line)) is not None:
            current = header.group(1)
            if current != "/dev/null":
                files.append(current)
        else:
            match = _NOT_FOUND.match(line)
            if match and current:
                users = needed.setdefault(match.group(1), [])
                if current not in users:
                    users.append(current)
    present = {path.rsplit("/", 1)[-1] for path in files}
    missing = []
    bundled = []
    for soname in sorted(needed):
        if soname in present:
            bundled.append(soname)
            continue
        needers = tuple(needed[soname])
        package = None
        if apt_based:
            package = package_for_soname(soname, os_id, release, needed_by=needers)
        missing.append(MissingLibrary(soname, needers, package))
    return LibraryScan(True, "", os_id, release, len(files), tuple(missing), bundled=tuple(bundled))


@cache
def _known_packages(distro: str, release: str) -> frozenset[str] | None:
    """Every library, base and build package name the generated data has for a release."""
    base = base_packages(distro, release)
    if base is None:
        return None
    names: set[str] = set(base)
    for build in build_packages(distro, release):
        names.add(build)
        names.update(runtime_libraries(distro, release, build) or ())
    return frozenset(names)


def policy_name(soname: str) -> str | None:
    """Debian policy 8.1's package name for a soname, or None if it is not ``lib*.so*``.

    ``libgomp.so.1`` -> ``libgomp1``; ``libpng16.so.16`` -> ``libpng16-16`` (a hyphen
    when the name ends in a digit); ``libfoo-1.2.so`` -> ``libfoo-1.2``; ``libboost_x.so``
    style underscores become hyphens and capitals lower case (package names allow neither).
    """
    match = _SONAME.match(soname)
    if match is None:
        return None
    name = match.group("name").lower().replace("_", "-")
    version = match.group("version") or ""
    if not version:
        return name
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def _site_package(path: str) -> str | None:
    """``/x/site-packages/lightgbm/lib/lib_lightgbm.so`` -> ``lightgbm``."""
    match = re.search(r"/(?:site|dist)-packages/([^/]+)/", path)
    if match is None:
        return None
    top = match.group(1)
    if top.endswith(".libs"):
        top = top[: -len(".libs")]
    return top


def package_for_soname(
    soname: str, distro: str = "debian", release: str = "", *, needed_by: Sequence[str] = ()
) -> PackageName | None:
    """The Debian (or Ubuntu) package that ships ``soname``, checked against the data.

    Order: a documented exception (``libz.so.1`` -> ``zlib1g``); the policy name when the
    release's data lists it; a listed package that is the policy name plus a Debian suffix
    (``libjpeg.so.62`` -> ``libjpeg62-turbo``); the policy name marked as a guess. A pip
    package in ``needed_by`` whose row in ``pip_system_libs.json`` names the package turns a
    guess into a known name (``lightgbm`` -> ``libgomp1``).
    """
    known = _known_packages("debian", release) if distro == "debian" and release else None
    if soname in _DEBIAN_EXCEPTIONS:
        return PackageName(soname, _DEBIAN_EXCEPTIONS[soname], True, "documented exception")
    guess = policy_name(soname)
    if guess is None:
        return None
    if known is not None and guess in known:
        return PackageName(soname, guess, True, f"in the {release} package data")
    if known is not None:
        near = sorted(
            name
            for name in known
            if name.startswith(guess)
            and _SUFFIX.match(name[len(guess) :])
            and not name.endswith(_NOT_RUNTIME)
        )
        if near:
            chosen = min(near, key=len)
            return PackageName(
                soname, chosen, True, f"{guess} with a Debian suffix, in the {release} data"
            )
    for path in needed_by:
        pip_name = _site_package(path)
        if pip_name is None:
            continue
        listed = pip_runtime_libraries(pip_name, "debian", release or "*") or ()
        if guess in listed:
            return PackageName(soname, guess, True, f"pip_system_libs.json row {pip_name}")
    why = (
        f"not in the {release} package data"
        if known is not None
        else f"no package data for {distro} {release or '(unknown release)'}"
    )
    return PackageName(soname, guess, False, f"guess from Debian policy 8.1 ({why})")


def apt_line(packages: Iterable[str]) -> str:
    """The RUN line that installs runtime packages in a Debian final stage, leaving no lists."""
    names = " ".join(dict.fromkeys(packages))
    return (
        "RUN apt-get update && apt-get install -y --no-install-recommends "
        f"{names} && rm -rf /var/lib/apt/lists/*"
    )


def scan_image(builder: Builder, tag: str, facts: ImageFacts | None = None) -> LibraryScan:
    """Run the scan in a container of ``tag`` (as root, no network) and parse it."""
    facts = facts if facts is not None else builder.inspect(tag)
    argv = ["-c", scan_script(), "dockfix-scan", *command_words(facts)]
    result = builder.run(tag, argv, timeout=300.0, user="0", entrypoint="/bin/sh")
    if result.timed_out:
        return LibraryScan(False, "the library scan timed out")
    if "@@os" not in result.stdout:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return LibraryScan(False, f"the library scan could not run: {detail[0][:200]}")
    return parse_scan(result.stdout)
