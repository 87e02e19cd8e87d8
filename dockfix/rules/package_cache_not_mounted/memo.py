"""The answers about Go's module cache that one run of DF110 asks more than once.

Why: ``module_mounts`` and ``module_readers`` each read every instruction of a stage tree
(the stage a Go RUN builds on, and the stages built on it), and the rule asks them again
for every Go RUN of the tree, every round (on every fifth corpus file: 95 questions of
each, 28 distinct).  Each answer is a function of the model, the tree's root stage, the
folder and ``is_root`` (``module_mounts``) or the set of mounted RUNs
(``module_readers``): no other input, no state written.  So within one run of the rule
(one model, whose objects stay alive, so their ``id`` is theirs) a question asked again
gets the first answer.  A memo is made for each run: nothing is kept across rounds.
"""

from __future__ import annotations

from dockfix.model import FileModel, StageFacts
from dockfix.rules.package_cache_not_mounted.conflicts import module_mounts, module_readers


class ModuleMemo:
    """``module_mounts`` and ``module_readers`` of one model, each question read once."""

    def __init__(self, model: FileModel) -> None:
        self.model = model
        self._mounts: dict[tuple[int, str, bool | None], frozenset[int]] = {}
        self._readers: dict[tuple[int, str, frozenset[int]], str] = {}

    def mounts(self, facts: StageFacts, folder: str, is_root: bool | None) -> set[int]:
        """``module_mounts(model, facts, folder, is_root)`` (a new set: callers add to it)."""
        key = (id(facts.root), folder, is_root)
        found = self._mounts.get(key)
        if found is None:
            found = self._mounts[key] = frozenset(module_mounts(self.model, facts, folder, is_root))
        return set(found)

    def readers(self, facts: StageFacts, folder: str, mounted: set[int]) -> str:
        """``module_readers(model, facts, folder, mounted)``."""
        key = (id(facts.root), folder, frozenset(mounted))
        found = self._readers.get(key)
        if found is None:
            found = self._readers[key] = module_readers(self.model, facts, folder, mounted)
        return found
