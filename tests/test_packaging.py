"""The grammar must travel with a real, non-editable wheel.

An editable install finds ``grammar/`` beside the package; a wheel must carry it as
``dockfix/grammar/``.  Build the wheel, unpack it into a folder that shadows the
editable install, and parse with it in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{result.stdout}\n{result.stderr}")
    (path,) = out.glob("dockfix-*.whl")
    return path


def test_wheel_contains_the_grammar(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "dockfix/grammar/dockerfile.lark" in names
    assert "dockfix/cli.py" in names
    assert "dockfix/py.typed" in names  # PEP 561: type checkers use our annotations
    assert any(name.endswith("entry_points.txt") for name in names)


def test_installed_wheel_parses_with_its_own_grammar(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    script = (
        "import dockfix, dockfix.syntax.loader as l;"
        "t = 'FROM a AS b\\nRUN echo hi\\n';"
        "assert dockfix.parse(t).to_string() == t;"
        "print(l.grammar_path())"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(target)
