"""A registered rule whose module is imported only when the rule is used.

Why: importing all 48 rule modules is a large part of a one-file run's start-up, and a
file needs only some of them (``keywords``: a file without ``ADD`` never runs DF004).  The
registry (``dockfix.rules.codes``) holds every rule's metadata as a ``DeferredRule``;
choosing, listing and filtering rules read only that.  ``check`` and ``explanation`` come
from the module's own ``RULE`` on first use, after which the rule behaves exactly like it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockfix.edits import Applicability, FixAvailability
from dockfix.rules.base import CheckFunction, Rule

if TYPE_CHECKING:
    from dockfix.model.preconditions import Precondition

__all__ = ["DeferredRule"]


class DeferredRule(Rule):
    """A rule's declared metadata plus the module whose ``RULE`` holds the rest.

    One instance per code (the registry's), so it compares and hashes by identity:
    comparing field by field would import the module for ``check``.
    """

    module: str

    def __init__(
        self,
        module: str,
        *,
        code: str,
        name: str,
        summary: str,
        applicability: Applicability,
        preconditions: tuple[Precondition, ...] = (),
        severity: str = "warning",
        fix_kinds: tuple[Applicability, ...] = (),
        fix_availability: FixAvailability = FixAvailability.SOMETIMES,
        default_enabled: bool = True,
        keywords: frozenset[str] = frozenset(),
    ) -> None:
        declared = {
            "module": module,
            "code": code,
            "name": name,
            "summary": summary,
            "applicability": applicability,
            "preconditions": preconditions,
            "severity": severity,
            "fix_kinds": fix_kinds,
            "fix_availability": fix_availability,
            "default_enabled": default_enabled,
            "keywords": keywords,
        }
        for key, value in declared.items():
            object.__setattr__(self, key, value)

    @property
    def check(self) -> CheckFunction:
        return self.declared().check

    @property
    def explanation(self) -> str:
        return self.declared().explanation

    def declared(self) -> Rule:
        """The ``Rule`` the module declares (the module is imported on the first call).

        The module's ``RULE`` then becomes this object, so that there is one object per
        rule, as when the registry imported every module (``module.RULE is lookup(code)``).
        """
        loaded: Rule | None = self.__dict__.get("_declared")
        if loaded is None:
            # __import__ rather than importlib.import_module: only the former shows in
            # ``python -X importtime``, where start-up is profiled.
            module = __import__(self.module, fromlist=("RULE",))
            loaded = module.RULE
            if isinstance(loaded, DeferredRule):  # re-registered: keep what it declared
                loaded = loaded.declared()
            if not isinstance(loaded, Rule) or loaded.code != self.code:
                raise LookupError(f"{self.module}.RULE is not rule {self.code}")
            object.__setattr__(self, "_declared", loaded)
            vars(module)["RULE"] = self
        return loaded

    @property
    def loaded(self) -> bool:
        """Whether the module has been imported (tests and profiling ask)."""
        return "_declared" in self.__dict__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return hash(self.code)

    def __repr__(self) -> str:
        return f"DeferredRule({self.code!r}, {self.name!r}, module={self.module!r})"
