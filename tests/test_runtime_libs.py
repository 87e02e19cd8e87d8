"""Build package -> runtime libraries (``dockfix/images/runtime_libs.py``, generated data).

The names are written into Dockerfiles, so their shape is checked, and the lookups DF202
relies on (``gcc`` -> ``libgomp1``) are pinned here.
"""

from __future__ import annotations

import re

import pytest

from dockfix.images.runtime_libs import (
    BUILD_ONLY,
    CODENAMES,
    NoRuntimeKnown,
    is_build_package,
    package_name,
    release_of_tag,
    runtime_packages,
)

#: Debian policy: lower-case letters, digits, ``+ - .``; at least two characters.
DEBIAN_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")


@pytest.mark.parametrize(
    ("word", "library"),
    [
        ("gcc", "libgomp1"),  # the LightGBM wheel's OpenMP runtime
        ("gcc-12", "libgomp1"),
        ("build-essential", "libquadmath0"),
        ("gfortran", "libgfortran5"),
        ("libpq-dev", "libpq5"),
        ("libjpeg62-turbo-dev", "libjpeg62-turbo"),
        ("default-libmysqlclient-dev", "libmariadb3"),
        ("libxslt1-dev", "libxslt1.1"),
    ],
)
def test_bookworm_names_come_from_the_generated_data(word: str, library: str) -> None:
    found = runtime_packages(word, "bookworm", python_image=True)
    assert library in found
    for name in found:
        assert DEBIAN_NAME.fullmatch(name), name
        assert not name.endswith("-dev")


def test_python_images_already_ship_their_own_libraries() -> None:
    assert runtime_packages("libssl-dev", "bookworm", python_image=True) == ()
    assert runtime_packages("libssl-dev", "bookworm") == ("libssl3",)
    assert runtime_packages("libffi-dev", "bookworm", python_image=True) == ()


def test_tools_without_libraries_bring_nothing() -> None:
    for name in ("make", "git", "pkg-config", "cmake-data"):
        if is_build_package(name):
            assert "libgomp1" not in runtime_packages(name, "bookworm")
    assert runtime_packages("make", "bookworm") == ()
    assert runtime_packages("git", "bookworm") == ()


def test_releases_without_data_and_unknown_names_are_refused() -> None:
    with pytest.raises(NoRuntimeKnown, match="names no Debian release"):
        runtime_packages("libpq-dev", None)
    with pytest.raises(NoRuntimeKnown, match="Debian buster are not known"):
        runtime_packages("libpq-dev", "buster")
    with pytest.raises(NoRuntimeKnown, match="no runtime package is known for libnotapackage-dev"):
        runtime_packages("libnotapackage-dev", "bookworm")


def test_every_generated_release_answers() -> None:
    """bullseye, bookworm and trixie come from their own apt indexes: libpq-dev needs
    libpq5 on each; gcc brings the OpenMP runtime (libgomp1) on each."""
    for release in ("bullseye", "bookworm", "trixie"):
        assert "libpq5" in runtime_packages("libpq-dev", release)
        assert "libgomp1" in runtime_packages("gcc", release)


def test_build_only_names_are_build_packages() -> None:
    for name in BUILD_ONLY:
        assert DEBIAN_NAME.fullmatch(name)
        assert is_build_package(name)


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
    assert "libpq5" in runtime_packages(word, "bookworm")


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


@pytest.mark.parametrize("alpine", [False, True])
def test_build_time_scan_is_python_that_sh_double_quotes_leave_alone(alpine: bool) -> None:
    from dockfix.rules.build_tools_in_final_image.runtime_scan import scan_command
    from dockfix.syntax import parse

    style = parse("FROM python:3.12-slim\n").style
    command = scan_command("/wheels", style, alpine=alpine)
    code = command.split('"')[1].replace(f"{style.escape}{style.eol}{style.indent}", "")
    assert not set(code) & set('"$`\\'), "the code must mean the same inside sh double quotes"
    compile(code, "scan", "exec")
    assert ("dpkg-query" in code) is not alpine
    assert ("so:" in code) is alpine


def test_build_time_scan_finds_the_package_of_a_linked_library(tmp_path) -> None:
    import shutil
    import subprocess
    import sys
    import zipfile

    from dockfix.rules.build_tools_in_final_image import runtime_scan

    if shutil.which("dpkg-query") is None or shutil.which("ldd") is None:
        pytest.skip("needs a Debian system")
    import _ssl  # an extension module linking libssl

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "demo-1.0-py3-none-any.whl", "w") as wheel:
        wheel.write(_ssl.__file__, "demo/_ssl.so")
    out = tmp_path / "packages.txt"
    code = ";".join((*runtime_scan._SCAN, runtime_scan._LDD, *runtime_scan._DEBIAN))
    code += ";" + runtime_scan._WRITE[0]
    subprocess.run([sys.executable, "-c", code, str(wheels), str(out)], check=True)
    names = out.read_text().split()
    assert "libc6" in names
    assert any(name.startswith("libssl") for name in names)
