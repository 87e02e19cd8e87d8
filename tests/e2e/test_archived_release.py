"""DF202 on a release whose archive has left the mirrors: the libraries are copied.

The fixture (fixtures/archived-release/pgapp) builds psycopg2 from source on ``python:2.7``
(Debian buster) and never runs apt-get, so the split's final stage on ``python:2.7-slim``
cannot install libpq5 with apt-get. The rewrite copies the files of the packages the
builder's scan finds instead. Archived images cannot be pulled here, so the rewrite is
built with ``python:3.11`` and ``python:3.11-slim`` in their place (the copy does not
depend on the release): it must build, print what the original prints, load every
library its modules link, hold no compiler, and be smaller.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dockfix.verify.libraries import scan_image

from .conftest import ROOT, E2EEnv
from .rewrite import fixed_dockerfile

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "fixtures" / "archived-release" / "pgapp"
STAND_INS = (("python:2.7-slim", "python:3.11-slim"), ("python:2.7", "python:3.11"))


def _stand_in(text: str) -> str:
    for archived, current in STAND_INS:
        text = text.replace(f"FROM {archived}", f"FROM {current}")
    return text


def test_archived_release_split_copies_the_libraries(e2e: E2EEnv, tmp_path: Path) -> None:
    context = tmp_path / "pgapp"
    shutil.copytree(FIXTURE, context)
    fixed = fixed_dockerfile(context, unsafe=True)
    assert fixed is not None
    final = fixed.split("FROM python:2.7-slim", 1)[1]
    assert "tar -xf /tmp/runtime-libraries.tar -C / --skip-old-files" in final
    assert "apt-get" not in final

    built = {}
    for name, text in (("original", (context / "Dockerfile").read_text()), ("fixed", fixed)):
        dockerfile = tmp_path / f"{name}.Dockerfile"
        dockerfile.write_text(_stand_in(text))
        tag = f"localhost/dockfix-e2e/archived-pgapp:{name}"
        result = e2e.builder.build(dockerfile, context, tag)
        assert result.success, result.log_tail
        built[name] = tag

    runs = {name: e2e.builder.run(tag) for name, tag in built.items()}
    assert runs["original"].ok, runs["original"].stderr
    assert runs["fixed"].ok, runs["fixed"].stderr
    assert "psycopg2 with libpq" in runs["fixed"].stdout
    assert runs["fixed"].stdout == runs["original"].stdout

    scan = scan_image(e2e.builder, built["fixed"])
    assert scan.ran, scan.reason
    assert not scan.missing, scan.missing
    compiler = e2e.builder.run(built["fixed"], ["-c", "command -v gcc"], entrypoint="/bin/sh")
    assert compiler.returncode != 0, compiler.stdout
    sizes = {name: e2e.builder.inspect(tag).size_mb for name, tag in built.items()}
    print(f"archived-release pgapp: {sizes['original']} MB -> {sizes['fixed']} MB")
    if sizes["original"] is not None and sizes["fixed"] is not None:
        assert sizes["fixed"] < sizes["original"] / 2
