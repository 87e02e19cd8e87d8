"""DF202's ``poetry install`` split: the builder's export (``poetry_export.py``) run for
real, as the shell runs the generated RUN, with this interpreter standing in for the
image's Python and a stand-in ``poetry`` on PATH.  pip finds no index here
(``PIP_NO_INDEX``), so the wheel build fails after the pins are written: the test reads
what the export selected, not what pip downloads."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.rules.build_tools_in_final_image.poetry import PoetryInstall

CLICK = importlib.metadata.version("click")
PYTEST = importlib.metadata.version("pytest")


def _lock(*packages: str, files: str = "") -> str:
    return "".join(packages) + '\n[metadata]\nlock-version = "2.0"\n' + files


def _package(name: str, version: str, extra: str = "") -> str:
    return (
        f'[[package]]\nname = "{name}"\nversion = "{version}"\ndescription = ""\n'
        f'optional = false\npython-versions = "*"\n{extra}\n'
    )


def _export(tmp_path: Path, lock: str, create: str = "false") -> tuple[int, str, str]:
    """Run the builder's export in ``tmp_path`` (poetry.lock there); the pins file and
    the output."""
    (tmp_path / "poetry.lock").write_text(lock)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    poetry = bin_dir / "poetry"
    poetry.write_text(f"#!/bin/sh\necho {create}\n")
    poetry.chmod(0o755)
    python = bin_dir / "python"  # a script, not a link: a link would leave this venv
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    pins = tmp_path / "wheels" / "poetry.txt"
    install = PoetryInstall(str(pins), ())
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "TMPDIR": str(tmp_path),  # the export's requirement files for pip wheel
    }
    run = subprocess.run(
        ["sh", "-c", install.builder_text()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = pins.read_text() if pins.exists() else ""
    return run.returncode, text, run.stderr


def test_export_keeps_the_lock_packages_installed_at_the_lock_version(tmp_path: Path) -> None:
    hashed = '{file = "click.whl", hash = "sha256:' + "0" * 64 + '"}'
    lock = _lock(
        _package("Click", CLICK, f"files = [{hashed}]\n"),  # installed: kept, name as locked
        _package("pytest", "0.0.1"),  # installed at another version: not selected
        _package("not-installed-anywhere", "1.0"),
    )
    code, pins, _ = _export(tmp_path, lock)
    assert pins == f"Click=={CLICK}\n"
    assert code != 0  # no index here: pip wheel fails after the pins are written


def test_export_reads_the_old_lock_format(tmp_path: Path) -> None:
    digest = "1" * 64
    files = f'[metadata.files]\npytest = [\n    {{file = "p.whl", hash = "sha256:{digest}"}},\n]\n'
    _, pins, _ = _export(tmp_path, _lock(_package("pytest", PYTEST), files=files))
    assert pins == f"pytest=={PYTEST}\n"
    (hashed_file,) = tmp_path.glob("tmp*/hashed.txt")  # what pip wheel was given
    hashed = hashed_file.read_text()
    assert f"pytest=={PYTEST} --hash=sha256:{digest}" in hashed


@pytest.mark.parametrize(
    ("lock", "create", "message"),
    [
        (_lock(_package("click", CLICK)), "true", "virtualenvs.create is not false"),
        (
            _lock(_package("click", CLICK, '[package.source]\ntype = "git"\nurl = "x"\n')),
            "false",
            "source other than PyPI: click",
        ),
        (_lock(_package("not-installed-anywhere", "1.0")), "false", "no package of poetry.lock"),
    ],
)
def test_export_stops_when_the_install_is_not_what_the_split_serves(
    tmp_path: Path, lock: str, create: str, message: str
) -> None:
    code, pins, stderr = _export(tmp_path, lock, create)
    assert code != 0
    assert message in stderr
    assert pins == ""
