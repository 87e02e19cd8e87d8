"""DF203 on installs of packages known to publish glibc wheels: fixed, and the unsafe
fix's reason says what it relies on (pip finding those wheels on -slim)."""

from __future__ import annotations

from pathlib import Path

from dockfix.engine import fix_document
from dockfix.rules import select_rules
from dockfix.rules.base import Applicability, Finding, Settings
from dockfix.syntax import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "full-python-base-image"


def _df203(case: str) -> Finding:
    path = FIXTURES / f"{case}.in.Dockerfile"
    result = fix_document(
        parse(path.read_text(encoding="utf-8")),
        select_rules(["DF203"]),
        Settings(unsafe_fixes=True),
        path=path,
        context_dir=FIXTURES / f"{case}.context",
    )
    return next(f for f in result.findings if f.code == "DF203")


def test_wheel_only_requirements_switch_to_slim_and_say_so() -> None:
    finding = _df203("wheels-only-requirements")
    assert finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE
    assert "must find wheels of numpy, pandas" in finding.fix.reason


def test_an_unknown_requirement_keeps_the_full_image() -> None:
    finding = _df203("ok-unknown-requirement")
    assert finding.fix is None
    assert "may compile packages" in finding.note
