"""scripts/update_fixtures.py: regenerates named cases' expectations and shows the diff."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    path = ROOT / "scripts/update_fixtures.py"
    spec = importlib.util.spec_from_file_location("update_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


def test_select_by_rule_code_name_case_and_path() -> None:
    by_name = SCRIPT.select(["maintainer-deprecated"])
    assert by_name and {case.parent.name for case in by_name} == {"maintainer-deprecated"}
    assert SCRIPT.select(["DF003"]) == by_name
    one = by_name[0]
    stem = one.name.removesuffix(".in.Dockerfile")
    assert SCRIPT.select([f"maintainer-deprecated/{stem}"]) == [one]
    assert SCRIPT.select([str(one)]) == [one]
    with pytest.raises(SystemExit, match="no fixture case matches"):
        SCRIPT.select(["no-such-rule"])


def test_stale_expectation_is_rewritten_and_shown(tmp_path: Path) -> None:
    folder = tmp_path / "maintainer-deprecated"
    shutil.copytree(ROOT / "fixtures" / "maintainer-deprecated", folder)
    case = folder / "basic.in.Dockerfile"
    findings = folder / "basic.findings"
    good = findings.read_text(encoding="utf-8")
    findings.write_text("stale\n", encoding="utf-8")

    (diff,) = SCRIPT.update([case], write=False)
    assert "-stale\n" in diff and f"+{good.splitlines()[0]}\n" in diff
    assert findings.read_text(encoding="utf-8") == "stale\n", "--dry-run wrote a file"

    assert SCRIPT.update([case]) == [diff]
    assert findings.read_text(encoding="utf-8") == good
    assert SCRIPT.update([case]) == []
