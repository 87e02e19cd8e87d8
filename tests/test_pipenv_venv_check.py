"""The builder's check after ``pipenv install`` in virtualenv mode, run for real.

The split copies pipenv's virtualenv into the final stage, which has the image's
``python`` at the same path and nothing else: a virtualenv made with another Python must
stop the build in the builder.  A stand-in ``pipenv`` on PATH answers ``--py``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from dockfix.rules.build_tools_in_final_image.pipenv_venv import SAME_PYTHON


def _run_check(tmp_path: Path, venv_python: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    pipenv = bin_dir / "pipenv"
    pipenv.write_text(f"#!/bin/sh\necho 'Loading .env' >&2\necho {shlex.quote(venv_python)}\n")
    pipenv.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        ["sh", "-c", SAME_PYTHON], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_virtualenv_on_the_image_python_passes(tmp_path: Path) -> None:
    venv_python = tmp_path / "venv-python"
    venv_python.symlink_to(sys.executable)  # as virtualenv links bin/python
    result = _run_check(tmp_path, str(venv_python))
    assert result.returncode == 0, result.stderr


def test_a_virtualenv_on_another_python_stops_the_build(tmp_path: Path) -> None:
    other = tmp_path / "python3.11"
    other.write_text("")
    result = _run_check(tmp_path, str(other))
    assert result.returncode != 0
    assert "pipenv made its virtualenv with" in result.stderr
    assert "the final stage would not have it" in result.stderr
