"""Generate ``dockfix/images/data/runtime_libs.json`` from the distributions' package indexes.

For every build package (``-dev``/``-devel`` packages and the toolchain: ``gcc``, ``g++``,
``build-essential``, ``gfortran``, ``make``, ``cmake``, ``pkg-config``, ``clang`` ...) the
data file lists the shared-library packages it brings in, following ``Depends`` and
``Pre-Depends`` transitively (``libpq-dev`` -> ``libpq5``; ``gcc`` -> ``libgomp1``,
``libstdc++6``, ``libquadmath0`` ...).  When a Dockerfile split moves the build packages to
a builder stage, the final stage keeps these libraries, so the split never removes a
library that the original image had loaded at run time.

A *shared-library package* is one whose ``Section`` is ``libs`` (or ``oldlibs``) and whose
name does not end in ``-dev``/``-dbg``/``-doc``/``-bin``; where an index gives no section,
one whose name starts with ``lib`` and has none of those endings.  Packages of priority
``required`` (or ``Essential: yes``) are in every Debian image (debootstrap's ``minbase``),
so the lists leave them out and the file records them once per release under ``base``.

Where the indexes come from (each may be given several times, later ones win, so give a
release's main index first and its ``-updates``/``-security`` indexes after it)::

    # the lists that apt itself downloaded on this machine (`apt-get update` first)
    python scripts/gen_runtime_libs.py --apt-lists /var/lib/apt/lists

    # a Packages file (plain, .gz, .xz, .bz2, .lz4) already on disk
    python scripts/gen_runtime_libs.py --packages debian/bullseye=/tmp/bullseye_Packages.xz

    # download main/binary-amd64/Packages.xz of a suite from a mirror you name
    python scripts/gen_runtime_libs.py --mirror debian=<mirror base URL> \
        --suite debian/trixie=trixie,trixie-updates

    # Alpine: APKINDEX.tar.gz of main (and community), a path or URL
    python scripts/gen_runtime_libs.py --apkindex alpine/v3.20=<...>/main/x86_64/APKINDEX.tar.gz

    # RPM (Fedora, UBI...): a primary.xml file, or a repository's base URL (its repomd.xml)
    python scripts/gen_runtime_libs.py --repodata ubi/9=<.../ubi9/9/x86_64/baseos/os>

On Alpine a shared-library package is one that provides a ``so:`` name; on RPM
distributions one that provides a ``lib*.so*`` capability.  Their "every image" base is the
closure of the ``alpine`` image's packages (``ALPINE_BASE``) or of a minimal RPM image
(``RPM_BASE``).

The output merges with the existing file: releases not regenerated in this run keep their
data, and ``sources`` says for each distribution/release where its data came from or why
it is missing (``--missing debian/buster="archive host does not resolve"``).  ``--check``
regenerates into memory and exits 1 when the file on disk differs in its package data.

Beside the JSON file it writes ``build_package_names.txt``: each release's build package
names alone, so that dockfix can tell a build package without loading the whole graph
(start-up time).  ``--names-only`` rewrites just that file from the JSON on disk.
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import gzip
import json
import lzma
import re
import shutil
import subprocess
import sys
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "dockfix" / "images" / "data" / "runtime_libs.json"
#: The names-only index written beside the output (``runtime_data.BUILD_NAMES_FILE``).
NAMES_FILE = "build_package_names.txt"
SCHEMA = 1

#: Debian and Ubuntu codenames the generator knows (others are accepted as given).
DEBIAN_RELEASES = ("buster", "bullseye", "bookworm", "trixie", "forky")
UBUNTU_RELEASES = ("focal", "jammy", "noble")

#: Build tools that are not ``-dev`` packages.
TOOLCHAIN = frozenset(
    {
        "autoconf",
        "automake",
        "bison",
        "build-essential",
        "cargo",
        "clang",
        "cmake",
        "cpp",
        "cython3",
        "flex",
        "g++",
        "gcc",
        "gfortran",
        "libtool",
        "make",
        "meson",
        "ninja-build",
        "pkg-config",
        "pkgconf",
        "rustc",
        "swig",
        # Alpine and RHEL-family names
        "alpine-sdk",
        "build-base",
        "gcc-c++",
        "gcc-gfortran",
        "linux-headers",
        "musl-dev",
    }
)
_VERSIONED_TOOLCHAIN = re.compile(r"(gcc|g\+\+|gfortran|cpp|clang|llvm)-\d+(\.\d+)?")
_NOT_A_LIBRARY = (
    "-dev",
    "-devel",
    "-dbg",
    "-dbgsym",
    "-debuginfo",
    "-doc",
    "-bin",
    "-base",
    "-common",
    "-data",
    "-static",
)
#: Alternatives that Debian's own tools pick over the first one named (``usrmerge |
#: usr-is-merged``: images since bookworm have /usr merged by debootstrap and carry the
#: small ``usr-is-merged``, not ``usrmerge`` and its perl).
_PREFERRED = {"usrmerge": "usr-is-merged"}
_PRIORITY_ORDER = {"required": 0, "important": 1, "standard": 2, "optional": 3, "extra": 4}


def is_build_package(name: str) -> bool:
    """True for ``-dev``/``-devel`` packages and compilers/build tools."""
    return (
        name.endswith(("-dev", "-devel"))
        or name in TOOLCHAIN
        or bool(_VERSIONED_TOOLCHAIN.fullmatch(name))
    )


@dataclass
class Package:
    """The fields of one ``Packages`` stanza that the closure needs."""

    name: str
    section: str = ""
    priority: str = ""
    essential: bool = False
    #: Each dependency is a list of alternatives (``a | b``), names only.
    depends: list[list[str]] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    #: Set by the APKINDEX and repodata readers (the package provides a ``.so``).
    library: bool | None = None

    @property
    def in_every_image(self) -> bool:
        return self.essential or self.priority == "required"

    @property
    def is_shared_library(self) -> bool:
        name = self.name
        if name.endswith(_NOT_A_LIBRARY) or name.startswith("perl-modules"):
            return False
        if self.library is not None:
            return self.library
        if self.section:
            # Section libs also holds a few packages of data for libraries (gcc-12-base,
            # rpcsvc-proto): keep names that look like a library (lib*, zlib1g).
            return self.section.rsplit("/", 1)[-1] in ("libs", "oldlibs") and (
                name.startswith("lib") or bool(re.search(r"\d", name))
            )
        return name.startswith("lib")


def _names(field_value: str) -> list[list[str]]:
    """``a (>= 1) | b:any, c [amd64]`` -> ``[["a", "b"], ["c"]]``."""
    result = []
    for group in field_value.split(","):
        alternatives = []
        for alternative in group.split("|"):
            name = alternative.strip().split(" ", 1)[0].split("(", 1)[0].split("[", 1)[0]
            name = name.split(":", 1)[0].strip()
            if name:
                alternatives.append(name)
        if alternatives:
            result.append(alternatives)
    return result


def parse_packages(text: str) -> dict[str, Package]:
    """Parse a Debian ``Packages`` index; a later stanza for the same name wins."""
    packages: dict[str, Package] = {}
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t"):
                if key is not None:
                    fields[key] += " " + line.strip()
                continue
            key, sep, value = line.partition(":")
            if not sep:
                key = None
                continue
            fields[key] = value.strip()
        name = fields.get("Package")
        if not name:
            continue
        depends = _names(fields.get("Pre-Depends", "")) + _names(fields.get("Depends", ""))
        packages[name] = Package(
            name=name,
            section=fields.get("Section", ""),
            priority=fields.get("Priority", ""),
            essential=fields.get("Essential", "").lower() == "yes",
            depends=depends,
            provides=[group[0] for group in _names(fields.get("Provides", ""))],
        )
    return packages


#: The packages of the official ``alpine`` image (its world and their dependencies come
#: in with the closure); present in every Alpine-based image.
ALPINE_BASE = (
    "alpine-baselayout",
    "alpine-keys",
    "apk-tools",
    "busybox",
    "busybox-binsh",
    "ca-certificates-bundle",
    "libc-utils",
    "musl",
    "musl-utils",
    "scanelf",
    "ssl_client",
    "zlib",
)
#: The roots of a minimal RHEL-family image (ubi-minimal, fedora-minimal).
RPM_BASE = ("basesystem", "bash", "coreutils-single", "glibc-minimal-langpack", "rpm")

_APK_CONSTRAINT = re.compile(r"[<>=~].*$")


def parse_apkindex(text: str) -> dict[str, Package]:
    """Parse Alpine's ``APKINDEX`` (``P:`` name, ``D:`` depends, ``p:`` provides).

    Dependencies name packages or what they provide (``so:libpq.so.5``, ``pc:libpq``,
    ``cmd:psql``); ``!name`` (a conflict) is skipped.  A package that provides a ``so:``
    is a shared-library package (unless its name says ``-dev``/``-doc``...).  The packages
    of the ``alpine`` image are marked as in every image.
    """
    packages: dict[str, Package] = {}
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and len(key) == 1:
                fields[key] = value.strip()
        name = fields.get("P")
        if not name:
            continue
        depends = [
            [_APK_CONSTRAINT.sub("", token)]
            for token in fields.get("D", "").split()
            if not token.startswith("!")
        ]
        provides = [_APK_CONSTRAINT.sub("", token) for token in fields.get("p", "").split()]
        packages[name] = Package(
            name=name,
            essential=name in ALPINE_BASE,
            depends=depends,
            provides=provides,
            library=any(each.startswith("so:") for each in provides),
        )
    return packages


_RPM = "{http://linux.duke.edu/metadata/rpm}"
_COMMON = "{http://linux.duke.edu/metadata/common}"
_SONAME = re.compile(r"lib[^()/]*\.so(\.[\w.]+)?\(")


def parse_primary(text: str) -> dict[str, Package]:
    """Parse RPM repodata ``primary.xml`` (Fedora, UBI, CentOS Stream, Rocky, Alma).

    Requires name packages, capabilities (``libpq.so.5()(64bit)``) or files
    (``/usr/bin/sh``, which primary.xml lists for the paths it carries); ``rpmlib(...)``
    requires are skipped, as are ``src`` and 32-bit packages.  A package that provides a
    ``lib*.so*`` capability is a shared-library package.
    """
    import xml.etree.ElementTree as ET

    packages: dict[str, Package] = {}
    root = ET.fromstring(text)
    for element in root.iter(f"{_COMMON}package"):
        arch = element.findtext(f"{_COMMON}arch") or ""
        if arch not in ("x86_64", "noarch", "amd64"):
            continue
        name = element.findtext(f"{_COMMON}name") or ""
        form = element.find(f"{_COMMON}format")
        if not name or form is None:
            continue
        provides = [entry.get("name", "") for entry in form.iterfind(f"{_RPM}provides/{_RPM}entry")]
        provides += [file.text or "" for file in form.iterfind(f"{_COMMON}file")]
        depends = [
            [entry.get("name", "")]
            for entry in form.iterfind(f"{_RPM}requires/{_RPM}entry")
            if not entry.get("name", "").startswith(("rpmlib(", "("))
        ]
        packages[name] = Package(
            name=name,
            essential=name in RPM_BASE,
            depends=depends,
            provides=[each for each in provides if each],
            library=any(_SONAME.match(each) for each in provides),
        )
    return packages


class Index:
    """One release's packages, with the virtual names they provide."""

    def __init__(self, packages: dict[str, Package]) -> None:
        self.packages = packages
        self.providers: dict[str, list[str]] = {}
        for package in packages.values():
            for virtual in package.provides:
                self.providers.setdefault(virtual, []).append(package.name)
        for names in self.providers.values():
            names.sort(key=self._preference)

    def _preference(self, name: str) -> tuple[int, str]:
        package = self.packages[name]
        return (_PRIORITY_ORDER.get(package.priority, 5), name)

    def resolve(self, alternatives: Iterable[str]) -> str | None:
        """The package apt would most likely pick for ``a | b | c``: the first that exists."""
        for name in alternatives:
            name = _PREFERRED.get(name, name) if _PREFERRED.get(name) in alternatives else name
            if name in self.packages:
                return name
            if self.providers.get(name):
                return self.providers[name][0]
        return None

    def closure(self, name: str) -> set[str]:
        """Every package that installing ``name`` installs (``name`` included)."""
        seen = {name}
        queue = deque([name])
        while queue:
            package = self.packages.get(queue.popleft())
            if package is None:
                continue
            for group in package.depends:
                chosen = self.resolve(group)
                if chosen is not None and chosen not in seen:
                    seen.add(chosen)
                    queue.append(chosen)
        return seen

    def base(self) -> list[str]:
        """Packages in every image of the release: Essential or priority required, and
        everything they depend on (debootstrap's ``minbase``, the Debian ``-slim`` images)."""
        seen: set[str] = set()
        for name, package in sorted(self.packages.items()):
            if package.in_every_image and name not in seen:
                seen |= self.closure(name)
        return sorted(seen & set(self.packages))

    def edges(self, name: str) -> tuple[list[str], list[str]]:
        """``(libraries, build packages)`` that installing ``name`` brings in directly.

        The walk follows dependencies but stops at each other build package it meets
        (``libjpeg62-turbo-dev`` -> ``libc6-dev``), recording it instead: that package has
        its own entry, and following the recorded build packages gives the full closure.
        """
        real = self.resolve([name])
        if real is None:
            return [], []
        if real != name and is_build_package(real):
            return [], [real]
        libraries: set[str] = set()
        builds: set[str] = set()
        seen = {real}
        queue = deque([real])
        while queue:
            package = self.packages.get(queue.popleft())
            if package is None:
                continue
            for group in package.depends:
                chosen = self.resolve(group)
                if chosen is None or chosen in seen:
                    continue
                seen.add(chosen)
                if is_build_package(chosen):
                    builds.add(chosen)
                    continue
                if self.packages[chosen].is_shared_library:
                    libraries.add(chosen)
                queue.append(chosen)
        return sorted(libraries), sorted(builds)

    def table(self) -> dict[str, tuple[list[str], list[str]]]:
        """Every build package of the index whose closure holds at least one library.

        Each maps to ``(libraries, build packages)`` as ``edges`` gives them; build
        packages that bring no library at all are left out, of the keys and the edges.
        """
        names = set(self.packages) | set(self.providers)
        graph = {name: self.edges(name) for name in sorted(names) if is_build_package(name)}
        useful = {name for name in graph if closure_libraries(graph, name)}
        return {
            name: (libraries, [each for each in builds if each in useful])
            for name, (libraries, builds) in graph.items()
            if name in useful
        }


def closure_libraries(table: dict[str, tuple[list[str], list[str]]], name: str) -> list[str]:
    """Follow a ``table()`` from ``name``: every library it and its build packages bring."""
    found: set[str] = set()
    seen = {name}
    queue = deque([name])
    while queue:
        libraries, builds = table.get(queue.popleft(), ([], []))
        found.update(libraries)
        for each in builds:
            if each not in seen:
                seen.add(each)
                queue.append(each)
    return sorted(found)


# -- reading indexes -----------------------------------------------------------------------


def decompress(data: bytes, name: str) -> str:
    """The text of a (possibly compressed) index; ``name`` tells the compression."""
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    elif name.endswith(".gz"):
        data = gzip.decompress(data)
    elif name.endswith(".bz2"):
        data = bz2.decompress(data)
    elif name.endswith(".lz4"):
        data = _lz4(data)
    return data.decode("utf-8", errors="replace")


def _lz4(data: bytes) -> bytes:
    """apt keeps its lists lz4-compressed; apt-helper (or the lz4 tool) reads them."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".lz4") as handle:
        handle.write(data)
        handle.flush()
        for command in (["/usr/lib/apt/apt-helper", "cat-file"], ["lz4", "-dc"]):
            if Path(command[0]).exists() or shutil.which(command[0]):
                done = subprocess.run([*command, handle.name], capture_output=True, check=False)
                if done.returncode == 0:
                    return done.stdout
    raise RuntimeError("cannot decompress .lz4: neither apt-helper nor lz4 is available")


def read_file(path: Path) -> str:
    return decompress(path.read_bytes(), path.name)


def fetch(url: str, timeout: float = 120) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "dockfix-gen-runtime-libs"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def download(url: str, timeout: float = 120) -> str:
    return decompress(fetch(url, timeout), url)


def read_apkindex(where: str) -> str:
    """The ``APKINDEX`` text of an ``APKINDEX.tar.gz`` at a path or URL."""
    import io
    import tarfile

    data = fetch(where) if "://" in where else Path(where).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile("APKINDEX")
        if member is None:
            raise ValueError(f"{where}: no APKINDEX inside")
        return member.read().decode("utf-8", errors="replace")


def read_primary(where: str) -> str:
    """``primary.xml`` from a file (plain, .gz, .xz, .bz2) or a repository's base URL.

    For a URL, ``repodata/repomd.xml`` names the primary file.  (Fedora 39 and later
    compress it with zstd, which Python's standard library reads from 3.14 on.)
    """
    if "://" not in where:
        return read_file(Path(where))
    import xml.etree.ElementTree as ET

    base = where.rstrip("/")
    repomd = ET.fromstring(fetch(f"{base}/repodata/repomd.xml"))
    for data in repomd.iter("{http://linux.duke.edu/metadata/repo}data"):
        if data.get("type") == "primary":
            location = data.find("{http://linux.duke.edu/metadata/repo}location")
            href = location.get("href", "") if location is not None else ""
            if href.endswith(".zst"):
                import compression.zstd  # type: ignore[import-not-found]  # Python 3.14

                return compression.zstd.decompress(fetch(f"{base}/{href}")).decode()
            return download(f"{base}/{href}")
    raise ValueError(f"{where}: repomd.xml names no primary metadata")


_APT_LIST = re.compile(
    r"_dists_(?P<suite>[^_]+(?:_updates)?)_(?P<component>main)_binary-(?P<arch>amd64)"
    r"_Packages(?:\.\w+)?$"
)


def apt_lists(directory: Path) -> Iterator[tuple[str, str, Path, str]]:
    """``(distro, release, path, index date)`` of each main/amd64 Packages list apt keeps.

    The distribution comes from the suite's ``InRelease`` (``Origin:``), the release from
    its ``Codename:``; ``-updates`` and ``-security`` suites fold into their release and
    come after its main index so that their newer stanzas win.
    """
    found = []
    for path in sorted(directory.iterdir()):
        match = _APT_LIST.search(path.name)
        if match is None:
            continue
        prefix = path.name[: match.start()] + "_dists_" + match["suite"]
        release_file = directory / (prefix + "_InRelease")
        fields = _release_fields(release_file) if release_file.exists() else {}
        origin = fields.get("Origin", "").lower()
        codename = fields.get("Codename", match["suite"]).split("-", 1)[0]
        if origin not in ("debian", "ubuntu"):
            continue
        suite = match["suite"].replace("_updates", "/updates")
        later = "-" in suite or "/" in suite
        found.append((origin, codename, later, path, fields.get("Date", "")))
    for origin, codename, _later, path, date in sorted(found, key=lambda x: x[:3]):
        yield origin, codename, path, date


def _release_fields(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(" ") or ":" not in line:
            if fields and line.startswith(("MD5Sum", "SHA256")):
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


# -- the data file -------------------------------------------------------------------------


def build_release(
    texts: list[str], parse: Callable[[str], dict[str, Package]] = parse_packages
) -> dict[str, object]:
    """The data of one release from its indexes (later ones override earlier ones)."""
    packages: dict[str, Package] = {}
    for text in texts:
        packages.update(parse(text))
    index = Index(packages)
    base = index.base()
    in_base = set(base)
    table = {
        name: ([each for each in libraries if each not in in_base], builds)
        for name, (libraries, builds) in index.table().items()
    }
    # an entry whose libraries are all in the base may still lead to others through its
    # build packages; one that leads to none is left out (and so are the edges to it).
    useful = {name for name in table if closure_libraries(table, name)}
    table = {
        name: (libraries, [each for each in builds if each in useful])
        for name, (libraries, builds) in table.items()
        if name in useful
    }
    # Rust crates, Go modules and Haskell libraries packaged as -dev: thousands of
    # names no Dockerfile installs to build a Python app; kept only where another
    # entry leads to them.
    kept = {name for name in table if not _ecosystem(name)}
    queue = deque(kept)
    while queue:
        for each in table[queue.popleft()][1]:
            if each not in kept:
                kept.add(each)
                queue.append(each)
    table = {name: value for name, value in table.items() if name in kept}
    every_build = {
        name
        for name in set(packages) | set(index.providers)
        if is_build_package(name) and not _ecosystem(name) and index.resolve([name]) is not None
    }
    return {
        "packages_in_index": len(packages),
        "base": base,
        "build": reduce(table),
        "no_libraries": sorted(every_build - set(table)),
    }


_ECOSYSTEM = re.compile(r"(librust|golang|libghc|libghc6)-.*-dev")


def _ecosystem(name: str) -> bool:
    return bool(_ECOSYSTEM.fullmatch(name))


def reduce(table: dict[str, tuple[list[str], list[str]]]) -> dict[str, tuple[list[str], list[str]]]:
    """Drop from each entry the libraries that its build packages already bring.

    ``libpq-dev`` needs ``libssl-dev``, whose entry holds ``libssl3``: ``libpq-dev``'s own
    list need not repeat it.  Entries are reduced one at a time against the table as
    reduced so far, and a library is dropped only when a path that avoids the entry itself
    still reaches it, so every closure (``closure_libraries``) stays the same; this
    halves the file.
    """
    reduced = dict(table)
    for name in sorted(reduced):
        libraries, builds = reduced[name]
        if not builds:
            continue
        reached: set[str] = set()
        seen = {name, *builds}
        queue = deque(builds)
        while queue:
            more_libraries, more_builds = reduced.get(queue.popleft(), ([], []))
            reached.update(more_libraries)
            for each in more_builds:
                if each not in seen:
                    seen.add(each)
                    queue.append(each)
        reduced[name] = ([each for each in libraries if each not in reached], builds)
    return reduced


def encode(release: dict[str, object]) -> dict[str, object]:
    """The stored form: each list as one space-separated string (half the size of JSON lists)."""
    build = release["build"]
    assert isinstance(build, dict)
    return {
        "packages_in_index": release["packages_in_index"],
        "base": " ".join(release["base"]),  # type: ignore[arg-type]
        "no_libraries": " ".join(release["no_libraries"]),  # type: ignore[arg-type]
        "build": {
            name: [" ".join(libraries), " ".join(builds)]
            for name, (libraries, builds) in build.items()
        },
    }


def write(data: dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=0, sort_keys=False, ensure_ascii=True)
    path.write_text(text + "\n", encoding="utf-8")
    write_names(data, path)


def names_text(data: dict[str, object]) -> str:
    """``build_package_names.txt`` for ``data``: the format is dockfix's, so ask dockfix."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from dockfix.images.runtime_data import build_names_text

    return build_names_text(data)


def write_names(data: dict[str, object], path: Path) -> None:
    """Write the names-only index beside the JSON file at ``path``."""
    (path.parent / NAMES_FILE).write_text(names_text(data), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apt-lists", type=Path, help="read apt's lists in this directory")
    parser.add_argument(
        "--packages",
        action="append",
        default=[],
        metavar="DISTRO/RELEASE=PATH",
        help="a Packages index on disk (repeatable; later files override earlier ones)",
    )
    parser.add_argument(
        "--mirror", action="append", default=[], metavar="DISTRO=URL", help="a mirror's base URL"
    )
    parser.add_argument(
        "--suite",
        action="append",
        default=[],
        metavar="DISTRO/RELEASE=SUITE[,SUITE...]",
        help="suites to download from DISTRO's mirror for RELEASE",
    )
    parser.add_argument(
        "--missing",
        action="append",
        default=[],
        metavar="DISTRO/RELEASE=REASON",
        help="record that an index could not be read, and why",
    )
    parser.add_argument(
        "--apkindex",
        action="append",
        default=[],
        metavar="alpine/RELEASE=PATH_OR_URL",
        help="an Alpine APKINDEX.tar.gz (repeatable: main, then community)",
    )
    parser.add_argument(
        "--repodata",
        action="append",
        default=[],
        metavar="DISTRO/RELEASE=PATH_OR_URL",
        help="an RPM repository: its primary.xml file, or its base URL (repeatable)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument(
        "--names-only",
        action="store_true",
        help=f"only rewrite {NAMES_FILE} from the JSON file on disk (no index is read)",
    )
    args = parser.parse_args(argv)
    if args.names_only:
        write_names(json.loads(args.output.read_text(encoding="utf-8")), args.output)
        print(f"wrote {args.output.parent / NAMES_FILE}")
        return 0

    texts: dict[tuple[str, str], list[str]] = {}
    origins: dict[tuple[str, str], list[str]] = {}
    if args.apt_lists:
        for distro, release, path, date in apt_lists(args.apt_lists):
            texts.setdefault((distro, release), []).append(read_file(path))
            suite = _APT_LIST.search(path.name)["suite"]  # type: ignore[index]
            origins.setdefault((distro, release), []).append(
                f"apt list: {suite} main amd64, index of {date or 'unknown date'}"
            )
    parsers: dict[tuple[str, str], Callable[[str], dict[str, Package]]] = {}
    for spec in args.packages:
        key, path = _spec(spec)
        texts.setdefault(key, []).append(read_file(Path(path)))
        origins.setdefault(key, []).append(f"file: {Path(path).name}")
    for spec in args.apkindex:
        key, where = _spec(spec)
        texts.setdefault(key, []).append(read_apkindex(where))
        origins.setdefault(key, []).append(f"APKINDEX: {Path(where).parent.name or where}")
        parsers[key] = parse_apkindex
    for spec in args.repodata:
        key, where = _spec(spec)
        texts.setdefault(key, []).append(read_primary(where))
        origins.setdefault(key, []).append(f"repodata primary: {Path(where).name or where}")
        parsers[key] = parse_primary
    mirrors = dict(item.split("=", 1) for item in args.mirror)
    for spec in args.suite:
        key, suites = _spec(spec)
        for suite in suites.split(","):
            url = f"{mirrors[key[0]].rstrip('/')}/dists/{suite}/main/binary-amd64/Packages.xz"
            texts.setdefault(key, []).append(download(url))
            origins.setdefault(key, []).append(f"download: {suite} main amd64 Packages.xz")

    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    today = dt.date.today().isoformat()
    data: dict[str, object] = {
        "schema": SCHEMA,
        "generated": today,
        "generator": "scripts/gen_runtime_libs.py",
        "format": (
            "<distro>.<release>.build maps each build package to [libraries, build packages],"
            " space-separated: the shared-library packages installing it brings in, and the"
            " other build packages it pulls in (whose own entries hold their libraries);"
            " the full set is the union along the build packages, transitively."
            " <distro>.<release>.base lists the packages in every image of the release"
            " (Essential / priority required, and their dependencies); they are left out of"
            " the library lists. <distro>.<release>.no_libraries names the build packages"
            " that bring no library beyond the base (make, header-only -dev packages)"
        ),
        "sources": dict(previous.get("sources", {})),
    }
    sources = data["sources"]
    assert isinstance(sources, dict)
    for spec in args.missing:
        (distro, release), reason = _spec(spec)
        sources[f"{distro}/{release}"] = {"status": "missing", "reason": reason}
    for distro in sorted({key[0] for key in texts} | _distros(previous)):
        releases: dict[str, object] = dict(previous.get(distro, {}))
        for (each, release), release_texts in sorted(texts.items()):
            if each != distro:
                continue
            parse = parsers.get((each, release), parse_packages)
            releases[release] = encode(build_release(release_texts, parse))
            sources[f"{distro}/{release}"] = {
                "status": "generated",
                "date": today,
                "from": origins[(each, release)],
            }
        data[distro] = dict(sorted(releases.items(), key=lambda item: _release_order(item[0])))
    data["sources"] = dict(sorted(sources.items()))

    if args.check:
        stale = [
            key
            for key in data
            if key not in ("generated", "sources") and data[key] != previous.get(key)
        ]
        names = args.output.parent / NAMES_FILE
        current = names.read_text(encoding="utf-8") if names.exists() else ""
        if current != names_text(previous):
            stale.append(NAMES_FILE)
        if stale:
            print(f"{args.output}: stale ({', '.join(map(str, stale))})", file=sys.stderr)
            return 1
        return 0
    write(data, args.output)
    size = args.output.stat().st_size
    for key, release_texts in sorted(texts.items()):
        count = len(data[key[0]][key[1]]["build"])  # type: ignore[index]
        print(f"{key[0]}/{key[1]}: {len(release_texts)} index(es), {count} build packages")
    print(f"wrote {args.output} ({size / 1e6:.2f} MB)")
    return 0


def _spec(spec: str) -> tuple[tuple[str, str], str]:
    key, _, value = spec.partition("=")
    distro, _, release = key.partition("/")
    if not (distro and release and value):
        raise SystemExit(f"expected DISTRO/RELEASE=VALUE, got {spec!r}")
    return (distro, release), value


def _distros(previous: dict[str, object]) -> set[str]:
    reserved = {"schema", "generated", "generator", "format", "sources"}
    return {
        key for key, value in previous.items() if key not in reserved and isinstance(value, dict)
    }


def _release_order(release: str) -> tuple[int, str]:
    known = DEBIAN_RELEASES + UBUNTU_RELEASES
    return (known.index(release) if release in known else len(known), release)


if __name__ == "__main__":
    sys.exit(main())
