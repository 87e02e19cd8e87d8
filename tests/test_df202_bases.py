"""DF202 on bases whose Python the split does not know: what each fix says it assumes,
and the image table's rows for the images those Dockerfiles use."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.images import Family, lookup
from dockfix.rules import lookup as lookup_rule
from dockfix.rules.base import RuleContext
from dockfix.syntax import parse

RULE = lookup_rule("build-tools-in-final-image")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "build-tools-in-final-image"


def _reason(name: str) -> str:
    assert RULE is not None
    text = (FIXTURES / f"{name}.in.Dockerfile").read_text(encoding="utf-8")
    (finding,) = RULE.run(RuleContext(parse(text)))
    assert finding.fix is not None, finding.note
    return finding.fix.reason


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("base-unknown-image", "the base image `registry.example.com/platform/python-base:3.12`"),
        (
            "base-variable-image",
            "given by a variable (`${BASE}`, `continuumio/miniconda3:24.1.2-0` by default)",
        ),
        ("base-variable-python-tag", "for any value that builds"),
        ("base-conda-in-stage", "the stage's Python is not installed with apt (`ubuntu:18.04`)"),
    ],
)
def test_stage_pip_fix_says_what_it_assumes(fixture: str, expected: str) -> None:
    reason = _reason(fixture)
    assert expected in reason
    assert "installing the `wheel` package with it" in reason
    assert "lists only libraries dpkg owns" in reason


def test_apt_python_of_an_earlier_stage_is_the_system_python() -> None:
    assert "the builder repeats" not in _reason("base-earlier-stage")


@pytest.mark.parametrize(
    ("repository", "tag", "family", "python", "toolchain"),
    [
        ("nvidia/cuda", "12.4.1-devel-ubuntu22.04", Family.DEBIAN, False, True),
        ("nvidia/cuda", "12.4.1-runtime-ubuntu22.04", Family.DEBIAN, False, False),
        ("nvidia/cuda", "9.0-devel", Family.DEBIAN, False, True),
        ("nvidia/cuda", "9.2-devel-centos7", Family.RHEL, False, True),
        ("nvidia/cuda", "12.9.1-base-amzn2023", Family.RHEL, False, True),
        ("nvcr.io/nvidia/cuda", "12.4.1-runtime-ubi9", Family.RHEL, False, True),
        ("continuumio/miniconda3", "latest", Family.DEBIAN, True, False),
        ("bitnami/minideb", "bookworm", Family.DEBIAN, False, False),
    ],
)
def test_table_rows(
    repository: str, tag: str, family: Family, python: bool, toolchain: bool
) -> None:
    traits = lookup(repository, tag)
    assert traits is not None
    assert (traits.family, traits.python, traits.toolchain) == (family, python, toolchain)
    assert traits.default_user == "root"


def test_python_2_conda_images_stay_unknown() -> None:
    """Rules read ``python`` as a Python 3 (HEALTHCHECK probes): not claimed for them."""
    assert lookup("continuumio/miniconda", "latest") is None
    assert lookup("continuumio/anaconda", "latest") is None
