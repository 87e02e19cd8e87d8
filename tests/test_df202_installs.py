"""DF202's reading of Python installs: what it splits, what it refuses, and the reasons.

Fixtures always have a build context (their folder); the cases here run without one,
as ``dockfix`` reads stdin and as the corpus is measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.engine import fix_document
from dockfix.images.python_packages import variable_version_name
from dockfix.rules import select_rules
from dockfix.rules.base import Finding, Settings
from dockfix.syntax import parse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "build-tools-in-final-image"


def _finding(text: str, context: Path | None = None) -> Finding:
    rules = [rule for rule in select_rules() if rule.code == "DF202"]
    result = fix_document(
        parse(text), rules, Settings(unsafe_fixes=True), path=None, context_dir=context
    )
    (finding,) = [f for f in result.findings if f.code == "DF202"]
    return finding


FULL_BASE = """\
FROM python:3.12-bookworm
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "-m", "app"]
"""


def test_unread_requirements_on_the_full_image_are_a_caveat_without_a_context() -> None:
    finding = _finding(FULL_BASE)
    assert finding.fix is not None
    assert (
        "`requirements.txt` could not be read (no build context): the builder's scan finds "
        "the libraries that compiled code links, but a package that loads a library of the "
        "full image with ctypes/dlopen, or runs one of its programs (git, curl, ssh, "
        "ImageMagick's convert ...), finds neither on -slim"
    ) in finding.fix.reason


def test_requirements_missing_from_a_context_on_disk_are_refused(tmp_path: Path) -> None:
    finding = _finding(FULL_BASE, tmp_path)
    assert finding.fix is None
    assert finding.note.startswith("`requirements.txt` is not a file of the build context")


def test_requirements_no_copy_brings_are_refused_without_a_context() -> None:
    text = FULL_BASE.replace("COPY requirements.txt .\n", "")
    text = text.replace("-r requirements.txt", "-r /opt/requirements.txt")
    finding = _finding(text)
    assert finding.fix is None
    assert "is not copied from the build context by the stage" in finding.note


def test_a_cd_in_the_run_moves_where_requirements_are_read() -> None:
    text = FULL_BASE.replace("COPY requirements.txt .", "COPY requirements.txt /src/")
    text = text.replace("RUN pip install", "RUN cd /src && pip install")
    assert _finding(text).fix is not None


EDITABLE = """\
FROM python:3.12-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends gcc \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e .
CMD ["python", "-m", "app"]
"""


def test_an_editable_install_becomes_a_wheel_install_and_says_what_changes() -> None:
    finding = _finding(EDITABLE)
    assert finding.fix is not None
    assert (
        "`pip install -e .` on line 6 becomes an install of the project's built wheel: its "
        "modules import from site-packages, not from its source folder, so edits to the "
        "source (a mounted volume) no longer take effect"
    ) in finding.fix.reason
    assert "compiled extensions, a generated version file" in finding.fix.reason


def test_setup_py_develop_says_both_what_the_build_and_the_install_change() -> None:
    text = EDITABLE.replace("pip install --no-cache-dir -e .", "python setup.py develop")
    finding = _finding(text)
    assert finding.fix is not None
    assert "`setup.py develop` on line 6 becomes a pip build" in finding.fix.reason
    assert "`setup.py develop` on line 6 becomes an install of the project's built wheel" in (
        finding.fix.reason
    )


@pytest.mark.parametrize(
    ("install", "note"),
    [
        ("pip install -e $SRC", "the editable project `$SRC` on line 6 is a variable"),
        ("pip install -e git+https://x.org/a.git#egg=a", "is a VCS checkout"),
        ("pip install -e ./dist/a-1.0-py3-none-any.whl", "is no project folder"),
        ("pip install -e /opt/elsewhere", "no COPY of the stage is known to bring"),
        ("cd $HOME && pip install -e .", "no COPY of the stage is known to bring"),
    ],
)
def test_editable_installs_whose_source_is_not_known_are_refused(install: str, note: str) -> None:
    finding = _finding(EDITABLE.replace("pip install --no-cache-dir -e .", install))
    assert finding.fix is None
    assert note in finding.note


@pytest.mark.parametrize(
    ("run", "note"),
    [
        ("curl -fsSL https://x.org/setup | bash -", "runs a script piped into `bash`"),
        ("curl -fsSL https://x.org/setup | bash -s -- --yes", "runs a script piped into `bash`"),
        ("bash -e ./install.sh -b", "runs a script (`./install.sh`)"),
        ("/opt/make-crx.sh /src /src.pem", "runs a script (`/opt/make-crx.sh`)"),
        ("bash -o pipefail -c 'make all'", "runs `make`"),
        ("./setup.py build", "runs `./setup.py build`"),
    ],
)
def test_scripts_are_named_by_their_script(run: str, note: str) -> None:
    text = EDITABLE.replace("COPY . .\n", f"COPY . .\nRUN {run}\n")
    finding = _finding(text)
    assert finding.fix is None
    assert note in finding.note


def test_a_python_program_run_by_path_is_read_as_python_runs_it() -> None:
    text = EDITABLE + "RUN ./manage.py collectstatic --no-input\n"
    assert _finding(text).fix is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tensorflow-gpu==${TENSORFLOW_VERSION}", ("tensorflow-gpu", "")),
        ('"psycopg2[pool]>=$V"', ("psycopg2", "[pool]")),
        ("$PACKAGE", None),
        ("${NAME}==1.0", None),
        ("git+https://x.org/a.git@${REF}", None),
        ('"a==$V', None),
    ],
)
def test_variable_version_name(text: str, expected: tuple[str, str] | None) -> None:
    assert variable_version_name(text) == expected


def test_an_editable_install_whose_folder_a_later_copy_fills_is_refused() -> None:
    text = EDITABLE.replace("COPY . .\n", "COPY setup.py .\n") + "COPY . /app\n"
    finding = _finding(text)
    assert finding.fix is None
    assert finding.note.startswith("the COPY on line 8 writes into `/app` after its editable")


def test_a_later_copy_of_a_file_elsewhere_does_not_block_an_editable_install() -> None:
    assert _finding(EDITABLE + "COPY docker/entrypoint.sh /\n").fix is not None


def test_setup_py_build_before_install_is_dropped_from_the_final_stage() -> None:
    text = EDITABLE.replace(
        "pip install --no-cache-dir -e .", "python setup.py build && python setup.py install"
    )
    finding = _finding(text)
    assert finding.fix is not None
    assert "`setup.py build` on line 6 is not run in the final stage" in finding.fix.reason


def test_get_pip_gives_the_python_that_runs_setup_py_a_pip() -> None:
    text = """\
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-dev gcc curl \\
    && curl -fsSL https://bootstrap.pypa.io/get-pip.py | python3 \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN python3 setup.py install
"""
    assert _finding(text).fix is not None
    without = _finding(text.replace("| python3", "> /tmp/get-pip.py"))
    assert "the stage installs no pip known to run as `python3 -m pip`" in without.note
