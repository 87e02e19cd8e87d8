"""Requirement names, the pip table's runtime needs (DF202/DF203), and requirement files."""

from __future__ import annotations

import pytest

from dockfix.images.python_packages import PURE_OR_WHEELS, requirement_name
from dockfix.images.python_requirements import (
    Requirements,
    read_requirement_files,
    source_build_needs,
)
from dockfix.images.runtime_data import pip_package


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("psycopg2==2.9.9", ("psycopg2", "")),
        ("Flask_Login>=0.6 ; python_version > '3.8'", ("flask-login", "")),
        ("uvicorn[standard]==0.30", ("uvicorn", "[standard]")),
        ("-r base.txt", None),
    ],
)
def test_requirement_name(text: str, expected: tuple[str, str] | None) -> None:
    assert requirement_name(text) == expected


def test_no_package_is_both_compiled_without_wheels_and_pure() -> None:
    for name in PURE_OR_WHEELS:
        row = pip_package(name)
        assert row is None or row.wheel != "none", name


@pytest.mark.parametrize(
    ("names", "release", "packages", "blocked", "caveat"),
    [
        ([("psycopg2", "")], None, ["libpq5"], False, False),
        ([("psycopg", "[binary]")], None, [], False, False),  # the extra bundles libpq
        ([("psycopg", "")], None, ["libpq5"], False, False),  # loads it with ctypes
        ([("lightgbm", "")], None, ["libgomp1"], False, False),
        ([("mysqlclient", "")], "bookworm", ["libmariadb3"], False, False),
        ([("lxml", "")], None, [], False, True),  # wheels: only a caveat
        ([("pillow", "")], None, [], False, True),
        ([("python-ldap", "")], None, [], True, False),  # libldap differs by release
        ([("python-ldap", "")], "bookworm", ["libldap-2.5-0", "libsasl2-2"], False, False),
        ([("flask", "")], None, [], False, False),
    ],
)
def test_source_build_needs(
    names: list[tuple[str, str]],
    release: str | None,
    packages: list[str],
    blocked: bool,
    caveat: bool,
) -> None:
    needs = source_build_needs(Requirements(names=names), release)
    assert needs.packages == packages
    assert bool(needs.blockers) is blocked
    assert bool(needs.caveats) is caveat


def test_linked_libraries_found_at_build_time_need_no_name() -> None:
    names = [("gdal", "")]  # built from source; its library's name differs by release
    assert source_build_needs(Requirements(names=names), None).blockers
    found = source_build_needs(Requirements(names=names), None, linked_found=True)
    assert not found.blockers and not found.packages  # the build-time scan finds it
    names = [("psycopg2", ""), ("python-magic", "")]
    needs = source_build_needs(Requirements(names=names), "bookworm", linked_found=True)
    assert needs.packages == ["libpq5", "libmagic1"]  # named when known; ctypes too


def test_optional_libraries_for_builds_on_the_full_image() -> None:
    names = [("uwsgi", "")]
    assert source_build_needs(Requirements(names=names), "bookworm").packages == []
    full = source_build_needs(Requirements(names=names), "bookworm", optional=True)
    assert "libxml2" in full.packages


def test_requirement_files_follow_includes_and_report_unread() -> None:
    files = {"req/prod.txt": "-r base.txt\ngunicorn  # server\n", "req/base.txt": "psycopg2\n"}
    found = read_requirement_files(["req/prod.txt", "missing.txt"], files.get)
    assert found.names == [("gunicorn", ""), ("psycopg2", "")]
    assert found.unread == ["missing.txt"]
