"""The runtime-library data: the generated file, the pip table, and the generator itself.

No network: the generator's closure is tested on a small hand-written ``Packages`` text.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from dockfix.images import runtime_data
from dockfix.images.runtime_data import (
    base_packages,
    build_packages,
    data_info,
    pip_package,
    pip_runtime_libraries,
    releases,
    runtime_libraries,
    sources,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "dockfix" / "images" / "data"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_runtime_libs", ROOT / "scripts" / "gen_runtime_libs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()

# -- the generated file ------------------------------------------------------------------------


def test_generated_file_has_schema_date_and_sources() -> None:
    info = data_info()
    assert info["schema"] == "1"
    assert dt.date.fromisoformat(info["generated"]) <= dt.date.today()
    assert info["generator"] == "scripts/gen_runtime_libs.py"
    assert ("debian", "bookworm") in releases()
    assert "bookworm" in releases("debian")
    for key, source in sources().items():
        assert "/" in key
        assert source["status"] in ("generated", "missing")
        if source["status"] == "missing":
            assert source["reason"]
        else:
            distro, release = key.split("/")
            assert release in releases(distro)
    # every release with data says where it came from
    for distro, release in releases():
        assert sources()[f"{distro}/{release}"]["status"] == "generated"


def test_data_file_is_small_enough() -> None:
    """About 1 MB a release (it ships in the wheel and loads in ~20 ms for three)."""
    size = (DATA / "runtime_libs.json").stat().st_size
    assert size < 1_200_000 * max(1, len(releases()))


def test_gcc_brings_the_openmp_runtime() -> None:
    libraries = runtime_libraries("debian", "bookworm", "gcc")
    assert libraries is not None
    assert {"libgomp1", "libquadmath0", "libatomic1"} <= set(libraries)
    # libgcc-s1 and libstdc++6 are in every bookworm image: listed as base, not per package
    base = base_packages("debian", "bookworm")
    assert base is not None and {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"} <= base
    assert not base & set(libraries)
    assert "libgomp1" in runtime_libraries("debian", "bookworm", "build-essential")  # type: ignore[operator]
    assert "libgfortran5" in runtime_libraries("debian", "bookworm", "gfortran")  # type: ignore[operator]


@pytest.mark.parametrize(
    ("package", "library"),
    [
        ("libpq-dev", "libpq5"),
        ("libjpeg62-turbo-dev", "libjpeg62-turbo"),
        ("libjpeg-dev", "libjpeg62-turbo"),
        ("libxml2-dev", "libxml2"),
        ("libxslt1-dev", "libxslt1.1"),
        ("libxslt-dev", "libxslt1.1"),  # virtual, provided by libxslt1-dev
        ("default-libmysqlclient-dev", "libmariadb3"),
        ("libssl-dev", "libssl3"),
        ("unixodbc-dev", "libodbc2"),
        ("libopenblas-dev", "libgfortran5"),
        ("pkg-config", "libpkgconf3"),
    ],
)
def test_dev_package_brings_its_library_on_bookworm(package: str, library: str) -> None:
    assert library in (runtime_libraries("debian", "bookworm", package) or ())


@pytest.mark.parametrize("release", ["bullseye", "bookworm", "trixie"])
def test_libpq_dev_on_each_release_with_data(release: str) -> None:
    """libpq-dev -> libpq5 wherever the release's index was read; None where it was not."""
    found = runtime_libraries("debian", release, "libpq-dev")
    if release in releases("debian"):
        assert found is not None and "libpq5" in found
    else:
        assert found is None
        assert sources()[f"debian/{release}"]["status"] == "missing"


def test_skipping_the_c_library_headers() -> None:
    """libc6-dev brings libtirpc3 and Kerberos to every -dev package; skip leaves them out."""
    skip = runtime_data.C_LIBRARY_HEADERS
    assert "libtirpc3" in (runtime_libraries("debian", "bookworm", "libjpeg62-turbo-dev") or ())
    assert runtime_libraries("debian", "bookworm", "libjpeg62-turbo-dev", skip) == (
        "libjpeg62-turbo",
    )
    assert runtime_libraries("debian", "bookworm", "libxslt-dev", skip) == (
        "libicu72",
        "libxml2",
        "libxslt1.1",
    )
    assert "libgomp1" in (runtime_libraries("debian", "bookworm", "g++", skip) or ())
    assert "libpq5" in (runtime_libraries("debian", "bookworm", "libpq-dev", skip) or ())


def test_operand_spellings_and_unknowns() -> None:
    assert "libpq5" in (runtime_libraries("debian", "bookworm", "libpq-dev=15.*") or ())
    assert "libpq5" in (runtime_libraries("debian", "bookworm", "libpq-dev:amd64") or ())
    assert runtime_libraries("debian", "bookworm", "make") == ()  # a build tool, no library
    assert runtime_libraries("debian", "bookworm", "no-such-package-dev") is None
    assert runtime_libraries("debian", "sid-of-nowhere", "libpq-dev") is None
    assert runtime_libraries("nodistro", "bookworm", "libpq-dev") is None
    assert base_packages("debian", "sid-of-nowhere") is None
    assert "libpq-dev" in build_packages("debian", "bookworm")


# -- the pip table -----------------------------------------------------------------------------


def test_pip_table_lookups() -> None:
    assert pip_runtime_libraries("psycopg2", "debian", "bookworm") == ("libpq5",)
    assert pip_runtime_libraries("psycopg2", "debian", "bullseye") == ("libpq5",)
    assert pip_runtime_libraries("lightgbm", "debian", "bookworm") == ("libgomp1",)
    assert pip_runtime_libraries("LightGBM", "alpine", "3.20") == ("libgomp",)
    assert pip_runtime_libraries("Pillow", "debian", "bookworm") == ("libjpeg62-turbo", "zlib1g")
    assert "libwebp7" in pip_runtime_libraries("pillow", "debian", "bookworm", optional=True)  # type: ignore[operator]
    assert "libwebp6" in pip_runtime_libraries("pillow", "debian", "bullseye", optional=True)  # type: ignore[operator]
    assert pip_runtime_libraries("cryptography", "debian", "bullseye") == ("libssl1.1",)
    assert pip_runtime_libraries("cryptography", "debian", "trixie") == ("libssl3t64",)
    assert pip_runtime_libraries("python_ldap", "debian", "bookworm") == (
        "libldap-2.5-0",
        "libsasl2-2",
    )
    assert pip_runtime_libraries("lxml[html_clean]>=5", "debian", "bookworm") == (
        "libxml2",
        "libxslt1.1",
    )
    assert pip_runtime_libraries("requests", "debian", "bookworm") is None
    assert pip_runtime_libraries("psycopg2", "debian", "potato") == ("libpq5",)  # '*' row
    assert pip_runtime_libraries("pyodbc", "debian", "potato") is None  # per-release row
    assert pip_runtime_libraries("psycopg2", "fedora", "41") is None


def test_pip_table_tells_wheels_from_source_builds() -> None:
    assert pip_package("psycopg2").wheel == "none"  # type: ignore[union-attr]
    assert pip_package("psycopg2").binary == "psycopg2-binary"  # type: ignore[union-attr]
    assert pip_package("psycopg2-binary").wheel == "bundles"  # type: ignore[union-attr]
    assert pip_package("lxml").wheel == "bundles"  # type: ignore[union-attr]
    assert pip_package("lightgbm").wheel == "needs"  # type: ignore[union-attr]
    assert pip_package("xgboost").wheel == "needs"  # type: ignore[union-attr]
    assert pip_package("pyodbc").wheel == "needs"  # type: ignore[union-attr]
    assert pip_package("flask") is None


def test_every_pip_row_is_documented_and_well_formed() -> None:
    table = json.loads((DATA / "pip_system_libs.json").read_text())
    assert table["schema"] == 1
    dt.date.fromisoformat(table["updated"])
    for name, row in table["packages"].items():
        assert name == runtime_data.normalize(name), name
        assert row["source"].startswith(("https://", "http://")), name
        assert row["wheel"] in ("bundles", "needs", "none"), name
        assert row["links"], name
        assert "debian" in row, name
        for key in ("debian", "debian_optional", "alpine", "alpine_optional"):
            for release, names in row.get(key, {}).items():
                assert isinstance(names, list) and all(isinstance(n, str) for n in names), (
                    name,
                    key,
                )
                assert release == "*" or release in gen.DEBIAN_RELEASES, (name, release)


def test_pip_table_bookworm_names_exist_in_the_generated_index() -> None:
    """Each bookworm name of the hand table is a library package of the bookworm index."""
    if "bookworm" not in releases("debian"):
        pytest.skip("no bookworm data")
    # metapackages that no -dev package depends on, checked by hand against the index:
    # libopenblas0 installs the default (pthread) OpenBLAS, libopenblas0-pthread
    known = {"libopenblas0"}
    known.update(base_packages("debian", "bookworm") or ())
    for package in build_packages("debian", "bookworm"):
        known.update(runtime_libraries("debian", "bookworm", package) or ())
    table = json.loads((DATA / "pip_system_libs.json").read_text())["packages"]
    for name, row in table.items():
        for key in ("debian", "debian_optional"):
            release_names = row.get(key, {})
            for each in release_names.get("bookworm", release_names.get("*", [])):
                assert each in known, (name, each)


# -- the generator, offline --------------------------------------------------------------------

FAKE_PACKAGES = """\
Package: libc6
Section: libs
Priority: optional
Depends: libgcc-s1

Package: libgcc-s1
Section: libs
Priority: optional
Depends: gcc-12-base, libc6 (>= 2.35)

Package: gcc-12-base
Section: libs
Priority: required

Package: coreutils
Essential: yes
Priority: required
Section: utils
Pre-Depends: libc6 (>= 2.34)

Package: gcc
Section: devel
Priority: optional
Depends: cpp (= 4:12.2.0-3), gcc-12 (>= 12.2.0-1~)

Package: cpp
Section: interpreters
Depends: cpp-12

Package: cpp-12
Section: interpreters
Depends: gcc-12-base (= 12.2.0-14), libisl23 (>= 0.15), libmpc3 (>= 1.1.0)

Package: gcc-12
Section: devel
Depends: cpp-12 (= 12.2.0-14), libcc1-0 (>= 12.2.0-14), binutils (>= 2.40),
 libgcc-12-dev (= 12.2.0-14), libc6 (>= 2.36)

Package: libgcc-12-dev
Section: libdevel
Depends: gcc-12-base (= 12.2.0-14), libgcc-s1 (>= 12.2.0-14), libgomp1 (>= 12.2.0-14),
 libquadmath0 (>= 12.2.0-14)

Package: binutils
Section: devel
Depends: libbinutils (= 2.40-2)

Package: libbinutils
Section: devel

Package: libisl23
Section: libs

Package: libmpc3
Section: libs

Package: libcc1-0
Section: libs

Package: libgomp1
Section: libs
Depends: libc6

Package: libquadmath0
Section: libs

Package: libpq-dev
Section: libdevel
Depends: libpq5 (= 15.5-0+deb12u1), libssl-dev

Package: libpq5
Section: libs
Depends: libssl3 (>= 3.0.0), libldap-2.5-0 | libldap2

Package: libldap-2.5-0
Section: libs

Package: libssl-dev
Section: libdevel
Depends: libssl3 (= 3.0.11-1)

Package: libssl3
Section: libs

Package: libxslt1-dev
Section: libdevel
Provides: libxslt-dev
Depends: libxslt1.1 (= 1.1.35-1), libxml2-dev:any

Package: libxml2-dev
Section: libdevel
Depends: libxml2 (= 2.9.14), libc6-dev | libc-dev

Package: libxml2
Section: libs

Package: libxslt1.1
Section: libs

Package: libc6-dev
Section: libdevel
Depends: libc6, libcrypt-dev

Package: libcrypt-dev
Section: libdevel
Depends: libcrypt1

Package: libcrypt1
Section: libs

Package: make
Section: devel
Depends: libc6

Package: libjpeg62-turbo-dev
Section: libdevel
Provides: libjpeg-dev
Depends: libjpeg62-turbo (= 1:2.1.5-2)

Package: libjpeg62-turbo
Section: libs

Package: libjpeg62-turbo
Section: libs
Version: newer stanza from -security replaces the first
"""


def test_parse_packages_reads_alternatives_continuations_and_arch_qualifiers() -> None:
    packages = gen.parse_packages(FAKE_PACKAGES)
    assert packages["gcc-12"].depends == [
        ["cpp-12"],
        ["libcc1-0"],
        ["binutils"],
        ["libgcc-12-dev"],
        ["libc6"],
    ]
    assert packages["libpq5"].depends == [["libssl3"], ["libldap-2.5-0", "libldap2"]]
    assert packages["libxslt1-dev"].depends[1] == ["libxml2-dev"]
    assert packages["libxslt1-dev"].provides == ["libxslt-dev"]
    assert packages["coreutils"].depends == [["libc6"]]  # Pre-Depends count
    assert packages["coreutils"].in_every_image
    assert packages["libgomp1"].is_shared_library
    assert not packages["libbinutils"].is_shared_library  # Section devel
    assert not packages["gcc-12-base"].is_shared_library
    assert not packages["libpq-dev"].is_shared_library
    assert gen.is_build_package("gcc") and gen.is_build_package("gcc-12")
    assert gen.is_build_package("libpq-dev") and not gen.is_build_package("libpq5")


def test_closure_and_table_on_fake_index() -> None:
    index = gen.Index(gen.parse_packages(FAKE_PACKAGES))
    assert "libgomp1" in index.closure("gcc")
    assert set(index.base()) == {"coreutils", "libc6", "libgcc-s1", "gcc-12-base"}
    release = gen.build_release([FAKE_PACKAGES])
    table = release["build"]

    def full(name: str) -> list[str]:
        return gen.closure_libraries(table, name)

    assert full("gcc") == ["libcc1-0", "libgomp1", "libisl23", "libmpc3", "libquadmath0"]
    assert full("libpq-dev") == ["libldap-2.5-0", "libpq5", "libssl3"]
    assert full("libjpeg62-turbo-dev") == ["libjpeg62-turbo"]
    assert full("libjpeg-dev") == ["libjpeg62-turbo"]  # a virtual name
    assert full("libxslt-dev") == ["libcrypt1", "libxml2", "libxslt1.1"]
    # libpq-dev's own list does not repeat libssl3, which libssl-dev's entry holds
    assert table["libpq-dev"] == (["libldap-2.5-0", "libpq5"], ["libssl-dev"])
    assert "make" not in table and "make" in release["no_libraries"]
    assert "libc6" not in full("libxml2-dev")  # base packages are left out


def test_generator_writes_a_file_the_loader_reads(tmp_path: Path, monkeypatch) -> None:
    packages = tmp_path / "Packages.xz"
    import lzma

    packages.write_bytes(lzma.compress(FAKE_PACKAGES.encode()))
    out = tmp_path / "runtime_libs.json"
    code = gen.main(
        [
            "--packages",
            f"debian/bookworm={packages}",
            "--missing",
            "debian/buster=host does not resolve",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert data["schema"] == 1 and data["generated"] == dt.date.today().isoformat()
    assert data["sources"]["debian/buster"] == {
        "status": "missing",
        "reason": "host does not resolve",
    }
    assert data["sources"]["debian/bookworm"]["status"] == "generated"
    assert (
        gen.main(["--packages", f"debian/bookworm={packages}", "--output", str(out), "--check"])
        == 0
    )

    # the loader reads the generated layout
    monkeypatch.setattr(runtime_data, "_load", lambda name: json.loads(out.read_text()))
    for cached in (
        runtime_data._runtime_data,
        runtime_data._graph,
        runtime_data.runtime_libraries,
        runtime_data._all_build_names,
        runtime_data.base_packages,
    ):
        cached.cache_clear()
    try:
        assert runtime_data.runtime_libraries("debian", "bookworm", "gcc") == (
            "libcc1-0",
            "libgomp1",
            "libisl23",
            "libmpc3",
            "libquadmath0",
        )
        assert runtime_data.runtime_libraries("debian", "bookworm", "make") == ()
        assert runtime_data.runtime_libraries("debian", "buster", "gcc") is None
    finally:
        monkeypatch.undo()
        for cached in (
            runtime_data._runtime_data,
            runtime_data._graph,
            runtime_data.runtime_libraries,
            runtime_data._all_build_names,
            runtime_data.base_packages,
        ):
            cached.cache_clear()


FAKE_APKINDEX = """\
C:Q1aaa=
P:musl
V:1.2.5-r0
A:x86_64
p:so:libc.musl-x86_64.so.1=1

C:Q1bbb=
P:libgomp
V:13.2.1-r2
A:x86_64
D:so:libc.musl-x86_64.so.1
p:so:libgomp.so.1=1.0.0

C:Q1ccc=
P:gcc
V:13.2.1-r2
A:x86_64
D:binutils>=2.42 libgomp=13.2.1-r2 libatomic musl-dev !gcc-doc so:libc.musl-x86_64.so.1

C:Q1ddd=
P:libatomic
D:so:libc.musl-x86_64.so.1
p:so:libatomic.so.1=1.2.0

C:Q1eee=
P:binutils
D:so:libc.musl-x86_64.so.1 so:libctf.so.0

C:Q1fff=
P:libctf
p:so:libctf.so.0=0.0.0

C:Q1ggg=
P:musl-dev
D:musl=1.2.5-r0

C:Q1hhh=
P:postgresql16-dev
D:libpq=16.1-r0 openssl-dev pc:libssl
p:pc:libpq=16.1

C:Q1iii=
P:libpq
D:so:libc.musl-x86_64.so.1 so:libssl.so.3
p:so:libpq.so.5=5.16

C:Q1jjj=
P:openssl-dev
D:libssl3=3.1.4-r0
p:pc:libssl=3.1.4

C:Q1kkk=
P:libssl3
p:so:libssl.so.3=3

C:Q1lll=
P:libpq-dev
D:postgresql16-dev
"""


def test_apkindex_closure() -> None:
    packages = gen.parse_apkindex(FAKE_APKINDEX)
    assert packages["gcc"].depends == [
        ["binutils"],
        ["libgomp"],
        ["libatomic"],
        ["musl-dev"],
        ["so:libc.musl-x86_64.so.1"],
    ]
    assert packages["libgomp"].is_shared_library and not packages["gcc"].is_shared_library
    assert packages["musl"].in_every_image
    table = gen.build_release([FAKE_APKINDEX], gen.parse_apkindex)["build"]
    assert gen.closure_libraries(table, "gcc") == ["libatomic", "libctf", "libgomp"]
    assert gen.closure_libraries(table, "libpq-dev") == ["libpq", "libssl3"]
    assert gen.is_build_package("build-base") and gen.is_build_package("musl-dev")


FAKE_PRIMARY = """\
<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common"
  xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="5">
<package type="rpm"><name>glibc-minimal-langpack</name><arch>x86_64</arch>
  <format><rpm:requires><rpm:entry name="glibc"/></rpm:requires></format></package>
<package type="rpm"><name>glibc</name><arch>x86_64</arch>
  <format><rpm:provides><rpm:entry name="libc.so.6()(64bit)"/></rpm:provides>
  <file>/usr/sbin/ldconfig</file></format></package>
<package type="rpm"><name>libpq</name><arch>x86_64</arch>
  <format><rpm:provides><rpm:entry name="libpq.so.5()(64bit)"/>
  <rpm:entry name="libpq"/></rpm:provides>
  <rpm:requires><rpm:entry name="libc.so.6(GLIBC_2.34)(64bit)"/>
  <rpm:entry name="rpmlib(PayloadIsZstd)"/>
  <rpm:entry name="libssl.so.3()(64bit)"/></rpm:requires></format></package>
<package type="rpm"><name>openssl-libs</name><arch>x86_64</arch>
  <format><rpm:provides><rpm:entry name="libssl.so.3()(64bit)"/></rpm:provides></format></package>
<package type="rpm"><name>libpq-devel</name><arch>x86_64</arch>
  <format><rpm:requires><rpm:entry name="libpq.so.5()(64bit)"/>
  <rpm:entry name="/usr/sbin/ldconfig"/>
  <rpm:entry name="(pkgconf if foo)"/></rpm:requires></format></package>
<package type="rpm"><name>libpq-devel</name><arch>i686</arch><format/></package>
<package type="rpm"><name>libpq</name><arch>src</arch><format/></package>
</metadata>
"""


def test_primary_xml_closure() -> None:
    packages = gen.parse_primary(FAKE_PRIMARY)
    assert packages["libpq"].is_shared_library and packages["openssl-libs"].is_shared_library
    assert not packages["libpq-devel"].is_shared_library
    assert packages["libpq-devel"].depends == [["libpq.so.5()(64bit)"], ["/usr/sbin/ldconfig"]]
    release = gen.build_release([FAKE_PRIMARY], gen.parse_primary)
    assert "glibc" in release["base"]
    assert gen.closure_libraries(release["build"], "libpq-devel") == ["libpq", "openssl-libs"]
