"""What a Debian build package stands for at run time: one data table, easy to extend.

A ``-dev`` package brings the headers a compiler needs *and*, as a dependency, the shared
library that the compiled code loads at run time (``libpq-dev`` -> ``libpq5``).  When the
compiler and headers move to a builder stage, the final stage still needs that library.
Build-only packages (compilers, ``make``, ``pkg-config``, ``python3-dev``, ``git``...)
leave nothing behind that compiled code loads, so they map to nothing.

Runtime package names change between Debian releases (the 64-bit ``time_t`` transition
renamed ``libssl3`` to ``libssl3t64`` in trixie), so each row names the package per
release.  Every name was checked against the dependencies of the ``-dev`` package in
Debian bookworm (``apt-cache depends``) or against the package lists of a bookworm and a
trixie system; a release whose name was not checked is ``None`` and rules report instead
of guessing.  A python image tag without a codename (``python:3.12``) follows the image's
default release, which changes over time, so only a name that is the same in every
release of the table is safe for it.

The official ``python`` images keep the libraries their own extension modules link
(``_ssl``, ``_ctypes``, ``_sqlite3``, ``zlib``, ``_bz2``, ``_lzma``, ``readline``,
``_curses``, ``_gdbm``, ``_uuid``, ``pyexpat``), the ``-slim`` variants included: rows
marked ``python_ships`` need no package on those images.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Debian releases with a column in the table, oldest first.
RELEASES: tuple[str, ...] = ("bookworm", "trixie")
#: Every Debian codename a python image tag may name (``3.12-slim-bookworm``).
CODENAMES: tuple[str, ...] = ("stretch", "buster", "bullseye", "bookworm", "trixie", "forky")

#: Packages needed only while compiling: nothing of theirs is loaded at run time.
BUILD_ONLY: frozenset[str] = frozenset(
    {
        "autoconf",
        "automake",
        "bison",
        "build-base",  # Alpine's build-essential
        "build-essential",
        "cargo",
        "clang",
        "cmake",
        "cpp",
        "cython3",
        "dpkg-dev",
        "flex",
        "g++",
        "gcc",
        "git",
        "libc-dev",
        "libc6-dev",
        "libpython3-dev",
        "libtool",
        "linux-libc-dev",
        "make",
        "meson",
        "musl-dev",
        "ninja-build",
        "pkg-config",
        "pkgconf",
        "python-dev",
        "python3-all-dev",
        "python3-dev",
        "rustc",
        "swig",
    }
)
_VERSIONED_BUILD_ONLY = re.compile(
    r"(gcc|g\+\+|cpp|clang|llvm)-\d+(\.\d+)?|(lib)?python\d(\.\d+)?-dev|linux-headers-.*"
)


@dataclass(frozen=True)
class RuntimeLibs:
    """One ``-dev`` package and the packages its compiled users load, per release."""

    dev: str
    bookworm: tuple[str, ...]
    #: ``None``: the trixie name was not checked.
    trixie: tuple[str, ...] | None
    #: The official python images already have the library (their own modules link it).
    python_ships: bool = False

    def for_release(self, release: str) -> tuple[str, ...] | None:
        """The runtime packages in ``release``; None when the table does not know."""
        if release == "bookworm":
            return self.bookworm
        if release == "trixie":
            return self.trixie
        return None


def _row(
    dev: str,
    bookworm: str,
    trixie: str | None = "same",
    *,
    python_ships: bool = False,
) -> RuntimeLibs:
    """A row; ``trixie="same"`` when the name did not change, ``None`` when unchecked."""
    old = tuple(bookworm.split())
    new = old if trixie == "same" else (tuple(trixie.split()) if trixie is not None else None)
    return RuntimeLibs(dev, old, new, python_ships)


_ROWS: tuple[RuntimeLibs, ...] = (
    # -- databases ----------------------------------------------------------------------
    _row("libpq-dev", "libpq5"),
    _row("default-libmysqlclient-dev", "libmariadb3"),  # trixie: mariadb 11.8 ships it
    _row("libmariadb-dev", "libmariadb3"),
    _row("libmariadb-dev-compat", "libmariadb3"),
    _row("libsqlite3-dev", "libsqlite3-0", python_ships=True),
    _row("unixodbc-dev", "libodbc2 libodbcinst2", None),
    _row("libmemcached-dev", "libmemcached11", None),
    # -- XML, YAML, compression -----------------------------------------------------------
    _row("libxml2-dev", "libxml2"),
    _row("libxslt1-dev", "libxslt1.1"),
    _row("libxslt-dev", "libxslt1.1"),  # virtual, provided by libxslt1-dev
    _row("libxmlsec1-dev", "libxmlsec1 libxmlsec1-openssl", "libxmlsec1t64 libxmlsec1t64-openssl"),
    _row("libyaml-dev", "libyaml-0-2"),
    _row("zlib1g-dev", "zlib1g", python_ships=True),
    _row("libbz2-dev", "libbz2-1.0", python_ships=True),
    _row("liblzma-dev", "liblzma5", python_ships=True),
    _row("libzstd-dev", "libzstd1"),
    _row("liblz4-dev", "liblz4-1"),
    _row("libsnappy-dev", "libsnappy1v5", None),
    # -- crypto, network, auth ------------------------------------------------------------
    _row("libssl-dev", "libssl3", "libssl3t64", python_ships=True),
    _row("libffi-dev", "libffi8", python_ships=True),
    _row("libcurl4-openssl-dev", "libcurl4", "libcurl4t64"),
    _row("libcurl4-gnutls-dev", "libcurl3-gnutls", "libcurl3t64-gnutls"),
    _row("libsasl2-dev", "libsasl2-2"),
    _row("libldap2-dev", "libldap-2.5-0", "libldap2"),
    _row("libldap-dev", "libldap-2.5-0", "libldap2"),
    _row("libkrb5-dev", "libkrb5-3 libgssapi-krb5-2"),
    _row("libsodium-dev", "libsodium23"),
    _row("libzmq3-dev", "libzmq5", None),
    _row("libev-dev", "libev4", None),
    _row("libevent-dev", "libevent-2.1-7", "libevent-2.1-7t64"),
    # -- images, fonts, graphics ----------------------------------------------------------
    _row("libjpeg-dev", "libjpeg62-turbo"),
    _row("libjpeg62-turbo-dev", "libjpeg62-turbo"),
    _row("libpng-dev", "libpng16-16", "libpng16-16t64"),
    _row("libtiff-dev", "libtiff6"),
    _row("libwebp-dev", "libwebp7 libwebpmux3 libwebpdemux2", None),
    _row("liblcms2-dev", "liblcms2-2"),
    _row("libopenjp2-7-dev", "libopenjp2-7", None),
    _row("libfreetype-dev", "libfreetype6"),
    _row("libfreetype6-dev", "libfreetype6"),
    _row("libcairo2-dev", "libcairo2"),
    _row("libmagic-dev", "libmagic1", "libmagic1t64"),
    # -- science and geo ------------------------------------------------------------------
    _row("libgeos-dev", "libgeos-c1v5", None),
    _row("libproj-dev", "libproj25", None),
    _row("libopenblas-dev", "libopenblas0", None),
    _row("libblas-dev", "libblas3", None),
    _row("liblapack-dev", "liblapack3", None),
    _row("libgmp-dev", "libgmp10"),
    _row("gfortran", "libgfortran5", None),
    _row("libsndfile1-dev", "libsndfile1", None),
    # -- system ---------------------------------------------------------------------------
    _row("libglib2.0-dev", "libglib2.0-0", "libglib2.0-0t64"),
    _row("libsystemd-dev", "libsystemd0"),
    _row("libcap-dev", "libcap2"),
    _row("libacl1-dev", "libacl1"),
    _row("libedit-dev", "libedit2"),
    _row("uuid-dev", "libuuid1", python_ships=True),
    _row("libreadline-dev", "libreadline8", "libreadline8t64", python_ships=True),
    _row("libgdbm-dev", "libgdbm6", "libgdbm6t64", python_ships=True),
    _row("libexpat1-dev", "libexpat1", python_ships=True),
    _row("libncurses-dev", "libncursesw6", python_ships=True),
    _row("libncurses5-dev", "libncursesw6", python_ships=True),
    _row("libncursesw5-dev", "libncursesw6", python_ships=True),
    _row("libdb-dev", "libdb5.3", "libdb5.3t64"),
)

TABLE: dict[str, RuntimeLibs] = {row.dev: row for row in _ROWS}


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
        or name in TABLE
        or name.endswith(("-dev", "-devel"))
        or bool(_VERSIONED_BUILD_ONLY.fullmatch(name))
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
    """The packages the final image needs in place of build package ``word``.

    ``release`` is the Debian codename, or None for "the image's default release"
    (then only a name shared by every release of the table is safe).  Raises
    ``NoRuntimeKnown`` for an unknown ``-dev`` package and for a release the table
    has no checked name for.
    """
    name = package_name(word)
    row = TABLE.get(name)
    if row is None:
        if name in BUILD_ONLY or _VERSIONED_BUILD_ONLY.fullmatch(name):
            return ()
        raise NoRuntimeKnown(f"no runtime package is known for {name}")
    if python_image and row.python_ships:
        return ()
    if release is not None:
        found = row.for_release(release)
        if found is None:
            raise NoRuntimeKnown(f"the runtime package of {name} on Debian {release} is not known")
        return found
    answers = {row.for_release(each) for each in RELEASES}
    if len(answers) != 1 or None in answers:
        raise NoRuntimeKnown(
            f"the runtime package of {name} differs between Debian releases; "
            "name the release in the image tag (e.g. -bookworm)"
        )
    return row.bookworm
