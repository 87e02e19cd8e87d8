"""How a rule says "cannot fix": it raises ``FixRefused(reason)``.

The rule catches it where it builds the finding and reports without a fix, with the
reason as the finding's note.  A rule that looks for every reason at once (DF201) collects
refusals and raises them as one with ``FixRefused.combined``.
"""

from __future__ import annotations

from collections.abc import Iterable


class FixRefused(Exception):
    """The fix cannot be written safely; ``reason`` says why (shown with the finding).

    ``kind`` groups reasons of the same sort (``root-command``, ``privileged-port``...):
    ``combined`` keeps the first reason of each kind.
    """

    def __init__(self, reason: str, *, kind: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind

    @classmethod
    def combined(cls, refusals: Iterable[FixRefused]) -> FixRefused:
        """One refusal for several: the first reason of each kind, in the order given."""
        first: dict[str, str] = {}
        for refusal in refusals:
            first.setdefault(refusal.kind, refusal.reason)
        return cls("; ".join(first.values()))
