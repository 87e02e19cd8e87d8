"""Runs one fixture case through the engine; shared by the fixture test and its updater."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dockfix.engine import FixResult, fix_document
from dockfix.rules import lookup
from dockfix.rules.base import Settings
from dockfix.syntax import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def cases() -> list[Path]:
    """Every ``fixtures/<rule-name>/*.in.Dockerfile`` (e2e apps live elsewhere)."""
    return sorted(path for path in FIXTURES.glob("*/*.in.Dockerfile") if path.parent.name != "e2e")


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def case_options(case: Path) -> dict[str, Any]:
    """``<stem>.settings.json`` beside a case: ``Settings`` fields for it, and ``rules``,
    codes of rules that run together with the folder's rule (e.g. DF202 then DF203)."""
    extra = case.with_name(case.name.removesuffix(".in.Dockerfile") + ".settings.json")
    return json.loads(extra.read_text(encoding="utf-8")) if extra.is_file() else {}


def context_of(case: Path) -> Path:
    """The build context of a case: ``<stem>.context/`` beside it if present (cases that
    need their own files), else the fixture folder."""
    own = case.with_name(case.name.removesuffix(".in.Dockerfile") + ".context")
    return own if own.is_dir() else case.parent


def run_case(case: Path, *, unsafe: bool) -> FixResult:
    rule = lookup(case.parent.name)
    assert rule is not None, f"fixture folder {case.parent.name} names no rule"
    options = case_options(case)
    rules = (rule, *(lookup(code) for code in options.pop("rules", ())))
    assert None not in rules, f"{case.name}: unknown rule in its settings"
    text = read(case)
    settings = Settings(unsafe_fixes=unsafe, **options)
    return fix_document(parse(text), rules, settings, path=case, context_dir=context_of(case))  # type: ignore[arg-type]


def findings_text(result: FixResult) -> str:
    lines = []
    for finding in result.findings:
        applicability = finding.fix.applicability.value if finding.fix else "report-only"
        note = f" [{finding.note}]" if finding.note else ""
        lines.append(
            f"{finding.line}:{finding.column} {finding.code} {applicability} "
            f"{finding.message}{note}"
        )
    return "".join(line + "\n" for line in lines)


def expected_paths(case: Path) -> tuple[Path, Path, Path]:
    stem = case.name.removesuffix(".in.Dockerfile")
    folder = case.parent
    return (
        folder / f"{stem}.out.Dockerfile",
        folder / f"{stem}.unsafe.out.Dockerfile",
        folder / f"{stem}.findings",
    )


def update(case: Path) -> None:
    """Write the expected files from the current behaviour (review them before committing)."""
    out, unsafe_out, findings = expected_paths(case)
    safe = run_case(case, unsafe=False)
    unsafe = run_case(case, unsafe=True)
    findings.write_text(findings_text(safe), encoding="utf-8")
    if case.name.startswith("ok-"):
        return
    out.write_bytes(safe.output.encode("utf-8", "surrogateescape"))
    if unsafe.output != safe.output:
        unsafe_out.write_bytes(unsafe.output.encode("utf-8", "surrogateescape"))
    elif unsafe_out.exists():
        unsafe_out.unlink()


if __name__ == "__main__":
    for path in cases():
        update(path)
        print("updated", path.relative_to(FIXTURES))
