"""The pip-package -> system-library table (DF202/DF203) and the requirement readers."""

from __future__ import annotations

import pytest

from dockfix.images.python_packages import NATIVE, PURE_OR_WHEELS, native, requirement_name
from dockfix.images.python_requirements import (
    Requirements,
    read_requirement_files,
    source_build_needs,
)
from dockfix.images.runtime_libs import TABLE as RUNTIME_TABLE


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


def test_every_dev_package_of_the_table_has_a_runtime_row() -> None:
    for row in NATIVE.values():
        for dev in row.dev:
            assert dev in RUNTIME_TABLE, f"{row.name}: {dev} is not in runtime_libs"


def test_no_package_is_both_native_and_pure() -> None:
    assert not set(NATIVE) & PURE_OR_WHEELS


def test_psycopg_binary_extra_bundles_libpq() -> None:
    assert native("psycopg", "[binary]") is None
    assert native("psycopg", "") is not None


@pytest.mark.parametrize(
    ("names", "release", "packages", "blocked", "caveat"),
    [
        ([("psycopg2", "")], None, ["libpq5"], False, False),
        ([("mysqlclient", "")], "bookworm", ["libmariadb3"], False, False),
        ([("uwsgi", "")], None, ["libxml2"], False, False),
        ([("lxml", "")], None, [], False, True),  # wheels: only a caveat
        ([("pillow", "")], None, [], False, True),
        ([("python-ldap", "")], None, [], True, False),  # libldap differs by release
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


def test_requirement_files_follow_includes_and_report_unread() -> None:
    files = {"req/prod.txt": "-r base.txt\ngunicorn  # server\n", "req/base.txt": "psycopg2\n"}
    found = read_requirement_files(["req/prod.txt", "missing.txt"], files.get)
    assert found.names == [("gunicorn", ""), ("psycopg2", "")]
    assert found.unread == ["missing.txt"]
