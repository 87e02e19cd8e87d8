"""The missing-library diagnosis of ``dockfix verify``, without a container builder.

Why: the scan's output parsing, the soname -> Debian package naming and the repair loop
decide what ``--repair`` writes into a user's Dockerfile; they must be right on their own.
Real images are scanned in the e2e tier (tests/e2e/test_verify_repair.py).
"""

from __future__ import annotations

import pytest

from dockfix.syntax import parse
from dockfix.verify.inspect import ImageFacts
from dockfix.verify.libraries import (
    LibraryScan,
    MissingLibrary,
    PackageName,
    apt_line,
    command_words,
    package_for_soname,
    parse_scan,
    policy_name,
    scan_script,
)
from dockfix.verify.repair import add_runtime_packages, repair
from dockfix.verify.workflow import (
    Side,
    VerifyReport,
    library_reasons,
    render_libraries,
)

SCAN_OUTPUT = """\
@@os debian bookworm
/dev/null:
\tnot a dynamic executable
/usr/local/bin/ompcheck:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibgomp.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
/usr/local/lib/python3.11/site-packages/lightgbm/lib/lib_lightgbm.so:
\tlibgomp.so.1 => not found
/usr/local/lib/python3.11/site-packages/numpy/core/_multiarray_umath.so:
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f)
/usr/local/lib/python3.11/site-packages/psycopg2/_psycopg.cpython-311.so:
\tlibpq.so.5 => not found
/usr/local/lib/python3.11/site-packages/torch/lib/libtorch.so:
\tlibc10.so => not found
/usr/local/lib/python3.11/site-packages/torch/lib/libc10.so:
\tstatically linked
"""


def test_parse_scan_collects_missing_sonames_and_their_users() -> None:
    scan = parse_scan(SCAN_OUTPUT)
    assert scan.ran and (scan.os_id, scan.release) == ("debian", "bookworm")
    assert scan.checked == 6
    assert [m.soname for m in scan.missing] == ["libgomp.so.1", "libpq.so.5"]
    gomp = scan.missing[0]
    assert gomp.needed_by == (
        "/usr/local/bin/ompcheck",
        "/usr/local/lib/python3.11/site-packages/lightgbm/lib/lib_lightgbm.so",
    )
    assert gomp.package == PackageName(
        "libgomp.so.1", "libgomp1", True, "in the bookworm package data"
    )
    assert scan.packages == ("libgomp1", "libpq5")
    # A library the package ships itself (loaded by path at run time) is not a system one.
    assert scan.bundled == ("libc10.so",)


def test_parse_scan_without_ldd_says_the_check_did_not_run() -> None:
    scan = parse_scan("@@os alpine \n@@no-ldd\n")
    assert not scan.ran
    assert "no ldd" in scan.reason
    assert render_libraries(scan) == [f"shared libraries: not checked ({scan.reason})"]


def test_parse_scan_of_a_non_debian_image_names_no_package() -> None:
    scan = parse_scan("@@os fedora \n/usr/bin/x:\n\tlibgomp.so.1 => not found\n")
    assert scan.missing == (MissingLibrary("libgomp.so.1", ("/usr/bin/x",), None),)
    assert scan.packages == () and scan.unnamed == ("libgomp.so.1",)


def test_parse_scan_of_a_debian_derivative_names_a_guess() -> None:
    scan = parse_scan("@@os ubuntu jammy debian\n/usr/bin/x:\n\tlibgomp.so.1 => not found\n")
    (item,) = scan.missing
    assert item.package is not None and item.package.package == "libgomp1"
    assert not item.package.known
    scan = parse_scan("@@os raspbian - debian\n/usr/bin/x:\n\tlibpq.so.5 => not found\n")
    assert scan.release == "" and scan.packages == ("libpq5",)


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libgomp.so.1", "libgomp1"),
        ("libpq.so.5", "libpq5"),
        ("libpng16.so.16", "libpng16-16"),
        ("libfoo-1.2.so", "libfoo-1.2"),
        ("libglib-2.0.so.0", "libglib-2.0-0"),
        ("libboost_system.so.1.74.0", "libboost-system1.74.0"),
        ("libSM.so.6", "libsm6"),
        ("ld-linux-x86-64.so.2", None),
    ],
)
def test_policy_name(soname: str, package: str | None) -> None:
    assert policy_name(soname) == package


@pytest.mark.parametrize(
    ("soname", "package", "known"),
    [
        ("libgomp.so.1", "libgomp1", True),
        ("libpq.so.5", "libpq5", True),
        ("libz.so.1", "zlib1g", True),  # documented exception
        ("libjpeg.so.62", "libjpeg62-turbo", True),  # policy name plus a Debian suffix
        ("libharfbuzz.so.0", "libharfbuzz0b", True),
        ("libxslt.so.1", "libxslt1.1", True),
        ("libdoesnotexist.so.7", "libdoesnotexist7", False),
    ],
)
def test_package_for_soname_on_bookworm(soname: str, package: str, known: bool) -> None:
    found = package_for_soname(soname, "debian", "bookworm")
    assert found is not None
    assert (found.package, found.known) == (package, known)


def test_package_for_soname_without_release_data_is_a_guess() -> None:
    found = package_for_soname("libgomp.so.1", "debian", "buster")
    assert found is not None and found.package == "libgomp1"
    assert not found.known and "no package data" in found.note


def test_pip_table_confirms_a_guess() -> None:
    found = package_for_soname(
        "libgomp.so.1",
        "debian",
        "buster",
        needed_by=["/venv/lib/python3.9/site-packages/lightgbm/lib/lib_lightgbm.so"],
    )
    assert found is not None and found.known and "lightgbm" in found.note


def _facts(entrypoint: tuple[str, ...] | None, cmd: tuple[str, ...] | None) -> ImageFacts:
    return ImageFacts("t", "id", (), "", "", entrypoint, cmd, (), None, {})


def test_command_words_reach_into_shell_form() -> None:
    assert command_words(_facts(None, ("/bin/sh", "-c", "exec gunicorn app:app"))) == ("gunicorn",)
    assert command_words(_facts(None, ("/bin/sh", "-c", "X=1 python app.py && echo $X"))) == (
        "/bin/sh",
        "python",
    )
    assert command_words(_facts(("tini", "--"), ("ompcheck",))) == ("tini", "ompcheck")


def test_scan_script_is_plain_sh() -> None:
    script = scan_script()
    assert "ldd" in script and "site-packages" in script and "<<" not in script


LINE = apt_line(["libgomp1"])


def test_apt_line() -> None:
    assert LINE == (
        "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 "
        "&& rm -rf /var/lib/apt/lists/*"
    )


def test_add_runtime_packages_goes_after_the_final_from() -> None:
    text = (
        "FROM python:3.11 AS builder\nRUN make\n\n"
        "FROM python:3.11-slim\nCOPY --from=builder /a /a\n"
    )
    once = add_runtime_packages(text, ["libgomp1"])
    assert once == text.replace("slim\n", f"slim\n{LINE}\n")
    parse(once)
    twice = add_runtime_packages(once, ["libgomp1", "libpq5"])
    assert twice == text.replace("slim\n", f"slim\n{apt_line(['libgomp1', 'libpq5'])}\n")
    assert add_runtime_packages(twice, ["libpq5"]) == twice


def test_add_runtime_packages_to_a_last_line_without_line_ending() -> None:
    assert add_runtime_packages("FROM a", ["libgomp1"]) == f"FROM a\n{LINE}\n"


def _scan(*sonames: str) -> LibraryScan:
    missing = tuple(
        MissingLibrary(s, ("/x.so",), package_for_soname(s, "debian", "bookworm")) for s in sonames
    )
    return LibraryScan(True, "", "debian", "bookworm", 3, missing)


def _report(scan: LibraryScan | None, verdict: str = "fail") -> VerifyReport:
    side = Side(1.0, True, smoke="ok", smoke_ok=True)
    return VerifyReport("D", ".", "podman", True, verdict, (), side, side, {}, None, scan)


def test_repair_adds_packages_until_nothing_is_missing() -> None:
    seen: list[str] = []
    answers = iter([_scan("libgomp.so.1"), _scan("libpq.so.5"), _scan()])

    def check(text: str) -> VerifyReport:
        seen.append(text)
        scan = next(answers)
        return _report(scan, "fail" if scan.missing else "pass")

    outcome = repair(check, "FROM python:3.11-slim\nCMD x\n", max_rounds=3)
    assert outcome.added == ("libgomp1", "libpq5")
    assert outcome.repaired and outcome.stopped == "no missing libraries"
    assert outcome.report.verdict == "pass"
    assert len(seen) == 3
    assert apt_line(["libgomp1", "libpq5"]) in outcome.text


def test_repair_stops_after_max_rounds() -> None:
    names = iter(["liba.so.1", "libb.so.1", "libc0.so.1", "libd.so.1"])

    def check(text: str) -> VerifyReport:
        del text
        return _report(_scan(next(names)))

    outcome = repair(check, "FROM python:3.11-slim\n", max_rounds=2)
    assert len(outcome.rounds) == 3
    assert not outcome.repaired and "after 2 round(s)" in outcome.stopped


def test_repair_stops_when_the_scan_cannot_run() -> None:
    outcome = repair(lambda _: _report(LibraryScan(False, "no ldd")), "FROM a\n")
    assert outcome.added == () and outcome.stopped == "no ldd"


def test_library_reasons_say_when_the_original_lacked_it_too() -> None:
    after = _scan("libgomp.so.1")
    assert library_reasons(None, after) == [
        "the fixed image cannot load libgomp.so.1 (package libgomp1), needed by /x.so"
    ]
    assert library_reasons(after, after)[0].endswith("the original image lacks it too")
    lines = render_libraries(after)
    assert lines[-1] == f"    {LINE}"
