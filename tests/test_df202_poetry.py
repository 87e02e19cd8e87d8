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


def _export(
    tmp_path: Path, lock: str, create: str = "false", environment: str = ""
) -> tuple[int, str, str]:
    """Run the builder's export in ``tmp_path`` (poetry.lock there); the pins file and
    the output.  The stand-in ``poetry config`` prints ``POETRY_VIRTUALENVS_CREATE``,
    else ``create``."""
    (tmp_path / "poetry.lock").write_text(lock)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    poetry = bin_dir / "poetry"
    poetry.write_text(f"#!/bin/sh\necho ${{POETRY_VIRTUALENVS_CREATE:-{create}}}\n")
    poetry.chmod(0o755)
    python = bin_dir / "python"  # a script, not a link: a link would leave this venv
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    pins = tmp_path / "wheels" / "poetry.txt"
    install = PoetryInstall(str(pins), (), environment=environment)
    env = {
        **{k: v for k, v in os.environ.items() if k != "POETRY_VIRTUALENVS_CREATE"},
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


def test_export_sees_the_install_s_own_virtualenvs_create(tmp_path: Path) -> None:
    """``POETRY_VIRTUALENVS_CREATE=false poetry install``: the export's ``poetry config``
    runs with the same assignment, so it reads false where the configuration says true."""
    lock = _lock(_package("click", CLICK))
    _, pins, _ = _export(tmp_path, lock, "true", "POETRY_VIRTUALENVS_CREATE=false")
    assert pins == f"click=={CLICK}\n"


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


def _root_build(tmp_path: Path, api: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the builder's build of the project's editable wheel (``--only-root``: no
    export) in ``tmp_path``, with a stand-in ``poetry.core.masonry.api`` on the path."""
    package = tmp_path / "stub" / "poetry" / "core" / "masonry"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "api.py").write_text(api)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    root = tmp_path / "wheels" / "poetry-root"
    install = PoetryInstall(str(tmp_path / "wheels" / "poetry.txt"), (), (), str(root), True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": str(tmp_path / "stub"),
    }
    run = subprocess.run(
        ["sh", "-c", install.builder_text()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return run, root


def test_root_build_asks_the_poetry_core_for_the_editable_wheel(tmp_path: Path) -> None:
    api = (
        "import os\n"
        "def build_editable(d):\n"
        "    open(os.path.join(d, 'p-1.0-py3-none-any.whl'), 'w').write(os.getcwd())\n"
    )
    run, root = _root_build(tmp_path, api)
    assert run.returncode == 0, run.stderr
    assert (root / "p-1.0-py3-none-any.whl").read_text() == str(tmp_path)  # the project's folder
    assert not (tmp_path / "wheels" / "poetry.txt").exists()  # --only-root: no export


def test_root_build_stops_without_build_editable(tmp_path: Path) -> None:
    run, root = _root_build(tmp_path, "def build_wheel(d):\n    pass\n")
    assert run.returncode != 0
    assert "has no build_editable" in run.stderr
    assert not root.exists()


def test_final_install_takes_the_pins_and_the_project_wheel() -> None:
    both = PoetryInstall("/wheels/poetry.txt", ("click",), (), "/wheels/poetry-root")
    assert both.final_text() == (
        "pip install --no-deps --no-index --find-links=/wheels -r /wheels/poetry.txt "
        "/wheels/poetry-root/*.whl"
    )
    alone = PoetryInstall("/wheels/poetry-2.txt", (), (), "/wheels/poetry-root-2", True)
    assert alone.final_text() == "pip install --no-deps --no-index /wheels/poetry-root-2/*.whl"
