"""DF110's Go module memo gives what asking afresh gives (``package_cache_not_mounted.memo``).

Every answer the memo hands out while fixing every fixture is compared with a fresh call
of ``module_mounts``/``module_readers`` on the same model; and some answers must come from
the memo, or the comparison proves nothing.
"""

from __future__ import annotations

import pytest
from fixture_cases import cases, context_of, read

import dockfix.rules.package_cache_not_mounted as df110
from dockfix.engine import fix_document
from dockfix.model import StageFacts
from dockfix.rules import ALL_RULES
from dockfix.rules.base import Settings
from dockfix.rules.package_cache_not_mounted.conflicts import module_mounts, module_readers
from dockfix.rules.package_cache_not_mounted.memo import ModuleMemo
from dockfix.syntax import ParseError, parse


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_memo_answers_as_a_fresh_call(monkeypatch: pytest.MonkeyPatch, unsafe: bool) -> None:
    asked = {"mounts": 0, "readers": 0, "remembered": 0}
    wrong: list[str] = []

    class Checked(ModuleMemo):
        def mounts(self, facts: StageFacts, folder: str, is_root: bool | None) -> set[int]:
            asked["mounts"] += 1
            asked["remembered"] += (id(facts.root), folder, is_root) in self._mounts
            found = super().mounts(facts, folder, is_root)
            if found != module_mounts(self.model, facts, folder, is_root):
                wrong.append(f"mounts {folder}")
            return found

        def readers(self, facts: StageFacts, folder: str, mounted: set[int]) -> str:
            asked["readers"] += 1
            asked["remembered"] += (id(facts.root), folder, frozenset(mounted)) in self._readers
            found = super().readers(facts, folder, mounted)
            if found != module_readers(self.model, facts, folder, mounted):
                wrong.append(f"readers {folder}")
            return found

    monkeypatch.setattr(df110, "ModuleMemo", Checked)
    settings = Settings(unsafe_fixes=unsafe)
    for case in cases():
        try:
            document = parse(read(case))
        except ParseError:
            continue
        fix_document(document, ALL_RULES, settings, path=case, context_dir=context_of(case))
    assert not wrong
    assert asked["mounts"] > 10 and asked["readers"] > 10
    assert asked["remembered"] > 0
