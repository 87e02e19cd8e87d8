"""How a rule says "cannot fix": ``FixRefused`` now lives in ``dockfix.edits`` (re-exported)."""

from __future__ import annotations

from dockfix.edits import FixRefused

__all__ = ["FixRefused"]
