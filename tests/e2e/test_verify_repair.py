"""``dockfix verify`` finds the library a builder/final split lost, and ``--repair`` adds it.

The fixture (fixtures/verify-repair/libgomp) is a deliberately broken split: a program and an
extension-style .so compiled with ``gcc -fopenmp`` in the full image, copied into a final
stage on python:3.11-slim, which has no libgomp1. The program cannot start. The plain verify
must fail and print the line that installs libgomp1; ``--repair`` must add it, rebuild, and
pass, writing the repaired rewrite only to ``--output`` (the input file stays as it was).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, E2EEnv

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "fixtures" / "verify-repair" / "libgomp"
LINE = (
    "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 "
    "&& rm -rf /var/lib/apt/lists/*"
)


def _verify(e2e: E2EEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockfix", "verify", "--builder", e2e.builder.kind.value, *args],
        capture_output=True,
        text=True,
        env=e2e.env,
        timeout=1800,
        cwd=ROOT,
    )


def test_verify_repair_installs_the_missing_libgomp(e2e: E2EEnv, tmp_path: Path) -> None:
    context = tmp_path / "libgomp"
    shutil.copytree(FIXTURE, context)
    dockerfile = context / "Dockerfile"
    before = dockerfile.read_text()

    plain = _verify(e2e, str(dockerfile))
    print(plain.stdout)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert "libgomp.so.1: package libgomp1" in plain.stdout
    assert LINE in plain.stdout

    output = tmp_path / "Dockerfile.repaired"
    repaired = _verify(
        e2e, "--repair", "--max-rounds", "2", "--output", str(output), str(dockerfile)
    )
    print(repaired.stdout)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "repair: added libgomp1; no missing libraries" in repaired.stdout
    assert "verdict: PASS" in repaired.stdout
    assert "openmp ok: yes" in repaired.stdout
    text = output.read_text()
    final_stage = text[text.rindex("FROM python:3.11-slim") :]
    assert final_stage.splitlines()[1] == LINE
    assert dockerfile.read_text() == before
