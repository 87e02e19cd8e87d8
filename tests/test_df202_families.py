"""DF202 on system Pythons of Alpine and of the RHEL family (issue 11): which base the
split builds on, the pip it trusts for ``pip install wheel``, the rpm scan and each
package manager's final install."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dockfix.engine import fix_document
from dockfix.rules import lookup
from dockfix.rules.base import Settings
from dockfix.rules.build_tools_in_final_image import runtime_scan
from dockfix.syntax import parse

RULE = lookup("DF202")


def _df202(text: str) -> tuple[str | None, str]:
    """The DF202 finding's refusal note (None when it carries a fix) and the output."""
    assert RULE is not None
    result = fix_document(parse(text), (RULE,), Settings(unsafe_fixes=True), path=None)
    found = [f for f in result.findings if f.code == "DF202"]
    assert found, "DF202 should find the build tools"
    return (None if found[0].fix is not None else found[0].note or ""), result.output


def _alpine(
    pip_lines: str, tag: str = "3.18", packages: str = "python3 py3-pip python3-dev"
) -> str:
    return (
        f"FROM alpine:{tag}\n"
        f"RUN apk add --no-cache {packages} gcc musl-dev postgresql-dev\n"
        f"{pip_lines}"
    )


def test_alpine_system_python_splits_when_the_stage_upgrades_its_pip() -> None:
    note, output = _df202(_alpine("RUN pip3 install -U pip && pip3 install psycopg2==2.9.9\n"))
    assert note is None
    assert "pip3 install wheel && pip3 wheel --wheel-dir /wheels psycopg2==2.9.9" in output
    assert "python3 -c " in output and "ld-musl" in output
    assert "xargs apk add --no-cache libpq < /tmp/runtime-packages.txt" in output
    final = output.split("\nFROM alpine:3.18\n", 1)[1]
    assert "gcc" not in final and "python3-dev" not in final and "py3-pip" in final


@pytest.mark.parametrize(
    "upgrade",
    [
        "RUN pip3 install --upgrade pip==23.3.1\n",
        "RUN pip3 install --upgrade pip setuptools wheel\n",
        "RUN pip3 install pip==9.0.3\n",
    ],
)
def test_an_upgrade_or_a_pin_of_9_or_newer_makes_the_pip_known(upgrade: str) -> None:
    note, _ = _df202(_alpine(upgrade + "RUN pip3 install psycopg2==2.9.9\n"))
    assert note is None


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ("RUN pip3 install psycopg2==2.9.9\n", "is not known to be 9 or newer"),
        ("RUN pip install -U pip && pip3 install psycopg2\n", "does not upgrade `pip3`"),
        ("RUN pip3 install psycopg2 && pip3 install -U pip\n", "is not known to be 9"),
        ("RUN pip3 install pip==8.1.2 && pip3 install psycopg2\n", "pinned to a pip older"),
        (
            "RUN python3 -m venv /v && . /v/bin/activate && pip install -U pip "
            "&& pip install psycopg2\n",
            "virtualenv",
        ),
        ("RUN pip3 install -U pip || pip3 install psycopg2\n", "`||`"),
    ],
)
def test_an_unknown_pip_is_refused_with_the_reason(lines: str, reason: str) -> None:
    note, _ = _df202(_alpine(lines))
    assert note is not None and reason in note


def test_alpine_python2_scans_with_python2_and_no_python_is_refused() -> None:
    text = _alpine(
        "RUN pip install -U pip && pip install psycopg2\n", "3.8", "python2 py2-pip python2-dev"
    )
    note, output = _df202(text)
    assert note is None and "python2 -c " in output
    note, _ = _df202(_alpine("RUN pip install -U pip && pip install x\n", "3.8", "py-pip"))
    assert note is not None and "installs no Python with apk" in note


def test_pep_668_option_goes_to_the_wheel_install() -> None:
    lines = (
        "RUN pip install --break-system-packages -U pip && "
        "pip install --break-system-packages psycopg2\n"
    )
    note, output = _df202(_alpine(lines, "3.20"))
    assert note is None
    assert "pip install --break-system-packages wheel && pip wheel" in output


def _rhel(image: str, install: str, pip_lines: str) -> str:
    return f"FROM {image}\nRUN {install}\n{pip_lines}"


@pytest.mark.parametrize(
    ("image", "install", "final"),
    [
        (
            "centos:7",
            "yum install -y python3-pip python3-devel gcc postgresql-devel && yum clean all",
            "xargs -r yum install -y < /tmp/runtime-packages.txt && \\\n    yum clean all",
        ),
        (
            "fedora:39",
            "dnf -y install python3-pip python3-devel gcc",
            "xargs -r dnf install -y < /tmp/runtime-packages.txt && \\\n    dnf clean all",
        ),
        (
            "registry.access.redhat.com/ubi9/ubi-minimal",
            "microdnf install -y python3-pip python3-devel gcc",
            "xargs -r microdnf install -y < /tmp/runtime-packages.txt && \\\n"
            "    microdnf clean all",
        ),
    ],
)
def test_rhel_family_installs_the_scanned_list_with_the_files_manager(
    image: str, install: str, final: str
) -> None:
    note, output = _df202(_rhel(image, install, "RUN pip3 install -U pip && pip3 install lxml\n"))
    assert note is None, note
    assert final in output
    assert "rpm','-qf'" in output and "python3 -c " in output
    final_stage = output.rsplit(f"\nFROM {image}\n", 1)[1]
    assert "gcc" not in final_stage and "-devel" not in final_stage


@pytest.mark.parametrize(
    ("image", "install", "reason"),
    [
        ("centos:6", "yum install -y python-pip python-devel gcc", "older than 2.7"),
        ("centos:centos6", "yum install -y python-pip python-devel gcc", "older than 2.7"),
        ("centos:7", "yum install -y gcc make", "installs no Python with yum/dnf"),
        ("registry.access.redhat.com/ubi8/ubi-minimal", "microdnf install python3 gcc", "-y"),
    ],
)
def test_rhel_family_refusals(image: str, install: str, reason: str) -> None:
    note, _ = _df202(_rhel(image, install, "RUN pip install -U pip && pip install lxml\n"))
    assert note is not None and reason in note


def test_install_commands_of_each_manager() -> None:
    mounted = runtime_scan.LIST_MOUNTED
    assert runtime_scan.install_commands(()) == [
        "apt-get update",
        f"xargs apt-get install -y --no-install-recommends < {mounted}",
        "rm -rf /var/lib/apt/lists/*",
    ]
    assert runtime_scan.install_commands((), alpine=True) == [
        f"xargs -r apk add --no-cache < {mounted}"
    ]
    assert runtime_scan.install_commands(("libpq",), manager="apk") == [
        f"xargs apk add --no-cache libpq < {mounted}"
    ]
    assert runtime_scan.install_commands(("libpq",), manager="yum") == [
        f"xargs yum install -y libpq < {mounted}",
        "yum clean all",
    ]


def test_rpm_scan_is_python_that_sh_double_quotes_leave_alone() -> None:
    style = parse("FROM centos:7\n").style
    command = runtime_scan.scan_command("/wheels", style, "python2", family="rhel")
    code = command.split('"')[1].replace(f"{style.escape}{style.eol}{style.indent}", "")
    assert not set(code) & set('"$`\\'), "the code must mean the same inside sh double quotes"
    compile(code, "scan", "exec")
    assert "rpm" in code and "dpkg" not in code and "so:" not in code


def test_rpm_scan_names_the_owning_packages(tmp_path: Path) -> None:
    """The scan with a stand-in ``rpm`` that answers as ``rpm -qf --queryformat`` does:
    the marked name for an owned file, a sentence for a file no package owns."""
    import shutil

    if shutil.which("ldd") is None:
        pytest.skip("needs ldd")
    import _ssl  # an extension module linking libssl and libc

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "rpm"
    fake.write_text(
        "#!" + sys.executable + "\n"
        "import os, sys\n"
        "args = sys.argv[1:]\n"
        "assert args[:3] == ['-qf', '--queryformat', '@%{NAME} '], args\n"
        "for path in args[3:]:\n"
        "    name = os.path.basename(path)\n"
        "    if name.startswith('libc.so'):\n"
        "        sys.stdout.write('@glibc ')\n"
        "    elif name.startswith('libssl'):\n"
        "        sys.stdout.write('@openssl-libs ')\n"
        "    else:\n"
        "        sys.stdout.write('file %s is not owned by any package\\n' % path)\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "demo-1.0-py3-none-any.whl", "w") as wheel:
        wheel.write(_ssl.__file__, "demo/_ssl.so")
    out = tmp_path / "packages.txt"
    code = ";".join((*runtime_scan._SCAN, runtime_scan._LDD, *runtime_scan._RPM))
    code += ";" + runtime_scan._WRITE[0]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, "-c", code, str(wheels), str(out)], check=True, env=env)
    assert out.read_text().split() == ["glibc", "openssl-libs"]
