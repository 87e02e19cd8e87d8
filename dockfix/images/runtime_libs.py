"""What a Debian build package stands for at run time, from the generated package data.

A ``-dev`` package brings the headers a compiler needs *and*, as dependencies, the
shared libraries that compiled code loads (``libpq-dev`` -> ``libpq5``); a compiler
brings its own runtimes (``gcc`` -> ``libgomp1``, which a LightGBM wheel loads).  When
the build packages move to a builder stage, the final stage keeps every one of those
libraries.  The names come from one source, ``data/runtime_libs.json`` read through
``dockfix.images.runtime_data`` (generated from the distribution's package index): no
hand table here.  Releases the data lacks (everything but bookworm today) answer
``None``: a rule either computes the libraries at build time (see
DF202's ``runtime_scan``) or reports "not known", never guesses.

The official ``python`` images keep the libraries their own extension modules link
(``_ssl``, ``_ctypes``, ``_sqlite3``, ``zlib``, ``_bz2``, ``_lzma``, ``readline``,
``_curses``, ``_uuid``, ``pyexpat``), the ``-slim`` variants included, so on them
those need no package (``PYTHON_IMAGE_SHIPS``).
"""

from __future__ import annotations

from dockfix import lazy_re
from dockfix.images.runtime_data import C_LIBRARY_HEADERS, build_package_names, runtime_libraries

#: Every Debian codename a python image tag may name (``3.12-slim-bookworm``).
CODENAMES: tuple[str, ...] = ("stretch", "buster", "bullseye", "bookworm", "trixie", "forky")

#: Packages needed only while compiling, whatever the index says (Alpine and RHEL names
#: included): they are build packages even where the data has no entry for them.
BUILD_ONLY: frozenset[str] = frozenset(
    {
        *("autoconf", "automake", "bison", "build-base", "build-essential", "cargo"),
        *("clang", "cmake", "cpp", "cython3", "dpkg-dev", "flex", "g++", "gcc", "gcc-c++"),
        *("gcc-gfortran", "gfortran", "git", "libc-dev", "libc6-dev", "libpython3-dev"),
        *("libtool", "linux-headers", "linux-libc-dev", "make", "meson", "musl-dev"),
        *("ninja-build",),
        *("pkg-config", "pkgconf", "python-dev", "python3-all-dev", "python3-dev"),
        *("rustc", "swig"),
    }
)
_VERSIONED_BUILD_ONLY = lazy_re.compile(
    r"(gcc|g\+\+|cpp|clang|llvm|gfortran)-\d+(\.\d+)?|(lib)?python\d(\.\d+)?-dev|linux-headers-.*"
)
#: Libraries every official Debian-based ``python`` image has (its own modules link
#: them, the official Dockerfile keeps them with ``apt-mark manual``), by release.
PYTHON_IMAGE_SHIPS: dict[str, frozenset[str]] = {
    "bookworm": frozenset(
        {
            *("libbz2-1.0", "libexpat1", "libffi8", "liblzma5", "libncursesw6"),
            *("libreadline8", "libsqlite3-0", "libssl3", "libuuid1", "zlib1g"),
        }
    ),
}

#: Build packages the full ``python`` image has (it is ``buildpack-deps``; the list of
#: docker-library/buildpack-deps ``debian/bookworm/Dockerfile`` and
#: ``debian/trixie/Dockerfile``, the same packages in both), with every package they
#: depend on; ``build-essential`` too, whose dependencies (``libc6-dev``, ``gcc``,
#: ``g++``, ``make``, ``dpkg-dev``; packages.debian.org) are all there.  Installing one
#: of them on that image adds nothing (at most a newer version of it).
FULL_PYTHON_IMAGE_HAS: frozenset[str] = frozenset(
    {
        *("autoconf", "automake", "build-essential", "default-libmysqlclient-dev"),
        *("dpkg-dev", "g++", "gcc", "libbz2-dev", "libc6-dev", "libcurl4-openssl-dev"),
        *("libdb-dev", "libevent-dev", "libffi-dev", "libgdbm-dev", "libglib2.0-dev"),
        *("libgmp-dev", "libjpeg-dev", "libkrb5-dev", "liblzma-dev", "libmagickcore-dev"),
        *("libmagickwand-dev", "libmaxminddb-dev", "libncurses5-dev", "libncursesw5-dev"),
        *("libpng-dev", "libpq-dev", "libreadline-dev", "libsqlite3-dev", "libssl-dev"),
        *("libtool", "libwebp-dev", "libxml2-dev", "libxslt-dev", "libyaml-dev", "make"),
        *("patch", "zlib1g-dev"),
    }
)
#: The releases ``FULL_PYTHON_IMAGE_HAS`` was read for.
FULL_PYTHON_IMAGE_RELEASES: frozenset[str] = frozenset({"bookworm", "trixie"})


class NoRuntimeKnown(LookupError):
    """No runtime package can be named safely for a build package (the message says why)."""


def package_name(word: str) -> str:
    """The bare package name of an ``apt-get install`` operand (``libpq-dev=15.*`` ...)."""
    name = word.split("=", 1)[0]
    name = name.split("/", 1)[0]  # ``pkg/bookworm-backports``
    return name.split(":", 1)[0]  # ``pkg:amd64``


def is_build_package(word: str) -> bool:
    """True for compilers, build tools and header (``-dev``/``-devel``) packages."""
    name = package_name(word)
    return (
        name in BUILD_ONLY
        or name.endswith(("-dev", "-devel"))
        or bool(_VERSIONED_BUILD_ONLY.fullmatch(name))
        or name in build_package_names("debian", "bookworm")
    )


def release_of_tag(tag: str | None) -> str | None:
    """The Debian codename a tag names (``3.12-slim-bookworm`` -> ``bookworm``), if any."""
    for part in (tag or "").lower().split("-"):
        if part in CODENAMES:
            return part
    return None


def runtime_packages(
    word: str, release: str | None, *, python_image: bool = False
) -> tuple[str, ...]:
    """The library packages that build package ``word`` brought into a ``release`` image.

    Transitive (``gcc`` -> ``libgomp1``, ``libquadmath0`` ...), from the generated data,
    without what arrives only through the C library's headers and, on a python image,
    without what the image ships.  Raises ``NoRuntimeKnown`` when the release is not
    named (``None``) or has no data, and for a name the release's index does not know
    (a tool the data lacks, like ``git``, brings nothing a compiled module loads: ``()``).
    """
    name = package_name(word)
    if release is None:
        raise NoRuntimeKnown(
            f"the tag names no Debian release, so the runtime libraries of {name} are not known"
        )
    found = runtime_libraries("debian", release, name, C_LIBRARY_HEADERS)
    if found is None:
        tool = name in BUILD_ONLY or bool(_VERSIONED_BUILD_ONLY.fullmatch(name))
        if tool and runtime_libraries("debian", release, "make") is not None:
            return ()  # the release has data; this tool is not a build package there
        if runtime_libraries("debian", release, "libpq-dev") is None:
            raise NoRuntimeKnown(f"runtime libraries of Debian {release} are not known")
        raise NoRuntimeKnown(f"no runtime package is known for {name} on Debian {release}")
    if python_image:
        ships = PYTHON_IMAGE_SHIPS.get(release, frozenset())
        found = tuple(each for each in found if each not in ships)
    return found
