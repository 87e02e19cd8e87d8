"""The table of distribution pips: every row sourced, moving tags only where safe."""

from __future__ import annotations

import pytest

from dockfix.images.system_pip import MOVING, TABLE, distro_release, system_pip
from dockfix.syntax import parse_image_ref


def test_every_row_cites_a_source() -> None:
    assert all(row.source.strip() for row in TABLE)


def test_moving_tags_only_name_pips_of_9_or_newer() -> None:
    # A moving tag names the newest release at build time: a row for it must hold for
    # every release it can name, so none below pip 9.
    moving = [row for row in TABLE if row.release == MOVING]
    assert moving
    assert all(row.version >= (9,) for row in moving)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("alpine:3.16.2", ("alpine", "3.16")),
        ("alpine", ("alpine", MOVING)),
        ("alpine:edge", ("alpine", MOVING)),
        ("centos:7.9.2009", ("centos", "7")),
        ("fedora:26", ("fedora", "26")),
        ("golang:1.8.3-alpine", None),
        ("registry.example.com/alpine:3.16", None),
    ],
)
def test_distro_release(image: str, expected: tuple[str, str] | None) -> None:
    assert distro_release(parse_image_ref(image)) == expected


def test_pip_and_pip3_may_be_different_pips() -> None:
    image = parse_image_ref("alpine:3.11")
    installed = {"python3", "py2-pip"}
    pip, pip3 = system_pip(image, installed, "pip").row, system_pip(image, installed, "pip3").row
    assert pip is not None and pip.python == 2
    assert pip3 is not None and pip3.python == 3


def test_unknown_release_and_unknown_package_are_not_known() -> None:
    assert system_pip(parse_image_ref("alpine:3.14"), {"py3-pip"}, "pip").row is None
    assert system_pip(parse_image_ref("alpine:3.16"), {"python3"}, "pip").row is None
