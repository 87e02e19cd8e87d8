"""Must-not-break cases: real-world shapes where a fix would break the build or change
the running container, each with what the output must (not) contain.

A case is ``fixtures/_semantics/<group>/<name>.Dockerfile`` plus ``<name>.expect.json``::

    {
      "rules": ["DF110"],            # optional: only these rules (default: all)
      "unsafe_fixes": true,          # optional (default true: the strictest run)
      "settings": {...},             # optional: other Settings fields
      "context": {"requirements.txt": "flask\\n"},  # optional: files of a build context
                                     # (absent: no context on disk, like stdin)
      "must_not_contain": ["--mount"],  # substrings the fixed text must not have
      "must_contain": ["USER 10001:0"], # substrings it must have
      "findings": [{"code": "DF110", "fixed": false, "note": "Windows"}]
                                     # optional: a finding of that code exists; its fix is
                                     # (not) available; its note contains the text
    }
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dockfix.engine import fix_document
from dockfix.rules import ALL_RULES, lookup
from dockfix.rules.base import Applicability, Settings
from dockfix.syntax import parse

SEMANTICS = Path(__file__).resolve().parents[1] / "fixtures" / "_semantics"
CASES = sorted(SEMANTICS.glob("*/*.Dockerfile"))


def _expectation(case: Path) -> dict[str, Any]:
    expect = case.with_name(case.name.removesuffix(".Dockerfile") + ".expect.json")
    assert expect.is_file(), f"{case}: no {expect.name}"
    return json.loads(expect.read_text(encoding="utf-8"))


def _context(tmp_path: Path, files: dict[str, str] | None) -> Path | None:
    if files is None:
        return None
    root = tmp_path / "context"
    root.mkdir()
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("base64:"):
            import base64

            target.write_bytes(base64.b64decode(content.removeprefix("base64:")))
        else:
            target.write_text(content, encoding="utf-8")
    return root


def test_enough_cases() -> None:
    assert len(CASES) >= 60, f"only {len(CASES)} must-not-break cases"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_must_not_break(case: Path, tmp_path: Path) -> None:
    expect = _expectation(case)
    codes = expect.get("rules")
    rules = tuple(lookup(code) for code in codes) if codes else ALL_RULES
    assert None not in rules, f"{case}: unknown rule"
    settings = Settings(unsafe_fixes=expect.get("unsafe_fixes", True), **expect.get("settings", {}))
    context_dir = _context(tmp_path, expect.get("context"))
    text = case.read_text(encoding="utf-8")
    result = fix_document(parse(text), rules, settings, path=case, context_dir=context_dir)  # type: ignore[arg-type]
    assert not result.problems, result.problems
    output = result.output
    for needle in expect.get("must_not_contain", []):
        assert needle not in output, f"output contains {needle!r}:\n{output}"
    for needle in expect.get("must_contain", []):
        assert needle in output, f"output lacks {needle!r}:\n{output}"
    for wanted in expect.get("findings", []):
        matching = [f for f in result.findings if f.code == wanted["code"]]
        assert matching, f"no {wanted['code']} finding; got {[f.code for f in result.findings]}"
        if "fixed" in wanted:
            usable = [
                f
                for f in matching
                if f.fix is not None
                and (f.fix.applicability is Applicability.SAFE or settings.unsafe_fixes)
                and f.fix.applicability is not Applicability.DISPLAY_ONLY
            ]
            assert bool(usable) == wanted["fixed"], [(f.message, f.note) for f in matching]
        if "note" in wanted:
            notes = " | ".join(f"{f.note} {f.fix.reason if f.fix else ''}" for f in matching)
            assert wanted["note"].lower() in notes.lower(), notes
        if "applicability" in wanted:
            kinds = {f.fix.applicability.value for f in matching if f.fix}
            assert wanted["applicability"] in kinds, kinds
