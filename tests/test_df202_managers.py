"""DF202's uv/pipenv/Poetry decisions (``managers.py``): the facts its split relies on."""

from __future__ import annotations

import pytest

from dockfix.rules.build_tools_in_final_image.managers import (
    _accepts,
    _check_editable_build,
    _check_python_version,
    _locked_names,
)
from dockfix.rules.refusal import FixRefused


@pytest.mark.parametrize(
    ("specifiers", "accepted"),
    [
        (">=3.11", True),
        (">=3.8.1", True),
        (">=3.9,<4", True),
        ("~=3.10", True),
        ("==3.11.*", True),
        ("==3.*", True),
        ("!=3.10.*", True),
        (">3.10", True),
        (">=3.11.4", False),  # the base's patch release is not known
        (">=3.12", False),
        ("<3.11", False),
        ("<=3.11", False),  # 3.11.1 is not <= 3.11
        (">3.11", False),
        ("==3.11", False),  # only 3.11.0
        ("", False),
        ("=== 3.11", False),
    ],
)
def test_requires_python_must_accept_every_release_of_the_base(
    specifiers: str, accepted: bool
) -> None:
    assert _accepts(specifiers, (3, 11)) is accepted


def test_python_version_file_must_name_the_base() -> None:
    _check_python_version("3.11\n", "", (3, 11), 5)
    _check_python_version("# pinned\n3.11.9\n", "", (3, 11), 5)
    with pytest.raises(FixRefused, match=r"asks for `3\.12`"):
        _check_python_version("3.12\n", "", (3, 11), 5)
    with pytest.raises(FixRefused, match=r"asks for `pypy3\.10`"):
        _check_python_version("pypy3.10\n", "", (3, 11), 5)


@pytest.mark.parametrize(
    "pyproject",
    [
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        "[tool.hatch.build.hooks.custom]\n",
        '[build-system]\nrequires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n'
        '[tool.poetry.build]\nscript = "build.py"\n',
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[tool.uv.sources]\nlib = { path = "../lib", editable = true }\n',
        "[tool.uv]\npackage = true\n",
    ],
)
def test_editable_builds_that_may_write_into_the_source_are_refused(pyproject: str) -> None:
    with pytest.raises(FixRefused, match="source folder"):
        _check_editable_build(pyproject, 7)


def test_pure_backends_and_non_packages_pass() -> None:
    _check_editable_build('[build-system]\nbuild-backend = "hatchling.build"\n', 7)
    _check_editable_build(
        '[build-system]\nbuild-backend = "uv_build"\n[tool.hatch.version]\npath = "x.py"\n', 7
    )
    _check_editable_build('[project]\nname = "app"\n', 7)  # no build-system: not installed


def test_locked_names() -> None:
    lock = (
        'version = 1\n\n[[package]]\nname = "Click"\nversion = "8"\n\n[[package]]\nname = "app"\n'
    )
    assert _locked_names(lock) == ["Click", "app"]
