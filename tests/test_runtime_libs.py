"""The runtime-library table (``dockfix/images/runtime_libs.py``): shape and lookups.

The table is data that a fix writes into Dockerfiles, so every row is checked for the
shape a Debian package name has, and the lookups DF202 relies on are pinned here.
"""

from __future__ import annotations

import re

import pytest

from dockfix.images.runtime_libs import (
    BUILD_ONLY,
    CODENAMES,
    RELEASES,
    TABLE,
    NoRuntimeKnown,
    is_build_package,
    package_name,
    release_of_tag,
    runtime_packages,
)

#: Debian policy: lower-case letters, digits, ``+ - .``; at least two characters.
DEBIAN_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")


@pytest.mark.parametrize("dev", sorted(TABLE))
def test_every_row_has_the_shape_of_debian_names(dev: str) -> None:
    row = TABLE[dev]
    assert row.dev == dev
    assert DEBIAN_NAME.fullmatch(dev)
    assert "-dev" in dev or dev == "gfortran", "rows are header packages (or gfortran)"
    assert row.bookworm, "every row names its bookworm packages"
    for release in RELEASES:
        names = row.for_release(release)
        if names is None:
            continue
        assert names, f"{dev}: an empty tuple would mean 'nothing needed', use BUILD_ONLY"
        for name in names:
            assert DEBIAN_NAME.fullmatch(name), name
            assert not name.endswith("-dev"), f"{dev} maps to another header package"
        assert len(set(names)) == len(names)
    assert is_build_package(dev)


def test_build_only_packages_are_not_rows_and_map_to_nothing() -> None:
    assert not BUILD_ONLY & set(TABLE)
    for name in BUILD_ONLY:
        assert DEBIAN_NAME.fullmatch(name)
        assert runtime_packages(name, "bookworm") == ()
        assert runtime_packages(name, None) == ()


@pytest.mark.parametrize(
    ("dev", "runtime"),
    [
        ("libpq-dev", ("libpq5",)),
        ("libjpeg-dev", ("libjpeg62-turbo",)),
        ("libjpeg62-turbo-dev", ("libjpeg62-turbo",)),
        ("default-libmysqlclient-dev", ("libmariadb3",)),
        ("libxml2-dev", ("libxml2",)),
        ("libxslt1-dev", ("libxslt1.1",)),
        ("libffi-dev", ("libffi8",)),
        ("libssl-dev", ("libssl3",)),
        ("zlib1g-dev", ("zlib1g",)),
        ("libpng-dev", ("libpng16-16",)),
        ("libfreetype6-dev", ("libfreetype6",)),
        ("libyaml-dev", ("libyaml-0-2",)),
        ("libgeos-dev", ("libgeos-c1v5",)),
        ("libsqlite3-dev", ("libsqlite3-0",)),
        ("libcurl4-openssl-dev", ("libcurl4",)),
        ("libwebp-dev", ("libwebp7", "libwebpmux3", "libwebpdemux2")),
    ],
)
def test_bookworm_lookups(dev: str, runtime: tuple[str, ...]) -> None:
    assert runtime_packages(dev, "bookworm") == runtime


@pytest.mark.parametrize(
    ("dev", "runtime"),
    [
        ("libssl-dev", ("libssl3t64",)),
        ("libpng-dev", ("libpng16-16t64",)),
        ("libcurl4-openssl-dev", ("libcurl4t64",)),
        ("libpq-dev", ("libpq5",)),
        ("libldap2-dev", ("libldap2",)),
    ],
)
def test_trixie_lookups(dev: str, runtime: tuple[str, ...]) -> None:
    assert runtime_packages(dev, "trixie") == runtime


def test_a_tag_without_codename_takes_only_names_shared_by_every_release() -> None:
    assert runtime_packages("libpq-dev", None) == ("libpq5",)
    with pytest.raises(NoRuntimeKnown, match="differs between Debian releases"):
        runtime_packages("libssl-dev", None)
    with pytest.raises(NoRuntimeKnown, match="differs between Debian releases"):
        runtime_packages("libgeos-dev", None)  # trixie name not checked


def test_python_images_already_ship_their_own_libraries() -> None:
    assert runtime_packages("libssl-dev", None, python_image=True) == ()
    assert runtime_packages("libffi-dev", "trixie", python_image=True) == ()
    assert runtime_packages("libpq-dev", None, python_image=True) == ("libpq5",)


def test_unknown_packages_and_releases_are_refused() -> None:
    with pytest.raises(NoRuntimeKnown, match="no runtime package is known for libgdal-dev"):
        runtime_packages("libgdal-dev", "bookworm")
    with pytest.raises(NoRuntimeKnown, match="bullseye"):
        runtime_packages("libpq-dev", "bullseye")
    with pytest.raises(NoRuntimeKnown, match="trixie"):
        runtime_packages("libzmq3-dev", "trixie")


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("libpq-dev", "libpq-dev"),
        ("libpq-dev=15.6-0+deb12u1", "libpq-dev"),
        ("libpq-dev:amd64", "libpq-dev"),
        ("libpq-dev/bookworm-backports", "libpq-dev"),
    ],
)
def test_package_name_strips_versions_architectures_and_releases(word: str, name: str) -> None:
    assert package_name(word) == name
    assert runtime_packages(word, "bookworm") == ("libpq5",)


@pytest.mark.parametrize(
    ("word", "build"),
    [
        ("gcc", True),
        ("gcc-12", True),
        ("g++", True),
        ("build-essential", True),
        ("python3-dev", True),
        ("python3.11-dev", True),
        ("libfoo-dev", True),
        ("postgresql-devel", True),
        ("linux-headers-amd64", True),
        ("curl", False),
        ("libpq5", False),
        ("ca-certificates", False),
        ("python3-pip", False),
    ],
)
def test_is_build_package(word: str, build: bool) -> None:
    assert is_build_package(word) is build


@pytest.mark.parametrize(
    ("tag", "release"),
    [
        ("3.12-slim-bookworm", "bookworm"),
        ("3.12-bookworm", "bookworm"),
        ("3.13-trixie", "trixie"),
        ("3.9-slim-bullseye", "bullseye"),
        ("bookworm", "bookworm"),
        ("3.12", None),
        ("3.12-slim", None),
        (None, None),
    ],
)
def test_release_of_tag(tag: str | None, release: str | None) -> None:
    assert release_of_tag(tag) == release
    assert release is None or release in CODENAMES
